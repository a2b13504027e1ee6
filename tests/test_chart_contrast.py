"""Every chart is legible in Streamlit's light and dark themes: each text colour in each chart
spec reaches WCAG AA (4.5:1) against the background it is drawn on, lines and marks reach 3:1,
long titles wrap, a chart whose every cell is withheld says so, and the suppression legend comes
from one helper."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

from dashboard import chart_style, charts, charts_evaluation, charts_flow

TEXT_KEYS = ("color", "labelColor", "titleColor", "subtitleColor")


def _rates(suppress_all: bool = False) -> pl.DataFrame:
    return pl.DataFrame({
        "category": ["Agency A", "Agency A", "Agency B", "Agency B"],
        "series": ["Pilot", "Comparison", "Pilot", "Comparison"],
        "value": [None, None, None, None] if suppress_all else [0.6, 0.5, None, 0.4],
        "ci_low": [None] * 4 if suppress_all else [0.5, 0.4, None, 0.3],
        "ci_high": [None] * 4 if suppress_all else [0.7, 0.6, None, 0.5],
        "numerator": [None] * 4 if suppress_all else [60, 50, None, 40],
        "denominator": [None] * 4 if suppress_all else [100, 100, None, 100],
        "suppressed": [True] * 4 if suppress_all else [False, False, True, False],
    })


def _trend() -> pl.DataFrame:
    return pl.DataFrame({
        "period": ["2024 Q1", "2024 Q2", "2024 Q1", "2024 Q2"], "series": ["Pilot", "Pilot", "Comparison", "Comparison"],
        "value": [0.5, None, 0.4, 0.45], "ci_low": [0.4, None, 0.3, 0.35], "ci_high": [0.6, None, 0.5, 0.55],
        "denominator": [80, None, 70, 75], "suppressed": [False, True, False, False],
    })


def _survival() -> pl.DataFrame:
    return pl.DataFrame({
        "series": ["Pilot"] * 4 + ["Comparison"] * 4, "day": [0, 90, 180, 365] * 2,
        "survival": [1.0, 0.9, 0.8, 0.7, 1.0, 0.85, 0.75, 0.6],
        "ci_low": [1.0, 0.85, 0.74, 0.63, 1.0, 0.8, 0.69, 0.53],
        "ci_high": [1.0, 0.94, 0.85, 0.76, 1.0, 0.89, 0.8, 0.66],
        "at_risk": [50, 45, 40, None, 60, 51, 44, 30],
    })


def every_chart() -> Iterator[tuple[str, Any]]:
    """One chart of each builder, built for the theme currently set."""
    yield "rate_bars", charts.rate_bars(_rates(), title="t", subtitle="s", category_title="c", value_title="v",
                                        reference=0.5)
    yield "trend", charts.trend_chart(_trend(), title="t", subtitle="s", value_title="v")
    yield "survival", charts_evaluation.survival_chart(_survival(), title="t", subtitle="s")
    counts = pl.DataFrame({"category": ["A", "B", "B"], "series": ["MOU", "MOU", "MOA"], "count": [20, None, 15],
                           "suppressed": [False, True, False]})
    yield "count_bars", charts.count_bars(counts, title="t", subtitle="s", category_title="c")
    funnel = pl.DataFrame({"stage": ["Made", "Accepted", "Completed"], "count": [120, None, 40],
                           "share": [1.0, None, 1 / 3], "suppressed": [False, True, False]})
    yield "funnel", charts_flow.funnel_chart(funnel, title="t", subtitle="s", stage_order=["Made", "Accepted", "Completed"])
    yield "funnel_faceted", charts_flow.funnel_chart(funnel.with_columns(pl.lit("P").alias("group")), title="t",
                                                stage_order=["Made", "Accepted", "Completed"])
    flows = pl.DataFrame({"row": ["A", "B", "A"], "column": ["X", "X", "Y"], "count": [30, None, 12],
                          "suppressed": [False, True, False]})
    yield "heatmap", charts_flow.flow_heatmap(flows, title="t", subtitle="s")
    diffs = pl.DataFrame({"category": ["P1", "P2"], "value": [-0.02, None], "ci_low": [-0.05, None],
                          "ci_high": [0.01, None], "note": ["", "withheld"]})
    yield "difference", charts_evaluation.difference_chart(diffs, title="t", subtitle="s")
    yield "all_withheld", charts.rate_bars(_rates(True), title="t", category_title="c", value_title="v")


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _text_colours(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, colour) of every colour that paints text: config title/axis/legend/header/text colours,
    and the colour of every text mark (a fixed value or each branch of a condition)."""
    found: list[tuple[str, str]] = []
    for path, key, value in _walk(spec.get("config", {})):
        if key in TEXT_KEYS and isinstance(value, str):
            found.append((f"config{path}/{key}", value))
    for path, key, value in _walk({k: v for k, v in spec.items() if k != "config"}):
        if not (isinstance(value, dict) and value.get("mark") is not None):
            continue
        mark = value["mark"]
        mark_type = mark if isinstance(mark, str) else mark.get("type")
        if mark_type != "text":
            continue
        if isinstance(mark, dict) and isinstance(mark.get("color"), str):
            found.append((f"{path}/{key}/mark", mark["color"]))
        colour = value.get("encoding", {}).get("color")
        for where, c in _encoding_values(colour):
            found.append((f"{path}/{key}/encoding{where}", c))
    return found


