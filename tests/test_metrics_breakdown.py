"""Dashboard breakdowns and head counts, hand-computed (as-of 2024-06-30)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

import viewer_attack as V
from dashboard.metrics.breakdowns import metric_breakdown
from dashboard.metrics.engine import compute_metrics, participant_counts, published
from dashboard.metrics.tables import Filters, Tables

D = dt.date
AS_OF = D(2024, 6, 30)


def cells(frame: pl.DataFrame) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r["group"].values()): r for r in frame.iter_rows(named=True) if r["group_by"]}


def person(pid: str, **kw: Any) -> dict[str, Any]:
    base = {"participant_id": pid, "program_id": "P1", "supervising_agency_id": "A1", "cohort": "pilot",
            "enrollment_date": D(2024, 1, 1), "supervision_type": "probation", "risk_level": "low"}
    base.update(kw)
    return base


@pytest.fixture
def tables() -> Tables:
    return Tables.from_frames(
        participants=[
            person("va", sex="female"),
            person("vb", enrollment_date=D(2024, 3, 1), exit_date=D(2024, 3, 31), exit_reason="revoked", sex="male"),
            person("vc", enrollment_date=D(2024, 7, 2)),  # after as-of
        ],
        violations=[
            {"violation_id": "v1", "participant_id": "va", "agency_id": "A1", "violation_date": D(2024, 2, 10),
             "violation_type": "technical", "response": "warning"},
            {"violation_id": "v2", "participant_id": "va", "agency_id": "A1", "violation_date": D(2024, 5, 5),
             "violation_type": "new_offense", "response": "revoked"},
            {"violation_id": "v3", "participant_id": "vb", "agency_id": "A1", "violation_date": D(2024, 3, 15),
             "violation_type": "technical", "response": "warning"},
        ],
        referrals=[
            {"referral_id": f"r{i}", "participant_id": "va", "referring_agency_id": "A1",
             "provider_agency_id": "A2", "service_type": service, "referral_date": D(2024, 2, i + 1),
             "status": status}
            for i, (service, status) in enumerate(
                [("housing", "completed")] * 3 + [("housing", "declined")] + [("employment", "completed")] * 2
            )
        ],
    )


def test_violation_rate_by_quarter_splits_exposure(tables: Tables) -> None:
    out = metric_breakdown(tables, Filters(as_of=AS_OF), "violation_rate_per_100_pm", ["quarter"], min_cell_size=0)
    by_q = cells(out)
    # 2024-Q1: va 1 Jan..31 Mar = 91 days, vb 1..31 Mar = 31 days -> 122 days; violations v1, v3 = 2.
    #   rate = 100 * 2 / (122 / 30.4375) = 6087.5 / 122 = 49.898
    # 2024-Q2: va 1 Apr..30 Jun = 91 days; violation v2 = 1 -> 3043.75 / 91 = 33.448
    assert by_q[("2024-Q1",)]["numerator"] == 2
    assert by_q[("2024-Q1",)]["denominator"] == pytest.approx(122 / 30.4375)
    assert by_q[("2024-Q1",)]["value"] == pytest.approx(6087.5 / 122)
    assert by_q[("2024-Q2",)]["value"] == pytest.approx(3043.75 / 91)
    # The overall row comes first, as compute_metrics gives it: 3 violations over 213 days.
    first = out.row(0, named=True)
    assert first["group_by"] == [] and first["numerator"] == 3
    assert first["denominator"] == pytest.approx(213 / 30.4375)


def test_violation_rate_by_type_keeps_the_whole_exposure(tables: Tables) -> None:
    out = metric_breakdown(tables, Filters(as_of=AS_OF), "violation_rate_per_100_pm", ["violation_type"],
                           min_cell_size=0)
    by_type = cells(out)
    # technical v1, v3 = 2 and new_offense v2 = 1, each over all 213 days of exposure.
    assert by_type[("technical",)]["numerator"] == 2 and by_type[("new_offense",)]["numerator"] == 1
    assert by_type[("technical",)]["denominator"] == pytest.approx(213 / 30.4375)


def test_referral_completion_by_service_type_with_suppression(tables: Tables) -> None:
    f = Filters(as_of=AS_OF)
    out = metric_breakdown(tables, f, "referral_completion_rate", ["service_type"], min_cell_size=0)
    # housing: 3 completed of 4 closed -> 0.75; employment: 2 of 2.
    assert cells(out)[("housing",)]["value"] == 0.75
    assert cells(out)[("employment",)]["value"] == 1.0
    # k = 3: employment (denominator 2) is suppressed; the overall 5/6 has a numerator >= 3 and is published,
    # so housing (the only other cell) is suppressed too, else 5 - 3 = 2 would give employment away.
    out = metric_breakdown(tables, f, "referral_completion_rate", ["service_type"], min_cell_size=3)
    assert out.row(0, named=True)["suppressed"] is False
    assert all(r["suppressed"] for r in cells(out).values())
    shown = published(out)
    assert shown.filter(pl.col("suppressed"))["numerator"].null_count() == 2


def test_breakdown_by_a_standard_grouping_is_the_metric_table(tables: Tables) -> None:
    f = Filters(as_of=AS_OF)
    out = metric_breakdown(tables, f, "referral_completion_rate", ["cohort"], min_cell_size=0)
    full = compute_metrics(tables, f, min_cell_size=0, metric_ids=["referral_completion_rate"])
    assert out.height == full.filter(pl.col("group_by").list.len() <= 1).filter(
        (pl.col("group_by").list.len() == 0) | (pl.col("group_by").list.first() == "cohort")).height
    assert cells(out)[("pilot",)]["numerator"] == 5


def test_breakdown_rejects_dimensions_that_do_not_apply(tables: Tables) -> None:
    with pytest.raises(ValueError, match="service_type"):
        metric_breakdown(tables, Filters(as_of=AS_OF), "compliance_rate", ["service_type"])


def test_participant_counts(tables: Tables) -> None:
    out = participant_counts(tables, Filters(as_of=AS_OF), min_cell_size=0)
    rows = {(r["metric"], tuple(r["group_by"])): r for r in out.iter_rows(named=True) if not r["group_by"]}
    # Enrolled by the as-of date: va, vb (vc enrolls after it) -> 2; active on it: va (vb exited 31 Mar) -> 1.
    assert rows[("participants_enrolled", ())]["value"] == 2
    assert rows[("participants_active", ())]["value"] == 1
    # k = 11: both counts are below k -> suppressed.
    out = participant_counts(tables, Filters(as_of=AS_OF), min_cell_size=11)
    assert out["suppressed"].all()


def test_referral_counts_follow_the_referral_attribution_and_period(tables: Tables) -> None:
    from dashboard.metrics.engine import referral_counts

    out = referral_counts(tables, Filters(as_of=AS_OF), min_cell_size=0)
    rows = {(tuple(r["group_by"]), tuple(v for v in r["group"].values() if v is not None)): r
            for r in out.iter_rows(named=True)}
    # Six referrals r0..r5 of va, all dated 1-6 Feb 2024, whatever their status -> 6;
    # attributed to the provider agency A2, program P1, cohort pilot.
    assert rows[((), ())]["value"] == 6
    assert rows[(("agency_id",), ("A2",))]["value"] == 6
    assert rows[(("program_id", "cohort"), ("P1", "pilot"))]["value"] == 6
    # A period of 3-4 Feb keeps r2 and r3 -> 2.
    period = referral_counts(tables, Filters(as_of=AS_OF, start=D(2024, 2, 3), end=D(2024, 2, 4)), min_cell_size=0)
    assert period.filter(pl.col("group_by").list.len() == 0)["value"].to_list() == [2]
    # k = 11: 6 is below k -> every row withheld.
    assert referral_counts(tables, Filters(as_of=AS_OF), min_cell_size=11)["suppressed"].all()


def test_quarter_by_agency_cells_are_protected_against_each_quarter_total() -> None:
    """Compliance events, all required, as of 2024-06-30:
    2024-Q1: agency A1 30 events (20 compliant), agency A2 5 events (5 compliant);
    2024-Q2: agency A1 20 events (15 compliant). Overall 40/55.
    metrics rows: A2 = 5/5 is below k = 11; A1 = 35/50 is its complement (agencies vs overall).
    The metric's view holds the quarter rows (Q1 25/35, Q2 15/20) and the quarter x agency
    cells, protected together with those metrics rows:
    - all cells vs overall: (Q1, A2) = 5/5 alone withheld -> one more cell. (Q2, A1) 15/20 is
      the smallest but Q2's only cell (it would withhold Q2, then Q1); (Q1, A1) 20/30 sits only in
      sets already holding a withheld cell (Q1's cells, A1's cells) -> (Q1, A1).
    Without it, Q1's 35 - 30 = 5 would give A2 away.
    - the trend lists its complete grid: (Q2, A2) holds no records and is listed withheld (0/0);
      Q2's cells {(Q2, A1), (Q2, A2)} then hold one withheld cell -> (Q2, A1) as well (else
      20 - 20 = 0 would tell that A2 had nothing in Q2). No set now has exactly one withheld
      cell, and the quarter rows stay published."""
    def event(i: int, agency: str, day: dt.date, outcome: str) -> dict[str, Any]:
        return {"event_id": f"e{i}", "participant_id": "va", "agency_id": agency, "event_date": day,
                "event_type": "home_visit", "required": True, "outcome": outcome}

    events = (
        [event(i, "A1", D(2024, 2, 1), "compliant" if i < 20 else "missed") for i in range(30)]
        + [event(100 + i, "A2", D(2024, 2, 1), "compliant") for i in range(5)]
        + [event(200 + i, "A1", D(2024, 5, 1), "compliant" if i < 15 else "missed") for i in range(20)]
    )
    tables = Tables.from_frames(participants=[person("va")], supervision_events=events)
    quarters = cells(metric_breakdown(tables, Filters(as_of=AS_OF), "compliance_rate", ["quarter"]))
    assert (quarters[("2024-Q1",)]["numerator"], quarters[("2024-Q1",)]["denominator"]) == (25, 35)
    assert not quarters[("2024-Q1",)]["suppressed"] and not quarters[("2024-Q2",)]["suppressed"]
    two = cells(metric_breakdown(tables, Filters(as_of=AS_OF), "compliance_rate", ["quarter", "agency_id"]))
    assert two[("2024-Q1", "A2")]["suppressed"]
    assert two[("2024-Q1", "A1")]["suppressed"]  # without it, 35 - 30 = 5
    assert (two[("2024-Q2", "A2")]["denominator"], two[("2024-Q2", "A2")]["suppressed"]) == (0.0, True)
    assert two[("2024-Q2", "A1")]["suppressed"]  # without it, Q2 - (Q2, A1) = 0 shows (Q2, A2) is empty
    assert sorted(two) == [("2024-Q1", "A1"), ("2024-Q1", "A2"), ("2024-Q2", "A1"), ("2024-Q2", "A2")]
    # The metrics rows are never changed by a breakdown: overall 40/55 stays published.
    overall = metric_breakdown(tables, Filters(as_of=AS_OF), "compliance_rate", ["quarter"]).row(0, named=True)
    assert (overall["numerator"], overall["denominator"], overall["suppressed"]) == (40, 55.0, False)


def test_quarter_by_cohort_cells_are_protected_against_the_cohort_rows() -> None:
    """The issue's case in small: compliance, all events required, as of 2024-06-30.
    Pilot va: 2024-Q2 14 events, 12 compliant. Comparison vb: 2024-Q1 1 event (1 compliant),
    2024-Q2 5 events (3 compliant). Overall 16/20. k = 11: comparison 4/6 is withheld
    (denominator 6); pilot 12/14 would publish on its own but is the cohorts' complement.
    The quarter x cohort trend would show (Q2, pilot) 12/14, the pilot row's only cell, and
    16 - 12 = 4, 20 - 14 = 6 would give the comparison cohort away: the pilot row is withheld
    while its only member is published. The trend lists its complete grid, so (Q1, pilot), which
    holds no records, is listed and withheld like any small cell (0/0): the pilot row is then
    (Q1, pilot) + (Q2, pilot), and a viewer who cannot tell that (Q1, pilot) is empty cannot work out
    the pilot row from 12/14, which is published. (Q1, comparison) 1/1 and (Q2, comparison) 3/5 are
    withheld on their own. The viewer's whole attack on the view recovers nothing."""
    def event(i: int, pid: str, day: dt.date, ok: bool) -> dict[str, Any]:
        return {"event_id": f"e{i}", "participant_id": pid, "agency_id": "A1", "event_date": day,
                "event_type": "home_visit", "required": True, "outcome": "compliant" if ok else "missed"}

    events = (
        [event(i, "va", D(2024, 5, 1), i < 12) for i in range(14)]
        + [event(100, "vb", D(2024, 2, 1), True)]
        + [event(200 + i, "vb", D(2024, 5, 1), i < 3) for i in range(5)]
    )
    tables = Tables.from_frames(participants=[person("va"), person("vb", cohort="comparison")],
                                supervision_events=events)
    f = Filters(as_of=AS_OF)
    full = compute_metrics(tables, f, metric_ids=["compliance_rate"])
    by_cohort = {r["group"]["cohort"]: r["suppressed"] for r in full.iter_rows(named=True)
                 if r["group_by"] == ["cohort"]}
    assert by_cohort == {"pilot": True, "comparison": True}
    two = cells(metric_breakdown(tables, f, "compliance_rate", ["quarter", "cohort"]))
    assert (two[("2024-Q2", "pilot")]["numerator"], two[("2024-Q2", "pilot")]["denominator"]) == (12, 14)
    assert {key: r["suppressed"] for key, r in two.items()} == {
        ("2024-Q1", "comparison"): True, ("2024-Q1", "pilot"): True,
        ("2024-Q2", "comparison"): True, ("2024-Q2", "pilot"): False,
    }
    assert (two[("2024-Q1", "pilot")]["numerator"], two[("2024-Q1", "pilot")]["denominator"]) == (0, 0.0)
    view = V.gather(tables, f, 11, metrics=["compliance_rate"], with_evaluation=False,
                    with_co_responder=False)
    everything, metrics_only = V.recovered(view)
    assert everything - metrics_only == set()
    assert view.conflicts == [] and V.single_unknown_sets(view) == []


