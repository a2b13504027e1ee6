"""Data stewardship: can the numbers be trusted, and if not, which partner must fix what?

Streamlit-free. Everything here reads the load audit (``load_runs``,
``load_files``, ``quarantine``, ``load_issues``) and the loaded tables, and
answers a steward's questions:

* **status** — per table and per submitting agency: ``fail`` (rows are held
  in quarantine and missing from the dashboard), ``warn`` (warnings on loaded
  rows, or a check across loads fired) or ``pass``;
* **findings** — each rule broken, in plain words, with counts;
* **quarantine** — the rejected rows with their delivered values (steward
  only), filters, CSV export, and export for reprocessing;
* **history** — every load run with its rejection rate;
* **partner scorecard** — completeness, validity, timeliness, top rules;
* **check --db** — the data-quality suites and the checks across loads over a
  loaded database, with exit codes a scheduler can act on.

Row-level data leave this module only for a steward or an admin: functions
that return rows take the principal (or a bare role name) and raise
:class:`dashboard.roles.AccessRefused` otherwise; a steward limited to a set
of agencies gets only the rows whose submitting agency (the scorecard's
attribution, ``submitting_agency_id``) is in the set. :func:`read_audit`
read as a viewer does not even hold the delivered values, record keys, file
names or line numbers.

Definitions used throughout:

* A quarantine entry is **open** while its ``resolved_run_id`` is empty and
  it belongs to a ``load`` or ``reprocess`` run. Loading the same bad extract
  twice quarantines the same row twice; the open count keeps, for each record
  — per (table, record key), or per (table, delivered values) when the key
  itself is missing — only the entries of the latest run that quarantined it
  (within one run, the differing copies of a key are each a row to fix).
* **Current warnings** are computed from the loaded tables (a second
  implementation of the loader's warnings, see :func:`current_warnings`), so
  a corrected row stops warning once it is reloaded; the ``load_issues`` of
  each run stay as history.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import polars as pl
import sqlalchemy as sa

from dashboard import contract, store
from dashboard.contract import TABLE_NAMES, TABLES_BY_NAME, describe_rule
from dashboard.quality_checks import (
    ACTIVITY_DATE_COLUMN,
    SUBMITTING_AGENCY_COLUMN,
    UNASSIGNED,
    Thresholds,
    describe_distribution,
    describe_volume,
    drift_checks,
    freshness,
    load_thresholds,
    referrals_after_exit,
)
from dashboard.roles import (
    STEWARD,
    VIEWER,
    Principal,
    Role,
    agency_limit,
    as_principal,
    require_steward,
)
from data_checks.levels import EXCLUDED, level_of

Status = Literal["pass", "warn", "fail", "not_loaded"]
LOADING_KINDS = ("load", "reprocess")

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_CANNOT_RUN = 2
DEFAULT_DOCS_DIR = Path("data_docs")  # the same folder `check DIR` writes to


# --- reading the audit ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Audit:
    """The load audit as polars frames, read once.

    ``quarantine`` carries ``rules`` as a list, ``agency_id`` (the submitting
    agency, ``(unassigned)`` when unknown), ``identity`` (record identity for
    the open count), ``started_at`` and ``kind`` of its run, ``open``. For a
    viewer it holds no ``raw_values``, ``reasons``, ``record_key``, file or
    line (``identity`` is then a digest), and ``load_issues`` holds no
    record key, file or line either.
    """

    role: Role
    load_runs: pl.DataFrame
    load_files: pl.DataFrame
    quarantine: pl.DataFrame
    load_issues: pl.DataFrame

    @property
    def latest_load(self) -> dict[str, Any] | None:
        """The most recent run of kind ``load`` (by start time), or None."""
        loads = self.load_runs.filter(pl.col("kind") == "load")
        if loads.height == 0:
            return None
        return loads.sort("started_at", descending=True).row(0, named=True)

    @property
    def as_of(self) -> dt.date | None:
        latest = self.latest_load
        return latest["as_of"] if latest else None


_ROW_LEVEL_COLUMNS = ("raw_values", "reasons", "record_key", "line_number", "source_file")


def read_audit(engine: sa.engine.Engine, role: Role | Principal = VIEWER) -> Audit:
    """Read the four audit tables. A viewer's copy leaves out the row-level columns."""
    with store.connect(engine) as conn:
        runs = store.read_table(conn, "load_runs")
        files = store.read_table(conn, "load_files")
        quarantine = store.read_table(conn, "quarantine")
        issues = store.read_table(conn, "load_issues")
    return build_audit(runs, files, quarantine, issues, role=role)


