"""Status per table and agency, findings in plain words, and the load history (docs/stewardship.md)."""

from __future__ import annotations

import polars as pl

from dashboard.contract import TABLE_NAMES, describe_rule
from dashboard.stewardship.across_loads import CrossLoadResult
from dashboard.stewardship.audit import Audit, Status
from dashboard.stewardship.load_warnings import latest_runs_per_table
from data_checks.levels import level_of

# --- status, findings, history ---------------------------------------------------------------


def open_rows(audit: Audit) -> pl.DataFrame:
    return audit.quarantine.filter(pl.col("open"))


def table_status(audit: Audit, warnings: pl.DataFrame, cross: CrossLoadResult | None = None) -> pl.DataFrame:
    """One row per contract table: latest load numbers, open rejections, current warnings, status."""
    latest = latest_runs_per_table(audit)
    open_counts = open_rows(audit).group_by("table_name").len("open_rejections")
    warn_counts = warnings.group_by("table").len("warnings").rename({"table": "table_name"})
    cross_counts = (
        cross.findings().filter(pl.col("table") != "*").group_by("table").len("cross_load_warnings")
        .rename({"table": "table_name"})
        if cross is not None
        else pl.DataFrame(schema={"table_name": pl.String, "cross_load_warnings": pl.UInt32})
    )
    base = pl.DataFrame({"table_name": list(TABLE_NAMES)})
    out = (
        base.join(
            latest.select(
                "table_name", "run_id", "started_at", "rows_read", "rows_loaded", "rows_rejected",
                "duplicates_dropped", "file_rejected",
            ),
            on="table_name", how="left",
        )
        .join(open_counts, on="table_name", how="left")
        .join(warn_counts, on="table_name", how="left")
        .join(cross_counts, on="table_name", how="left")
        .with_columns(pl.col("open_rejections", "warnings", "cross_load_warnings").fill_null(0).cast(pl.Int64))
    )
    return out.with_columns(
        pl.when(pl.col("run_id").is_null() & (pl.col("open_rejections") == 0))
        .then(pl.lit("not_loaded"))
        .when((pl.col("open_rejections") > 0) | pl.col("file_rejected").fill_null(False))
        .then(pl.lit("fail"))
        .when((pl.col("warnings") + pl.col("cross_load_warnings")) > 0)
        .then(pl.lit("warn"))
        .otherwise(pl.lit("pass"))
        .alias("status")
    )


def agency_status(
    audit: Audit,
    warnings: pl.DataFrame,
    agencies: pl.DataFrame,
    cross: CrossLoadResult | None = None,
) -> pl.DataFrame:
    """One row per submitting agency: open rejections, current warnings, cross-load warnings, status."""
    open_counts = open_rows(audit).group_by("agency_id").len("open_rejections")
    warn_counts = warnings.filter(pl.col("record_key").is_not_null()).group_by("agency_id").len("warnings")
    cross_counts = (
        cross.findings().filter(pl.col("agency_id") != "*").group_by("agency_id").len("cross_load_warnings")
        if cross is not None
        else pl.DataFrame(schema={"agency_id": pl.String, "cross_load_warnings": pl.UInt32})
    )
    ids = pl.concat(
        [
            agencies.select("agency_id"),
            open_counts.select("agency_id"),
            warn_counts.select("agency_id"),
            cross_counts.select("agency_id"),
        ]
    ).unique()
    names = agencies.select("agency_id", "agency_name")
    out = (
        ids.join(names, on="agency_id", how="left")
        .join(open_counts, on="agency_id", how="left")
        .join(warn_counts, on="agency_id", how="left")
        .join(cross_counts, on="agency_id", how="left")
        .with_columns(pl.col("open_rejections", "warnings", "cross_load_warnings").fill_null(0).cast(pl.Int64))
    )
    return out.with_columns(
        pl.when(pl.col("open_rejections") > 0)
        .then(pl.lit("fail"))
        .when((pl.col("warnings") + pl.col("cross_load_warnings")) > 0)
        .then(pl.lit("warn"))
        .otherwise(pl.lit("pass"))
        .alias("status")
    ).sort("agency_id")


def overall_status(statuses: pl.Series) -> Status:
    """The worst of several statuses (``not_loaded`` counts as pass)."""
    values = set(statuses.to_list())
    if "fail" in values:
        return "fail"
    if "warn" in values:
        return "warn"
    if values and values <= {"not_loaded"}:
        return "not_loaded"
    return "pass"


def findings(audit: Audit, warnings: pl.DataFrame) -> pl.DataFrame:
    """Each rule broken, in plain words: table, rule, level, description, rows, agencies.

    Errors count open quarantine entries (each rule a row broke counts once);
    warnings count the current warnings. Aggregates only: safe for a viewer.
    """
    errors = (
        open_rows(audit).select("table_name", "agency_id", "rules").explode("rules")
        .rename({"rules": "rule", "table_name": "table"})
    )
    warns = warnings.select("table", "agency_id", "rule")
    combined = pl.concat([errors.select("table", "agency_id", "rule"), warns])
    if combined.height == 0:
        return pl.DataFrame(schema={
            "table": pl.String, "rule": pl.String, "level": pl.String, "description": pl.String,
            "rows": pl.Int64, "agencies": pl.Int64,
        })
    grouped = combined.group_by("table", "rule").agg(
        pl.len().cast(pl.Int64).alias("rows"), pl.col("agency_id").n_unique().cast(pl.Int64).alias("agencies")
    )
    return grouped.with_columns(
        pl.struct("table", "rule").map_elements(
            lambda s: level_of(s["rule"], s["table"]), return_dtype=pl.String).alias("level"),
        pl.struct("table", "rule").map_elements(
            lambda s: describe_rule(s["rule"], s["table"]), return_dtype=pl.String).alias("description"),
    ).select("table", "rule", "level", "description", "rows", "agencies").sort(
        ["level", "rows", "table", "rule"], descending=[False, True, False, False]
    )


def run_history(audit: Audit) -> pl.DataFrame:
    """Every run, oldest first, with its rejection rate and the quarantine entries it resolved."""
    resolved = (
        audit.quarantine.filter(pl.col("resolved_run_id").is_not_null())
        .group_by("resolved_run_id").len("resolved_rows").rename({"resolved_run_id": "run_id"})
    )
    return (
        audit.load_runs.drop("summary_json", strict=False)
        .join(resolved, on="run_id", how="left")
        .with_columns(
            pl.col("resolved_rows").fill_null(0).cast(pl.Int64),
            pl.when(pl.col("rows_read") > 0)
            .then(pl.col("rows_rejected") / pl.col("rows_read"))
            .otherwise(None)
            .alias("rejection_rate"),
        )
        .sort("started_at")
    )


def table_history(audit: Audit) -> pl.DataFrame:
    """Per run and table: rows read, loaded, rejected and the rejection rate (for the trend chart)."""
    runs = audit.load_runs.select("run_id", "kind", "started_at", "as_of")
    return (
        audit.load_files.join(runs, on="run_id", how="inner")
        .with_columns(
            pl.when(pl.col("rows_read") > 0)
            .then(pl.col("rows_rejected") / pl.col("rows_read"))
            .otherwise(None)
            .alias("rejection_rate")
        )
        .select("run_id", "kind", "started_at", "as_of", "table_name", "rows_read", "rows_loaded",
                "rows_rejected", "duplicates_dropped", "warnings", "rejection_rate")
        .sort("started_at", "table_name")
    )
