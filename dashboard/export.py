"""Exports for grant reporters: tables (CSV, XLSX), charts (PNG, SVG, PDF) and the CLI.

Every number exported comes from the metric engine, already suppressed there
(default k = 11, with complementary suppression); this module only formats.
Three promises hold for every format:

- **Suppressed cells say so.** A row flagged ``suppressed`` has its numbers
  withheld by the engine; the writers print the word ``suppressed`` in those
  cells instead of leaving them blank, so nobody pastes an empty cell as 0.
- **Spreadsheets cannot execute the data.** A text cell that begins with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (an agency name, say)
  is prefixed with a single quote, and in XLSX it is always written as a
  string cell, never a formula. Numbers are not text: ``-0.08`` stays a number.
- **Deterministic bytes.** The same frame gives byte-identical CSV, XLSX and
  SVG (the XLSX document date is fixed, rows keep their order).

The report bundle lives in :mod:`dashboard.report`; the dashboard's download
buttons call the ``*_bytes`` producers here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from dashboard import charts, views
from dashboard.cells import (
    DEFAULT_MIN_CELL_SIZE,
    SUPPRESSED_FLAG_COLUMNS,
    SUPPRESSED_TEXT,
    cell_text,
    neutralise_text,
)
from dashboard.formats import CHART_FORMATS, CHART_GROUPINGS, TABLE_FORMATS
from dashboard.metrics.definition import UNASSIGNED_LABEL
from dashboard.metrics.engine import compute_metrics, published
from dashboard.metrics.registry import METRICS_BY_ID, get_metric
from dashboard.metrics.tables import resolve_as_of
from dashboard.text import file_name_part

if TYPE_CHECKING:  # pragma: no cover
    import altair as alt

# --- fixed document date ---------------------------------------------------------

XLSX_CREATED = dt.datetime(2000, 1, 1, 0, 0, 0)
"""Fixed document date written into every XLSX so the bytes do not depend on the clock."""


# --- display table ----------------------------------------------------------------

DISPLAY_COLUMNS: tuple[str, ...] = (
    "Measure",
    "Metric ID",
    "Grouping",
    "Group",
    "N",
    "Numerator",
    "Rate",
    "95% CI low",
    "95% CI high",
    "Value",
    "Unit",
    "Suppressed",
)
"""Columns of :func:`display_table`: the reporter's view of ``compute_metrics`` output."""

PERCENT_COLUMNS: frozenset[str] = frozenset({"Rate", "95% CI low", "95% CI high"})
"""Display columns that hold proportions (0..1) and are formatted as percentages."""

GROUPING_LABELS: Mapping[tuple[str, ...], str] = {
    (): "Overall",
    ("program_id",): "Program",
    ("agency_id",): "Agency",
    ("cohort",): "Cohort",
    ("program_id", "cohort"): "Program × cohort",
}
UNASSIGNED = UNASSIGNED_LABEL  # one wording for a missing group, everywhere
COHORT_LABELS: Mapping[str, str] = {"pilot": "Pilot", "comparison": "Comparison"}
RATE_DECIMALS = 4
"""Rates and intervals are rounded to 4 decimals (0.01 percentage point) for display only."""
VALUE_DECIMALS = 2


def _group_keys(group_by: Any) -> tuple[str, ...]:
    if group_by is None:
        return ()
    if isinstance(group_by, str):
        return tuple(k for k in group_by.replace("+", ",").split(",") if k)
    return tuple(str(k) for k in group_by)


def _group_values(group: Any, keys: Sequence[str]) -> dict[str, Any]:
    if group is None:
        return {}
    if isinstance(group, Mapping):
        return dict(group)
    if isinstance(group, str):
        import json

        try:
            parsed = json.loads(group)
        except ValueError:
            return {keys[0]: group} if len(keys) == 1 else {}
        return dict(parsed) if isinstance(parsed, Mapping) else {}
    if isinstance(group, Sequence):
        return dict(zip(keys, group, strict=False))
    return {}


def _names(frame: pl.DataFrame | None, key: str, name: str) -> dict[str, str]:
    if frame is None or frame.height == 0 or key not in frame.columns or name not in frame.columns:
        return {}
    return {str(k): str(v) for k, v in frame.select(key, name).iter_rows() if k is not None and v is not None}


