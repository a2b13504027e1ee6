"""The quarantine browser (steward): filter the open rejections, one delivered value per row."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from dashboard.contract import TABLES_BY_NAME
from dashboard.export import table_to_csv
from dashboard.roles import (
    STEWARD,
    Principal,
    agency_limit,
    require_steward,
)
from dashboard.stewardship.audit import Audit

# --- quarantine browser (steward) ----------------------------------------------------------


@dataclass(frozen=True)
class QuarantineFilter:
    """Which quarantine entries to show. Empty tuples mean all.

    ``state``: ``open`` (unresolved, latest copy of each record), ``unresolved``
    (every unresolved entry, repeated loads included), ``resolved`` or ``all``.
    """

    tables: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()
    state: Literal["open", "unresolved", "resolved", "all"] = "open"


def filtered(audit: Audit, f: QuarantineFilter, principal: Principal | None = None) -> pl.DataFrame:
    q = audit.quarantine
    limit = agency_limit(principal) if principal is not None else None
    if limit is not None:  # a steward limited to agencies: only their agencies' rows, whatever the filter
        q = q.filter(pl.col("agency_id").is_in(sorted(limit)))
    if f.state == "open":
        q = q.filter(pl.col("open"))
    elif f.state == "unresolved":
        q = q.filter(pl.col("resolved_run_id").is_null())
    elif f.state == "resolved":
        q = q.filter(pl.col("resolved_run_id").is_not_null())
    if f.tables:
        q = q.filter(pl.col("table_name").is_in(list(f.tables)))
    if f.agencies:
        q = q.filter(pl.col("agency_id").is_in(list(f.agencies)))
    if f.run_ids:
        q = q.filter(pl.col("run_id").is_in(list(f.run_ids)))
    if f.rules:
        wanted = list(f.rules)
        q = q.filter(pl.col("rules").list.eval(pl.element().is_in(wanted)).list.any())
    return q


def quarantine_counts(audit: Audit, f: QuarantineFilter = QuarantineFilter()) -> pl.DataFrame:
    """Quarantine entries per table, agency and rule for the filter: aggregates, safe for a viewer."""
    q = filtered(audit, f).select("table_name", "agency_id", "rules").explode("rules").rename({"rules": "rule"})
    if f.rules:
        q = q.filter(pl.col("rule").is_in(list(f.rules)))
    return q.group_by("table_name", "agency_id", "rule").len("rows").with_columns(
        pl.col("rows").cast(pl.Int64)
    ).sort(["rows", "table_name", "agency_id", "rule"], descending=[True, False, False, False])


def require_rows(audit: Audit, role: Principal | str, what: str) -> Principal:
    principal = require_steward(role, what)
    if audit.role != STEWARD:
        raise PermissionError(
            f"{what} needs the delivered values, but this audit was read for a {audit.role}; "
            "read it with read_audit(engine, role='steward')."
        )
    return principal


def quarantine_rows(
    audit: Audit, role: Principal | str, f: QuarantineFilter = QuarantineFilter()
) -> pl.DataFrame:
    """The quarantined rows for the filter, with every rule broken and the delivered values (steward only;
    a steward limited to agencies gets only their agencies' rows)."""
    principal = require_rows(audit, role, "The quarantine browser")
    q = filtered(audit, f, principal)
    return q.select(
        "run_id", "started_at", "table_name", "source_file", "line_number", "record_key", "agency_id",
        pl.col("rules").list.join("; ").alias("rules"), "reasons", "resolved_run_id", "open", "raw_values",
    ).sort("table_name", "started_at", "line_number")


def example_rows(audit: Audit, role: Principal | str, table: str, rule: str, limit: int = 3) -> pl.DataFrame:
    """Up to ``limit`` open rejected rows of ``table`` that broke ``rule``, values spread into columns."""
    require_rows(audit, role, "Example rejected rows")
    rows = quarantine_rows(audit, role, QuarantineFilter(tables=(table,), rules=(rule,))).head(limit)
    return expand_raw_values(rows, table)


def raw_value_frame(raw_values: Sequence[str], table: str) -> pl.DataFrame:
    """The delivered values of ``table`` rows, one column per contract column, as delivered (text).

    The loader keeps each row as a JSON object; its keys are the contract
    column names or the delivered headers, which match the contract
    case-insensitively after trimming (docs/data-contract.md), so both are accepted.
    """
    columns = TABLES_BY_NAME[table].column_names
    data: dict[str, list[str | None]] = {c: [] for c in columns}
    for text in raw_values:
        obj = json.loads(text) if text else {}
        by_name = {str(k).strip().lower(): v for k, v in obj.items()}
        for c in columns:
            value = by_name.get(c)
            data[c].append(None if value is None else str(value))
    return pl.DataFrame(data, schema={c: pl.String for c in columns})


def expand_raw_values(rows: pl.DataFrame, table: str) -> pl.DataFrame:
    """``rows`` (of one table) with ``raw_values`` replaced by one column per contract column."""
    values = raw_value_frame(rows["raw_values"].to_list(), table)
    clash = {c: f"value:{c}" for c in values.columns if c in rows.columns}
    return pl.concat([rows.drop("raw_values"), values.rename(clash)], how="horizontal")


def quarantine_csv(audit: Audit, role: Principal | str, f: QuarantineFilter = QuarantineFilter()) -> bytes:
    """The quarantine browser's rows as CSV (UTF-8), for the steward's records or a partner."""
    rows = quarantine_rows(audit, role, f)
    if len(f.tables) == 1:
        rows = expand_raw_values(rows, f.tables[0])

    return table_to_csv(rows.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S")))
