"""The pilot evaluation (SPEC §3 "Pilot evaluation", §4 ``evaluate``) on small hand-built data.

One fixture, as of 2024-12-31, every number worked out by hand below.

Program P1 (supervising agency A1):

| id | cohort     | enrolled   | released   | index date | risk     | age | sex     | supervision  | events                                      |
|----|------------|------------|------------|------------|----------|-----|---------|--------------|---------------------------------------------|
| p1 | pilot      | 2022-01-10 | 2022-03-31 | 2022-03-31 | high     | 30  | male    | parole       | arrest 2022-03-31 (index day), arrest 2022-09-30 |
| p2 | pilot      | 2023-12-31 |            | 2023-12-31 | low      | 40  | female  | probation    | arrest 2024-12-31 (the as-of day)            |
| p3 | pilot      | 2024-01-01 |            | 2024-01-01 | low      | 20  | unknown | parole       | conviction 2025-01-05 (after as-of)          |
| p4 | pilot      | 2021-05-15 |            | 2021-05-15 | moderate |     | female  | none         | conviction 2022-01-10, incarceration 2023-06-01 |
| c1 | comparison | 2022-02-01 | 2022-02-15 | 2022-02-15 | high     | 25  | male    | parole       | arrest 2022-08-16                            |
| c2 | comparison | 2022-06-01 |            | 2022-06-01 | low      | 35  | other   | probation    | revocation 2022-07-01                        |
| c3 | comparison | 2023-03-01 |            | 2023-03-01 | moderate | 45  | female  | post_release |                                              |
| c4 | comparison | 2025-02-01 |            | (enrolled after as-of: left out everywhere) | low | 99 | male | parole | arrest 2025-03-01 |
| c5 | comparison | 2024-11-30 |            | 2024-11-30 | high     | 55  |         | parole       |                                              |
| c6 | comparison | 2024-10-01 | 2025-01-15 | (index after as-of: in no window, no survival, no baseline) | low | 60 | male | parole | |

Program P2: q1 pilot enrolled 2022-01-01, low, arrest 2022-02-01; q2 comparison enrolled 2022-01-01, low.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import stats
from dashboard.metrics.recidivism import (
    add_months,
    add_months_expr,
    first_matching_event,
    participants_with_index_date,
    recidivism_outcomes,
)
from dashboard.metrics.tables import Filters, Tables

AS_OF = dt.date(2024, 12, 31)
D = dt.date.fromisoformat


def _p(pid: str, program: str, cohort: str, enrolled: str, released: str | None, risk: str,
       age: int | None, sex: str | None, supervision: str) -> dict[str, Any]:
    return {
        "participant_id": pid, "program_id": program, "supervising_agency_id": "A1", "cohort": cohort,
        "enrollment_date": D(enrolled), "release_date": D(released) if released else None,
        "risk_level": risk, "age_at_enrollment": age, "sex": sex, "supervision_type": supervision,
    }


PARTICIPANTS = [
    _p("p1", "P1", "pilot", "2022-01-10", "2022-03-31", "high", 30, "male", "parole"),
    _p("p2", "P1", "pilot", "2023-12-31", None, "low", 40, "female", "probation"),
    _p("p3", "P1", "pilot", "2024-01-01", None, "low", 20, "unknown", "parole"),
    _p("p4", "P1", "pilot", "2021-05-15", None, "moderate", None, "female", "none"),
    _p("c1", "P1", "comparison", "2022-02-01", "2022-02-15", "high", 25, "male", "parole"),
    _p("c2", "P1", "comparison", "2022-06-01", None, "low", 35, "other", "probation"),
    _p("c3", "P1", "comparison", "2023-03-01", None, "moderate", 45, "female", "post_release"),
    _p("c4", "P1", "comparison", "2025-02-01", None, "low", 99, "male", "parole"),
    _p("c5", "P1", "comparison", "2024-11-30", None, "high", 55, None, "parole"),
    _p("c6", "P1", "comparison", "2024-10-01", "2025-01-15", "low", 60, "male", "parole"),
    _p("q1", "P2", "pilot", "2022-01-01", None, "low", 33, "male", "probation"),
    _p("q2", "P2", "comparison", "2022-01-01", None, "low", 33, "male", "probation"),
]


def _e(eid: str, pid: str, day: str, kind: str) -> dict[str, Any]:
    return {"event_id": eid, "participant_id": pid, "event_date": D(day), "event_type": kind}


EVENTS = [
    _e("e1", "p1", "2022-03-31", "arrest"),
    _e("e2", "p1", "2022-09-30", "arrest"),
    _e("e3", "p2", "2024-12-31", "arrest"),
    _e("e4", "p3", "2025-01-05", "conviction"),
    _e("e5", "p4", "2022-01-10", "conviction"),
    _e("e6", "p4", "2023-06-01", "incarceration"),
    _e("e7", "c1", "2022-08-16", "arrest"),
    _e("e8", "c2", "2022-07-01", "revocation"),
    _e("e9", "c4", "2025-03-01", "arrest"),
    _e("e10", "q1", "2022-02-01", "arrest"),
]


def _tables() -> Tables:
    return Tables.from_frames(
        agencies=[{"agency_id": "A1", "agency_name": "Probation", "agency_type": "probation"}],
        programs=[
            {"program_id": "P1", "program_name": "One", "program_model": "release_planning",
             "lead_agency_id": "A1", "start_date": D("2021-01-01")},
            {"program_id": "P2", "program_name": "Two", "program_model": "release_planning",
             "lead_agency_id": "A1", "start_date": D("2021-01-01")},
        ],
        participants=PARTICIPANTS,
        recidivism_events=EVENTS,
    )


# --- shared recidivism definitions ------------------------------------------------------


@pytest.mark.parametrize(
    "day,months,expected",
    [
        ("2024-01-31", 1, "2024-02-29"),  # leap year: clipped to 29 Feb
        ("2023-01-31", 1, "2023-02-28"),
        ("2023-08-31", 6, "2024-02-29"),
        ("2023-12-31", 6, "2024-06-30"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2021-05-15", 36, "2024-05-15"),
    ],
)
def test_calendar_months_clip_to_the_month_end(day: str, months: int, expected: str) -> None:
    assert add_months(D(day), months) == D(expected)
    frame = pl.DataFrame({"d": [D(day)]})
    assert frame.select(add_months_expr(pl.col("d"), months)).item() == D(expected)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31)), st.sampled_from([1, 6, 12, 24, 36]))
def test_polars_and_python_month_arithmetic_agree(day: dt.date, months: int) -> None:
    frame = pl.DataFrame({"d": [day]})
    assert frame.select(add_months_expr(pl.col("d"), months)).item() == add_months(day, months)


def test_index_date_is_release_else_enrollment_and_late_enrollments_are_left_out() -> None:
    people = participants_with_index_date(_tables().participants, AS_OF)
    index = dict(zip(people["participant_id"], people["index_date"], strict=True))
    assert index["p1"] == D("2022-03-31")  # release date
    assert index["p2"] == D("2023-12-31")  # enrollment date
    assert "c4" not in index  # enrolled 2025-02-01, after the as-of date


def test_first_matching_event_is_strictly_after_the_index_date_and_not_after_as_of() -> None:
    tables = _tables()
    people = participants_with_index_date(tables.participants, AS_OF)
    arrests = first_matching_event(people, tables.recidivism_events, "rearrest", AS_OF)
    first = dict(zip(arrests["participant_id"], arrests["first_event_date"], strict=True))
    assert first["p1"] == D("2022-09-30")  # the arrest on the index day does not count
    assert first["p2"] == D("2024-12-31")  # on the as-of day counts
    convictions = first_matching_event(people, tables.recidivism_events, "reconviction", AS_OF)
    assert "p3" not in set(convictions["participant_id"])  # 2025-01-05 is after the as-of date
    reinc = first_matching_event(people, tables.recidivism_events, "reincarceration", AS_OF)
    first = dict(zip(reinc["participant_id"], reinc["first_event_date"], strict=True))
    assert first == {"p4": D("2023-06-01"), "c2": D("2022-07-01")}  # incarceration or revocation


def test_eligibility_exactly_on_the_as_of_date() -> None:
    # p2: 2023-12-31 + 12 months = 2024-12-31 = as-of → eligible; p3: 2024-01-01 + 12 = 2025-01-01 → not.
    out = recidivism_outcomes(_tables().participants, _tables().recidivism_events,
                              measure="rearrest", window_months=12, as_of=AS_OF)
    rows = {r["participant_id"]: r for r in out.iter_rows(named=True)}
    assert "p2" in rows and "p3" not in rows
    assert rows["p2"]["recidivated"] is True  # arrest on 2024-12-31 = window end = as-of
    assert set(rows) == {"p1", "p2", "p4", "c1", "c2", "c3", "q1", "q2"}


def test_month_end_clipping_decides_eligibility_and_the_window() -> None:
    # Index 2023-08-31 + 6 months = 2024-02-29 (clipped). As of 2024-02-29 the person is eligible,
    # and an arrest on 2024-02-29 is inside the window (a 183-day window would end 2024-03-01).
    tables = Tables.from_frames(
        participants=[_p("x", "P1", "pilot", "2023-08-31", None, "low", 30, "male", "parole")],
        recidivism_events=[_e("x1", "x", "2024-02-29", "arrest")],
    )
    out = recidivism_outcomes(tables.participants, tables.recidivism_events,
                              measure="rearrest", window_months=6, as_of=D("2024-02-29"))
    assert out["window_end"].to_list() == [D("2024-02-29")]
    assert out["recidivated"].to_list() == [True]
    out = recidivism_outcomes(tables.participants, tables.recidivism_events,
                              measure="rearrest", window_months=6, as_of=D("2024-02-28"))
    assert out.height == 0  # one day short


# --- risk adjustment ---------------------------------------------------------------------


def _eligible(rows: list[tuple[str, str, bool]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"cohort": pl.String, "risk_level": pl.String, "recidivated": pl.Boolean},
                        orient="row")


def test_direct_standardisation_by_hand_with_a_stratum_empty_in_both() -> None:
    from dashboard.evaluation import risk_adjusted_rates

    # pilot: high 3 (2 recidivated), low 1 (0); comparison: high 1 (1), low 3 (1); moderate empty in both (weight 0)
    # pooled mix: high 4/8, low 4/8
    # pilot      = ½ · 2/3 + ½ · 0/1 = 1/3
    # comparison = ½ · 1/1 + ½ · 1/3 = 2/3   (crude rates are 2/4 and 2/4)
    frame = _eligible([
        ("pilot", "high", True), ("pilot", "high", True), ("pilot", "high", False), ("pilot", "low", False),
        ("comparison", "high", True), ("comparison", "low", True), ("comparison", "low", False),
        ("comparison", "low", False),
    ])
    result = risk_adjusted_rates(frame)
    assert result["pilot"] == pytest.approx(1 / 3, abs=1e-12)
    assert result["comparison"] == pytest.approx(2 / 3, abs=1e-12)
    assert result["difference"] == pytest.approx(-1 / 3, abs=1e-12)
    assert result["reason"] is None


def test_direct_standardisation_is_null_with_a_reason_when_a_stratum_is_in_one_cohort_only() -> None:
    from dashboard.evaluation import risk_adjusted_rates

    frame = _eligible([("pilot", "high", True), ("pilot", "low", False), ("comparison", "low", True)])
    result = risk_adjusted_rates(frame)
    assert (result["pilot"], result["comparison"], result["difference"]) == (None, None, None)
    assert "high (pilot only)" in result["reason"]


# --- the whole evaluation ------------------------------------------------------------------

engine_module = pytest.importorskip("dashboard.metrics.engine", reason="the metric engine is not built yet")


def _evaluate(**kw: Any) -> dict[str, Any]:
    from dashboard.evaluation import evaluate

    return evaluate(_tables(), Filters(as_of=AS_OF), **kw)


def _window(result: dict[str, Any], measure: str, months: int) -> dict[str, Any]:
    (entry,) = [w for w in result["windows"] if w["measure"] == measure and w["window_months"] == months]
    return entry


def test_shape_matches_the_spec() -> None:
    result = _evaluate(program_id="P1", min_cell_size=0)
    assert list(result) == ["as_of", "program_id", "min_cell_size", "windows", "survival", "logrank", "baseline"]
    assert result["as_of"] == "2024-12-31" and result["program_id"] == "P1" and result["min_cell_size"] == 0
    assert [(w["measure"], w["window_months"]) for w in result["windows"]] == [
        (m, w) for m in ("rearrest", "reconviction", "reincarceration") for w in (6, 12, 24, 36)
    ]
    w = result["windows"][0]
    assert list(w) == ["measure", "window_months", "pilot", "comparison", "difference", "p_value", "risk_adjusted"]
    assert list(w["pilot"]) == ["numerator", "denominator", "rate", "ci_low", "ci_high", "suppressed"]
    assert list(w["difference"]) == ["value", "ci_low", "ci_high"]
    assert list(w["risk_adjusted"]) == ["pilot", "comparison", "difference", "reason"]
    assert [(s["measure"], s["cohort"]) for s in result["survival"]] == [
        (m, c) for m in ("rearrest", "reconviction", "reincarceration") for c in ("pilot", "comparison")
    ]
    assert list(result["survival"][0]) == ["measure", "cohort", "n", "events", "suppressed", "points"]
    assert list(result["survival"][0]["points"][0]) == ["day", "survival", "ci_low", "ci_high", "at_risk"]
    assert [p["day"] for p in result["survival"][0]["points"]] == [90, 180, 365, 730]
    assert [lr["measure"] for lr in result["logrank"]] == ["rearrest", "reconviction", "reincarceration"]
    assert [b["covariate"] for b in result["baseline"]] == [
        "age_at_enrollment", "risk_high", "risk_moderate", "sex_female", "supervision_parole"
    ]
    json.dumps(result, allow_nan=False)  # standard JSON: no NaN or infinity anywhere


def test_rearrest_windows_by_hand_for_one_program() -> None:
    result = _evaluate(program_id="P1", min_cell_size=0)
    # eligible (index + W ≤ 2024-12-31) and rearrested (first arrest after the index date, ≤ window end):
    #  6m: pilot p1 ✓(2022-09-30 = window end), p2 ✗(arrest after 2024-06-30), p3, p4 → 1/4
    #      comparison c1 ✗(2022-08-16 > 2022-08-15), c2, c3 → 0/3
    # 12m: pilot p1 ✓, p2 ✓ (on 2024-12-31), p4 → 2/3;  comparison c1 ✓, c2, c3 → 1/3
    # 24m: pilot p1 ✓, p4 → 1/2;                         comparison c1 ✓, c2 → 1/2
    # 36m: pilot p4 → 0/1;                               comparison none eligible → 0/0
    expected = {6: ((1, 4), (0, 3)), 12: ((2, 3), (1, 3)), 24: ((1, 2), (1, 2)), 36: ((0, 1), (0, 0))}
    for months, (pilot, comparison) in expected.items():
        w = _window(result, "rearrest", months)
        assert (w["pilot"]["numerator"], w["pilot"]["denominator"]) == pilot, months
        assert (w["comparison"]["numerator"], w["comparison"]["denominator"]) == comparison, months
        assert w["pilot"]["suppressed"] is False and w["comparison"]["suppressed"] is False
    w12 = _window(result, "rearrest", 12)
    assert w12["pilot"]["rate"] == pytest.approx(2 / 3, abs=1e-15)
    assert (w12["pilot"]["ci_low"], w12["pilot"]["ci_high"]) == stats.wilson_interval(2, 3)
    d, low, high = stats.newcombe_difference(2, 3, 1, 3)  # type: ignore[misc]
    assert w12["difference"] == {"value": d, "ci_low": low, "ci_high": high}
    # pooled 3/6 = 0.5; se = sqrt(0.25 · (1/3 + 1/3)) = 0.408248; z = (1/3)/0.408248 = 0.816497; p = 0.414216
    assert w12["p_value"] == pytest.approx(0.414216, abs=1e-6)
    # 36m comparison has nobody eligible: no rate, no difference, no test
    w36 = _window(result, "rearrest", 36)
    assert w36["comparison"]["rate"] is None and w36["comparison"]["ci_low"] is None
    assert w36["difference"]["value"] is None and w36["p_value"] is None
    # 6m: comparison 0/3, pilot 1/4 → pooled 1/7, test defined
    assert _window(result, "rearrest", 6)["p_value"] is not None


def test_reincarceration_uses_incarceration_and_revocation() -> None:
    result = _evaluate(program_id="P1", min_cell_size=0)
    # c2 revocation 2022-07-01 is within 6 months of 2022-06-01 → comparison 6m 1/3
    # p4 incarceration 2023-06-01: after 24m end 2023-05-15, before 36m end 2024-05-15 → pilot 24m 0/2, 36m 1/1
    assert _window(result, "reincarceration", 6)["comparison"]["numerator"] == 1
    assert _window(result, "reincarceration", 24)["pilot"]["numerator"] == 0
    assert _window(result, "reincarceration", 36)["pilot"]["numerator"] == 1


def test_risk_adjusted_rearrest_by_hand() -> None:
    result = _evaluate(program_id="P1", min_cell_size=0)
    # 6m eligible: pilot p1 high ✓, p2 low, p3 low, p4 moderate; comparison c1 high, c2 low, c3 moderate
    # pooled mix of 7: high 2/7, low 3/7, moderate 2/7
    # pilot      = 2/7 · 1/1 + 3/7 · 0/2 + 2/7 · 0/1 = 2/7 = 0.285714 (crude 1/4)
    # comparison = 0; difference 2/7
    risk = _window(result, "rearrest", 6)["risk_adjusted"]
    assert risk["pilot"] == pytest.approx(2 / 7, abs=1e-12)
    assert risk["comparison"] == 0.0
    assert risk["difference"] == pytest.approx(2 / 7, abs=1e-12)
    assert risk["reason"] is None
    # 24m: pilot p1 high, p4 moderate; comparison c1 high, c2 low → moderate pilot-only, low comparison-only
    risk = _window(result, "rearrest", 24)["risk_adjusted"]
    assert risk["pilot"] is None and risk["difference"] is None
    assert "low (comparison only)" in risk["reason"] and "moderate (pilot only)" in risk["reason"]


def test_pooled_evaluation_adds_the_other_program() -> None:
    result = _evaluate(min_cell_size=0)
    assert result["program_id"] is None
    # P2 adds q1 (pilot, arrest 2022-02-01, within 6 months of 2022-01-01) and q2 (comparison, none)
    w = _window(result, "rearrest", 6)
    assert (w["pilot"]["numerator"], w["pilot"]["denominator"]) == (2, 5)
    assert (w["comparison"]["numerator"], w["comparison"]["denominator"]) == (0, 4)


def test_kaplan_meier_rearrest_by_hand_and_against_lifelines() -> None:
    from lifelines import KaplanMeierFitter

    result = _evaluate(program_id="P1", min_cell_size=0)
    pilot = next(s for s in result["survival"] if s["measure"] == "rearrest" and s["cohort"] == "pilot")
    comparison = next(s for s in result["survival"] if s["measure"] == "rearrest" and s["cohort"] == "comparison")
    # Days from the index date, censored at 2024-12-31:
    # pilot: p1 event 183 (2022-03-31 → 2022-09-30), p2 event 366 (2023-12-31 → 2024-12-31, leap year),
    #        p3 censored 365, p4 censored 1326
    # comparison: c1 event 182, c2 censored 944, c3 censored 671, c5 censored 31; c4 and c6 are out
    assert (pilot["n"], pilot["events"]) == (4, 2)
    assert (comparison["n"], comparison["events"]) == (4, 1)
    points = {p["day"]: p for p in pilot["points"]}
    # days 90, 180: no event yet → S = 1, [1, 1], all 4 at risk
    assert points[90] == {"day": 90, "survival": 1.0, "ci_low": 1.0, "ci_high": 1.0, "at_risk": 4}
    assert points[180]["at_risk"] == 4
    # day 365: event at 183 with 4 at risk → S = 3/4; at risk = times ≥ 365: p2, p3, p4 = 3
    # Σ d/(n(n−d)) = 1/12; V = (1/12)/ln(0.75)² = 1.006916; z√V = 1.966729
    # low = 0.75^exp(1.966729) = 0.75^7.147862 = 0.127947; high = 0.75^exp(−1.966729) = 0.960549
    assert points[365]["survival"] == 0.75 and points[365]["at_risk"] == 3
    assert points[365]["ci_low"] == pytest.approx(0.127947, abs=5e-6)
    assert points[365]["ci_high"] == pytest.approx(0.960549, abs=5e-6)
    # day 730: event at 366 with 2 at risk (p2, p4) → S = 3/4 · 1/2 = 3/8; at risk: p4 only
    assert points[730]["survival"] == pytest.approx(0.375) and points[730]["at_risk"] == 1

    for entry, durations, events in (
        (pilot, [183, 366, 365, 1326], [1, 1, 0, 0]),
        (comparison, [182, 944, 671, 31], [1, 0, 0, 0]),
    ):
        kmf = KaplanMeierFitter().fit(durations, events)
        ci = kmf.confidence_interval_survival_function_
        for p in entry["points"]:
            u = kmf.survival_function_.index[kmf.survival_function_.index <= p["day"]][-1]
            assert p["survival"] == pytest.approx(float(kmf.survival_function_.loc[u].iloc[0]), abs=1e-9)
            assert p["ci_low"] == pytest.approx(float(ci.loc[u].iloc[0]), abs=1e-9)
            assert p["ci_high"] == pytest.approx(float(ci.loc[u].iloc[1]), abs=1e-9)
            assert p["at_risk"] == sum(1 for d in durations if d >= p["day"])

    from lifelines.statistics import logrank_test

    ref = logrank_test([183, 366, 365, 1326], [182, 944, 671, 31], [1, 1, 0, 0], [1, 0, 0, 0])
    lr = next(x for x in result["logrank"] if x["measure"] == "rearrest")
    assert lr["chi2"] == pytest.approx(float(ref.test_statistic), abs=1e-9)
    assert lr["p_value"] == pytest.approx(float(ref.p_value), abs=1e-9)


def test_reconviction_survival_ignores_events_after_as_of() -> None:
    result = _evaluate(program_id="P1", min_cell_size=0)
    pilot = next(s for s in result["survival"] if s["measure"] == "reconviction" and s["cohort"] == "pilot")
    # only p4's conviction (2022-01-10) counts; p3's 2025-01-05 conviction is after the as-of date
    assert pilot["events"] == 1


def test_survival_point_is_null_when_nobody_is_at_risk() -> None:
    tables = Tables.from_frames(
        participants=[_p("y", "P1", "pilot", "2024-10-01", None, "low", 30, "male", "parole"),
                      _p("z", "P1", "comparison", "2024-10-01", None, "low", 30, "male", "parole")],
    )
    from dashboard.evaluation import evaluate

    result = evaluate(tables, Filters(as_of=AS_OF), measures=["rearrest"], min_cell_size=0)
    # followed 91 days (2024-10-01 → 2024-12-31): day 90 has 1 at risk, day 180 none
    points = {p["day"]: p for p in result["survival"][0]["points"]}
    assert points[90]["at_risk"] == 1 and points[90]["survival"] == 1.0
    assert points[180] == {"day": 180, "survival": None, "ci_low": None, "ci_high": None, "at_risk": 0}
    assert result["logrank"] == [{"measure": "rearrest", "chi2": None, "p_value": None}]  # no event


def test_baseline_equivalence_by_hand() -> None:
    result = _evaluate(program_id="P1", min_cell_size=0)
    rows = {b["covariate"]: b for b in result["baseline"]}
    # Same participants as survival: pilot p1 p2 p3 p4, comparison c1 c2 c3 c5 (c4, c6 out)
    # age: pilot 30 40 20 (p4 unknown) mean 30, SS 200; comparison 25 35 45 55 mean 40, SS 500
    # s_pooled = sqrt(700 / 5) = 11.832160; ω = 1 − 3/(4·7 − 9) = 0.842105; g = 0.842105 · (−10)/11.832160 = −0.711709
    age = rows["age_at_enrollment"]
    assert (age["pilot"], age["comparison"]) == (30.0, 40.0)
    assert age["effect_size"] == pytest.approx(-0.711709, abs=1e-6)
    assert age["label"] == "not_equivalent"
    # risk_high: pilot 1/4, comparison 2/4 (c1, c5): (logit .25 − logit .5)/1.65 = −1.098612/1.65 = −0.665826
    assert rows["risk_high"]["pilot"] == 0.25 and rows["risk_high"]["comparison"] == 0.5
    assert rows["risk_high"]["effect_size"] == pytest.approx(-0.665826, abs=1e-6)
    # risk_moderate: 1/4 vs 1/4 → 0, equivalent
    assert rows["risk_moderate"]["effect_size"] == 0.0 and rows["risk_moderate"]["label"] == "equivalent"
    # sex_female among female/male/other: pilot p1 m, p2 f, p4 f → 2/3 (p3 unknown out); comparison c1 m, c2 o,
    # c3 f → 1/3 (c5 null out); (ln 2 − ln ½)/1.65 = 1.386294/1.65 = 0.840178
    assert rows["sex_female"]["pilot"] == pytest.approx(2 / 3)
    assert rows["sex_female"]["effect_size"] == pytest.approx(0.840178, abs=1e-6)
    # supervision_parole: pilot p1, p3 → 2/4; comparison c1, c5 → 2/4 → 0
    assert rows["supervision_parole"]["effect_size"] == 0.0
    assert all(b["suppressed"] is False for b in result["baseline"])


def test_baseline_cox_index_is_null_when_a_share_is_zero() -> None:
    from dashboard.evaluation import baseline_equivalence

    population = pl.DataFrame({
        "cohort": ["pilot", "pilot", "comparison", "comparison"],
        "age_at_enrollment": [30, 32, 30, 34],
        "risk_level": ["low", "high", "low", "low"],
        "sex": ["male", "female", "male", "female"],
        "supervision_type": ["parole", "none", "parole", "none"],
    })
    rows = {b["covariate"]: b for b in baseline_equivalence(population, 0)}
    assert rows["risk_high"]["comparison"] == 0.0
    assert rows["risk_high"]["effect_size"] is None and rows["risk_high"]["label"] is None


# --- suppression ------------------------------------------------------------------------------


def test_survival_and_baseline_suppression_by_hand() -> None:
    # k = 2: pilot rearrest n 4, events 2 → shown; comparison n 4, events 1 (1..k−1) → suppressed
    result = _evaluate(program_id="P1", min_cell_size=2, measures=["rearrest"])
    pilot, comparison = result["survival"]
    assert pilot["suppressed"] is False and pilot["n"] == 4
    assert comparison == {"measure": "rearrest", "cohort": "comparison", "n": None, "events": None,
                          "suppressed": True, "points": []}
    assert result["logrank"] == [{"measure": "rearrest", "chi2": None, "p_value": None}]
    assert all(b["suppressed"] is False for b in result["baseline"])  # both cohorts have 4 ≥ 2
    # k = 5: each cohort has 4 < 5 participants → every baseline entry suppressed
    result = _evaluate(program_id="P1", min_cell_size=5, measures=["rearrest"])
    assert all(b["suppressed"] is True and b["effect_size"] is None and b["pilot"] is None
               for b in result["baseline"])
    assert all(s["suppressed"] for s in result["survival"])


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4, 5, 11])
@pytest.mark.parametrize("program_id", [None, "P1", "P2"])
def test_window_cells_are_suppressed_exactly_as_in_metrics(k: int, program_id: str | None) -> None:
    from dashboard.evaluation import evaluate
    from dashboard.metrics.engine import compute_metrics

    tables = _tables()
    filters = Filters(as_of=AS_OF, program_ids=(program_id,) if program_id else ())
    result = evaluate(tables, Filters(as_of=AS_OF), program_id=program_id, min_cell_size=k)
    metrics = compute_metrics(tables, filters, min_cell_size=k)
    keys = ["program_id", "cohort"] if program_id else ["cohort"]
    published = {}
    for row in metrics.iter_rows(named=True):
        if list(row["group_by"]) == keys and (program_id is None or row["group"]["program_id"] == program_id):
            published[(row["metric"], row["group"]["cohort"])] = row
    for w in result["windows"]:
        mid = f"recidivism_{w['measure']}_{w['window_months']}m"
        for cohort in ("pilot", "comparison"):
            cell = w[cohort]
            row = published.get((mid, cohort))
            if row is None:  # nobody eligible: no metrics row, nothing to protect
                assert cell["suppressed"] is False and cell["denominator"] == 0
                continue
            assert cell["suppressed"] == row["suppressed"], (mid, cohort)
            if row["suppressed"]:
                assert cell["numerator"] is None and cell["rate"] is None and cell["ci_low"] is None
            else:
                assert (cell["numerator"], cell["denominator"]) == (row["numerator"], row["denominator"])
                assert cell["rate"] == pytest.approx(row["value"], abs=1e-12)
        if w["pilot"]["suppressed"] or w["comparison"]["suppressed"]:
            assert w["difference"] == {"value": None, "ci_low": None, "ci_high": None}
            assert w["p_value"] is None
            ra = w["risk_adjusted"]
            assert (ra["pilot"], ra["comparison"], ra["difference"]) == (None, None, None)
            assert ra["reason"]


def test_complementary_suppression_in_metrics_carries_over_to_the_pooled_evaluation() -> None:
    # k = 2, pooled, rearrest 12m: comparison 1/4 (c1 of c1 c2 c3 q2) is suppressed (numerator 1 in 1..k−1).
    # pilot 3/4 (p1 p2 q1 of p1 p2 p4 q1) passes the small-cell rule, but metrics publishes the overall
    # row 4/8, so it suppresses pilot as the complement (else 4/8 − 3/4 reveals 1/4). evaluate must too.
    result = _evaluate(min_cell_size=2, measures=["rearrest"])
    w = _window(result, "rearrest", 12)
    assert w["comparison"]["suppressed"] is True
    assert w["pilot"]["suppressed"] is True and w["pilot"]["numerator"] is None
    assert w["difference"]["value"] is None and w["p_value"] is None
    assert w["risk_adjusted"]["pilot"] is None and w["risk_adjusted"]["reason"]
    # 6m pooled: pilot 2/5 and comparison 0/4 both published (overall 2/9): everything shown
    w = _window(result, "rearrest", 6)
    assert (w["pilot"]["numerator"], w["pilot"]["denominator"]) == (2, 5)
    assert w["difference"]["value"] == pytest.approx(0.4) and w["p_value"] is not None


def test_min_cell_size_zero_turns_suppression_off() -> None:
    result = _evaluate(min_cell_size=0)
    assert not any(w[c]["suppressed"] for w in result["windows"] for c in ("pilot", "comparison"))
    assert not any(s["suppressed"] for s in result["survival"])
    assert not any(b["suppressed"] for b in result["baseline"])


def test_measures_subset_and_unknown_measure() -> None:
    from dashboard.evaluation import evaluate

    result = _evaluate(program_id="P1", min_cell_size=0, measures=["reconviction"])
    assert {w["measure"] for w in result["windows"]} == {"reconviction"}
    with pytest.raises(ValueError, match="unknown measure"):
        evaluate(_tables(), Filters(as_of=AS_OF), measures=["rearest"])


# --- command line ---------------------------------------------------------------------------


def test_cli_prints_the_evaluation_as_json(engine: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Through the database on both stores: the printed JSON is ``evaluate`` on the same rows."""
    import argparse

    from dashboard import store
    from dashboard.commands.evaluate import cli_evaluate
    from dashboard.evaluation import evaluate

    tables = _tables()
    with engine.begin() as conn:
        for name in ("agencies", "programs", "participants", "recidivism_events"):
            store.bulk_upsert(conn, name, getattr(tables, name))
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    args = argparse.Namespace(db=url, program="P1", measure=None, as_of=AS_OF, min_cell_size=0, format="json")
    assert cli_evaluate(args) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = json.loads(json.dumps(evaluate(tables, Filters(as_of=AS_OF), program_id="P1", min_cell_size=0)))
    assert printed == expected

    args = argparse.Namespace(db=url, program="NOPE", measure=None, as_of=AS_OF, min_cell_size=0, format="json")
    assert cli_evaluate(args) == 2
    assert "no program 'NOPE'" in capsys.readouterr().err


