"""Metric families of the version-2 tables that the engine loops over.

The metrics of ``docs/metrics.md`` that count operations and community voice
(costs, caseload, surveys) are computed by their own modules, each declaring
one :class:`TableFamily`: the metrics it gives, the table whose stored rows
decide whether they are reported at all, how it computes its rows and how it
suppresses them. :func:`dashboard.metrics.engine.compute_metrics` asks every
family of :func:`table_families` for the metrics requested and merges the rows
with its own, so adding a family never changes the engine.

A family reports nothing when its table holds no rows as stored (whatever the
filters and as-of date): version-1 data gives exactly the output it gave before.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dashboard.metrics.suppression import GroupKey
from dashboard.metrics.tables import Filters, Tables

FamilyRow = tuple[str, GroupKey, int | float | None, float, float | None, tuple[float, float] | None]
"""(metric id, group key, numerator, denominator, value, interval) of one output row.
The numerator is a count, or money (a float converted once from the exact sum)."""

SuppressRows = Callable[[Sequence[tuple[GroupKey, int | float | None, float]], int], dict[GroupKey, bool]]
"""(rows of one metric as (key, numerator, denominator), k) -> suppressed flag per key."""


@dataclass(frozen=True)
class TableFamily:
    """Metrics computed from one version-2 table, outside the engine's own families."""

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
    from dashboard.metrics.suppression import (
        OVERALL,
        AdditiveSet,
        complementary_suppression,
        key_sort_value,
        primary_suppressed,
    )

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


@functools.cache
def table_families() -> tuple[TableFamily, ...]:
    """Every family, in output order (imported on first use: the family modules import this one)."""
    from dashboard.metrics.operations import CASELOAD_FAMILY, COST_FAMILY
    from dashboard.metrics.surveys import SURVEY_FAMILY

    return (COST_FAMILY, CASELOAD_FAMILY, SURVEY_FAMILY)


def family_of(metric_id: str) -> TableFamily | None:
    """The family computing ``metric_id``; None for the engine's own metrics."""
    for family in table_families():
        if metric_id in family.metric_ids:
            return family
    return None


def family_rows(tables: Tables, filters: Filters, as_of: dt.date, wanted: set[str]) -> list[FamilyRow]:
    """The rows of every family metric in ``wanted`` whose table holds rows."""
    out: list[FamilyRow] = []
    for family in table_families():
        mine = wanted & set(family.metric_ids)
        if mine and family.has_rows(tables):
            out += family.rows(tables, filters, as_of, mine)
    return out