def group_label(
    keys: Sequence[str],
    values: Mapping[str, Any],
    *,
    program_names: Mapping[str, str] | None = None,
    agency_names: Mapping[str, str] | None = None,
) -> str:
    """Human label of a group: ``"Reentry Works (P01) / pilot"``; null keys read "Unassigned"."""
    if not keys:
        return "All"
    parts = []
    for key in keys:
        value = values.get(key)
        if value is None:
            parts.append(UNASSIGNED)
            continue
        if key == "cohort":
            parts.append(COHORT_LABELS.get(str(value), str(value)))
            continue
        text = str(value)
        lookup = program_names if key == "program_id" else agency_names if key == "agency_id" else None
        if lookup and text in lookup:
            text = f"{lookup[text]} ({text})"
        parts.append(text)
    return " / ".join(parts)


def display_table(
    metrics: pl.DataFrame,
    *,
    tables: Any | None = None,
    registry: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """``compute_metrics`` output as a table a reporter can paste from.

    One row per engine row, in the engine's order. ``N`` is the denominator
    (participant-months for the violation rate). Rates and their Wilson
    interval go to ``Rate`` / ``95% CI ...`` (proportions, shown as percentages
    in XLSX, HTML and PDF); medians and per-100 rates go to ``Value``.
    Suppressed rows keep their label and carry nulls, which every writer shows
    as "suppressed". Program and agency ids get their names from ``tables``
    when given.
    """
    registry = registry if registry is not None else metric_registry()
    program_names = _names(getattr(tables, "programs", None), "program_id", "program_name")
    agency_names = _names(getattr(tables, "agencies", None), "agency_id", "agency_name")
    rows: list[dict[str, Any]] = []
    for rec in metrics.iter_rows(named=True):
        metric_id = str(rec["metric"])
        info = registry.get(metric_id)
        unit = str(_attr(info, "unit", "") or "")
        is_rate = _is_rate_unit(unit, rec)
        keys = _group_keys(rec.get("group_by"))
        values = _group_values(rec.get("group"), keys)
        suppressed = bool(rec.get("suppressed"))
        value = rec.get("value")
        denominator = rec.get("denominator")
        rows.append(
            {
                "Measure": str(_attr(info, "label", metric_id) or metric_id),
                "Metric ID": metric_id,
                "Grouping": GROUPING_LABELS.get(keys, " × ".join(keys)),
                "Group": group_label(keys, values, program_names=program_names, agency_names=agency_names),
                "N": None if suppressed else _round_n(denominator),
                "Numerator": None if suppressed else _as_int(rec.get("numerator")),
                "Rate": None if suppressed or not is_rate else _round(value, RATE_DECIMALS),
                "95% CI low": None if suppressed or not is_rate else _round(rec.get("ci_low"), RATE_DECIMALS),
                "95% CI high": None if suppressed or not is_rate else _round(rec.get("ci_high"), RATE_DECIMALS),
                "Value": None if suppressed or is_rate else _round(value, VALUE_DECIMALS),
                "Unit": unit,
                "Suppressed": suppressed,
            }
        )
    schema: dict[str, pl.DataType] = {
        "Measure": pl.String(),
        "Metric ID": pl.String(),
        "Grouping": pl.String(),
        "Group": pl.String(),
        "N": pl.Float64(),
        "Numerator": pl.Int64(),
        "Rate": pl.Float64(),
        "95% CI low": pl.Float64(),
        "95% CI high": pl.Float64(),
        "Value": pl.Float64(),
        "Unit": pl.String(),
        "Suppressed": pl.Boolean(),
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    # N is a count everywhere but the violation rate's participant-months:
    # keep it an integer column when every N is whole.
    n_values = [v for v in frame["N"].to_list() if v is not None]
    if all(float(v).is_integer() for v in n_values):
        frame = frame.with_columns(pl.col("N").cast(pl.Int64))
    return frame


def _attr(obj: Any, name: str, default: Any) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _is_rate_unit(unit: str, rec: Mapping[str, Any]) -> bool:
    """Proportions (registry unit ``rate``) go to the Rate column; other units to Value.

    Without a registry entry, a row with an interval is taken as a rate.
    """
    if unit:
        return unit.lower() == "rate"
    return rec.get("ci_low") is not None or rec.get("ci_high") is not None


def _round(value: Any, digits: int) -> float | None:
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        return None
    return round(number, digits)


def _round_n(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if number.is_integer() else round(number, 1)


def _as_int(value: Any) -> int | None:
    if value is None:
        return None
    return int(round(float(value)))


def metric_registry() -> dict[str, Any]:
    """The metric registry keyed by id: labels, units and definitions come from there only."""
    return dict(METRICS_BY_ID)


# --- cell rendering shared by the writers ---------------------------------------------


def _suppressed_rows(frame: pl.DataFrame) -> list[bool]:
    for name in SUPPRESSED_FLAG_COLUMNS:
        if name in frame.columns and frame.schema[name] == pl.Boolean:
            return [bool(v) for v in frame[name].to_list()]
    return [False] * frame.height


# --- CSV ------------------------------------------------------------------------------


def table_to_csv(frame: pl.DataFrame) -> bytes:
    """RFC 4180 CSV (CRLF, minimal quoting), UTF-8 with a byte-order mark so Excel reads accents.

    Dates are ``YYYY-MM-DD``; booleans ``true``/``false``; numbers in plain
    notation with full stored precision; null is empty; withheld numbers in
    suppressed rows read ``suppressed``. Text is neutralised against formulas.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise_text(str(c)) for c in frame.columns])
    flags = _suppressed_rows(frame)
    flag_col = _flag_column(frame)
    for row, suppressed in zip(frame.iter_rows(), flags, strict=True):
        writer.writerow(
            [
                _flag_text(v) if name == flag_col else cell_text(v, suppressed_row=suppressed)
                for name, v in zip(frame.columns, row, strict=True)
            ]
        )
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _flag_column(frame: pl.DataFrame) -> str | None:
    for name in SUPPRESSED_FLAG_COLUMNS:
        if name in frame.columns and frame.schema[name] == pl.Boolean:
            return name
    return None


def _flag_text(value: Any) -> str:
    """The suppression flag column itself: ``suppressed`` or empty."""
    return SUPPRESSED_TEXT if value else ""


# --- XLSX -----------------------------------------------------------------------------

XLSX_PERCENT_FORMAT = "0.0%"
XLSX_INTEGER_FORMAT = "#,##0"
XLSX_FLOAT_FORMAT = "#,##0.0#"
XLSX_DATE_FORMAT = "yyyy-mm-dd"
MIN_COLUMN_WIDTH = 6
MAX_COLUMN_WIDTH = 60


def table_to_xlsx(
    frame: pl.DataFrame,
    *,
    sheet_name: str,
    percent_columns: Collection[str] | None = None,
    notes: Sequence[str] = (),
) -> bytes:
    """One-sheet workbook with typed cells, deterministic bytes.

    Integers and floats are numbers (proportions in ``percent_columns`` —
    by default the display table's rate and interval columns — formatted
    ``0.0%``), dates are dates, booleans are booleans, text is always a string
    cell (never a formula, URL or number, and neutralised). The header row is
    bold and frozen, columns are sized to their content, and an autofilter is
    set. Withheld numbers in suppressed rows are the text "suppressed".
    ``notes`` are written as text lines below the table (e.g. the suppression
    note), leaving one empty row.
    """
    import xlsxwriter

    percent = set(PERCENT_COLUMNS if percent_columns is None else percent_columns)
    buf = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": False,
        },
    )
    workbook.set_properties({"created": XLSX_CREATED, "title": sheet_name})
    worksheet = workbook.add_worksheet(_safe_sheet_name(sheet_name))
    header_fmt = workbook.add_format({"bold": True, "bottom": 1, "text_wrap": False})
    formats = {
        "percent": workbook.add_format({"num_format": XLSX_PERCENT_FORMAT}),
        "int": workbook.add_format({"num_format": XLSX_INTEGER_FORMAT}),
        "float": workbook.add_format({"num_format": XLSX_FLOAT_FORMAT}),
        "date": workbook.add_format({"num_format": XLSX_DATE_FORMAT}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        "suppressed": workbook.add_format({"italic": True, "font_color": "#595959", "align": "right"}),
    }
    widths = [len(str(c)) for c in frame.columns]
    for col, name in enumerate(frame.columns):
        worksheet.write_string(0, col, neutralise_text(str(name)), header_fmt)
    flags = _suppressed_rows(frame)
    flag_col = _flag_column(frame)
    for r, (row, suppressed) in enumerate(zip(frame.iter_rows(), flags, strict=True), start=1):
        for c, (name, value) in enumerate(zip(frame.columns, row, strict=True)):
            if name == flag_col:
                text = _flag_text(value)
                if text:
                    worksheet.write_string(r, c, text, formats["suppressed"])
                widths[c] = max(widths[c], len(text))
                continue
            width = _write_xlsx_cell(
                worksheet, r, c, value, suppressed_row=suppressed,
                percent=name in percent, dtype=frame.schema[name], formats=formats,
            )
            widths[c] = max(widths[c], width)
    for c, width in enumerate(widths):
        worksheet.set_column(c, c, max(MIN_COLUMN_WIDTH, min(MAX_COLUMN_WIDTH, width + 2)))
    worksheet.freeze_panes(1, 0)
    if frame.width:
        worksheet.autofilter(0, 0, max(frame.height, 1), frame.width - 1)
    for i, note in enumerate(notes):
        worksheet.write_string(frame.height + 2 + i, 0, neutralise_text(note))
    workbook.close()
    return buf.getvalue()


def _write_xlsx_cell(
    worksheet: Any,
    r: int,
    c: int,
    value: Any,
    *,
    suppressed_row: bool,
    percent: bool,
    dtype: pl.DataType,
    formats: Mapping[str, Any],
) -> int:
    """Write one typed cell; returns the display width used for column sizing.

    In a suppressed row every number is withheld (written as the word), even
    when the caller passed the engine's output without blanking it.
    """
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if suppressed_row and (value is None or is_number):
        worksheet.write_string(r, c, SUPPRESSED_TEXT, formats["suppressed"])
        return len(SUPPRESSED_TEXT)
    if value is None:
        worksheet.write_blank(r, c, None)
        return 0
    if isinstance(value, bool):
        worksheet.write_boolean(r, c, value)
        return 5
    if isinstance(value, int):
        worksheet.write_number(r, c, value, formats["int"])
        return len(f"{value:,}")
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            worksheet.write_blank(r, c, None)
            return 0
        if percent:
            worksheet.write_number(r, c, value, formats["percent"])
            return len(f"{value * 100:.1f}%")
        fmt = formats["int"] if value.is_integer() else formats["float"]
        worksheet.write_number(r, c, value, fmt)
        return len(f"{value:,.2f}")
    if isinstance(value, dt.datetime):
        worksheet.write_datetime(r, c, value, formats["datetime"])
        return 19
    if isinstance(value, dt.date):
        worksheet.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), formats["date"])
        return 10
    text = cell_text(value)
    worksheet.write_string(r, c, text)
    return max((len(line) for line in text.splitlines()), default=0)


def _safe_sheet_name(name: str) -> str:
    """Excel sheet names: at most 31 characters, none of ``[]:*?/\\``, not starting with a quote."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'") or "Sheet1"
    return cleaned[:31]


# --- charts ---------------------------------------------------------------------------

ChartFormat = Literal["png", "svg", "pdf"]
PRINT_DPI = 300
VEGA_POINTS_PER_INCH = 72
"""vl-convert lays a chart out at one CSS pixel per point, i.e. 72 pixels per inch of print."""


def chart_to_bytes(chart: alt.TopLevelMixin, fmt: str, *, dpi: int = PRINT_DPI) -> bytes:
    """Render an Altair chart offline with vl-convert.

    - ``png``: print resolution. The chart's size in pixels is its print size
      in points (1/72 inch, as in the PDF), so the bitmap is rendered at
      ``dpi / 72`` times the pixel size (about 4.2× for 300 dpi) and the file
      records ``dpi`` in its ``pHYs`` chunk: a 400-pixel-wide chart prints
      5.6 inches wide, sharp.
    - ``svg``: vector, deterministic (same chart, same bytes), UTF-8.
    - ``pdf``: vector, one page the size of the chart.
    """
    fmt = fmt.lower()
    if fmt not in CHART_FORMATS:
        raise ValueError(f"unknown chart format {fmt!r}; choose one of: {', '.join(CHART_FORMATS)}")
    if fmt == "svg":
        text = io.StringIO()
        chart.save(text, format="svg")
        return text.getvalue().encode("utf-8")
    buf = io.BytesIO()
    if fmt == "png":
        # vl-convert multiplies the pixel size by ppi / 72 and writes ppi into pHYs.
        chart.save(buf, format="png", ppi=dpi)
    else:
        chart.save(buf, format="pdf")
    return buf.getvalue()


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels from a PNG's IHDR chunk (raises on anything else)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG file: the signature or IHDR header is missing")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


# --- bytes producers for the dashboard's download buttons --------------------------------

MIME_TYPES: Mapping[str, str] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "html": "text/html",
    "zip": "application/zip",
}


def table_bytes(frame: pl.DataFrame, fmt: str, *, sheet_name: str = "Table") -> bytes:
    """``frame`` as CSV or XLSX bytes (for ``st.download_button``)."""
    fmt = fmt.lower()
    if fmt == "csv":
        return table_to_csv(frame)
    if fmt == "xlsx":
        return table_to_xlsx(frame, sheet_name=sheet_name)
    raise ValueError(f"unknown table format {fmt!r}; choose one of: {', '.join(TABLE_FORMATS)}")


def table_producer(frame: pl.DataFrame, fmt: str, *, sheet_name: str = "Table") -> Callable[[], bytes]:
    """A zero-argument callable for ``st.download_button(data=..., on_click="ignore")``:
    the file is built only when the user clicks."""
    return lambda: table_bytes(frame, fmt, sheet_name=sheet_name)


def chart_producer(chart: alt.TopLevelMixin, fmt: str) -> Callable[[], bytes]:
    """Deferred :func:`chart_to_bytes` for a download button."""
    return lambda: chart_to_bytes(chart, fmt)


def download_filename(stem: str, fmt: str) -> str:
    """A file name safe on every OS: ASCII letters, digits, ``-`` and ``_`` only, at most 120
    characters before the suffix (see ``dashboard.text.file_name_part``)."""
    return f"{file_name_part(stem, 120)}.{fmt.lower()}"


# --- one metric's chart and table (the export command and the pages call these) ----------

_CHART_UNITS: Mapping[str, str] = {"rate": "rate", "days": "days", "per_100_participant_months": "per_100_pm",
                                   "currency": "money", "participants_per_officer": "ratio"}


class ExportError(ValueError):
    """A problem with the user's request; the message says what to change."""


def metric_chart(
    tables: Any, filters: Any, metric_id: str, *, by: str = "program-cohort", min_cell_size: int = DEFAULT_MIN_CELL_SIZE
) -> alt.LayerChart:
    """The chart of one metric by program/agency/cohort, from the engine's suppressed rows."""
    info = get_metric(metric_id)
    category, series = CHART_GROUPINGS[by]
    keys = (category,) if series is None else (category, series)
    if keys not in info.groupings:
        shown = [f"--by {b}" for b, (c, s_) in CHART_GROUPINGS.items() if ((c,) if s_ is None else (c, s_)) in info.groupings]
        raise ExportError(f"{metric_id} is not reported by {' and '.join(keys)}; use {' or '.join(shown)}")
    frame = published(compute_metrics(tables, filters, min_cell_size=min_cell_size, metric_ids=[metric_id]))
    rows = views.metric_rows(frame, metric_id, keys)
    names = {
        "program_id": _names(tables.programs, "program_id", "program_name"),
        "agency_id": _names(tables.agencies, "agency_id", "agency_name"),
    }.get(category, {})
    labels: dict[str | None, str] = {k: neutralise_text(f"{v} ({k})") for k, v in names.items()}
    if category == "cohort":
        labels.update(COHORT_LABELS)
    data = views.chart_frame(rows, category=category, labels=labels, series=series)
    as_of = resolve_as_of(tables, filters.as_of)
    period = (
        f"{filters.start or 'start'} to {filters.end or as_of}" if (filters.start or filters.end) else "all dates"
    )
    title_by = {"program": "program", "agency": "agency", "cohort": "cohort",
                "program-cohort": "program and cohort"}[by]
    return charts.rate_bars(
        data,
        title=f"{info.label} by {title_by}",
        subtitle=f"{period}; data as of {as_of}; {'95% intervals; ' if info.has_interval else ''}"
        f"cells under {min_cell_size} suppressed",
        category_title={"program_id": "Program", "agency_id": "Agency", "cohort": "Cohort"}[category],
        value_title=info.label,
        unit=_CHART_UNITS.get(info.unit, "rate"),  # type: ignore[arg-type]
        min_cell_size=min_cell_size,
    )


def metrics_display_table(
    tables: Any, filters: Any, *, metric_ids: Sequence[str] | None = None, min_cell_size: int = DEFAULT_MIN_CELL_SIZE
) -> pl.DataFrame:
    """The engine's rows for ``metric_ids`` (default all), suppressed, as a display table."""
    frame = published(compute_metrics(tables, filters, min_cell_size=min_cell_size, metric_ids=metric_ids))
    return display_table(frame, tables=tables)
