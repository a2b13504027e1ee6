"""``evaluate`` for the measures employment and stable_housing (docs/metrics.md,
"Reintegration outcomes"), on a small extract computed by hand.

Program P1, supervising agency A1, everyone enrolled (index date) 1 Jan 2023, so the 6-month window
ends 1 Jul 2023 and the 12-month window 1 Jan 2024; as-of 30 Jun 2024 (both windows complete).
Every check is dated 1 Mar 2023, inside both windows, so 6 and 12 months give the same numbers.

| id | cohort     | risk | employment         | housing       |
|----|------------|------|--------------------|---------------|
| p1 | pilot      | low  | full_time          | stable        |
| p2 | pilot      | low  | unemployed         | homeless      |
| p3 | pilot      | high | part_time          | transitional  |
| p4 | pilot      | high | not_in_labor_force | stable        |
| p5 | pilot      | high | (never checked)    |               |
| q1 | comparison | low  | unemployed         | stable        |
| q2 | comparison | high | unemployed         | homeless      |
| q3 | comparison | high | full_time          | (not set)     |
| q4 | comparison | low  | unemployed         | institutional |

Employment: pilot {p1, p3} of {p1, p2, p3} = 2/3 (p4 is out of the labour force, p5 unknown);
comparison {q3} of {q1, q2, q3, q4} = 1/4. Risk-adjusted over the denominators: low stratum
pilot 1/2, comparison 0/2 (4 people); high stratum pilot 1/1, comparison 1/2 (3 people); 7 in all.
Pilot 4/7·1/2 + 3/7·1 = 5/7; comparison 4/7·0 + 3/7·1/2 = 3/14; difference 5/7 − 3/14 = 1/2.

Stable housing: pilot {p1, p4} of {p1, p2, p3, p4} = 2/4; comparison {q1} of {q1, q2, q4} = 1/3
(q3 has no housing status). Risk-adjusted: low pilot 1/2, comparison 1/2 (4); high pilot 1/2
(p3, p4), comparison 0/1 (3). Pilot 4/7·1/2 + 3/7·1/2 = 1/2; comparison 4/7·1/2 + 0 = 2/7;
difference 1/2 − 2/7 = 3/14.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from typing import Any

import polars as pl
import pytest

from dashboard import stats
from dashboard.evaluation import REASON_SUPPRESSED, evaluate
from dashboard.metrics.engine import compute_metrics
from dashboard.metrics.tables import Filters, Tables

D = dt.date
AS_OF = D(2024, 6, 30)
STATUSES = {
    "p1": ("pilot", "low", "full_time", "stable"),
    "p2": ("pilot", "low", "unemployed", "homeless"),
    "p3": ("pilot", "high", "part_time", "transitional"),
    "p4": ("pilot", "high", "not_in_labor_force", "stable"),
    "p5": ("pilot", "high", None, None),
    "q1": ("comparison", "low", "unemployed", "stable"),
    "q2": ("comparison", "high", "unemployed", "homeless"),
    "q3": ("comparison", "high", "full_time", None),
    "q4": ("comparison", "low", "unemployed", "institutional"),
}


def _tables(statuses: dict[str, tuple[str, str, str | None, str | None]] = STATUSES, program: str = "P1",
            extra: Tables | None = None) -> Tables:
    participants = [
        {"participant_id": pid, "program_id": program, "supervising_agency_id": "A1", "cohort": cohort,
         "enrollment_date": D(2023, 1, 1), "supervision_type": "probation", "risk_level": risk}
        for pid, (cohort, risk, _, _) in statuses.items()
    ]
    checks = [
        {"check_id": f"k-{pid}", "participant_id": pid, "agency_id": "A1", "check_date": D(2023, 3, 1),
         "employment": employment, "housing": housing}
        for pid, (_, _, employment, housing) in statuses.items()
        if employment is not None or housing is not None
    ]
    return Tables.from_frames(participants=participants, reintegration_checks=checks)


def _window(result: dict[str, Any], measure: str, months: int) -> dict[str, Any]:
    (entry,) = [w for w in result["windows"] if w["measure"] == measure and w["window_months"] == months]
    return entry


def _cell(numerator: int, denominator: int) -> dict[str, Any]:
    low, high = stats.wilson_interval(numerator, denominator)  # type: ignore[misc]
    return {"numerator": numerator, "denominator": denominator, "rate": numerator / denominator,
            "ci_low": low, "ci_high": high, "suppressed": False}


def _pooled_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided pooled z-test, written out: z = (p1 − p2) / sqrt(p(1 − p)(1/n1 + 1/n2))."""
    pooled = (k1 + k2) / (n1 + n2)
    z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return math.erfc(abs(z) / math.sqrt(2))


