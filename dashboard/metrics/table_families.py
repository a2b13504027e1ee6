"""The list of metric families of the version-2 tables, in output order.

The kinds a family is made of live in :mod:`dashboard.metrics.families`; each
family module (:mod:`dashboard.metrics.operations`, :mod:`dashboard.metrics.surveys`)
declares one or more, and this module only lists them, so that the family
modules and the engine never import each other in a circle.
"""

from __future__ import annotations

import datetime as dt

from dashboard.metrics.families import FamilyRow, TableFamily
from dashboard.metrics.operations import CASELOAD_FAMILY, COST_FAMILY
from dashboard.metrics.surveys import SURVEY_FAMILY
from dashboard.metrics.tables import Filters, Tables


def table_families() -> tuple[TableFamily, ...]:
    """Every family, in output order."""
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
