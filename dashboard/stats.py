"""Statistics used by the metrics and the pilot evaluation (docs/metrics.md).

Pure functions over counts and arrays; nothing here knows about tables.
Every function returns ``None`` where its quantity is undefined (no
observations, a zero variance, a share of 0 or 1 where a logit is needed) so
callers can write ``null`` instead of NaN or infinity.

Definitions, all 95% and two-sided:

- Wilson score interval for a proportion, no continuity correction.
- Newcombe's hybrid score interval for a difference of two independent
  proportions (method 10 of Newcombe 1998): the two Wilson intervals combined
  by the square-and-add rule, no continuity correction.
- Pooled two-proportion z-test.
- Kaplan–Meier survival with the log(−log) ("exponential Greenwood")
  interval, and the (Mantel–Cox) log-rank test.
- Baseline equivalence as the What Works Clearinghouse computes it: Hedges' g
  for a continuous covariate, the Cox index for a binary one, and the WWC
  labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

# The standard normal's 0.975 quantile, to the last bit as scipy.stats.norm.ppf gives it
# (tests/test_stats.py checks). The normal and chi-square tails below are closed
# forms through math.erfc, so the dashboard does not import scipy (about 1.4 s).
Z95: float = 1.959963984540054
"""The 97.5th percentile of the standard normal (≈ 1.959964): two-sided 95%."""

COX_INDEX_DIVISOR = 1.65
"""WWC's divisor turning a difference of log-odds into a standardised effect."""

WWC_EQUIVALENT = 0.05
WWC_ADJUSTMENT_NEEDED = 0.25

WwcLabel = Literal["equivalent", "adjustment_needed", "not_equivalent"]


# --- proportions -------------------------------------------------------------------


def _check_count(successes: int, n: int, what: str = "count") -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(
            f"{what} {successes} of {n} is not a valid proportion: need 0 <= successes <= n. "
            "This is a bug in the caller; please report it with the filters used."
        )


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for ``successes / n`` without continuity correction.

    centre = (k + z²/2) / (n + z²),
    half   = z · sqrt(k(n − k)/n + z²/4) / (n + z²).

    Mathematically the interval lies in [0, 1], contains k/n, starts at
    exactly 0 when k = 0 and ends at exactly 1 when k = n; the ends are held
    to those facts against floating-point rounding. ``None`` when ``n == 0``
    (no rate to estimate).
    """
    _check_count(successes, n)
    if n == 0:
        return None
    k = float(successes)
    nn = float(n)
    z2 = z * z
    denom = nn + z2
    centre = (k + z2 / 2.0) / denom
    half = z * math.sqrt(k * (nn - k) / nn + z2 / 4.0) / denom
    rate = k / nn
    low = 0.0 if successes == 0 else min(rate, max(0.0, centre - half))
    high = 1.0 if successes == n else max(rate, min(1.0, centre + half))
    return (low, high)


def newcombe_difference(
    k1: int, n1: int, k2: int, n2: int, z: float = Z95
) -> tuple[float, float, float] | None:
    """Difference ``p1 − p2`` with Newcombe's hybrid score interval (method 10, no cc).

    With (l1, u1) and (l2, u2) the Wilson intervals of p1 and p2:
    low  = d − sqrt((p1 − l1)² + (u2 − p2)²),
    high = d + sqrt((u1 − p1)² + (p2 − l2)²).

    Returns ``(difference, low, high)``; ``None`` when either group is empty.
    """
    _check_count(k1, n1, "first group")
    _check_count(k2, n2, "second group")
    if n1 == 0 or n2 == 0:
        return None
    p1 = k1 / n1
    p2 = k2 / n2
    w1 = wilson_interval(k1, n1, z)
    w2 = wilson_interval(k2, n2, z)
    assert w1 is not None and w2 is not None
    l1, u1 = w1
    l2, u2 = w2
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (d, low, high)


def two_proportion_z_test(k1: int, n1: int, k2: int, n2: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test.

    p = (k1 + k2)/(n1 + n2); z = (p1 − p2) / sqrt(p(1 − p)(1/n1 + 1/n2)).
    ``None`` when undefined: an empty group, or a pooled share of 0 or 1
    (both rates 0 or both 1: the standard error is 0).
    """
    _check_count(k1, n1, "first group")
    _check_count(k2, n2, "second group")
    if n1 == 0 or n2 == 0:
        return None
    pooled = (k1 + k2) / (n1 + n2)
    if pooled <= 0.0 or pooled >= 1.0:
        return None
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    z = (k1 / n1 - k2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2.0))  # two-sided normal tail, 2 * (1 - Phi(|z|))


# --- survival ----------------------------------------------------------------------