# --- property test: evaluate against a direct reading of SPEC §3 --------------------------------


def _plus_months(day: dt.date, months: int) -> dt.date:
    """SPEC §3 month arithmetic written out independently: clip to the last day of the month."""
    import calendar

    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


_TYPES = {"rearrest": {"arrest"}, "reconviction": {"conviction"}, "reincarceration": {"incarceration", "revocation"}}
_day = st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2024, 12, 31))


@st.composite
def _datasets(draw: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dt.date]:
    as_of = draw(st.dates(min_value=dt.date(2021, 1, 1), max_value=dt.date(2024, 12, 31)))
    people = []
    for i in range(draw(st.integers(min_value=0, max_value=14))):
        enrolled = draw(_day)
        released = draw(st.none() | _day)
        people.append(_p(f"x{i}", draw(st.sampled_from(["P1", "P2"])), draw(st.sampled_from(["pilot", "comparison"])),
                         enrolled.isoformat(), released.isoformat() if released else None,
                         draw(st.sampled_from(["low", "moderate", "high"])), draw(st.none() | st.integers(18, 70)),
                         draw(st.sampled_from([None, "female", "male", "other", "unknown"])),
                         draw(st.sampled_from(["probation", "parole", "post_release", "none"]))))
    events = []
    if people:
        for j in range(draw(st.integers(min_value=0, max_value=20))):
            who = draw(st.sampled_from(people))["participant_id"]
            kind = draw(st.sampled_from(["arrest", "conviction", "incarceration", "revocation"]))
            events.append(_e(f"e{j}", who, draw(_day).isoformat(), kind))
    return people, events, as_of


