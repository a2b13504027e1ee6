"""Employment, stable housing and check coverage at 6 and 12 months (docs/metrics.md,
"Reintegration outcomes"), on a small extract computed by hand.

As-of date 30 Jun 2024. Index date = release_date if set, else enrollment_date.

| pid | program | agency | cohort     | index      | + 6 months | + 12 months |
|-----|---------|--------|------------|------------|------------|-------------|
| a   | P1      | A1     | pilot      | 2023-08-31 | 2024-02-29 | 2024-08-31 (not eligible) |
| b   | P1      | A1     | pilot      | 2023-06-15 | 2023-12-15 | 2024-06-15  |
| c   | P1      | —      | comparison | 2023-12-31 | 2024-06-30 (= as-of: eligible) | not eligible |
| d   | P1      | A1     | comparison | 2024-01-01 | 2024-07-01 (not eligible) | not eligible |
| e   | P2      | A2     | pilot      | 2023-03-01 | 2023-09-01 | 2024-03-01  |
| f   | P2      | A2     | comparison | 2023-03-01 | 2023-09-01 | 2024-03-01  |
| g   | P2      | —      | comparison | 2023-02-10 | 2023-08-10 | 2024-02-10  |
| h   | P2      | A2     | pilot      | 2023-04-20 | 2023-10-20 | 2024-04-20  |

Statuses at W (employment / housing / checks in the window):

- a @6: a1 on the index date does not count; a2 and a3 on 29 Feb (= index + 6 months, clipped
  from 31 Aug) count; a4 on 1 Mar (a day after) does not. Employment tie on 29 Feb: unemployed
  (a2) and part_time (a3) -> part_time (listed first). Housing: only a2 sets it -> homeless. 2 checks.
- b @6: b1 -> unemployed / homeless, 1 check. b @12: b2 (1 May, employment only) -> full_time;
  b3 on 15 Jun 2024 (= index + 12 months, housing only) -> transitional. 3 checks.
- c @6: c1 on the as-of date, not_in_labor_force only -> out of the employment denominator, no
  housing status, covered. 1 check.
- d: not eligible; its check counts nowhere.
- e @6: two checks on 1 Sep 2023 (part_time/homeless, then unemployed/stable) -> part_time / stable.
  e @12: e3 (not_in_labor_force) is the latest with employment set -> out of the employment
  denominator although e was part_time before; housing still stable (tie of 1 Sep). 3 checks.
- f @6: the same two checks in the other row order (unemployed/stable, then part_time/homeless)
  -> part_time / stable. f @12: f3 -> full_time / institutional. 3 checks.
- g: never checked -> only in the coverage denominators.
- h: one check with housing stable and no employment status -> stable, no employment status.

Overall: employment_rate_6m = {a, e, f} / {a, b, e, f} = 3/4; stable_housing_rate_6m =
{e, f, h} / {a, b, e, f, h} = 3/5; coverage_6m = {a, b, c, e, f, h} / {a, b, c, e, f, g, h} = 6/7;
employment_rate_12m = {b, f} / {b, f} = 2/2; stable_housing_rate_12m = {e, h} / {b, e, f, h} = 2/4;
coverage_12m = {b, e, f, h} / {b, e, f, g, h} = 4/5.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import polars as pl
import pytest

from dashboard.contract import EMPLOYMENT_STATUSES, HOUSING_STATUSES
from dashboard.metrics import families
from dashboard.metrics.breakdowns import metric_breakdown
from dashboard.metrics.engine import compute_metrics, metrics_csv, metrics_json
from dashboard.metrics.recidivism import add_months
from dashboard.metrics.registry import METRIC_IDS, METRICS_BY_ID
from dashboard.metrics.reintegration import (
    METRIC_IDS as REINTEGRATION_IDS,
)
from dashboard.metrics.reintegration import (
    reintegration_outcomes,
    statuses_at_windows,
)
from dashboard.metrics.tables import Filters, Tables
from dashboard.stats import wilson_interval

D = dt.date
AS_OF = D(2024, 6, 30)


def _without_reintegration() -> tuple[families.Family, ...]:
    """The families the engine loops over, less reintegration (what version 1 computed)."""
    return tuple(f for f in families.FAMILIES if f.name != "reintegration")


def _participant(pid: str, program: str, agency: str | None, cohort: str, index: dt.date,
                 release: bool = False, risk: str = "low") -> dict[str, Any]:
    return {
        "participant_id": pid, "program_id": program, "supervising_agency_id": agency, "cohort": cohort,
        "enrollment_date": D(2023, 1, 5) if release else index, "release_date": index if release else None,
        "supervision_type": "parole" if release else "probation", "risk_level": risk,
    }


PARTICIPANTS = [
    _participant("a", "P1", "A1", "pilot", D(2023, 8, 31), release=True),
    _participant("b", "P1", "A1", "pilot", D(2023, 6, 15)),
    _participant("c", "P1", None, "comparison", D(2023, 12, 31)),
    _participant("d", "P1", "A1", "comparison", D(2024, 1, 1)),
    _participant("e", "P2", "A2", "pilot", D(2023, 3, 1)),
    _participant("f", "P2", "A2", "comparison", D(2023, 3, 1)),
    _participant("g", "P2", None, "comparison", D(2023, 2, 10)),
    _participant("h", "P2", "A2", "pilot", D(2023, 4, 20)),
]


def _check(cid: str, pid: str, day: dt.date, employment: str | None, housing: str | None,
           agency: str = "A9") -> dict[str, Any]:
    return {"check_id": cid, "participant_id": pid, "agency_id": agency, "check_date": day,
            "employment": employment, "housing": housing}


CHECKS = [
    _check("a1", "a", D(2023, 8, 31), "full_time", "stable"),       # on the index date: no
    _check("a2", "a", D(2024, 2, 29), "unemployed", "homeless"),    # index + 6 months: yes
    _check("a3", "a", D(2024, 2, 29), "part_time", None),           # same date: part_time wins
    _check("a4", "a", D(2024, 3, 1), "full_time", "stable"),        # a day after: no
    _check("b1", "b", D(2023, 10, 1), "unemployed", "homeless"),
    _check("b2", "b", D(2024, 5, 1), "full_time", None),
    _check("b3", "b", D(2024, 6, 15), None, "transitional"),        # index + 12 months: yes
    _check("c1", "c", D(2024, 6, 30), "not_in_labor_force", None),  # on the as-of date
    _check("d1", "d", D(2024, 3, 1), "full_time", "stable"),        # d is not eligible
    _check("e1", "e", D(2023, 9, 1), "part_time", "homeless"),
    _check("e2", "e", D(2023, 9, 1), "unemployed", "stable"),
    _check("e3", "e", D(2024, 1, 15), "not_in_labor_force", None),
    _check("f1", "f", D(2023, 9, 1), "unemployed", "stable"),
    _check("f2", "f", D(2023, 9, 1), "part_time", "homeless"),
    _check("f3", "f", D(2024, 2, 1), "full_time", "institutional"),
    _check("h1", "h", D(2023, 6, 1), None, "stable"),
]


def _tables(checks: list[dict[str, Any]] | None = None, participants: list[dict[str, Any]] | None = None) -> Tables:
    return Tables.from_frames(
        participants=PARTICIPANTS if participants is None else participants,
        reintegration_checks=CHECKS if checks is None else checks,
    )


def _rows(frame: pl.DataFrame, metric: str, by: tuple[str, ...] = ()) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """{group key: (numerator, denominator)} of one metric and grouping."""
    out = {}
    for rec in frame.filter(pl.col("metric") == metric).iter_rows(named=True):
        if tuple(rec["group_by"]) == by:
            out[tuple(rec["group"][k] for k in by)] = (rec["numerator"], int(rec["denominator"]))
    return out


def test_statuses_at_each_window_follow_the_latest_check_and_the_tie_order() -> None:
    people = pl.DataFrame([{"participant_id": p["participant_id"],
                            "index_date": p["release_date"] or p["enrollment_date"]} for p in PARTICIPANTS])
    checks = Tables.from_frames(reintegration_checks=CHECKS).reintegration_checks
    got = {r["participant_id"]: r for r in statuses_at_windows(people, checks).collect().iter_rows(named=True)}
    six = {p: (r["employment_at_6m"], r["housing_at_6m"], r["checks_in_6m"]) for p, r in got.items()}
    assert six == {
        "a": ("part_time", "homeless", 2),
        "b": ("unemployed", "homeless", 1),
        "c": ("not_in_labor_force", None, 1),
        "d": ("full_time", "stable", 1),  # its window has the check; eligibility is decided later
        "e": ("part_time", "stable", 2),
        "f": ("part_time", "stable", 2),
        "h": (None, "stable", 1),
    }
    twelve = {p: (r["employment_at_12m"], r["housing_at_12m"], r["checks_in_12m"]) for p, r in got.items()}
    assert twelve["b"] == ("full_time", "transitional", 3)
    assert twelve["e"] == ("not_in_labor_force", "stable", 3)
    assert twelve["f"] == ("full_time", "institutional", 3)
    assert "g" not in got  # never checked


def test_overall_rates_by_hand() -> None:
    frame = compute_metrics(_tables(), Filters(as_of=AS_OF), min_cell_size=0)
    expected = {
        "employment_rate_6m": (3, 4), "employment_rate_12m": (2, 2),
        "stable_housing_rate_6m": (3, 5), "stable_housing_rate_12m": (2, 4),
        "reintegration_check_coverage_6m": (6, 7), "reintegration_check_coverage_12m": (4, 5),
    }
    for metric, (num, den) in expected.items():
        assert _rows(frame, metric) == {(): (num, den)}, metric
        (row,) = frame.filter((pl.col("metric") == metric) & (pl.col("group_by").list.len() == 0)).iter_rows(named=True)
        assert row["value"] == pytest.approx(num / den)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson_interval(num, den))
    # The family's metrics come after the version 1 metrics, in registry order.
    order = list(dict.fromkeys(frame["metric"].to_list()))
    assert order[-len(REINTEGRATION_IDS):] == list(REINTEGRATION_IDS)


def test_groupings_with_unassigned_agency_add_up() -> None:
    frame = compute_metrics(_tables(), Filters(as_of=AS_OF), min_cell_size=0)
    # Agency (supervising): A1 = a, b (d not eligible); A2 = e, f, h; Unassigned = c, g.
    assert _rows(frame, "reintegration_check_coverage_6m", ("agency_id",)) == {
        ("A1",): (2, 2), ("A2",): (3, 3), (None,): (1, 2),
    }
    # Employment 6m: A1 a employed, b unemployed -> 1/2; A2 e, f -> 2/2; Unassigned: c out of
    # the labour force, g never checked -> no denominator, no row.
    assert _rows(frame, "employment_rate_6m", ("agency_id",)) == {("A1",): (1, 2), ("A2",): (2, 2)}
    # Cohort: pilot a, b, e -> 2/3; comparison f -> 1/1.
    assert _rows(frame, "employment_rate_6m", ("cohort",)) == {("pilot",): (2, 3), ("comparison",): (1, 1)}
    # Housing 12m by program and cohort: P1 pilot b transitional -> 0/1; P2 pilot e, h stable -> 2/2;
    # P2 comparison f institutional -> 0/1.
    assert _rows(frame, "stable_housing_rate_12m", ("program_id", "cohort")) == {
        ("P1", "pilot"): (0, 1), ("P2", "pilot"): (2, 2), ("P2", "comparison"): (0, 1),
    }
    assert _rows(frame, "stable_housing_rate_12m", ("program_id",)) == {("P1",): (0, 1), ("P2",): (2, 3)}
    # The checks' own agency (A9) plays no part: attribution is the supervising agency.
    assert ("A9",) not in _rows(frame, "reintegration_check_coverage_12m", ("agency_id",))


def test_filters_apply_to_the_participants_attribution_and_index_date() -> None:
    # --agency A1: a and b; --program P2 with period on the index date from 2023-03-01: e, f, h.
    frame = compute_metrics(_tables(), Filters(as_of=AS_OF, agency_ids=("A1",)), min_cell_size=0)
    assert _rows(frame, "employment_rate_6m") == {(): (1, 2)}
    frame = compute_metrics(_tables(), Filters(as_of=AS_OF, program_ids=("P2",), start=D(2023, 3, 1)),
                            min_cell_size=0)
    assert _rows(frame, "reintegration_check_coverage_12m") == {(): (3, 3)}  # g (10 Feb) left out
    assert _rows(frame, "stable_housing_rate_6m") == {(): (3, 3)}
    # Participant filter: the comparison cohort only -> c, f, g at 6 months.
    frame = compute_metrics(_tables(), Filters(as_of=AS_OF, cohorts=("comparison",)), min_cell_size=0)
    assert _rows(frame, "reintegration_check_coverage_6m") == {(): (2, 3)}


def test_eligibility_exactly_on_the_as_of_date() -> None:
    # c: 31 Dec 2023 + 6 months = 30 Jun 2024. On as-of 30 Jun c is eligible (coverage 1/1 for
    # Unassigned+P1); on 29 Jun neither c nor its check (dated 30 Jun) counts.
    on = compute_metrics(_tables(), Filters(as_of=D(2024, 6, 30), program_ids=("P1",)), min_cell_size=0)
    before = compute_metrics(_tables(), Filters(as_of=D(2024, 6, 29), program_ids=("P1",)), min_cell_size=0)
    assert _rows(on, "reintegration_check_coverage_6m", ("agency_id",))[(None,)] == (1, 1)
    assert (None,) not in _rows(before, "reintegration_check_coverage_6m", ("agency_id",))
    # P1 at 6 months: a, b, c eligible on 30 Jun (d's window ends 1 Jul).
    assert _rows(on, "reintegration_check_coverage_6m") == {(): (3, 3)}
    assert _rows(before, "reintegration_check_coverage_6m") == {(): (2, 2)}


def test_month_end_clipping_31_august_plus_6_months() -> None:
    # Index 31 Aug 2023 + 6 months = 29 Feb 2024 (leap year); in 2022/23 it is 28 Feb 2023.
    for index, last_day in ((D(2023, 8, 31), D(2024, 2, 29)), (D(2022, 8, 31), D(2023, 2, 28))):
        people = [_participant("x", "P1", "A1", "pilot", index, release=True)]
        on_end = [_check("x1", "x", last_day, "full_time", "stable")]
        day_after = [_check("x1", "x", last_day + dt.timedelta(days=1), "full_time", "stable")]
        frame = compute_metrics(_tables(on_end, people), Filters(as_of=last_day), min_cell_size=0)
        assert _rows(frame, "employment_rate_6m") == {(): (1, 1)}
        assert _rows(frame, "stable_housing_rate_6m") == {(): (1, 1)}
        assert _rows(frame, "reintegration_check_coverage_6m") == {(): (1, 1)}
        frame = compute_metrics(_tables(day_after, people), Filters(as_of=last_day + dt.timedelta(days=1)),
                                min_cell_size=0)
        assert _rows(frame, "employment_rate_6m") == {}
        assert _rows(frame, "stable_housing_rate_6m") == {}
        assert _rows(frame, "reintegration_check_coverage_6m") == {(): (0, 1)}  # coverage shows 0/N


@pytest.mark.parametrize("order", [("part_time", "unemployed"), ("unemployed", "part_time")])
def test_same_date_ties_in_either_row_order(order: tuple[str, str]) -> None:
    people = [_participant("x", "P1", "A1", "pilot", D(2023, 1, 1))]
    housing = {"part_time": "institutional", "unemployed": "transitional"}
    checks = [_check(f"x{i}", "x", D(2023, 5, 1), value, housing[value]) for i, value in enumerate(order)]
    frame = compute_metrics(_tables(checks, people), Filters(as_of=AS_OF), min_cell_size=0)
    # part_time is listed before unemployed; transitional before institutional.
    assert _rows(frame, "employment_rate_6m") == {(): (1, 1)}
    out = reintegration_outcomes(_tables(checks, people).participants, _tables(checks, people).reintegration_checks,
                                 measure="stable_housing", window_months=6, as_of=AS_OF)
    assert out["status"].to_list() == ["transitional"] and out["achieved"].to_list() == [False]


def test_not_in_labor_force_only_and_housing_without_employment() -> None:
    people = [_participant("x", "P1", "A1", "pilot", D(2023, 1, 1)),
              _participant("y", "P1", "A1", "pilot", D(2023, 1, 1))]
    checks = [_check("x1", "x", D(2023, 3, 1), "not_in_labor_force", None),
              _check("x2", "x", D(2023, 4, 1), "not_in_labor_force", None),
              _check("y1", "y", D(2023, 3, 1), None, "homeless")]
    frame = compute_metrics(_tables(checks, people), Filters(as_of=AS_OF), min_cell_size=0)
    # Nobody has an employment status other than not_in_labor_force: no employment row at all.
    assert _rows(frame, "employment_rate_6m") == {} and _rows(frame, "employment_rate_12m") == {}
    # y's housing counts without an employment status; x has none.
    assert _rows(frame, "stable_housing_rate_6m") == {(): (0, 1)}
    assert _rows(frame, "reintegration_check_coverage_6m") == {(): (2, 2)}


def test_a_later_check_decides_even_against_an_earlier_one() -> None:
    people = [_participant("x", "P1", "A1", "pilot", D(2023, 1, 1))]
    checks = [_check("x1", "x", D(2023, 2, 1), "full_time", "stable"),
              _check("x2", "x", D(2023, 6, 1), "not_in_labor_force", "homeless")]
    frame = compute_metrics(_tables(checks, people), Filters(as_of=AS_OF), min_cell_size=0)
    assert _rows(frame, "employment_rate_6m") == {}  # out of the labour force at 6 months
    assert _rows(frame, "stable_housing_rate_6m") == {(): (0, 1)}


def test_checks_after_an_exit_count_and_exits_do_not_change_eligibility() -> None:
    person = {**_participant("x", "P1", "A1", "pilot", D(2023, 1, 1)), "exit_date": D(2023, 2, 1),
              "exit_reason": "revoked"}
    checks = [_check("x1", "x", D(2023, 5, 1), "part_time", "stable")]
    frame = compute_metrics(_tables(checks, [person]), Filters(as_of=AS_OF), min_cell_size=0)
    assert _rows(frame, "employment_rate_6m") == {(): (1, 1)}


# --- suppression -----------------------------------------------------------------------


def _many(n_pilot: tuple[int, int], n_comparison: tuple[int, int], program: str = "P1") -> tuple[list, list]:
    """(participants, checks): per cohort (employed, unemployed) people, all indexed 1 Jan 2023."""
    people, checks = [], []
    for cohort, (employed, unemployed) in (("pilot", n_pilot), ("comparison", n_comparison)):
        for i in range(employed + unemployed):
            pid = f"{program}-{cohort}-{i}"
            people.append(_participant(pid, program, "A1", cohort, D(2023, 1, 1)))
            checks.append(_check(f"c-{pid}", pid, D(2023, 5, 1), "full_time" if i < employed else "unemployed",
                                 "stable"))
    return people, checks


def test_primary_and_complementary_suppression() -> None:
    # Pilot 3 employed of 14, comparison 10 of 20 (k = 11). Pilot numerator 3 is 1..10: suppressed.
    # Cohort set: overall (13/34) published, exactly one member hidden -> the published member with
    # the smallest denominator (comparison, the only one) is hidden too.
    people, checks = _many((3, 11), (10, 10))
    frame = compute_metrics(_tables(checks, people), Filters(as_of=AS_OF), min_cell_size=11)
    rows = {tuple(r["group"][k] for k in r["group_by"]): r["suppressed"]
            for r in frame.filter(pl.col("metric") == "employment_rate_6m").iter_rows(named=True)
            if r["group_by"] in (["cohort"], [])}
    assert rows == {(): False, ("pilot",): True, ("comparison",): True}
    # Program P1 (13/34) is published; its cohorts are one additive set, hidden together.
    pairs = {tuple(r["group"][k] for k in r["group_by"]): r["suppressed"]
             for r in frame.filter(pl.col("metric") == "employment_rate_6m").iter_rows(named=True)
             if r["group_by"] in (["program_id"], ["program_id", "cohort"])}
    assert pairs == {("P1",): False, ("P1", "pilot"): True, ("P1", "comparison"): True}
    # Housing: everyone stable (14/14, 20/20): nothing suppressed.
    housing = frame.filter(pl.col("metric") == "stable_housing_rate_6m")
    assert not housing["suppressed"].any()
    # metrics_json blanks the numbers of suppressed rows.
    doc = metrics_json(_tables(checks, people), Filters(as_of=AS_OF), 11)
    pilot = next(r for r in doc["metrics"] if r["metric"] == "employment_rate_6m" and r["group"] == {"cohort": "pilot"})
    assert pilot == {"metric": "employment_rate_6m", "group_by": ["cohort"], "group": {"cohort": "pilot"},
                     "numerator": None, "denominator": None, "value": None, "ci_low": None, "ci_high": None,
                     "suppressed": True}


# --- version 1 data ---------------------------------------------------------------------


def _v1_tables() -> Tables:
    return Tables.from_frames(
        participants=PARTICIPANTS,
        recidivism_events=[{"event_id": "r1", "participant_id": "b", "event_date": D(2023, 9, 1),
                            "event_type": "arrest"}],
    )


def test_no_checks_stored_means_no_reintegration_rows_and_unchanged_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tables = _v1_tables()
    frame = compute_metrics(tables, Filters(as_of=AS_OF), min_cell_size=0)
    assert not set(frame["metric"].to_list()) & set(REINTEGRATION_IDS)
    # Asked for by id, still nothing: the table holds no rows.
    assert compute_metrics(tables, Filters(as_of=AS_OF), metric_ids=list(REINTEGRATION_IDS)).height == 0
    assert metric_breakdown(tables, Filters(as_of=AS_OF), "employment_rate_6m", ["sex"]).height == 0
    with_family = (json.dumps(metrics_json(tables, Filters(as_of=AS_OF), 0)), metrics_csv(tables, Filters(as_of=AS_OF), 0))
    # The same output as an engine without the family (what version 1 printed).
    monkeypatch.setattr(families, "FAMILIES", _without_reintegration())
    without = (json.dumps(metrics_json(tables, Filters(as_of=AS_OF), 0)), metrics_csv(tables, Filters(as_of=AS_OF), 0))
    assert with_family == without


def test_checks_filtered_away_still_report_the_family() -> None:
    # The table holds rows, so the metrics are reported, each group when its denominator is above
    # zero: the only check stored is d's (not eligible), so coverage shows 0 of the 7 eligible and
    # no one has an employment or housing status.
    tables = _tables([_check("d1", "d", D(2024, 3, 1), "full_time", "stable")])
    frame = compute_metrics(tables, Filters(as_of=AS_OF), min_cell_size=0)
    assert _rows(frame, "reintegration_check_coverage_6m") == {(): (0, 7)}
    assert _rows(frame, "employment_rate_6m") == {}


def test_registry_declares_the_family() -> None:
    start = METRIC_IDS.index(REINTEGRATION_IDS[0])  # one block, in the registry's order
    assert list(METRIC_IDS[start:start + len(REINTEGRATION_IDS)]) == list(REINTEGRATION_IDS)
    for metric in REINTEGRATION_IDS:
        definition = METRICS_BY_ID[metric]
        assert definition.unit == "rate" and definition.has_interval
        assert definition.family == "reintegration"
        assert "supervising_agency_id" in definition.agency_attribution
    assert "not_in_labor_force" in METRICS_BY_ID["employment_rate_12m"].denominator


def test_breakdown_by_demographics_adds_up() -> None:
    people = [{**p, "risk_level": "high" if i % 2 else "low"} for i, p in enumerate(PARTICIPANTS)]
    frame = metric_breakdown(_tables(participants=people), Filters(as_of=AS_OF), "reintegration_check_coverage_6m",
                             ["risk_level"], min_cell_size=0)
    overall = frame.filter(pl.col("group_by").list.len() == 0).row(0, named=True)
    cells = frame.filter(pl.col("group_by").list.len() == 1)
    assert (overall["numerator"], overall["denominator"]) == (6, 7)
    assert cells["numerator"].sum() == 6 and cells["denominator"].sum() == 7
    # low = a, c, e, g (indexes 0, 2, 4, 6): a, c, e checked -> 3/4; high = b, f, h -> 3/3 (d not eligible).
    got = {r["group"]["risk_level"]: (r["numerator"], int(r["denominator"])) for r in cells.iter_rows(named=True)}
    assert got == {"low": (3, 4), "high": (3, 3)}


def test_tie_order_is_the_contracts_enum_order() -> None:
    from dashboard.metrics.reintegration import EMPLOYMENT_ORDER, HOUSING_ORDER

    assert EMPLOYMENT_ORDER == ("full_time", "part_time", "unemployed", "not_in_labor_force")
    assert HOUSING_ORDER == ("stable", "transitional", "homeless", "institutional")


def test_version_1_sample_gives_the_same_metrics_and_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated sample without its contract version 2 tables: ``metrics`` (JSON and CSV) and
    ``evaluate`` print exactly what an engine without the reintegration family prints."""
    from dashboard.contract import TABLES
    from dashboard.evaluation import evaluate
    from dashboard.sample import generate_tables

    version_1 = {t.name for t in TABLES if t.since == 1}
    frames = {name: frame for name, frame in generate_tables(participants=400, seed=3).items() if name in version_1}
    tables = Tables.from_frames(**frames)
    assert tables.reintegration_checks.height == 0
    filters = [Filters(), Filters(program_ids=("P02",), start=D(2024, 1, 1))]
    mine = [(json.dumps(metrics_json(tables, f, 11)), metrics_csv(tables, f, 5)) for f in filters]
    evaluation = json.dumps(evaluate(tables, Filters(), min_cell_size=11))
    monkeypatch.setattr(families, "FAMILIES", _without_reintegration())
    assert mine == [(json.dumps(metrics_json(tables, f, 11)), metrics_csv(tables, f, 5)) for f in filters]
    assert evaluation == json.dumps(evaluate(tables, Filters(), min_cell_size=11,
                                             measures=["rearrest", "reconviction", "reincarceration"]))


