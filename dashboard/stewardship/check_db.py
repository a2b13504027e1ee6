"""check --db: the data-quality checks of a loaded database, their report and their record in the audit."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import polars as pl
import sqlalchemy as sa

from dashboard import contract, store
from dashboard.contract import TABLES_BY_NAME, describe_rule
from dashboard.quality_checks import (
    ACTIVITY_DATE_COLUMN,
    Thresholds,
)
from dashboard.readers import LINE
from dashboard.roles import (
    VIEWER,
)
from dashboard.stewardship.audit import EXIT_CANNOT_RUN, EXIT_CLEAN, EXIT_FINDINGS, read_audit
from dashboard.stewardship.overview import read_tables, summarize
from dashboard.validation import validation_frame

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
