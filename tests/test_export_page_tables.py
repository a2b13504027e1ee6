"""Numeric twins of the pages' tables (issue 15, docs/exports.md "Numeric downloads"): the evaluation
windows, baseline and programs summary, the equity, recidivism and reintegration tables, referrals,
community voice and operations download typed numbers with a Status column while the page keeps its
readable text. A withheld number is an empty cell (never a number, never text in a number column).

Golden files: tests/golden/numeric_evaluation_windows.{csv,xlsx}, numeric_equity_sex.csv;
regenerate with UPDATE_GOLDEN=1 and review.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import zipfile
from pathlib import Path

import polars as pl
import pytest

from test_pages import URL_FILTERS, assert_clean, run_page, sample_url, table_by_key, use_db  # noqa: F401 (fixtures)

from dashboard import app_page, export_numeric, export_page_tables, views, views_evaluation
from dashboard import operations_views as ov
from dashboard.export import SUPPRESSED_TEXT

GOLDEN = Path(__file__).parent / "golden"
ABOUT = export_numeric.ExportAbout(
    title="Pilot against comparison", program="Reentry Works (P01)", filters="program Reentry Works; risk High",
    period="2025-01-01 to 2025-03-31", as_of=dt.date(2025, 6, 30), min_cell_size=11,
    file_parts=("P01", "risk-high", "2025-01-01-to-2025-03-31"),
)


def check_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_bytes(data)
    assert path.exists(), f"golden file {path} missing: run with UPDATE_GOLDEN=1 and review it"
    assert data == path.read_bytes(), f"{name} differs from its golden file"


LABEL_COLUMNS = {"Question", "Respondent type", "Referring agency", "Provider agency", "Withheld outcomes", "Measure", "Covariate", "Unit", "WWC label", "Program", "Reading", "Risk-adjusted note", "Sex",
                 "Cohort", "Window", "Month", "Agency", "Note", "Days open", "Status", "Pilot status",
                 "Comparison status", "Cost per participant status", "Cost per completion status"}


def _window(measure: str, months: int, pilot: dict | None, comparison: dict | None, **rest: object) -> dict:
    return {"measure": measure, "window_months": months, "pilot": pilot, "comparison": comparison,
            "difference": rest.get("difference", {}), "p_value": rest.get("p_value"),
            "risk_adjusted": rest.get("risk_adjusted", {})}


def _cell(num: int, den: int, low: float, high: float) -> dict:
    return {"numerator": num, "denominator": den, "rate": num / den, "ci_low": low, "ci_high": high,
            "suppressed": False}


WITHHELD = {"numerator": None, "denominator": None, "rate": None, "ci_low": None, "ci_high": None, "suppressed": True}
EVALUATION = {
    "windows": [
        _window("rearrest", 12, _cell(314, 593, 0.48953, 0.56984), _cell(40, 100, 0.30941, 0.49729),
                difference={"value": 314 / 593 - 0.4, "ci_low": 0.02357, "ci_high": 0.23036}, p_value=0.0000123456,
                risk_adjusted={"pilot": 0.52, "comparison": 0.41, "difference": 0.11, "reason": None}),
        _window("rearrest", 24, _cell(12, 30, 0.24595, 0.57690), WITHHELD, difference={"value": None},
                risk_adjusted={"difference": None, "reason": "a cohort is withheld"}),
        _window("=formula", 36, {"numerator": 0, "denominator": 0, "rate": None, "suppressed": False}, None),
    ],
}


def _csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO("\n".join(line for line in text.split("\r\n") if not line.startswith("# ")))))


def assert_numbers_only(frame: pl.DataFrame) -> None:
    """No downloaded number column holds text: every column is typed as a number unless it is a
    label, a note or a status; in the CSV every cell of a number column is empty or a number."""
    text_columns = [c for c, t in frame.schema.items() if not t.is_numeric()]
    assert set(text_columns) <= LABEL_COLUMNS, f"text in number columns: {set(text_columns) - LABEL_COLUMNS}"
    rows = _csv_rows(export_numeric.to_csv(frame, ABOUT))
    header, body = rows[0], rows[1:]
    assert len(body) == frame.height
    for i, name in enumerate(header):
        if name in text_columns:
            continue
        for row in body:
            assert row[i] == "" or float(row[i]) == float(row[i]), (name, row[i])
    for row in body:  # the display marks never reach a download
        assert not any("(n=" in cell or cell.startswith("Suppressed") for cell in row), row


def test_evaluation_windows_download_is_typed_with_statuses_and_golden() -> None:
    table = export_page_tables.evaluation_windows_table(EVALUATION, {"rearrest": "Rearrest"})
    first = table.row(0, named=True)
    assert first["Window (months)"] == 12 and table.schema["Window (months)"] == pl.Int64
    assert (first["Pilot rate"], first["Pilot 95% CI low"], first["Pilot numerator"], first["Pilot N"]) == (
        0.5295, 0.4895, 314, 593)
    assert first["Pilot status"] == first["Comparison status"] == "published"
    assert first["Difference (pilot - comparison)"] == 0.1295 and first["p-value"] == 1.235e-05
    assert first["Risk-adjusted difference"] == 0.11 and first["Risk-adjusted note"] is None
    second = table.row(1, named=True)
    assert second["Comparison status"] == SUPPRESSED_TEXT
    assert all(second[f"Comparison {c}"] is None for c in ("rate", "95% CI low", "95% CI high", "numerator", "N"))
    assert second["Difference (pilot - comparison)"] is None and second["Risk-adjusted note"] == "a cohort is withheld"
    third = table.row(2, named=True)
    assert third["Pilot status"] == "not yet eligible" and third["Comparison status"] == "no records"
    assert_numbers_only(table)
    data = export_numeric.to_csv(table, ABOUT)
    check_golden("numeric_evaluation_windows.csv", data)
    assert any(r[0] == "'=formula" for r in _csv_rows(data))  # formula neutralisation kept
    xlsx = export_numeric.to_xlsx(table, ABOUT)
    check_golden("numeric_evaluation_windows.xlsx", xlsx)
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>0.5295</v>" in sheet and "<v>593</v>" in sheet


def test_evaluation_windows_download_matches_the_page_table_row_for_row() -> None:
    shown = views_evaluation.evaluation_windows_table(EVALUATION, {"rearrest": "Rearrest"}, 11)
    numbers = export_page_tables.evaluation_windows_table(EVALUATION, {"rearrest": "Rearrest"})
    assert shown.get_column("Measure").to_list() == numbers.get_column("Measure").to_list()
    assert [f"{m} months" for m in numbers.get_column("Window (months)")] == shown.get_column("Window").to_list()
    assert shown.row(1, named=True)["Comparison rate [95% CI] n"] == views.suppression_label(11)


def _equity_rows() -> pl.DataFrame:
    return pl.DataFrame([
        {"sex": "female", "numerator": 30, "denominator": 120, "value": 0.25, "ci_low": 0.18, "ci_high": 0.3337,
         "suppressed": False, "ratio": 0.8333333},
        {"sex": "male", "numerator": None, "denominator": None, "value": None, "ci_low": None, "ci_high": None,
         "suppressed": True, "ratio": None},
        {"sex": None, "numerator": 45, "denominator": 150, "value": 0.3, "ci_low": 0.2333, "ci_high": 0.3765,
         "suppressed": False, "ratio": 1.0},
    ])


def test_equity_download_keeps_page_labels_and_empties_suppressed_rows() -> None:
    rows = _equity_rows()
    names = {"female": "Female", "male": "Male", None: "Not recorded"}
    shown = views.metric_table(rows, key_titles={"sex": "Sex"}, key_labels={"sex": names}, unit="rate",
                               min_cell_size=11)
    table = export_page_tables.rows_table(rows, key_titles={"sex": "Sex"}, key_labels={"sex": names}, unit="rate",
                                          extra={"Ratio to overall": rows.get_column("ratio").to_list()})
    assert table.columns == ["Sex", "Rate", "95% CI low", "95% CI high", "Numerator", "N", "Ratio to overall",
                             "Status"]
    assert table.get_column("Sex").to_list() == shown.get_column("Sex").to_list()
    assert table.row(0) == ("Female", 0.25, 0.18, 0.3337, 30, 120, 0.83, "published")
    assert table.row(1) == ("Male", None, None, None, None, None, None, SUPPRESSED_TEXT)
    assert shown.row(1, named=True)["Rate"] == views.suppression_label(11)  # the page still reads it
    assert_numbers_only(table)
    check_golden("numeric_equity_sex.csv", export_numeric.to_csv(table, ABOUT))


def test_baseline_download_withholds_the_same_shares_as_the_page() -> None:
    evaluation = {
        "survival": [{"measure": "rearrest", "cohort": "pilot", "n": 200, "suppressed": False},
                     {"measure": "rearrest", "cohort": "comparison", "n": 31, "suppressed": False}],
        "baseline": [
            {"covariate": "age_at_enrollment", "pilot": 30.04, "comparison": 31.0, "effect_size": -0.1,
             "label": "adjustment_needed", "suppressed": False},
            {"covariate": "risk_high", "pilot": 0.3, "comparison": 9 / 31, "effect_size": 0.03,
             "label": "equivalent", "suppressed": False},
            {"covariate": "risk_moderate", "pilot": 0.5, "comparison": 12 / 31, "effect_size": 0.28,
             "label": "not_equivalent", "suppressed": False},
            {"covariate": "sex_female", "pilot": None, "comparison": None, "effect_size": None,
             "label": None, "suppressed": True},
        ],
    }
    counts = {"risk_high": {"pilot": (60, 200), "comparison": (9, 31)},
              "risk_moderate": {"pilot": (100, 200), "comparison": (12, 31)}}
    table = export_page_tables.baseline_table(evaluation, 11, counts)
    rows = {r["Covariate"]: r for r in table.iter_rows(named=True)}
    age = rows[views_evaluation.COVARIATE_WORDS["age_at_enrollment"]]
    assert (age["Unit"], age["Pilot"], age["Status"]) == ("years", 30.04, "published")
    high = rows[views_evaluation.COVARIATE_WORDS["risk_high"]]
    assert high["Pilot"] == 0.3 and high["Comparison"] is None and high["Effect size"] is None
    assert high["Status"] == SUPPRESSED_TEXT and high["WWC label"] == views_evaluation.WWC_WORDS["equivalent"]
    moderate = rows[views_evaluation.COVARIATE_WORDS["risk_moderate"]]
    assert (moderate["Comparison"], moderate["Effect size"], moderate["Status"]) == (0.3871, 0.28, "published")
    female = rows[views_evaluation.COVARIATE_WORDS["sex_female"]]
    assert female["Pilot"] is None and female["WWC label"] is None and female["Status"] == SUPPRESSED_TEXT
    assert_numbers_only(table)
    # k = 0 turns the withholding off, as on the page.
    assert export_page_tables.baseline_table(evaluation, 0, counts).row(1, named=True)["Comparison"] == 0.2903


def test_programs_summary_download_carries_the_page_reading_and_numbers() -> None:
    evaluations = [("Reentry Works (P01)", EVALUATION), ("Other (P02)", {"windows": []})]
    shown = views_evaluation.programs_summary_table(evaluations, min_cell_size=11)
    table = export_page_tables.programs_summary_table(evaluations, shown.get_column("Reading").to_list())
    assert table.get_column("Reading").to_list() == shown.get_column("Reading").to_list()
    first, second = table.row(0, named=True), table.row(1, named=True)
    assert first["Pilot rate"] == 0.5295 and first["p-value"] == 1.235e-05
    assert second["Pilot status"] == "no records" and second["Difference (pilot - comparison)"] is None
    assert_numbers_only(table)


def test_labelled_rows_cost_and_caseload_downloads_are_numbers() -> None:
    rows = [{"value": 0.6, "ci_low": 0.5, "ci_high": 0.7, "numerator": 60, "denominator": 100, "suppressed": False},
            {"value": None, "ci_low": None, "ci_high": None, "numerator": None, "denominator": None, "suppressed": True}]
    voice = export_page_tables.labelled_rows(
        ["All responses", "Officers"], "Program", rows,
        {"Favourable share": ("value", 4), "Favourable answers": ("numerator", 0), "Answers (N)": ("denominator", 0)})
    assert voice.row(0) == ("All responses", 0.6, 60, 100, "published")
    assert voice.row(1) == ("Officers", None, None, None, SUPPRESSED_TEXT)
    assert_numbers_only(voice)
    whole = pl.DataFrame([
        {"program_id": "P01", "metric": "cost_per_participant", "numerator": 120000.0, "denominator": 60,
         "value": 2000.0, "suppressed": False},
        {"program_id": "P01", "metric": "cost_per_completion", "numerator": None, "denominator": None,
         "value": None, "suppressed": True},
        {"program_id": None, "metric": "cost_per_participant", "numerator": 150000.0, "denominator": 75,
         "value": 2000.0, "suppressed": False},
    ])
    costs = export_page_tables.cost_table(whole, {"P01": "Reentry Works"}, "All programs")
    assert costs.row(0, named=True) == {
        "Program": "Reentry Works", "Cost in the period": 120000.0, "Pilot participants served": 60,
        "Cost per participant": 2000.0, "Cost per participant status": "published", "Completions": None,
        "Cost per completion": None, "Cost per completion status": SUPPRESSED_TEXT}
    assert costs.row(1, named=True)["Completions"] == 0  # no completion row: none, as on the page
    assert_numbers_only(costs)
    monthly = pl.DataFrame([
        {"month": dt.date(2025, 1, 1), "agency_id": "A1", "caseload": 40, "officers_fte": 2.0,
         "caseload_per_officer": 20.0},
        {"month": dt.date(2025, 2, 1), "agency_id": None, "caseload": 40, "officers_fte": 0.0,
         "caseload_per_officer": None},
    ])
    caseload = export_page_tables.caseload_table(monthly, {"A1": "North"}, "All agencies")
    assert caseload.row(0) == ("2025-01", "North", 40, 2.0, 20.0, None)
    assert caseload.row(1) == ("2025-02", "All agencies", 40, 0.0, None, "no officer time")
    assert_numbers_only(caseload)


def test_flow_download_counts_each_route_with_withheld_outcomes_empty() -> None:
    from dashboard import views_trends

    def row(level: str, outcome: str | None, count: int | None, suppressed: bool = False) -> dict:
        return {"level": level, "referring_agency_id": "A1", "provider_agency_id": "=A2", "outcome": outcome,
                "count": count, "suppressed": suppressed}

    flow = pl.DataFrame([row("pair", None, 40), row("cell", "completed", 31), row("cell", "open", None, True)])
    _, shown = views_trends.flow_frames(flow, {"A1": "North"}, 11)
    table = export_page_tables.flow_table(flow, {"A1": "North"})
    assert table.row(0, named=True) == {"Referring agency": "North", "Provider agency": "=A2", "Referrals": 40,
                                        "Completed": 31, "Unsuccessful": 0, "Open": None,
                                        "Withheld outcomes": "Open", "Status": "published"}
    assert shown.row(0, named=True)["Open"] == views.suppression_label(11)  # the page keeps its words
    assert_numbers_only(table)
    assert "'=A2" in export_numeric.to_csv(table, ABOUT).decode("utf-8-sig")


@pytest.mark.parametrize("header,percent", [("Pilot rate", True), ("Comparison 95% CI high", True),
                                            ("Favourable share", True), ("Pilot N", False), ("p-value", False)])
def test_xlsx_formats_rates_as_percent_keeping_the_proportion(header: str, percent: bool) -> None:
    assert export_numeric.is_percent_header(header) is percent


def test_engine_rows_keep_json_groups_readable() -> None:
    """``rows_table`` reads ``views.metric_rows`` output (the engine's JSON groups unpacked)."""
    frame = pl.DataFrame([{"metric": "m", "group_by": json.dumps(["cohort"]), "group": json.dumps({"cohort": "pilot"}),
                           "numerator": 5, "denominator": 20, "value": 0.25, "ci_low": 0.1, "ci_high": 0.47,
                           "suppressed": False}])
    rows = views.metric_rows(frame, "m", ("cohort",))
    table = export_page_tables.rows_table(rows, key_titles={"cohort": "Cohort"},
                                          key_labels={"cohort": views.COHORT_LABELS}, measure="Employed")
    assert table.row(0) == ("Pilot", "Employed", 0.25, 0.1, 0.47, 5, 20, "published")


# --- on the pages: what a click on a download button would write -----------------------------------

PAGE_TABLES = {
    "pages/pilot_evaluation.py": ("evaluation_windows", "evaluation_baseline", "evaluation_programs_summary"),
    "pages/equity.py": ("equity_referral_completion_rate_sex_table",),
    "pages/recidivism.py": ("recidivism_table",),
    "pages/reintegration.py": ("reintegration_cohorts_12m", "reintegration_programs_12m"),
    "pages/referrals.py": ("referrals_open_by_age_table",),
    "pages/partnerships.py": ("partnership_referral_flow_table",),
    "pages/operations.py": ("operations_costs_by_program", "operations_caseload_by_month"),
    "pages/community_voice.py": (f"voice_{next(iter(ov.QUESTION_LABELS))}_table_by_{next(iter(ov.BREAKDOWN_TITLES))}",),
}


@pytest.mark.parametrize("page", list(PAGE_TABLES))
def test_page_table_downloads_are_numbers_with_filters_in_the_file_name(
    page: str, sample_url: str, use_db, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each listed table downloads as numbers (no "53.0% (n=593)", no suppression words in number
    columns), with the header block and the filters in the file name; the page still shows text."""
    offered: dict[str, object] = {}
    real = app_page.download_controls

    def record(metric_ids, downloads, note=None, rows=None):  # type: ignore[no-untyped-def]
        for _, producer, file_name, _ in downloads:
            offered[file_name] = producer
        return real(metric_ids, downloads, note, rows)

    monkeypatch.setattr(app_page, "download_controls", record)
    use_db(sample_url)
    at = run_page(page, URL_FILTERS)
    assert_clean(at)
    for key in PAGE_TABLES[page]:
        shown = table_by_key(at, key)
        assert all(t == pl.String for t in shown.schema.values())  # the page keeps readable text
        names = [n for n in offered if n.startswith(f"{key}_") and n.endswith(".csv")]
        assert len(names) == 1, (key, sorted(offered))
        assert "_P01_" in names[0] and "cohort-pilot" in names[0] and "_asof-" in names[0]
        data = offered[names[0]]()  # type: ignore[operator]
        text = data.decode("utf-8-sig")
        assert text.startswith("# ") and "# Program: " in text and "# Data as of: " in text
        rows = _csv_rows(data)
        # One row per row of the page's table; long tables (reintegration) one per group and measure.
        assert len(rows) - 1 == shown.height if not key.startswith("reintegration") else len(rows) - 1 >= shown.height
        header = rows[0]
        numbers = [i for i, name in enumerate(header) if name not in LABEL_COLUMNS]
        assert numbers, header
        for row in rows[1:]:  # every number column: empty or a number, never "53.0% (n=593)" or a mark
            for i in numbers:
                assert row[i] == "" or float(row[i]) == float(row[i]), (key, header[i], row[i])
        xlsx = [n for n in offered if n.startswith(f"{key}_") and n.endswith(".xlsx")]
        assert len(xlsx) == 1 and offered[xlsx[0]]()[:2] == b"PK"  # type: ignore[operator]


def test_a_chart_in_a_column_fits_its_column_and_a_full_width_chart_keeps_its_size() -> None:
    """``width="stretch"``: axes, labels and legend inside the column (autosize fit-x), a top legend
    in two columns; ``"content"``: the builder's spec unchanged (the downloaded image never changes)."""
    from dashboard import charts, page_downloads

    data = pl.DataFrame({"period": ["2025-01", "2025-02"] * 2, "series": ["North agency long name", "South"] * 2,
                         "value": [0.4, 0.5, 0.45, 0.55], "ci_low": [0.3, 0.4, 0.35, 0.45],
                         "ci_high": [0.5, 0.6, 0.55, 0.65], "suppressed": [False] * 4})
    chart = charts.trend_chart(data, title="t", subtitle="s", value_title="v", series_title="Agency", width=420)
    built = chart.to_dict(validate=False)
    assert page_downloads._page_spec(chart, "content") == built
    fitted = page_downloads._page_spec(chart, "stretch")
    assert fitted["autosize"] == {"type": "fit-x", "contains": "padding"}
    assert built["autosize"]["type"] == "pad" and chart.to_dict(validate=False) == built  # the chart is unchanged
    legends = [layer["encoding"]["color"]["legend"] for layer in [fitted, *fitted.get("layer", [])]
               if isinstance(layer.get("encoding", {}).get("color", {}).get("legend"), dict)]
    top = [legend for legend in legends if legend.get("orient") in ("top", "bottom")]
    assert top and all(legend["columns"] == 2 and legend["labelLimit"] <= 150 for legend in top)
