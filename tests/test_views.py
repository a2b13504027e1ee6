"""Display helpers: picking engine rows, formatting, suppression marks and the
sentences that state findings without overstating them."""

from __future__ import annotations

import polars as pl
import pytest

from dashboard import views, views_evaluation, views_trends


def _engine_like() -> pl.DataFrame:
    # The shape compute_metrics returns (SPEC §4): group_by a list, group a mapping.
    return pl.DataFrame(
        {
            "metric": ["m", "m", "m", "m", "other"],
            "group_by": [[], ["cohort"], ["cohort"], ["program_id", "cohort"], []],
            "group": [
                {"program_id": None, "cohort": None},
                {"program_id": None, "cohort": "pilot"},
                {"program_id": None, "cohort": "comparison"},
                {"program_id": "P01", "cohort": "pilot"},
                {"program_id": None, "cohort": None},
            ],
            "numerator": [70, 60, None, 5, 1],
            "denominator": [200, 100, None, 40, 2],
            "value": [0.35, 0.6, None, 0.125, 0.5],
            "ci_low": [0.29, 0.5, None, 0.05, 0.1],
            "ci_high": [0.42, 0.69, None, 0.26, 0.9],
            "suppressed": [False, False, True, False, False],
        }
    )


def test_metric_rows_selects_exact_grouping_and_expands_keys() -> None:
    frame = _engine_like()
    overall = views.metric_rows(frame, "m")
    assert overall.height == 1 and overall["value"][0] == 0.35
    by_cohort = views.metric_rows(frame, "m", ("cohort",))
    assert by_cohort["cohort"].to_list() == ["pilot", "comparison"]
    assert by_cohort["suppressed"].to_list() == [False, True]
    two = views.metric_rows(frame, "m", ("program_id", "cohort"))
    assert two.row(0, named=True)["program_id"] == "P01"
    assert views.metric_rows(frame, "m", ("agency_id",)).height == 0
    assert views.overall_row(frame, "missing") is None
    assert set(views.cohort_rows(frame, "m")) == {"pilot", "comparison"}


def test_metric_rows_accepts_text_encoded_groups() -> None:
    frame = pl.DataFrame(
        {"metric": ["m"], "group_by": ['["agency_id"]'], "group": ['{"agency_id": "A1"}'],
         "numerator": [3], "denominator": [30], "value": [0.1], "ci_low": [0.03], "ci_high": [0.26],
         "suppressed": [False]}
    )
    assert views.metric_rows(frame, "m", ("agency_id",))["agency_id"].to_list() == ["A1"]


def test_metric_table_formats_and_marks_suppressed_rows() -> None:
    rows = views.metric_rows(_engine_like(), "m", ("cohort",))
    table = views.metric_table(rows, key_titles={"cohort": "Cohort"}, unit="rate", min_cell_size=11)
    assert table.columns == ["Cohort", "Rate", "95% CI", "Numerator", "N (denominator)"]
    assert table.row(0) == ("Pilot", "60.0%", "[50.0%, 69.0%]", "60", "100")
    assert table.row(1) == ("Comparison", "Suppressed (n<11)", "—", "—", "—")


def test_formatting() -> None:
    assert views.format_value(0.2224, "rate") == "22.2%"
    assert views.format_value(12.5, "days") == "12.5 days"
    assert views.format_value(None, "rate") == "—"
    assert views.format_value(float("nan"), "rate") == "—"
    assert views.format_difference(-0.083) == "-8.3 pp"
    assert views.format_interval(-0.164, -0.002, "difference") == "[-16.4, -0.2] pp"
    assert views.format_p_value(0.0004) == "<0.001"
    assert views.humanise("mental_health") == "Mental health"
    assert views.humanise(None) == "Unassigned"
    assert views.suppression_label(5) == "Suppressed (n<5)"


