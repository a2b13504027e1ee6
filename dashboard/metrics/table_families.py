"""The version-2 table families, for callers that ask whether a measure's table holds rows.

Kept for :mod:`dashboard.report`; the families themselves live in
:mod:`dashboard.metrics.families` (operations, surveys).
"""

from __future__ import annotations

from dashboard.metrics import families
from dashboard.metrics.table_kinds import TableFamily


def table_families() -> tuple[TableFamily, ...]:
    """Every version-2 table family, in output order."""
    return tuple(table for family in families.FAMILIES for table in family.tables)


def family_of(metric_id: str) -> TableFamily | None:
    """The table family computing ``metric_id``; None for the metrics of the other kinds."""
    for table in table_families():
        if metric_id in table.metric_ids:
            return table
    return None
