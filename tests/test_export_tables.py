"""Table exports: display table, CSV and XLSX (golden files, suppression, formula safety, determinism).

The engine output below is written by hand in the engine's shape (metric,
group_by, group, numerator, denominator, value, ci_low, ci_high, suppressed);
the exports only format it, so nothing here depends on the engine's arithmetic.
Golden files live in tests/golden/; regenerate them with UPDATE_GOLDEN=1 after
checking the differences by eye.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from dashboard.export import (
    display_table,
    neutralise_text,
    table_to_csv,
    table_to_xlsx,
)
from dashboard.metrics.tables import Tables

GOLDEN = Path(__file__).parent / "golden"
HOSTILE_FORMULA = '=HYPERLINK("http://x","y")'
HOSTILE_SCRIPT = "<script>alert(1)</script>"


def check_golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(data)
    assert path.exists(), f"golden file {path} missing: run with UPDATE_GOLDEN=1 and review it"
    assert data == path.read_bytes(), f"{name} differs from its golden file"


def hostile_tables() -> Tables:
    return Tables.from_frames(
        agencies=[
            {"agency_id": "A01", "agency_name": HOSTILE_FORMULA, "agency_type": "probation"},
            {"agency_id": "A02", "agency_name": HOSTILE_SCRIPT, "agency_type": "community_org"},
        ],
        programs=[
            {"program_id": "P01", "program_name": "Reentry Works", "program_model": "release_planning",
             "lead_agency_id": "A01", "start_date": "2024-01-01", "grant_id": "2024-XY-0001"},
        ],
    )


def engine_output() -> pl.DataFrame:
    """Rows in the engine's shape; numbers chosen by hand.

    - overall referral completion 120/200 = 0.6, Wilson 95% CI (0.5308, 0.6655);
    - agency A01 suppressed (numerator 1..10), A02 115/190 = 0.605263...,
      Unassigned suppressed as its complement;
    - median days to service 12.5 over 150 referrals (no interval);
    - violations 14 over 480.3285 participant-months = 2.9147 per 100 (no interval);
    - compliance 0/40 for the pilot cohort: a zero numerator is published.
    """
    rows = [
        ("referral_completion_rate", [], {}, 120, 200.0, 0.6, 0.530834, 0.665504, False),
        ("referral_completion_rate", ["agency_id"], {"agency_id": "A01"}, None, None, None, None, None, True),
        ("referral_completion_rate", ["agency_id"], {"agency_id": "A02"}, 115, 190.0, 115 / 190, 0.534346, 0.672148, False),
        ("referral_completion_rate", ["agency_id"], {"agency_id": None}, None, None, None, None, None, True),
        ("median_days_to_service", [], {}, None, 150.0, 12.5, None, None, False),
        ("violation_rate_per_100_pm", ["program_id", "cohort"], {"program_id": "P01", "cohort": "pilot"},
         14, 480.3285, 100 * 14 / 480.3285, None, None, False),
        ("compliance_rate", ["cohort"], {"cohort": "pilot"}, 0, 40.0, 0.0, 0.0, 0.087622, False),
    ]
    return pl.DataFrame(
        [
            {"metric": m, "group_by": gb, "group": g, "numerator": n, "denominator": d, "value": v,
             "ci_low": lo, "ci_high": hi, "suppressed": s}
            for m, gb, g, n, d, v, lo, hi, s in rows
        ],
        schema={
            "metric": pl.String, "group_by": pl.List(pl.String),
            "group": pl.Struct({"program_id": pl.String, "agency_id": pl.String, "cohort": pl.String}),
            "numerator": pl.Int64, "denominator": pl.Float64, "value": pl.Float64,
            "ci_low": pl.Float64, "ci_high": pl.Float64, "suppressed": pl.Boolean,
        },
    )


@pytest.fixture
def table() -> pl.DataFrame:
    return display_table(engine_output(), tables=hostile_tables())


def test_neutralise_text_only_formula_starts() -> None:
    assert neutralise_text(HOSTILE_FORMULA) == "'" + HOSTILE_FORMULA
    for trigger in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise_text(trigger + "1") == "'" + trigger + "1"
    assert neutralise_text("Reentry Works") == "Reentry Works"
    assert neutralise_text("a=b") == "a=b"
    assert neutralise_text("") == ""


def test_display_table_rows(table: pl.DataFrame) -> None:
    assert table.columns == [
        "Measure", "Metric ID", "Grouping", "Group", "N", "Numerator", "Rate",
        "95% CI low", "95% CI high", "Value", "Unit", "Suppressed",
    ]
    rows = table.to_dicts()
    # Labels come from the registry, names from the tables, nulls read Unassigned.
    assert rows[0]["Measure"] == "Referral completion rate"
    assert (rows[0]["Grouping"], rows[0]["Group"]) == ("Overall", "All")
    assert rows[1]["Group"] == f"{HOSTILE_FORMULA} (A01)"
    assert rows[3]["Group"] == "Unassigned"
    assert rows[5]["Group"] == "Reentry Works (P01) / Pilot"
    # Rate row: N beside the rate, rounded to 4 decimals for display.
    assert (rows[0]["N"], rows[0]["Numerator"], rows[0]["Rate"]) == (200, 120, 0.6)
    assert (rows[0]["95% CI low"], rows[0]["95% CI high"]) == (0.5308, 0.6655)
    assert rows[2]["Rate"] == 0.6053  # 115/190 = 0.605263...
    # Suppressed rows carry no numbers at all.
    for i in (1, 3):
        assert rows[i]["Suppressed"] is True
        assert all(rows[i][c] is None for c in ("N", "Numerator", "Rate", "95% CI low", "95% CI high", "Value"))
    # Non-rates go to Value, not Rate; participant-months keep one decimal.
    assert (rows[4]["Rate"], rows[4]["Value"], rows[4]["Unit"]) == (None, 12.5, "days")
    assert (rows[5]["N"], rows[5]["Value"]) == (480.3, 2.91)  # 100*14/480.3285 = 2.9147
    # A zero numerator is a published number, not a suppressed one.
    assert (rows[6]["Numerator"], rows[6]["Rate"], rows[6]["Suppressed"]) == (0, 0.0, False)


def test_csv_golden_and_safety(table: pl.DataFrame) -> None:
    data = table_to_csv(table)
    check_golden("metrics_table.csv", data)
    text = data.decode("utf-8")
    assert text.startswith("\ufeffMeasure,Metric ID,")
    lines = text[1:].split("\r\n")
    # Overall row, hand-written: 120/200, 60% with its interval.
    assert lines[1] == "Referral completion rate,referral_completion_rate,Overall,All,200,120,0.6,0.5308,0.6655,,rate,"
    # The hostile name is quoted for CSV and neutralised with a leading single quote.
    assert lines[2] == (
        'Referral completion rate,referral_completion_rate,Agency,"\'=HYPERLINK(""http://x"",""y"") (A01)",'
        "suppressed,suppressed,suppressed,suppressed,suppressed,suppressed,rate,suppressed"
    )
    assert f"{HOSTILE_SCRIPT} (A02)" in text  # CSV is not HTML: text stays as it is
    assert not any(cell.startswith(("=", "+", "@")) for line in lines for cell in line.split(","))


def test_csv_keeps_negative_numbers_and_neutralises_text() -> None:
    frame = pl.DataFrame({"label": ["-drop", "+1", "@x", "\tx", "ok"], "difference": [-0.08, 1.0, -2.5, 0.0, None]})
    text = table_to_csv(frame).decode("utf-8")
    assert text == "\ufefflabel,difference\r\n'-drop,-0.08\r\n'+1,1\r\n'@x,-2.5\r\n'\tx,0\r\nok,\r\n"


def test_csv_dates_and_booleans() -> None:
    frame = pl.DataFrame({"day": [dt.date(2025, 3, 31)], "flag": [True], "n": [3]})
    assert table_to_csv(frame) == b"\xef\xbb\xbfday,flag,n\r\n2025-03-31,true,3\r\n"


def test_xlsx_types_formats_and_safety(table: pl.DataFrame) -> None:
    data = table_to_xlsx(table, sheet_name="Metrics")
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["Metrics"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header == list(table.columns)
    col = {name: i + 1 for i, name in enumerate(header)}
    # Overall row: typed numbers, N an integer beside the rate, rate as a percentage.
    n = sheet.cell(2, col["N"])
    assert (n.value, n.data_type, n.number_format) == (200, "n", "#,##0")
    rate = sheet.cell(2, col["Rate"])
    assert (rate.value, rate.data_type, rate.number_format) == (0.6, "n", "0.0%")
    assert sheet.cell(2, col["95% CI low"]).number_format == "0.0%"
    assert sheet.cell(2, col["Value"]).value is None
    # Suppressed row: the word, as text, in every withheld cell.
    for name in ("N", "Numerator", "Rate", "95% CI low", "95% CI high", "Value", "Suppressed"):
        cell = sheet.cell(3, col[name])
        assert (cell.value, cell.data_type) == ("suppressed", "s"), name
    # Hostile name: a string cell with the leading quote, never a formula.
    group = sheet.cell(3, col["Group"])
    assert (group.value, group.data_type) == ("'" + HOSTILE_FORMULA + " (A01)", "s")
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"formula in {cell.coordinate}"
    # Non-rate value: a plain number, not a percentage.
    value = sheet.cell(6, col["Value"])
    assert (value.value, value.number_format) == (12.5, "#,##0.0#")
    # Column widths are set from the content.
    assert sheet.column_dimensions["D"].width >= len(HOSTILE_FORMULA)


def test_xlsx_dates_booleans_and_negative_numbers() -> None:
    frame = pl.DataFrame({"day": [dt.date(2025, 3, 31)], "flag": [False], "difference": [-0.08], "label": ["-x"]})
    sheet = openpyxl.load_workbook(io.BytesIO(table_to_xlsx(frame, sheet_name="T"))).active
    day, flag, difference, label = sheet[2]
    assert day.value == dt.datetime(2025, 3, 31) and day.number_format == "yyyy-mm-dd"
    assert (flag.value, flag.data_type) == (False, "b")
    assert (difference.value, difference.data_type) == (-0.08, "n")
    assert (label.value, label.data_type) == ("'-x", "s")


def test_tables_are_deterministic(table: pl.DataFrame) -> None:
    assert table_to_csv(table) == table_to_csv(display_table(engine_output(), tables=hostile_tables()))
    first = table_to_xlsx(table, sheet_name="Metrics")
    second = table_to_xlsx(display_table(engine_output(), tables=hostile_tables()), sheet_name="Metrics")
    assert first == second
    check_golden("metrics_table.xlsx", first)


def test_numbers_in_suppressed_rows_are_withheld_even_from_raw_engine_output() -> None:
    """The engine keeps the numbers of suppressed rows (its callers blank them); the writers
    withhold them anyway, so passing unblanked output cannot leak a small cell."""
    raw = pl.DataFrame({"metric": ["compliance_rate"], "numerator": [3], "denominator": [7.0],
                        "value": [3 / 7], "suppressed": [True]})
    text = table_to_csv(raw).decode("utf-8")
    assert text.endswith("compliance_rate,suppressed,suppressed,suppressed,suppressed\r\n")
    sheet = openpyxl.load_workbook(io.BytesIO(table_to_xlsx(raw, sheet_name="Raw"))).active
    assert [c.value for c in sheet[2]] == ["compliance_rate", "suppressed", "suppressed", "suppressed", "suppressed"]
