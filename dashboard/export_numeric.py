"""Numeric downloads of the dashboard's tables and chart data (docs/exports.md, "Numeric downloads").

The on-page tables are written for a person ("53.0% (n=593)"); their downloads are written for a
spreadsheet: every rate, interval bound and N in its own typed column under a readable header,
rounded once, a suppressed cell empty with ``suppressed`` in the row's Status column (never a
number), and a header block naming the program, the filters, the period and the as-of date:

- CSV: leading ``# `` comment lines (one cell each), then the table (UTF-8 with BOM, CRLF);
- XLSX: the table on the first sheet, an "About" sheet with the same lines.

Text cells are neutralised against formulas exactly as in :mod:`dashboard.export`. Every number
comes from the metric engine; nothing here computes one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from dashboard.export import SUPPRESSED_TEXT, XLSX_CREATED, neutralise_text
from dashboard.metrics.definition import UNASSIGNED_LABEL
from dashboard.text import file_name_part

PUBLISHED = "published"
NO_RECORDS = "no records"
STATUS = "Status"
DECIMALS = 4
"""Rates, shares and interval bounds are rounded to 4 decimals (0.01 percentage point); other
values (days, money, ratios) to 2."""
OTHER_DECIMALS = 2


@dataclass(frozen=True)
class ExportAbout:
    """What a download says about itself: where it comes from and under which filters."""

    title: str
    program: str  # "Reentry Works (P01)" or "All programs"
    filters: str  # the sidebar filters in words
    period: str  # "2025-01-01 to 2025-03-31" or "all dates up to the as-of date"
    as_of: dt.date
    min_cell_size: int
    file_parts: tuple[str, ...] = ()  # ASCII-safe pieces for the file name (ids, dates)

    def lines(self) -> list[str]:
        return [
            self.title,
            f"Program: {self.program}",
            f"Filters: {self.filters}",
            f"Period: {self.period}",
            f"Data as of: {self.as_of.isoformat()}",
            f"Suppression: cells under {self.min_cell_size} are withheld (left empty with Status = suppressed)",
        ]

    def subtitle(self) -> str:
        """One line for a chart image: program, filters, period and as-of."""
        return f"{self.program} · {self.filters} · {self.period} · data as of {self.as_of.isoformat()}"

    def file_name(self, key: str, fmt: str) -> str:
        """``key`` plus the filters and the as-of date, ASCII letters, digits, ``-`` and ``_`` only."""
        parts = [key, *self.file_parts, f"asof-{self.as_of.isoformat()}"]
        return f"{file_name_part('_'.join(p for p in parts if p), 160)}.{fmt.lower()}"


# --- numeric frames ---------------------------------------------------------------------------

CHART_HEADERS: Mapping[str, str] = {
    "category": "Group",
    "series": "Series",
    "period": "Period",
    "stage": "Stage",
    "group": "Group",
    "row": "From",
    "column": "To",
    "day": "Day",
    "value": "Value",
    "survival": "Share without the event",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "numerator": "Numerator",
    "denominator": "N",
    "count": "Count",
    "share": "Share",
    "at_risk": "Number at risk",
    "note": "Note",
    "detail": "Detail",
}
_DROP = ("label", "label_at", "domain_max", "bar", "any_suppressed")
_FOUR_DECIMALS = ("value", "ci_low", "ci_high", "share", "survival")


def _header(name: str) -> str:
    return CHART_HEADERS.get(name, name.replace("_", " ").capitalize())


def chart_data_table(data: pl.DataFrame) -> pl.DataFrame:
    """A chart's data as a spreadsheet reads it: readable headers, rounded numbers, Status column.

    In a suppressed row every number is null (the engine already withheld them; this is the
    safety net) and Status says ``suppressed``. Columns the chart only uses to draw are dropped.
    """
    frame = data.drop([c for c in _DROP if c in data.columns])
    flag = frame.get_column("suppressed").fill_null(False) if "suppressed" in frame.columns else None
    numeric = [c for c, t in frame.schema.items() if t.is_numeric() and c != "suppressed"]
    exprs = []
    for name in numeric:
        col = pl.col(name)
        if frame.schema[name].is_float():
            col = col.round(DECIMALS if name in _FOUR_DECIMALS else OTHER_DECIMALS)
        if flag is not None:
            col = pl.when(pl.col("suppressed").fill_null(False)).then(None).otherwise(col)
        exprs.append(col.alias(name))
    if exprs:
        frame = frame.with_columns(exprs)
    if flag is not None:
        frame = frame.with_columns(
            pl.when(pl.col("suppressed").fill_null(False)).then(pl.lit(SUPPRESSED_TEXT))
            .otherwise(pl.lit(PUBLISHED)).alias(STATUS)
        ).drop("suppressed")
    return frame.rename({c: _header(c) for c in frame.columns if c != STATUS})


def metric_table(
    frame: pl.DataFrame,
    metrics: Sequence[tuple[str, str, str]],
    *,
    key: str,
    key_title: str,
    names: Mapping[Any, str],
    unassigned: str = UNASSIGNED_LABEL,
) -> pl.DataFrame:
    """The numeric twin of ``views_evaluation.wide_metric_table``: one row per group and metric.

    Columns: ``key_title``, Measure, Rate (or Value for a metric that is not a proportion),
    95% CI low, 95% CI high, Numerator, N, Status (``published``, ``suppressed`` or
    ``no records`` when the engine has no row for that group and metric).
    """
    from dashboard.views import metric_rows

    order: list[str | None] = []
    per_metric: dict[str, dict[str | None, dict[str, Any]]] = {}
    for metric_id, _, _ in metrics:
        rows = metric_rows(frame, metric_id, (key,))
        per_metric[metric_id] = {r[key]: r for r in rows.iter_rows(named=True)}
        order += [g for g in per_metric[metric_id] if g not in order]
    value_name = "Rate" if all(unit == "rate" for _, _, unit in metrics) else "Value"
    records = []
    for group in order:
        for metric_id, label, unit in metrics:
            row = per_metric[metric_id].get(group)
            withheld = row is None or bool(row.get("suppressed"))
            digits = DECIMALS if unit == "rate" else OTHER_DECIMALS
            source = None if withheld else row
            numerator = _rounded(source, "numerator", 0)
            records.append({
                key_title: names.get(group, group if group is not None else unassigned),
                "Measure": label,
                value_name: _rounded(source, "value", digits),
                "95% CI low": _rounded(source, "ci_low", digits),
                "95% CI high": _rounded(source, "ci_high", digits),
                "Numerator": None if numerator is None else int(numerator),
                "N": _rounded(source, "denominator", 1),
                STATUS: NO_RECORDS if row is None else SUPPRESSED_TEXT if row.get("suppressed") else PUBLISHED,
            })
    schema = {key_title: pl.String, "Measure": pl.String, value_name: pl.Float64, "95% CI low": pl.Float64,
              "95% CI high": pl.Float64, "Numerator": pl.Int64, "N": pl.Float64, STATUS: pl.String}
    out = pl.DataFrame(records, schema=schema, orient="row")
    if all(float(v).is_integer() for v in out.get_column("N").drop_nulls().to_list()):
        out = out.with_columns(pl.col("N").cast(pl.Int64))
    return out


def _rounded(row: Mapping[str, Any] | None, field: str, digits: int) -> float | None:
    """``row[field]`` rounded, or None when the row is withheld or the value is missing."""
    value = None if row is None else row.get(field)
    return None if value is None or math.isnan(float(value)) else round(float(value), digits)


# --- writers -------------------------------------------------------------------------------------


def _number_text(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return ""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise_text(str(value))


def about_comment(line: str) -> str:
    """A header line as a CSV comment: ``# `` first, commas and double quotes replaced so the line
    stays one unquoted cell and every CSV reader's comment option (pandas ``comment="#"``, R
    ``comment.char="#"``) skips it."""
    return "# " + line.replace('"', "'").replace(",", ";").replace("\r", " ").replace("\n", " ")


def to_csv(frame: pl.DataFrame, about: ExportAbout) -> bytes:
    """The header block as ``#`` lines, then the table: UTF-8 with BOM, RFC 4180, CRLF."""
    buf = io.StringIO()
    for line in about.lines():
        buf.write(about_comment(line) + "\r\n")
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise_text(str(c)) for c in frame.columns])
    for row in frame.iter_rows():
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