def test_titles_state_the_finding_and_the_gaps() -> None:
    pilot = {"value": 0.62, "suppressed": False}
    comp = {"value": 0.485, "suppressed": False}
    assert views.cohort_comparison_title("Completion", pilot, comp) == "Completion: pilot 62.0% vs comparison 48.5%"
    assert "comparison not shown" in views.cohort_comparison_title("C", pilot, {"suppressed": True})
    rows = [
        {"agency_id": "A1", "value": 0.4, "suppressed": False},
        {"agency_id": "A2", "value": 0.8, "suppressed": False},
        {"agency_id": "A3", "value": None, "suppressed": True},
    ]
    assert views.range_title("Completion", rows, {"A1": "North", "A2": "South"}, "agency_id") == (
        "Completion ranges from 40.0% (North) to 80.0% (South)"
    )
    # +3.0 pp: 0.45 - 0.42, two published values
    assert views.tile_delta({"value": 0.45}, {"value": 0.42}, "rate") == "+3.0 pp vs previous quarter"
    assert views.tile_delta({"value": 0.45}, {"suppressed": True}, "rate") is None


def _window(p: float | None, lo: float, hi: float, n: int = 200) -> dict:
    return {
        "measure": "rearrest", "window_months": 12,
        "pilot": {"rate": 0.2, "denominator": n, "suppressed": False},
        "comparison": {"rate": 0.3, "denominator": n, "suppressed": False},
        "difference": {"value": -0.1, "ci_low": lo, "ci_high": hi},
        "p_value": p,
        "risk_adjusted": {"pilot": 0.21, "comparison": 0.3, "difference": -0.09, "reason": None},
    }


def test_evaluation_reading_says_significant_only_with_the_test() -> None:
    significant = " ".join(views.evaluation_reading(_window(0.01, -0.18, -0.02), measure_label="Rearrest"))
    assert "statistically significant at the 5% level" in significant
    assert "12-month rearrest: 20.0% of pilot participants (N = 200)" in significant
    unclear = " ".join(views.evaluation_reading(_window(0.2, -0.2, 0.05), measure_label="Rearrest"))
    assert "significant" not in unclear and "not distinguishable from no difference" in unclear
    no_test = " ".join(views.evaluation_reading(_window(None, -0.2, 0.05), measure_label="Rearrest"))
    assert "significant" not in no_test and "No test" in no_test
    small = " ".join(views.evaluation_reading(_window(0.2, -0.2, 0.05, n=40), measure_label="Rearrest"))
    assert "fewer than 100" in small
    baseline = [{"covariate": "risk_high", "label": "not_equivalent"}]
    caveat = " ".join(views.evaluation_reading(_window(0.2, -0.2, 0.05), measure_label="Rearrest", baseline=baseline))
    assert "differed at baseline on the share at high risk" in caveat
    suppressed = _window(0.2, -0.2, 0.05)
    suppressed["pilot"] = {"suppressed": True}
    assert "suppressed" in views.evaluation_reading(suppressed, measure_label="Rearrest")[0]


def test_difference_title_and_p_text() -> None:
    window = {"difference": {"value": -0.054, "ci_low": -0.089, "ci_high": -0.019}}
    assert views.difference_title("Rearrest", window) == (
        "Rearrest: pilot 5.4 pp lower at 12 months (95% CI [-8.9, -1.9] pp)"
    )
    assert "withheld" in views.difference_title("Rearrest", {"difference": {"value": None}})
    assert views.p_text(0.0004) == "p < 0.001" and views.p_text(0.036) == "p = 0.036"


def test_agreement_status_on_the_as_of_date() -> None:
    import datetime as dt

    agreements = pl.DataFrame(
        {
            "signed_date": [dt.date(2024, 1, 1)] * 4 + [dt.date(2026, 7, 1)],
            # as-of 2026-06-30: no expiry / expires 2026-09-28 (90 days) / 2026-09-29 (91 days) / 2026-06-29
            "expires_date": [None, dt.date(2026, 9, 28), dt.date(2026, 9, 29), dt.date(2026, 6, 29), None],
        }
    )
    status = views_trends.agreement_status(agreements, dt.date(2026, 6, 30))["status"].to_list()
    assert status == ["In force", "Expiring within 90 days", "In force", "Expired", "Not yet signed"]