def _status_by_the_rule(checks: list[dict[str, Any]], index: dt.date, end: dt.date, domain: str,
                        order: tuple[str, ...]) -> str | None:
    """The status rule of docs/metrics.md written out plainly: the latest check in the window
    with the domain set decides; on that date the value first in the contract's order wins
    (a value outside the order, which validation refuses, is no status but still dates)."""
    mine = [c for c in checks if index < c["check_date"] <= end and c[domain] is not None]
    if not mine:
        return None
    latest = max(c["check_date"] for c in mine)
    listed = [c[domain] for c in mine if c["check_date"] == latest and c[domain] in order]
    return min(listed, key=order.index) if listed else None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_statuses_match_the_rule_on_random_checks_with_ties_and_old_dates(seed: int) -> None:
    """The grouped computation (one packed maximum per participant) gives the rule's status
    for every participant and window, including same-date ties and dates before 1970."""
    rng = random.Random(seed)
    people = [{"participant_id": f"p{i}",
               "index_date": dt.date(rng.choice((1965, 1999, 2024)), rng.randint(1, 12), rng.randint(1, 28))}
              for i in range(60)]
    checks = []
    for p in people:
        for _ in range(rng.randint(0, 8)):
            checks.append({
                "check_id": f"c{len(checks)}", "participant_id": p["participant_id"],
                "check_date": p["index_date"] + dt.timedelta(days=rng.randint(-20, 400) // 30 * 30),
                "employment": rng.choice((None, *EMPLOYMENT_STATUSES, "unlisted")),
                "housing": rng.choice((None, *HOUSING_STATUSES, "unlisted")),
            })
    table = Tables.from_frames(reintegration_checks=checks).reintegration_checks
    got = {r["participant_id"]: r for r in statuses_at_windows(pl.DataFrame(people), table).collect()
           .iter_rows(named=True)}
    for p in people:
        theirs = [c for c in checks if c["participant_id"] == p["participant_id"]]
        row = got.get(p["participant_id"])
        if not any(c["check_date"] > p["index_date"] for c in theirs):
            assert row is None
            continue
        assert row is not None
        for w in (6, 12):
            end = add_months(p["index_date"], w)
            index = p["index_date"]
            assert row[f"employment_at_{w}m"] == _status_by_the_rule(theirs, index, end, "employment",
                                                                    EMPLOYMENT_STATUSES)
            assert row[f"housing_at_{w}m"] == _status_by_the_rule(theirs, index, end, "housing",
                                                                 HOUSING_STATUSES)
            assert row[f"checks_in_{w}m"] == sum(p["index_date"] < c["check_date"] <= end for c in theirs)