def build_audit(
    runs: pl.DataFrame,
    files: pl.DataFrame,
    quarantine: pl.DataFrame,
    issues: pl.DataFrame,
    *,
    role: Role | Principal = VIEWER,
) -> Audit:
    """Derive the columns every view needs (see :class:`Audit`)."""
    row_level = as_principal(role).row_level
    run_info = runs.select("run_id", "kind", "started_at")
    q = quarantine.join(run_info, on="run_id", how="left").with_columns(
        pl.col("rules").str.json_decode(pl.List(pl.String)).alias("rules"),
        pl.col("submitting_agency_id").fill_null(UNASSIGNED).alias("agency_id"),
        pl.when(pl.col("record_key").is_not_null())
        .then(pl.lit("key:") + pl.col("record_key"))
        .otherwise(pl.lit("raw:") + pl.col("raw_values").hash().cast(pl.String))
        .alias("identity"),
    )
    q = _mark_open(q)
    issues = issues.join(run_info, on="run_id", how="left")
    if not row_level:
        # A viewer's copy: the identity becomes a digest (it counts records, it names none), and
        # nothing points back at a record or a line of a partner's file.
        q = q.drop([c for c in _ROW_LEVEL_COLUMNS if c in q.columns]).with_columns(
            pl.col("identity").hash().cast(pl.String).alias("identity")
        )
        issues = issues.drop([c for c in ("record_key", "line_number", "source_file", "message") if c in issues.columns])
    return Audit(role=STEWARD if row_level else VIEWER, load_runs=runs.sort("started_at"), load_files=files, quarantine=q, load_issues=issues)


def _mark_open(q: pl.DataFrame) -> pl.DataFrame:
    """``open``: unresolved, from a loading run, and from the latest run that quarantined its record.

    Within one run every entry counts (the two differing copies of a key are
    two rows to fix); across runs only the latest run's entries of a record do.
    """
    if q.height == 0:
        return q.with_columns(pl.lit(False).alias("open"))
    candidate = pl.col("resolved_run_id").is_null() & pl.col("kind").is_in(list(LOADING_KINDS))
    q = q.with_row_index("_i")
    pending = q.filter(candidate)
    latest = (
        pending.sort("started_at", "run_id", descending=[True, True], nulls_last=True)
        .unique(subset=["table_name", "identity"], keep="first")
        .select("table_name", "identity", pl.col("run_id").alias("_latest_run"))
    )
    open_ids = pending.join(latest, on=["table_name", "identity"]).filter(pl.col("run_id") == pl.col("_latest_run"))
    return q.with_columns(pl.col("_i").is_in(open_ids["_i"].implode()).alias("open")).drop("_i")


# --- current warnings (second implementation of the loader's warnings) ---------------


