"""``partnership-dashboard export chart|table|report`` end to end on an embedded database,
and the dashboard's Report page producing the package (Streamlit AppTest).

The database is filled with the hand-counted fixture of test_report.py.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pypdf
import pytest
import sqlalchemy as sa

from dashboard import store
from dashboard.cli import main
from dashboard.contract import TABLE_NAMES
from dashboard.export import png_size
from test_export_tables import HOSTILE_FORMULA
from test_report import report_tables

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db_url(duckdb_engine: sa.engine.Engine) -> str:
    tables = report_tables()
    with duckdb_engine.begin() as conn:
        for name in (*TABLE_NAMES, "load_runs"):
            store.bulk_upsert(conn, name, getattr(tables, name))
    url = duckdb_engine.url.render_as_string(hide_password=False)
    duckdb_engine.dispose()
    return url


def test_export_table_csv_and_xlsx(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rates.csv"
    code = main(["export", "--db", db_url, "table", "--metric", "recidivism_rearrest_6m",
                 "--metric", "recidivism_rearrest_12m", "--period", "2025Q1", "--as-of", "2026-06-30",
                 "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    # 6 months: 5 of 30 rearrested -> suppressed everywhere it appears; 12 months: 12/30 published.
    overall6 = next(line for line in lines if line.startswith("Rearrest within 6 months,") and ",Overall," in line)
    assert overall6.count("suppressed") == 7
    overall12 = next(line for line in lines if line.startswith("Rearrest within 12 months,") and ",Overall," in line)
    assert ",30,12,0.4," in overall12
    xlsx = tmp_path / "all.xlsx"
    assert main(["export", "--db", db_url, "table", "--all", "--as-of", "2026-06-30", "--out", str(xlsx)]) == 0
    sheet = openpyxl.load_workbook(xlsx).active
    groups = [row[3].value for row in sheet.iter_rows(min_row=2)]
    assert "'" + HOSTILE_FORMULA + " (A01)" in groups  # police contacts by agency A01
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_export_chart_formats(db_url: str, tmp_path: Path) -> None:
    png = tmp_path / "c.png"
    assert main(["export", "--db", db_url, "chart", "--metric", "compliance_rate", "--by", "cohort",
                 "--as-of", "2026-06-30", "--out", str(png)]) == 0
    width, height = png_size(png.read_bytes())
    assert width > 2000 and height > 200  # 300 dpi: about 4.17 x the chart's pixel size
    svg = tmp_path / "c.svg"
    assert main(["export", "--db", db_url, "chart", "--metric", "compliance_rate", "--by", "cohort",
                 "--as-of", "2026-06-30", "--out", str(svg)]) == 0
    again = tmp_path / "again.svg"
    assert main(["export", "--db", db_url, "chart", "--metric", "compliance_rate", "--by", "cohort",
                 "--as-of", "2026-06-30", "--out", str(again)]) == 0
    assert svg.read_bytes() == again.read_bytes()
    pdf = tmp_path / "c.pdf"
    assert main(["export", "--db", db_url, "chart", "--metric", "compliance_rate", "--format", "pdf",
                 "--as-of", "2026-06-30", "--out", str(pdf)]) == 0
    assert len(pypdf.PdfReader(pdf).pages) == 1


def test_export_report(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "package"
    assert main(["export", "--db", db_url, "report", "--period", "2025Q1", "--program", "P01",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "report_P01_2025Q1.pdf" in printed
    # The as-of date comes from the latest load run (2026-06-30).
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(out / "report_P01_2025Q1.pdf").pages)
    assert "2026-06-30" in text
    with zipfile.ZipFile(out / "report_P01_2025Q1.zip") as archive:
        assert "tables/measures.xlsx" in archive.namelist()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["table", "--metric", "nope", "--out", "x.csv"], "unknown metric 'nope'"),
        (["table", "--all", "--out", "x.txt"], "cannot tell the format"),
        (["table", "--all", "--period", "2025Q1", "--start", "2025-01-01", "--out", "x.csv"], "either --period"),
        (["report", "--period", "2025Q9", "--out", "d"], "cannot read the period"),
        (["report", "--period", "2025Q1", "--program", "P99", "--out", "d"], "--program 'P99': not in the database (program_ids: P01"),
    ],
)
def test_export_errors_are_for_people(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [str(tmp_path / a) if a in ("x.csv", "x.txt", "d") else a for a in argv]
    assert main(["export", "--db", db_url, *argv]) == 2
    assert message in capsys.readouterr().err


def test_report_page_builds_the_package(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DATABASE_URL", db_url)
    at = AppTest.from_file(str(REPO_ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/report.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="report_year").set_value(2025).run()
    at.selectbox(key="report_quarter").set_value(1).run()
    at.selectbox(key="report_program").set_value("P01").run()
    at.button(key="report_build").click().run()
    assert not at.exception, at.exception
    assert any("Report package ready for 2025Q1" in s.value for s in at.success)
    measures = at.dataframe[0].value
    # Issue 15: the page shows readable labels (as in the PDF), not the metric-id column.
    assert "Metric ID" not in measures.columns
    assert list(measures["Measure"])[:2] == [
        r["Measure"] for r in at.session_state["report_package"]["measures"].head(2).iter_rows(named=True)]
    assert "partnership-dashboard export report --period 2025Q1 --program P01" in at.code[0].value
