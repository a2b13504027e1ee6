"""The statistical tests behind the drift checks across loads.

A drift alarm is raised only when a change is both *unlikely to be chance*
and *large enough to matter* (docs/stewardship.md, "Checks across loads").
This module answers the first half, for counts:

* **A category's share in two windows** (distribution drift): the 2 × 2 table
  (rows with the value, rows without it) × (recent window, history window).
  Pearson's chi-square test without continuity correction (one degree of
  freedom; the same p-value as the pooled two-proportion z-test) when every
  expected cell count is at least ``exact_below_expected`` (Cochran's rule,
  default 5); Fisher's exact test, two-sided, when any expected count is
  smaller, where the chi-square approximation is poor.
* **A month's row count against the months before** (volume drift): under a
  constant daily rate, the recent month's rows given the rows of recent and
  history months together are binomial with probability (days of the recent
  month) / (days of all those months). The exact two-sided binomial test of
  that probability compares the month with the baseline rate and allows for
  the baseline itself being estimated from counts.
* **Many comparisons in one run**: Benjamini–Hochberg adjusted p-values
  (q-values). Raising an alarm where q ≤ *q\\** keeps the expected share of
  false alarms among all alarms of a run at most *q\\**; on data with no drift
  at all it bounds the chance of any alarm in the run by *q\\**.

Pure functions over counts. scipy (present through Great Expectations) is
imported inside the functions that need it, never at import time, so the
dashboard's start does not pay for it (see ``dashboard/stats.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

CHI_SQUARE = "chi-square test"
FISHER_EXACT = "Fisher's exact test"
EXACT_BINOMIAL = "exact binomial test"
NO_TEST = "no test (nothing to compare)"

DEFAULT_EXACT_BELOW_EXPECTED = 5.0
"""Cochran's rule: the chi-square approximation is trusted when every expected count is at least 5."""


@dataclass(frozen=True)
class TestResult:
    """Which test was run and its two-sided p-value."""

    test: str
    p_value: float


def _check_counts(**counts: int) -> None:
    bad = {name: value for name, value in counts.items() if value < 0}
    if bad:
        raise ValueError(
            "counts must not be negative, got "
            + ", ".join(f"{k}={v}" for k, v in bad.items())
            + "; this is a bug in the caller"
        )


def expected_counts(k_recent: int, n_recent: int, k_history: int, n_history: int) -> tuple[float, ...]:
    """Expected cell counts of the 2 × 2 table under equal shares, in the order
    (recent with, recent without, history with, history without)."""
    n = n_recent + n_history
    if n == 0:
        return (0.0, 0.0, 0.0, 0.0)
    with_value = k_recent + k_history
    without = n - with_value
    return (
        n_recent * with_value / n,
        n_recent * without / n,
        n_history * with_value / n,
        n_history * without / n,
    )


def chi_square_p(k_recent: int, n_recent: int, k_history: int, n_history: int) -> float:
    """Pearson's chi-square (1 df, no continuity correction) p-value of the 2 × 2 table.

    The statistic equals z² of the pooled two-proportion z-test; the tail of a
    chi-square with one degree of freedom is ``erfc(sqrt(x / 2))``.
    """
    n = n_recent + n_history
    with_value = k_recent + k_history
    if n_recent == 0 or n_history == 0 or with_value == 0 or with_value == n:
        return 1.0
    a, b = k_recent, n_recent - k_recent
    c, d = k_history, n_history - k_history
    statistic = n * (a * d - b * c) ** 2 / (n_recent * n_history * with_value * (n - with_value))
    return math.erfc(math.sqrt(statistic / 2.0))


def proportion_test(
    k_recent: int,
    n_recent: int,
    k_history: int,
    n_history: int,
    exact_below_expected: float = DEFAULT_EXACT_BELOW_EXPECTED,
) -> TestResult:
    """Is the share ``k_recent / n_recent`` different from ``k_history / n_history``?

    Fisher's exact test when an expected count is below ``exact_below_expected``,
    else the chi-square test. A table with an empty window, or where every row
    or no row has the value, carries no evidence: p = 1.
    """
    _check_counts(k_recent=k_recent, n_recent=n_recent, k_history=k_history, n_history=n_history)
    if k_recent > n_recent or k_history > n_history:
        raise ValueError(
            f"a share of {k_recent}/{n_recent} or {k_history}/{n_history} is more than the whole; "
            "this is a bug in the caller"
        )
    with_value = k_recent + k_history
    if n_recent == 0 or n_history == 0 or with_value == 0 or with_value == n_recent + n_history:
        return TestResult(NO_TEST, 1.0)
    if min(expected_counts(k_recent, n_recent, k_history, n_history)) < exact_below_expected:
        from scipy.stats import fisher_exact

        table = [[k_recent, n_recent - k_recent], [k_history, n_history - k_history]]
        p = float(fisher_exact(table, alternative="two-sided").pvalue)
        return TestResult(FISHER_EXACT, min(1.0, p))
    return TestResult(CHI_SQUARE, chi_square_p(k_recent, n_recent, k_history, n_history))


def rate_test(recent_rows: int, recent_days: int, history_rows: int, history_days: int) -> TestResult:
    """Is the daily rate of the recent period different from the history's?

    Exact two-sided binomial test of ``recent_rows`` out of
    ``recent_rows + history_rows`` against ``recent_days / (recent_days + history_days)``.
    """
    _check_counts(recent_rows=recent_rows, history_rows=history_rows)
    if recent_days <= 0 or history_days <= 0:
        raise ValueError(
            f"both periods need at least one day (recent {recent_days}, history {history_days}); "
            "this is a bug in the caller"
        )
    total = recent_rows + history_rows
    if total == 0:
        return TestResult(NO_TEST, 1.0)
    from scipy.stats import binomtest

    share = recent_days / (recent_days + history_days)
    p = float(binomtest(recent_rows, total, share, alternative="two-sided").pvalue)
    return TestResult(EXACT_BINOMIAL, min(1.0, p))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the order given.

    With the p-values sorted ascending, p₍ᵢ₎ of m, the q-value of the i-th is
    min over j ≥ i of p₍ⱼ₎ · m / j, capped at 1. Rejecting every hypothesis
    with q ≤ α is the Benjamini–Hochberg step-up procedure at level α.
    """
    m = len(p_values)
    for p in p_values:
        if not 0.0 <= p <= 1.0 or math.isnan(p):
            raise ValueError(f"a p-value must lie in [0, 1], got {p}; this is a bug in the caller")
    order = sorted(range(m), key=lambda i: p_values[i])
    q = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        index = order[rank - 1]
        running = min(running, p_values[index] * m / rank)
        q[index] = min(1.0, running)
    return q


def format_p(p: float) -> str:
    """A p- or q-value as a steward reads it: ``< 0.0001``, two significant digits below 0.01, else three decimals."""
    if p < 0.0001:
        return "< 0.0001"
    if p >= 1.0:
        return "= 1"
    if p < 0.01:
        return f"= {p:.2g}"
    return "= " + f"{p:.3f}".rstrip("0").rstrip(".")
