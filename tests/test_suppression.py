"""Small-cell and complementary suppression exactly as SPEC §3 words it."""

from __future__ import annotations

from dashboard.metrics.suppression import (
    OVERALL,
    AdditiveSet,
    complementary_suppression,
    metric_sets,
    primary_suppressed,
    suppress_against_total,
    suppress_metric_rows,
)

P = ("program_id",)
A = ("agency_id",)
C = ("cohort",)
PC = ("program_id", "cohort")


def hidden(flags: dict) -> set:
    return {k for k, v in flags.items() if v}


def test_primary_rule() -> None:
    k = 11
    assert primary_suppressed(0, 10, k)  # denominator below k
    assert not primary_suppressed(0, 11, k)  # 0 of 11 is published
    assert primary_suppressed(1, 50, k) and primary_suppressed(10, 50, k)  # numerator 1..k-1
    assert not primary_suppressed(11, 50, k)
    assert not primary_suppressed(45, 50, k)  # small complement (5 non-events) is a stated policy
    assert primary_suppressed(None, 10.99, k)  # median / violation exposure: denominator only
    assert not primary_suppressed(None, 11.0, k)
    assert not primary_suppressed(1, 1, 0)  # k = 0 turns suppression off


def test_one_suppressed_program_takes_the_smallest_published_one_ties_by_key() -> None:
    rows = [
        (OVERALL, 60, 185.0),
        ((P, ("P1",)), 30, 100.0),
        ((P, ("P2",)), 2, 5.0),  # primary: denominator 5 < 11
        ((P, ("P4",)), 14, 40.0),
        ((P, ("P3",)), 14, 40.0),  # ties with P4 at 40: lowest key as a string wins -> P3
    ]
    assert hidden(suppress_metric_rows(rows, 11)) == {(P, ("P2",)), (P, ("P3",))}


def test_null_key_is_last_in_ties() -> None:
    rows = [
        (OVERALL, 60, 120.0),
        ((A, (None,)), 20, 40.0),
        ((A, ("A9",)), 20, 40.0),
        ((A, ("A1",)), 3, 40.0),  # primary: numerator 3
    ]
    # Published A9 and null tie at 40: "A9" before null -> A9.
    assert hidden(suppress_metric_rows(rows, 11)) == {(A, ("A1",)), (A, ("A9",))}


def test_two_suppressed_members_need_nothing_more() -> None:
    rows = [
        (OVERALL, 60, 120.0),
        ((C, ("comparison",)), 5, 50.0),
        ((C, ("pilot",)), 3, 50.0),
        ((C, (None,)), 52, 20.0),
    ]
    assert hidden(suppress_metric_rows(rows, 11)) == {(C, ("comparison",)), (C, ("pilot",))}


def test_single_member_set_suppresses_its_total_and_cascades() -> None:
    # Primary (k = 11): P1 4/50 and P1-pilot 4/50 (numerator 4). Pass 1, in SPEC order:
    # - programs vs overall: one hidden (P1) -> smallest published program P3 (30) is hidden;
    # - agencies: no rows; cohorts vs overall: none hidden;
    # - program+cohort vs overall: one hidden (P1-pilot) -> smallest published P3-comparison (30);
    # - P1's cohorts {P1-pilot}: single member hidden, total P1 already hidden; P2's: none hidden;
    #   P3's {P3-comparison}: hidden, total P3 already hidden;
    # - pilot's programs {P1-pilot, P2-pilot}: one hidden -> P2-pilot; comparison's
    #   {P2-comparison, P3-comparison}: one hidden -> P2-comparison.
    # Pass 2 changes nothing.
    rows = [
        (OVERALL, 60, 200.0),
        ((P, ("P1",)), 4, 50.0),
        ((P, ("P2",)), 44, 120.0),
        ((P, ("P3",)), 12, 30.0),
        ((C, ("pilot",)), 24, 110.0),
        ((C, ("comparison",)), 36, 90.0),
        ((PC, ("P1", "pilot")), 4, 50.0),
        ((PC, ("P2", "pilot")), 20, 60.0),
        ((PC, ("P2", "comparison")), 24, 60.0),
        ((PC, ("P3", "comparison")), 12, 30.0),
    ]
    flags = suppress_metric_rows(rows, 11)
    assert hidden(flags) == {
        (P, ("P1",)), (P, ("P3",)),
        (PC, ("P1", "pilot")), (PC, ("P2", "pilot")), (PC, ("P2", "comparison")), (PC, ("P3", "comparison")),
    }
    assert_no_single_subtraction(rows, flags)


def test_two_key_groups_compare_key_by_key() -> None:
    rows = [
        (OVERALL, 100, 300.0),
        ((PC, ("P1", "pilot")), 5, 100.0),
        ((PC, ("P2", "comparison")), 40, 100.0),
        ((PC, ("P1", "comparison")), 40, 100.0),
    ]
    # program_id+cohort vs overall: ties at 100 -> ("P1", "comparison") < ("P2", "comparison").
    flags = suppress_metric_rows(rows, 11)
    assert (PC, ("P1", "comparison")) in hidden(flags)


