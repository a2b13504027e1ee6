"""The statistics behind the drift alarms: which test, Benjamini–Hochberg by hand,
the minimum effect, and the alarms on generated extracts with no drift by
construction and with a planted shift (the benchmark's method, kept small)."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys

import polars as pl
import pytest

from dashboard import drift_fixtures as fx
from dashboard import drift_tests as dtest
from dashboard import quality_checks as qc
from dashboard import sample
from dashboard import stewardship as st

AS_OF = dt.date(2026, 6, 30)


# --- test selection ----------------------------------------------------------------------------


def test_the_chi_square_test_above_five_expected_and_fishers_exact_test_below() -> None:
    # 10 rows with the value among 50 + 50: every expected count is 50 * 10 / 100 = 5.0 -> chi-square
    assert dtest.proportion_test(7, 50, 3, 50).test == dtest.CHI_SQUARE
    # 49 + 51 rows: the recent window expects 49 * 10 / 100 = 4.9 < 5 -> Fisher
    assert dtest.proportion_test(7, 49, 3, 51).test == dtest.FISHER_EXACT
    # the rule's threshold is a setting
    assert dtest.proportion_test(7, 50, 3, 50, exact_below_expected=6).test == dtest.FISHER_EXACT
    # nothing to compare: an empty window, or every row with the value
    assert dtest.proportion_test(0, 0, 3, 50) == dtest.TestResult(dtest.NO_TEST, 1.0)
    assert dtest.proportion_test(50, 50, 50, 50).p_value == 1.0


def test_chi_square_p_value_by_hand_and_against_scipy() -> None:
    # [[30, 70], [10, 90]]: 200 * (30*90 - 70*10)^2 / (100*100*40*160) = 12.5; p = erfc(sqrt(12.5/2)) = erfc(2.5)
    result = dtest.proportion_test(30, 100, 10, 100)
    assert result.test == dtest.CHI_SQUARE
    assert result.p_value == pytest.approx(math.erfc(2.5), rel=1e-12)
    assert result.p_value == pytest.approx(0.000406952, rel=1e-5)
    from scipy.stats import chi2_contingency

    for k1, n1, k2, n2 in [(30, 100, 10, 100), (12, 40, 30, 200), (400, 1000, 3500, 10000)]:
        expected = chi2_contingency([[k1, n1 - k1], [k2, n2 - k2]], correction=False).pvalue
        assert dtest.chi_square_p(k1, n1, k2, n2) == pytest.approx(expected, rel=1e-9)


def test_fishers_exact_test_by_hand() -> None:
    # [[3, 0], [0, 3]]: 3 of the 3 rows with the value fall in the recent 3 of 6:
    # P = 1 / C(6, 3) = 1/20; the mirror table (0 of 3) is as extreme: p = 2/20 = 0.1
    result = dtest.proportion_test(3, 3, 0, 3)
    assert (result.test, result.p_value) == (dtest.FISHER_EXACT, pytest.approx(0.1))


def test_the_rate_test_by_hand() -> None:
    # equal days, 0 rows recently and 3 before: Binomial(3, 1/2); P(0) = P(3) = 1/8 -> p = 1/4
    assert dtest.rate_test(0, 30, 3, 30) == dtest.TestResult(dtest.EXACT_BINOMIAL, pytest.approx(0.25))
    # 1 day recent, 2 days before, 3 rows all recent: Binomial(3, 1/3); P(3) = 1/27 is the only
    # outcome as unlikely (P(0) = 8/27, P(1) = 12/27, P(2) = 6/27) -> p = 1/27
    assert dtest.rate_test(3, 1, 0, 2).p_value == pytest.approx(1 / 27)
    assert dtest.rate_test(0, 30, 0, 180) == dtest.TestResult(dtest.NO_TEST, 1.0)
    with pytest.raises(ValueError, match="at least one day"):
        dtest.rate_test(1, 0, 1, 30)


# --- Benjamini–Hochberg ---------------------------------------------------------------------------


def test_benjamini_hochberg_on_hand_computed_p_values() -> None:
    # sorted: 0.005 (rank 1), 0.01 (2), 0.03 (3), 0.04 (4), 0.20 (5); p * 5 / rank =
    # 0.025, 0.025, 0.05, 0.05, 0.20; running minimum from the top gives the same numbers.
    q = dtest.benjamini_hochberg([0.01, 0.04, 0.03, 0.005, 0.20])
    assert q == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.20])
    # step-up: 0.01*3/1 = 0.03, 0.02*3/2 = 0.03, 0.021*3/3 = 0.021 -> the minimum from above, 0.021, for all
    assert dtest.benjamini_hochberg([0.01, 0.02, 0.021]) == pytest.approx([0.021, 0.021, 0.021])
    # capped at 1; empty input
    assert dtest.benjamini_hochberg([0.9, 0.95]) == pytest.approx([0.95, 0.95])
    assert dtest.benjamini_hochberg([]) == []
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dtest.benjamini_hochberg([0.5, 1.5])


def test_benjamini_hochberg_agrees_with_scipy() -> None:
    from scipy.stats import false_discovery_control

    p = [0.0001, 0.2, 0.013, 0.04, 0.04, 0.5, 0.0008, 0.9, 0.011, 0.3]
    assert dtest.benjamini_hochberg(p) == pytest.approx(list(false_discovery_control(p, method="bh")))


def test_format_p() -> None:
    assert [dtest.format_p(p) for p in (0.00001, 0.0031, 0.021, 0.5, 1.0)] == [
        "< 0.0001",
        "= 0.0031",
        "= 0.021",
        "= 0.5",
        "= 1",
    ]


# --- start-up stays free of scipy -----------------------------------------------------------------


def test_importing_the_checks_does_not_import_scipy() -> None:
    code = (
        "import sys\n"
        "import dashboard.drift_tests, dashboard.quality_checks, dashboard.stewardship, dashboard.drift_fixtures\n"
        "print(','.join(m for m in ('scipy', 'great_expectations') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- generated extracts: no drift by construction, and a planted shift ----------------------------


def _drift_findings(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    found = st.cross_load_checks(tables, AS_OF, qc.Thresholds(), with_groupings=False).findings()
    return found.filter(pl.col("check").is_in(["volume_drift", "distribution_drift"]))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_no_alarm_on_extracts_without_drift_and_the_planted_shift_is_found(seed: int) -> None:
    tables = sample.generate_tables(participants=1500, seed=seed, as_of=AS_OF)
    null = fx.without_drift(tables, AS_OF, seed)
    # the construction: every agency's watched categories keep their counts, dates stay in range
    before = tables["supervision_events"].group_by("agency_id", "outcome").len().sort("agency_id", "outcome")
    after = null["supervision_events"].group_by("agency_id", "outcome").len().sort("agency_id", "outcome")
    assert before.equals(after)
    assert null["supervision_events"]["event_date"].max() <= AS_OF  # type: ignore[operator]
    assert _drift_findings(null).height == 0

    agency = fx.busiest_agency(null)
    planted = fx.with_missed_shift(null, AS_OF, agency, 0.4, seed)
    found = _drift_findings(planted)
    ours = found.filter((pl.col("table") == "supervision_events") & (pl.col("agency_id") == agency))
    assert set(ours["effect"].str.extract(r"= (\w+):").to_list()) == {"compliant", "missed"}
    assert (ours["q_value"] <= 0.01).all()
    # nothing else: every other alarm is the same shift seen over all agencies together
    assert set(found["agency_id"]) <= {agency, qc.ALL_AGENCIES}
    assert set(found["check"]) == {"distribution_drift"}


def test_a_finding_states_the_test_the_p_and_q_values_and_the_effect() -> None:
    tables = fx.without_drift(sample.generate_tables(participants=1500, seed=11, as_of=AS_OF), AS_OF, 11)
    agency = fx.busiest_agency(tables)
    planted = fx.with_missed_shift(tables, AS_OF, agency, 0.4, 11)
    result = st.cross_load_checks(planted, AS_OF, qc.Thresholds(), with_groupings=False)
    row = result.distribution.filter((pl.col("agency_id") == agency) & (pl.col("value") == "missed")).row(
        0, named=True
    )
    finding = (
        result.findings()
        .filter((pl.col("agency_id") == agency) & pl.col("effect").str.starts_with("outcome = missed"))
        .row(0, named=True)
    )
    assert finding["detail"] == (
        f"share of outcome = missed is {row['recent_share']:.1%} in 2026-04..2026-06 "
        f"({row['recent_count']:,} of {row['recent_rows']:,} rows) against {row['history_share']:.1%} in "
        f"2025-04..2026-03 ({row['history_count']:,} of {row['history_rows']:,}): up "
        f"{row['change'] * 100:.1f} percentage points; chi-square test p < 0.0001, q < 0.0001 "
        f"after false-discovery control over {row['comparisons']} comparisons"
    )
    assert (finding["test"], finding["p_value"], finding["q_value"]) == (
        "chi-square test",
        row["p_value"],
        row["q_value"],
    )
    volume = result.volume.row(0, named=True)
    text = qc.describe_volume(volume)
    assert text.startswith(
        f"{volume['rows']:,} rows in 2026-06 against {volume['expected_rows']:,.1f} expected"
    )
    assert "exact binomial test p " in text and " q " in text
