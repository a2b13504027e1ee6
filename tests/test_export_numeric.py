"""Numeric downloads (issue 15, docs/exports.md "Numeric downloads"): the page's "By program" and
"By agency" tables and every chart's data download as typed numbers with readable headers, a
suppressed cell empty with Status "suppressed" (never a number), a header block naming program,
filters, period and as-of, formula neutralisation kept, file names carrying the filters.

Golden files: tests/golden/numeric_*.{csv,xlsx}; regenerate with UPDATE_GOLDEN=1 and review.
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

from dashboard import charts, export_numeric
from dashboard.export import SUPPRESSED_TEXT

GOLDEN = Path(__file__).parent / "golden"
METRICS = [("referral_completion_rate", "Referral completion", "rate"),
           ("compliance_rate", "Supervision compliance", "rate")]


def check_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_bytes(data)
    assert path.exists(), f"golden file {path} missing: run with UPDATE_GOLDEN=1 and review it"
    assert data == path.read_bytes(), f"{name} differs from its golden file"


def _engine() -> pl.DataFrame:
    """Engine-shaped rows: P02's compliance is suppressed (numbers already withheld), P03 has no
    compliance row, and one program id starts with '=' (a formula in a spreadsheet)."""
    def row(metric: str, program: str, num, den, value, low, high, suppressed=False) -> dict:
        return {"metric": metric, "group_by": json.dumps(["program_id"]), "group": json.dumps({"program_id": program}),
                "numerator": num, "denominator": den, "value": value, "ci_low": low, "ci_high": high,
                "suppressed": suppressed}
    rows = [
        row("referral_completion_rate", "P01", 314, 593, 314 / 593, 0.48953, 0.56984),
        row("referral_completion_rate", "P02", 40, 100, 0.4, 0.30941, 0.49729),
        row("referral_completion_rate", "=P03", 12, 30, 0.4, 0.24595, 0.57690),
        row("compliance_rate", "P01", 800, 1000, 0.8, 0.77404, 0.82371),
        row("compliance_rate", "P02", None, None, None, None, None, True),
    ]
    return pl.DataFrame(rows, schema={"metric": pl.String, "group_by": pl.String, "group": pl.String,
                                      "numerator": pl.Int64, "denominator": pl.Int64, "value": pl.Float64,
                                      "ci_low": pl.Float64, "ci_high": pl.Float64, "suppressed": pl.Boolean})


ABOUT = export_numeric.ExportAbout(
    title="Headline measures by program", program="Reentry Works (P01), Second Chance, Inc. (P02)",
    filters="program Reentry Works, Second Chance, Inc.; risk High", period="2025-01-01 to 2025-03-31",
    as_of=dt.date(2025, 6, 30), min_cell_size=11, file_parts=("P01", "P02", "risk-high", "2025-01-01-to-2025-03-31"),
)


@pytest.fixture
def table() -> pl.DataFrame:
    return export_numeric.metric_table(_engine(), METRICS, key="program_id", key_title="Program",
                                       names={"P01": "Reentry Works", "P02": "Second Chance, Inc."})


def test_metric_table_is_typed_numbers_with_a_status_column(table: pl.DataFrame) -> None:
    assert table.columns == ["Program", "Measure", "Rate", "95% CI low", "95% CI high", "Numerator", "N", "Status"]
    assert table.schema["Rate"] == pl.Float64 and table.schema["N"] == pl.Int64
    first = table.row(0, named=True)
    assert first == {"Program": "Reentry Works", "Measure": "Referral completion", "Rate": 0.5295,
                     "95% CI low": 0.4895, "95% CI high": 0.5698, "Numerator": 314, "N": 593, "Status": "published"}
    by_key = {(r["Program"], r["Measure"]): r for r in table.iter_rows(named=True)}
    withheld = by_key[("Second Chance, Inc.", "Supervision compliance")]
    assert withheld["Status"] == SUPPRESSED_TEXT
    assert all(withheld[c] is None for c in ("Rate", "95% CI low", "95% CI high", "Numerator", "N"))
    assert by_key[("=P03", "Supervision compliance")]["Status"] == "no records"


def test_csv_header_block_numbers_and_golden(table: pl.DataFrame) -> None:
    data = export_numeric.to_csv(table, ABOUT)
    check_golden("numeric_by_program.csv", data)
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    header = [line for line in lines if line.startswith("# ")]
    assert len(header) == 6 and lines[: len(header)] == header
    assert "# Program: Reentry Works (P01); Second Chance; Inc. (P02)" in header
    assert any("2025-06-30" in line for line in header) and any("risk High" in line for line in header)
    rows = list(csv.reader(io.StringIO("\n".join(lines[len(header):]))))
    assert rows[0] == ["Program", "Measure", "Rate", "95% CI low", "95% CI high", "Numerator", "N", "Status"]
    assert rows[1][2:] == ["0.5295", "0.4895", "0.5698", "314", "593", "published"]
    suppressed = next(r for r in rows if r[:2] == ["Second Chance, Inc.", "Supervision compliance"])
    assert suppressed[2:] == ["", "", "", "", "", "suppressed"]
    # Formula neutralisation still applies to text; no text cell starts with a trigger.
    assert any(r[0] == "'=P03" for r in rows)
    # pandas-style comment skipping reads the table back with typed numbers.
    body = "\n".join(line for line in text.split("\r\n") if not line.startswith("#"))
    parsed = pl.read_csv(io.StringIO(body))
    assert parsed.schema["Rate"] == pl.Float64 and parsed.schema["N"] == pl.Int64


def test_xlsx_has_typed_cells_and_an_about_sheet(table: pl.DataFrame) -> None:
    data = export_numeric.to_xlsx(table, ABOUT)
    assert data == export_numeric.to_xlsx(table, ABOUT)  # deterministic
    check_golden("numeric_by_program.xlsx", data)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        workbook = z.read("xl/workbook.xml").decode()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
    assert 'name="Data"' in workbook and 'name="About"' in workbook
    assert "<v>0.5295</v>" in sheet and "<v>593</v>" in sheet  # numbers, not text
    assert "53.0%" not in strings and "(n=" not in strings
    assert "Data as of: 2025-06-30" in strings
    assert "'=P03" in strings or "&apos;=P03" in strings


def test_chart_data_table_renames_rounds_and_empties_suppressed_cells() -> None:
    data = pl.DataFrame({
        "category": ["A", "B"], "series": ["Pilot", "Pilot"], "value": [0.123456789, 0.5],
        "ci_low": [0.1, 0.4], "ci_high": [0.15, 0.6], "numerator": [10, 50], "denominator": [81, 100],
        "suppressed": [False, True],
    })
    out = export_numeric.chart_data_table(data)
    assert out.columns == ["Group", "Series", "Value", "95% CI low", "95% CI high", "Numerator", "N", "Status"]
    assert out.row(0) == ("A", "Pilot", 0.1235, 0.1, 0.15, 10, 81, "published")
    assert out.row(1) == ("B", "Pilot", None, None, None, None, None, "suppressed")
    check_golden("numeric_chart_data.csv", export_numeric.to_csv(out, ABOUT))


def test_file_names_carry_filters_and_as_of_and_are_ascii() -> None:
    name = ABOUT.file_name("overview_by_program", "csv")
    assert name == "overview_by_program_P01_P02_risk-high_2025-01-01-to-2025-03-31_asof-2025-06-30.csv"
    other = export_numeric.ExportAbout(**{**ABOUT.__dict__, "file_parts": ("P0é/../x",)})
    assert other.file_name("k", "png").isascii() and "/" not in other.file_name("k", "png")
    assert other.file_name("k", "png") != name


def test_chart_image_subtitle_names_program_filters_and_as_of() -> None:
    chart = charts.rate_bars(pl.DataFrame({"category": ["A"], "value": [0.5], "suppressed": [False]}),
                             title="Completion", subtitle="N = 10", category_title="c", value_title="v")
    image = export_numeric.chart_with_subtitle(chart, ABOUT.subtitle())
    subtitle = " ".join(image.to_dict()["title"]["subtitle"])
    assert subtitle.startswith("N = 10") and "Reentry Works (P01)" in subtitle and "2025-06-30" in subtitle
    assert chart.to_dict()["title"]["subtitle"] == ["N = 10"]  # the page's chart is unchanged
    svg = export_numeric.chart_with_subtitle(chart, ABOUT.subtitle())
    from dashboard.export import chart_to_bytes

    assert "2025-06-30" in chart_to_bytes(svg, "svg").decode()
