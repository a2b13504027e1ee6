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

from dashboard import chart_style
from dashboard.chart_style import (
    TITLE_WRAP,
    ChartTheme,
    active_theme,
    all_withheld_message,
    suppression_legend,
    theme_config,
    wrap_lines,
    wrap_title,
)
from dashboard.settings import DEFAULT_MIN_CELL_SIZE
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
# Heatmap cell labels sit on the cell's own fill (the "blues" scheme), not on the page background:
# white on the darker cells, near-black on the lighter ones, whatever the theme.
ON_DARK_FILL = "#FFFFFF"
ON_LIGHT_FILL = "#1A1A1A"
# Five steps of ColorBrewer "Blues": a stepped fill lets each label colour be checked against the fill
# it sits on (tests/test_chart_contrast.py). Labels from step HEATMAP_DARK_FROM up are white.
HEATMAP_FILLS: tuple[str, ...] = ("#DEEBF7", "#9ECAE1", "#6BAED6", "#2171B5", "#08306B")
HEATMAP_DARK_FROM = 3
# Lay charts out at their own size. Without it Streamlit sets autosize "fit",
# which squeezes the plot into the height left after titles and legends.
PAD = alt.AutoSizeParams(type="pad", contains="padding")
COHORT_ORDER: tuple[str, ...] = ("Pilot", "Comparison")

Unit = Literal["rate", "days", "per_100_pm", "count", "ratio", "money"]

AXIS_FORMAT: dict[str, str] = {
    "rate": ".0%",
    "days": ",.0f",
    "per_100_pm": ",.1f",
    "count": ",d",
    "ratio": ".2f",
    "money": ",.0f",
}
TEXT_FORMAT: dict[str, str] = {
    "rate": ".1%",
    "days": ",.1f",
    "per_100_pm": ",.1f",
    "count": ",d",
    "ratio": ".2f",
    "money": ",.2f",
}


def set_theme(name: str | None, configured: str | None = None) -> ChartTheme:
    """Build this script run's charts for the viewer's ``"light"`` or ``"dark"`` theme; see
    dashboard.chart_style. Pages pass ``st.context.theme.type`` (the browser's theme) and
    ``st.get_option("theme.base")`` (the server's configured theme). A configured base wins: on a
    page's first run Streamlit 1.67 reports "light" before the browser has told it the theme."""
    return chart_style.set_theme(configured if configured in ("light", "dark") else name)


def series_colours(series: Sequence[str]) -> alt.Scale:
    """A colour scale: pilot blue and comparison orange, others in palette order."""
    fixed = {"Pilot": PILOT_COLOUR, "Comparison": COMPARISON_COLOUR}
    # The palette's black would vanish on the dark theme: its place goes to the theme's contrast colour.
    palette = [*OKABE_ITO[:-1], active_theme().last_series]
    rest = iter(c for c in palette if c not in fixed.values())
    domain = list(dict.fromkeys(series))
    colours = [fixed[s] if s in fixed else next(rest, palette[-1]) for s in domain]
    return alt.Scale(domain=domain, range=colours)


def ordered_values(values: Sequence[str], preferred: Sequence[str] = COHORT_ORDER) -> list[str]:
    """Distinct values in first-seen order, with pilot before comparison."""
    distinct = list(dict.fromkeys(values))
    head = [v for v in preferred if v in distinct]
    return head + [v for v in distinct if v not in head]


def format_number(value: float | None, unit: Unit) -> str:
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