def current_warnings(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Warnings that hold for the rows now loaded: table, rule, record_key, agency_id.

    SPEC §2: supervision events, violations and referrals dated before the
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


def _file_warnings(audit: Audit) -> pl.DataFrame:
    """Unknown-column warnings of the latest loading run of each table."""
    latest = _latest_runs_per_table(audit)
    issues = audit.load_issues.filter(pl.col("rule").str.starts_with(contract.WARN_UNKNOWN_COLUMN))
    return issues.join(latest.select("table_name", "run_id"), on=["table_name", "run_id"], how="inner").select(
        pl.col("table_name").alias("table"), "rule", pl.lit(None, pl.String).alias("record_key"),
        pl.lit(UNASSIGNED).alias("agency_id"),
    )


def _latest_runs_per_table(audit: Audit) -> pl.DataFrame:
    """The latest ``load`` run that delivered a file for each table (table_name, run_id, started_at)."""
    runs = audit.load_runs.filter(pl.col("kind") == "load").select("run_id", "started_at")
    return (
        audit.load_files.join(runs, on="run_id", how="inner")
        .sort("started_at", descending=True)
        .unique(subset=["table_name"], keep="first")
    )


# --- checks across loads ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CrossLoadResult:
    """The checks across loads for one reference date (see dashboard.quality_checks)."""

    as_of: dt.date
    freshness: pl.DataFrame
    volume: pl.DataFrame
    distribution: pl.DataFrame
    referrals_after_exit: pl.DataFrame
    groupings: pl.DataFrame | None  # None: metric engine not available
    groupings_note: str = ""

    def findings(self) -> pl.DataFrame:
        """One row per warning: check, table, agency_id, detail."""
        rows: list[dict[str, Any]] = []
        for r in self.freshness.filter(pl.col("status") == "stale").iter_rows(named=True):
            rows.append({
                "check": "freshness", "table": "*", "agency_id": r["agency_id"],
                "detail": f"latest record {r['latest_record_date']}, {r['days_since_latest']} days before "
                          f"{self.as_of}; expected at least every {r['cadence_days']} days",
            })
        for r in self.volume.filter(pl.col("status") != "ok").iter_rows(named=True):
            rows.append({
                "check": "volume_drift", "table": r["table"], "agency_id": r["agency_id"],
                "detail": describe_volume(r), "test": r["test"], "p_value": r["p_value"], "q_value": r["q_value"],
                "effect": f"{r['rows']} rows against {r['expected_rows']:.1f} expected",
            })
        for r in self.distribution.filter(pl.col("status") == "drift").iter_rows(named=True):
            rows.append({
                "check": "distribution_drift", "table": r["table"], "agency_id": r["agency_id"],
                "detail": describe_distribution(r), "test": r["test"], "p_value": r["p_value"],
                "q_value": r["q_value"],
                "effect": f"{r['column']} = {r['value']}: {r['change'] * 100:+.1f} percentage points",
            })
        per_agency = self.referrals_after_exit.group_by("agency_id").len("n").sort("agency_id")
        for r in per_agency.iter_rows(named=True):
            rows.append({
                "check": "consistency:referral_after_exit", "table": "referrals", "agency_id": r["agency_id"],
                "detail": f"{r['n']} referral(s) dated after the participant's exit",
            })
        if self.groupings is not None:
            for r in self.groupings.iter_rows(named=True):
                rows.append({
                    "check": "consistency:groupings", "table": "*", "agency_id": "*",
                    "detail": f"{r['metric']} by {r['group_by']} sums to {r['numerator']}/{r['denominator']}, "
                              f"overall is {r['overall_numerator']}/{r['overall_denominator']}",
                })
        schema = {
            "check": pl.String, "table": pl.String, "agency_id": pl.String, "detail": pl.String,
            "test": pl.String, "p_value": pl.Float64, "q_value": pl.Float64, "effect": pl.String,
        }
        out = pl.DataFrame(rows, schema=schema)
        keep = [level_of(c) != EXCLUDED for c in out["check"]]
        return out.filter(pl.Series(keep, dtype=pl.Boolean)) if out.height else out


def cross_load_checks(
    tables: Mapping[str, pl.DataFrame],
    as_of: dt.date,
    thresholds: Thresholds | None = None,
    *,
    with_groupings: bool = True,
) -> CrossLoadResult:
    """Run every check across loads on the loaded tables for the reference date.

    ``thresholds`` default: :func:`dashboard.quality_checks.load_thresholds`.
    """
    thresholds = thresholds or load_thresholds()
    groupings, note = (None, "not run")
    if with_groupings:
        groupings, note = _grouping_check(tables, as_of)
    # one false-discovery control over every volume and distribution comparison of this run
    volume, distribution = drift_checks(tables, as_of, thresholds)
    return CrossLoadResult(
        as_of=as_of,
        freshness=freshness(tables, as_of, thresholds),
        volume=volume,
        distribution=distribution,
        referrals_after_exit=referrals_after_exit(tables),
        groupings=groupings,
        groupings_note=note,
    )


def _grouping_check(tables: Mapping[str, pl.DataFrame], as_of: dt.date) -> tuple[pl.DataFrame | None, str]:
    """Every grouping adds up to the overall row, through the metric engine when installed."""
    try:
        from dashboard.metrics import engine as metric_engine  # type: ignore[attr-defined]
    except ImportError:
        return None, "the metric engine (dashboard.metrics.engine) is not installed; grouping totals not checked"
    compute = getattr(metric_engine, "compute_metrics", None)
    if compute is None:
        return None, "dashboard.metrics.engine has no compute_metrics; grouping totals not checked"
    from dashboard.metrics.tables import Filters, Tables
    from dashboard.quality_checks import grouping_consistency

    frames = {name: tables[name] for name in TABLE_NAMES if name in tables}
    try:
        result = compute(Tables.from_frames(**frames), Filters(as_of=as_of), min_cell_size=0)
    except TypeError:
        result = compute(Tables.from_frames(**frames), Filters(as_of=as_of))
    frame = result if isinstance(result, pl.DataFrame) else getattr(result, "frame", None)
    if frame is None or "group_by" not in frame.columns:
        return None, "the metric engine's output has no group_by column; grouping totals not checked"
    # Costs and caseload do not add up by design (a program without pilot participants, an agency
    # without officer time has no row, yet counts overall): check only the measures that do.
    from dashboard.metrics.registry import METRICS_BY_ID

    additive = [m for m, d in METRICS_BY_ID.items() if getattr(d, "groupings_add_up", True)]
    frame = frame.filter(pl.col("metric").is_in(additive))
    gb = frame["group_by"]
    if gb.dtype != pl.String:
        frame = frame.with_columns(pl.col("group_by").list.join(","))
    return grouping_consistency(frame.select("metric", "group_by", "numerator", "denominator")), "checked"


# --- status, findings, history ---------------------------------------------------------------


def _open(audit: Audit) -> pl.DataFrame:
    return audit.quarantine.filter(pl.col("open"))


def table_status(audit: Audit, warnings: pl.DataFrame, cross: CrossLoadResult | None = None) -> pl.DataFrame:
    """One row per contract table: latest load numbers, open rejections, current warnings, status."""
    latest = _latest_runs_per_table(audit)
    open_counts = _open(audit).group_by("table_name").len("open_rejections")
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
    open_counts = _open(audit).group_by("agency_id").len("open_rejections")
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
        _open(audit).select("table_name", "agency_id", "rules").explode("rules")
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


def _filtered(audit: Audit, f: QuarantineFilter, principal: Principal | None = None) -> pl.DataFrame:
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
    q = _filtered(audit, f).select("table_name", "agency_id", "rules").explode("rules").rename({"rules": "rule"})
    if f.rules:
        q = q.filter(pl.col("rule").is_in(list(f.rules)))
    return q.group_by("table_name", "agency_id", "rule").len("rows").with_columns(
        pl.col("rows").cast(pl.Int64)
    ).sort(["rows", "table_name", "agency_id", "rule"], descending=[True, False, False, False])


def _require_rows(audit: Audit, role: Principal | str, what: str) -> Principal:
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
    principal = _require_rows(audit, role, "The quarantine browser")
    q = _filtered(audit, f, principal)
    return q.select(
        "run_id", "started_at", "table_name", "source_file", "line_number", "record_key", "agency_id",
        pl.col("rules").list.join("; ").alias("rules"), "reasons", "resolved_run_id", "open", "raw_values",
    ).sort("table_name", "started_at", "line_number")


def example_rows(audit: Audit, role: Principal | str, table: str, rule: str, limit: int = 3) -> pl.DataFrame:
    """Up to ``limit`` open rejected rows of ``table`` that broke ``rule``, values spread into columns."""
    _require_rows(audit, role, "Example rejected rows")
    rows = quarantine_rows(audit, role, QuarantineFilter(tables=(table,), rules=(rule,))).head(limit)
    return expand_raw_values(rows, table)


def raw_value_frame(raw_values: Sequence[str], table: str) -> pl.DataFrame:
    """The delivered values of ``table`` rows, one column per contract column, as delivered (text).

    The loader keeps each row as a JSON object; its keys are the contract
    column names or the delivered headers, which match the contract
    case-insensitively after trimming (SPEC §2), so both are accepted.
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
    from dashboard.export import table_to_csv  # neutralises text a spreadsheet would run as a formula

    return table_to_csv(rows.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S")))


# --- reprocessing ---------------------------------------------------------------------------


def reprocessing_csv(audit: Audit, role: Principal | str, table: str, f: QuarantineFilter | None = None) -> str:
    """Open quarantined rows of ``table`` as a contract-shaped CSV with the delivered values.

    The file has exactly the contract's columns in contract order (unknown
    delivered columns are left out), one row per open entry, values as the
    partner sent them — so the steward (or the partner) fixes the cells that
    broke a rule and loads the file back through the normal loader.
    """
    _require_rows(audit, role, "Exporting quarantined rows for reprocessing")
    if table not in TABLES_BY_NAME:
        raise ValueError(f"unknown table {table!r}; expected one of {', '.join(TABLE_NAMES)}")
    base = f or QuarantineFilter()
    f = QuarantineFilter(tables=(table,), rules=base.rules, agencies=base.agencies, run_ids=base.run_ids, state="open")
    rows = quarantine_rows(audit, role, f).sort("line_number")
    values = raw_value_frame(rows["raw_values"].to_list(), table)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(values.columns)
    for record in values.iter_rows():
        writer.writerow(["" if v is None else v for v in record])
    return buf.getvalue()


def write_reprocessing_extract(
    audit: Audit, role: Principal | str, directory: Path, tables: Sequence[str] | None = None
) -> list[Path]:
    """Write ``<table>.csv`` for every table with open quarantine, plus an ``AS_OF`` file.

    ``AS_OF`` carries the as-of date of the latest load, so the fixed rows are
    judged against the same date as the extract they came from (the loader
    reads it, docs/stewardship.md). Returns the files written. The folder is
    made readable by its owner only (0700) and each file 0600: they hold
    row-level partner data. A steward limited to agencies gets only the rows
    of their agencies.
    """
    principal = _require_rows(audit, role, "Exporting quarantined rows for reprocessing")
    from dashboard.private_files import private_directory, write_private_text

    private_directory(directory)
    open_tables = sorted(set(_filtered(audit, QuarantineFilter(), principal)["table_name"].to_list()),
                         key=TABLE_NAMES.index)
    written: list[Path] = []
    for table in tables or open_tables:
        if table not in open_tables:
            continue
        path = directory / f"{table}.csv"
        write_private_text(path, reprocessing_csv(audit, principal, table))
        written.append(path)
    if audit.as_of is not None:
        write_private_text(directory / "AS_OF", audit.as_of.isoformat() + "\n")
        written.append(directory / "AS_OF")
    return written


def reprocess(engine: sa.engine.Engine, role: Principal | str, directory: Path, *, as_of: dt.date | None = None) -> Any:
    """Load a directory of fixed rows through the normal loader (steward only).

    The loader validates them like any extract, upserts the valid ones and
    marks the quarantine entries of the same keys resolved; nothing is
    deleted, and the run appears in the history next to the one that
    rejected them. Returns the loader's report.
    """
    require_steward(role, "Reprocessing quarantined rows")
    from dashboard.ingest import load_extract

    return load_extract(directory, engine, as_of=as_of)


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
    open_q = _open(audit)
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
    from dashboard.export import table_to_csv

    return table_to_csv(scorecard.with_columns(pl.col(pl.Float64).round(4)))


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
    warnings = pl.concat([current_warnings(tables), _file_warnings(audit)])
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
    from dashboard.metrics.tables import load_tables

    loaded = load_tables(engine)
    return {name: getattr(loaded, name) for name in TABLE_NAMES}


def quality_summary(engine: sa.engine.Engine, *, thresholds: Thresholds | None = None) -> QualitySummary:
    """Read the database and summarise it (aggregates only; any role)."""
    return summarize(read_audit(engine, VIEWER), read_tables(engine), thresholds=thresholds)


# --- check --db ----------------------------------------------------------------------------


@dataclass
class DatabaseCheckReport:
    """What ``check --db`` found. ``exit_code``: 0 clean, 1 findings, 2 could not run."""

    source: str
    as_of: dt.date | None = None
    exit_code: int = EXIT_CLEAN
    error: str | None = None
    rows_checked: dict[str, int] = field(default_factory=dict)
    #: failed data-quality expectations on loaded rows: table, rule, rows
    expectation_failures: list[dict[str, Any]] = field(default_factory=list)
    #: loaded rows whose foreign key matches no loaded parent: table, rule, rows
    integrity_failures: list[dict[str, Any]] = field(default_factory=list)
    open_quarantine: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)  # "table rule" -> rows
    cross_load: list[dict[str, Any]] = field(default_factory=list)
    groupings_note: str = ""
    docs_index: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "exit_code": self.exit_code,
            "error": self.error,
            "rows_checked": self.rows_checked,
            "expectation_failures": self.expectation_failures,
            "integrity_failures": self.integrity_failures,
            "open_quarantine": self.open_quarantine,
            "warnings": self.warnings,
            "cross_load": self.cross_load,
            "groupings": self.groupings_note,
            "data_docs": self.docs_index,
        }

    def to_text(self) -> str:
        if self.error:
            return f"check could not run on {self.source}: {self.error}"
        lines = [f"Data-quality check of {self.source} (as of {self.as_of})"]
        checked = ", ".join(f"{t} {n}" for t, n in self.rows_checked.items() if n)
        lines.append("  rows checked: " + (checked or "none (the tables are empty)"))
        if self.expectation_failures or self.integrity_failures:
            lines.append("  FAILED on loaded rows:")
            for f in self.expectation_failures + self.integrity_failures:
                lines.append(f"    {f['table']}: {describe_rule(f['rule'], f['table'])} — {f['rows']} row(s) [{f['rule']}]")
        if self.open_quarantine:
            lines.append("  rows still in quarantine (not on the dashboard):")
            for t, n in self.open_quarantine.items():
                lines.append(f"    {t}: {n}")
        if self.warnings:
            lines.append("  warnings on loaded rows:")
            for k, n in self.warnings.items():
                t, r = k.split(" ", 1)
                lines.append(f"    {t}: {describe_rule(r, t)} — {n} row(s)")
        if self.cross_load:
            lines.append("  checks across loads:")
            for f in self.cross_load:
                lines.append(f"    {f['check']} {f['table']} {f['agency_id']}: {f['detail']}")
        if self.groupings_note and self.groupings_note != "checked":
            lines.append(f"  note: {self.groupings_note}")
        if self.docs_index:
            lines.append(f"  data docs: {self.docs_index}")
        verdict = {EXIT_CLEAN: "clean", EXIT_FINDINGS: "findings to review"}.get(self.exit_code, "could not run")
        lines.append(f"Result: {verdict} (exit code {self.exit_code})")
        return "\n".join(lines)


def as_delivered_text(table: str, rows: pl.DataFrame) -> pl.DataFrame:
    """Loaded rows written back as the text a CSV would carry (the suites' input).

    Dates as YYYY-MM-DD, booleans as true/false, whole numbers as digits; the
    line number is the row position + 2 (header is line 1).
    """
    from dashboard.readers import LINE

    t = TABLES_BY_NAME[table]
    exprs = []
    for col in t.columns:
        e = pl.col(col.name)
        if col.type == "date":
            e = e.dt.strftime("%Y-%m-%d")
        elif col.type == "bool":
            e = pl.when(e).then(pl.lit("true")).when(~e).then(pl.lit("false")).otherwise(None)
        else:
            e = e.cast(pl.String)
        exprs.append(e.alias(col.name))
    return rows.select(exprs).with_row_index(LINE, offset=2).with_columns(pl.col(LINE).cast(pl.Int64))


def integrity_failures(tables: Mapping[str, pl.DataFrame]) -> list[dict[str, Any]]:
    """Foreign keys of loaded rows that match no loaded parent (the embedded
    database declares no foreign keys, so this is the only place that sees them)."""
    out: list[dict[str, Any]] = []
    for t in contract.TABLES:
        rows = tables.get(t.name)
        if rows is None or rows.height == 0:
            continue
        for col in t.foreign_keys:
            parent = TABLES_BY_NAME[str(col.references)]
            parent_rows = tables.get(parent.name)
            keys = parent_rows[parent.key] if parent_rows is not None else pl.Series([], dtype=pl.String)
            bad = rows.filter(pl.col(col.name).is_not_null() & ~pl.col(col.name).is_in(keys.implode())).height
            if bad:
                out.append({"table": t.name, "rule": contract.rule_id(contract.RULE_FK, col.name), "rows": bad})
    return out


def run_suites(
    tables: Mapping[str, pl.DataFrame], as_of: dt.date, docs_dir: Path | None = None
) -> tuple[dict[str, int], list[dict[str, Any]], str | None]:
    """The contract's Great Expectations suites over every loaded table (pandas via polars).

    Returns rows checked per table, the failed expectations and the data docs
    index (when ``docs_dir`` is given).
    """
    from dashboard.validation import validation_frame
    from data_checks.suites import SuiteRunner

    runner = SuiteRunner(as_of, docs_dir)
    checked: dict[str, int] = {}
    failures: list[dict[str, Any]] = []
    for t in contract.TABLES:
        rows = tables.get(t.name)
        if rows is None or rows.height == 0:
            checked[t.name] = 0
            continue
        frame = validation_frame(t, as_delivered_text(t.name, rows))
        check = runner.validate(t, frame)
        checked[t.name] = rows.height
        for rule, positions in sorted(check.rows_by_rule(frame).items()):
            if positions:
                failures.append({"table": t.name, "rule": rule, "rows": len(positions)})
    index = runner.docs_index()
    return checked, failures, str(index) if index else None


def check_database(
    engine: sa.engine.Engine,
    *,
    docs_dir: Path | None = None,
    as_of: dt.date | None = None,
    thresholds: Thresholds | None = None,
    record: bool = True,
) -> DatabaseCheckReport:
    """Run the data-quality suites and the checks across loads over a loaded database.

    Findings (exit code 1): an expectation failed on loaded rows, a loaded
    foreign key matches no parent, rows are still in quarantine, or a check
    across loads fired. Warnings on loaded rows are reported without
    changing the exit code, as ``load`` does. Exit code 2 when the
    database cannot be opened or holds no schema. With ``record`` the check
    is written to ``load_runs`` (kind ``check``) so the history shows it.
    """
    source = engine.url.render_as_string(hide_password=True)
    report = DatabaseCheckReport(source=source)
    started = dt.datetime.now()
    try:
        if not store.schema_exists(engine):
            report.exit_code = EXIT_CANNOT_RUN
            report.error = (
                "the database has no dashboard schema; load an extract first "
                "(partnership-dashboard load DIR --db URL) or run partnership-dashboard migrate"
            )
            return report
        audit = read_audit(engine, VIEWER)
        tables = read_tables(engine)
    except (store.DatabaseUnavailable, sa.exc.SQLAlchemyError) as exc:
        report.exit_code = EXIT_CANNOT_RUN
        report.error = str(exc).splitlines()[0]
        return report
    report.as_of = as_of or audit.as_of or _latest_record_date(tables) or dt.date.today()
    report.rows_checked, report.expectation_failures, report.docs_index = run_suites(tables, report.as_of, docs_dir)
    report.integrity_failures = integrity_failures(tables)
    summary = summarize(audit, tables, thresholds=thresholds, as_of=report.as_of)
    report.open_quarantine = {
        r["table_name"]: int(r["open_rejections"]) for r in summary.tables.iter_rows(named=True) if r["open_rejections"]
    }
    report.warnings = {
        f"{t} {r}": int(n)
        for t, r, n in summary.warnings.group_by("table", "rule").len("n").sort("table", "rule").iter_rows()
    }
    if summary.cross is not None:
        report.cross_load = summary.cross.findings().to_dicts()
        report.groupings_note = summary.cross.groupings_note
    # Warnings on loaded rows are reported but, as for `load` and `check DIR`, do
    # not change the exit code (docs/stewardship.md, "check --db"): the rows
    # passed, and an extract carrying a few of them every month must not alarm
    # a scheduler every month. The checks across loads do.
    found = (
        report.expectation_failures or report.integrity_failures or report.open_quarantine
        or report.cross_load
    )
    report.exit_code = EXIT_FINDINGS if found else EXIT_CLEAN
    if record:
        _record_check(engine, report, started)
    return report


def _latest_record_date(tables: Mapping[str, pl.DataFrame]) -> dt.date | None:
    # Date columns: each max() is a date, or None when all null (polars types it as any Python value).
    maxima = [
        cast("dt.date | None", tables[t][c].max())
        for t, c in ACTIVITY_DATE_COLUMN.items()
        if t in tables and tables[t].height
    ]
    dates = [d for d in maxima if d is not None]
    return max(dates) if dates else None


def _record_check(engine: sa.engine.Engine, report: DatabaseCheckReport, started: dt.datetime) -> None:
    """Add the check to ``load_runs`` (kind ``check``): history, not data."""
    import uuid

    md = store.metadata_for(engine)
    runs = md.tables["load_runs"]
    n_warn = sum(report.warnings.values()) + len(report.cross_load)
    with engine.begin() as conn:
        conn.execute(
            runs.insert().values(
                run_id=str(uuid.uuid4()),
                kind="check",
                started_at=started,
                finished_at=dt.datetime.now(),
                as_of=report.as_of,
                source=report.source,
                status="passed" if report.exit_code == EXIT_CLEAN else "findings",
                exit_code=report.exit_code,
                validation_success=not (report.expectation_failures or report.integrity_failures),
                rows_read=sum(report.rows_checked.values()),
                rows_loaded=0,
                rows_rejected=0,
                duplicates_dropped=0,
                warnings=n_warn,
                summary_json=json.dumps(report.to_json(), default=str),
            )
        )
