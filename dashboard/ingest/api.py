"""The public entry points, ``load_extract`` (validate and load) and ``check_extract`` (validate
only), and the run: every table validated, then the audit and the quarantine written in one
transaction (see ``docs/data-contract.md``)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from dashboard import contract, readers, store
from dashboard.contract import TABLES, Table
from dashboard.ingest.as_of import resolve_as_of
from dashboard.ingest.pipeline import (
    Checks,
    TableOutcome,
    count_warnings,
    no_supervision_warnings,
    process_table,
    without_excluded,
)
from dashboard.ingest.report import DEFAULT_DOCS_DIR, LoadReport, Progress, rule_text
from dashboard.ingest.state import Database, Parents, Writer
from dashboard.readers import LINE, ExtractError
from dashboard.validation import RULES

# --- public API -------------------------------------------------------------------------


def load_extract(
    directory: Path | str,
    engine: sa.engine.Engine,
    *,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Validate every contract file in ``directory`` and load the valid rows into ``engine``.

    All writes (data and audit) happen in one transaction. ``progress`` gets one
    line per table (and is called inside the transaction, after the table's
    rows are written).
    """
    try:
        store.create_schema(engine)
    except (sa.exc.OperationalError, sa.exc.DBAPIError) as exc:
        raise store.DatabaseUnavailable(store.unavailable_message(engine, exc)) from exc
    return _run(Path(directory), engine, as_of=as_of, progress=progress, docs_dir=None)