@pytest.mark.parametrize("months", [6, 12])
def test_employment_window_by_hand(months: int) -> None:
    result = evaluate(_tables(), Filters(as_of=AS_OF), program_id="P1", min_cell_size=0)
    entry = _window(result, "employment", months)
    assert entry["pilot"] == pytest.approx(_cell(2, 3))
    assert entry["comparison"] == pytest.approx(_cell(1, 4))
    value, low, high = stats.newcombe_difference(2, 3, 1, 4)  # type: ignore[misc]
    assert entry["difference"] == pytest.approx({"value": 2 / 3 - 1 / 4, "ci_low": low, "ci_high": high})
    assert value == pytest.approx(5 / 12)
    # p = 3/7; z = (5/12) / sqrt(3/7 · 4/7 · (1/3 + 1/4)) = 1.1024; p-value erfc(z/√2) = 0.2703.
    assert entry["p_value"] == pytest.approx(_pooled_p(2, 3, 1, 4))
    assert entry["p_value"] == pytest.approx(0.2703, abs=1e-4)
    assert entry["risk_adjusted"] == pytest.approx(
        {"pilot": 5 / 7, "comparison": 3 / 14, "difference": 1 / 2, "reason": None}
    )


def test_stable_housing_window_by_hand() -> None:
    result = evaluate(_tables(), Filters(as_of=AS_OF), program_id="P1", min_cell_size=0)
    entry = _window(result, "stable_housing", 12)
    assert entry["pilot"] == pytest.approx(_cell(2, 4))
    assert entry["comparison"] == pytest.approx(_cell(1, 3))
    assert entry["p_value"] == pytest.approx(_pooled_p(2, 4, 1, 3))
    assert entry["risk_adjusted"] == pytest.approx(
        {"pilot": 1 / 2, "comparison": 2 / 7, "difference": 3 / 14, "reason": None}
    )


def test_measures_order_and_no_survival_entries() -> None:
    result = evaluate(_tables(), Filters(as_of=AS_OF), min_cell_size=0)
    assert [(w["measure"], w["window_months"]) for w in result["windows"]] == [
        *((m, w) for m in ("rearrest", "reconviction", "reincarceration") for w in (6, 12, 24, 36)),
        ("employment", 6), ("employment", 12), ("stable_housing", 6), ("stable_housing", 12),
    ]
    assert {s["measure"] for s in result["survival"]} == {"rearrest", "reconviction", "reincarceration"}
    assert [lr["measure"] for lr in result["logrank"]] == ["rearrest", "reconviction", "reincarceration"]
    only = evaluate(_tables(), Filters(as_of=AS_OF), measures=["stable_housing"], min_cell_size=0)
    assert [(w["measure"], w["window_months"]) for w in only["windows"]] == [("stable_housing", 6),
                                                                           ("stable_housing", 12)]
    assert only["survival"] == [] and only["logrank"] == []
    assert only["baseline"] == result["baseline"]  # the cohorts are described all the same
    with pytest.raises(ValueError, match="unknown measure 'housing'"):
        evaluate(_tables(), Filters(as_of=AS_OF), measures=["housing"])


