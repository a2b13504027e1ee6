"""Chart builders and display helpers: the numbers drawn are the numbers given,
suppressed cells are marked, rates carry intervals, exports are real files.

The frames below are small hand-made engine-like outputs; nothing here
computes a metric.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from dashboard import charts, charts_evaluation, charts_flow


def _rate_rows() -> pl.DataFrame:
    # Agency B's pilot cell is suppressed: the engine withheld its numbers.
    return pl.DataFrame(
        {
            "category": ["Agency A", "Agency A", "Agency B", "Agency B"],
            "series": ["Comparison", "Pilot", "Pilot", "Comparison"],
            "value": [0.5, 0.6, None, 0.4],
            "ci_low": [0.4, 0.5, None, 0.3],
            "ci_high": [0.6, 0.7, None, 0.5],
            "numerator": [50, 60, None, 40],
            "denominator": [100, 100, None, 100],
            "suppressed": [False, False, True, False],
        }
    )


def _layers(chart) -> list[dict]:
    spec = chart.to_dict()
    return spec["layer"], spec


def _dataset(spec: dict, layer: dict) -> list[dict]:
    name = layer.get("data", {}).get("name") or spec["data"]["name"]
    return spec["datasets"][name]


def test_rate_bars_draws_given_values_intervals_and_marks_suppression() -> None:
    chart = charts.rate_bars(
        _rate_rows(), title="Completion: pilot 60.0% vs comparison 50.0%", subtitle="N = 300",
        category_title="Provider agency", value_title="Completion rate", min_cell_size=11,
    )
    layers, spec = _layers(chart)
    marks = [layer["mark"]["type"] for layer in layers]
    assert marks == ["bar", "bar", "errorbar", "text"]
    assert spec["title"]["text"] == "Completion: pilot 60.0% vs comparison 50.0%"
    rows = _dataset(spec, layers[0])
    by_key = {(r["category"], r["series"]): r for r in rows}
    # values are copied, not recomputed
    assert by_key[("Agency A", "Pilot")]["value"] == 0.6
    assert by_key[("Agency A", "Pilot")]["label"] == "60.0% (n=100)"
    assert by_key[("Agency B", "Pilot")]["label"] == "Suppressed (n<11)"
    assert by_key[("Agency B", "Pilot")]["value"] is None
    # the grey shading layer only keeps suppressed rows, the bars only published ones
    assert layers[0]["transform"] == [{"filter": "datum.suppressed"}]
    assert "!datum.suppressed" in layers[1]["transform"][0]["filter"]
    # whiskers run from ci_low to ci_high
    assert layers[2]["encoding"]["x"]["field"] == "ci_low"
    assert layers[2]["encoding"]["x2"]["field"] == "ci_high"
    # axes are labelled; pilot is blue and comparison orange whatever the row order
    assert layers[1]["encoding"]["x"]["axis"]["title"] == "Completion rate"
    assert layers[1]["encoding"]["y"]["title"] == "Provider agency"
    scale = layers[1]["encoding"]["color"]["scale"]
    assert scale["domain"] == ["Pilot", "Comparison"]
    assert scale["range"] == [charts.PILOT_COLOUR, charts.COMPARISON_COLOUR]


def test_rate_bars_reference_line_and_other_units() -> None:
    rows = _rate_rows().drop("series").filter(pl.col("category") == "Agency A").head(1)
    chart = charts.rate_bars(
        rows, title="t", category_title="Group", value_title="Days", unit="days", reference=0.55
    )
    layers, spec = _layers(chart)
    assert layers[-1]["mark"]["type"] == "rule"
    assert layers[1]["encoding"]["x"]["axis"]["format"] == ",.0f"
    # unit days: no "(n=...)" rate label
    assert _dataset(spec, layers[0])[0]["label"] == "0.5"


def test_rate_bars_rejects_frames_without_the_vocabulary() -> None:
    with pytest.raises(ValueError, match="needs columns"):
        charts.rate_bars(pl.DataFrame({"x": [1]}), title="t", category_title="c", value_title="v")


def test_trend_chart_band_line_and_suppressed_crosses() -> None:
    data = pl.DataFrame(
        {
            "period": ["2024 Q2", "2024 Q1", "2024 Q1"],
            "series": ["Pilot", "Pilot", "Comparison"],
            "value": [None, 0.5, 0.4],
            "ci_low": [None, 0.4, 0.3],
            "ci_high": [None, 0.6, 0.5],
            "denominator": [None, 80, 70],
            "suppressed": [True, False, False],
        }
    )
    chart = charts.trend_chart(data, title="t", value_title="Compliance rate")
    layers, spec = _layers(chart)
    assert [layer["mark"]["type"] for layer in layers] == ["area", "line", "point"]
    assert layers[0]["encoding"]["y"]["field"] == "ci_low" and layers[0]["encoding"]["y2"]["field"] == "ci_high"
    assert layers[2]["transform"] == [{"filter": "datum.suppressed"}]
    assert layers[1]["encoding"]["x"]["sort"] == ["2024 Q1", "2024 Q2"]
    notes = {r["period"]: r["note"] for r in _dataset(spec, layers[0]) if r["series"] == "Pilot"}
    assert notes == {"2024 Q1": "", "2024 Q2": "Suppressed (n<11)"}


def test_survival_chart_draws_steps_whether_read_at_a_few_days_or_in_full() -> None:
    """Issue 15: a Kaplan–Meier curve is a step function (step-after) with its band, also when it is
    read at a few days only; the numbers at risk are drawn under the plot."""
    few = pl.DataFrame(
        {"series": ["Pilot"] * 3, "day": [0, 90, 180], "survival": [1.0, 0.9, 0.8],
         "ci_low": [1.0, 0.85, 0.74], "ci_high": [1.0, 0.94, 0.85], "at_risk": [50, 45, 40]}
    )
    full = pl.DataFrame(
        {"series": ["Pilot"] * 20, "day": list(range(20)), "survival": [1.0 - i / 100 for i in range(20)],
         "ci_low": [1.0 - i / 50 for i in range(20)], "ci_high": [1.0] * 20, "at_risk": list(range(20, 0, -1))}
    )
    for data in (few, full):
        spec = charts_evaluation.survival_chart(data, title="t").to_dict()
        plot, at_risk = spec["vconcat"]
        assert [layer["mark"]["type"] for layer in plot["layer"]] == ["area", "line", "point"]
        assert plot["layer"][0]["mark"] == {"type": "area", "opacity": 0.18, "interpolate": "step-after"}
        assert plot["layer"][1]["mark"]["interpolate"] == "step-after"
        assert at_risk["encoding"]["text"]["field"] == "at_risk_label"


def test_count_bars_and_funnel_and_heatmap_label_suppressed_cells() -> None:
    counts = pl.DataFrame(
        {"category": ["In force", "Expired", "Expired"], "series": ["MOU", "MOU", "MOA"],
         "count": [20, None, 15], "suppressed": [False, True, False]}
    )
    layers, spec = _layers(charts.count_bars(counts, title="t", category_title="Status"))
    labels = {r["category"]: r["label"] for r in _dataset(spec, layers[1])}
    assert labels == {"In force": "20", "Expired": "15 + suppressed cells (n<11)"}

    funnel = pl.DataFrame(
        {"stage": ["Made", "Accepted", "Completed"], "count": [120, None, 40], "share": [1.0, None, 1 / 3],
         "suppressed": [False, True, False]}
    )
    spec = charts_flow.funnel_chart(funnel, title="t", stage_order=["Made", "Accepted", "Completed"]).to_dict()
    rows = spec["datasets"][spec["data"]["name"]]
    assert [r["label"] for r in rows] == ["120 (100%)", "Suppressed (n<11)", "40 (33%)"]

    flows = pl.DataFrame({"row": ["A", "B"], "column": ["X", "X"], "count": [30, None], "suppressed": [False, True]})
    layers, spec = _layers(charts_flow.flow_heatmap(flows, title="t"))
    assert [r["label"] for r in _dataset(spec, layers[0])] == ["30", "<11"]


def test_page_downloads_are_real_png_svg_pdf_csv_xlsx() -> None:
    """The page download buttons use dashboard.export: every chart format and both table formats."""
    from dashboard.export import chart_producer, table_producer

    chart = charts.rate_bars(_rate_rows(), title="Export check", category_title="c", value_title="v")
    assert chart_producer(chart, "png")()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = chart_producer(chart, "svg")().decode()
    assert svg.lstrip().startswith("<svg") and "Export check" in svg and "Suppressed (n&lt;11)" in svg
    assert chart_producer(chart, "pdf")()[:5] == b"%PDF-"
    csv = table_producer(_rate_rows(), "csv")().decode("utf-8-sig").splitlines()
    assert csv[0] == "category,series,value,ci_low,ci_high,numerator,denominator,suppressed"
    # A withheld row says so in every numeric cell, never a number.
    assert csv[3] == "Agency B,Pilot," + ",".join(["suppressed"] * 6)
    assert table_producer(_rate_rows(), "xlsx")()[:2] == b"PK"


def test_series_colours_are_stable_and_colour_blind_safe() -> None:
    scale = charts.series_colours(["Comparison", "Pilot", "Other"]).to_dict()
    assert scale["range"][:2] == [charts.COMPARISON_COLOUR, charts.PILOT_COLOUR]
    assert all(c in charts.OKABE_ITO for c in scale["range"])
    json.dumps(scale)