def test_ratio_rows_withholds_suppressed_and_zero_base() -> None:
    rows = pl.DataFrame({"value": [0.3, None], "suppressed": [False, True]})
    # 0.3 / 0.2 = 1.5
    assert views_trends.ratio_rows(rows, {"value": 0.2, "suppressed": False})["ratio"].to_list() == [pytest.approx(1.5), None]
    assert views_trends.ratio_rows(rows, {"value": 0.0, "suppressed": False})["ratio"].to_list() == [None, None]


def test_programs_summary_reading_follows_the_test() -> None:
    significant = _window(0.01, -0.18, -0.02)
    unclear = _window(0.2, -0.2, 0.05)
    hidden = _window(0.2, -0.2, 0.05)
    hidden["comparison"] = {"suppressed": True}
    table = views_evaluation.programs_summary_table(
        [("A", {"windows": [significant]}), ("B", {"windows": [unclear]}), ("C", {"windows": [hidden]}),
         ("D", {"windows": []})]
    )
    assert table["Reading"].to_list() == [
        "Pilot lower (significant at 5%)", "No clear difference", "Withheld (small cells)", "—"
    ]
    assert table["Difference [95% CI]"][0] == "-10.0 pp [-18.0, -2.0] pp"
    assert views_evaluation.programs_difference_title(table).startswith("12-month rearrest: pilot significantly lower in 1 of 4 programs")
    frame = views_evaluation.programs_difference_frame([("A", {"windows": [significant]}), ("C", {"windows": [hidden]})])
    assert frame["value"].to_list() == [-0.1, -0.1] and frame["note"][1] == "withheld (suppressed cell)"


def test_survival_n_text() -> None:
    evaluation = {"survival": [
        {"measure": "rearrest", "cohort": "pilot", "n": 1446, "events": 493, "suppressed": False},
        {"measure": "rearrest", "cohort": "comparison", "suppressed": True},
        {"measure": "reconviction", "cohort": "pilot", "n": 1, "events": 0, "suppressed": False},
    ]}
    assert views_evaluation.survival_n_text(evaluation, "rearrest") == (
        "N: pilot 1,446 (493 events), comparison withheld (small cell)"
    )


def test_baseline_share_that_gives_back_a_small_count_is_withheld() -> None:
    """The issue's case: comparison risk_high 0.2903 of N = 31 is 9 people (9 / 31 = 0.2903).
    k = 11: the comparison share and the effect size are withheld; the pilot share (60 of 200)
    and age stay. Without the exact counts, share x N = 0.2903 x 31 = 9.0 < 10.5 withholds it too."""
    evaluation = {
        "min_cell_size": 11,
        "survival": [{"measure": "rearrest", "cohort": "pilot", "n": 200, "suppressed": False},
                     {"measure": "rearrest", "cohort": "comparison", "n": 31, "suppressed": False}],
        "baseline": [
            {"covariate": "age_at_enrollment", "pilot": 30.0, "comparison": 31.0, "effect_size": -0.1,
             "label": "adjustment_needed", "suppressed": False},
            {"covariate": "risk_high", "pilot": 0.3, "comparison": 9 / 31, "effect_size": 0.03,
             "label": "equivalent", "suppressed": False},
            {"covariate": "risk_moderate", "pilot": 0.5, "comparison": 12 / 31, "effect_size": 0.28,
             "label": "not_equivalent", "suppressed": False},
        ],
    }
    counts = {"risk_high": {"pilot": (60, 200), "comparison": (9, 31)},
              "risk_moderate": {"pilot": (100, 200), "comparison": (12, 31)}}
    for table in (views_evaluation.baseline_table(evaluation, 11, counts), views_evaluation.baseline_table(evaluation, 11)):
        rows = {r["Covariate"]: r for r in table.iter_rows(named=True)}
        high = rows[views_evaluation.COVARIATE_WORDS["risk_high"]]
        assert high["Comparison"] == "Withheld (fewer than 11 people)" == high["Effect size"]
        assert high["Pilot"] == "30.0%"
        moderate = rows[views_evaluation.COVARIATE_WORDS["risk_moderate"]]  # 12 people: published
        assert moderate["Comparison"] == "38.7%" and moderate["Effect size"] == "+0.280"
        assert rows[views_evaluation.COVARIATE_WORDS["age_at_enrollment"]]["Pilot"] == "30.0 years"
    # k = 0 turns it off.
    assert views_evaluation.baseline_table(evaluation, 0, counts).row(1, named=True)["Comparison"] == "29.0%"


