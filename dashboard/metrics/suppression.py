"""Small-cell suppression with complementary suppression (docs/metrics.md).

Primary: a row is suppressed when its denominator is below k (violation
rate: participant-months below k) or its numerator is from 1 to k − 1
(k = ``min_cell_size``; 0 turns suppression off).

Complementary: within one metric, the *additive sets* are

1. the groups of each grouping against the overall row, groupings in the
   order program_id, agency_id, cohort, program_id+cohort;
2. the cohorts of one program against that program's row, programs in key
   order;
3. the programs of one cohort against that cohort's row, cohorts in key
   order.

A set's total counts as one more cell of the set: whenever exactly one cell
of a set is suppressed — one member while the total is published, or the
total while every member is published — the published member with the
smallest denominator is suppressed too (ties: lowest group key as a string,
null last; two-key groups compare key by key). A set with a single member
suppresses its total when the member is suppressed, and its member when the
total is suppressed. Sets are visited in that order and the pass repeats
until nothing changes.

The functions here work on plain keys so the same procedure serves the
metric table, the dashboard's breakdowns and the head-count tiles.

Public entry points (stable; other metric families call them):

- :func:`primary_suppressed` — the primary rule for one cell;
- :func:`complementary_suppression` — the complementary rule over any list of
  :class:`AdditiveSet` (optionally with ``fixed`` cells whose state is
  already published elsewhere and must not change);
- :func:`suppress_metric_rows` — primary and complementary suppression of
  one metric's rows (overall and the four groupings), as ``metrics`` prints;
- :func:`metric_sets` — the additive sets of one metric in visiting order;
- :func:`suppress_against_total` / :func:`suppress_two_key` — breakdown cells
  against totals that are already decided.

Everything one dashboard view shows of a metric (its ``metrics`` rows and
every breakdown) is protected as one system by
:mod:`dashboard.metrics.disclosure`, which builds on these functions.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

GroupKey = tuple[tuple[str, ...], tuple[str | None, ...]]
"""(group_by column names, key values): ``((), ())`` is the overall row."""

KeyT = TypeVar("KeyT", bound=Hashable)
"""A cell key: :data:`GroupKey` for metric rows, any hashable key elsewhere."""

OVERALL: GroupKey = ((), ())
GROUPING_ORDER: tuple[tuple[str, ...], ...] = (
    ("program_id",),
    ("agency_id",),
    ("cohort",),
    ("program_id", "cohort"),
)


def primary_suppressed(numerator: int | None, denominator: float, k: int) -> bool:
    """True when the row must be withheld on its own (see module docstring).

    ``numerator`` is None for metrics without one (median days): then only
    the denominator is tested.
    """
    if k <= 0:
        return False
    if denominator < k:
        return True
    return numerator is not None and 1 <= numerator <= k - 1


def key_sort_value(values: Sequence[str | None]) -> tuple[tuple[int, str], ...]:
    """Sort key for group key values: as strings, null last, key by key."""
    return tuple((1, "") if v is None else (0, str(v)) for v in values)


@dataclass(frozen=True)
class AdditiveSet(Generic[KeyT]):
    """A total and the members that add up to it."""

    total: KeyT
    members: tuple[KeyT, ...]


def complementary_suppression(
    suppressed: Mapping[KeyT, bool],
    denominators: Mapping[KeyT, float],
    sort_keys: Mapping[KeyT, tuple[tuple[int, str], ...]],
    sets: Sequence[AdditiveSet[KeyT]],
    fixed: Collection[KeyT] = frozenset(),
) -> dict[KeyT, bool]:
    """Apply the complementary rule over ``sets`` (visited in order) until stable.

    ``suppressed`` holds the primary flags of every row that exists; members
    or totals without a row are ignored (no row means nothing published).
    A set's total is one more cell of the set: when exactly one cell of
    {total} + members is suppressed, the published member with the smallest
    denominator (ties by sort key) is suppressed too; when no member is
    published (a single suppressed member), the total is.

    ``fixed`` names cells whose state was decided elsewhere (for example the
    ``metrics`` rows a breakdown is shown beside): they are never changed, so
    the complement is taken among the other published cells of the set. A
    set whose only published cells are fixed is left as it is.
    """
    state = dict(suppressed)
    changed = True
    while changed:
        changed = False
        for s in sets:
            members = [m for m in s.members if m in state]
            if not members or s.total not in state:
                continue
            hidden = int(state[s.total]) + sum(1 for m in members if state[m])
            if hidden != 1:
                continue
            pick = complement_pick(s.total, members, state, denominators, sort_keys, fixed)
            if pick is None:
                continue
            state[pick] = True
            changed = True
    return state


def complement_pick(
    total: KeyT,
    members: Sequence[KeyT],
    state: Mapping[KeyT, bool],
    denominators: Mapping[KeyT, float],
    sort_keys: Mapping[KeyT, tuple[tuple[int, str], ...]],
    fixed: Collection[KeyT] = frozenset(),
) -> KeyT | None:
    """The cell a set with one suppressed cell suppresses next: its published member
    with the smallest denominator (ties by sort key), else its total; None when
    every published cell is ``fixed``."""
    published = [m for m in members if not state[m] and m not in fixed]
    if published:
        return min(published, key=lambda m: (denominators[m], sort_keys[m]))
    if not state[total] and total not in fixed:
        return total
    return None


def metric_sets(keys: Iterable[GroupKey]) -> list[AdditiveSet[GroupKey]]:
    """The additive sets of one metric, in the visiting order of docs/metrics.md, over existing rows."""
    keys = list(keys)
    by_grouping: dict[tuple[str, ...], list[GroupKey]] = {g: [] for g in GROUPING_ORDER}
    for key in keys:
        if key[0] in by_grouping:
            by_grouping[key[0]].append(key)
    sets = [AdditiveSet(OVERALL, tuple(by_grouping[g])) for g in GROUPING_ORDER]
    pairs = by_grouping[("program_id", "cohort")]
    programs = sorted({k[1][0] for k in by_grouping[("program_id",)]} | {k[1][0] for k in pairs},
                      key=lambda v: key_sort_value((v,)))
    cohorts = sorted({k[1][0] for k in by_grouping[("cohort",)]} | {k[1][1] for k in pairs},
                     key=lambda v: key_sort_value((v,)))
    for p in programs:
        sets.append(AdditiveSet((("program_id",), (p,)), tuple(k for k in pairs if k[1][0] == p)))
    for c in cohorts:
        sets.append(AdditiveSet((("cohort",), (c,)), tuple(k for k in pairs if k[1][1] == c)))
    return sets


def suppress_metric_rows(
    rows: Sequence[tuple[GroupKey, int | None, float]], k: int
) -> dict[GroupKey, bool]:
    """Suppression flags for the rows of one metric: ``(key, numerator, denominator)``."""
    primary = {key: primary_suppressed(num, den, k) for key, num, den in rows}
    if k <= 0:
        return primary
    dens = {key: den for key, _, den in rows}
    sort_keys = {key: key_sort_value(key[1]) for key, _, _ in rows}
    return complementary_suppression(primary, dens, sort_keys, metric_sets(primary))


_Member = tuple[Hashable, int | None, float, tuple[tuple[int, str], ...]]


def _cell_states(
    decided: Mapping[Hashable, tuple[bool, float]], members: Sequence[_Member], k: int
) -> tuple[dict[Hashable, bool], dict[Hashable, float], dict[Hashable, tuple[tuple[int, str], ...]]]:
    """Each cell's suppression, denominator and sort key before the
    complementary pass: totals whose suppression is already decided
    (``decided``: key -> (suppressed, denominator)), then ``members``
    (key, numerator, denominator, sort key) by the primary rule."""
    state: dict[Hashable, bool] = {key: flag for key, (flag, _) in decided.items()}
    dens: dict[Hashable, float] = {key: den for key, (_, den) in decided.items()}
    sort_keys: dict[Hashable, tuple[tuple[int, str], ...]] = {key: () for key in decided}
    for key, num, den, skey in members:
        state[key] = primary_suppressed(num, den, k)
        dens[key] = den
        sort_keys[key] = skey
    return state, dens, sort_keys


def suppress_against_total(
    total: tuple[Hashable, bool, float],
    members: Sequence[_Member],
    k: int,
) -> dict[Hashable, bool]:
    """One additive set: ``members`` (key, numerator, denominator, sort key) vs a
    total whose suppression is already decided (key, suppressed, denominator).

    Used by breakdowns, whose cells add up to the metric's overall row.
    """
    total_key, total_suppressed, total_den = total
    state, dens, sort_keys = _cell_states({total_key: (total_suppressed, total_den)}, members, k)
    if k <= 0:
        return state
    return complementary_suppression(
        state, dens, sort_keys, [AdditiveSet(total_key, tuple(m[0] for m in members))], fixed={total_key}
    )


def suppress_two_key(
    total: tuple[Hashable, bool, float],
    first_totals: Mapping[str | None, tuple[bool, float]],
    members: Sequence[tuple[tuple[str | None, ...], int | None, float, tuple[tuple[int, str], ...]]],
    k: int,
) -> dict[Hashable, bool]:
    """Two-key cells (e.g. quarter x agency) against the overall row and against
    each first-key total as published in the one-key breakdown shown beside them.

    ``first_totals`` maps a first-key value (as a string, or None) to that
    row's (suppressed, denominator); ``members`` are (key, numerator,
    denominator, sort key) with string keys. The cells of one first-key value
    add up to its total, so each such group is an additive set; all cells are
    one set against the overall row. Sets are visited overall first, then
    first keys in key order; the pass repeats until nothing changes.
    """
    decided: dict[Hashable, tuple[bool, float]] = {total[0]: (total[1], total[2])}
    decided.update({("__first__", value): flag_den for value, flag_den in first_totals.items()})
    state, dens, sort_keys = _cell_states(decided, members, k)
    if k <= 0:
        return state
    sets = [AdditiveSet(total[0], tuple(m[0] for m in members))]
    for first in sorted({m[0][0] for m in members}, key=lambda v: key_sort_value((v,))):
        sets.append(AdditiveSet(("__first__", first), tuple(m[0] for m in members if m[0][0] == first)))
    return complementary_suppression(state, dens, sort_keys, sets, fixed=set(decided))
