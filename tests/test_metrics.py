"""Hand-computed fixtures for every SPEC §3 metric (a few rows in, the number out).

Every fixture uses as-of 2024-06-30 unless it says otherwise; the arithmetic
is in the comments. Suppression is off (min_cell_size=0) except where tested.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import polars as pl
import pytest

from dashboard.metrics.engine import compute_metrics, metrics_csv, metrics_json
from dashboard.metrics.tables import Filters, Tables
from dashboard.stats import wilson_interval

AS_OF = dt.date(2024, 6, 30)
D = dt.date


def run(tables: Tables, metric: str, **filters: Any) -> pl.DataFrame:
    filters.setdefault("as_of", AS_OF)
    return compute_metrics(tables, Filters(**filters), min_cell_size=0, metric_ids=[metric])


def row(frame: pl.DataFrame, *group_by: str, **keys: str | None) -> dict[str, Any]:
    """The one row of ``frame`` for this grouping and these key values."""
    found = []
    for rec in frame.iter_rows(named=True):
        if tuple(rec["group_by"]) != group_by:
            continue
        if all(rec["group"][g] == keys.get(g) for g in group_by):
            found.append(rec)
    assert len(found) == 1, f"expected one row for {group_by} {keys}, got {found}"
    return found[0]


def keys_of(frame: pl.DataFrame, *group_by: str) -> set[tuple[str | None, ...]]:
    return {
        tuple(rec["group"][g] for g in group_by)
        for rec in frame.iter_rows(named=True)
        if tuple(rec["group_by"]) == group_by
    }


def person(pid: str, program: str = "P1", cohort: str = "pilot", agency: str | None = "A1", **kw: Any) -> dict[str, Any]:
    base = {
        "participant_id": pid,
        "program_id": program,
        "supervising_agency_id": agency,
        "cohort": cohort,
        "enrollment_date": D(2023, 1, 1),
        "supervision_type": "probation",
        "risk_level": "low",
    }
    base.update(kw)
    return base


# --- referrals ----------------------------------------------------------------------------

def referral(rid: str, pid: str, status: str, ref: dt.date, provider: str = "A2", accepted: dt.date | None = None,
             start: dt.date | None = None, completed: dt.date | None = None, service: str = "housing") -> dict[str, Any]:
    return {
        "referral_id": rid, "participant_id": pid, "referring_agency_id": "A1", "provider_agency_id": provider,
        "service_type": service, "referral_date": ref, "accepted_date": accepted,
        "service_start_date": start, "completed_date": completed, "status": status,
    }


@pytest.fixture
def referral_tables() -> Tables:
    return Tables.from_frames(
        participants=[
            person("pa", "P1", "pilot"),
            person("pb", "P2", "comparison"),
            # Enrolled after the as-of date. Its referral f9 is dated before it, so f9 still counts
            # (SPEC §3 leaves out only rows dated after the as-of), with late's program P2 and cohort.
            person("late", "P2", "comparison", enrollment_date=D(2024, 7, 1)),
        ],
        referrals=[
            referral("f1", "pa", "completed", D(2024, 1, 10), accepted=D(2024, 1, 12), start=D(2024, 1, 20),
                     completed=D(2024, 2, 1)),
            referral("f2", "pa", "declined", D(2024, 2, 1)),
            referral("f3", "pa", "no_show", D(2024, 3, 1), provider="A3", accepted=D(2024, 3, 2)),
            referral("f4", "pb", "pending", D(2024, 4, 1)),
            referral("f5", "pb", "in_service", D(2024, 5, 1), accepted=D(2024, 5, 3), start=D(2024, 5, 5)),
            # Dated after the as-of date: left out.
            referral("f6", "pb", "completed", D(2024, 7, 5), accepted=D(2024, 7, 5), start=D(2024, 7, 6),
                     completed=D(2024, 7, 7)),
            # Completed after the as-of date: statuses and secondary dates are taken as recorded.
            referral("f7", "pb", "completed", D(2024, 6, 1), accepted=D(2024, 6, 2), start=D(2024, 6, 21),
                     completed=D(2024, 7, 10)),
            referral("f8", "pa", "accepted", D(2023, 12, 1), accepted=D(2023, 12, 5)),
            referral("f9", "late", "completed", D(2024, 6, 15), accepted=D(2024, 6, 15), start=D(2024, 6, 16),
                     completed=D(2024, 6, 20)),
        ],
    )


def test_referral_completion_rate(referral_tables: Tables) -> None:
    out = run(referral_tables, "referral_completion_rate")
    # Closed: f1 completed, f2 declined, f3 no_show, f7 completed, f9 completed (f4 pending, f5 in service,
    # f8 accepted are open; f6 is dated after as-of; f9 counts although late enrolls after as-of)
    # -> completed f1, f7, f9 = 3 / 5.
    overall = row(out)
    assert (overall["numerator"], overall["denominator"], overall["value"]) == (3, 5, 0.6)
    assert (overall["ci_low"], overall["ci_high"]) == wilson_interval(3, 5)
    # Program from the participant: P1 = f1, f2, f3 -> 1/3; P2 = f7, f9 (late's recorded program) -> 2/2.
    assert (row(out, "program_id", program_id="P1")["numerator"], row(out, "program_id", program_id="P1")["denominator"]) == (1, 3)
    p2 = row(out, "program_id", program_id="P2")
    assert (p2["numerator"], p2["denominator"], p2["value"]) == (2, 2, 1.0)
    # Agency = provider: A2 = f1, f2, f7, f9 -> 3/4; A3 = f3 -> 0/1 (the referring agency A1 gets nothing).
    assert row(out, "agency_id", agency_id="A2")["value"] == 3 / 4
    assert row(out, "agency_id", agency_id="A3")["numerator"] == 0
    assert keys_of(out, "agency_id") == {("A2",), ("A3",)}
    # Cohort and program+cohort: comparison = f7 (pb), f9 (late) -> 2.
    assert row(out, "cohort", cohort="comparison")["denominator"] == 2
    assert row(out, "program_id", "cohort", program_id="P2", cohort="comparison")["denominator"] == 2
    assert row(out, "program_id", "cohort", program_id="P1", cohort="pilot")["denominator"] == 3
    assert keys_of(out, "program_id", "cohort") == {("P1", "pilot"), ("P2", "comparison")}


def test_referral_completion_rate_period_and_agency_filter(referral_tables: Tables) -> None:
    # Period Feb..May on referral_date: f2 declined, f3 no_show (f4 pending, f5 in service; f9 is 15 Jun)
    # -> 0 / 2.
    out = run(referral_tables, "referral_completion_rate", start=D(2024, 2, 1), end=D(2024, 5, 31))
    assert (row(out)["numerator"], row(out)["denominator"]) == (0, 2)
    # --agency A2 applies to the provider: f1, f2, f7, f9 -> completed f1, f7, f9 = 3/4; only A2 appears
    # in the agency grouping.
    out = run(referral_tables, "referral_completion_rate", agency_ids=("A2",))
    assert (row(out)["numerator"], row(out)["denominator"]) == (3, 4)
    assert keys_of(out, "agency_id") == {("A2",)}
    # --agency A1 (the referring and supervising agency, never the provider): no row at all.
    assert run(referral_tables, "referral_completion_rate", agency_ids=("A1",)).height == 0


def test_referral_acceptance_rate(referral_tables: Tables) -> None:
    out = run(referral_tables, "referral_acceptance_rate")
    # Not pending: f1, f2, f3, f5, f7, f8, f9 = 7 (f4 pending, f6 after as-of); of those with accepted_date:
    # f1, f3, f5, f7, f8, f9 = 6 (f2 declined without one) -> 6/7.
    assert (row(out)["numerator"], row(out)["denominator"]) == (6, 7)
    # P1: f1, f2, f3, f8 -> accepted f1, f3, f8 = 3/4; P2: f5, f7, f9 -> 3/3.
    assert (row(out, "program_id", program_id="P1")["numerator"], row(out, "program_id", program_id="P1")["denominator"]) == (3, 4)
    assert (row(out, "program_id", program_id="P2")["numerator"], row(out, "program_id", program_id="P2")["denominator"]) == (3, 3)
    # Period Feb..May: f2 (no), f3 (yes), f5 (yes) -> 2/3.
    out = run(referral_tables, "referral_acceptance_rate", start=D(2024, 2, 1), end=D(2024, 5, 31))
    assert (row(out)["numerator"], row(out)["denominator"]) == (2, 3)


def test_median_days_to_service(referral_tables: Tables) -> None:
    out = run(referral_tables, "median_days_to_service")
    # With a service start: f1 20-10 Jan = 10 days, f5 5-1 May = 4 days, f7 21-1 Jun = 20 days,
    # f9 16-15 Jun = 1 day (f6 is dated after as-of) -> (1, 4, 10, 20), an even count -> mean of the
    # two middle values (4 + 10) / 2 = 7; no numerator, no interval.
    overall = row(out)
    assert (overall["numerator"], overall["denominator"], overall["value"]) == (None, 4, 7.0)
    assert overall["ci_low"] is None and overall["ci_high"] is None
    # P2: f5 4, f7 20, f9 1 -> median of (1, 4, 20) = 4; P1: f1 alone -> 10.
    assert (row(out, "program_id", program_id="P2")["denominator"], row(out, "program_id", program_id="P2")["value"]) == (3, 4.0)
    assert row(out, "program_id", program_id="P1")["value"] == 10.0
    # Cohort comparison (pb, late) = P2's referrals -> 4; (P2, comparison) the same.
    assert row(out, "cohort", cohort="comparison")["value"] == 4.0
    assert row(out, "program_id", "cohort", program_id="P2", cohort="comparison")["value"] == 4.0
    # Period Feb..May: only f5 -> 4.
    out = run(referral_tables, "median_days_to_service", start=D(2024, 2, 1), end=D(2024, 5, 31))
    assert (row(out)["denominator"], row(out)["value"]) == (1, 4.0)


# --- supervision events ----------------------------------------------------------------------

def event(eid: str, pid: str, day: dt.date, required: bool, outcome: str, agency: str = "A1") -> dict[str, Any]:
    return {"event_id": eid, "participant_id": pid, "agency_id": agency, "event_date": day,
            "event_type": "office_check_in", "required": required, "outcome": outcome}


def test_compliance_rate() -> None:
    tables = Tables.from_frames(
        participants=[person("pa", agency="A9")],
        supervision_events=[
            event("e1", "pa", D(2024, 1, 5), True, "compliant"),
            event("e2", "pa", D(2024, 2, 5), True, "non_compliant", agency="A3"),
            event("e3", "pa", D(2024, 3, 5), True, "missed"),
            event("e4", "pa", D(2024, 4, 5), True, "excused"),
            event("e5", "pa", D(2024, 5, 5), False, "compliant"),
            event("e6", "pa", D(2024, 7, 5), True, "compliant"),  # after as-of
        ],
    )
    out = run(tables, "compliance_rate")
    # Required with a known outcome: e1, e2, e3 (e4 excused, e5 not required, e6 after as-of);
    # compliant: e1 -> 1/3.
    assert (row(out)["numerator"], row(out)["denominator"]) == (1, 3)
    # Agency = the event's agency (not the supervising A9): A1 = e1, e3 -> 1/2; A3 = e2 -> 0/1.
    assert row(out, "agency_id", agency_id="A1")["value"] == 0.5
    assert row(out, "agency_id", agency_id="A3")["value"] == 0.0
    assert keys_of(out, "agency_id") == {("A1",), ("A3",)}
    # An as-of date after e6 brings it in: 2/4.
    out = run(tables, "compliance_rate", as_of=D(2024, 7, 31))
    assert (row(out)["numerator"], row(out)["denominator"]) == (2, 4)


# --- violations -------------------------------------------------------------------------------

def violation(vid: str, pid: str, day: dt.date) -> dict[str, Any]:
    return {"violation_id": vid, "participant_id": pid, "agency_id": "A7", "violation_date": day,
            "violation_type": "technical", "response": "warning"}


@pytest.fixture
def violation_tables() -> Tables:
    return Tables.from_frames(
        participants=[
            person("va", "P1", "pilot", enrollment_date=D(2024, 1, 1)),
            person("vb", "P1", "comparison", enrollment_date=D(2024, 3, 1), supervision_type="parole",
                   exit_date=D(2024, 3, 31), exit_reason="revoked"),
            # supervision_type none: no exposure, but its violation counts in the numerator.
            person("vc", "P2", "pilot", agency=None, enrollment_date=D(2024, 1, 1), supervision_type="none"),
            # Exit after the as-of date counts as no exit.
            person("vd", "P1", "pilot", enrollment_date=D(2024, 6, 1), exit_date=D(2024, 8, 15),
                   exit_reason="completed"),
        ],
        violations=[
            violation("v1", "va", D(2024, 2, 10)),
            violation("v2", "va", D(2024, 5, 5)),
            violation("v3", "vb", D(2024, 3, 15)),
            violation("v4", "vc", D(2024, 2, 1)),
            violation("v5", "va", D(2024, 7, 2)),  # after as-of
        ],
    )


def test_violation_rate_per_100_participant_months(violation_tables: Tables) -> None:
    out = run(violation_tables, "violation_rate_per_100_pm")
    # Exposure, both ends counted: va 1 Jan..30 Jun 2024 = 31+29+31+30+31+30 = 182 days;
    # vb 1..31 Mar = 31 days; vd 1..30 Jun = 30 days (its exit is after as-of); vc none -> excluded.
    # 243 days / 30.4375 = 7.98357 participant-months; violations v1..v4 = 4;
    # rate = 100 * 4 / (243 / 30.4375) = 12175 / 243 = 50.1029.
    overall = row(out)
    assert overall["numerator"] == 4
    assert overall["denominator"] == pytest.approx(243 / 30.4375)
    assert overall["value"] == pytest.approx(12175 / 243)
    assert overall["ci_low"] is None
    # Agency = supervising agency, not the violation's A7: A1 = va, vb, vd -> 3 violations over 243 days;
    # vc's null agency is its own group with 1 violation and no exposure: a row with a null value.
    assert row(out, "agency_id", agency_id="A1")["numerator"] == 3
    unassigned = row(out, "agency_id", agency_id=None)
    assert (unassigned["numerator"], unassigned["denominator"], unassigned["value"]) == (1, 0.0, None)
    assert keys_of(out, "agency_id") == {("A1",), (None,)}
    # P2 (vc only): violations but no exposure -> row with null value.
    assert row(out, "program_id", program_id="P2")["value"] is None


def test_violation_rate_period(violation_tables: Tables) -> None:
    out = run(violation_tables, "violation_rate_per_100_pm", start=D(2024, 3, 1), end=D(2024, 3, 31))
    # March: va 31 days, vb 31 days, vd 0 (enrolled in June) -> 62 days; violations in March: v3 -> 1.
    # rate = 100 * 1 / (62 / 30.4375) = 3043.75 / 62 = 49.0927.
    assert row(out)["numerator"] == 1
    assert row(out)["value"] == pytest.approx(3043.75 / 62)
    # The pilot cohort has exposure (va) but no violation in March: a row with 0.
    assert row(out, "cohort", cohort="pilot")["value"] == 0.0


def test_events_and_violations_of_a_participant_enrolling_after_as_of() -> None:
    # SPEC §3 leaves out participants enrolled after the as-of date (head counts, exposure) and rows
    # dated after it; an event or violation dated by the as-of date counts with its participant's
    # recorded program, supervising agency and cohort even if the participant enrolls later.
    tables = Tables.from_frames(
        participants=[
            person("on", "P1", "pilot", agency="A1", enrollment_date=D(2024, 1, 1)),
            person("late", "P2", "comparison", agency="A2", enrollment_date=D(2024, 7, 1)),
        ],
        supervision_events=[
            event("e1", "on", D(2024, 2, 1), True, "compliant"),
            event("e2", "late", D(2024, 6, 10), True, "missed", agency="A3"),
            event("e3", "late", D(2024, 7, 5), True, "compliant"),  # after as-of
        ],
        violations=[
            violation("v1", "on", D(2024, 3, 1)),
            violation("v2", "late", D(2024, 6, 20)),
            violation("v3", "late", D(2024, 7, 2)),  # after as-of
        ],
    )
    out = run(tables, "compliance_rate")
    # e1 (compliant), e2 (missed; late's) -> 1/2; P2 = comparison = agency A3 = e2 -> 0/1.
    assert (row(out)["numerator"], row(out)["denominator"]) == (1, 2)
    for grouping, key in (("program_id", "P2"), ("cohort", "comparison"), ("agency_id", "A3")):
        assert (row(out, grouping, **{grouping: key})["numerator"], row(out, grouping, **{grouping: key})["denominator"]) == (0, 1)
    out = run(tables, "violation_rate_per_100_pm")
    # Violations v1, v2 = 2. Exposure: on 1 Jan..30 Jun 2024 = 31+29+31+30+31+30 = 182 days; late none
    # (enrolled after as-of). Rate = 100 * 2 / (182 / 30.4375) = 6087.5 / 182 = 33.4478.
    assert (row(out)["numerator"], row(out)["denominator"]) == (2, pytest.approx(182 / 30.4375))
    assert row(out)["value"] == pytest.approx(6087.5 / 182)
    # late's v2 under its supervising agency A2, program P2, cohort comparison: 1 violation, no exposure
    # -> a row with a null value.
    for grouping, key in (("program_id", "P2"), ("cohort", "comparison"), ("agency_id", "A2")):
        r = row(out, grouping, **{grouping: key})
        assert (r["numerator"], r["denominator"], r["value"]) == (1, 0.0, None)
    # A participant filter on late's cohort keeps its dated rows: compliance e2 -> 0/1; violations v2 -> 1
    # with no exposure.
    assert (row(run(tables, "compliance_rate", cohorts=("comparison",)))["numerator"],
            row(run(tables, "compliance_rate", cohorts=("comparison",)))["denominator"]) == (0, 1)
    r = row(run(tables, "violation_rate_per_100_pm", cohorts=("comparison",)))
    assert (r["numerator"], r["denominator"], r["value"]) == (1, 0.0, None)
    # As of 31 Jul 2024 late is enrolled and e3, v3 count: compliance e1, e2, e3 -> 2/3. Violations 3;
    # exposure on 1 Jan..31 Jul = 182 + 31 = 213 days, late 1..31 Jul = 31 days -> 244 days;
    # rate = 100 * 3 * 30.4375 / 244 = 9131.25 / 244 = 37.4232; P2 = v2, v3 over 31 days = 6087.5 / 31.
    july = D(2024, 7, 31)
    assert (row(run(tables, "compliance_rate", as_of=july))["numerator"],
            row(run(tables, "compliance_rate", as_of=july))["denominator"]) == (2, 3)
    out = run(tables, "violation_rate_per_100_pm", as_of=july)
    assert (row(out)["numerator"], row(out)["denominator"]) == (3, pytest.approx(244 / 30.4375))
    assert row(out)["value"] == pytest.approx(9131.25 / 244)
    assert row(out, "program_id", program_id="P2")["value"] == pytest.approx(6087.5 / 31)


# --- participant-based ---------------------------------------------------------------------------

def test_program_completion_rate_neutral_exits_and_as_of() -> None:
    tables = Tables.from_frames(
        participants=[
            person("c1", cohort="pilot", exit_date=D(2024, 2, 1), exit_reason="completed"),
            person("c2", cohort="comparison", exit_date=D(2024, 3, 1), exit_reason="revoked"),
            person("c3", cohort="pilot", exit_date=D(2024, 4, 1), exit_reason="absconded"),
            person("c4", cohort="pilot", exit_date=D(2024, 4, 2), exit_reason="transferred"),
            person("c5", cohort="pilot", exit_date=D(2024, 4, 3), exit_reason="deceased"),
            person("c6", cohort="pilot", exit_date=D(2024, 7, 15), exit_reason="completed"),  # after as-of
            person("c7", cohort="pilot", exit_date=D(2024, 5, 1), exit_reason="other"),
            person("c8", cohort="pilot"),  # still enrolled
        ]
    )
    out = run(tables, "program_completion_rate")
    # Decisive exits: c1 completed, c2 revoked, c3 absconded (c4, c5, c7 neutral; c6 exits after as-of) -> 1/3.
    assert (row(out)["numerator"], row(out)["denominator"]) == (1, 3)
    assert (row(out, "cohort", cohort="pilot")["numerator"], row(out, "cohort", cohort="pilot")["denominator"]) == (1, 2)
    assert row(out, "cohort", cohort="comparison")["value"] == 0.0
    # Period on exit_date, Mar..Dec: c2, c3 -> 0/2 (c6 still excluded: its exit is after as-of).
    out = run(tables, "program_completion_rate", start=D(2024, 3, 1), end=D(2024, 12, 31))
    assert (row(out)["numerator"], row(out)["denominator"]) == (0, 2)
    # As of 31 Jul, c6's exit counts: 2/4.
    out = run(tables, "program_completion_rate", as_of=D(2024, 7, 31))
    assert (row(out)["numerator"], row(out)["denominator"]) == (2, 4)


def test_reentry_plan_rate() -> None:
    tables = Tables.from_frames(
        participants=[
            person("r1", release_date=D(2023, 12, 15), reentry_plan_date=D(2023, 12, 1)),
            person("r2", release_date=D(2023, 12, 15), reentry_plan_date=D(2023, 12, 15)),  # same day counts
            person("r3", release_date=D(2023, 12, 15), reentry_plan_date=D(2023, 12, 20)),  # late
            person("r4", release_date=D(2024, 2, 1), agency=None),  # no plan
            person("r5"),  # never incarcerated: not in the denominator
        ]
    )
    out = run(tables, "reentry_plan_rate")
    # Released: r1..r4 = 4; plan on or before release: r1, r2 -> 2/4.
    assert (row(out)["numerator"], row(out)["denominator"]) == (2, 4)
    # Null supervising agency is its own group (Unassigned): r4 -> 0/1.
    assert (row(out, "agency_id", agency_id=None)["numerator"], row(out, "agency_id", agency_id=None)["denominator"]) == (0, 1)
    # Period on release_date from 2024: r4 only.
    out = run(tables, "reentry_plan_rate", start=D(2024, 1, 1))
    assert (row(out)["numerator"], row(out)["denominator"]) == (0, 1)


# --- recidivism ---------------------------------------------------------------------------------

def recid(eid: str, pid: str, day: dt.date, kind: str) -> dict[str, Any]:
    return {"event_id": eid, "participant_id": pid, "event_date": day, "event_type": kind}


@pytest.fixture
def recidivism_tables() -> Tables:
    return Tables.from_frames(
        participants=[
            # i1: index = release 31 Dec 2023; + 6 months = 30 Jun 2024 = as-of: eligible exactly on the as-of date.
            person("i1", cohort="pilot", release_date=D(2023, 12, 31)),
            # i2: no release, index = enrollment 31 Aug 2023; + 6 months clips to 29 Feb 2024.
            person("i2", cohort="pilot", enrollment_date=D(2023, 8, 31)),
            # i3: index 15 Jun 2023 with an arrest on the index date (does not count).
            person("i3", cohort="comparison", release_date=D(2023, 6, 15)),
            # i4: index 1 Mar 2024: + 6 months = 1 Sep 2024 > as-of: not yet eligible.
            person("i4", cohort="comparison", release_date=D(2024, 3, 1)),
            # i5: index 10 Jan 2022, eligible for 6, 12 and 24 months (10 Jan 2024), not 36.
            person("i5", program="P2", cohort="comparison", agency=None, release_date=D(2022, 1, 10)),
            # Enrolled after the as-of date: left out.
            person("late", cohort="pilot", enrollment_date=D(2024, 7, 1), release_date=D(2022, 1, 1)),
        ],
        recidivism_events=[
            recid("x1", "i1", D(2024, 6, 30), "arrest"),  # on the window end and the as-of date: counts
            recid("x2", "i2", D(2024, 3, 1), "arrest"),  # one day after the clipped 6-month end: outside
            recid("x3", "i3", D(2023, 6, 15), "arrest"),  # on the index date: not after it
            recid("x4", "i3", D(2023, 9, 1), "conviction"),
            recid("x5", "i4", D(2024, 4, 1), "arrest"),  # not eligible anyway
            recid("x6", "i5", D(2023, 3, 1), "revocation"),  # 13.7 months after index
            recid("x7", "i5", D(2022, 2, 1), "incarceration"),  # earlier: the first reincarceration
            recid("x8", "late", D(2022, 6, 1), "arrest"),
        ],
    )


def test_recidivism_rearrest_6m(recidivism_tables: Tables) -> None:
    out = run(recidivism_tables, "recidivism_rearrest_6m")
    # Eligible (index + 6 months <= 30 Jun 2024): i1 (end 30 Jun 2024), i2 (29 Feb 2024), i3 (15 Dec 2023),
    # i5 (10 Jul 2022); not i4 (1 Sep 2024) nor late (enrolled after as-of) -> denominator 4.
    # Rearrested: i1 (30 Jun <= 30 Jun); i2's arrest 1 Mar is after 29 Feb; i3's is on the index date -> 1/4.
    assert (row(out)["numerator"], row(out)["denominator"]) == (1, 4)
    assert (row(out, "cohort", cohort="pilot")["numerator"], row(out, "cohort", cohort="pilot")["denominator"]) == (1, 2)
    assert (row(out, "cohort", cohort="comparison")["numerator"], row(out, "cohort", cohort="comparison")["denominator"]) == (0, 2)


def test_recidivism_month_end_clipping_matters() -> None:
    # 31 Aug 2023 + 6 months = 29 Feb 2024 (clipped). An arrest on 29 Feb counts, on 1 Mar not.
    tables = Tables.from_frames(
        participants=[person("a", enrollment_date=D(2023, 8, 31)), person("b", enrollment_date=D(2023, 8, 31))],
        recidivism_events=[recid("e1", "a", D(2024, 2, 29), "arrest"), recid("e2", "b", D(2024, 3, 1), "arrest")],
    )
    out = run(tables, "recidivism_rearrest_6m", as_of=D(2024, 2, 29))
    # Both eligible exactly on the as-of date 29 Feb; only a's arrest is in the window (b's is after as-of too).
    assert (row(out)["numerator"], row(out)["denominator"]) == (1, 2)
    # One day earlier nobody is eligible: no row at all (zero denominator, no NaN).
    assert run(tables, "recidivism_rearrest_6m", as_of=D(2024, 2, 28)).height == 0


def test_recidivism_reconviction_and_reincarceration(recidivism_tables: Tables) -> None:
    out = run(recidivism_tables, "recidivism_reconviction_12m")
    # 12 months: i1 end 31 Dec 2024 > as-of (no); i2 end 31 Aug 2024 (no); i3 15 Jun 2024 (yes);
    # i4 no; i5 10 Jan 2023 (yes) -> denominator 2. i3's conviction 1 Sep 2023 is in its window -> 1/2.
    assert (row(out)["numerator"], row(out)["denominator"]) == (1, 2)
    out = run(recidivism_tables, "recidivism_reincarceration_6m")
    # Reincarceration = incarceration or revocation; i5's incarceration 1 Feb 2022 is within 6 months -> 1/4.
    assert (row(out)["numerator"], row(out)["denominator"]) == (1, 4)
    assert row(out, "agency_id", agency_id=None)["numerator"] == 1
    out = run(recidivism_tables, "recidivism_reincarceration_24m")
    # 24 months: only i5 (end 10 Jan 2024) -> 1/1. 36 months: nobody eligible -> no rows.
    assert (row(out)["numerator"], row(out)["denominator"]) == (1, 1)
    assert run(recidivism_tables, "recidivism_reincarceration_36m").height == 0


def test_recidivism_period_applies_to_index_date(recidivism_tables: Tables) -> None:
    # Index dates in 2023: i1 (31 Dec), i2 (31 Aug), i3 (15 Jun) -> 6-month eligible all three; rearrest i1 -> 1/3.
    out = run(recidivism_tables, "recidivism_rearrest_6m", start=D(2023, 1, 1), end=D(2023, 12, 31))
    assert (row(out)["numerator"], row(out)["denominator"]) == (1, 3)


# --- police contacts ---------------------------------------------------------------------------

def contact(cid: str, outcome: str, day: dt.date = D(2024, 3, 1), program: str | None = None,
            pid: str | None = None, agency: str = "A3") -> dict[str, Any]:
    return {"contact_id": cid, "agency_id": agency, "program_id": program, "participant_id": pid,
            "contact_date": day, "contact_type": "crisis_call", "co_responder": True, "outcome": outcome}


@pytest.fixture
def police_tables() -> Tables:
    return Tables.from_frames(
        participants=[
            person("pa", "P1", "pilot"),
            person("pb", "P2", "comparison"),
            person("late", "P2", "comparison", enrollment_date=D(2024, 7, 1)),
        ],
        police_contacts=[
            contact("k1", "resolved_on_scene", program="P1"),
            contact("k2", "arrest", pid="pa"),  # program from the participant: P1
            contact("k3", "no_action"),  # no program, no participant
            contact("k4", "referred_to_services", program="P2", pid="pb", agency="A4"),
            contact("k5", "transported_to_treatment", day=D(2024, 7, 1), program="P1"),  # after as-of
            # Its participant enrolls after the as-of date, but the contact is dated before it: it counts,
            # with late's recorded program P2 (it has none of its own) and cohort comparison.
            contact("k6", "resolved_on_scene", pid="late"),
        ],
    )


def test_police_diversion_rate(police_tables: Tables) -> None:
    out = run(police_tables, "police_diversion_rate")
    # Contacts: k1, k2, k3, k4, k6 = 5 (k5 after as-of); diverted: k1 (on scene), k4 (referred),
    # k6 (on scene) -> 3/5.
    assert (row(out)["numerator"], row(out)["denominator"]) == (3, 5)
    # Program: P1 = k1, k2 -> 1/2; P2 = k4, k6 (late's program) -> 2/2; Unassigned = k3 -> 0/1.
    assert row(out, "program_id", program_id="P1")["value"] == 0.5
    assert (row(out, "program_id", program_id="P2")["numerator"], row(out, "program_id", program_id="P2")["denominator"]) == (2, 2)
    assert (row(out, "program_id", program_id=None)["numerator"], row(out, "program_id", program_id=None)["denominator"]) == (0, 1)
    # Cohort from the participant only: null = k1, k3 -> 1/2; pilot = k2 -> 0/1; comparison = k4, k6 -> 2/2.
    assert (row(out, "cohort", cohort=None)["numerator"], row(out, "cohort", cohort=None)["denominator"]) == (1, 2)
    assert (row(out, "cohort", cohort="comparison")["numerator"], row(out, "cohort", cohort="comparison")["denominator"]) == (2, 2)
    assert keys_of(out, "program_id", "cohort") == {("P1", None), ("P1", "pilot"), (None, None), ("P2", "comparison")}
    assert row(out, "program_id", "cohort", program_id=None, cohort=None)["denominator"] == 1
    assert row(out, "program_id", "cohort", program_id="P2", cohort="comparison")["denominator"] == 2
    # Agency = the contact's: A3 = k1, k2, k3, k6 -> 2/4; A4 = k4 -> 1/1.
    assert (row(out, "agency_id", agency_id="A3")["numerator"], row(out, "agency_id", agency_id="A3")["denominator"]) == (2, 4)
    # As of 1 Jul 2024, k5 (P1, transported) counts too: 6 contacts, diverted k1, k4, k5, k6 -> 4/6;
    # P1 = k1, k2, k5 -> 2/3; P2 is still k4, k6 (the attribution does not depend on the as-of date).
    out = run(police_tables, "police_diversion_rate", as_of=D(2024, 7, 1))
    assert (row(out)["numerator"], row(out)["denominator"]) == (4, 6)
    assert (row(out, "program_id", program_id="P1")["numerator"], row(out, "program_id", program_id="P1")["denominator"]) == (2, 3)
    assert row(out, "program_id", program_id="P2")["denominator"] == 2


def test_police_filters(police_tables: Tables) -> None:
    # --program P1 applies to the contact's program, else its participant's: k1, k2 -> 1/2.
    out = run(police_tables, "police_diversion_rate", program_ids=("P1",))
    assert (row(out)["numerator"], row(out)["denominator"]) == (1, 2)
    # A participant filter keeps only contacts of matching participants: cohort pilot -> k2 -> 0/1.
    out = run(police_tables, "police_diversion_rate", cohorts=("pilot",))
    assert (row(out)["numerator"], row(out)["denominator"]) == (0, 1)
    # Cohort comparison: k4 (pb) and k6 (late, enrolled after as-of but matching) -> 2/2.
    out = run(police_tables, "police_diversion_rate", cohorts=("comparison",))
    assert (row(out)["numerator"], row(out)["denominator"]) == (2, 2)


# --- participant filters, groupings, suppression, output shapes --------------------------------

def test_participant_filters_restrict_everything_attributed(referral_tables: Tables) -> None:
    # risk_level high matches nobody -> no referral rows at all.
    assert run(referral_tables, "referral_completion_rate", risk_levels=("high",)).height == 0
    # cohort comparison -> closed referrals of pb (f7) and late (f9, dated before the as-of date) -> 2/2.
    out = run(referral_tables, "referral_completion_rate", cohorts=("comparison",))
    assert (row(out)["numerator"], row(out)["denominator"]) == (2, 2)
    # cohort pilot -> pa's f1, f2, f3 -> 1/3.
    out = run(referral_tables, "referral_completion_rate", cohorts=("pilot",))
    assert (row(out)["numerator"], row(out)["denominator"]) == (1, 3)
    # age band 25-34 (an age is set on nobody): none; the null band (None) matches everyone without an
    # age -> all 5 closed referrals f1, f2, f3, f7, f9.
    assert run(referral_tables, "referral_completion_rate", age_bands=("25-34",)).height == 0
    assert row(run(referral_tables, "referral_completion_rate", age_bands=(None,)))["denominator"] == 5


def test_suppression_in_output_and_json_shape(referral_tables: Tables) -> None:
    frame = compute_metrics(referral_tables, Filters(as_of=AS_OF), min_cell_size=3,
                            metric_ids=["referral_completion_rate"])
    # k = 3, closed referrals f1, f2, f3 (P1 pilot), f7, f9 (P2 comparison); rule: denominator < 3 or
    # numerator in 1..2. Overall 3/5: published. P1 1/3, pilot 1/3, (P1, pilot) 1/3: numerator 1 ->
    # suppressed; P2 2/2, comparison 2/2, (P2, comparison) 2/2: suppressed. Agency A3 0/1: denominator 1
    # -> suppressed; A2 3/4 passes the rule, but it is the only published member of the agency set
    # whose total 3/5 is published (A3 = overall - A2), so it is suppressed as the complement.
    suppressed = {
        (tuple(r["group_by"]), tuple(r["group"][g] for g in r["group_by"])): r["suppressed"]
        for r in frame.iter_rows(named=True)
    }
    assert suppressed == {
        ((), ()): False,
        (("program_id",), ("P1",)): True, (("program_id",), ("P2",)): True,
        (("agency_id",), ("A2",)): True, (("agency_id",), ("A3",)): True,
        (("cohort",), ("comparison",)): True, (("cohort",), ("pilot",)): True,
        (("program_id", "cohort"), ("P1", "pilot")): True, (("program_id", "cohort"), ("P2", "comparison")): True,
    }
    published = row(frame)
    assert (published["numerator"], published["denominator"], published["value"]) == (3, 5, 0.6)
    doc = metrics_json(referral_tables, Filters(as_of=AS_OF), min_cell_size=0)
    assert set(doc) == {"as_of", "min_cell_size", "filters", "metrics"}
    assert doc["as_of"] == "2024-06-30" and doc["min_cell_size"] == 0
    first = doc["metrics"][0]
    assert list(first) == ["metric", "group_by", "group", "numerator", "denominator", "value", "ci_low",
                           "ci_high", "suppressed"]
    assert first["group_by"] == [] and first["group"] == {}
    assert isinstance(first["numerator"], int) and isinstance(first["denominator"], int)
    pair = next(r for r in doc["metrics"] if r["group_by"] == ["program_id", "cohort"])
    assert set(pair["group"]) == {"program_id", "cohort"}
    doc3 = metrics_json(referral_tables, Filters(as_of=AS_OF), min_cell_size=3)
    hidden = next(r for r in doc3["metrics"] if r["metric"] == "referral_completion_rate"
                  and r["group_by"] == ["agency_id"] and r["group"] == {"agency_id": "A2"})
    assert hidden == {"metric": "referral_completion_rate", "group_by": ["agency_id"], "group": {"agency_id": "A2"},
                      "numerator": None, "denominator": None, "value": None, "ci_low": None, "ci_high": None,
                      "suppressed": True}
    json.dumps(doc3, allow_nan=False)  # never NaN or infinity
    text = metrics_csv(referral_tables, Filters(as_of=AS_OF), min_cell_size=0)
    assert text.splitlines()[0] == "metric,group_by,program_id,agency_id,cohort,numerator,denominator,value,ci_low,ci_high,suppressed"


def test_metrics_csv_neutralises_group_keys_a_spreadsheet_would_run() -> None:
    # One referral at provider "@SUM(1+1)": the agency key is written with a leading quote.
    tables = Tables.from_frames(
        participants=[person("a", "P1", "pilot")],
        referrals=[referral("f1", "a", "completed", D(2024, 2, 1), accepted=D(2024, 2, 2), start=D(2024, 2, 3),
                            completed=D(2024, 3, 1), provider="@SUM(1+1)")],
    )
    rows = metrics_csv(tables, Filters(as_of=AS_OF), min_cell_size=0).splitlines()
    agency_rows = [r.split(",") for r in rows if r.startswith("referral_completion_rate,agency_id,")]
    assert len(agency_rows) == 1
    fields = agency_rows[0]
    assert fields[3] == "'@SUM(1+1)" and fields[5:8] == ["1", "1", "1.0"]
    # Wilson low for 1/1 is 1 / (1 + z^2) = 1 / 4.8415 = 0.2065.
    assert float(fields[8]) == pytest.approx(0.2065, abs=1e-4)


def test_every_metric_present_and_finite_on_sample() -> None:
    from dashboard.metrics.registry import METRIC_IDS
    from dashboard.sample import generate_tables

    tables = Tables.from_frames(**generate_tables(participants=600, seed=7))
    doc = metrics_json(tables, Filters(), min_cell_size=11)
    assert {r["metric"] for r in doc["metrics"]} == set(METRIC_IDS)
    json.dumps(doc, allow_nan=False)
    for r in doc["metrics"]:
        for c in ("value", "ci_low", "ci_high", "denominator"):
            assert r[c] is None or math.isfinite(r[c])


# Every recidivism metric on the same fixture (as-of 30 Jun 2024). Window ends per participant:
#   i1 index 31 Dec 2023: 6m 30 Jun 2024 (eligible, on the as-of date), 12m 31 Dec 2024 (no)
#   i2 index 31 Aug 2023: 6m 29 Feb 2024 (clipped; eligible), 12m 31 Aug 2024 (no)
#   i3 index 15 Jun 2023: 6m 15 Dec 2023, 12m 15 Jun 2024 (eligible), 24m 15 Jun 2025 (no)
#   i4 index  1 Mar 2024: 6m 1 Sep 2024 (never eligible here)
#   i5 index 10 Jan 2022: 6m 10 Jul 2022, 12m 10 Jan 2023, 24m 10 Jan 2024 (eligible), 36m 10 Jan 2025 (no)
# -> denominators 6m: 4 (i1, i2, i3, i5); 12m: 2 (i3, i5); 24m: 1 (i5); 36m: none (no row).
# First events after the index date: i1 arrest 30 Jun 2024; i2 arrest 1 Mar 2024 (after its 6m end);
# i3 conviction 1 Sep 2023 (its arrest is on the index date); i5 incarceration 1 Feb 2022.
@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("recidivism_rearrest_6m", (1, 4)),  # i1
        ("recidivism_rearrest_12m", (0, 2)),
        ("recidivism_rearrest_24m", (0, 1)),
        ("recidivism_rearrest_36m", None),
        ("recidivism_reconviction_6m", (1, 4)),  # i3
        ("recidivism_reconviction_12m", (1, 2)),  # i3
        ("recidivism_reconviction_24m", (0, 1)),
        ("recidivism_reconviction_36m", None),
        ("recidivism_reincarceration_6m", (1, 4)),  # i5
        ("recidivism_reincarceration_12m", (1, 2)),  # i5
        ("recidivism_reincarceration_24m", (1, 1)),  # i5
        ("recidivism_reincarceration_36m", None),
    ],
)
def test_every_recidivism_metric(recidivism_tables: Tables, metric: str, expected: tuple[int, int] | None) -> None:
    out = run(recidivism_tables, metric)
    if expected is None:
        assert out.height == 0
        return
    overall = row(out)
    assert (overall["numerator"], overall["denominator"]) == expected
    assert (overall["ci_low"], overall["ci_high"]) == wilson_interval(*expected)


def test_interval_agrees_with_statsmodels(referral_tables: Tables) -> None:
    from statsmodels.stats.proportion import proportion_confint

    overall = row(run(referral_tables, "referral_acceptance_rate"))  # 6 / 7 (see test_referral_acceptance_rate)
    assert (overall["numerator"], overall["denominator"]) == (6, 7)
    low, high = proportion_confint(6, 7, alpha=0.05, method="wilson")
    assert overall["ci_low"] == pytest.approx(low, abs=1e-12)
    assert overall["ci_high"] == pytest.approx(high, abs=1e-12)
