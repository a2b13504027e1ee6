"""Current warnings: a second implementation of the loader's warnings, on the stored rows (docs/stewardship.md)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from dashboard import contract
from dashboard.contract import TABLES_BY_NAME
from dashboard.quality_checks import (
    SUBMITTING_AGENCY_COLUMN,
    UNASSIGNED,
)
from dashboard.stewardship.audit import Audit
from data_checks.levels import EXCLUDED, level_of

# --- current warnings (second implementation of the loader's warnings) ---------------


def current_warnings(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Warnings that hold for the rows now loaded: table, rule, record_key, agency_id.

    docs/data-contract.md: supervision events, violations and referrals dated before the
    participant's enrollment or after their exit; participants with no
    supervision events. (Unknown columns are a property of a file, not of a
    row, and are taken from the latest run's load issues instead.)
    """
    parts: list[pl.DataFrame] = []
    participants = tables.get("participants")
    if participants is None or participants.height == 0:
        return pl.DataFrame(schema={"table": pl.String, "rule": pl.String, "record_key": pl.String, "agency_id": pl.String})
    window = participants.select("participant_id", "enrollment_date", "exit_date")
    for table, date_col in contract.ENROLLMENT_WINDOW_WARNINGS.items():
        rows = tables.get(table)
        if rows is None or rows.height == 0:
            continue
        key = TABLES_BY_NAME[table].key
        joined = rows.join(window, on="participant_id", how="inner")
        base = [
            pl.lit(table).alias("table"),
            pl.col(key).alias("record_key"),
            pl.col(SUBMITTING_AGENCY_COLUMN[table]).fill_null(UNASSIGNED).alias("agency_id"),
        ]
        parts.append(
            joined.filter(pl.col(date_col) < pl.col("enrollment_date")).select(
                base[0], pl.lit(contract.WARN_BEFORE_ENROLLMENT).alias("rule"), *base[1:]
            )
        )
        parts.append(
            joined.filter(pl.col("exit_date").is_not_null() & (pl.col(date_col) > pl.col("exit_date"))).select(
                base[0], pl.lit(contract.WARN_AFTER_EXIT).alias("rule"), *base[1:]
            )
        )
    events = tables.get("supervision_events")
    with_events = events["participant_id"].unique() if events is not None else pl.Series([], dtype=pl.String)
    parts.append(
        participants.filter(~pl.col("participant_id").is_in(with_events.implode())).select(
            pl.lit("participants").alias("table"),
            pl.lit(contract.WARN_NO_SUPERVISION_EVENTS).alias("rule"),
            pl.col("participant_id").alias("record_key"),
            pl.col("supervising_agency_id").fill_null(UNASSIGNED).alias("agency_id"),
        )
    )
    out = pl.concat(parts)
    keep = [level_of(r, t) != EXCLUDED for t, r in zip(out["table"], out["rule"])]
    return out.filter(pl.Series(keep, dtype=pl.Boolean)) if out.height else out


def file_warnings(audit: Audit) -> pl.DataFrame:
    """Unknown-column warnings of the latest loading run of each table."""
    latest = latest_runs_per_table(audit)
    issues = audit.load_issues.filter(pl.col("rule").str.starts_with(contract.WARN_UNKNOWN_COLUMN))
    return issues.join(latest.select("table_name", "run_id"), on=["table_name", "run_id"], how="inner").select(
        pl.col("table_name").alias("table"), "rule", pl.lit(None, pl.String).alias("record_key"),
        pl.lit(UNASSIGNED).alias("agency_id"),
    )


def latest_runs_per_table(audit: Audit) -> pl.DataFrame:
    """The latest ``load`` run that delivered a file for each table (table_name, run_id, started_at)."""
    runs = audit.load_runs.filter(pl.col("kind") == "load").select("run_id", "started_at")
    return (
        audit.load_files.join(runs, on="run_id", how="inner")
        .sort("started_at", descending=True)
        .unique(subset=["table_name"], keep="first")
    )
