"""The report package on disk: PDF, HTML, the chart and table files and a ZIP of them all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from dashboard.cells import SUPPRESSED_TEXT, cell_text


# --- formatting shared by HTML and PDF --------------------------------------------------------


def pct(value: Any) -> str:
    return "" if value is None else f"{float(value) * 100:.1f}%"


def count_text(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return f"{int(number):,}" if number.is_integer() else f"{number:,.1f}"


def measure_cells(row: Mapping[str, Any], *, label_key: str = "Measure") -> list[str]:
    """Measure, N, numerator, rate, interval, note as text; suppressed rows say so."""
    label = cell_text(row[label_key])
    if row.get("Suppressed"):
        return [label, SUPPRESSED_TEXT, SUPPRESSED_TEXT, SUPPRESSED_TEXT, SUPPRESSED_TEXT,
                cell_text(row.get("Note") or SUPPRESSED_TEXT)]
    interval = ""
    if row.get("95% CI low") is not None and row.get("95% CI high") is not None:
        interval = f"{pct(row['95% CI low'])} to {pct(row['95% CI high'])}"
    return [label, count_text(row.get("N")), count_text(row.get("Numerator")), pct(row.get("Rate")), interval,
            cell_text(row.get("Note") or "")]


MEASURE_HEADERS = ("Measure", "N", "Numerator", "Rate", "95% CI", "Note")
OPERATIONS_HEADERS = ("Measure", "N", "Numerator", "Value", "95% CI", "Note")


def readable_table(frame: pl.DataFrame, *, operations: bool = False) -> pl.DataFrame:
    """The measures (or costs and surveys) table as the PDF prints it, for the Report page: readable
    labels, "suppressed" in a withheld row's cells, percentages with their interval, no id column."""
    headers, cells = (OPERATIONS_HEADERS, operations_cells) if operations else (MEASURE_HEADERS, measure_cells)
    rows = [cells(r) for r in frame.iter_rows(named=True)]
    return pl.DataFrame(rows, schema={h: pl.String for h in headers}, orient="row")


def operations_cells(row: Mapping[str, Any]) -> list[str]:
    """Measure, N, numerator (cost or favourable answers), value, interval, note as text."""
    label = cell_text(row["Measure"])
    if row.get("Suppressed"):
        return [label, SUPPRESSED_TEXT, SUPPRESSED_TEXT, SUPPRESSED_TEXT, SUPPRESSED_TEXT,
                cell_text(row.get("Note") or SUPPRESSED_TEXT)]
    money = row.get("Unit") == "currency"
    numerator, value = row.get("Numerator"), row.get("Value")
    interval = ""
    if row.get("95% CI low") is not None and row.get("95% CI high") is not None:
        interval = f"{pct(row['95% CI low'])} to {pct(row['95% CI high'])}"
    return [
        label, count_text(row.get("N")),
        "" if numerator is None else f"{numerator:,.2f}" if money else count_text(numerator),
        "" if value is None else f"{value:,.2f}" if money else pct(value),
        interval, cell_text(row.get("Note") or ""),
    ]


def cohort_cells(row: Mapping[str, Any]) -> list[str]:
    cells = measure_cells({**row, "Note": ""})
    return [cells[0], cell_text(row["Cohort"]), *cells[1:5]]


COHORT_HEADERS = ("Measure", "Cohort", "N", "Numerator", "Rate", "95% CI")


