"""Altair chart builders: aggregated, already-suppressed data in, chart out.

Pure functions, no Streamlit and no metric arithmetic: every number drawn
here was computed by the metric engine (``dashboard.metrics``) or the pilot
evaluation (``dashboard.evaluation``). The builders only lay the numbers out
so that a program director reads them correctly:

- the caller passes a title that states the finding and a subtitle with N;
- every rate is drawn with its 95% interval (error bar or band);
- a suppressed cell keeps its row and is marked in grey with
  "Suppressed (n<k)" instead of silently disappearing;
- colours come from the Okabe–Ito palette, which stays distinguishable for
  the common forms of colour-blindness; pilot and comparison always get the
  same two colours on every page.

Input frames use a small vocabulary of column names (see each builder):
``category``, ``series``, ``value``, ``ci_low``, ``ci_high``, ``numerator``,
``denominator``, ``suppressed``. ``dashboard.views`` produces them from the
engine's output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, cast

import altair as alt
import polars as pl

from dashboard.text import chart_text
from dashboard.cells import suppression_label

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
PILOT_COLOUR = OKABE_ITO[0]
COMPARISON_COLOUR = OKABE_ITO[1]
SUPPRESSED_COLOUR = "#8C8C8C"
# Lay charts out at their own size. Without it Streamlit sets autosize "fit",
# which squeezes the plot into the height left after titles and legends.
PAD = alt.AutoSizeParams(type="pad", contains="padding")
COHORT_ORDER: tuple[str, ...] = ("Pilot", "Comparison")

Unit = Literal["rate", "days", "per_100_pm", "count", "ratio", "money"]

_AXIS_FORMAT: dict[str, str] = {
    "rate": ".0%",
    "days": ",.0f",
    "per_100_pm": ",.1f",
    "count": ",d",
    "ratio": ".2f",
    "money": ",.0f",
}
_TEXT_FORMAT: dict[str, str] = {
    "rate": ".1%",
    "days": ",.1f",
    "per_100_pm": ",.1f",
    "count": ",d",
    "ratio": ".2f",
    "money": ",.2f",
}


def series_colours(series: Sequence[str]) -> alt.Scale:
    """A colour scale: pilot blue and comparison orange, others in palette order."""
    fixed = {"Pilot": PILOT_COLOUR, "Comparison": COMPARISON_COLOUR}
    rest = iter(c for c in OKABE_ITO if c not in fixed.values())
    domain = list(dict.fromkeys(series))
    colours = [fixed[s] if s in fixed else next(rest, OKABE_ITO[-1]) for s in domain]
    return alt.Scale(domain=domain, range=colours)


def _ordered(values: Sequence[str], preferred: Sequence[str] = COHORT_ORDER) -> list[str]:
    """Distinct values in first-seen order, with pilot before comparison."""
    distinct = list(dict.fromkeys(values))
    head = [v for v in preferred if v in distinct]
    return head + [v for v in distinct if v not in head]


def _format_number(value: float | None, unit: Unit) -> str:
    if value is None:
        return ""
    if unit == "rate":
        return f"{value:.1%}"
    if unit == "count":
        return f"{int(value):,}"
    if unit == "ratio":
        return f"{value:.2f}"
    if unit == "money":
        return f"{value:,.2f}"
    return f"{value:,.1f}"


TITLE_LIMIT = 200
"""Characters of a chart title (and of each subtitle line) drawn: a title that quotes a very long
partner name is cut with an ellipsis, so the chart (and its PNG) keeps a sane width."""


def _title(title: str, subtitle: str | Sequence[str] | None) -> alt.TitleParams:
    sub: list[str] = [subtitle] if isinstance(subtitle, str) else list(subtitle or [])
    return alt.TitleParams(text=chart_text(title, TITLE_LIMIT), subtitle=[chart_text(s, TITLE_LIMIT) for s in sub],
                           anchor="start", fontSize=15, subtitleFontSize=12)


def _require(data: pl.DataFrame, columns: Sequence[str], builder: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"{builder} needs columns {missing}; got {data.columns}")


def _layer(*charts: alt.Chart) -> alt.LayerChart:
    """``alt.layer(*charts)`` for layers without row, column or facet encodings.

    Altair types ``alt.layer`` as LayerChart | FacetChart: it returns a
    FacetChart only when every layer shares a facet encoding, which no layer
    built here has.
    """
    return cast(alt.LayerChart, alt.layer(*charts))


def rate_bars(
    data: pl.DataFrame,
    *,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    category_title: str,
    value_title: str,
    unit: Unit = "rate",
    series_title: str = "Cohort",
    reference: float | None = None,
    reference_label: str = "Overall",
    min_cell_size: int = 11,
    width: int = 520,
) -> alt.LayerChart:
    """Horizontal bars of a rate per category, with 95% interval whiskers.

    ``data`` columns: ``category`` (str), ``value``, ``ci_low``, ``ci_high``
    (float or null), ``numerator``, ``denominator`` (int or null),
    ``suppressed`` (bool) and optionally ``series`` (str, e.g. the cohort),
    which splits each category into side-by-side bars. ``reference`` draws a
    dashed vertical rule (e.g. the overall rate on the equity page).
    Suppressed rows are shaded grey across the plot and labelled.
    """
    _require(data, ("category", "value", "suppressed"), "rate_bars")
    frame = data
    for column in ("ci_low", "ci_high"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    for column in ("numerator", "denominator"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias(column))
    has_series = "series" in frame.columns
    if not has_series:
        frame = frame.with_columns(pl.lit("All").alias("series"))
    frame = frame.with_columns(pl.col("suppressed").fill_null(False))
    categories = list(dict.fromkeys(frame.get_column("category").cast(pl.String).to_list()))
    series = _ordered(frame.get_column("series").cast(pl.String).to_list())

    top_values = [
        v for v in frame.get_column("ci_high").to_list() + frame.get_column("value").to_list() if v is not None
    ]
    top = max(top_values + ([reference] if reference is not None else []), default=0.0)
    if unit == "rate":
        domain_max = min(1.0, top * 1.35 + 0.05) if top > 0 else 1.0
    else:
        domain_max = top * 1.35 if top > 0 else 1.0

    label = suppression_label(min_cell_size)
    texts: list[str] = []
    for row in frame.iter_rows(named=True):
        if row["suppressed"]:
            texts.append(label)
        elif row["value"] is None:
            texts.append("no data")
        else:
            n = f" (n={row['denominator']:,})" if row["denominator"] is not None and unit == "rate" else ""
            texts.append(_format_number(row["value"], unit) + n)
    frame = frame.with_columns(
        pl.Series("label", texts, dtype=pl.String),
        pl.coalesce(pl.col("ci_high"), pl.col("value"), pl.lit(0.0)).cast(pl.Float64).alias("label_at"),
        pl.lit(domain_max).alias("domain_max"),
    ).select(
        "category", "series", "value", "ci_low", "ci_high", "numerator", "denominator",
        "suppressed", "label", "label_at", "domain_max",
    )

    y = alt.Y("category:N", title=category_title, sort=categories, axis=alt.Axis(labelLimit=260))
    y_offset = alt.YOffset("series:N", sort=series) if has_series else alt.YOffset("series:N")
    x_scale = alt.Scale(domain=[0, domain_max], nice=False)
    axis = alt.Axis(format=_AXIS_FORMAT[unit], title=value_title)
    colour = (
        alt.Color("series:N", title=series_title, scale=series_colours(series), legend=alt.Legend(orient="top"))
        if has_series
        else alt.value(OKABE_ITO[0])
    )
    tooltip = [
        alt.Tooltip("category:N", title=category_title),
        alt.Tooltip("value:Q", title=value_title, format=_TEXT_FORMAT[unit]),
        alt.Tooltip("ci_low:Q", title="95% CI low", format=_TEXT_FORMAT[unit]),
        alt.Tooltip("ci_high:Q", title="95% CI high", format=_TEXT_FORMAT[unit]),
        alt.Tooltip("numerator:Q", title="Numerator", format=",d"),
        alt.Tooltip("denominator:Q", title="Denominator (N)", format=",d"),
        alt.Tooltip("label:N", title="Shown as"),
    ]
    if has_series:
        tooltip.insert(1, alt.Tooltip("series:N", title=series_title))

    base = alt.Chart(frame)
    shade = (
        base.transform_filter("datum.suppressed")
        .mark_bar(color=SUPPRESSED_COLOUR, opacity=0.18)
        .encode(y=y, yOffset=y_offset, x=alt.X("domain_max:Q", scale=x_scale, axis=axis), tooltip=tooltip)
    )
    bars = (
        base.transform_filter("!datum.suppressed && isValid(datum.value)")
        .mark_bar()
        .encode(y=y, yOffset=y_offset, x=alt.X("value:Q", scale=x_scale, axis=axis), color=colour, tooltip=tooltip)
    )
    whiskers = (
        base.transform_filter("!datum.suppressed && isValid(datum.ci_low) && isValid(datum.ci_high)")
        .mark_errorbar(ticks=True, color="#222222")
        .encode(
            y=y,
            yOffset=y_offset,
            x=alt.X("ci_low:Q", scale=x_scale, axis=axis),
            x2="ci_high:Q",
        )
    )
    labels = base.mark_text(align="left", baseline="middle", dx=5, fontSize=11).encode(
        y=y,
        yOffset=y_offset,
        x=alt.X("label_at:Q", scale=x_scale, axis=axis),
        text="label:N",
        color=alt.condition("datum.suppressed", alt.value("#555555"), alt.value("#222222")),
        tooltip=tooltip,
    )
    layers: list[alt.Chart] = [shade, bars, whiskers, labels]
    if reference is not None:
        ref = alt.Chart(pl.DataFrame({"reference": [reference], "name": [reference_label]}))
        layers.append(
            ref.mark_rule(strokeDash=[6, 4], color="#222222").encode(
                x=alt.X("reference:Q", scale=x_scale, axis=axis),
                tooltip=[alt.Tooltip("name:N", title="Line"), alt.Tooltip("reference:Q", format=_TEXT_FORMAT[unit])],
            )
        )
    per_row = 22 * (len(series) if has_series else 1) + 8
    return _layer(*layers).properties(
        title=_title(title, subtitle), autosize=PAD, width=width, height=max(60, per_row * len(categories))
    )


def trend_chart(
    data: pl.DataFrame,
    *,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    x_title: str = "Quarter",
    value_title: str,
    unit: Unit = "rate",
    series_title: str = "Cohort",
    min_cell_size: int = 11,
    width: int = 560,
    height: int = 260,
) -> alt.LayerChart:
    """A rate over time: one line per series with its 95% interval as a band.

    ``data`` columns: ``period`` (str label that sorts in time order, e.g.
    "2024 Q1"), ``series`` (str), ``value``, ``ci_low``, ``ci_high``,
    ``denominator``, ``suppressed``. Suppressed periods are marked by a grey
    cross on the time axis (value withheld) rather than a gap with no
    explanation.
    """
    _require(data, ("period", "series", "value", "suppressed"), "trend_chart")
    frame = data
    for column in ("ci_low", "ci_high"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    if "denominator" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias("denominator"))
    frame = frame.with_columns(
        pl.col("suppressed").fill_null(False),
        pl.when(pl.col("suppressed")).then(pl.lit(suppression_label(min_cell_size))).otherwise(pl.lit("")).alias("note"),
    ).select("period", "series", "value", "ci_low", "ci_high", "denominator", "suppressed", "note")
    periods = sorted(set(frame.get_column("period").cast(pl.String).to_list()))
    series = _ordered(frame.get_column("series").cast(pl.String).to_list())
    x = alt.X("period:O", title=x_title, sort=periods, axis=alt.Axis(labelAngle=-40))
    fmt = _AXIS_FORMAT[unit]
    y_axis = alt.Axis(format=fmt, title=value_title)
    tops = [v for v in frame.get_column("ci_high").to_list() + frame.get_column("value").to_list() if v is not None]
    top = max(tops, default=1.0)
    y_scale = alt.Scale(domain=[0, min(1.0, top * 1.1 + 0.02)] if unit == "rate" else [0, top * 1.1 or 1.0])
    single = series == ["All"]
    colour = (
        alt.value(OKABE_ITO[0])
        if single
        else alt.Color("series:N", title=series_title, scale=series_colours(series),
                       legend=alt.Legend(orient="top", labelLimit=320, symbolOpacity=1))
    )
    tooltip = [
        alt.Tooltip("period:O", title=x_title),
        alt.Tooltip("series:N", title=series_title),
        alt.Tooltip("value:Q", title=value_title, format=_TEXT_FORMAT[unit]),
        alt.Tooltip("ci_low:Q", title="95% CI low", format=_TEXT_FORMAT[unit]),
        alt.Tooltip("ci_high:Q", title="95% CI high", format=_TEXT_FORMAT[unit]),
        alt.Tooltip("denominator:Q", title="N", format=",d"),
        alt.Tooltip("note:N", title="Note"),
    ]
    base = alt.Chart(frame)
    published = base.transform_filter("!datum.suppressed && isValid(datum.value)")
    band = published.transform_filter("isValid(datum.ci_low) && isValid(datum.ci_high)").mark_area(opacity=0.18).encode(
        x=x, y=alt.Y("ci_low:Q", scale=y_scale, axis=y_axis), y2="ci_high:Q", color=colour
    )
    line = published.mark_line(point=True, strokeWidth=2).encode(
        x=x, y=alt.Y("value:Q", scale=y_scale, axis=y_axis), color=colour, tooltip=tooltip
    )
    crosses = (
        base.transform_filter("datum.suppressed")
        .mark_point(shape="cross", size=90, filled=True, color=SUPPRESSED_COLOUR)
        .encode(x=x, y=alt.datum(0), tooltip=tooltip)
    )
    return _layer(band, line, crosses).properties(title=_title(title, subtitle), autosize=PAD, width=width, height=height)


def survival_chart(
    data: pl.DataFrame,
    *,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    value_title: str = "Share without the event (Kaplan–Meier)",
    step: bool | None = None,
    width: int = 520,
    height: int = 260,
) -> alt.LayerChart:
    """Kaplan–Meier survival by cohort with 95% intervals.

    ``data`` columns: ``series`` (cohort), ``day`` (int), ``survival``,
    ``ci_low``, ``ci_high`` (float), ``at_risk`` (int). Suppressed cohorts
    must already be left out by the caller (and named in the subtitle).

    With the full curve (``step``, default when there are more than 12
    points per cohort) it draws step lines and step bands. With the curve
    read at a few days only (SPEC: 90, 180, 365, 730) a step drawn between
    them would invent where the drops happen, so it draws the estimates as
    points with interval whiskers joined by a thin dotted line.
    """
    _require(data, ("series", "day", "survival", "ci_low", "ci_high", "at_risk"), "survival_chart")
    frame = data.select("series", "day", "survival", "ci_low", "ci_high", "at_risk")
    series = _ordered(frame.get_column("series").cast(pl.String).to_list())
    lows = [v for v in frame.get_column("ci_low").to_list() if v is not None]
    floor = max(0.0, min(lows, default=0.0) - 0.05)
    x = alt.X("day:Q", title="Days since index date (release, else enrollment)")
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
    if step is None:
        per_cohort = frame.group_by("series").len().get_column("len").max() or 0
        step = int(per_cohort) > 12  # type: ignore[arg-type]
    base = alt.Chart(frame)
    y_value = alt.Y("survival:Q", scale=y_scale, axis=y_axis)
    if step:
        band = base.mark_area(opacity=0.18, interpolate="step-after").encode(
            x=x, y=alt.Y("ci_low:Q", scale=y_scale, axis=y_axis), y2="ci_high:Q", color=colour
        )
        line = base.mark_line(interpolate="step-after", strokeWidth=2).encode(x=x, y=y_value, color=colour)
        points = base.mark_point(filled=True, size=18, opacity=0).encode(x=x, y=y_value, tooltip=tooltip)
        layers = [band, line, points]
    else:
        line = base.mark_line(strokeWidth=1.2, strokeDash=[3, 3]).encode(x=x, y=y_value, color=colour)
        whiskers = base.mark_errorbar(ticks=True, thickness=2).encode(
            x=x, y=alt.Y("ci_low:Q", scale=y_scale, axis=y_axis), y2="ci_high:Q", color=colour
        )
        points = base.mark_point(filled=True, size=60).encode(x=x, y=y_value, color=colour, tooltip=tooltip)
        layers = [line, whiskers, points]
    return _layer(*layers).properties(title=_title(title, subtitle), autosize=PAD, width=width, height=height)


def count_bars(
    data: pl.DataFrame,
    *,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    category_title: str,
    value_title: str = "Count",
    series_title: str = "Series",
    stacked: bool = True,
    min_cell_size: int = 11,
    width: int = 520,
    category_order: Sequence[str] | None = None,
    total_labels: dict[str, str] | None = None,
) -> alt.LayerChart:
    """Horizontal bars of counts per category, optionally split by ``series``.

    ``total_labels`` (category -> text) replaces the label at the end of a
    category's bar, e.g. with a total the engine published for it.

    ``data`` columns: ``category`` (str), ``count`` (int or null),
    ``suppressed`` (bool), optionally ``series`` (str). Suppressed counts
    (1 to k − 1) show as a grey label instead of a bar.
    """
    _require(data, ("category", "count", "suppressed"), "count_bars")
    frame = data
    has_series = "series" in frame.columns
    if not has_series:
        frame = frame.with_columns(pl.lit("All").alias("series"))
    frame = frame.with_columns(pl.col("suppressed").fill_null(False)).select(
        "category", "series", "count", "suppressed"
    )
    categories = list(category_order or dict.fromkeys(frame.get_column("category").cast(pl.String).to_list()))
    series = _ordered(frame.get_column("series").cast(pl.String).to_list())
    label = suppression_label(min_cell_size)
    totals = frame.group_by("category").agg(
        pl.col("count").sum().alias("total"),
        pl.col("suppressed").any().alias("any_suppressed"),
    )
    totals = totals.with_columns(
        pl.when(pl.col("any_suppressed") & (pl.col("total") == 0))
        .then(pl.lit(label))
        .when(pl.col("any_suppressed"))
        .then(pl.format("{} + suppressed cells (n<{})", pl.col("total"), pl.lit(min_cell_size)))
        .otherwise(pl.col("total").cast(pl.String))
        .alias("label")
    )
    if total_labels:
        totals = totals.with_columns(
            pl.col("category").replace_strict(total_labels, default=pl.col("label"), return_dtype=pl.String)
            .alias("label")
        )
    y = alt.Y("category:N", title=category_title, sort=categories, axis=alt.Axis(labelLimit=260))
    axis = alt.Axis(format=",d", title=value_title, tickMinStep=1)
    colour = (
        alt.Color("series:N", title=series_title, scale=series_colours(series), legend=alt.Legend(orient="top"))
        if has_series
        else alt.value(OKABE_ITO[0])
    )
    tooltip = [
        alt.Tooltip("category:N", title=category_title),
        alt.Tooltip("series:N", title=series_title),
        alt.Tooltip("count:Q", title=value_title, format=",d"),
        alt.Tooltip("suppressed:N", title="Suppressed"),
    ]
    encode: dict[str, object] = {"y": y, "x": alt.X("count:Q", axis=axis, stack="zero" if stacked else None)}
    if has_series and not stacked:
        encode["yOffset"] = alt.YOffset("series:N", sort=series)
    bars = (
        alt.Chart(frame)
        .transform_filter("!datum.suppressed")
        .mark_bar()
        .encode(color=colour, tooltip=tooltip, **encode)  # type: ignore[arg-type]
    )
    text = alt.Chart(totals).mark_text(align="left", dx=5, fontSize=11).encode(
        y=y,
        x=alt.X("total:Q", axis=axis),
        text="label:N",
        color=alt.condition("datum.any_suppressed", alt.value("#555555"), alt.value("#222222")),
    )
    rows = len(categories) * (len(series) if has_series and not stacked else 1)
    return _layer(bars, text).properties(
        title=_title(title, subtitle), autosize=PAD, width=width, height=max(60, 24 * rows + 8)
    )


def funnel_chart(
    data: pl.DataFrame,
    *,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    stage_order: Sequence[str],
    group_title: str = "Service type",
    min_cell_size: int = 11,
    width: int = 150,
) -> alt.FacetChart | alt.LayerChart:
    """The referral funnel: one bar per stage, faceted by ``group`` when given.

    ``data`` columns: ``stage`` (str in ``stage_order``), ``count`` (int or
    null), ``share`` (count / count at the first stage, float or null),
    ``suppressed`` (bool), optionally ``group`` (str). The label reads
    "1,234 (56%)"; suppressed stages read "Suppressed (n<k)".
    """
    _require(data, ("stage", "count", "share", "suppressed"), "funnel_chart")
    label = suppression_label(min_cell_size)
    frame = data.with_columns(pl.col("suppressed").fill_null(False))
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
        color=alt.condition("datum.suppressed", alt.value("#555555"), alt.value("#222222")),
    )
    layered = alt.layer(bars, text, data=frame).properties(width=width, height=24 * len(stage_order) + 8)
    if "group" in frame.columns:
        return layered.facet(
            facet=alt.Facet("group:N", title=group_title, header=alt.Header(labelFontWeight="bold", labelLimit=300)), columns=3
        ).properties(title=_title(title, subtitle), autosize=PAD).resolve_scale(x="independent")
    return layered.properties(title=_title(title, subtitle), autosize=PAD)


def flow_heatmap(
    data: pl.DataFrame,
    *,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    row_title: str = "Referring agency",
    column_title: str = "Provider agency",
    value_title: str = "Referrals",
    min_cell_size: int = 11,
    detail_title: str = "How they ended",
) -> alt.LayerChart:
    """Who refers to whom: a count per (row, column) cell with its label.

    ``data`` columns: ``row``, ``column`` (str), ``count`` (int or null),
    ``suppressed`` (bool), optionally ``detail`` (str shown in the tooltip,
    e.g. how the referrals ended). Suppressed cells are grey and read "<k".
    """
    _require(data, ("row", "column", "count", "suppressed"), "flow_heatmap")
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
    cells = base.transform_filter("!datum.suppressed").mark_rect().encode(
        x=x, y=y, color=alt.Color("count:Q", title=value_title, scale=alt.Scale(scheme="blues"), legend=None),
        tooltip=tooltip,
    )
    hidden = base.transform_filter("datum.suppressed").mark_rect(color=SUPPRESSED_COLOUR, opacity=0.3).encode(
        x=x, y=y, tooltip=tooltip
    )
    top = max([c for c in frame.get_column("count").to_list() if c is not None], default=0)
    text = base.mark_text(fontSize=11).encode(
        x=x,
        y=y,
        text="label:N",
        color=alt.condition(
            f"!datum.suppressed && datum.count > {0.55 * top}", alt.value("#FFFFFF"), alt.value("#222222")
        ),
        tooltip=tooltip,
    )
    return _layer(cells, hidden, text).properties(
        title=_title(title, subtitle), autosize=PAD, width=max(200, 96 * len(cols)), height=max(80, 26 * len(rows))
    )


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
    _require(data, ("category", "value", "ci_low", "ci_high"), "difference_chart")
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
    y = alt.Y("category:N", title=category_title, sort=categories, axis=alt.Axis(labelLimit=280))
    tooltip = [
        alt.Tooltip("category:N", title=category_title),
        alt.Tooltip("value:Q", title="Difference", format="+.1%"),
        alt.Tooltip("ci_low:Q", title="95% CI low", format="+.1%"),
        alt.Tooltip("ci_high:Q", title="95% CI high", format="+.1%"),
    ]
    base = alt.Chart(frame)
    zero = alt.Chart(pl.DataFrame({"zero": [0.0]})).mark_rule(color="#222222").encode(
        x=alt.X("zero:Q", scale=x_scale, axis=axis)
    )
    whiskers = base.transform_filter("isValid(datum.ci_low) && isValid(datum.ci_high)").mark_errorbar(
        ticks=True, thickness=2, color=OKABE_ITO[0]
    ).encode(y=y, x=alt.X("ci_low:Q", scale=x_scale, axis=axis), x2="ci_high:Q")
    points = base.transform_filter("isValid(datum.value)").mark_point(
        filled=True, size=70, color=OKABE_ITO[0]
    ).encode(y=y, x=alt.X("value:Q", scale=x_scale, axis=axis), tooltip=tooltip)
    withheld = base.transform_filter("!isValid(datum.value)").mark_text(
        color="#555555", align="center", fontSize=11
    ).encode(y=y, x=alt.datum(0), text="label:N")
    return _layer(zero, whiskers, points, withheld).properties(
        title=_title(title, subtitle), autosize=PAD, width=width, height=max(60, 30 * len(categories))
    )
