"""Hand-computed fixtures for the community-voice measures survey_favourable_{question}
(docs/metrics.md, contract version 2): top-two box with Wilson intervals, the derived
program, groupings, filters and suppression. The arithmetic is in the comments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from dashboard.metrics.engine import compute_metrics, metrics_csv, metrics_json
from dashboard.metrics.tables import Filters, Tables

D = dt.date
AS_OF = D(2026, 3, 31)
TRUST = "survey_favourable_trust"
SAFETY = "survey_favourable_safety"
Key = tuple[tuple[str, ...], tuple[str | None, ...]]
OVERALL: Key = ((), ())


def answer(rid: str, question: str, score: int, kind: str, program: str | None = None, agency: str | None = None,
           participant: str | None = None, day: dt.date = D(2026, 2, 1)) -> dict[str, Any]:
    return {"response_id": rid, "survey_date": day, "respondent_type": kind, "question": question, "score": score,
            "program_id": program, "agency_id": agency, "participant_id": participant}


PARTICIPANTS = [
    {"participant_id": pid, "program_id": program, "cohort": "pilot", "enrollment_date": D(2025, 1, 1),
     "supervision_type": "probation", "risk_level": "low", "supervising_agency_id": "A1"}
    for pid, program in (("pp1", "P1"), ("pp2", "P2"))
]
ANSWERS = [
    answer("s1", "trust", 5, "resident", "P1", "A1"),
    answer("s2", "trust", 4, "resident", "P1", None),
    answer("s3", "trust", 3, "resident", None, "A1"),                    # no program, no participant: Unassigned
    answer("s4", "trust", 2, "participant", None, "A2", "pp2"),          # program from the participant: P2
    answer("s5", "trust", 5, "participant", "P1", "A2", "pp2"),          # its own program_id wins: P1
    answer("s6", "trust", 1, "staff", "P2", "A1"),
    answer("s7", "trust", 4, "partner", day=D(2026, 4, 1)),              # after the as-of: left out
    answer("s8", "trust", 5, "resident", "P1", "A1", day=AS_OF),         # on the as-of: counts
    answer("s9", "safety", 4, "resident", "P1", "A1"),
]


def tables(answers: list[dict[str, Any]] = ANSWERS) -> Tables:
    return Tables.from_frames(participants=PARTICIPANTS, surveys=answers)


def run(k: int = 0, data: Tables | None = None, **filters: Any) -> pl.DataFrame:
    filters.setdefault("as_of", AS_OF)
    return compute_metrics(data or tables(), Filters(**filters), min_cell_size=k,
                           metric_ids=[f"survey_favourable_{q}" for q in ("trust", "safety", "satisfaction", "coordination")])


def rows_of(frame: pl.DataFrame, metric: str) -> dict[Key, dict[str, Any]]:
    out = {}
    for rec in frame.filter(pl.col("metric") == metric).iter_rows(named=True):
        group_by = tuple(rec["group_by"])
        out[(group_by, tuple(rec["group"][g] for g in group_by))] = rec
    return out


def counts(rows: dict[Key, dict[str, Any]]) -> dict[Key, tuple[int, int]]:
    return {k: (int(r["numerator"]), int(r["denominator"])) for k, r in rows.items()}


def test_favourable_share_by_every_grouping() -> None:
    frame = run()
    trust = rows_of(frame, TRUST)
    # Counted: s1 s2 s3 s4 s5 s6 s8 = 7; favourable (4 or 5): s1 s2 s5 s8 = 4.
    # program: P1 = s1 s2 s5 s8 -> 4/4; P2 = s4 s6 -> 0/2; none = s3 -> 0/1.
    # agency: A1 = s1 s3 s6 s8 -> 2/4; A2 = s4 s5 -> 1/2; none = s2 -> 1/1.
    # respondent type: participant s4 s5 -> 1/2; resident s1 s2 s3 s8 -> 3/4; staff s6 -> 0/1.
    assert counts(trust) == {
        OVERALL: (4, 7),
        (("program_id",), ("P1",)): (4, 4), (("program_id",), ("P2",)): (0, 2), (("program_id",), (None,)): (0, 1),
        (("agency_id",), ("A1",)): (2, 4), (("agency_id",), ("A2",)): (1, 2), (("agency_id",), (None,)): (1, 1),
        (("respondent_type",), ("participant",)): (1, 2), (("respondent_type",), ("resident",)): (3, 4),
        (("respondent_type",), ("staff",)): (0, 1),
    }
    # Wilson 95%, 4/7: centre (4/7 + 1.96²/14) / (1 + 1.96²/7) = 0.8458/1.5488 = 0.5461; half width
    # 1.96·sqrt(4/7·3/7/7 + 1.96²/196) / 1.5488 = 0.2957 -> [0.2504, 0.8418].
    assert trust[OVERALL]["value"] == pytest.approx(4 / 7)
    assert trust[OVERALL]["ci_low"] == pytest.approx(0.2504, abs=5e-4)
    assert trust[OVERALL]["ci_high"] == pytest.approx(0.8418, abs=5e-4)
    assert counts(rows_of(frame, SAFETY))[OVERALL] == (1, 1)
    # No answer to satisfaction or coordination: no rows for them.
    assert set(frame["metric"].unique()) == {TRUST, SAFETY}
    # Output order: overall, program_id, agency_id, respondent_type; keys in order, null last.
    order = [(tuple(r["group_by"]), tuple(r["group"][g] for g in r["group_by"]))
             for r in frame.filter(pl.col("metric") == TRUST).iter_rows(named=True)]
    assert order == list(counts(trust))


def test_program_filter_uses_the_derived_program() -> None:
    # --program P2: s4 (participant's program) and s6 -> 0/2; s3 has no program and drops out.
    assert counts(rows_of(run(program_ids=("P2",)), TRUST))[OVERALL] == (0, 2)
    assert counts(rows_of(run(program_ids=("P1",)), TRUST))[OVERALL] == (4, 4)
    # --agency A2: s4 s5 -> 1/2.
    assert counts(rows_of(run(agency_ids=("A2",)), TRUST))[OVERALL] == (1, 2)


def test_participant_filters_do_not_apply_and_the_period_does() -> None:
    assert run(cohorts=("comparison",), risk_levels=("high",)).equals(run())
    # Period 2026-03-01..: only s8 (on the as-of) -> 1/1.
    assert counts(rows_of(run(start=D(2026, 3, 1)), TRUST)) == {
        OVERALL: (1, 1), (("program_id",), ("P1",)): (1, 1), (("agency_id",), ("A1",)): (1, 1),
        (("respondent_type",), ("resident",)): (1, 1),
    }
    # An as-of before every answer: the table has rows but nothing counts.
    assert run(as_of=D(2026, 1, 1)).height == 0


def test_survey_suppression_with_a_complementary_respondent_type() -> None:
    # k = 11. Residents 30 answers (20 favourable), staff 12 (11), partners 5 (3); all P1 / A1.
    # Partner 5 < 11 -> suppressed. Overall 47 (34) is published, so exactly one respondent type is
    # withheld: the published one with the smallest denominator (staff, 12) is withheld too.
    # program_id and agency_id each have one member (P1 = overall, A1 = overall): published.
    answers = []
    for kind, n, favourable in (("resident", 30, 20), ("staff", 12, 11), ("partner", 5, 3)):
        answers += [answer(f"{kind}{i}", "trust", 5 if i < favourable else 2, kind, "P1", "A1") for i in range(n)]
    rows = rows_of(run(k=11, data=tables(answers)), TRUST)
    flags = {key: r["suppressed"] for key, r in rows.items()}
    assert flags == {
        OVERALL: False, (("program_id",), ("P1",)): False, (("agency_id",), ("A1",)): False,
        (("respondent_type",), ("partner",)): True, (("respondent_type",), ("resident",)): False,
        (("respondent_type",), ("staff",)): True,
    }
    doc = metrics_json(tables(answers), Filters(as_of=AS_OF), 11)
    staff = next(r for r in doc["metrics"] if r["group"] == {"respondent_type": "staff"})
    assert staff["numerator"] is None and staff["value"] is None and staff["suppressed"] is True


def test_survey_primary_suppression_on_a_small_numerator() -> None:
    # k = 11: 40 answers, 3 favourable -> numerator 3 in 1..10: the overall row (and its single members) withheld.
    answers = [answer(f"r{i}", "trust", 5 if i < 3 else 1, "resident", "P1", "A1") for i in range(40)]
    rows = rows_of(run(k=11, data=tables(answers)), TRUST)
    assert all(r["suppressed"] for r in rows.values())


def test_survey_rows_in_json_and_csv() -> None:
    doc = metrics_json(tables(), Filters(as_of=AS_OF), 0)
    resident = next(r for r in doc["metrics"] if r["metric"] == TRUST and r["group_by"] == ["respondent_type"]
                    and r["group"] == {"respondent_type": "resident"})
    assert (resident["numerator"], resident["denominator"], resident["value"]) == (3, 4, 0.75)
    lines = metrics_csv(tables(), Filters(as_of=AS_OF), 0).splitlines()
    assert lines[0] == ("metric,group_by,program_id,agency_id,cohort,respondent_type,"
                        "numerator,denominator,value,ci_low,ci_high,suppressed")
    assert any(line.startswith(f"{TRUST},respondent_type,,,,resident,3,4,0.75,") for line in lines)
    assert any(line.startswith(f"{TRUST},program_id,P1,,,,4,4,1.0,") for line in lines)
