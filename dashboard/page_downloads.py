"""A chart or table on a page with numeric downloads that name their filters (docs/exports.md).

Same controls as ``app_page.show_chart`` / ``show_table`` (definition popover, access-logged
downloads), with what issue 15 asks of the files:

- chart images carry the program, filters, period and as-of date in a subtitle line;
- chart data and tables download as numbers (``dashboard.export_numeric``): typed columns with
  readable headers, suppressed cells empty with a Status column, a header block;
- every file name carries the filters and the as-of date (ASCII, see ``dashboard.text``).

The chart on the page keeps its own size (``width="content"``, as ``app_page.show_chart``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
import streamlit as st

from dashboard import app_links, app_page, app_state, views
from dashboard import export_numeric as numeric
from dashboard.text import label_text

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _context() -> Any:
    return st.session_state.get(app_state.CONTEXT_KEY)  # the page's context, set by page_context


def about(title: str, ctx: Any | None = None) -> numeric.ExportAbout:
    """The header block and file-name parts of a download made under the page's filters."""
    ctx = ctx if ctx is not None else _context()
    filters = ctx.filters
    programs = [f"{label_text(ctx.program_names.get(p, p))} ({label_text(p, 40)})" for p in filters.program_ids]
    period = (f"{filters.start or 'earliest'} to {filters.end or ctx.as_of}"
              if filters.start or filters.end else "all dates up to the as-of date")
    parts: list[str] = [*filters.program_ids, *filters.agency_ids]
    for label, values in (("cohort", filters.cohorts), ("risk", filters.risk_levels),
                          ("supervision", filters.supervision_types)):
        if values:
            parts.append(f"{label}-" + "-".join(str(v) for v in values))
    if filters.start or filters.end:
        parts.append(f"{filters.start or 'start'}-to-{filters.end or 'asof'}")
    return numeric.ExportAbout(
        title=title,
        program=", ".join(programs) if programs else "All programs",
        filters=app_links.describe_filters(filters, ctx.program_names, ctx.agency_names),
        period=period, as_of=ctx.as_of, min_cell_size=ctx.min_cell_size, file_parts=tuple(parts),
    )


def _chart_title(chart: Any, key: str) -> str:
    title = getattr(chart, "title", None)
    text = getattr(title, "text", None)
    if isinstance(text, list):
        return " ".join(str(t) for t in text)
    return str(text) if isinstance(text, str) else views.humanise(key)


def show_chart(
    chart: Any, data: pl.DataFrame, *, key: str, metric_ids: Sequence[str] = (), note: str | None = None
) -> None:
    """The chart, its definition, and downloads: PNG, SVG, PDF naming the filters; data as numbers."""
    from dashboard.export import chart_producer

    st.vega_lite_chart(chart.to_dict(validate=False), width="content", theme="streamlit")
    info = about(_chart_title(chart, key))
    image = numeric.chart_with_subtitle(chart, info.subtitle())
    table = numeric.chart_data_table(data)
    app_page.download_controls(
        metric_ids,
        [
            ("Chart as PNG", chart_producer(image, "png"), info.file_name(key, "png"), "image/png"),
            ("Chart as SVG", chart_producer(image, "svg"), info.file_name(key, "svg"), "image/svg+xml"),
            ("Chart as PDF", chart_producer(image, "pdf"), info.file_name(key, "pdf"), "application/pdf"),
            ("Chart data as CSV", lambda: numeric.to_csv(table, info), info.file_name(key, "csv"), "text/csv"),
            ("Chart data as XLSX", lambda: numeric.to_xlsx(table, info), info.file_name(key, "xlsx"), XLSX_MIME),
        ],
        note,
        rows=data.height,
    )


def show_table(
    frame: pl.DataFrame, download: pl.DataFrame, *, key: str, title: str, metric_ids: Sequence[str] = ()
) -> None:
    """``frame`` as the reader sees it ("53.0% (n=593)"), ``download`` (numbers) in the files."""
    st.dataframe(frame, hide_index=True, width="stretch", height=min(36 * (frame.height + 1) + 4, 720))
    info = about(title)
    app_page.download_controls(metric_ids, [
        ("Table as CSV", lambda: numeric.to_csv(download, info), info.file_name(key, "csv"), "text/csv"),
        ("Table as XLSX", lambda: numeric.to_xlsx(download, info), info.file_name(key, "xlsx"), XLSX_MIME),
    ], rows=download.height)
