"""Chart builders of the pilot evaluation: Kaplan–Meier survival steps and pilot − comparison differences.

Same conventions as :mod:`dashboard.charts` (its colours, titles, legend and suppression marks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, cast

import altair as alt
import polars as pl

from dashboard.chart_style import (
    active_theme,
)

# Okabe & Ito (2008), "Color Universal Design".
from dashboard.charts import (
    OKABE_ITO,
    PAD,
    chart_title,
    finish_chart,
    layer_charts,
    ordered_values,
    require_columns,
    series_colours,
)


def survival_chart(
    data: pl.DataFrame,
    *,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    value_title: str = "Share without the event (Kaplan–Meier)",
    step: bool = True,
    width: int = 520,
    height: int = 260,
) -> alt.VConcatChart:
    """Kaplan–Meier survival by cohort: a step function with its 95% band, numbers at risk below.

    ``data`` columns: ``series`` (cohort), ``day`` (int), ``survival``,
    ``ci_low``, ``ci_high`` (float), ``at_risk`` (int; null where the views
    withheld a number at risk of 1 to k − 1, drawn as "suppressed").
    Suppressed cohorts must already be left out by the caller (and named in
    the subtitle).

    A Kaplan–Meier estimate stays flat until the next event, so the curve is
    drawn ``step-after`` from each point to the next (docs/metrics.md,
    survival); ``step=False`` joins the points with straight lines instead.
    The table of numbers at risk under the plot shares its day axis.
    """
    require_columns(data, ("series", "day", "survival", "ci_low", "ci_high", "at_risk"), "survival_chart")
    theme = active_theme()
    frame = data.select("series", "day", "survival", "ci_low", "ci_high", "at_risk")
    series = ordered_values(frame.get_column("series").cast(pl.String).to_list())
    lows = [v for v in frame.get_column("ci_low").to_list() if v is not None]
    floor = max(0.0, min(lows, default=0.0) - 0.05)
    days = [d for d in frame.get_column("day").to_list() if d is not None]
    x_scale = alt.Scale(domain=[0, max(days, default=1) or 1])
    x = alt.X("day:Q", title="Days since index date (release, else enrollment)", scale=x_scale)
    y_scale = alt.Scale(domain=[floor, 1.0])
    y_axis = alt.Axis(format=".0%", title=value_title)
    colour = alt.Color("series:N", title="Cohort", scale=series_colours(series),
                       legend=alt.Legend(orient="top", symbolOpacity=1))
    tooltip = [
        alt.Tooltip("series:N", title="Cohort"),
        alt.Tooltip("day:Q", title="Day"),
        alt.Tooltip("survival:Q", title="Without the event", format=".1%"),
        alt.Tooltip("ci_low:Q", title="95% CI low", format=".1%"),
        alt.Tooltip("ci_high:Q", title="95% CI high", format=".1%"),
        alt.Tooltip("at_risk:Q", title="Still followed (at risk)", format=",d"),
    ]
    interpolate: Literal["step-after", "linear"] = "step-after" if step else "linear"
    base = alt.Chart(frame)
    y_value = alt.Y("survival:Q", scale=y_scale, axis=y_axis)
    band = base.transform_filter("isValid(datum.ci_low) && isValid(datum.ci_high)").mark_area(
        opacity=0.18, interpolate=interpolate
    ).encode(x=x, y=alt.Y("ci_low:Q", scale=y_scale, axis=y_axis), y2="ci_high:Q", color=colour)
    line = base.mark_line(interpolate=interpolate, strokeWidth=2).encode(x=x, y=y_value, color=colour)
    points = base.mark_point(filled=True, size=40).encode(x=x, y=y_value, color=colour, tooltip=tooltip)
    plot = layer_charts(band, line, points).properties(width=width, height=height)
    risk = frame.with_columns(
        pl.when(pl.col("at_risk").is_null()).then(pl.lit("suppressed"))
        .otherwise(pl.col("at_risk").cast(pl.Int64).map_elements(lambda n: f"{n:,}", return_dtype=pl.String))
        .alias("at_risk_label")
    ).select("series", "day", "at_risk_label")
    at_risk = alt.Chart(risk, title=alt.TitleParams("Number at risk", anchor="start", fontSize=11)).mark_text(
        fontSize=10, color=theme.text
    ).encode(
        x=alt.X("day:Q", scale=x_scale, axis=None),
        # Padding keeps the cohort names clear of the day-0 numbers centred on the axis.
        y=alt.Y("series:N", sort=series, title=None, axis=alt.Axis(domain=False, ticks=False, labelPadding=18)),
        text="at_risk_label:N",
    ).properties(width=width, height=16 * max(1, len(series)))
    chart = alt.vconcat(plot, at_risk, spacing=6).properties(title=chart_title(title, subtitle, width=width), autosize=PAD)
    return cast(alt.VConcatChart, finish_chart(chart, theme))




def difference_chart(
    data: pl.DataFrame,
    *,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    category_title: str = "Follow-up window",
    value_title: str = "Pilot − comparison (percentage points)",
    width: int = 420,
) -> alt.LayerChart:
    """Differences with their 95% intervals around a zero line (a forest plot).

    ``data`` columns: ``category`` (str), ``value``, ``ci_low``, ``ci_high``
    (float or null; null = withheld), ``note`` (str shown when withheld).
    Left of zero means the pilot rate is lower.
    """
    require_columns(data, ("category", "value", "ci_low", "ci_high"), "difference_chart")
    theme = active_theme()
    frame = data
    if "note" not in frame.columns:
        frame = frame.with_columns(pl.lit("").alias("note"))
    frame = frame.with_columns(
        pl.when(pl.col("value").is_null()).then(pl.col("note")).otherwise(pl.lit("")).alias("label")
    ).select("category", "value", "ci_low", "ci_high", "label")
    categories = list(dict.fromkeys(frame.get_column("category").to_list()))
    bounds = [abs(v) for v in frame.get_column("ci_low").to_list() + frame.get_column("ci_high").to_list() if v is not None]
    reach = max(bounds, default=0.1) * 1.15 or 0.1
    x_scale = alt.Scale(domain=[-reach, reach])
    axis = alt.Axis(title=value_title, labelExpr="format(datum.value * 100, '+.0f') + ' pp'")
    # No axis title beside the names: it sat on top of long program names. The names say what they are,
    # and the tooltip names the axis.
    y = alt.Y("category:N", title=None, sort=categories, axis=alt.Axis(labelLimit=280))
    tooltip = [
        alt.Tooltip("category:N", title=category_title),
        alt.Tooltip("value:Q", title="Difference", format="+.1%"),
        alt.Tooltip("ci_low:Q", title="95% CI low", format="+.1%"),
        alt.Tooltip("ci_high:Q", title="95% CI high", format="+.1%"),
    ]
    base = alt.Chart(frame)
    zero = alt.Chart(pl.DataFrame({"zero": [0.0]})).mark_rule(color=theme.rule).encode(
        x=alt.X("zero:Q", scale=x_scale, axis=axis)
    )
    whiskers = base.transform_filter("isValid(datum.ci_low) && isValid(datum.ci_high)").mark_errorbar(
        ticks=True, thickness=2, color=OKABE_ITO[0]
    ).encode(y=y, x=alt.X("ci_low:Q", scale=x_scale, axis=axis), x2="ci_high:Q")
    points = base.transform_filter("isValid(datum.value)").mark_point(
        filled=True, size=70, color=OKABE_ITO[0]
    ).encode(y=y, x=alt.X("value:Q", scale=x_scale, axis=axis), tooltip=tooltip)
    withheld = base.transform_filter("!isValid(datum.value)").mark_text(
        color=theme.muted, align="center", fontSize=11
    ).encode(y=y, x=alt.datum(0), text="label:N")
    chart = layer_charts(zero, whiskers, points, withheld).properties(
        title=chart_title(title, subtitle, width=width + 160), autosize=PAD, width=width,
        height=max(60, 30 * len(categories)),
    )
    return cast(alt.LayerChart, finish_chart(chart, theme))
