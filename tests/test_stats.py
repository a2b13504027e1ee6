"""dashboard.stats: hand-computed values, then cross-checks against statsmodels and lifelines.

statsmodels and lifelines are test-only dependencies: the runtime module uses
numpy/scipy only, so these are independent second implementations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dashboard.stats import (
    Z95,
    cox_index,
    hedges_g,
    kaplan_meier,
    logrank_test,
    newcombe_difference,
    two_proportion_z_test,
    wilson_interval,
    wwc_label,
)

lifelines = pytest.importorskip("lifelines")
sm_proportion = pytest.importorskip("statsmodels.stats.proportion")

APPROX = dict(abs=5e-6)


# --- hand-computed values ------------------------------------------------------------


def test_z95_is_the_two_sided_95_percent_normal_quantile() -> None:
    from scipy.stats import norm

    assert Z95 == float(norm.ppf(0.975))  # to the last bit


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(15, 50, 10, 50), (1, 400, 30, 400), (2, 3, 1, 9), (90, 100, 10, 100)])
def test_z_test_tail_matches_scipy(k1: int, n1: int, k2: int, n2: int) -> None:
    """p-values use math.erfc (no scipy on the dashboard's start-up); scipy agrees."""
    from scipy.stats import norm

    pooled = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert two_proportion_z_test(k1, n1, k2, n2) == pytest.approx(2.0 * norm.sf(abs(z)), rel=1e-12, abs=1e-300)


def test_logrank_tail_matches_scipy() -> None:
    from scipy.stats import chi2

    from dashboard.stats import logrank_test

    result = logrank_test([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 1, 0, 1, 1, 0, 1],
                          [3, 5, 7, 9, 11, 13, 15, 17], [1, 0, 1, 0, 1, 0, 1, 0])
    assert result is not None
    stat, p = result
    assert p == pytest.approx(float(chi2.sf(stat, 1)), rel=1e-12)


def test_wilson_three_of_ten() -> None:
    # z² = 3.841459, n + z² = 13.841459
    # centre = (3 + 1.920729) / 13.841459 = 0.355506
    # half   = 1.959964 · sqrt(3·7/10 + 3.841459/4) / 13.841459
    #        = 1.959964 · sqrt(3.060365) / 13.841459 = 1.959964 · 1.749390 / 13.841459 = 0.247715
    low, high = wilson_interval(3, 10)  # type: ignore[misc]
    assert low == pytest.approx(0.355506 - 0.247715, **APPROX)
    assert high == pytest.approx(0.355506 + 0.247715, **APPROX)


def test_wilson_zero_of_ten_starts_at_zero() -> None:
    # k = 0: centre = half = 1.920729 / 13.841459 → low 0, high 2 · 0.138767 = 0.277533
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.277533, **APPROX))
    # symmetric: 10/10 → (1 − 0.277533, 1)
    assert wilson_interval(10, 10) == (pytest.approx(0.722467, **APPROX), 1.0)


def test_wilson_undefined_without_observations() -> None:
    assert wilson_interval(0, 0) is None


def test_wilson_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="not a valid proportion"):
        wilson_interval(5, 3)


def test_newcombe_textbook_example() -> None:
    # Newcombe (1998), example 56/70 vs 48/80, method 10: difference 0.2, interval 0.0524 to 0.3339.
    # Wilson 56/70 = (0.6908, 0.8770) and 48/80 = (0.4904, 0.7007):
    # low  = 0.2 − sqrt((0.8 − 0.6908)² + (0.7007 − 0.6)²) = 0.2 − sqrt(0.01192 + 0.01014) = 0.0524
    # high = 0.2 + sqrt((0.8770 − 0.8)² + (0.6 − 0.4904)²) = 0.2 + sqrt(0.00593 + 0.01201) = 0.3339
    d, low, high = newcombe_difference(56, 70, 48, 80)  # type: ignore[misc]
    assert d == pytest.approx(0.2, abs=1e-12)
    assert low == pytest.approx(0.0524, abs=5e-5)
    assert high == pytest.approx(0.3339, abs=5e-5)


def test_newcombe_undefined_with_an_empty_group() -> None:
    assert newcombe_difference(0, 0, 3, 10) is None
    assert newcombe_difference(3, 10, 0, 0) is None


def test_pooled_z_test_by_hand() -> None:
    # 15/50 vs 10/50: pooled p = 25/100 = 0.25; se = sqrt(0.25 · 0.75 · (1/50 + 1/50)) = sqrt(0.0075) = 0.0866025
    # z = (0.30 − 0.20) / 0.0866025 = 1.154701; p = 2 · (1 − Φ(1.154701)) = 2 · 0.124107 = 0.248213
    assert two_proportion_z_test(15, 50, 10, 50) == pytest.approx(0.248213, **APPROX)