def chart_title(
    title: str, subtitle: str | Sequence[str] | None, legend: str | None = None, width: int | None = None
) -> alt.TitleParams:
    """The chart's title (wrapped onto several lines when long) and subtitle lines, each wrapped too;
    ``legend`` (the suppression legend) is added as the last subtitle line. ``width`` (the plot's, in
    pixels) narrows the lines of a narrow chart: about 7 pixels a character of the 15-pixel title."""
    sub: list[str] = [subtitle] if isinstance(subtitle, str) else list(subtitle or [])
    if legend:
        sub.append(legend)
    chars = TITLE_WRAP if width is None else min(TITLE_WRAP, max(36, width // 7))
    sub_chars = TITLE_WRAP if width is None else min(TITLE_WRAP + 12, max(44, width // 6))
    lines = [line for s in sub for line in wrap_lines(chart_text(s, TITLE_LIMIT), sub_chars)]
    return alt.TitleParams(text=wrap_title(chart_text(title, TITLE_LIMIT), chars), subtitle=lines,
                           anchor="start", fontSize=15, subtitleFontSize=12)


def finish_chart(chart: alt.TopLevelMixin, theme: ChartTheme) -> alt.TopLevelMixin:
    """Colour every title, axis, legend and header for ``theme`` (see dashboard.chart_style)."""
    return chart.configure(**theme_config(theme))


def legend_if_suppressed(frame: pl.DataFrame, min_cell_size: int) -> str | None:
    """The suppression legend when ``frame`` carries at least one suppressed mark."""
    return suppression_legend(min_cell_size) if bool(frame.get_column("suppressed").any()) else None


def message_chart(
    title: str, subtitle: str | Sequence[str] | None, message: str, theme: ChartTheme, width: int,
    data: pl.DataFrame,
) -> alt.LayerChart:
    """A chart that says ``message`` where the plot would be (e.g. every cell withheld) instead of
    drawing an empty axis with a lone mark. ``data`` (every row withheld) stays the chart's data,
    so the chart still lists the cells it withholds."""
    text = alt.Chart(pl.DataFrame({"message": wrap_lines(message, 70)}).with_row_index("line")).mark_text(
        align="left", baseline="top", fontSize=12, color=theme.text
    ).encode(text="message:N", y=alt.Y("line:O", axis=None), x=alt.value(0))
    chart = alt.layer(text, data=data).properties(title=chart_title(title, subtitle), autosize=PAD, width=width,
                                                  height=60)
    return cast(alt.LayerChart, finish_chart(chart, theme))


def all_withheld(data: pl.DataFrame) -> bool:
    """True when there are rows and every one of them is suppressed: nothing can be drawn."""
    return data.height > 0 and bool(data.get_column("suppressed").fill_null(False).all())


def require_columns(data: pl.DataFrame, columns: Sequence[str], builder: str) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"{builder} needs columns {missing}; got {data.columns}")


def layer_charts(*charts: alt.Chart) -> alt.LayerChart:
    """``alt.layer(*charts)`` for layers without row, column or facet encodings.

    Altair types ``alt.layer`` as LayerChart | FacetChart: it returns a
    FacetChart only when every layer shares a facet encoding, which no layer
    built here has.
    """
    return cast(alt.LayerChart, alt.layer(*charts))


# Over 80 lines on purpose: one Vega-Lite spec assembled layer by layer (bars, whiskers, labels, marks);
# split, its layers would pass a dozen shared encodings around.
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
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
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
    require_columns(data, ("category", "value", "suppressed"), "rate_bars")
    theme = active_theme()
    if all_withheld(data):
        return message_chart(title, subtitle, all_withheld_message(min_cell_size), theme, width, data)
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
    series = ordered_values(frame.get_column("series").cast(pl.String).to_list())

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
            texts.append(format_number(row["value"], unit) + n)
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
    axis = alt.Axis(format=AXIS_FORMAT[unit], title=value_title)
    colour = (
        alt.Color("series:N", title=series_title, scale=series_colours(series), legend=alt.Legend(orient="top"))
        if has_series
        else alt.value(OKABE_ITO[0])
    )
    tooltip = [
        alt.Tooltip("category:N", title=category_title),
        alt.Tooltip("value:Q", title=value_title, format=TEXT_FORMAT[unit]),
        alt.Tooltip("ci_low:Q", title="95% CI low", format=TEXT_FORMAT[unit]),
        alt.Tooltip("ci_high:Q", title="95% CI high", format=TEXT_FORMAT[unit]),
        alt.Tooltip("numerator:Q", title="Numerator", format=",d"),
        alt.Tooltip("denominator:Q", title="Denominator (N)", format=",d"),
        alt.Tooltip("label:N", title="Shown as"),
    ]
    if has_series:
        tooltip.insert(1, alt.Tooltip("series:N", title=series_title))

    base = alt.Chart(frame)
    shade = (
        base.transform_filter("datum.suppressed")
        .mark_bar(color=theme.suppressed, opacity=0.18)
        .encode(y=y, yOffset=y_offset, x=alt.X("domain_max:Q", scale=x_scale, axis=axis), tooltip=tooltip)
    )
    bars = (
        base.transform_filter("!datum.suppressed && isValid(datum.value)")
        .mark_bar()
        .encode(y=y, yOffset=y_offset, x=alt.X("value:Q", scale=x_scale, axis=axis), color=colour, tooltip=tooltip)
    )
    whiskers = (
        base.transform_filter("!datum.suppressed && isValid(datum.ci_low) && isValid(datum.ci_high)")
        .mark_errorbar(ticks=True, color=theme.rule)
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
        color=alt.condition("datum.suppressed", alt.value(theme.muted), alt.value(theme.text)),
        tooltip=tooltip,
    )
    layers: list[alt.Chart] = [shade, bars, whiskers, labels]
    if reference is not None:
        ref = alt.Chart(pl.DataFrame({"reference": [reference], "name": [reference_label]}))
        layers.append(
            ref.mark_rule(strokeDash=[6, 4], color=theme.rule).encode(
                x=alt.X("reference:Q", scale=x_scale, axis=axis),
                tooltip=[alt.Tooltip("name:N", title="Line"), alt.Tooltip("reference:Q", format=TEXT_FORMAT[unit])],
            )
        )
    per_row = 22 * (len(series) if has_series else 1) + 8
    chart = layer_charts(*layers).properties(
        title=chart_title(title, subtitle, legend_if_suppressed(frame, min_cell_size), width), autosize=PAD, width=width,
        height=max(60, per_row * len(categories)),
    )
    return cast(alt.LayerChart, finish_chart(chart, theme))


def trend_chart(
    data: pl.DataFrame,
    *,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    x_title: str = "Quarter",
    value_title: str,
    unit: Unit = "rate",
    series_title: str = "Cohort",
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
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
    require_columns(data, ("period", "series", "value", "suppressed"), "trend_chart")
    theme = active_theme()
    if all_withheld(data):
        return message_chart(title, subtitle, all_withheld_message(min_cell_size), theme, width, data)
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
    series = ordered_values(frame.get_column("series").cast(pl.String).to_list())
    x = alt.X("period:O", title=x_title, sort=periods, axis=alt.Axis(labelAngle=-40))
    fmt = AXIS_FORMAT[unit]
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
        alt.Tooltip("value:Q", title=value_title, format=TEXT_FORMAT[unit]),
        alt.Tooltip("ci_low:Q", title="95% CI low", format=TEXT_FORMAT[unit]),
        alt.Tooltip("ci_high:Q", title="95% CI high", format=TEXT_FORMAT[unit]),
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
        .mark_point(shape="cross", size=90, filled=True, color=theme.suppressed)
        .encode(x=x, y=alt.datum(0), tooltip=tooltip)
    )
    chart = layer_charts(band, line, crosses).properties(
        title=chart_title(title, subtitle, legend_if_suppressed(frame, min_cell_size), width), autosize=PAD, width=width,
        height=height,
    )
    return cast(alt.LayerChart, finish_chart(chart, theme))


# Over 80 lines on purpose: one Vega-Lite spec assembled layer by layer, as rate_bars.
def count_bars(
    data: pl.DataFrame,
    *,
    title: str,
    subtitle: str | Sequence[str] | None = None,
    category_title: str,
    value_title: str = "Count",
    series_title: str = "Series",
    stacked: bool = True,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
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
    require_columns(data, ("category", "count", "suppressed"), "count_bars")
    theme = active_theme()
    if all_withheld(data):
        return message_chart(title, subtitle, all_withheld_message(min_cell_size), theme, width, data)
    frame = data
    has_series = "series" in frame.columns
    if not has_series:
        frame = frame.with_columns(pl.lit("All").alias("series"))
    frame = frame.with_columns(pl.col("suppressed").fill_null(False)).select(
        "category", "series", "count", "suppressed"
    )
    categories = list(category_order or dict.fromkeys(frame.get_column("category").cast(pl.String).to_list()))
    series = ordered_values(frame.get_column("series").cast(pl.String).to_list())
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
        color=alt.condition("datum.any_suppressed", alt.value(theme.muted), alt.value(theme.text)),
    )
    rows = len(categories) * (len(series) if has_series and not stacked else 1)
    chart = layer_charts(bars, text).properties(
        title=chart_title(title, subtitle, legend_if_suppressed(frame, min_cell_size), width), autosize=PAD, width=width,
        height=max(60, 24 * rows + 8),
    )
    return cast(alt.LayerChart, finish_chart(chart, theme))