def test_recidivism_by_year_of_the_index_date() -> None:
    """Rearrest within 6 months, as of 2024-06-30, k = 0. Index dates: a 2022-03-01 (arrested
    2022-05-01, within 6 months), b 2022-11-01 (no arrest), c 2023-02-01 (arrested 2023-03-01).
    2022: 1 of 2; 2023: 1 of 1. The years add up to the overall 2 of 3."""
    people = [person("a", enrollment_date=D(2022, 3, 1)), person("b", enrollment_date=D(2022, 11, 1)),
              person("c", enrollment_date=D(2023, 2, 1))]
    arrests = [{"event_id": f"x{pid}", "participant_id": pid, "event_date": day, "event_type": "arrest"}
               for pid, day in (("a", D(2022, 5, 1)), ("c", D(2023, 3, 1)))]
    tables = Tables.from_frames(participants=people, recidivism_events=arrests)
    out = metric_breakdown(tables, Filters(as_of=AS_OF), "recidivism_rearrest_6m", ["year"], min_cell_size=0)
    assert {k: (r["numerator"], r["denominator"]) for k, r in cells(out).items()} == {
        ("2022",): (1, 2.0), ("2023",): (1, 1.0)}
    assert (out.row(0, named=True)["numerator"], out.row(0, named=True)["denominator"]) == (2, 3.0)
