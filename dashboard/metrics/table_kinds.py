"""The money/ratio kind of the version-2 tables: metrics whose rows a family computes whole.

The metrics of ``docs/metrics.md`` that count operations and community voice
(costs, caseload, surveys) are computed by their family modules
(:mod:`dashboard.metrics.families.operations`, :mod:`dashboard.metrics.families.surveys`),
each declaring one :class:`TableFamily` per source table: the metrics it gives, the table
whose stored rows decide whether they are reported at all, how it computes its rows and
how it suppresses them. The engine runs them like every other kind
(:class:`dashboard.metrics.kinds.TableUnits`).

A family reports nothing when its table holds no rows as stored (whatever the
filters and as-of date): version-1 data gives exactly the output it gave before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.metrics.suppression import (
    OVERALL,
    AdditiveSet,
    GroupKey,
    complementary_suppression,
    key_sort_value,
    primary_suppressed,
)
from dashboard.metrics.tables import Filters, Tables

FamilyRow = tuple[str, GroupKey, int | float | None, float, float | None, tuple[float, float] | None]
"""(metric id, group key, numerator, denominator, value, interval) of one output row.
The numerator is a count, or money (a float converted once from the exact sum)."""

SuppressRows = Callable[[Sequence[tuple[GroupKey, int | float | None, float]], int], dict[GroupKey, bool]]
"""(rows of one metric as (key, numerator, denominator), k) -> suppressed flag per key."""


@dataclass(frozen=True)
class TableFamily:
    """Metrics computed whole from one version-2 table (money or ratio numerators)."""

    metric_ids: tuple[str, ...]
    source_table: str
    rows: Callable[[Tables, Filters, dt.date, set[str]], list[FamilyRow]]
    suppress: SuppressRows

    def has_rows(self, tables: Tables) -> bool:
        """Whether the source table holds rows as stored (else its metrics are not reported)."""
        frame = getattr(tables, self.source_table, None)
        return frame is not None and frame.height > 0


def suppress_against_overall(
    rows: Sequence[tuple[GroupKey, int | float | None, float]],
    k: int,
    groupings: Sequence[tuple[str, ...]],
    *,
    numerator_triggers: bool = True,
) -> dict[GroupKey, bool]:
    """Primary then complementary suppression of one metric whose additive sets are
    the groups of each grouping in ``groupings`` against the overall row, visited
    in that order (see ``docs/metrics.md``, small-cell suppression).

    ``numerator_triggers=False`` is for money numerators: only the denominator
    (a count of people) is tested by the primary rule.
    """
    primary: dict[GroupKey, bool] = {}
    for key, num, den in rows:
        counted = int(num) if numerator_triggers and num is not None else None
        primary[key] = primary_suppressed(counted, den, k)
    if k <= 0:
        return primary
    dens = {key: den for key, _, den in rows}
    sort_keys = {key: key_sort_value(key[1]) for key, _, _ in rows}
    sets = [AdditiveSet(OVERALL, tuple(key for key in primary if key[0] == g)) for g in groupings if g]
    return complementary_suppression(primary, dens, sort_keys, sets)


PeriodGroup = tuple[str | None, ...] | None
"""A group of a time series: its key values (a null value is the Unassigned group), or None for all groups."""
PeriodCell = tuple[str, PeriodGroup]
"""(period label, group) of a time-series cell."""


def suppress_over_periods(
    cells: dict[PeriodCell, tuple[int | float | None, float]],
    totals: dict[PeriodGroup, tuple[bool, float]],
    k: int,
    *,
    numerator_triggers: bool = True,
    periods_add_up: bool = True,
) -> tuple[dict[PeriodCell, bool], dict[PeriodGroup, bool]]:
    """Suppression of a time series shown beside the whole-period rows it adds up to.

    ``cells`` maps (period, group) to (numerator, denominator), with group None
    for the period's row over all groups; ``totals`` maps a group (None: all)
    to its whole-period row as already suppressed (flag, denominator). The
    additive sets are: the groups of each period against that period's row,
    and, when ``periods_add_up`` (the records of each period are disjoint, as
    dated answers or completions are), the periods of each group against its
    whole-period row. Each cell is first suppressed on its own, then the
    complementary rule runs over those sets until nothing changes. Returns the
    cells' flags and the totals' flags (a total can only gain suppression).
    """
    state: dict[Any, bool] = {}
    dens: dict[Any, float] = {}
    sort_keys: dict[Any, tuple[tuple[int, str], ...]] = {}
    for key, (num, den) in cells.items():
        counted = int(num) if numerator_triggers and num is not None else None
        state[key] = primary_suppressed(counted, den, k)
        dens[key] = den
        sort_keys[key] = ((0, key[0]), *key_sort_value(key[1] or ()))
    for group, (flag, den) in totals.items():
        state[("__total__", group)] = flag
        dens[("__total__", group)] = den
        sort_keys[("__total__", group)] = ((1, ""),)
    if k > 0:
        periods = sorted({p for p, _ in cells})
        groups = sorted({g for _, g in cells if g is not None}, key=key_sort_value)
        sets: list[AdditiveSet[Any]] = []
        for period in periods:
            members = tuple(c for c in cells if c[0] == period and c[1] is not None)
            if members and (period, None) in cells:
                sets.append(AdditiveSet((period, None), members))
        if periods_add_up:
            for group in [*groups, None]:
                members = tuple(c for c in cells if c[1] == group)
                if members and group in totals:
                    sets.append(AdditiveSet(("__total__", group), members))
        state = complementary_suppression(state, dens, sort_keys, sets)
    return (
        {key: state[key] for key in cells},
        {group: state[("__total__", group)] for group in totals},
    )