def test_sets_are_in_spec_order() -> None:
    keys = [OVERALL, (P, ("P2",)), (P, ("P1",)), (A, ("A1",)), (C, ("pilot",)), (C, (None,)),
            (PC, ("P2", "pilot")), (PC, ("P1", None))]
    sets = metric_sets(keys)
    assert [s.total for s in sets] == [
        OVERALL, OVERALL, OVERALL, OVERALL,
        (P, ("P1",)), (P, ("P2",)),
        (C, ("pilot",)), (C, (None,)),
    ]
    assert sets[0].members == ((P, ("P2",)), (P, ("P1",)))
    assert sets[4].members == ((PC, ("P1", None)),)


def test_off_when_k_is_zero() -> None:
    rows = [(OVERALL, 1, 2.0), ((P, ("P1",)), 1, 1.0), ((P, ("P2",)), 0, 1.0)]
    assert hidden(suppress_metric_rows(rows, 0)) == set()


def test_breakdown_set_against_a_published_total() -> None:
    flags = suppress_against_total(
        ("total", False, 100.0),
        [("q1", 3, 30.0, ((0, "q1"),)), ("q2", 20, 40.0, ((0, "q2"),)), ("q3", 15, 30.0, ((0, "q3"),))],
        11,
    )
    # q1 primary; q3 (30) is the smallest published one.
    assert hidden(flags) == {"q1", "q3"}
    # A suppressed total needs no complement.
    flags = suppress_against_total(("total", True, 100.0), [("q1", 3, 30.0, ((0, "q1"),)), ("q2", 20, 70.0, ((0, "q2"),))], 11)
    assert hidden(flags) == {"total", "q1"}


def test_a_suppressed_total_with_every_member_published_suppresses_its_smallest_member() -> None:
    # k = 11; the total counts as one more cell of its set. Primary: P1 and P1-pilot (numerator 4).
    # Pass 1, in SPEC order:
    # - programs vs overall: P1 alone hidden -> smallest published program P2 (20);
    # - cohorts vs overall: nothing hidden;
    # - program+cohort vs overall: P1-pilot alone hidden -> smallest published P3-comparison (18);
    # - P1's cohorts: P1 and P1-pilot hidden;
    # - P2's cohorts {P2-pilot}: the total P2 is hidden while its only member is published (the
    #   same number, 12/20) -> P2-pilot is hidden;
    # - P3's cohorts: P3-comparison alone hidden -> P3-pilot;
    # - comparison's programs {P3-comparison}: the member is hidden -> the total comparison;
    # - pilot's programs: three hidden.
    # Pass 2: cohorts vs overall: comparison alone hidden -> pilot. Pass 3 changes nothing.
    rows = [
        (OVERALL, 56, 135.0),
        ((P, ("P1",)), 4, 15.0),
        ((P, ("P2",)), 12, 20.0),
        ((P, ("P3",)), 40, 100.0),
        ((C, ("pilot",)), 44, 117.0),
        ((C, ("comparison",)), 12, 18.0),
        ((PC, ("P1", "pilot")), 4, 15.0),
        ((PC, ("P2", "pilot")), 12, 20.0),
        ((PC, ("P3", "pilot")), 28, 82.0),
        ((PC, ("P3", "comparison")), 12, 18.0),
    ]
    flags = suppress_metric_rows(rows, 11)
    assert hidden(flags) == {
        (P, ("P1",)), (P, ("P2",)), (C, ("pilot",)), (C, ("comparison",)),
        (PC, ("P1", "pilot")), (PC, ("P2", "pilot")), (PC, ("P3", "pilot")), (PC, ("P3", "comparison")),
    }
    assert_no_single_subtraction(rows, flags)


def test_a_suppressed_total_of_several_published_members() -> None:
    # Two cells a, b (30 and 20) against a total withheld elsewhere (fixed):
    # exactly one cell of {total, a, b} is hidden -> the smaller member b is hidden.
    state = {"total": True, "a": False, "b": False}
    dens = {"total": 50.0, "a": 30.0, "b": 20.0}
    keys = {c: ((0, c),) for c in state}
    out = complementary_suppression(state, dens, keys, [AdditiveSet("total", ("a", "b"))], fixed={"total"})
    assert hidden(out) == {"total", "b"}


def test_fixed_cells_are_never_changed() -> None:
    # One member q1 hidden, the other member fixed published: the complement falls on the total
    # unless it is fixed too, in which case nothing can change.
    state = {"t": False, "q1": True, "q2": False}
    dens = {"t": 50.0, "q1": 5.0, "q2": 45.0}
    keys = {c: ((0, c),) for c in state}
    sets = [AdditiveSet("t", ("q1", "q2"))]
    assert hidden(complementary_suppression(state, dens, keys, sets, fixed={"q2"})) == {"q1", "t"}
    assert hidden(complementary_suppression(state, dens, keys, sets, fixed={"q2", "t"})) == {"q1"}


def assert_no_single_subtraction(rows: list, flags: dict) -> None:
    """In every additive set, the total counting as one more cell, never exactly one cell is hidden."""
    for s in metric_sets([r[0] for r in rows]):
        if not s.members:
            continue
        n_hidden = sum(flags[m] for m in s.members)
        assert n_hidden + flags[s.total] != 1, s
