"""Property tests (hypothesis) over random small extracts.

- rates lie in [0, 1] and their Wilson interval contains them;
- every grouping adds up to the overall numerator and denominator, and the
  cohorts of a program add up to the program;
- after suppression, no suppressed number can be recovered by subtraction
  within one output: in every additive set whose total is published, never
  exactly one member is hidden, and a hidden single member hides its total;
- the same holds for breakdowns against the overall row.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.contract import (
    CONTACT_OUTCOMES,
    EXIT_REASONS,
    RECIDIVISM_EVENT_TYPES,
    REFERRAL_STATUSES,
    SERVICE_TYPES,
    SUPERVISION_OUTCOMES,
    SUPERVISION_TYPES,
    VIOLATION_TYPES,
)
from dashboard.metrics.breakdowns import metric_breakdown
from dashboard.metrics.engine import compute_metrics
from dashboard.metrics.registry import METRICS_BY_ID
from dashboard.metrics.reintegration import EMPLOYMENT_ORDER, HOUSING_ORDER
from dashboard.metrics.suppression import metric_sets
from dashboard.metrics.tables import Filters, Tables

AS_OF = dt.date(2024, 6, 30)
BASE = dt.date(2021, 1, 1)
SPAN = (AS_OF - BASE).days + 40  # a few records fall after the as-of date

days = st.integers(0, SPAN).map(lambda n: BASE + dt.timedelta(days=n))
CHECK_DATES = [BASE + dt.timedelta(days=n) for n in range(0, SPAN, 45)]
maybe_days = st.none() | days


@st.composite
def extracts(draw: st.DrawFn) -> Tables:
    n = draw(st.integers(1, 30))
    pids = [f"p{i}" for i in range(n)]
    participants = []
    for pid in pids:
        enrol = draw(days)
        exit_date = draw(st.none() | st.integers(0, 900).map(lambda d: enrol + dt.timedelta(days=d)))
        participants.append({
            "participant_id": pid,
            "program_id": draw(st.sampled_from(["P1", "P2", "P3"])),
            "supervising_agency_id": draw(st.sampled_from([None, "A1", "A2"])),
            "cohort": draw(st.sampled_from(["pilot", "comparison"])),
            "enrollment_date": enrol,
            "release_date": draw(maybe_days),
            "reentry_plan_date": draw(maybe_days),
            "supervision_type": draw(st.sampled_from(SUPERVISION_TYPES)),
            "risk_level": draw(st.sampled_from(["low", "moderate", "high"])),
            "sex": draw(st.sampled_from([None, "female", "male"])),
            "age_at_enrollment": draw(st.none() | st.integers(10, 100)),
            "exit_date": exit_date,
            "exit_reason": None if exit_date is None else draw(st.sampled_from(EXIT_REASONS)),
        })
    person = st.sampled_from(pids)
    referrals = []
    for i in range(draw(st.integers(0, 40))):
        ref = draw(days)
        referrals.append({
            "referral_id": f"r{i}", "participant_id": draw(person), "referring_agency_id": "A1",
            "provider_agency_id": draw(st.sampled_from(["A1", "A2", "A3"])),
            "service_type": draw(st.sampled_from(SERVICE_TYPES)), "referral_date": ref,
            "accepted_date": draw(st.none() | st.just(ref + dt.timedelta(days=2))),
            "service_start_date": draw(st.none() | st.integers(0, 60).map(lambda d: ref + dt.timedelta(days=d))),
            "status": draw(st.sampled_from(REFERRAL_STATUSES)),
        })
    events = [
        {"event_id": f"e{i}", "participant_id": draw(person), "agency_id": draw(st.sampled_from(["A1", "A3"])),
         "event_date": draw(days), "event_type": "home_visit", "required": draw(st.booleans()),
         "outcome": draw(st.sampled_from(SUPERVISION_OUTCOMES))}
        for i in range(draw(st.integers(0, 40)))
    ]
    violations = [
        {"violation_id": f"v{i}", "participant_id": draw(person), "agency_id": "A1", "violation_date": draw(days),
         "violation_type": draw(st.sampled_from(VIOLATION_TYPES)), "response": "warning"}
        for i in range(draw(st.integers(0, 20)))
    ]
    recidivism = [
        {"event_id": f"x{i}", "participant_id": draw(person), "event_date": draw(days),
         "event_type": draw(st.sampled_from(RECIDIVISM_EVENT_TYPES))}
        for i in range(draw(st.integers(0, 30)))
    ]
    contacts = [
        {"contact_id": f"c{i}", "agency_id": draw(st.sampled_from(["A4", "A5"])),
         "program_id": draw(st.sampled_from([None, "P1", "P2"])), "participant_id": draw(st.none() | person),
         "contact_date": draw(days), "contact_type": "outreach", "co_responder": True,
         "outcome": draw(st.sampled_from(CONTACT_OUTCOMES))}
        for i in range(draw(st.integers(0, 25)))
    ]
    checks = []
    for i in range(draw(st.integers(0, 40))):
        employment = draw(st.none() | st.sampled_from(EMPLOYMENT_ORDER))
        housing_values = st.sampled_from(HOUSING_ORDER)  # at least one of the two is set
        housing = draw(housing_values if employment is None else st.none() | housing_values)
        # Few distinct dates, so that same-date ties occur.
        checks.append({"check_id": f"k{i}", "participant_id": draw(person), "agency_id": "A9",
                       "check_date": draw(st.sampled_from(CHECK_DATES)), "employment": employment,
                       "housing": housing})
    return Tables.from_frames(
        participants=participants, referrals=referrals, supervision_events=events, violations=violations,
        recidivism_events=recidivism, police_contacts=contacts, reintegration_checks=checks,
    )


filter_settings = st.builds(
    Filters,
    as_of=st.just(AS_OF),
    start=st.none() | st.just(dt.date(2022, 7, 1)),
    end=st.none() | st.just(dt.date(2024, 3, 31)),
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _key(rec: dict[str, Any]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    g = tuple(rec["group_by"])
    return (g, tuple(rec["group"][k] for k in g))


@SETTINGS
@given(extracts(), filter_settings)
def test_rates_in_unit_interval_and_groupings_add_up(tables: Tables, filters: Filters) -> None:
    frame = compute_metrics(tables, filters, min_cell_size=0)
    by_metric: dict[str, dict[Any, dict[str, Any]]] = defaultdict(dict)
    for rec in frame.iter_rows(named=True):
        by_metric[rec["metric"]][_key(rec)] = rec
        assert rec["denominator"] >= 0
        if METRICS_BY_ID[rec["metric"]].unit == "rate":
            assert 0.0 <= rec["value"] <= 1.0
            assert rec["ci_low"] <= rec["value"] <= rec["ci_high"]
            assert 0.0 <= rec["ci_low"] and rec["ci_high"] <= 1.0
            assert rec["denominator"] > 0 and 0 <= rec["numerator"] <= rec["denominator"]
        if rec["value"] is not None:
            assert math.isfinite(rec["value"])
    for metric, rows in by_metric.items():
        overall = rows[((), ())]
        for grouping in (("program_id",), ("agency_id",), ("cohort",), ("program_id", "cohort")):
            members = [r for k, r in rows.items() if k[0] == grouping]
            assert members, (metric, grouping)
            assert sum(r["denominator"] for r in members) == pytest_approx(overall["denominator"])
            if overall["numerator"] is not None:
                assert sum(r["numerator"] for r in members) == overall["numerator"]
        for (g, key), program_row in rows.items():
            if g != ("program_id",):
                continue
            cohorts = [r for k, r in rows.items() if k[0] == ("program_id", "cohort") and k[1][0] == key[0]]
            assert sum(r["denominator"] for r in cohorts) == pytest_approx(program_row["denominator"])


def pytest_approx(x: float) -> Any:
    import pytest

    return pytest.approx(x, rel=1e-9, abs=1e-9)


@SETTINGS
@given(extracts(), filter_settings, st.integers(1, 12))
def test_no_suppressed_number_recoverable_by_subtraction(tables: Tables, filters: Filters, k: int) -> None:
    frame = compute_metrics(tables, filters, min_cell_size=k)
    for metric in frame["metric"].unique().to_list():
        rows = {_key(r): r for r in frame.filter(pl.col("metric") == metric).iter_rows(named=True)}
        for rec in rows.values():
            # Primary rule holds on every published row.
            if not rec["suppressed"]:
                assert rec["denominator"] >= k
                assert rec["numerator"] is None or not (1 <= rec["numerator"] <= k - 1)
        for s in metric_sets(rows):
            if not s.members:
                continue
            hidden = [m for m in s.members if rows[m]["suppressed"]]
            if len(s.members) == 1:
                assert not hidden or rows[s.total]["suppressed"]
            elif not rows[s.total]["suppressed"]:
                assert len(hidden) != 1, (metric, s)


@SETTINGS
@given(extracts(), st.sampled_from([
    ("referral_completion_rate", ["quarter"]), ("compliance_rate", ["sex"]),
    ("violation_rate_per_100_pm", ["quarter"]), ("recidivism_rearrest_6m", ["risk_level"]),
    ("police_diversion_rate", ["age_band"]), ("violation_rate_per_100_pm", ["violation_type"]),
    ("employment_rate_6m", ["risk_level"]), ("reintegration_check_coverage_12m", ["quarter"]),
]), st.integers(0, 12))
def test_breakdowns_add_up_and_protect_the_overall(tables: Tables, case: tuple[str, list[str]], k: int) -> None:
    metric, by = case
    frame = metric_breakdown(tables, Filters(as_of=AS_OF), metric, by, min_cell_size=k)
    rows = frame.iter_rows(named=True)
    overall = [r for r in frame.iter_rows(named=True) if not r["group_by"]]
    cells = [r for r in rows if r["group_by"]]
    if not overall:
        assert not cells
        return
    total = overall[0]
    if k == 0:
        assert sum(c["numerator"] for c in cells) == total["numerator"]
        if "violation_type" not in by:
            assert sum(c["denominator"] for c in cells) == pytest_approx(total["denominator"])
    if not total["suppressed"] and len(cells) > 1:
        assert sum(c["suppressed"] for c in cells) != 1
    if len(cells) == 1 and cells[0]["suppressed"]:
        assert total["suppressed"]


@SETTINGS
@given(extracts(), filter_settings)
def test_reintegration_rates_rest_on_checked_participants(tables: Tables, filters: Filters) -> None:
    """Everyone with an employment or housing status at W had a check in the window, so both
    denominators are at most the coverage numerator, group by group; the evaluation's cells
    agree with the metrics (``evaluate`` raises when they do not)."""
    from dashboard.evaluation import evaluate

    frame = compute_metrics(tables, filters, min_cell_size=0)
    rows = {(r["metric"], _key(r)): r for r in frame.iter_rows(named=True)}
    for (metric, key), rec in rows.items():
        for prefix in ("employment_rate_", "stable_housing_rate_"):
            if metric.startswith(prefix):
                window = metric[len(prefix):]
                coverage = rows[(f"reintegration_check_coverage_{window}", key)]
                assert rec["denominator"] <= coverage["numerator"] <= coverage["denominator"]
    result = evaluate(tables, filters, measures=["employment", "stable_housing"], min_cell_size=0)
    assert len(result["windows"]) == (4 if tables.reintegration_checks.height else 0)