def test_a_cohort_with_nobody_in_the_denominator_shows_zero_of_zero() -> None:
    # The comparison group has no employment status other than not_in_labor_force.
    statuses = {pid: s if s[0] == "pilot" else (s[0], s[1], "not_in_labor_force", s[3])
                for pid, s in STATUSES.items()}
    for k in (0, 11):
        result = evaluate(_tables(statuses), Filters(as_of=AS_OF), program_id="P1", min_cell_size=k)
        entry = _window(result, "employment", 6)
        assert entry["comparison"] == {"numerator": 0, "denominator": 0, "rate": None, "ci_low": None,
                                       "ci_high": None, "suppressed": False}
        assert entry["difference"] == {"value": None, "ci_low": None, "ci_high": None}
        assert entry["p_value"] is None
        assert entry["risk_adjusted"]["difference"] is None and entry["risk_adjusted"]["reason"]
    # k = 11: the pilot's 2/3 is suppressed as in metrics; the empty comparison is not.
    assert entry["pilot"]["suppressed"] is True and entry["pilot"]["numerator"] is None


def test_one_sided_risk_stratum_gives_the_reason() -> None:
    # Nobody at low risk in the comparison employment denominator: q1 and q4 out of the labour force.
    statuses = {**STATUSES, "q1": ("comparison", "low", "not_in_labor_force", "stable"),
                "q4": ("comparison", "low", "not_in_labor_force", "institutional")}
    result = evaluate(_tables(statuses), Filters(as_of=AS_OF), program_id="P1", min_cell_size=0)
    risk = _window(result, "employment", 6)["risk_adjusted"]
    assert risk["pilot"] is None and risk["difference"] is None
    assert "low (pilot only)" in risk["reason"]
    # Housing keeps both strata (q1 and q4 still have a housing status).
    assert _window(result, "stable_housing", 6)["risk_adjusted"]["reason"] is None


@pytest.mark.parametrize("program_id", [None, "P1"])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_suppression_follows_metrics(program_id: str | None, k: int) -> None:
    tables = _tables()
    result = evaluate(tables, Filters(as_of=AS_OF), program_id=program_id, min_cell_size=k)
    frame = compute_metrics(tables, Filters(as_of=AS_OF, program_ids=("P1",) if program_id else ()),
                            min_cell_size=k)
    keys = ["program_id", "cohort"] if program_id else ["cohort"]
    for measure, name in (("employment", "employment_rate"), ("stable_housing", "stable_housing_rate")):
        for months in (6, 12):
            entry = _window(result, measure, months)
            rows = {r["group"]["cohort"]: r for r in frame.filter(pl.col("metric") == f"{name}_{months}m")
                    .iter_rows(named=True) if r["group_by"] == keys}
            for cohort in ("pilot", "comparison"):
                assert entry[cohort]["suppressed"] == rows[cohort]["suppressed"], (measure, months, cohort)
                if not rows[cohort]["suppressed"]:
                    assert entry[cohort]["numerator"] == rows[cohort]["numerator"]
            if entry["pilot"]["suppressed"] or entry["comparison"]["suppressed"]:
                assert entry["difference"]["value"] is None and entry["p_value"] is None
                assert entry["risk_adjusted"]["reason"] == REASON_SUPPRESSED
    # By hand for k = 2: comparison employment 1/4 has numerator 1 (suppressed), so the pilot's
    # 2/3 is suppressed too (the cohorts against the published overall 3/7).
    if k == 2:
        entry = _window(result, "employment", 6)
        assert entry["pilot"]["suppressed"] and entry["comparison"]["suppressed"]


def test_without_checks_the_evaluation_is_unchanged() -> None:
    tables = Tables.from_frames(participants=_tables().participants)
    result = evaluate(tables, Filters(as_of=AS_OF), min_cell_size=0)
    recidivism_only = evaluate(tables, Filters(as_of=AS_OF), min_cell_size=0,
                               measures=["rearrest", "reconviction", "reincarceration"])
    assert json.dumps(result) == json.dumps(recidivism_only)
    assert {w["measure"] for w in result["windows"]} == {"rearrest", "reconviction", "reincarceration"}
    asked = evaluate(tables, Filters(as_of=AS_OF), min_cell_size=0, measures=["employment"])
    assert asked["windows"] == []


def test_cli_accepts_the_new_measures() -> None:
    from dashboard.cli import build_parser

    args = build_parser().parse_args(["evaluate", "--measure", "employment", "--measure", "stable_housing"])
    assert isinstance(args, argparse.Namespace) and args.measure == ["employment", "stable_housing"]