@pytest.mark.parametrize(
    "k1,n1,k2,n2",
    [(0, 10, 0, 12), (10, 10, 12, 12), (0, 0, 3, 10), (3, 10, 0, 0)],
)
def test_z_test_is_undefined_when_pooled_share_is_0_or_1_or_a_group_is_empty(
    k1: int, n1: int, k2: int, n2: int
) -> None:
    assert two_proportion_z_test(k1, n1, k2, n2) is None


# Six participants: times 1 2 2 3 4 5, events at 1, 2 (one of the two), 3 and 5.
DURATIONS = [1, 2, 2, 3, 4, 5]
EVENTS = [1, 1, 0, 1, 0, 1]


def test_kaplan_meier_by_hand() -> None:
    # t=1: n=6 d=1 → S = 5/6;                 Σ d/(n(n−d)) = 1/30
    # t=2: n=5 d=1 → S = 5/6 · 4/5 = 2/3;     Σ = 1/30 + 1/20 = 1/12
    # t=3: n=3 d=1 → S = 2/3 · 2/3 = 4/9;     Σ = 1/12 + 1/6 = 1/4
    # t=5: n=1 d=1 → S = 0
    curve = kaplan_meier(DURATIONS, EVENTS)
    assert curve.n == 6 and curve.n_events == 4
    p = curve.at(3)
    assert p is not None
    assert p.survival == pytest.approx(4 / 9, abs=1e-12)
    # log S = ln(4/9) = −0.810930; V = 0.25 / 0.810930² = 0.380167; z√V = 1.959964 · 0.616577 = 1.208469
    # low = (4/9)^exp(1.208469) = (4/9)^3.348436 = exp(−2.715325) = 0.066187
    # high = (4/9)^exp(−1.208469) = (4/9)^0.298646 = exp(−0.242182) = 0.784908
    assert p.ci_low == pytest.approx(0.066187, **APPROX)
    assert p.ci_high == pytest.approx(0.784908, **APPROX)
    assert p.at_risk == 3  # times ≥ 3: 3, 4, 5


def test_kaplan_meier_step_between_event_times_and_at_risk_semantics() -> None:
    curve = kaplan_meier(DURATIONS, EVENTS)
    p4 = curve.at(4)
    p3 = curve.at(3)
    assert p4 is not None and p3 is not None
    # No event at 4 (censored): the estimate and interval stay those of t=3; at risk = times ≥ 4 = {4, 5}
    assert (p4.survival, p4.ci_low, p4.ci_high) == (p3.survival, p3.ci_low, p3.ci_high)
    assert p4.at_risk == 2
    # t=2.5: estimate of t=2 (2/3), at risk = times ≥ 2.5 = {3, 4, 5}
    p = curve.at(2.5)
    assert p is not None and p.survival == pytest.approx(2 / 3) and p.at_risk == 3


def test_kaplan_meier_before_the_first_event_is_one_with_interval_one_one() -> None:
    p = kaplan_meier(DURATIONS, EVENTS).at(0.5)
    assert p is not None
    assert (p.survival, p.ci_low, p.ci_high, p.at_risk) == (1.0, 1.0, 1.0, 6)


def test_kaplan_meier_at_zero_survival_is_zero_zero_and_none_past_follow_up() -> None:
    curve = kaplan_meier(DURATIONS, EVENTS)
    p = curve.at(5)  # the last participant has the event at 5: S = 0, one at risk
    assert p is not None
    assert (p.survival, p.ci_low, p.ci_high, p.at_risk) == (0.0, 0.0, 0.0, 1)
    assert curve.at(6) is None  # nobody has a time ≥ 6


def test_kaplan_meier_all_censored_stays_at_one() -> None:
    curve = kaplan_meier([3, 7, 7], [0, 0, 0])
    p = curve.at(7)
    assert p is not None and (p.survival, p.ci_low, p.ci_high, p.at_risk) == (1.0, 1.0, 1.0, 2)
    assert curve.at(8) is None


def test_kaplan_meier_empty_cohort_has_no_points() -> None:
    curve = kaplan_meier([], [])
    assert curve.n == 0 and curve.at(90) is None


def test_kaplan_meier_rejects_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="same length"):
        kaplan_meier([1, 2], [1])
    with pytest.raises(ValueError, match="non-negative"):
        kaplan_meier([-1], [1])


