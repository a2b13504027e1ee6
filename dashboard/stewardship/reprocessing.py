"""Reprocessing: write the open quarantine as contract files for fixing, and load the fixed rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from dashboard.contract import TABLE_NAMES, TABLES_BY_NAME
from dashboard.ingest import load_extract
from dashboard.private_files import private_directory, write_private_text
from dashboard.roles import (
    Principal,
    require_steward,
)
from dashboard.stewardship.audit import Audit
from dashboard.stewardship.quarantine import (
    QuarantineFilter,
    filtered,
    quarantine_rows,
    raw_value_frame,
    require_rows,
)

# --- reprocessing ---------------------------------------------------------------------------


def reprocessing_csv(audit: Audit, role: Principal | str, table: str, f: QuarantineFilter | None = None) -> str:
    """Open quarantined rows of ``table`` as a contract-shaped CSV with the delivered values.

    The file has exactly the contract's columns in contract order (unknown
    delivered columns are left out), one row per open entry, values as the
    partner sent them — so the steward (or the partner) fixes the cells that
    broke a rule and loads the file back through the normal loader.
    """
    require_rows(audit, role, "Exporting quarantined rows for reprocessing")
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
    principal = require_rows(audit, role, "Exporting quarantined rows for reprocessing")

    private_directory(directory)
    open_tables = sorted(set(filtered(audit, QuarantineFilter(), principal)["table_name"].to_list()),
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

    return load_extract(directory, engine, as_of=as_of)
