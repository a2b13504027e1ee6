"""One wording rule for a pilot − comparison difference (dashboard.views.stated_direction):
a direction only when the interval excludes zero (and p < 0.05 when a p-value is given),
otherwise "no clear difference" — in the chart title, the reading sentences and the programs table."""

from __future__ import annotations

from dashboard import views, views_evaluation


def _window(value: float, low: float, high: float, p: float | None) -> dict:
    return {"window_months": 12, "difference": {"value": value, "ci_low": low, "ci_high": high}, "p_value": p,
            "pilot": {"rate": 0.30, "denominator": 400, "numerator": 120},
            "comparison": {"rate": 0.30 - value, "denominator": 400, "numerator": int((0.30 - value) * 400)}}


def test_rule_states_a_direction_only_when_the_interval_excludes_zero() -> None:
    assert views.stated_direction(-0.054, -0.089, -0.019) == "lower"
    assert views.stated_direction(0.04, 0.01, 0.07) == "higher"
    # The reconviction chart: -2.4 pp with (-4.9, +0.1) includes zero.
    assert views.stated_direction(-0.024, -0.049, 0.001) is None
    # Boundary: an interval touching zero does not exclude it.
    assert views.stated_direction(-0.03, -0.06, 0.0) is None
    assert views.stated_direction(0.03, 0.0, 0.06) is None
    # With a p-value both must agree; without an interval the p-value alone decides.
    assert views.stated_direction(-0.054, -0.089, -0.019, 0.2) is None
    assert views.stated_direction(-0.054, -0.089, -0.019, 0.003) == "lower"
    assert views.stated_direction(-0.054, None, None, 0.01) == "lower"
    assert views.stated_direction(-0.054, None, None, 0.05) is None
    assert views.stated_direction(None, -0.1, -0.05) is None


def test_difference_title_says_no_clear_difference_when_the_interval_includes_zero() -> None:
    significant = views.difference_title("Reconviction", _window(-0.054, -0.089, -0.019, 0.002))
    assert significant == "Reconviction: pilot 5.4 pp lower at 12 months (95% CI [-8.9, -1.9] pp)"
    unclear = views.difference_title("Reconviction", _window(-0.024, -0.049, 0.001, 0.06))
    assert unclear == "Reconviction: no clear difference at 12 months (-2.4 pp, 95% CI [-4.9, +0.1] pp)"
    assert "lower" not in unclear and "higher" not in unclear
    touching = views.difference_title("Reconviction", _window(-0.03, -0.06, 0.0, 0.049))
    assert touching.startswith("Reconviction: no clear difference")


def test_reading_sentences_and_programs_table_follow_the_same_rule() -> None:
    unclear = views.evaluation_reading(_window(-0.024, -0.049, 0.001, 0.06), measure_label="Reconviction")
    assert any("not distinguishable from no difference" in s for s in unclear)
    assert not any("lower;" in s for s in unclear)
    clear = views.evaluation_reading(_window(-0.054, -0.089, -0.019, 0.002), measure_label="Reconviction")
    assert any("5.4 pp lower" in s and "significant" in s for s in clear)
    table = views_evaluation.programs_summary_table([
        ("A", {"windows": [{"measure": "rearrest", **_window(-0.054, -0.089, -0.019, 0.002)}]}),
        ("B", {"windows": [{"measure": "rearrest", **_window(-0.024, -0.049, 0.001, 0.06)}]}),
        ("C", {"windows": [{"measure": "rearrest", **_window(-0.03, -0.06, 0.0, 0.04)}]}),
    ])
    assert table.get_column("Reading").to_list() == [
        "Pilot lower (significant at 5%)", "No clear difference", "No clear difference"]
