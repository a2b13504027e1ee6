"""The engine's contract-version-2 metrics and evaluate windows against an independent reading.

:mod:`reference_v2` re-implements employment, stable housing and check coverage,
cost per participant and per completion, caseload per officer and the survey
rates, with their suppression, in plain Python from the metric definitions.
The reference is first pinned by hand-computed fixtures (so a shared mistake
cannot hide behind agreement), then compared with ``metrics --format json`` and
``evaluate`` row by row — same keys, numbers equal to 1e-9, same suppression
flags — on randomised tables built to hit the edges (ties on a check date,
checks on index + W months, costs straddling the period and the as-of,
vacancy months, surveys without program or agency) and on generated samples.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest

import reference_v2 as R2
from dashboard.evaluation import evaluate
from dashboard.metrics.engine import metrics_json
from dashboard.metrics.tables import Filters, Tables
from test_reference_spec import NUMBERS, _close

D = dt.date
V2_METRICS = set(R2.REINTEGRATION_IDS) | set(R2.COST_IDS) | {"caseload_per_officer"} | set(R2.SURVEY_IDS)


def engine_rows(js: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    """The engine's JSON rows keyed like the reference; a repeated key is a failure."""
    out: dict[Any, dict[str, Any]] = {}
    for row in js["metrics"]:
        group_by = tuple(row["group_by"])
        assert set(row["group"]) == set(group_by), row
        key = (row["metric"], group_by, tuple(row["group"][g] for g in group_by))
        assert key not in out, f"row {key} appears twice"
        out[key] = row
    return out