def check_extract(
    directory: Path | str,
    *,
    as_of: dt.date | None = None,
    docs_dir: Path | str | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Run every rule of ``load`` without a database and write GX HTML data docs.

    Foreign keys are checked against this extract only (nothing is stored).
    """
    docs = Path(docs_dir) if docs_dir is not None else DEFAULT_DOCS_DIR
    return _run(Path(directory), None, as_of=as_of, progress=progress, docs_dir=docs)


def _run(
    directory: Path,
    engine: sa.engine.Engine | None,
    *,
    as_of: dt.date | None,
    progress: Progress | None,
    docs_dir: Path | None,
) -> LoadReport:
    report = LoadReport(directory=directory, as_of=as_of)
    say = progress or (lambda _msg: None)
    try:
        if not directory.is_dir():
            raise ExtractError(f"{directory}: no such directory; give the folder that holds the extract's files")
        report.as_of = resolve_as_of(directory, as_of)
        files = readers.find_files(directory)
        if not files:
            names = ", ".join(f"{t.name}.csv" for t in TABLES[:3])
            raise ExtractError(
                f"{directory}: no contract files found (expected files such as {names}, or .parquet/.xlsx)"
            )
        report.notes.extend(readers.unused_files(directory))
    except ExtractError as exc:
        report.errors.append(str(exc))
        return report
    assert report.as_of is not None
    checks = Checks(report.as_of, docs_dir, hold=engine is not None)
    try:
        return _run_checked(files, report, engine, checks, say)
    finally:
        checks.close()


def _run_checked(
    files: dict[str, Path], report: LoadReport, engine: sa.engine.Engine | None, checks: Checks, say: Progress
) -> LoadReport:
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    run_id = str(uuid.uuid4())
    report.run_id = run_id
    if engine is None:
        try:
            _validate_all(files, report, checks, Database(None), None, say, run_id)
        except ExtractError as exc:
            report.errors.append(str(exc))
        report.docs_index = checks.docs_index()
        return report
    with store.connect(engine) as conn:
        try:
            with conn.begin():
                outcomes = _validate_all(files, report, checks, Database(conn), conn, say, run_id)
                _write_audit(conn, report, outcomes, run_id, started, kind="load")
        except ExtractError as exc:
            report.errors.append(str(exc))
            report.tables.clear()
            return report
    report.wrote_database = True
    return report


def _processing_order(files: dict[str, Path]) -> list[Table]:
    """The tables with a file, parents before the tables that refer to them.

    Tables no other table refers to (referrals, supervision events, violations,
    recidivism events, police contacts) come after every parent, smallest file
    first. The database writes each table while the next is validated; with
    the largest file (typically supervision events, half of all rows)
    validated last, the writer stores the others meanwhile instead of waiting
    for it, and its long write overlaps nothing but the end of the load.
    """
    referenced = {c.references for t in TABLES for c in t.foreign_keys}
    present = [t for t in TABLES if t.name in files]
    parents = [t for t in present if t.name in referenced]
    leaves = [t for t in present if t.name not in referenced]
    return parents + sorted(leaves, key=lambda t: files[t.name].stat().st_size)


def _validate_all(
    files: dict[str, Path],
    report: LoadReport,
    checks: Checks,
    db: Database,
    conn: sa.engine.Connection | None,
    say: Progress,
    run_id: str,
) -> list[TableOutcome]:
    assert report.as_of is not None
    parents = Parents()
    outcomes: list[TableOutcome] = []
    supervised_here: pl.Series | None = None
    writer = Writer(conn, run_id) if conn is not None else None
    try:
        for table in _processing_order(files):
            path = files[table.name]
            delivered = readers.read_file(table.name, path)
            outcome = process_table(delivered, report.as_of, parents, db, checks)
            report.tables[table.name] = outcome.report
            if table.name == "participants":
                db.add_participants(outcome.loaded)
            if table.name == "supervision_events":
                supervised_here = outcome.loaded["participant_id"].unique()
            if writer is not None:
                writer.write(table, outcome.loaded)
            outcome.loaded = outcome.loaded.clear()  # handed over; the writer frees it once written
            outcomes.append(outcome)
            r = outcome.report
            say(
                f"{table.name}: {r.rows_read} read, {r.loaded} {'loaded' if writer else 'valid'}, "
                f"{r.rejected} rejected, {r.duplicates_dropped} duplicates dropped, {r.warnings} warnings"
            )
        checks.release()
        if writer is not None:
            writer.drain()
    finally:
        if writer is not None:
            writer.close()
    # reports in contract order, whatever order the files were worked in
    report.tables = {t.name: report.tables[t.name] for t in TABLES if t.name in report.tables}
    outcomes.sort(key=lambda o: contract.TABLE_NAMES.index(o.report.table))
    # a participant with no supervision events (in this extract or stored)
    participants = next((o for o in outcomes if o.report.table == "participants"), None)
    if participants is not None:
        filled = writer is not None and "supervision_events" in writer.filled_empty
        supervised = db.supervised_participants(supervised_here, filled)
        lonely = no_supervision_warnings(parents, supervised)
        if lonely is not None:
            participants.issues.append(lonely)
            participants.issues[:] = without_excluded(contract.TABLES_BY_NAME["participants"], participants.issues)
            count_warnings(participants.report, participants.issues)
    checks.finish()
    return outcomes


def _write_audit(
    conn: sa.engine.Connection,
    report: LoadReport,
    outcomes: Sequence[TableOutcome],
    run_id: str,
    started: dt.datetime,
    *,
    kind: str,
) -> None:
    assert report.as_of is not None
    files = pl.DataFrame(
        [
            {
                "run_id": run_id,
                "table_name": o.report.table,
                "file_name": o.report.file_name,
                "sha256": o.report.sha256,
                "rows_read": o.report.rows_read,
                "rows_loaded": o.report.loaded,
                "rows_rejected": o.report.rejected,
                "duplicates_dropped": o.report.duplicates_dropped,
                "warnings": o.report.warnings,
                "file_rejected": o.report.file_rejected,
                "missing_columns": ",".join(o.report.missing_columns) or None,
                "validation_success": o.report.validation_success,
            }
            for o in outcomes
        ],
        schema=store.polars_schema("load_files"),
    )
    store.bulk_upsert(conn, "load_files", files)
    for o in outcomes:
        _write_quarantine(conn, o, run_id)
        if o.issues:
            issues = pl.concat([i.select(LINE, "record_key", "rule", "message") for i in o.issues], how="vertical_relaxed")
            frame = issues.select(
                pl.lit(run_id).alias("run_id"),
                pl.lit(o.report.table).alias("table_name"),
                pl.lit(o.report.file_name).alias("source_file"),
                pl.col(LINE).cast(pl.Int64).alias("line_number"),
                pl.col("rule"),
                pl.col("record_key").cast(pl.String),
                pl.col("message"),
            ).unique(subset=["line_number", "rule"], keep="first", maintain_order=True)
            store.bulk_upsert(conn, "load_issues", frame)
    finished = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    runs = store.metadata_for(conn.engine).tables["load_runs"]
    exit_code = report.exit_code
    conn.execute(
        sa.insert(runs).values(
            run_id=run_id,
            kind=kind,
            started_at=started,
            finished_at=finished,
            as_of=report.as_of,
            source=readers.shown_name(report.directory.resolve()),
            status={0: "succeeded", 1: "rejected_rows"}.get(exit_code, "failed"),
            exit_code=exit_code,
            validation_success=all(o.report.validation_success for o in outcomes),
            rows_read=report.total_read,
            rows_loaded=report.total_loaded,
            rows_rejected=report.total_rejected,
            duplicates_dropped=sum(t.duplicates_dropped for t in report.tables.values()),
            warnings=sum(t.warnings for t in report.tables.values()),
            summary_json=json.dumps(report.to_json(), sort_keys=True),
        )
    )


def _reasons_text(quarantine: pl.DataFrame, rule_words: dict[str, str]) -> pl.Expr:
    """Every broken rule in words, one per line; then, for decimals, the form that was wrong."""
    words = pl.col(RULES).list.eval(pl.element().replace_strict(rule_words, default=pl.element())).list.join("\n")
    if "decimal_details" not in quarantine.columns:
        return words
    return pl.when(pl.col("decimal_details").is_null()).then(words).otherwise(
        pl.concat_str([words, pl.col("decimal_details")], separator="\n")
    )


def _write_quarantine(conn: sa.engine.Connection, outcome: TableOutcome, run_id: str) -> None:
    q = outcome.quarantine
    if q.height == 0:
        return
    table = outcome.report.table
    raw = outcome.delivered.raw
    delivered_cols = [c for c in raw.columns if c != LINE]
    raw_json = raw.select(
        pl.col(LINE),
        pl.struct([pl.col(c) for c in delivered_cols]).struct.json_encode().alias("raw_values")
        if delivered_cols
        else pl.lit("{}").alias("raw_values"),
    )
    rule_words = {rule: rule_text(rule, outcome.report) for rule in q[RULES].explode().drop_nulls().unique().to_list()}
    frame = (
        q.join(raw_json, on=LINE, how="left")
        .select(
            pl.lit(run_id).alias("run_id"),
            pl.lit(table).alias("table_name"),
            pl.lit(outcome.report.file_name).alias("source_file"),
            pl.col(LINE).alias("line_number"),
            pl.col("record_key"),
            pl.col("submitting_agency_id"),
            pl.col("raw_values").fill_null("{}"),
            pl.col(RULES).map_elements(lambda rules: json.dumps(list(rules)), return_dtype=pl.String).alias("rules"),
            _reasons_text(q, rule_words).alias("reasons"),
            pl.lit(None, pl.String).alias("resolved_run_id"),
        )
    )
    store.bulk_upsert(conn, "quarantine", frame)
