"""A chart or table on a page with numeric downloads that name their filters (docs/exports.md).

The definition popover and access-logged downloads (``app_page.download_controls``), with what
issue 15 asks of the files:

- chart images carry the program, filters, period and as-of date in a subtitle line;
- chart data and tables download as numbers (``dashboard.export_numeric``): typed columns with
  readable headers, suppressed cells empty with a Status column, a header block;
- every file name carries the filters and the as-of date (ASCII, see ``dashboard.text``).

This is the one way a page shows a chart or a table with downloads (``show_chart``, ``show_table``,
``show_survival_tabs``); ``app_page.download_controls`` draws the row under each. A chart keeps its own size on the page unless it sits in a column
(``width="stretch"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def _page_spec(chart: Any, width: str) -> dict[str, Any]:
    """The chart's Vega-Lite spec for the page. With ``width="stretch"`` Streamlit sets the spec's
    width to the column; the builders ask for autosize "pad" (axes, labels and legend added outside
    that width), which would spill over the neighbouring column, so a single or layered chart is
    made to fit its column across ("fit-x", its height as built) with them inside, and a legend
    across its top wraps in two columns (a long name cut with "…"). Concatenated and faceted charts keep their own
    sizing (Vega-Lite cannot fit them)."""
    spec = chart.to_dict(validate=False)
    composite = any(k in spec for k in ("vconcat", "hconcat", "concat", "facet", "repeat"))
    if width == "stretch" and not composite:
        spec["autosize"] = {"type": "fit-x", "contains": "padding"}
        for layer in [spec, *spec.get("layer", [])]:  # a legend across the top wraps in two columns
            legend = layer.get("encoding", {}).get("color", {}).get("legend")
            if isinstance(legend, dict) and legend.get("orient") in ("top", "bottom") and "columns" not in legend:
                legend["columns"] = 2
                legend["labelLimit"] = min(int(legend.get("labelLimit") or 150), 150)  # ends in "…"
    return spec


def show_chart(
    chart: Any,
    data: pl.DataFrame,
    *,
    key: str,
    metric_ids: Sequence[str] = (),
    note: str | None = None,
    width: str = "content",
) -> None:
    """The chart, its definition, and downloads: PNG, SVG, PDF naming the filters; data as numbers.

    ``width``: ``"content"`` keeps the chart's own size (a chart the full width of the page);
    ``"stretch"`` fits it to its column (charts side by side in ``st.columns``). The downloaded
    images keep the chart's own size either way. The chart sits in a container keyed
    ``chart_<key>`` (tests find it by that key)."""
    from dashboard.export import chart_producer

    with st.container(key=f"chart_{key}"):
        st.vega_lite_chart(_page_spec(chart, width), width="stretch" if width == "stretch" else "content",
                           theme="streamlit")
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
    frame: pl.DataFrame,
    download: pl.DataFrame | None = None,
    *,
    key: str,
    title: str | None = None,
    metric_ids: Sequence[str] = (),
) -> None:
    """``frame`` as the reader sees it ("53.0% (n=593)"), ``download`` (its numbers) in the files.

    The table is drawn by ``page_style.table`` (keyed ``table_<key>``, with its print copy). A table
    without numbers (lists, load runs) passes no ``download`` and downloads as shown; its files
    still carry the header block and the filters in their names. Never participant rows."""
    from dashboard import page_style

    page_style.table(frame, key=key, height=min(36 * (frame.height + 1) + 4, 720))
    table = frame if download is None else download
    info = about(title or views.humanise(key))
    app_page.download_controls(metric_ids, [
        ("Table as CSV", lambda: numeric.to_csv(table, info), info.file_name(key, "csv"), "text/csv"),
        ("Table as XLSX", lambda: numeric.to_xlsx(table, info), info.file_name(key, "xlsx"), XLSX_MIME),
    ], rows=table.height)


def show_survival_tabs(
    evaluation: dict[str, Any],
    measures: dict[str, str],
    *,
    key_prefix: str,
    title: Callable[[str], str],
    note: Callable[[str], str],
    empty: Callable[[str], str],
) -> None:
    """One tab per recidivism measure: its Kaplan–Meier chart from the evaluation (withheld
    cohorts named), or a message when no estimate can be shown. ``title``, ``note`` and
    ``empty`` word the chart for the page (they take the measure id). Downloads as every chart's:
    images naming the filters, the points as numbers (``show_chart``)."""
    from dashboard import charts_evaluation, views_evaluation

    for tab, (measure, label) in zip(st.tabs(list(measures.values())), measures.items()):
        with tab:
            points, withheld = views_evaluation.survival_frame(evaluation, measure)
            subtitle = [views_evaluation.survival_n_text(evaluation, measure) + ".", note(measure)]
            if withheld:
                subtitle.append("Withheld (small cells): " + ", ".join(withheld))
            if points.height:
                chart = charts_evaluation.survival_chart(points, title=title(measure), subtitle=subtitle,
                                              value_title=f"Share without {label.lower()}")
                show_chart(chart, points, key=f"{key_prefix}_{measure}_survival",
                           metric_ids=[f"recidivism_{measure}_12m"])
            else:
                st.info(empty(measure))
