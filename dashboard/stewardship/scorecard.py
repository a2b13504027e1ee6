"""The partner scorecard: each agency's delivery, rejection and timeliness record (docs/stewardship.md)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from dashboard import contract
from dashboard.contract import describe_rule
from dashboard.export import table_to_csv
from dashboard.quality_checks import (
    SUBMITTING_AGENCY_COLUMN,
    UNASSIGNED,
    Thresholds,
    freshness,
)
from dashboard.stewardship.audit import Audit
from dashboard.stewardship.status import open_rows

# --- partner scorecard -----------------------------------------------------------------------


# Optional columns left out of completeness, with the reason: an empty value there is
# an answer, not a gap (the contract makes it conditional or it describes a fact that
# often does not exist).
COMPLETENESS_EXCLUDED: dict[tuple[str, str], str] = {
    ("programs", "end_date"): "empty while the program runs",
    ("agreements", "expires_date"): "empty for open-ended agreements",
    ("participants", "release_date"): "empty for people never incarcerated (probation)",
    ("participants", "reentry_plan_date"): "empty when no release is planned",
    ("participants", "exit_date"): "empty while the person is enrolled",
    ("participants", "exit_reason"): "empty exactly when exit_date is (contract rule)",
    ("participants", "supervising_agency_id"): "it is the attribution column itself",
    ("referrals", "accepted_date"): "required or forbidden by status (contract rule)",
    ("referrals", "service_start_date"): "required or forbidden by status (contract rule)",
    ("referrals", "completed_date"): "required or forbidden by status (contract rule)",
    ("recidivism_events", "source_agency_id"): "it is the attribution column itself",
    ("police_contacts", "program_id"): "empty for contacts outside a program",
    ("police_contacts", "participant_id"): "empty for people who are not participants",
    ("reintegration_checks", "employment"): "a check may record housing only (one of the two is required)",
    ("reintegration_checks", "housing"): "a check may record employment only (one of the two is required)",
    ("surveys", "program_id"): "empty for answers about no particular program",
    ("surveys", "agency_id"): "it is the attribution column itself",
    ("surveys", "participant_id"): "empty for respondents who are not participants (contract rule)",
}


def completeness_columns() -> dict[str, list[str]]:
    """Per table, the optional columns whose filling measures completeness."""
    out: dict[str, list[str]] = {}
    for t in contract.TABLES:
        cols = [c.name for c in t.columns if not c.required and (t.name, c.name) not in COMPLETENESS_EXCLUDED]
        if cols:
            out[t.name] = cols
    return out


def completeness(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Per agency, table and optional column: rows and filled cells."""
    parts = []
    for table, cols in completeness_columns().items():
        rows = tables.get(table)
        if rows is None or rows.height == 0:
            continue
        agency = _submitting_agency(table)
        for col in cols:
            parts.append(
                rows.group_by(agency).agg(
                    pl.len().cast(pl.Int64).alias("cells"),
                    pl.col(col).is_not_null().sum().cast(pl.Int64).alias("filled"),
                ).with_columns(pl.lit(table).alias("table"), pl.lit(col).alias("column"))
            )
    schema = {"agency_id": pl.String, "table": pl.String, "column": pl.String, "cells": pl.Int64, "filled": pl.Int64}
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat([p.select(list(schema)) for p in parts]).sort("agency_id", "table", "column")


def _submitting_agency(table: str) -> pl.Expr:
    """The agency a row of ``table`` is attributed to; "Unassigned" for a table naming none."""
    column = SUBMITTING_AGENCY_COLUMN.get(table)
    if column is None:
        return pl.lit(UNASSIGNED).alias("agency_id")
    return pl.col(column).fill_null(UNASSIGNED).alias("agency_id")