@settings(max_examples=40, deadline=None)
@given(_datasets(), st.sampled_from([None, "P1"]))
def test_evaluate_matches_a_direct_reading_of_the_definitions(
    data: tuple[list[dict[str, Any]], list[dict[str, Any]], dt.date], program_id: str | None
) -> None:
    from dashboard.evaluation import evaluate

    people, events, as_of = data
    tables = Tables.from_frames(participants=people or None, recidivism_events=events or None)
    result = evaluate(tables, Filters(as_of=as_of), program_id=program_id, min_cell_size=0)
    json.dumps(result, allow_nan=False)
    kept = [p for p in people if p["enrollment_date"] <= as_of and (program_id is None or p["program_id"] == program_id)]
    for w in result["windows"]:
        for cohort in ("pilot", "comparison"):
            numerator = denominator = 0
            for p in kept:
                if p["cohort"] != cohort:
                    continue
                index = p["release_date"] or p["enrollment_date"]
                end = _plus_months(index, w["window_months"])
                if end > as_of:
                    continue
                denominator += 1
                numerator += any(
                    e["participant_id"] == p["participant_id"] and e["event_type"] in _TYPES[w["measure"]]
                    and index < e["event_date"] <= end
                    for e in events
                )
            assert (w[cohort]["numerator"], w[cohort]["denominator"]) == (numerator, denominator)
    for s in result["survival"]:
        times = []
        for p in kept:
            index = p["release_date"] or p["enrollment_date"]
            if p["cohort"] != s["cohort"] or index > as_of:
                continue
            hits = [e["event_date"] for e in events if e["participant_id"] == p["participant_id"]
                    and e["event_type"] in _TYPES[s["measure"]] and index < e["event_date"] <= as_of]
            times.append(((min(hits) if hits else as_of) - index).days)
        assert s["n"] == len(times)
        for point in s["points"]:
            assert point["at_risk"] == sum(1 for t in times if t >= point["day"])