@dataclass(frozen=True)
class SurvivalPoint:
    """The Kaplan–Meier estimate read at one time.

    ``at_risk`` counts participants whose time is at least ``time`` (still
    followed at the start of that day), which is also the count the estimate
    at ``time`` rests on.
    """

    time: float
    survival: float
    ci_low: float
    ci_high: float
    at_risk: int


@dataclass(frozen=True)
class KaplanMeierCurve:
    """A fitted Kaplan–Meier curve.

    ``event_times`` are the distinct times with at least one event, ascending;
    ``survival[i]`` is S just after ``event_times[i]`` and ``greenwood[i]`` is
    Σ d/(n(n − d)) over event times up to and including it (``inf`` once every
    participant still at risk had the event, i.e. once S = 0).
    """

    durations: NDArray[np.float64]
    events: NDArray[np.bool_]
    event_times: NDArray[np.float64]
    survival: NDArray[np.float64]
    greenwood: NDArray[np.float64]
    z: float = Z95

    @property
    def n(self) -> int:
        return int(self.durations.size)

    @property
    def n_events(self) -> int:
        return int(self.events.sum())

    def at_risk(self, t: float) -> int:
        """Participants whose time is ≥ t."""
        return int(np.count_nonzero(self.durations >= t))

    def survival_at(self, t: float) -> float:
        """S(t) = Π over event times tᵢ ≤ t of (1 − dᵢ/nᵢ); 1 before the first event."""
        i = int(np.searchsorted(self.event_times, t, side="right")) - 1
        return 1.0 if i < 0 else float(self.survival[i])

    def at(self, t: float) -> SurvivalPoint | None:
        """S(t), its 95% log(−log) interval and the number at risk at ``t``.

        ``None`` when nobody is at risk at ``t`` (every time is below ``t``):
        the curve is not estimated past the last follow-up.

        Interval (Kalbfleisch–Prentice / "exponential Greenwood"): with
        V = Σ d/(n(n − d)) / (log S)², the bounds are S^exp(+z√V) (low) and
        S^exp(−z√V) (high). Conventions at the two ends, where log(−log S)
        is undefined:

        - S = 1 (no event yet): [1, 1].
        - S = 0 (everyone still at risk at the last event time had the event;
          only reachable at that very day, since nobody is at risk after it):
          [0, 0]. The estimate is a point mass there, as lifelines reports it.
        """
        at_risk = self.at_risk(t)
        if at_risk == 0:
            return None
        i = int(np.searchsorted(self.event_times, t, side="right")) - 1
        if i < 0:
            return SurvivalPoint(float(t), 1.0, 1.0, 1.0, at_risk)
        s = float(self.survival[i])
        if s >= 1.0:
            return SurvivalPoint(float(t), 1.0, 1.0, 1.0, at_risk)
        if s <= 0.0 or not math.isfinite(float(self.greenwood[i])):
            return SurvivalPoint(float(t), 0.0, 0.0, 0.0, at_risk)
        log_s = math.log(s)
        spread = self.z * math.sqrt(float(self.greenwood[i])) / abs(log_s)
        low = s ** math.exp(spread)
        high = s ** math.exp(-spread)
        return SurvivalPoint(float(t), s, low, high, at_risk)


