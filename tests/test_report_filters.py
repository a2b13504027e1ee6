"""The report package honours the dashboard filters it names (issue 15): the Report page passes the
sidebar's agency, cohort, risk and supervision filters to the engine exactly as ``export report``
does with ``--agency/--cohort/--risk/--supervision``, the page's bundle equals the CLI's bundle,
the on-page table reads like the PDF, and the PDF comes in A4 (default) or US Letter.

Fixture: the hand-counted tables of test_report.py (30 participants of P01: 15 pilot, 15
comparison, all moderate risk on parole)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import polars as pl
import pypdf
import pytest
from test_export_cli import db_url  # noqa: F401 (the report's tables in a DuckDB file, a fixture)
from test_report import AS_OF, report_tables

from dashboard import report as report_module
from dashboard import views
from dashboard.cli import main
from dashboard.metrics.engine import compute_metrics
from dashboard.metrics.tables import Filters
from dashboard.report import ParticipantFilters, build_report, readable_table

REPO_ROOT = Path(__file__).resolve().parent.parent
PILOT = ParticipantFilters(cohorts=("pilot",))


def _zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def _measure(result, metric_id: str) -> dict:  # type: ignore[no-untyped-def]
    return next(r for r in result.measures.iter_rows(named=True) if r["Metric ID"] == metric_id)


def test_participant_filters_reach_the_engine(tmp_path: Path) -> None:
    tables = report_tables()
    everyone = build_report(tables, period="2025Q1", program_id="P01", out_dir=tmp_path / "a", as_of=AS_OF)
    pilot = build_report(tables, period="2025Q1", program_id="P01", out_dir=tmp_path / "b", as_of=AS_OF,
                         participants=PILOT)
    engine = compute_metrics(tables, Filters(as_of=AS_OF, start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31),
                                             program_ids=("P01",), cohorts=("pilot",)), min_cell_size=11)
    expected = views.overall_row(engine, "reentry_plan_rate")
    assert expected is not None
    assert _measure(everyone, "reentry_plan_rate")["N"] == 30
    assert _measure(pilot, "reentry_plan_rate")["N"] == 15 == expected["denominator"]
    cover = dict(pilot.content.cover)
    assert cover["Filters"] == "cohort Pilot"
    assert "Filters" not in dict(everyone.content.cover)  # unfiltered cover unchanged
    assert "--cohort pilot" in pilot.content.command
    # No participant matches: every measure is empty or suppressed, never the unfiltered numbers.
    nobody = build_report(tables, period="2025Q1", program_id="P01", out_dir=tmp_path / "c", as_of=AS_OF,
                          participants=ParticipantFilters(risk_levels=("high",)))
    assert _measure(nobody, "reentry_plan_rate").get("N") in (None, 0)


def test_cli_and_page_build_the_same_bundle(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    out = tmp_path / "cli"
    code = main(["export", "--db", db_url, "report", "--period", "2025Q1", "--program", "P01", "--cohort", "pilot",
                 "--risk", "moderate", "--as-of", AS_OF.isoformat(), "--paper", "letter", "--out", str(out)])
    assert code == 0
    cli_zip = next(out.glob("*.zip")).read_bytes()

    monkeypatch.setenv("DATABASE_URL", db_url)
    at = AppTest.from_file(str(REPO_ROOT / "streamlit_app.py"), default_timeout=180)
    for key, value in {"cohort": "pilot", "risk": "moderate", "as_of": AS_OF.isoformat()}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/report.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="report_year").set_value(2025).run()
    at.selectbox(key="report_quarter").set_value(1).run()
    at.selectbox(key="report_program").set_value("P01").run()
    at.radio(key="report_paper").set_value("letter").run()
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any("Sidebar filters applied to the package: cohort Pilot; risk Moderate" in c for c in captions), captions
    at.button(key="report_build").click().run()
    assert not at.exception, at.exception
    package = at.session_state["report_package"]
    page_files = _zip_members(package["zip"][1])
    cli_files = _zip_members(cli_zip)
    assert sorted(page_files) == sorted(cli_files)
    # Every file is byte-identical (the report PDF, the HTML, tables, PNG and SVG charts), except the
    # chart PDFs: vl-convert writes their resource dictionaries in a varying order, so for those the
    # drawn text is compared.
    for name, data in cli_files.items():
        if name.startswith("charts/") and name.endswith(".pdf"):
            assert _pdf_text(page_files[name]) == _pdf_text(data), name
        else:
            assert page_files[name] == data, name
    assert "--cohort pilot --risk moderate --paper letter" in package["command"]
    # The on-page table reads like the PDF: labels, "suppressed", no ids, no None, no checkbox.
    shown = at.dataframe[0].value
    assert list(shown.columns) == list(report_module.MEASURE_HEADERS)
    text = shown.astype(str).to_string()
    assert "None" not in text and "reentry_plan_rate" not in text and "True" not in text


def test_paper_letter_or_a4(tmp_path: Path) -> None:
    tables = report_tables()
    a4 = build_report(tables, period="2025Q1", program_id="P01", out_dir=tmp_path / "a4", as_of=AS_OF)
    letter = build_report(tables, period="2025Q1", program_id="P01", out_dir=tmp_path / "us", as_of=AS_OF,
                          paper="letter")
    default = build_report(tables, period="2025Q1", program_id="P01", out_dir=tmp_path / "d", as_of=AS_OF,
                           paper="a4")
    assert a4.pdf.read_bytes() == default.pdf.read_bytes()

    def size(path: Path) -> tuple[float, float]:
        box = pypdf.PdfReader(io.BytesIO(path.read_bytes())).pages[0].mediabox
        return round(float(box.width)), round(float(box.height))

    assert size(a4.pdf) == (595, 842)  # 210 x 297 mm in points
    assert size(letter.pdf) == (612, 792)  # 8.5 x 11 in
    assert "--paper letter" in letter.content.command and "--paper" not in a4.content.command
    with pytest.raises(ValueError, match="paper"):
        build_report(tables, period="2025Q1", out_dir=tmp_path / "x", as_of=AS_OF, paper="legal")
    with zipfile.ZipFile(letter.zip) as z:
        assert any(n.endswith(".pdf") for n in z.namelist())


def test_readable_table_says_suppressed_and_hides_ids(tmp_path: Path) -> None:
    result = build_report(report_tables(), period="2025Q1", program_id="P01", out_dir=tmp_path, as_of=AS_OF)
    table = readable_table(result.measures)
    assert table.columns == list(report_module.MEASURE_HEADERS)
    suppressed = [r for r in result.measures.iter_rows(named=True) if r["Suppressed"]]
    assert suppressed, "the fixture withholds at least one measure"
    row = table.filter(pl.col("Measure") == suppressed[0]["Measure"]).row(0, named=True)
    assert row["N"] == row["Rate"] == "suppressed"