PERCENT_HEADERS = ("Rate", "95% CI low", "95% CI high", "Share", "Share without the event")
_PERCENT_ENDINGS = (" rate", " share", " 95% CI low", " 95% CI high", "Difference (pilot - comparison)",
                    "Risk-adjusted difference")


def is_percent_header(name: str) -> bool:
    """Whether an XLSX column holds proportions (formatted ``0.0%``, the cell keeps the proportion)."""
    return name in PERCENT_HEADERS or name.endswith(_PERCENT_ENDINGS)


def to_xlsx(frame: pl.DataFrame, about: ExportAbout, *, sheet_name: str = "Data") -> bytes:
    """The table on the first sheet (typed cells, header bold and frozen, autofilter; rates as
    ``0.0%`` keeping the proportion) and an "About" sheet with the header block. Deterministic."""
    import xlsxwriter

    buf = io.BytesIO()
    workbook = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False})
    workbook.set_properties({"created": XLSX_CREATED, "title": about.title})
    bold = workbook.add_format({"bold": True, "bottom": 1})
    formats = {"percent": workbook.add_format({"num_format": "0.0%"}),
               "int": workbook.add_format({"num_format": "#,##0"}),
               "float": workbook.add_format({"num_format": "#,##0.0#"})}
    sheet = workbook.add_worksheet(sheet_name[:31])
    widths = [len(str(c)) for c in frame.columns]
    for c, name in enumerate(frame.columns):
        sheet.write_string(0, c, neutralise_text(str(name)), bold)
    for r, row in enumerate(frame.iter_rows(), start=1):
        for c, (name, value) in enumerate(zip(frame.columns, row, strict=True)):
            if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
                sheet.write_blank(r, c, None)
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                text = _cell(value)
                sheet.write_string(r, c, text)
                widths[c] = max(widths[c], len(text))
                continue
            fmt = formats["percent"] if is_percent_header(name) else (
                formats["int"] if float(value).is_integer() else formats["float"])
            sheet.write_number(r, c, value, fmt)
            widths[c] = max(widths[c], len(f"{value:,.2f}"))
    for c, width in enumerate(widths):
        sheet.set_column(c, c, max(6, min(60, width + 2)))
    sheet.freeze_panes(1, 0)
    if frame.width:
        sheet.autofilter(0, 0, max(frame.height, 1), frame.width - 1)
    info = workbook.add_worksheet("About")
    info.set_column(0, 0, 100)
    for r, line in enumerate(about.lines()):
        info.write_string(r, 0, neutralise_text(line), bold if r == 0 else None)
    workbook.close()
    return buf.getvalue()


def to_bytes(frame: pl.DataFrame, about: ExportAbout, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(frame, about)
    if fmt == "xlsx":
        return to_xlsx(frame, about)
    raise ValueError(f"unknown table format {fmt!r}; choose csv or xlsx")


def chart_with_subtitle(chart: Any, line: str) -> Any:
    """A copy of ``chart`` whose subtitle ends with ``line`` (program, filters, as-of for an image)."""
    import altair as alt

    from dashboard.chart_style import wrap_lines
    from dashboard.text import chart_text

    added = wrap_lines(chart_text(line, 200))
    out = chart.copy(deep=True)
    title = out.title
    if isinstance(title, alt.TitleParams):
        sub = title.subtitle
        lines = [sub] if isinstance(sub, str) else list(sub) if isinstance(sub, list) else []
        out.title = alt.TitleParams(**{**title.to_dict(), "subtitle": [*lines, *added]})
    else:
        out.title = alt.TitleParams(text=title if isinstance(title, str | list) else "", subtitle=added,
                                    anchor="start")
    return out
