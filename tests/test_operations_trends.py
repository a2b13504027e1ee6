"""The time series behind the Operations and Community voice pages: numbers per quarter equal the
metric under that quarter's period, and no suppressed cell can be recovered from the totals beside it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl

from dashboard import operations_views as ov
from dashboard.metrics.engine import compute_metrics
from dashboard.metrics.families import suppress_over_periods
from dashboard.metrics.operations import caseload_by_month, cost_trend
from dashboard.metrics.surveys import survey_trend
from dashboard.metrics.tables import Filters, Tables

D = dt.date
QUARTERS = [("2025 Q1", D(2025, 1, 1), D(2025, 3, 31)), ("2025 Q2", D(2025, 4, 1), D(2025, 6, 30)),
            ("2025 Q3", D(2025, 7, 1), D(2025, 9, 30))]
AS_OF = D(2025, 9, 30)


def test_periods_that_add_up_protect_each_other() -> None:
    # k = 11. Quarters 20, 5, 15 (all groups), whole period 40 published. Q2 (5) is withheld; the three
    # quarters add up to the published 40, so the published quarter with the smallest N (Q3, 15) goes too.
    cells: dict[Any, tuple[int | float | None, float]] = {
        ("2025 Q1", None): (12, 20.0), ("2025 Q2", None): (0, 5.0), ("2025 Q3", None): (12, 15.0),
    }
    flags, totals = suppress_over_periods(cells, {None: (False, 40.0)}, 11)
    assert flags == {("2025 Q1", None): False, ("2025 Q2", None): True, ("2025 Q3", None): True}
    assert totals == {None: False}
    # Not additive (served counts overlap between quarters): only the quarter withheld on its own.
    flags, _ = suppress_over_periods(cells, {None: (False, 40.0)}, 11, periods_add_up=False)
    assert flags == {("2025 Q1", None): False, ("2025 Q2", None): True, ("2025 Q3", None): False}


def test_groups_of_a_period_protect_each_other() -> None:
    # One quarter: residents 30, staff 12, partners 5 against the quarter's 47. Partner withheld (5 < 11),
    # then staff (the smallest published member). A small favourable count (3 of 30) withholds too.
    cells: dict[Any, tuple[int | float | None, float]] = {
        ("2025 Q1", None): (20, 47.0), ("2025 Q1", ("resident",)): (12, 30.0),
        ("2025 Q1", ("staff",)): (11, 12.0), ("2025 Q1", ("partner",)): (2, 5.0),
    }
    flags, _ = suppress_over_periods(cells, {}, 11)
    assert [k for k, v in flags.items() if v] == [("2025 Q1", ("staff",)), ("2025 Q1", ("partner",))]
    flags, _ = suppress_over_periods({("2025 Q1", None): (3, 30.0)}, {}, 11)
    assert flags == {("2025 Q1", None): True}
    # A money numerator never withholds.
    flags, _ = suppress_over_periods({("2025 Q1", None): (3.0, 30.0)}, {}, 11, numerator_triggers=False)
    assert flags == {("2025 Q1", None): False}


def _answers(quarter_counts: dict[tuple[str, dt.date], tuple[int, int]]) -> list[dict[str, Any]]:
    out = []
    for (kind, day), (n, favourable) in quarter_counts.items():
        out += [{"response_id": f"{kind}{day}{i}", "survey_date": day, "respondent_type": kind, "question": "trust",
                 "score": 5 if i < favourable else 1, "program_id": "P1", "agency_id": "A1"} for i in range(n)]
    return out


def test_survey_trend_per_quarter_and_across_quarters() -> None:
    # Residents: Q1 20 answers (12 favourable), Q2 20 (15), Q3 4 (4). Whole period 44 (31).
    # Q3 (4 < 11) is withheld; Q1, Q2 and Q3 add up to the published whole-period 44, so the smallest
    # published quarter goes too: Q1 and Q2 both have 20 -> the lower label, 2025 Q1.
    answers = _answers({("resident", D(2025, 2, 1)): (20, 12), ("resident", D(2025, 5, 1)): (20, 15),
                        ("resident", D(2025, 8, 1)): (4, 4)})
    tables = Tables.from_frames(surveys=answers)
    trend = survey_trend(tables, Filters(), AS_OF, QUARTERS, None, min_cell_size=11)
    rows = {(r["period"], r["group_by"]): r for r in trend.iter_rows(named=True)}
    assert (rows[(None, "")]["numerator"], rows[(None, "")]["denominator"]) == (31, 44)
    assert (rows[("2025 Q2", "")]["numerator"], rows[("2025 Q2", "")]["denominator"]) == (15, 20)
    assert [p for (p, _), r in rows.items() if r["suppressed"]] == ["2025 Q1", "2025 Q3"]
    # Each quarter's numbers are the metric's under that quarter's period.
    q2 = compute_metrics(tables, Filters(as_of=AS_OF, start=D(2025, 4, 1), end=D(2025, 6, 30)), min_cell_size=0,
                         metric_ids=["survey_favourable_trust"]).filter(pl.col("group_by").list.len() == 0)
    assert rows[("2025 Q2", "")]["value"] == q2["value"][0] and rows[("2025 Q2", "")]["ci_low"] == q2["ci_low"][0]
    # The page's series: blanked numbers for withheld quarters come from app_state; here the labels.
    series = ov.survey_trend_frame(trend, "survey_favourable_trust", None, {})
    assert series["series"].unique().to_list() == [ov.ALL_RESPONSES]


def test_survey_trend_by_respondent_type_protects_within_each_quarter() -> None:
    # Q1: residents 30 (20 favourable), staff 12 (11), partners 5 (3). The quarter and the whole period
    # are the same answers. Partner withheld, staff as its complement, in the quarter and in the period.
    answers = _answers({("resident", D(2025, 2, 1)): (30, 20), ("staff", D(2025, 2, 1)): (12, 11),
                        ("partner", D(2025, 2, 1)): (5, 3)})
    trend = survey_trend(Tables.from_frames(surveys=answers), Filters(), AS_OF, QUARTERS[:1], "respondent_type",
                         min_cell_size=11)
    hidden = {(r["period"], r["group"]) for r in trend.iter_rows(named=True) if r["suppressed"]}
    assert hidden == {(None, "staff"), (None, "partner"), ("2025 Q1", "staff"), ("2025 Q1", "partner")}


def test_cost_trend_quarters_and_completion_complements() -> None:
    # One program, 10.00 of cost per day over 2025-01-01..2025-09-30 (273 days): 2730.00 as one row.
    # Q1 = 90 days -> 900.00, Q2 = 91 -> 910.00, Q3 = 92 -> 920.00.
    # 30 pilot participants enrolled 2024-12-01; completions: 12 in Q1, 3 in Q2, 12 in Q3 (27 in all).
    people = [{"participant_id": f"p{i}", "program_id": "P1", "cohort": "pilot", "enrollment_date": D(2024, 12, 1),
               "supervision_type": "probation", "risk_level": "low"} for i in range(30)]
    exits = [D(2025, 2, 1)] * 12 + [D(2025, 5, 1)] * 3 + [D(2025, 8, 1)] * 12
    for person, day in zip(people, exits):
        person.update(exit_date=day, exit_reason="completed")
    costs = [{"cost_id": "C1", "program_id": "P1", "period_start": D(2025, 1, 1), "period_end": D(2025, 9, 30),
              "amount": Decimal("2730.00")}]
    tables = Tables.from_frames(participants=people, program_costs=costs)
    trend = cost_trend(tables, Filters(), AS_OF, QUARTERS, min_cell_size=11)
    rows = {(r["metric"], r["period"], r["program_id"]): r for r in trend.iter_rows(named=True)}
    # Served per quarter: Q1 all 30; Q2 the 18 not exited before Apr 1; Q3 the 15 not exited before Jul 1.
    served = {q: rows[("cost_per_participant", q, None)] for q, _, _ in QUARTERS}
    assert [(r["numerator"], r["denominator"]) for r in served.values()] == [(900.0, 30), (910.0, 18), (920.0, 15)]
    assert not any(r["suppressed"] for r in served.values())
    # Completions: Q2 (3) withheld; the quarters add up to the published 27, so Q1 (12, lower label of the
    # two smallest) goes too; the program row (single member of the overall) follows its overall row.
    done = {q: rows[("cost_per_completion", q, None)] for q, _, _ in QUARTERS}
    assert [r["denominator"] for r in done.values()] == [12, 3, 12]
    assert [q for q, r in done.items() if r["suppressed"]] == ["2025 Q1", "2025 Q2"]
    assert rows[("cost_per_completion", None, None)]["value"] == 2730 / 27
    q3 = compute_metrics(tables, Filters(as_of=AS_OF, start=D(2025, 7, 1), end=D(2025, 9, 30)), min_cell_size=0,
                         metric_ids=["cost_per_completion"]).filter(pl.col("group_by").list.len() == 0)
    assert done["2025 Q3"]["value"] == q3["value"][0] == 920 / 12
    table = ov.cost_table(trend.filter(pl.col("period").is_null()), {"P1": "Program one"}, 11)
    assert table.row(0, named=True)["Program"] == "Program one"
    assert table.row(-1, named=True) == {"Program": ov.ALL_PROGRAMS, "Cost in the period": "2,730.00",
                                         "Pilot participants served": "30", "Cost per participant": "91.00",
                                         "Completions": "27", "Cost per completion": "101.11"}


def test_caseload_by_month_puts_the_fte_beside_the_ratio() -> None:
    # A1: Jan 2.00 FTE, Feb 0 FTE (vacancy); 3 participants supervised all along.
    people = [{"participant_id": f"p{i}", "program_id": "P1", "cohort": "pilot", "enrollment_date": D(2024, 12, 1),
               "supervision_type": "probation", "risk_level": "low", "supervising_agency_id": "A1"} for i in range(3)]
    staffing = [{"agency_id": "A1", "month": D(2025, 1, 1), "officers_fte": Decimal("2.00")},
                {"agency_id": "A1", "month": D(2025, 2, 1), "officers_fte": Decimal("0.00")}]
    monthly = caseload_by_month(Tables.from_frames(participants=people, staffing=staffing),
                                dataclasses.replace(Filters()), AS_OF)
    assert monthly.filter(pl.col("agency_id") == "A1").select("caseload", "officers_fte", "caseload_per_officer").rows() \
        == [(3, 2.0, 1.5), (3, 0.0, None)]
    table = ov.caseload_table(monthly, {"A1": "Probation"})
    assert table.row(1, named=True)["Agency"] == ov.ALL_AGENCIES
    assert table.row(3, named=True)["Caseload per officer"] == "no officer time"