def _as_arrays(durations: ArrayLike, events: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    d = np.asarray(durations, dtype=np.float64).reshape(-1)
    e = np.asarray(events, dtype=bool).reshape(-1)
    if d.shape != e.shape:
        raise ValueError(
            f"durations ({d.size}) and events ({e.size}) must have the same length: one of each per participant."
        )
    if d.size and (not np.all(np.isfinite(d)) or np.any(d < 0)):
        raise ValueError("durations must be finite and non-negative (days from the index date).")
    return d, e


def _at_risk(sorted_durations: NDArray[np.float64], times: NDArray[np.float64]) -> NDArray[np.int64]:
    """How many durations are ≥ each of ``times`` (``sorted_durations`` ascending)."""
    return sorted_durations.size - np.searchsorted(sorted_durations, times, side="left")


def kaplan_meier(durations: ArrayLike, events: ArrayLike, z: float = Z95) -> KaplanMeierCurve:
    """Fit the Kaplan–Meier estimator.

    ``durations``: time of each participant (days); ``events``: True when the
    time is an event, False when censored. Ties between an event and a
    censoring at the same time follow the usual convention: the censored
    participant is still at risk at that time.
    """
    d, e = _as_arrays(durations, events)
    event_times, deaths = np.unique(d[e], return_counts=True)
    n_risk = _at_risk(np.sort(d), event_times)
    survivors = n_risk - deaths
    # int64 / int64 is float64; numpy's stubs only say "some floating".
    survival = (
        cast("NDArray[np.float64]", np.cumprod(survivors / n_risk)) if event_times.size else np.empty(0)
    )
    with np.errstate(divide="ignore"):
        terms = np.where(survivors > 0, deaths / (n_risk * np.maximum(survivors, 1)), np.inf)
    greenwood = np.cumsum(terms) if event_times.size else np.empty(0)
    return KaplanMeierCurve(d, e, event_times, survival, greenwood, z)


def _events_at(event_durations: NDArray[np.float64], times: NDArray[np.float64]) -> NDArray[np.float64]:
    """How many of ``event_durations`` equal each of ``times`` (``times`` ascending, distinct)."""
    ordered = np.sort(event_durations)
    return (
        np.searchsorted(ordered, times, side="right") - np.searchsorted(ordered, times, side="left")
    ).astype(np.float64)


def logrank_test(
    durations_a: ArrayLike, events_a: ArrayLike, durations_b: ArrayLike, events_b: ArrayLike
) -> tuple[float, float] | None:
    """Two-group (Mantel–Cox) log-rank test: ``(chi2, p)`` with 1 degree of freedom.

    At each distinct event time of the pooled data, with n at risk (nₐ in
    group a) and d events (dₐ in a): E = d·nₐ/n and
    V = d·(nₐ/n)·(1 − nₐ/n)·(n − d)/(n − 1). chi2 = (Σdₐ − ΣE)² / ΣV.
    ``None`` when either group is empty or ΣV = 0 (no event, or no time
    where both groups are at risk together).
    """
    da, ea = _as_arrays(durations_a, events_a)
    db, eb = _as_arrays(durations_b, events_b)
    if da.size == 0 or db.size == 0:
        return None
    times = np.unique(np.concatenate([da[ea], db[eb]]))
    na = _at_risk(np.sort(da), times).astype(np.float64)
    nb = _at_risk(np.sort(db), times).astype(np.float64)
    d_a = _events_at(da[ea], times)
    d_b = _events_at(db[eb], times)
    n = na + nb
    d = d_a + d_b
    observed_minus_expected = float(np.sum(d_a - d * na / n))
    share = na / n
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n > 1, d * share * (1.0 - share) * (n - d) / (n - 1), 0.0)
    variance = float(np.sum(terms))
    if variance <= 0.0:
        return None
    stat = observed_minus_expected**2 / variance
    return (float(stat), math.erfc(math.sqrt(stat / 2.0)))  # chi-square (1 df) upper tail


# --- baseline equivalence (What Works Clearinghouse) ---------------------------------


def hedges_g(x_pilot: Sequence[float] | ArrayLike, x_comparison: Sequence[float] | ArrayLike) -> float | None:
    """Hedges' g of pilot vs comparison, as WWC computes it.

    g = ω · (mean₁ − mean₂) / s_pooled, with
    s_pooled = sqrt(((n₁ − 1)s₁² + (n₂ − 1)s₂²) / (n₁ + n₂ − 2)) (s² with n − 1),
    ω = 1 − 3/(4N − 9), N = n₁ + n₂.
    ``None`` when a group is empty, N < 3 (no pooled degrees of freedom),
    or the pooled SD is 0 (both groups constant).
    """
    a = np.asarray(x_pilot, dtype=np.float64).reshape(-1)
    b = np.asarray(x_comparison, dtype=np.float64).reshape(-1)
    n1, n2 = a.size, b.size
    if n1 == 0 or n2 == 0 or n1 + n2 < 3:
        return None
    ss = float(np.sum((a - a.mean()) ** 2) + np.sum((b - b.mean()) ** 2))
    pooled_sd = math.sqrt(ss / (n1 + n2 - 2))
    if pooled_sd == 0.0:
        return None
    total = n1 + n2
    omega = 1.0 - 3.0 / (4.0 * total - 9.0)
    return float(omega * (a.mean() - b.mean()) / pooled_sd)


def cox_index(p_pilot: float | None, p_comparison: float | None) -> float | None:
    """Cox index: (logit p₁ − logit p₂) / 1.65; ``None`` when a share is 0, 1 or missing."""
    if p_pilot is None or p_comparison is None:
        return None
    if not (0.0 < p_pilot < 1.0) or not (0.0 < p_comparison < 1.0):
        return None

    def logit(p: float) -> float:
        return math.log(p / (1.0 - p))

    return (logit(p_pilot) - logit(p_comparison)) / COX_INDEX_DIVISOR


def wwc_label(effect: float | None) -> WwcLabel | None:
    """WWC baseline label: |e| ≤ 0.05 equivalent, ≤ 0.25 adjustment_needed, else not_equivalent."""
    if effect is None:
        return None
    size = abs(effect)
    if size <= WWC_EQUIVALENT:
        return "equivalent"
    if size <= WWC_ADJUSTMENT_NEEDED:
        return "adjustment_needed"
    return "not_equivalent"