def test_logrank_by_hand() -> None:
    # A: times 1 (event), 3 (event); B: 2 (event), 4 (censored)
    # t=1: nA=2 nB=2 d=1 dA=1: E=1/2, O−E=+1/2, V=1·½·½·3/3 = 1/4
    # t=2: nA=1 nB=2 d=1 dA=0: E=1/3, O−E=−1/3, V=1·⅓·⅔·2/2 = 2/9
    # t=3: nA=1 nB=1 d=1 dA=1: E=1/2, O−E=+1/2, V=1·½·½·1/1 = 1/4
    # chi2 = (2/3)² / (1/4 + 2/9 + 1/4) = (4/9) / (13/18) = 8/13 = 0.615385; p = 0.432768
    chi2, p = logrank_test([1, 3], [1, 1], [2, 4], [1, 0])  # type: ignore[misc]
    assert chi2 == pytest.approx(8 / 13, abs=1e-12)
    assert p == pytest.approx(0.432768, **APPROX)


def test_logrank_undefined_without_events_or_with_an_empty_group() -> None:
    assert logrank_test([1, 2], [0, 0], [3], [0]) is None
    assert logrank_test([], [], [3], [1]) is None


def test_hedges_g_by_hand() -> None:
    # pilot 20 22 24 (mean 22, SS 8); comparison 21 25 29 (mean 25, SS 32)
    # s_pooled = sqrt((8 + 32) / (6 − 2)) = sqrt(10) = 3.162278; ω = 1 − 3/(4·6 − 9) = 0.8
    # g = 0.8 · (22 − 25) / 3.162278 = −0.758947
    assert hedges_g([20, 22, 24], [21, 25, 29]) == pytest.approx(-0.758947, **APPROX)


def test_hedges_g_undefined_cases() -> None:
    assert hedges_g([], [1, 2]) is None
    assert hedges_g([5, 5], [5, 5]) is None  # pooled SD 0


def test_cox_index_by_hand() -> None:
    # logit 0.5 = 0; logit 0.25 = ln(1/3) = −1.098612; (0 + 1.098612)/1.65 = 0.665826
    assert cox_index(0.5, 0.25) == pytest.approx(0.665826, **APPROX)
    assert cox_index(0.0, 0.25) is None
    assert cox_index(0.5, 1.0) is None
    assert cox_index(None, 0.5) is None


@pytest.mark.parametrize(
    "effect,label",
    [
        (0.0, "equivalent"),
        (0.05, "equivalent"),
        (-0.05, "equivalent"),
        (0.0500001, "adjustment_needed"),
        (0.25, "adjustment_needed"),
        (-0.25, "adjustment_needed"),
        (0.2500001, "not_equivalent"),
        (-1.3, "not_equivalent"),
        (None, None),
    ],
)
def test_wwc_label_boundaries(effect: float | None, label: str | None) -> None:
    assert wwc_label(effect) == label


# --- cross-checks against statsmodels -------------------------------------------------