def test_survival_frame_leaves_small_numbers_at_risk_empty() -> None:
    # k = 11: 7 people still followed at day 730 is a small count; 40 at day 365 is not.
    evaluation = {"min_cell_size": 11, "survival": [{
        "measure": "rearrest", "cohort": "pilot", "n": 50, "events": 20, "suppressed": False,
        "points": [{"day": 365, "survival": 0.7, "ci_low": 0.6, "ci_high": 0.8, "at_risk": 40},
                   {"day": 730, "survival": 0.5, "ci_low": 0.3, "ci_high": 0.7, "at_risk": 7}]}]}
    points, withheld = views_evaluation.survival_frame(evaluation, "rearrest")
    assert points["at_risk"].to_list() == [50, 40, None] and withheld == []


def test_a_program_evaluation_keeps_what_the_view_withholds() -> None:
    """Program P1 evaluated under its own filter publishes its 12-month rearrest pilot cell
    (30/120); the page's own metrics (no program filter) withhold the (P1, pilot) row (a
    complement elsewhere). Shown on that page, the cell is withheld, with the difference, the
    p-value and the risk-adjusted rates; the comparison cell stays."""
    import polars as pl

    cell = {"numerator": 30, "denominator": 120, "rate": 0.25, "ci_low": 0.2, "ci_high": 0.3, "suppressed": False}
    other = {"numerator": 40, "denominator": 100, "rate": 0.4, "ci_low": 0.3, "ci_high": 0.5, "suppressed": False}
    evaluation = {"windows": [{"measure": "rearrest", "window_months": 12, "pilot": cell, "comparison": other,
                               "difference": {"value": -0.15, "ci_low": -0.27, "ci_high": -0.03}, "p_value": 0.01,
                               "risk_adjusted": {"pilot": 0.26, "comparison": 0.39, "difference": -0.13,
                                                 "reason": None}}]}
    frame = pl.DataFrame([
        {"metric": "recidivism_rearrest_12m", "group_by": ["program_id", "cohort"],
         "group": {"program_id": "P1", "agency_id": None, "cohort": "pilot"}, "suppressed": True},
        {"metric": "recidivism_rearrest_12m", "group_by": ["program_id", "cohort"],
         "group": {"program_id": "P1", "agency_id": None, "cohort": "comparison"}, "suppressed": False},
    ])
    shown = views_evaluation.evaluation_within_view(evaluation, frame, "P1")
    window = shown["windows"][0]
    assert window["pilot"]["suppressed"] and window["pilot"]["numerator"] is None
    assert window["comparison"] == other
    assert window["difference"]["value"] is None and window["p_value"] is None
    assert window["risk_adjusted"]["difference"] is None and window["risk_adjusted"]["reason"]
    assert evaluation["windows"][0]["pilot"] == cell  # the input is not changed
    # Another program's rows do not matter.
    assert views_evaluation.evaluation_within_view(evaluation, frame, "P2") == evaluation
