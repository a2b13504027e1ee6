"""Reading the audit: load runs and the quarantine, limited to a principal's agencies (docs/stewardship.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl
import sqlalchemy as sa

from dashboard import store
from dashboard.quality_checks import (
    UNASSIGNED,
)
from dashboard.roles import (
    STEWARD,
    VIEWER,
    Principal,
    Role,
    as_principal,
)

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