def _encoding_values(colour: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if not isinstance(colour, dict):
        return
    if isinstance(colour.get("value"), str):
        yield where, colour["value"]
    condition = colour.get("condition")
    for i, branch in enumerate(condition if isinstance(condition, list) else [condition] if condition else []):
        yield from _encoding_values(branch, f"{where}/condition[{i}]")


def _graphic_colours(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """Colours of rules and error bars (whiskers, zero and reference lines)."""
    found = []
    for path, key, value in _walk(spec):
        if (key == "mark" and isinstance(value, dict) and value.get("type") in ("rule", "errorbar")
                and isinstance(value.get("color"), str)):
            found.append((path, value["color"]))
    return found


@pytest.fixture(params=["light", "dark"])
def theme(request: pytest.FixtureRequest) -> Iterator[chart_style.ChartTheme]:
    chosen = chart_style.set_theme(request.param)
    yield chosen
    chart_style.set_theme("light")


def test_every_text_colour_reaches_4_5_to_1_on_its_background(theme: chart_style.ChartTheme) -> None:
    for name, chart in every_chart():
        spec = chart.to_dict()
        assert spec["config"]["background"] == theme.background, name
        colours = _text_colours(spec)
        assert any("subtitleColor" in where for where, _ in colours), name
        for where, colour in colours:
            if colour in (charts.ON_DARK_FILL, charts.ON_LIGHT_FILL) and name == "heatmap":
                continue  # drawn on a cell's fill: checked against the fills below
            ratio = chart_style.contrast_ratio(colour, theme.background)
            assert ratio >= 4.5, f"{name}: {where} {colour} on {theme.background} is {ratio:.2f}:1"


def test_heatmap_labels_reach_4_5_to_1_on_the_fill_they_sit_on() -> None:
    for step, fill in enumerate(charts.HEATMAP_FILLS):
        label = charts.ON_DARK_FILL if step >= charts.HEATMAP_DARK_FROM else charts.ON_LIGHT_FILL
        assert chart_style.contrast_ratio(label, fill) >= 4.5, (step, fill, label)


def test_whiskers_and_lines_reach_3_to_1(theme: chart_style.ChartTheme) -> None:
    checked = 0
    for name, chart in every_chart():
        for where, colour in _graphic_colours(chart.to_dict()):
            checked += 1
            assert chart_style.contrast_ratio(colour, theme.background) >= 3.0, (name, where, colour)
    assert checked >= 3


def test_pages_theme_choice_prefers_the_configured_base() -> None:
    assert charts.set_theme("light", "dark") is chart_style.DARK
    assert charts.set_theme("dark", None) is chart_style.DARK
    assert charts.set_theme(None, None) is chart_style.LIGHT
    chart_style.set_theme("light")


def test_the_light_theme_is_the_default_and_unknown_names_fall_back_to_it() -> None:
    assert chart_style.set_theme(None) is chart_style.LIGHT
    assert chart_style.set_theme("sepia") is chart_style.LIGHT
    assert chart_style.set_theme("DARK") is chart_style.DARK
    chart_style.set_theme("light")


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert chart_style.contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert chart_style.contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert chart_style.contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


def test_palette_pairs_no_red_with_green_and_pilot_comparison_are_blue_orange(theme: chart_style.ChartTheme) -> None:
    scale = charts.series_colours([f"s{i}" for i in range(8)]).to_dict()
    assert "#FF0000" not in scale["range"] and "#00FF00" not in scale["range"]
    assert scale["range"][-1] == theme.last_series
    assert chart_style.contrast_ratio(theme.last_series, theme.background) >= 4.5
    assert (charts.PILOT_COLOUR, charts.COMPARISON_COLOUR) == ("#0072B2", "#E69F00")


def test_long_titles_wrap_into_lines_and_short_ones_stay_strings() -> None:
    long = "Completion: " + "a very long partner agency name " * 5
    spec = charts.rate_bars(_rates(), title=long, subtitle=long, category_title="c", value_title="v").to_dict()
    lines = spec["title"]["text"]
    assert isinstance(lines, list) and len(lines) > 1
    assert all(len(line) <= chart_style.TITLE_WRAP for line in lines)
    assert " ".join(lines) == long.strip()
    assert all(len(line) <= chart_style.TITLE_WRAP + 12 for line in spec["title"]["subtitle"])
    narrow = charts.rate_bars(_rates(), title=long, category_title="c", value_title="v", width=300).to_dict()
    assert all(len(line) <= 300 // 7 for line in narrow["title"]["text"])
    short = charts.rate_bars(_rates(), title="Short", category_title="c", value_title="v").to_dict()
    assert short["title"]["text"] == "Short"


def test_suppression_legend_on_every_chart_carrying_marks_from_one_helper() -> None:
    legend = chart_style.suppression_legend(11)
    for name, chart in every_chart():
        if name in ("difference", "survival", "all_withheld"):
            continue
        subtitle = chart.to_dict()["title"]["subtitle"]
        assert " ".join(subtitle).endswith(legend) or legend in " ".join(subtitle), name
    clean = _rates().filter(~pl.col("suppressed"))
    subtitle = charts.rate_bars(clean, title="t", category_title="c", value_title="v").to_dict()["title"]["subtitle"]
    assert legend not in " ".join(subtitle)


def test_a_chart_with_every_cell_withheld_says_so_instead_of_an_empty_axis() -> None:
    message = chart_style.all_withheld_message(11)
    for chart in (
        charts.rate_bars(_rates(True), title="t", category_title="c", value_title="v"),
        charts.trend_chart(_trend().with_columns(pl.lit(True).alias("suppressed")), title="t", value_title="v"),
        charts.count_bars(pl.DataFrame({"category": ["A"], "count": [None], "suppressed": [True]},
                                       schema={"category": pl.String, "count": pl.Int64, "suppressed": pl.Boolean}),
                          title="t", category_title="c"),
    ):
        spec = chart.to_dict()
        assert [layer["mark"]["type"] for layer in spec["layer"]] == ["text"]
        shown = " ".join(r["message"] for r in spec["datasets"][spec["layer"][0]["data"]["name"]])
        assert shown == message
        # The chart keeps its (all withheld) rows as its data: no number in any of them.
        rows = spec["datasets"][spec["data"]["name"]]
        assert rows and all(r["suppressed"] for r in rows)


def test_survival_is_a_step_function_with_band_and_numbers_at_risk_suppressed_below_k() -> None:
    spec = charts_evaluation.survival_chart(_survival(), title="t").to_dict()
    plot, table = spec["vconcat"]
    marks = [layer["mark"] for layer in plot["layer"]]
    assert marks[0]["type"] == "area" and marks[0]["interpolate"] == "step-after"
    assert marks[1]["type"] == "line" and marks[1]["interpolate"] == "step-after"
    assert "strokeDash" not in marks[1]
    assert table["mark"]["type"] == "text" and table["encoding"]["text"]["field"] == "at_risk_label"
    rows = spec["datasets"][table["data"]["name"]]
    by_key = {(r["series"], r["day"]): r["at_risk_label"] for r in rows}
    assert by_key[("Pilot", 365)] == "suppressed"
    assert by_key[("Comparison", 365)] == "30"
    assert by_key[("Pilot", 0)] == "50"