def accepted_rows(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Rows now loaded, per agency (by each table's submitting-agency column)."""
    parts = []
    for table, col in SUBMITTING_AGENCY_COLUMN.items():
        rows = tables.get(table)
        if rows is None or rows.height == 0:
            continue
        parts.append(rows.group_by(pl.col(col).fill_null(UNASSIGNED).alias("agency_id")).len("accepted"))
    if not parts:
        return pl.DataFrame(schema={"agency_id": pl.String, "accepted": pl.Int64})
    return pl.concat(parts).group_by("agency_id").agg(pl.col("accepted").sum().cast(pl.Int64))


def partner_scorecard(audit: Audit, tables: Mapping[str, pl.DataFrame], top: int = 3) -> pl.DataFrame:
    """Per submitting agency: completeness, validity, timeliness and the rules it breaks most.

    * ``completeness`` = filled cells / cells over the optional columns of
      :func:`completeness_columns` in the agency's loaded rows;
    * ``validity`` = accepted / (accepted + open rejections), where accepted
      are the agency's rows now loaded and open rejections its open quarantine
      entries (so a reloaded fix raises it);
    * ``load_lag_days`` = days from the latest load's as-of date to the day it
      was loaded (the extract's delivery delay, shared by the agencies in it);
      ``data_lag_days`` = days from the agency's latest activity record to
      that as-of date (how far behind its own records are);
    * ``top_rules`` = its most broken rules among open entries, in words, with counts.
    """
    comp = completeness(tables).group_by("agency_id").agg(
        pl.col("filled").sum().alias("filled_cells"), pl.col("cells").sum().alias("optional_cells")
    )
    acc = accepted_rows(tables)
    open_q = open_rows(audit)
    rej = open_q.group_by("agency_id").len("open_rejections")
    rules = (
        open_q.select("agency_id", "table_name", "rules").explode("rules")
        .group_by("agency_id", "table_name", "rules").len("n")
        .sort(["agency_id", "n", "table_name", "rules"], descending=[False, True, False, False])
    )
    top_text: dict[str, str] = {}
    for agency_id, group in rules.group_by("agency_id", maintain_order=True):
        parts = [
            f"{t}: {describe_rule(r, t)} ({n})"
            for t, r, n in group.head(top).select("table_name", "rules", "n").iter_rows()
        ]
        top_text[str(agency_id[0])] = "; ".join(parts)
    agencies = tables.get("agencies")
    names = agencies.select("agency_id", "agency_name") if agencies is not None else pl.DataFrame(
        schema={"agency_id": pl.String, "agency_name": pl.String})
    ids = pl.concat([names.select("agency_id"), acc.select("agency_id"), rej.select("agency_id")]).unique()
    latest = audit.latest_load
    as_of = latest["as_of"] if latest else None
    load_lag = (latest["started_at"].date() - as_of).days if latest else None
    fresh = freshness(tables, as_of, Thresholds()) if as_of else None
    out = (
        ids.join(names, on="agency_id", how="left")
        .join(acc, on="agency_id", how="left")
        .join(rej, on="agency_id", how="left")
        .join(comp, on="agency_id", how="left")
        .with_columns(
            pl.col("accepted", "open_rejections", "filled_cells", "optional_cells").fill_null(0).cast(pl.Int64)
        )
        .with_columns(
            pl.when(pl.col("optional_cells") > 0).then(pl.col("filled_cells") / pl.col("optional_cells"))
            .otherwise(None).alias("completeness"),
            pl.when((pl.col("accepted") + pl.col("open_rejections")) > 0)
            .then(pl.col("accepted") / (pl.col("accepted") + pl.col("open_rejections")))
            .otherwise(None).alias("validity"),
            pl.lit(as_of, pl.Date).alias("as_of"),
            pl.lit(load_lag, pl.Int64).alias("load_lag_days"),
        )
    )
    if fresh is not None:
        out = out.join(
            fresh.select("agency_id", pl.col("latest_record_date"), pl.col("days_since_latest").alias("data_lag_days")),
            on="agency_id", how="left",
        )
    else:
        out = out.with_columns(pl.lit(None, pl.Date).alias("latest_record_date"), pl.lit(None, pl.Int64).alias("data_lag_days"))
    out = out.with_columns(
        pl.col("agency_id").replace_strict(top_text, default="", return_dtype=pl.String).alias("top_rules")
    )
    return out.select(
        "agency_id", "agency_name", "accepted", "open_rejections", "validity", "filled_cells", "optional_cells",
        "completeness", "as_of", "load_lag_days", "latest_record_date", "data_lag_days", "top_rules",
    ).sort("agency_id")


def scorecard_csv(scorecard: pl.DataFrame) -> bytes:
    """The partner scorecard as CSV (UTF-8), text neutralised against spreadsheet formulas."""
    return table_to_csv(scorecard.with_columns(pl.col(pl.Float64).round(4)))