def _v2_only(rows: dict[Any, dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {k: r for k, r in rows.items() if k[0] in V2_METRICS}


def differences(eng: dict[Any, dict[str, Any]], ref: dict[Any, dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for key in sorted(set(eng) | set(ref), key=repr):
        e, r = eng.get(key), ref.get(key)
        if e is None or r is None:
            out.append(f"{key}: only in {'reference' if e is None else 'engine'}: {e or r}")
            continue
        if e["suppressed"] != r["suppressed"]:
            out.append(f"{key}: suppressed engine={e['suppressed']} reference={r['suppressed']}")
        for name in NUMBERS:
            if not _close(e[name], r[name]):
                out.append(f"{key}: {name} engine={e[name]} reference={r[name]}")
    return out


def compare_v2(tables: Tables, k: int, **filters: Any) -> dict[Any, dict[str, Any]]:
    js = metrics_json(tables, Filters(**filters), k)
    ref = R2.reference_v2_metrics(tables, min_cell_size=k, **filters)
    diffs = differences(_v2_only(engine_rows(js)), ref)
    assert not diffs, f"{len(diffs)} difference(s) with filters={filters}, k={k}:\n" + "\n".join(diffs[:40])
    return ref


def compare_v2_windows(tables: Tables, k: int, program_id: str | None = None, as_of: dt.date | None = None) -> None:
    ev = evaluate(tables, Filters(as_of=as_of), program_id=program_id, min_cell_size=k)
    ref = R2.reference_v2_windows(tables, program_id=program_id, as_of=as_of, min_cell_size=k)
    mine = {(w["measure"], w["window_months"]): w for w in ev["windows"] if w["measure"] in R2.EVALUATED}
    assert set(mine) == set(ref), f"windows engine={sorted(mine)} reference={sorted(ref)}"
    out: list[str] = []
    for key, w in mine.items():
        r = ref[key]
        for cohort in ("pilot", "comparison"):
            for name in ("numerator", "denominator", "rate", "ci_low", "ci_high"):
                if not _close(w[cohort][name], r[cohort][name]):
                    out.append(f"{key} {cohort}.{name}: engine={w[cohort][name]} reference={r[cohort][name]}")
            if w[cohort]["suppressed"] != r[cohort]["suppressed"]:
                out.append(f"{key} {cohort}.suppressed: engine={w[cohort]['suppressed']}")
        for name in ("value", "ci_low", "ci_high"):
            if not _close(w["difference"][name], r["difference"][name]):
                out.append(f"{key} difference.{name}: engine={w['difference'][name]} reference={r['difference'][name]}")
        if not _close(w["p_value"], r["p_value"]):
            out.append(f"{key} p_value: engine={w['p_value']} reference={r['p_value']}")
        ra, rr = w["risk_adjusted"] or {}, r["risk_adjusted"] or {}
        for name in ("pilot", "comparison", "difference"):
            if not _close(ra.get(name), rr.get(name)):
                out.append(f"{key} risk_adjusted.{name}: engine={ra.get(name)} reference={rr.get(name)}")
        if rr.get("one_sided") and not ra.get("reason"):
            out.append(f"{key} risk_adjusted: strata {rr['one_sided']} in one cohort only but no reason given")
    assert not out, f"program={program_id} as_of={as_of} k={k}:\n" + "\n".join(out[:40])


# --- the reference pinned by hand ----------------------------------------------------------


def _person(pid: str, **kw: Any) -> dict[str, Any]:
    base = {
        "participant_id": pid, "program_id": "P1", "supervising_agency_id": "A1", "cohort": "pilot",
        "enrollment_date": D(2024, 1, 31), "supervision_type": "probation", "risk_level": "low",
    }
    base.update(kw)
    return base


def _check(cid: str, pid: str, day: dt.date, employment: str | None = None, housing: str | None = None) -> dict[str, Any]:
    return {"check_id": cid, "participant_id": pid, "agency_id": "A1", "check_date": day,
            "employment": employment, "housing": housing}


def hand_tables() -> Tables:
    return Tables.from_frames(
        participants=[
            # a: index 2024-01-31; +6 months = 2024-07-31; +12 = 2025-01-31.
            _person("a"),
            # b: index 2024-08-31; +6 months clips to 2025-02-28; +12 = 2025-08-31 (after the as-of).
            _person("b", cohort="comparison", enrollment_date=D(2024, 8, 31),
                    exit_date=D(2025, 3, 1), exit_reason="completed"),
            # c: enrolled after the as-of: never counted.
            _person("c", enrollment_date=D(2025, 7, 1)),
        ],
        reintegration_checks=[
            # a, on index + 6 months exactly: two checks the same day; full_time is listed before
            # unemployed, so it wins whatever the row order.
            _check("1", "a", D(2024, 7, 31), employment="unemployed"),
            _check("2", "a", D(2024, 7, 31), employment="full_time", housing="homeless"),
            # a, one day after index + 6 months: only in the 12-month window, where it is latest.
            _check("3", "a", D(2024, 8, 1), employment="unemployed"),
            # b: not_in_labor_force leaves the employment denominator; housing stable.
            _check("4", "b", D(2025, 2, 28), employment="not_in_labor_force", housing="stable"),
            # a check on the index date itself is outside the window (index < check_date).
            _check("5", "b", D(2024, 8, 31), employment="full_time"),
        ],
        program_costs=[
            # 366 over the leap year 2024, and 100 over 2025-06-01..2025-07-10 (40 days, 30 by the as-of).
            {"cost_id": "k1", "program_id": "P1", "period_start": D(2024, 1, 1), "period_end": D(2024, 12, 31),
             "amount": Decimal("366.00")},
            {"cost_id": "k2", "program_id": "P1", "period_start": D(2025, 6, 1), "period_end": D(2025, 7, 10),
             "amount": Decimal("100.00")},
            # P2 has costs and no pilot participant: no P2 row, but its cost is in the overall row.
            {"cost_id": "k3", "program_id": "P2", "period_start": D(2025, 1, 1), "period_end": D(2025, 1, 1),
             "amount": Decimal("10.50")},
        ],
        staffing=[
            {"agency_id": "A1", "month": D(2025, 2, 1), "officers_fte": Decimal("0.50")},
            {"agency_id": "A1", "month": D(2025, 3, 1), "officers_fte": Decimal("0")},
            {"agency_id": "A2", "month": D(2025, 3, 1), "officers_fte": Decimal("0")},
            {"agency_id": "A1", "month": D(2025, 7, 1), "officers_fte": Decimal("2")},
        ],
        surveys=[
            {"response_id": "s1", "survey_date": D(2025, 1, 1), "respondent_type": "resident", "question": "trust",
             "score": 4},
            {"response_id": "s2", "survey_date": D(2025, 1, 2), "respondent_type": "participant",
             "question": "trust", "score": 2, "participant_id": "b", "agency_id": "A1"},
            {"response_id": "s3", "survey_date": D(2025, 7, 2), "respondent_type": "staff", "question": "trust",
             "score": 5},
        ],
    )


def test_reference_v2_by_hand() -> None:
    rows = R2.reference_v2_metrics(hand_tables(), as_of=D(2025, 6, 30), min_cell_size=0)

    def row(metric: str, grouping: tuple[str, ...] = (), key: tuple[Any, ...] = ()) -> dict[str, Any]:
        return rows[(metric, grouping, key)]

    # employment 6m: a full_time (tie on 2024-07-31 -> full_time); b not_in_labor_force -> out. 1/1.
    assert (row("employment_rate_6m")["numerator"], row("employment_rate_6m")["denominator"]) == (1, 1)
    # employment 12m: a's latest check in (2024-01-31, 2025-01-31] is 2024-08-01 unemployed -> 0/1; b not eligible.
    assert (row("employment_rate_12m")["numerator"], row("employment_rate_12m")["denominator"]) == (0, 1)
    # housing 6m: a homeless, b stable -> 1/2. Coverage 6m: both have a check in the window -> 2/2.
    assert (row("stable_housing_rate_6m")["numerator"], row("stable_housing_rate_6m")["denominator"]) == (1, 2)
    assert row("reintegration_check_coverage_6m")["denominator"] == 2
    assert row("reintegration_check_coverage_6m", ("cohort",), ("comparison",))["numerator"] == 1
    # costs: 366 + 100 x 30/40 (June by the as-of) + 10.50 = 451.50; pilot served: a only.
    assert row("cost_per_participant")["numerator"] == pytest.approx(451.5)
    assert row("cost_per_participant")["value"] == pytest.approx(451.5)
    assert row("cost_per_participant", ("program_id",), ("P1",))["numerator"] == pytest.approx(441.0)
    assert ("cost_per_participant", ("program_id",), ("P2",)) not in rows
    # no pilot completion (b is comparison): no completion rows at all.
    assert not [k for k in rows if k[0] == "cost_per_completion"]
    # caseload: Feb 2025 (a, b active on the 28th: 2) and Mar 2025 (a; b exited 2025-03-01: 1) over
    # FTE 0.5 + 0 -> 3 / 0.5 = 6; July starts after the as-of. A2: FTE 0 only -> no row.
    assert (row("caseload_per_officer")["numerator"], row("caseload_per_officer")["denominator"]) == (3, 0.5)
    assert row("caseload_per_officer", ("agency_id",), ("A1",))["value"] == 6
    assert ("caseload_per_officer", ("agency_id",), ("A2",)) not in rows
    # surveys by the as-of: s1 favourable, s2 not -> 1/2; s2 takes b's program P1; s1 has none.
    assert (row("survey_favourable_trust")["numerator"], row("survey_favourable_trust")["denominator"]) == (1, 2)
    assert row("survey_favourable_trust", ("program_id",), ("P1",))["numerator"] == 0
    assert row("survey_favourable_trust", ("program_id",), (None,))["denominator"] == 1
    assert ("survey_favourable_safety", (), ()) not in rows

    # With a period of 2025: costs 100 x 30/40 + 10.50 = 85.50 and nobody exited before 2025-01-01.
    rows = R2.reference_v2_metrics(hand_tables(), as_of=D(2025, 6, 30), start=D(2025, 1, 1), min_cell_size=0)
    assert rows[("cost_per_participant", (), ())]["numerator"] == pytest.approx(85.5)

    compare_v2(hand_tables(), 0, as_of=D(2025, 6, 30))
    compare_v2(hand_tables(), 0, as_of=D(2025, 6, 30), start=D(2025, 1, 1))
    compare_v2(hand_tables(), 3, as_of=D(2025, 6, 30))
    compare_v2_windows(hand_tables(), 0, as_of=D(2025, 6, 30))


def test_reference_v2_suppression_by_hand() -> None:
    """k = 3 on survey trust: resident 2/2 (numerator 2 < 3: small), staff 5/5, partner 4/4;
    overall 11/11. respondent_type vs overall: one hidden -> the published member with the
    smallest denominator (partner, 4) is hidden too. Overall and the others stay."""
    surveys = []
    for kind, n in (("resident", 2), ("staff", 5), ("partner", 4)):
        for i in range(n):
            surveys.append({"response_id": f"{kind}{i}", "survey_date": D(2025, 1, 1), "respondent_type": kind,
                            "question": "trust", "score": 5, "agency_id": "A1"})
    tables = Tables.from_frames(surveys=surveys)
    rows = R2.reference_v2_metrics(tables, as_of=D(2025, 6, 30), min_cell_size=3)
    hidden = {k[2] for k, r in rows.items() if k[0] == "survey_favourable_trust" and r["suppressed"]}
    assert hidden == {("resident",), ("partner",)}
    assert rows[("survey_favourable_trust", (), ())]["numerator"] == 11
    compare_v2(tables, 3, as_of=D(2025, 6, 30))


# --- randomised tables ---------------------------------------------------------------------


def random_tables(seed: int, people: int = 60) -> Tables:
    rng = random.Random(seed)
    day0 = D(2023, 1, 1)

    def day(lo: int, hi: int) -> dt.date:
        return day0 + dt.timedelta(days=rng.randint(lo, hi))

    programs, agencies = ["P1", "P2", "P3"], ["A1", "A2", "A3"]
    participants, checks, surveys = [], [], []
    for i in range(people):
        enrolled = day(0, 700)
        released = enrolled - dt.timedelta(days=rng.randint(0, 40)) if rng.random() < 0.4 else None
        exit_date = enrolled + dt.timedelta(days=rng.randint(0, 600)) if rng.random() < 0.4 else None
        participants.append({
            "participant_id": f"p{i}", "program_id": rng.choice(programs),
            "supervising_agency_id": rng.choice(agencies + [None]),
            "cohort": rng.choice(["pilot", "comparison"]), "enrollment_date": enrolled, "release_date": released,
            "supervision_type": rng.choice(["probation", "parole", "none"]),
            "risk_level": rng.choice(["low", "moderate", "high"]),
            "exit_date": exit_date,
            "exit_reason": rng.choice(["completed", "revoked", "transferred"]) if exit_date else None,
        })
        index = released or enrolled
        for j in range(rng.randint(0, 5)):
            # Dates clustered on month ends and window edges so ties and edges happen.
            when = index + dt.timedelta(days=rng.choice([0, 1, 180, 181, 182, 183, 184, 365, 366, rng.randint(0, 400)]))
            emp = rng.choice([None, "full_time", "part_time", "unemployed", "not_in_labor_force"])
            housing = rng.choice([None, "stable", "transitional", "homeless", "institutional"])
            if emp is None and housing is None:
                housing = "stable"
            checks.append(_check(f"c{i}-{j}", f"p{i}", when, emp, housing) | {"agency_id": rng.choice(agencies)})
    for i in range(people * 2):
        kind = rng.choice(["participant", "resident", "staff", "partner"])
        surveys.append({
            "response_id": f"s{i}", "survey_date": day(0, 1000), "respondent_type": kind,
            "question": rng.choice(R2.QUESTIONS), "score": rng.randint(1, 5),
            "program_id": rng.choice(programs + [None, None]), "agency_id": rng.choice(agencies + [None]),
            "participant_id": f"p{rng.randrange(people)}" if kind == "participant" and rng.random() < 0.7 else None,
        })
    costs = []
    for i in range(12):
        start = day(-100, 900)
        costs.append({"cost_id": f"k{i}", "program_id": rng.choice(programs), "period_start": start,
                      "period_end": start + dt.timedelta(days=rng.choice([0, 30, 89, 364])),
                      "amount": Decimal(rng.randint(0, 5_000_000)) / 100})
    staffing = []
    for agency in agencies:
        for m in range(30):
            month = D(2023 + m // 12, m % 12 + 1, 1)
            if rng.random() < 0.8:
                fte = Decimal(rng.choice([0, 0, 50, 100, 150, 275])) / 100
                staffing.append({"agency_id": agency, "month": month, "officers_fte": fte})
    return Tables.from_frames(participants=participants, reintegration_checks=checks, surveys=surveys,
                              program_costs=costs, staffing=staffing)


SETTINGS: list[dict[str, Any]] = [
    {"as_of": D(2025, 6, 30)},
    {"as_of": D(2024, 12, 31), "start": D(2024, 1, 1)},
    {"as_of": D(2025, 6, 30), "start": D(2024, 3, 15), "end": D(2024, 11, 30)},
    {"as_of": D(2025, 6, 30), "end": D(2026, 1, 1)},
    {"as_of": D(2025, 6, 30), "program_ids": ("P2",)},
    {"as_of": D(2025, 6, 30), "agency_ids": ("A1", "A3")},
    {"as_of": D(2025, 6, 30), "program_ids": ("P1",), "agency_ids": ("A2",), "start": D(2024, 1, 1)},
]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_tables_match_reference(seed: int) -> None:
    tables = random_tables(seed)
    for setting in SETTINGS:
        for k in (0, 5, 11):
            compare_v2(tables, k, **setting)
    for program in (None, "P1"):
        for k in (0, 5):
            compare_v2_windows(tables, k, program_id=program, as_of=D(2025, 6, 30))


def test_version_1_tables_report_no_v2_metrics() -> None:
    """A metric of a table that holds no rows is not reported."""
    tables = Tables.from_frames(participants=[_person("a")])
    js = metrics_json(tables, Filters(as_of=D(2025, 6, 30)), 0)
    assert not [r for r in js["metrics"] if r["metric"] in V2_METRICS]
    assert R2.reference_v2_metrics(tables, as_of=D(2025, 6, 30)) == {}
