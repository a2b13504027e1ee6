"""The whole picture: status, findings, checks across loads, history and scorecard in one summary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl
import sqlalchemy as sa

from dashboard.contract import TABLE_NAMES
from dashboard.metrics.tables import load_tables
from dashboard.quality_checks import (
    Thresholds,
)
from dashboard.roles import (
    VIEWER,
)
from dashboard.stewardship.across_loads import CrossLoadResult, cross_load_checks
from dashboard.stewardship.audit import Audit, Status, read_audit
from dashboard.stewardship.load_warnings import current_warnings, file_warnings
from dashboard.stewardship.scorecard import partner_scorecard
from dashboard.stewardship.status import (
    agency_status,
    findings,
    overall_status,
    run_history,
    table_history,
    table_status,
)

# --- the whole picture -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class QualitySummary:
    """What the data-quality page and ``check --db`` show, aggregates only."""

    as_of: dt.date | None
    tables: pl.DataFrame  # table_status
    agencies: pl.DataFrame  # agency_status
    findings: pl.DataFrame
    cross: CrossLoadResult | None
    history: pl.DataFrame
    table_history: pl.DataFrame
    scorecard: pl.DataFrame
    warnings: pl.DataFrame = field(repr=False)

    @property
    def status(self) -> Status:
        return overall_status(self.tables["status"])


def summarize(
    audit: Audit,
    tables: Mapping[str, pl.DataFrame],
    *,
    thresholds: Thresholds | None = None,
    as_of: dt.date | None = None,
    with_groupings: bool = True,
) -> QualitySummary:
    """Status per table and agency, findings, checks across loads, history and scorecard."""
    as_of = as_of or audit.as_of
    warnings = pl.concat([current_warnings(tables), file_warnings(audit)])
    cross = cross_load_checks(tables, as_of, thresholds, with_groupings=with_groupings) if as_of else None
    agencies = tables.get("agencies", pl.DataFrame(schema={"agency_id": pl.String, "agency_name": pl.String}))
    return QualitySummary(
        as_of=as_of,
        tables=table_status(audit, warnings, cross),
        agencies=agency_status(audit, warnings, agencies, cross),
        findings=findings(audit, warnings),
        cross=cross,
        history=run_history(audit),
        table_history=table_history(audit),
        scorecard=partner_scorecard(audit, tables),
        warnings=warnings,
    )


def read_tables(engine: sa.engine.Engine) -> dict[str, pl.DataFrame]:
    """Every contract table as a polars frame with contract types."""
    # the checks read the row identifiers too, and name rows by them as plain strings
    loaded = load_tables(engine, all_columns=True, plain_strings=True)
    return {name: getattr(loaded, name) for name in TABLE_NAMES}


def quality_summary(engine: sa.engine.Engine, *, thresholds: Thresholds | None = None) -> QualitySummary:
    """Read the database and summarise it (aggregates only; any role)."""
    return summarize(read_audit(engine, VIEWER), read_tables(engine), thresholds=thresholds)
