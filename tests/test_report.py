"""Report package: periods, the measures table (golden), PDF/HTML/ZIP validity, suppression,
formula neutralisation and escaping of hostile names, determinism, and the CLI end to end.

The fixture is small and hand-counted (period 2025Q1, program P01, as of 2026-06-30);
every number in the measures table is worked out in the comments of ``report_tables``.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pypdf
import pytest

from dashboard.export import png_size
from dashboard.metrics.tables import Tables
from dashboard.report import (
    LIMITATIONS_DIFFERENCING,
    build_report,
    fiscal_year_bounds,
    parse_period,
    report_command,
)
from test_export_tables import HOSTILE_FORMULA, HOSTILE_SCRIPT, check_golden

AS_OF = dt.date(2026, 6, 30)
D = dt.date


# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025Q1", D(2025, 1, 1), D(2025, 3, 31)),
        ("2024q4", D(2024, 10, 1), D(2024, 12, 31)),
        ("2024H1", D(2024, 1, 1), D(2024, 6, 30)),
        ("2025H2", D(2025, 7, 1), D(2025, 12, 31)),
        ("FY2025", D(2024, 7, 1), D(2025, 6, 30)),  # July start: FY named by the year it ends
        ("FY2025Q1", D(2024, 7, 1), D(2024, 9, 30)),
        ("FY2025Q3", D(2025, 1, 1), D(2025, 3, 31)),
        ("FY2025H2", D(2025, 1, 1), D(2025, 6, 30)),
        ("2025-02-10:2025-02-28", D(2025, 2, 10), D(2025, 2, 28)),
        (" 2024-02-01 .. 2024-02-29 ", D(2024, 2, 1), D(2024, 2, 29)),
    ],
)
def test_parse_period(text: str, start: dt.date, end: dt.date) -> None:
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)


def test_fiscal_year_start_month_is_configurable() -> None:
    assert fiscal_year_bounds(2025, 10) == (D(2024, 10, 1), D(2025, 9, 30))  # US federal year
    assert fiscal_year_bounds(2025, 1) == (D(2025, 1, 1), D(2025, 12, 31))
    assert parse_period("FY2025Q1", fiscal_year_start_month=10).end == D(2024, 12, 31)
    assert parse_period("FY2024", fiscal_year_start_month=4).start == D(2023, 4, 1)


@pytest.mark.parametrize("text", ["2025Q5", "2025", "FY25", "2025-03-31:2025-01-01", "2025-02-30:2025-03-01", ""])
def test_bad_periods_say_what_to_write(text: str) -> None:
    with pytest.raises(ValueError, match="period"):
        parse_period(text)


def test_command_reproduces_options() -> None:
    command = report_command(parse_period("FY2025", fiscal_year_start_month=10), "P01",
                             fiscal_year_start_month=10, min_cell_size=11, as_of=AS_OF)
    assert command == (
        "partnership-dashboard export report --period FY2025 --program P01 --as-of 2026-06-30 "
        "--fiscal-year-start-month 10 --min-cell-size 11 --out DIR"
    )


# --- fixture ----------------------------------------------------------------------------------


def report_tables() -> Tables:
    """30 participants of P01 (15 pilot, 15 comparison), all enrolled 2025-01-15, released 2025-02-01.

    Measures for 2025Q1, P01, as of 2026-06-30:
    - reentry plan on time: plan on/before release for 20 of the 30 released (12 pilot, 8 comparison)
      -> 20/30 = 66.7%;
    - referrals: 24 in the period, 18 completed, 6 declined -> completion 18/24 = 75.0%;
    - compliance: 40 required events with a known outcome, 30 compliant (plus 5 excused, left out)
      -> 30/40 = 75.0%;
    - program completion: 15 exits in March 2025, 12 completed, 3 revoked -> 12/15 = 80.0%;
    - rearrest within 6 months (index 2025-02-01, window end 2025-08-01): 5 of 30 -> numerator 1..10,
      suppressed; within 12 months (end 2026-02-01): those 5 plus 7 arrested 2025-10-01 -> 12/30 = 40.0%;
    - police diversion: 20 contacts of agency A01 for P01, 15 resolved on scene, 5 arrests -> 15/20 = 75.0%.
    """
    agencies = [
        {"agency_id": "A01", "agency_name": HOSTILE_FORMULA, "agency_type": "law_enforcement"},
        {"agency_id": "A02", "agency_name": HOSTILE_SCRIPT, "agency_type": "probation"},
        {"agency_id": "A03", "agency_name": "Second Chance", "agency_type": "reentry_provider"},
    ]
    programs = [
        {"program_id": "P01", "program_name": "Safe Return", "program_model": "reentry_law_enforcement",
         "lead_agency_id": "A01", "start_date": "2024-01-01", "grant_id": "BJA-2024-0001"},
        {"program_id": "P02", "program_name": HOSTILE_FORMULA, "program_model": "release_planning",
         "lead_agency_id": "A02", "start_date": "2024-01-01"},
    ]
    agreements = [
        {"agreement_id": "G1", "program_id": "P01", "agency_id": "A02", "agreement_type": "mou",
         "signed_date": "2024-01-01"},
        {"agreement_id": "G2", "program_id": "P01", "agency_id": "A03", "agreement_type": "data_sharing",
         "signed_date": "2024-01-01"},
    ]
    participants, referrals, events, recidivism, contacts = [], [], [], [], []
    for i in range(30):
        pid = f"X{i:02d}"
        exit_reason = "completed" if i < 12 else "revoked" if i < 15 else None
        participants.append({
            "participant_id": pid, "program_id": "P01", "supervising_agency_id": "A02",
            "cohort": "pilot" if i < 15 else "comparison", "enrollment_date": "2025-01-15",
            "release_date": "2025-02-01",
            "reentry_plan_date": "2025-01-25" if (i < 12 or 15 <= i < 23) else None,
            "supervision_type": "parole", "risk_level": "moderate",
            "exit_date": "2025-03-20" if exit_reason else None, "exit_reason": exit_reason,
        })
        if i < 5:
            recidivism.append({"event_id": f"R{i}", "participant_id": pid, "event_date": "2025-04-01",
                               "event_type": "arrest"})
        elif i < 12:
            recidivism.append({"event_id": f"R{i}", "participant_id": pid, "event_date": "2025-10-01",
                               "event_type": "arrest"})
    for i in range(24):
        done = i < 18
        referrals.append({
            "referral_id": f"F{i:02d}", "participant_id": f"X{i:02d}", "referring_agency_id": "A02",
            "provider_agency_id": "A03", "service_type": "housing", "referral_date": "2025-02-10",
            "accepted_date": "2025-02-12" if done else None,
            "service_start_date": "2025-02-15" if done else None,
            "completed_date": "2025-03-15" if done else None,
            "status": "completed" if done else "declined",
        })
    outcomes = ["compliant"] * 30 + ["non_compliant"] * 6 + ["missed"] * 4 + ["excused"] * 5
    for i, outcome in enumerate(outcomes):
        events.append({"event_id": f"E{i:02d}", "participant_id": f"X{i % 30:02d}", "agency_id": "A02",
                       "event_date": "2025-03-01", "event_type": "office_check_in", "required": True,
                       "outcome": outcome})
    for i in range(20):
        contacts.append({"contact_id": f"C{i:02d}", "agency_id": "A01", "program_id": "P01",
                         "contact_date": "2025-03-05", "contact_type": "crisis_call", "co_responder": True,
                         "outcome": "resolved_on_scene" if i < 15 else "arrest"})
    load_runs = [{"run_id": "run-1", "kind": "load", "started_at": dt.datetime(2026, 7, 1, 9, 0),
                  "finished_at": dt.datetime(2026, 7, 1, 9, 5), "as_of": AS_OF, "source": "extract",
                  "status": "rejected_rows", "exit_code": 1, "validation_success": True,
                  "rows_read": 200, "rows_loaded": 197, "rows_rejected": 3, "duplicates_dropped": 0,
                  "warnings": 0}]
    return Tables.from_frames(
        agencies=agencies, programs=programs, agreements=agreements, participants=participants,
        referrals=referrals, supervision_events=events, recidivism_events=recidivism,
        police_contacts=contacts, load_runs=load_runs,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("report")
    return build_report(report_tables(), period="2025Q1", program_id="P01", out_dir=out, as_of=AS_OF)


# --- measures table ------------------------------------------------------------------------------


def test_measures_table_numbers(report) -> None:  # type: ignore[no-untyped-def]
    rows = {r["Metric ID"]: r for r in report.measures.iter_rows(named=True)}
    assert (rows["reentry_plan_rate"]["Numerator"], rows["reentry_plan_rate"]["N"]) == (20, 30)
    assert rows["reentry_plan_rate"]["Rate"] == 0.6667
    assert (rows["referral_completion_rate"]["Numerator"], rows["referral_completion_rate"]["N"]) == (18, 24)
    assert (rows["compliance_rate"]["Numerator"], rows["compliance_rate"]["N"]) == (30, 40)
    assert (rows["program_completion_rate"]["Numerator"], rows["program_completion_rate"]["N"]) == (12, 15)
    assert rows["recidivism_rearrest_6m"]["Suppressed"] is True
    assert rows["recidivism_rearrest_6m"]["Numerator"] is None and rows["recidivism_rearrest_6m"]["Rate"] is None
    assert (rows["recidivism_rearrest_12m"]["Numerator"], rows["recidivism_rearrest_12m"]["N"]) == (12, 30)
    assert (rows["police_diversion_rate"]["Numerator"], rows["police_diversion_rate"]["N"]) == (15, 20)
    # 24 referrals F00..F23, all dated 2025-02-10 (18 completed, 6 declined) -> 24 made in 2025Q1.
    assert rows["referrals_made"]["N"] == 24 and rows["referrals_made"]["Note"] == ""
    # Wilson 95% for 20/30: centre (20 + 1.92)/(30 + 3.84) = 0.6478, half-width
    # 1.96*sqrt(30*(2/3)*(1/3) + 0.96)/33.84 = 0.1599 -> (0.4878, 0.8077).
    assert rows["reentry_plan_rate"]["95% CI low"] == pytest.approx(0.4878, abs=1e-4)
    assert rows["reentry_plan_rate"]["95% CI high"] == pytest.approx(0.8077, abs=1e-4)


def test_measures_table_golden(report) -> None:  # type: ignore[no-untyped-def]
    data = (report.pdf.parent / "tables" / "measures.csv").read_bytes()
    check_golden("report_measures_P01_2025Q1.csv", data)


# --- files -------------------------------------------------------------------------------------


def test_pdf_is_valid_and_states_the_measures(report) -> None:  # type: ignore[no-untyped-def]
    reader = pypdf.PdfReader(report.pdf)
    assert len(reader.pages) >= 3
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for label in ("Reentry plan on time", "Referral completion rate", "Supervision compliance rate",
                  "Program completion rate", "Rearrest within 6 months", "Rearrest within 12 months",
                  "Police diversion rate", "Participants enrolled in the period", "Referrals made in the period"):
        assert label in text
    assert "66.7%" in text and "48.8% to 80.8%" in text  # 20/30 with its interval
    assert "suppressed" in text
    assert "BJA-2024-0001" in text and "2025-01-01 to 2025-03-31" in text and "2026-06-30" in text
    assert "data-quality checks passed" in text and "3 rejected" in text
    assert " ".join(LIMITATIONS_DIFFERENCING.split()[:12]) in text
    assert "partnership-dashboard export report --period 2025Q1 --program P01" in text
    # Hostile lead agency name: neutralised for spreadsheets, printed as text.
    assert "'=HYPERLINK(" in text
    assert " =HYPERLINK(" not in text.replace("'=HYPERLINK(", "")


def test_html_is_self_contained_and_escaped(report) -> None:  # type: ignore[no-untyped-def]
    page = report.html.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#x27;=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)" in page
    assert "http://" not in page.replace("http://x&quot;", "").replace('xmlns="http://www.w3.org', "")
    assert "<link" not in page and 'src="http' not in page
    assert page.count('src="data:image/svg+xml;base64,') == 2
    assert 'class="suppressed">suppressed</td>' in page
    for section in ("cover", "measures", "charts", "definitions", "suppression", "limitations", "reproduce"):
        assert f'<section id="{section}">' in page
    assert "referrals with status completed" in page  # a definition from the registry


def test_zip_holds_every_chart_and_table(report) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(report.zip) as archive:
        names = set(archive.namelist())
        expected = {f"charts/{c}.{f}" for c in ("measures", "measures_by_cohort") for f in ("png", "svg", "pdf")}
        expected |= {f"tables/{t}.{f}" for t in ("measures", "measures_by_cohort", "all_metrics")
                     for f in ("csv", "xlsx")}
        expected |= {report.pdf.name, report.html.name}
        assert names == expected
        png = archive.read("charts/measures.png")
        width, height = png_size(png)
        # rate_bars is 520 px wide plus axes; at 300 dpi that is about 300/72 = 4.17 times the pixels.
        assert width > 4 * 520 and height > 4 * 60
        assert archive.read("charts/measures.pdf").startswith(b"%PDF")
        assert archive.read("charts/measures.svg").startswith(b"<svg")
        every = archive.read("tables/all_metrics.csv").decode("utf-8")
    # Suppressed and hostile text in the full table: marked and neutralised.
    assert "suppressed" in every
    assert "'=HYPERLINK" in every or HOSTILE_FORMULA not in every
    assert ",=" not in every and ",+" not in every and ",@" not in every


def test_xlsx_in_package_marks_suppressed_cells(report) -> None:  # type: ignore[no-untyped-def]
    book = openpyxl.load_workbook(report.pdf.parent / "tables" / "measures.xlsx")
    sheet = book.active
    header = [c.value for c in sheet[1]]
    rows = {r[1].value: r for r in sheet.iter_rows(min_row=2) if r[1].value}
    six = rows["recidivism_rearrest_6m"]
    assert six[header.index("Rate")].value == "suppressed"
    twelve = rows["recidivism_rearrest_12m"]
    assert (twelve[header.index("Rate")].value, twelve[header.index("Rate")].number_format) == (0.4, "0.0%")
    assert sheet.freeze_panes == "A2"
    notes = [c.value for c in sheet["A"] if isinstance(c.value, str) and c.value.startswith("Small-cell")]
    assert notes, "the suppression note is written under the table"


def test_package_is_deterministic(report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    again = build_report(report_tables(), period="2025Q1", program_id="P01", out_dir=tmp_path, as_of=AS_OF)
    first_dir, second_dir = report.pdf.parent, again.pdf.parent
    for name in ("tables/measures.csv", "tables/measures.xlsx", "tables/all_metrics.csv",
                 "tables/all_metrics.xlsx", "charts/measures.svg", "charts/measures_by_cohort.svg"):
        assert (first_dir / name).read_bytes() == (second_dir / name).read_bytes(), name
    assert report.html.read_bytes() == again.html.read_bytes()


def test_unknown_program_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown program 'P99'.*P01, P02"):
        build_report(report_tables(), period="2025Q1", program_id="P99", out_dir=tmp_path, as_of=AS_OF)


def test_all_programs_report(tmp_path: Path) -> None:
    result = build_report(report_tables(), period="FY2025", out_dir=tmp_path, as_of=AS_OF)
    assert result.pdf.name == "report_all_programs_FY2025.pdf"
    assert result.period.start == D(2024, 7, 1)
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(result.pdf).pages)
    assert "All programs" in text


def test_hostile_program_name_on_the_cover(tmp_path: Path) -> None:
    """P02 is named =HYPERLINK(...) and led by <script>...: neutralised in PDF, escaped in HTML.

    P02 has no records, so every measure row is empty with its reason, never a number.
    """
    result = build_report(report_tables(), period="2025Q1", program_id="P02", out_dir=tmp_path, as_of=AS_OF)
    text = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(result.pdf).pages)
    assert f"'{HOSTILE_FORMULA} (P02)" in text
    assert f"{HOSTILE_SCRIPT} (A02)" in text  # the PDF shows text as text
    page = result.html.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "&#x27;=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;) (P02)" in page
    assert "no records in the period" in page
    # Enrolled: 0 (a count of zero is published); the nine rates have no row at all.
    assert result.measures["N"].to_list()[0] == 0
    assert result.measures.filter(pl.col("Rate").is_not_null() | pl.col("Suppressed")).height == 0
    csv_text = (tmp_path / "tables" / "measures.csv").read_bytes().decode("utf-8-sig")
    assert "\r\nReentry plan on time,reentry_plan_rate,,,,,,,no records in the period\r\n" in csv_text


def test_pdf_without_dejavu_falls_back_to_latin1(report, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Without a DejaVu font the PDF uses built-in Helvetica and folds text to Latin-1."""
    from dashboard.report import pdf as report_module  # the PDF renderer looks its font up there

    monkeypatch.setattr(report_module, "find_dejavu", lambda: None)
    pdf = report_module.render_pdf(report.content, {})
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "Rearrest within 12 months" in text and "40.0%" in text
    assert "'=HYPERLINK(" in text
    assert report_module.to_latin1("Program × cohort – “x” ≤ 5 → ✓") == 'Program x cohort - "x" <= 5 -> ?'