counts = st.integers(min_value=1, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@settings(max_examples=300, deadline=None)
@given(counts)
def test_wilson_agrees_with_statsmodels_and_contains_the_rate(kn: tuple[int, int]) -> None:
    k, n = kn
    interval = wilson_interval(k, n)
    assert interval is not None
    low, high = interval
    ref_low, ref_high = sm_proportion.proportion_confint(k, n, alpha=0.05, method="wilson")
    assert low == pytest.approx(ref_low, abs=1e-9)
    assert high == pytest.approx(ref_high, abs=1e-9)
    assert 0.0 <= low <= k / n <= high <= 1.0


@settings(max_examples=300, deadline=None)
@given(counts, counts)
def test_newcombe_agrees_with_statsmodels(a: tuple[int, int], b: tuple[int, int]) -> None:
    (k1, n1), (k2, n2) = a, b
    result = newcombe_difference(k1, n1, k2, n2)
    assert result is not None
    d, low, high = result
    ref_low, ref_high = sm_proportion.confint_proportions_2indep(
        k1, n1, k2, n2, method="newcomb", compare="diff", alpha=0.05
    )
    assert d == pytest.approx(k1 / n1 - k2 / n2, abs=1e-12)
    assert low == pytest.approx(ref_low, abs=1e-9)
    assert high == pytest.approx(ref_high, abs=1e-9)
    assert -1.0 <= low <= d <= high <= 1.0


@settings(max_examples=300, deadline=None)
@given(counts, counts)
def test_z_test_agrees_with_statsmodels(a: tuple[int, int], b: tuple[int, int]) -> None:
    (k1, n1), (k2, n2) = a, b
    p = two_proportion_z_test(k1, n1, k2, n2)
    pooled = (k1 + k2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        assert p is None
        return
    from statsmodels.stats.proportion import proportions_ztest

    _, ref = proportions_ztest([k1, k2], [n1, n2], alternative="two-sided")
    assert p is not None and 0.0 <= p <= 1.0
    assert p == pytest.approx(float(ref), abs=1e-9)


# --- cross-checks against lifelines ---------------------------------------------------


def _lifelines_at(kmf: object, t: float) -> tuple[float, float, float, int] | None:
    """lifelines' S, interval and at-risk count read at ``t`` (step function, right-continuous).

    lifelines tabulates at the observed times only; its ``at_risk`` at an
    observed time u counts durations ≥ u, so at any t it is the count at the
    first observed time ≥ t (0 past the last one).
    """
    table = kmf.event_table  # type: ignore[attr-defined]
    later = table.index[table.index >= t]
    if len(later) == 0:
        return None
    at_risk = int(table.loc[later[0], "at_risk"])
    sf = kmf.survival_function_  # type: ignore[attr-defined]
    ci = kmf.confidence_interval_survival_function_  # type: ignore[attr-defined]
    up_to = sf.index[sf.index <= t]
    if len(up_to) == 0:
        return (1.0, 1.0, 1.0, at_risk)
    u = up_to[-1]
    return (float(sf.loc[u].iloc[0]), float(ci.loc[u].iloc[0]), float(ci.loc[u].iloc[1]), at_risk)


def test_kaplan_meier_uses_lifelines_default_interval_on_the_hand_example() -> None:
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter().fit(DURATIONS, EVENTS)
    curve = kaplan_meier(DURATIONS, EVENTS)
    for t in (0.5, 1, 2, 2.5, 3, 4, 5):
        ours = curve.at(t)
        ref = _lifelines_at(kmf, t)
        assert ours is not None and ref is not None
        assert (ours.survival, ours.ci_low, ours.ci_high) == pytest.approx(ref[:3], abs=1e-9)
        assert ours.at_risk == ref[3]


survival_samples = st.lists(
    st.tuples(st.integers(min_value=0, max_value=60), st.booleans()), min_size=1, max_size=40
)


@settings(max_examples=150, deadline=None)
@given(survival_samples, st.lists(st.integers(min_value=0, max_value=70), min_size=1, max_size=6))
def test_kaplan_meier_agrees_with_lifelines(sample: list[tuple[int, bool]], times: list[int]) -> None:
    from lifelines import KaplanMeierFitter

    durations = [d for d, _ in sample]
    events = [e for _, e in sample]
    kmf = KaplanMeierFitter().fit(durations, events)
    curve = kaplan_meier(durations, events)
    assert curve.n_events == sum(events)
    for t in times:
        ours = curve.at(t)
        ref = _lifelines_at(kmf, t)
        if ref is None or ref[3] == 0:
            assert ours is None
            continue
        assert ours is not None
        assert ours.at_risk == ref[3]
        assert ours.survival == pytest.approx(ref[0], abs=1e-9)
        assert ours.ci_low == pytest.approx(ref[1], abs=1e-9)
        assert ours.ci_high == pytest.approx(ref[2], abs=1e-9)
        assert 0.0 <= ours.ci_low <= ours.survival <= ours.ci_high <= 1.0


@settings(max_examples=150, deadline=None)
@given(survival_samples, survival_samples)
def test_logrank_agrees_with_lifelines(a: list[tuple[int, bool]], b: list[tuple[int, bool]]) -> None:
    from lifelines.statistics import logrank_test as ll_logrank

    da, ea = [d for d, _ in a], [e for _, e in a]
    db, eb = [d for d, _ in b], [e for _, e in b]
    ours = logrank_test(da, ea, db, eb)
    assume(ours is not None)
    assert ours is not None
    ref = ll_logrank(da, db, event_observed_A=ea, event_observed_B=eb)
    assert ours[0] == pytest.approx(float(ref.test_statistic), rel=1e-9, abs=1e-9)
    assert ours[1] == pytest.approx(float(ref.p_value), rel=1e-9, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=10, max_value=100), min_size=2, max_size=40),
    st.lists(st.integers(min_value=10, max_value=100), min_size=2, max_size=40),
)
def test_hedges_g_agrees_with_a_direct_formula(a: list[int], b: list[int]) -> None:
    g = hedges_g(a, b)
    n1, n2 = len(a), len(b)
    var1 = float(np.var(a, ddof=1))
    var2 = float(np.var(b, ddof=1))
    pooled = math.sqrt(((n1 - 1) * var1 + (n2 - 1) * var2) / (n1 + n2 - 2))
    if pooled == 0:
        assert g is None
        return
    expected = (1 - 3 / (4 * (n1 + n2) - 9)) * (float(np.mean(a)) - float(np.mean(b))) / pooled
    assert g == pytest.approx(expected, rel=1e-9, abs=1e-12)
