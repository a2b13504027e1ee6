"""Hand-computed fixtures for the operations measures: cost per participant, cost per
completion and caseload per officer (docs/metrics.md, contract version 2).

The arithmetic is in the comments. Suppression is off (min_cell_size=0) except
where tested.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl
import pytest

from dashboard.metrics.engine import compute_metrics, metrics_csv, metrics_json
from dashboard.metrics.tables import Filters, Tables

D = dt.date
COST_AS_OF = D(2026, 3, 31)


def person(pid: str, program: str = "P1", cohort: str = "pilot", agency: str | None = "A1", **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "participant_id": pid,
        "program_id": program,
        "supervising_agency_id": agency,
        "cohort": cohort,
        "enrollment_date": D(2025, 6, 1),
        "supervision_type": "probation",
        "risk_level": "low",
    }
    base.update(kw)
    return base


def done(pid: str, exit_date: dt.date, reason: str = "completed", **kw: Any) -> dict[str, Any]:
    return person(pid, exit_date=exit_date, exit_reason=reason, **kw)


def cost(cid: str, program: str, start: dt.date, end: dt.date, amount: str) -> dict[str, Any]:
    return {"cost_id": cid, "program_id": program, "period_start": start, "period_end": end,
            "amount": Decimal(amount), "category": "services"}


def frames(**tables: Any) -> Tables:
    tables.setdefault("programs", [{"program_id": p, "program_name": p, "program_model": "release_planning",
                                    "lead_agency_id": "A1", "start_date": D(2020, 1, 1)} for p in ("P1", "P2", "P3")])
    tables.setdefault("agencies", [{"agency_id": a, "agency_name": a, "agency_type": "probation"}
                                   for a in ("A1", "A2", "A3")])
    return Tables.from_frames(**tables)


def rows_of(frame: pl.DataFrame, metric: str) -> dict[tuple[tuple[str, ...], tuple[str | None, ...]], dict[str, Any]]:
    out = {}
    for rec in frame.filter(pl.col("metric") == metric).iter_rows(named=True):
        group_by = tuple(rec["group_by"])
        out[(group_by, tuple(rec["group"][g] for g in group_by))] = rec
    return out


OVERALL: tuple[tuple[str, ...], tuple[str | None, ...]] = ((), ())


def prog(p: str) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    return (("program_id",), (p,))


def agency(a: str) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    return (("agency_id",), (a,))


# --- costs ------------------------------------------------------------------------------

COSTS = [
    # Straddles the period start (2026-01-01) and the as-of (2026-03-31): 2025-12-02..2026-04-30 is
    # 30 + 31 + 28 + 31 + 30 = 150 days; inside [2026-01-01, 2026-03-31]: 31 + 28 + 31 = 90 days
    # -> 1510.00 x 90/150 = 906.00. Without a period (up to the as-of): 30 + 90 = 120 days -> 1208.00.
    cost("C1", "P1", D(2025, 12, 2), D(2026, 4, 30), "1510.00"),
    # Zero-length period: one day (both ends counted), inside -> 100.25.
    cost("C2", "P1", D(2026, 2, 10), D(2026, 2, 10), "100.25"),
    # Before the period start: 0 with the period, all of it (999.99) without.
    cost("C3", "P1", D(2025, 10, 1), D(2025, 12, 31), "999.99"),
    # Wholly inside: 1000.00.
    cost("C4", "P2", D(2026, 1, 1), D(2026, 3, 31), "1000.00"),
    # 3 days 2025-12-31..2026-01-02, 2 of them in the period -> 10.00 x 2/3 = 20/3 (not a whole cent:
    # summed exactly). Without a period: all 3 days -> 10.00.
    cost("C7", "P2", D(2025, 12, 31), D(2026, 1, 2), "10.00"),
    # After the as-of: nothing, whatever the period.
    cost("C6", "P2", D(2026, 4, 1), D(2026, 4, 30), "500.00"),
    # P3 has costs but no pilot participant: 2026-03-01..2026-04-09 = 31 + 9 = 40 days, 31 up to the
    # as-of -> 400.00 x 31/40 = 310.00 (in the overall numerator; P3 gets no row).
    cost("C5", "P3", D(2026, 3, 1), D(2026, 4, 9), "400.00"),
]
PEOPLE = [
    person("a"),                                            # served (never exited)
    done("b", D(2026, 1, 1)),                                # exit on the start day: served; a completion in the period
    done("c", D(2025, 12, 31)),                              # exited before the start: not served; completion before it
    person("d", enrollment_date=D(2026, 3, 31)),             # enrolled on the as-of: served
    person("e", enrollment_date=D(2026, 4, 1)),              # enrolled after the as-of: never counted
    done("f", D(2026, 4, 15)),                               # exit after the as-of = no exit: served, no completion
    person("g", cohort="comparison"),                        # comparison: never in a cost denominator
    done("h", D(2026, 3, 31), "revoked", agency="A2"),       # served (other agency: --agency does not apply); revoked
    done("i", D(2026, 3, 31), agency=None),                  # served; completion on the as-of
    done("j", D(2026, 2, 1), program="P2", enrollment_date=D(2025, 1, 1)),  # P2: served, completion
    person("k", program="P2", enrollment_date=D(2026, 1, 15)),             # P2: served
    person("l", program="P3", cohort="comparison"),          # P3 has no pilot participant
]
PERIOD = {"start": D(2026, 1, 1), "end": D(2026, 6, 30)}  # --end after the as-of: capped at 2026-03-31


def cost_tables() -> Tables:
    return frames(participants=PEOPLE, program_costs=COSTS)


def costs(tables: Tables, k: int = 0, **filters: Any) -> pl.DataFrame:
    filters.setdefault("as_of", COST_AS_OF)
    return compute_metrics(tables, Filters(**filters), min_cell_size=k,
                           metric_ids=["cost_per_participant", "cost_per_completion"])


def test_cost_per_participant_in_a_period_with_end_after_the_as_of() -> None:
    rows = rows_of(costs(cost_tables(), **PERIOD), "cost_per_participant")
    # P1 cost = 906.00 + 100.25 = 1006.25; served a, b, d, f, h, i = 6 -> 167.708333...
    # P2 cost = 1000 + 20/3 = 3020/3; served j, k = 2 -> 1510/3 = 503.333...
    # overall cost = 1006.25 + 3020/3 + 310 (P3, no row) = 27875/12 = 2322.91666...; served 8 -> 27875/96
    assert set(rows) == {OVERALL, prog("P1"), prog("P2")}
    assert rows[prog("P1")]["numerator"] == pytest.approx(1006.25)
    assert rows[prog("P1")]["denominator"] == 6
    assert rows[prog("P1")]["value"] == pytest.approx(1006.25 / 6, rel=1e-12)
    assert rows[prog("P2")]["numerator"] == pytest.approx(3020 / 3, rel=1e-12)
    assert rows[prog("P2")]["value"] == pytest.approx(1510 / 3, rel=1e-12)
    assert rows[OVERALL]["numerator"] == pytest.approx(27875 / 12, rel=1e-12)
    assert rows[OVERALL]["denominator"] == 8
    assert rows[OVERALL]["value"] == float(Fraction(27875, 96))  # exact sum, one conversion
    assert all(r["ci_low"] is None and r["suppressed"] is False for r in rows.values())


def test_cost_per_completion_in_a_period() -> None:
    rows = rows_of(costs(cost_tables(), **PERIOD), "cost_per_completion")
    # completions in [2026-01-01, 2026-03-31]: P1 b (on the start day) and i (on the as-of) = 2; P2 j = 1.
    # c (before the start) and f (after the as-of) do not count; h was revoked.
    assert rows[prog("P1")]["denominator"] == 2 and rows[prog("P1")]["value"] == pytest.approx(503.125)
    assert rows[prog("P2")]["denominator"] == 1 and rows[prog("P2")]["value"] == pytest.approx(3020 / 3)
    assert rows[OVERALL]["denominator"] == 3
    assert rows[OVERALL]["value"] == float(Fraction(27875, 36))


def test_costs_without_a_period_run_to_the_as_of() -> None:
    frame = costs(cost_tables())
    served, completion = rows_of(frame, "cost_per_participant"), rows_of(frame, "cost_per_completion")
    # P1 = 1208.00 + 100.25 + 999.99 = 2308.24; P2 = 1000 + 10 = 1010; P3 = 310; overall 3628.24.
    # Served: every pilot participant enrolled by the as-of, however long ago they left:
    # P1 a, b, c, d, f, h, i = 7; P2 j, k = 2. Completions on or before the as-of: P1 b, c, i = 3; P2 j = 1.
    assert served[prog("P1")]["numerator"] == pytest.approx(2308.24)
    assert served[prog("P1")]["denominator"] == 7
    assert served[prog("P2")]["numerator"] == pytest.approx(1010.0)
    assert served[OVERALL]["numerator"] == pytest.approx(3628.24)
    assert served[OVERALL]["denominator"] == 9
    assert served[OVERALL]["value"] == pytest.approx(3628.24 / 9)
    assert completion[prog("P1")]["denominator"] == 3
    assert completion[OVERALL]["value"] == pytest.approx(3628.24 / 4)


def test_a_period_with_only_a_start_is_open_to_the_as_of() -> None:
    only_start = rows_of(costs(cost_tables(), start=D(2026, 1, 1)), "cost_per_participant")
    with_end = rows_of(costs(cost_tables(), **PERIOD), "cost_per_participant")
    assert only_start == with_end


def test_costs_ignore_agency_and_participant_filters_but_not_program() -> None:
    base = costs(cost_tables(), **PERIOD)
    assert costs(cost_tables(), agency_ids=("A2",), **PERIOD).equals(base)
    assert costs(cost_tables(), cohorts=("comparison",), risk_levels=("high",), **PERIOD).equals(base)
    p1 = rows_of(costs(cost_tables(), program_ids=("P1",), **PERIOD), "cost_per_participant")
    assert set(p1) == {OVERALL, prog("P1")}
    assert p1[OVERALL]["numerator"] == pytest.approx(1006.25) and p1[OVERALL]["denominator"] == 6
    # P3 alone: 310.00 of cost but nobody served -> no row at all.
    assert costs(cost_tables(), program_ids=("P3",), **PERIOD).height == 0


def test_money_is_summed_exactly() -> None:
    # Three rows of 0.10 over 3 days each, 1 day inside the period: 3 x 0.10/3 = 0.10 exactly
    # (in floats 0.1/3*3 summed drifts); 1 pilot participant -> 0.1.
    rows = [cost(f"X{i}", "P1", D(2026, 1, 1), D(2026, 1, 3), "0.10") for i in range(3)]
    tables = frames(participants=[person("a")], program_costs=rows)
    out = rows_of(costs(tables, start=D(2026, 1, 3), end=D(2026, 1, 3)), "cost_per_participant")
    assert out[OVERALL]["numerator"] == 0.1 and out[OVERALL]["value"] == 0.1


def test_cost_suppression_is_on_the_denominator_with_a_complementary_program() -> None:
    # k = 3, the period above. cost_per_participant: P2 has 2 served < 3 -> suppressed; the overall row (8) is
    # published, so P1 (6, the only other program) is suppressed too, or P2 = overall - P1.
    # cost_per_completion: P1 (2) and P2 (1) are both below 3; overall (3) is published.
    frame = costs(cost_tables(), k=3, **PERIOD)
    served, completion = rows_of(frame, "cost_per_participant"), rows_of(frame, "cost_per_completion")
    assert {k: r["suppressed"] for k, r in served.items()} == {OVERALL: False, prog("P1"): True, prog("P2"): True}
    assert {k: r["suppressed"] for k, r in completion.items()} == {OVERALL: False, prog("P1"): True, prog("P2"): True}
    doc = metrics_json(cost_tables(), Filters(as_of=COST_AS_OF, **PERIOD), 3)
    withheld = [r for r in doc["metrics"] if r["metric"] == "cost_per_participant" and r["suppressed"]]
    assert withheld and all(r["numerator"] is None and r["value"] is None for r in withheld)


def test_a_small_amount_of_money_never_triggers_suppression() -> None:
    # 12 pilot participants, 5.00 of cost: numerator "5" would be a small count, but it is money.
    tables = frames(participants=[person(f"p{i}") for i in range(12)],
                    program_costs=[cost("C", "P1", D(2026, 1, 1), D(2026, 1, 1), "5.00")])
    rows = rows_of(costs(tables, k=11), "cost_per_participant")
    assert rows[OVERALL]["suppressed"] is False and rows[OVERALL]["value"] == pytest.approx(5 / 12)


def test_cost_json_numbers() -> None:
    doc = metrics_json(cost_tables(), Filters(as_of=COST_AS_OF, **PERIOD), 0)
    overall = next(r for r in doc["metrics"] if r["metric"] == "cost_per_participant" and r["group_by"] == [])
    assert overall["numerator"] == pytest.approx(2322.9166666666665)
    assert overall["denominator"] == 8 and isinstance(overall["denominator"], int)
    assert overall["ci_low"] is None and overall["ci_high"] is None


# --- caseload ---------------------------------------------------------------------------

CASE_AS_OF = D(2026, 3, 20)
STAFFING = [
    {"agency_id": "A1", "month": D(2026, 1, 1), "officers_fte": Decimal("2.00")},
    {"agency_id": "A1", "month": D(2026, 2, 1), "officers_fte": Decimal("0.00")},   # vacancy month
    {"agency_id": "A1", "month": D(2026, 3, 1), "officers_fte": Decimal("1.50")},   # counted on the as-of (Mar 20)
    {"agency_id": "A1", "month": D(2026, 4, 1), "officers_fte": Decimal("3.00")},   # starts after the as-of
    {"agency_id": "A2", "month": D(2026, 1, 1), "officers_fte": Decimal("1.00")},
    {"agency_id": "A3", "month": D(2026, 1, 1), "officers_fte": Decimal("0.00")},   # A3: sum of FTE 0
    {"agency_id": "A3", "month": D(2026, 2, 1), "officers_fte": Decimal("0.00")},
]
SUPERVISED = [
    person("p1", enrollment_date=D(2025, 12, 1)),                                  # Jan, Feb, Mar
    person("p2", enrollment_date=D(2026, 1, 31)),                                  # enrolled on Jan's last day: Jan, Feb, Mar
    done("p3", D(2026, 1, 31), enrollment_date=D(2025, 11, 1)),                    # exits on Jan's last day: never active
    done("p4", D(2026, 3, 10), "revoked", enrollment_date=D(2026, 2, 15)),         # Feb only
    person("p5", supervision_type="none", enrollment_date=D(2025, 1, 1)),           # not supervised: never
    person("p6", enrollment_date=D(2026, 3, 21)),                                  # after d = Mar 20: never
    done("p7", D(2026, 2, 1), enrollment_date=D(2025, 12, 1)),                     # Jan only
    done("p8", D(2026, 3, 25), enrollment_date=D(2026, 3, 1)),                     # exit after the as-of: Mar
    person("p10", enrollment_date=D(2026, 2, 1), cohort="comparison", program="P2"),  # any cohort/program: Feb, Mar
    person("q1", agency="A2"),                                                     # A2 Jan
    done("q2", D(2026, 1, 15), agency="A2"),                                       # exited mid-January: not on Jan 31
    person("r1", agency="A3", enrollment_date=D(2025, 1, 1)),                      # A3 Jan, Feb
    person("s1", agency=None),                                                     # no supervising agency: nowhere
]


def caseload(k: int = 0, **filters: Any) -> pl.DataFrame:
    filters.setdefault("as_of", CASE_AS_OF)
    tables = frames(participants=SUPERVISED, staffing=STAFFING)
    return compute_metrics(tables, Filters(**filters), min_cell_size=k, metric_ids=["caseload_per_officer"])


def test_caseload_per_officer_month_by_month() -> None:
    rows = rows_of(caseload(), "caseload_per_officer")
    # A1: Jan 31 p1, p2, p7 = 3; Feb 28 p1, p2, p4, p10 = 4; Mar 20 (the as-of) p1, p2, p8, p10 = 4;
    #     April starts after the as-of. 11 / (2.00 + 0.00 + 1.50) = 11 / 3.5 = 3.142857...
    # A2: Jan 31 q1 = 1; 1 / 1.00 = 1.
    # A3: Jan r1, Feb r1 = 2 with 0 FTE -> no row, but in the overall row.
    # Overall: (11 + 1 + 2) / (3.5 + 1 + 0) = 14 / 4.5 = 3.111...
    assert set(rows) == {OVERALL, agency("A1"), agency("A2")}
    assert (rows[agency("A1")]["numerator"], rows[agency("A1")]["denominator"]) == (11, 3.5)
    assert rows[agency("A1")]["value"] == pytest.approx(11 / 3.5)
    assert (rows[agency("A2")]["numerator"], rows[agency("A2")]["value"]) == (1, 1.0)
    assert (rows[OVERALL]["numerator"], rows[OVERALL]["denominator"]) == (14, 4.5)
    assert rows[OVERALL]["value"] == pytest.approx(14 / 4.5)


def test_caseload_period_applies_to_the_month() -> None:
    rows = rows_of(caseload(start=D(2026, 2, 1)), "caseload_per_officer")
    # A1 Feb 4 + Mar 4 = 8 over 0 + 1.5 FTE; A2 has no month in the period; A3 Feb 1 over 0 FTE.
    # Overall (8 + 1) / 1.5 = 6.
    assert set(rows) == {OVERALL, agency("A1")}
    assert rows[agency("A1")]["value"] == pytest.approx(8 / 1.5)
    assert rows[OVERALL]["value"] == pytest.approx(6.0)
    # An end before March: A1 Jan + Feb = 7 / 2.0.
    rows = rows_of(caseload(end=D(2026, 2, 28)), "caseload_per_officer")
    assert rows[agency("A1")]["numerator"] == 7 and rows[agency("A1")]["denominator"] == 2.0


def test_caseload_filters_and_no_suppression() -> None:
    base = caseload()
    # --program and participant filters do not apply (staffing is per agency).
    assert caseload(program_ids=("P3",), cohorts=("pilot",), supervision_types=("parole",)).equals(base)
    only_a1 = rows_of(caseload(agency_ids=("A1",)), "caseload_per_officer")
    assert set(only_a1) == {OVERALL, agency("A1")} and only_a1[OVERALL]["value"] == pytest.approx(11 / 3.5)
    # Never suppressed, even with every number far below k.
    assert rows_of(caseload(k=11), "caseload_per_officer") == rows_of(base, "caseload_per_officer")
    # An as-of before any staffing month: the table has rows, nothing counts, no row.
    assert caseload(as_of=D(2025, 12, 31)).height == 0


def test_caseload_json_keeps_the_fte_denominator() -> None:
    doc = metrics_json(frames(participants=SUPERVISED, staffing=STAFFING), Filters(as_of=CASE_AS_OF), 11)
    a1 = next(r for r in doc["metrics"] if r["metric"] == "caseload_per_officer" and r["group"] == {"agency_id": "A1"})
    assert a1 == {"metric": "caseload_per_officer", "group_by": ["agency_id"], "group": {"agency_id": "A1"},
                  "numerator": 11, "denominator": 3.5, "value": 11 / 3.5, "ci_low": None, "ci_high": None,
                  "suppressed": False}


# --- version 1 data ---------------------------------------------------------------------


def test_tables_without_rows_report_nothing_and_the_csv_keeps_its_columns() -> None:
    tables = frames(participants=PEOPLE)
    ids = {r["metric"] for r in metrics_json(tables, Filters(as_of=COST_AS_OF), 0)["metrics"]}
    assert not ids & {"cost_per_participant", "cost_per_completion", "caseload_per_officer"}
    header = metrics_csv(tables, Filters(as_of=COST_AS_OF), 0).splitlines()[0]
    assert header == "metric,group_by,program_id,agency_id,cohort,numerator,denominator,value,ci_low,ci_high,suppressed"
    # Costs stored: their rows appear, and the CSV has no survey column.
    with_costs = metrics_csv(cost_tables(), Filters(as_of=COST_AS_OF), 0)
    assert with_costs.splitlines()[0] == header
    assert "\ncost_per_participant,program_id,P1,,," in with_costs
