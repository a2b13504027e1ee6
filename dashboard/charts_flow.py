"""Chart builders of referral flows: the funnel and the agency-to-agency heatmap.

Same conventions as :mod:`dashboard.charts` (its colours, titles, legend and suppression marks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import altair as alt
import polars as pl

from dashboard.chart_style import (
    active_theme,
    all_withheld_message,
)
from dashboard.settings import DEFAULT_MIN_CELL_SIZE
from dashboard.cells import suppression_label

# Okabe & Ito (2008), "Color Universal Design".
from dashboard.charts import (
    HEATMAP_DARK_FROM,
    HEATMAP_FILLS,
    OKABE_ITO,
    ON_DARK_FILL,
    ON_LIGHT_FILL,
    PAD,
    all_withheld,
    chart_title,
    finish_chart,
    layer_charts,
    legend_if_suppressed,
    message_chart,
    require_columns,
)


def funnel_chart(
    data: pl.DataFrame,
    *,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    stage_order: Sequence[str],
    group_title: str = "Service type",
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    width: int = 150,
) -> alt.FacetChart | alt.LayerChart:
    """The referral funnel: one bar per stage, faceted by ``group`` when given.

    ``data`` columns: ``stage`` (str in ``stage_order``), ``count`` (int or
    null), ``share`` (count / count at the first stage, float or null),
    ``suppressed`` (bool), optionally ``group`` (str). The label reads
    "1,234 (56%)"; suppressed stages read "Suppressed (n<k)".
    """
    require_columns(data, ("stage", "count", "share", "suppressed"), "funnel_chart")
    theme = active_theme()
    if all_withheld(data):
        return message_chart(title, subtitle, all_withheld_message(min_cell_size), theme, max(width, 420), data)
    label = suppression_label(min_cell_size)
    frame = data.with_columns(pl.col("suppressed").fill_null(False))
    legend = legend_if_suppressed(frame, min_cell_size)
    texts = []
    for row in frame.iter_rows(named=True):
        if row["suppressed"]:
            texts.append(label)
        elif row["count"] is None:
            texts.append("")
        elif row["share"] is None:
            texts.append(f"{row['count']:,}")
        else:
            texts.append(f"{row['count']:,} ({row['share']:.0%})")
    frame = frame.with_columns(pl.Series("label", texts, dtype=pl.String), pl.col("count").fill_null(0).alias("bar"))
    y = alt.Y("stage:N", title=None, sort=list(stage_order), axis=alt.Axis(labelLimit=220))
    tooltip = [alt.Tooltip("stage:N", title="Stage"), alt.Tooltip("count:Q", format=",d", title="Referrals"),
               alt.Tooltip("share:Q", format=".1%", title="Share of referrals made"), alt.Tooltip("label:N", title="Shown as")]
    if "group" in frame.columns:
        tooltip.insert(0, alt.Tooltip("group:N", title=group_title))
    stage_scale = alt.Scale(domain=list(stage_order), range=list(OKABE_ITO[: len(stage_order)]))
    base = alt.Chart().encode(y=y)
    bars = base.transform_filter("!datum.suppressed").mark_bar().encode(
        x=alt.X("bar:Q", title="Referrals", axis=alt.Axis(format=",d", tickMinStep=1)),
        color=alt.Color("stage:N", scale=stage_scale, legend=None),
        tooltip=tooltip,
    )
    text = base.mark_text(align="left", dx=4, fontSize=10).encode(
        x="bar:Q", text="label:N",
        color=alt.condition("datum.suppressed", alt.value(theme.muted), alt.value(theme.text)),
    )
    layered = alt.layer(bars, text, data=frame).properties(width=width, height=24 * len(stage_order) + 8)
    if "group" in frame.columns:
        faceted = layered.facet(
            facet=alt.Facet("group:N", title=group_title, header=alt.Header(labelFontWeight="bold", labelLimit=300)), columns=3
        ).properties(title=chart_title(title, subtitle, legend), autosize=PAD).resolve_scale(x="independent")
        return cast(alt.FacetChart, finish_chart(faceted, theme))
    return cast(alt.LayerChart, finish_chart(layered.properties(title=chart_title(title, subtitle, legend), autosize=PAD), theme))


def flow_heatmap(
    data: pl.DataFrame,
    *,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    row_title: str = "Referring agency",
    column_title: str = "Provider agency",
    value_title: str = "Referrals",
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    detail_title: str = "How they ended",
) -> alt.LayerChart:
    """Who refers to whom: a count per (row, column) cell with its label.

    ``data`` columns: ``row``, ``column`` (str), ``count`` (int or null),
    ``suppressed`` (bool), optionally ``detail`` (str shown in the tooltip,
    e.g. how the referrals ended). Suppressed cells are grey and read "<k".
    """
    require_columns(data, ("row", "column", "count", "suppressed"), "flow_heatmap")
    theme = active_theme()
    if all_withheld(data):
        return message_chart(title, subtitle, all_withheld_message(min_cell_size), theme, 420, data)
    frame = data.with_columns(pl.col("suppressed").fill_null(False))
    if "detail" not in frame.columns:
        frame = frame.with_columns(pl.lit("").alias("detail"))
    frame = frame.with_columns(
        pl.when(pl.col("suppressed"))
        .then(pl.lit(f"<{min_cell_size}"))
        .otherwise(pl.col("count").cast(pl.String))
        .alias("label")
    )
    rows = sorted(set(frame.get_column("row").to_list()))
    cols = sorted(set(frame.get_column("column").to_list()))
    y = alt.Y("row:N", title=row_title, sort=rows, axis=alt.Axis(labelLimit=220))
    # Column names wrap word by word under their column, so none is dropped for overlapping its neighbour.
    x = alt.X("column:N", title=column_title, sort=cols,
              axis=alt.Axis(labelAngle=0, labelLimit=94, labelExpr="split(truncate(datum.label, 60), ' ')", labelOverlap=False))
    tooltip = [
        alt.Tooltip("row:N", title=row_title),
        alt.Tooltip("column:N", title=column_title),
        alt.Tooltip("label:N", title=value_title),
        alt.Tooltip("detail:N", title=detail_title),
    ]
    base = alt.Chart(frame)
    top = max([c for c in frame.get_column("count").to_list() if c is not None], default=0)
    cells = base.transform_filter("!datum.suppressed").mark_rect().encode(
        x=x, y=y, color=alt.Color("count:Q", title=value_title, legend=None,
                                  scale=alt.Scale(type="quantize", domain=[0, top or 1], range=list(HEATMAP_FILLS))),
        tooltip=tooltip,
    )
    hidden = base.transform_filter("datum.suppressed").mark_rect(color=theme.suppressed, opacity=0.3).encode(
        x=x, y=y, tooltip=tooltip
    )
    text = base.mark_text(fontSize=11).encode(
        x=x,
        y=y,
        text="label:N",
        color=alt.when("datum.suppressed").then(alt.value(theme.muted))
        .when(f"datum.count >= {HEATMAP_DARK_FROM / len(HEATMAP_FILLS) * (top or 1)}").then(alt.value(ON_DARK_FILL))
        .otherwise(alt.value(ON_LIGHT_FILL)),
        tooltip=tooltip,
    )
    chart = layer_charts(cells, hidden, text).properties(
        title=chart_title(title, subtitle, legend_if_suppressed(frame, min_cell_size)), autosize=PAD,
        width=max(200, 96 * len(cols)), height=max(80, 26 * len(rows)),
    )
    return cast(alt.LayerChart, finish_chart(chart, theme))
