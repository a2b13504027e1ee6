"""The metric families, one module each: every metric's definition and how its units are built.

A family module declares ``FAMILY`` (:class:`dashboard.metrics.kinds.Family`): its metrics
(id, label, definition text, unit, period date, attribution, groupings, breakdowns) and a
builder of their units in the kinds of :mod:`dashboard.metrics.kinds` (rate, median, exposure
rate, money/ratio rows of a version-2 table), plus the dashboard's head counts and rates when
the family has any. The registry collects the definitions in the order of :data:`FAMILIES`;
the engine loops over the families and kinds and never names a metric. Adding a metric is
one family file and its test (see docs/architecture.md, "Adding a metric").
"""

from __future__ import annotations

from dashboard.metrics.families import (
    operations,
    participants,
    partnerships,
    police,
    recidivism,
    referrals,
    reintegration,
    supervision,
    surveys,
)
from dashboard.metrics.kinds import Family
from dashboard.metrics.table_kinds import (
    FamilyRow,
    PeriodCell,
    PeriodGroup,
    TableFamily,
    suppress_against_overall,
    suppress_over_periods,
)

FAMILIES: tuple[Family, ...] = (
    referrals.FAMILY,
    supervision.FAMILY,
    participants.FAMILY,
    recidivism.FAMILY,
    police.FAMILY,
    reintegration.FAMILY,
    operations.FAMILY,
    surveys.FAMILY,
    partnerships.FAMILY,
)
"""Every family, in the output order of the metrics (docs/metrics.md lists them in this order)."""

__all__ = [
    "FAMILIES", "Family", "FamilyRow", "PeriodCell", "PeriodGroup", "TableFamily",
    "family_named", "family_of",
    "suppress_against_overall", "suppress_over_periods",
]


def family_of(metric_id: str) -> Family | None:
    """The family declaring ``metric_id`` (a ``metrics`` metric); None when unknown."""
    for family in FAMILIES:
        if metric_id in family.metric_ids:
            return family
    return None


def family_named(name: str) -> Family:
    """The family called ``name`` (e.g. "participants")."""
    for family in FAMILIES:
        if family.name == name:
            return family
    raise KeyError(f"unknown metric family {name!r}; known: {', '.join(f.name for f in FAMILIES)}")
