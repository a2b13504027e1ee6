"""Validated loading of a partner extract (SPEC §2, §4 ``load`` and ``check``).

For every contract file present, in contract order (parents before children):

1. read it as text (:mod:`dashboard.readers`) and apply the lexical rules
   (:mod:`dashboard.validation`): each row gets the ids of the single-row rules
   it breaks;
2. run the table's Great Expectations suite (:mod:`data_checks.suites`) over
   the same values; its outcome is recorded per file and must agree with the
   row rules (a disagreement is reported as an internal error);
3. apply the rules across rows and tables: foreign keys against the parents
   valid in this extract or already in the database, rejected parents
   cascading to their children, the duplicate-key policy, whole-file rejection
   for a missing required column, and the warnings;
4. upsert the valid rows and record the audit rows (``load_runs``,
   ``load_files``, ``quarantine``, ``load_issues``).

Everything a load writes is one database transaction: a crash, a kill or a
database error leaves the database exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import polars as pl
import sqlalchemy as sa

from dashboard import contract, readers, store, validation
from dashboard.contract import TABLES, Table
from dashboard.readers import LINE, DeliveredFile, ExtractError
from dashboard.validation import RULES

EXIT_OK = 0
EXIT_SOME_REJECTED = 1
EXIT_NOTHING_LOADED = 2

DUPLICATE_DROPPED = "duplicate_dropped"
EXAMPLES_PER_REASON = 3
DEFAULT_DOCS_DIR = Path("data_docs")

Progress = Callable[[str], None]


# --- report -----------------------------------------------------------------------


@dataclass
class TableReport:
    """What happened to one table's file; the JSON keys are those of SPEC §4."""

    table: str
    file_name: str
    sha256: str
    rows_read: int = 0
    loaded: int = 0
    rejected: int = 0
    duplicates_dropped: int = 0
    warnings: int = 0
    file_rejected: bool = False
    missing_columns: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    warning_reasons: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[int]] = field(default_factory=dict)
    validation_success: bool | None = None
    unknown_columns: list[str] = field(default_factory=list)
    #: the file had no header row (0 bytes or blank lines only); rejected as a whole
    file_empty: bool = False
    #: why the file's columns may look missing (another separator, old line ends)
    file_hint: str | None = None
    #: contract column -> the delivered headers read as it, when more than one (rejected as a whole)
    duplicate_columns: dict[str, list[str]] = field(default_factory=dict)

    def duplicate_detail(self) -> str:
        """The repeated headers as written, for :func:`contract.describe_rule`."""
        return "; ".join(
            " and ".join(repr(h) for h in headers) + f" ({'both' if len(headers) == 2 else 'all'} read as {name})"
            for name, headers in self.duplicate_columns.items()
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "duplicates_dropped": self.duplicates_dropped,
            "warnings": self.warnings,
            "file_rejected": self.file_rejected,
            "missing_columns": list(self.missing_columns),
            "reasons": dict(sorted(self.reasons.items())),
        }


@dataclass
class LoadReport:
    """The outcome of ``load`` or ``check`` for one extract."""

    directory: Path
    as_of: dt.date | None
    tables: dict[str, TableReport] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    run_id: str | None = None
    wrote_database: bool = False
    docs_index: Path | None = None

    @property
    def total_loaded(self) -> int:
        return sum(t.loaded for t in self.tables.values())

    @property
    def total_rejected(self) -> int:
        return sum(t.rejected for t in self.tables.values())

    @property
    def total_read(self) -> int:
        return sum(t.rows_read for t in self.tables.values())

    @property
    def exit_code(self) -> int:
        """0 all rows loaded, 1 some rows (or a whole file, even an empty one) rejected,
        2 nothing could be loaded."""
        if self.errors or not self.tables:
            return EXIT_NOTHING_LOADED
        if self.total_read > 0 and self.total_loaded == 0:
            return EXIT_NOTHING_LOADED
        if self.total_rejected > 0 or any(t.file_rejected for t in self.tables.values()):
            return EXIT_SOME_REJECTED
        return EXIT_OK

    def to_json(self) -> dict[str, Any]:
        """Exactly the ``load --format json`` object of SPEC §4."""
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "exit_code": self.exit_code,
            "tables": {name: t.to_json() for name, t in self.tables.items()},
        }

    def to_text(self, verb: str = "Loaded") -> str:
        return format_text(self, verb)


# --- as-of and manifest -------------------------------------------------------------


def resolve_as_of(directory: Path, as_of: dt.date | None) -> dt.date:
    """``--as-of``, else manifest.json ``as_of``, else a one-line AS_OF file, else today.

    Raises :class:`ExtractError` for a manifest of another contract version or
    an unreadable date, naming the file and what to fix.
    """
    manifest_path = directory / "manifest.json"
    manifest: dict[str, Any] = {}
    _refuse_outside_link(directory, manifest_path)
    _refuse_outside_link(directory, directory / "AS_OF")
    if manifest_path.exists():
        try:
            loaded = json.loads(manifest_path.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ExtractError(f"{manifest_path}: not valid JSON ({exc}); fix or remove the manifest") from exc
        if not isinstance(loaded, dict):
            raise ExtractError(f"{manifest_path}: expected a JSON object with as_of and contract_version")
        manifest = loaded
        version = manifest.get("contract_version")
        supported = contract.SUPPORTED_CONTRACT_VERSIONS
        allowed = " or ".join(str(v) for v in supported)
        if isinstance(version, str) and version.strip() in {str(v) for v in supported}:
            raise ExtractError(
                f"{manifest_path}: contract_version is the text {version!r}; write it as the number "
                f"{version.strip()} (\"contract_version\": {version.strip()}, no quotes). "
                "Nothing was loaded."
            )
        # bool is an int to Python: ``true`` is no version number
        if version is not None and (isinstance(version, bool) or version not in supported):
            raise ExtractError(
                f"{manifest_path}: the extract follows data contract version {version!r}, but this program "
                f"reads versions {allowed}. Ask the partner for a version {contract.CONTRACT_VERSION} (or "
                f"version 1) extract, or upgrade this program; nothing was loaded."
            )
    if as_of is not None:
        return _in_range(as_of, "--as-of")
    if manifest.get("as_of") is not None:
        return _parse_as_of(str(manifest["as_of"]), f"{manifest_path} (as_of)")
    as_of_file = directory / "AS_OF"
    if as_of_file.exists():
        try:
            text = as_of_file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ExtractError(f"{as_of_file}: not UTF-8 text; write one line holding a date YYYY-MM-DD") from exc
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) != 1:
            raise ExtractError(f"{as_of_file}: expected exactly one line holding a date written YYYY-MM-DD")
        return _parse_as_of(lines[0], str(as_of_file))
    return dt.date.today()


def _parse_as_of(text: str, where: str) -> dt.date:
    import re

    if re.fullmatch(contract.DATE_PATTERN, text.strip()):
        try:
            return _in_range(dt.date.fromisoformat(text.strip()), where)
        except ValueError:
            pass
    raise ExtractError(f"{where}: {text!r} is not a date written YYYY-MM-DD; fix it or pass --as-of")


def _in_range(as_of: dt.date, where: str) -> dt.date:
    """The as-of date, unless it is outside the range the product accepts (dashboard/arguments.py)."""
    from dashboard.arguments import as_of_problem

    problem = as_of_problem(as_of)
    if problem is not None:
        raise ExtractError(f"{where}: {problem}. Nothing was loaded.")
    return as_of


def _refuse_outside_link(directory: Path, path: Path) -> None:
    """A manifest or AS_OF file that is a link out of the extract folder is not read."""
    if path.is_symlink() and not path.resolve().is_relative_to(directory.resolve()):
        raise ExtractError(
            f"{readers.shown_name(path)}: a symbolic link to {readers.shown_name(path.resolve())}, outside the "
            "extract folder; it was not opened. Put the file itself in the extract folder. Nothing was loaded."
        )


# --- per-table state shared across tables ----------------------------------------------


@dataclass
class _Parents:
    """Keys of each processed table: valid in this extract, and rejected in it."""

    valid: dict[str, pl.Series] = field(default_factory=dict)
    rejected: dict[str, pl.Series] = field(default_factory=dict)
    #: participants loaded in this run: id and line (for warn:no_supervision_events)
    participants: pl.DataFrame | None = None


_WINDOW_COLUMNS = ["participant_id", "enrollment_date", "exit_date"]


class _Database:
    """What the loader needs to know of the database, read once before this run writes.

    Everything is read at the start, inside the load's transaction, because the
    writes then go on in a thread of their own (:class:`_Writer`) while the
    next file is validated. ``None`` connection = ``check``: nothing is stored.
    """

    def __init__(self, conn: sa.engine.Connection | None) -> None:
        self.conn = conn
        self._keys: dict[str, pl.Series] = {}
        for name in sorted({c.references for t in TABLES for c in t.foreign_keys if c.references}):
            key = contract.TABLES_BY_NAME[name].key
            self._keys[name] = (
                pl.Series(key, [], pl.String) if conn is None else store.read_table(conn, name, [key])[key]
            )
        self._windows = (
            pl.DataFrame(schema={"participant_id": pl.String, "enrollment_date": pl.Date, "exit_date": pl.Date})
            if conn is None
            else store.read_table(conn, "participants", _WINDOW_COLUMNS)
        )

    def keys(self, table: str) -> pl.Series:
        """Keys stored in ``table`` before this run."""
        return self._keys[table]

    def add_participants(self, loaded: pl.DataFrame) -> None:
        """This run's valid participants replace their stored copies in :meth:`participant_windows`."""
        ids = loaded["participant_id"].implode()
        self._windows = pl.concat(
            [self._windows.filter(~pl.col("participant_id").is_in(ids)), loaded.select(_WINDOW_COLUMNS)]
        )

    def participant_windows(self) -> pl.DataFrame:
        """Enrollment and exit dates of every participant, as they are once this run is stored."""
        return self._windows

    def supervised_participants(self, written_here: pl.Series | None, filled_empty_table: bool) -> pl.Series:
        """Participants with supervision events once this run is stored (call after the writes).

        ``written_here``: participants of this run's valid events. When this run
        filled an empty table (``filled_empty_table``; no one else could write
        it meanwhile) those are all there are, and the table is not read.
        """
        here = (
            written_here.cast(pl.String) if written_here is not None else pl.Series("participant_id", [], pl.String)
        )
        if self.conn is None or filled_empty_table:
            return here
        stored = store.read_frame(self.conn, "SELECT DISTINCT participant_id FROM supervision_events")
        return stored["participant_id"].cast(pl.String)  # this run's events are stored by now


#: Validated rows that may wait for the database writer (see :class:`_Writer`).
WRITE_QUEUE_BYTES = 512 * 1024 * 1024


class _Writer:
    """Writes each table's valid rows in a thread beside the loader.

    The database's work (DuckDB's insert, PostgreSQL's COPY and index builds)
    leaves the interpreter free, so while one table is written the next files
    are read and validated. Writes run one at a time, in hand-over order, on
    the load's connection and transaction; nothing else uses that connection
    until :meth:`drain`. Validated tables may queue for the writer up to
    :data:`WRITE_QUEUE_BYTES` (estimated frame size, the table being written
    included; a table larger than that waits until the queue is empty), so
    the loader does not stall on every hand-over while memory stays bounded.
    An error in a write stops the load at the next hand-over (later writes
    are skipped), and the transaction is rolled back as ever.
    """

    def __init__(self, conn: sa.engine.Connection, run_id: str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.conn = conn
        self.run_id = run_id
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database-writer")
        self._handed: deque[tuple[Any, int]] = deque()  # (future, bytes), oldest first
        self._failed = False
        #: tables that were empty and now hold exactly this run's rows (see store.bulk_upsert)
        self.filled_empty: set[str] = set()

    def write(self, table: Table, loaded: pl.DataFrame) -> None:
        # The table's columns in order are picked here, not in the writer thread:
        # polars runs such steps on its shared thread pool, where the writer would
        # queue behind the validation of the next file (measured: 1.7 s).
        rows = loaded.select(table.column_names)
        size = cast(int, rows.estimated_size())  # in bytes, an int; polars types it int | float
        while self._handed and (self._handed[0][0].done() or self._queued_bytes() + size > WRITE_QUEUE_BYTES):
            self._handed.popleft()[0].result()  # waits for the oldest write; re-raises its error
        self._handed.append((self._pool.submit(self._write, table, rows), size))

    def _queued_bytes(self) -> int:
        return sum(size for _, size in self._handed)

    def _write(self, table: Table, rows: pl.DataFrame) -> None:
        if self._failed:
            return  # an earlier write failed: the load is being abandoned
        try:
            if store.bulk_upsert(self.conn, table.name, rows):
                self.filled_empty.add(table.name)
            _resolve_quarantine(self.conn, table, rows.select(validation.record_key(table)).to_series(), self.run_id)
        except BaseException:
            self._failed = True
            raise

    def drain(self) -> None:
        """Wait for every write handed over; re-raise the first error."""
        while self._handed:
            self._handed.popleft()[0].result()

    def close(self) -> None:
        """Wait for the thread to stop (before the transaction ends, whatever happened)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._handed.clear()


# --- the pipeline -----------------------------------------------------------------------


class _Checks:
    """The Great Expectations suites, run in one worker thread beside the loader.

    GX is pure Python over pandas; the loader's own work is polars and the
    database, which release the interpreter while they compute. So each table's
    (small) profile is handed to a single GX thread; :meth:`finish`, called
    before the audit is written and the transaction commits, waits for every
    result, records it and stops the load if GX and the row rules disagree.
    Importing GX and building its context (a few seconds) happens in that
    thread too, from the start.

    When loading (``hold``), the suites wait until every file is validated
    (:meth:`release`): while files are still being validated the two cores
    are busy with polars and the database, and GX would only slow the
    validation down; afterwards the database is usually still writing the
    last (largest) table, and GX runs in time the cores would otherwise
    leave idle (docs/performance.md). ``check`` has no database writer, so
    there the suites run as the profiles come.
    """

    def __init__(self, as_of: dt.date, docs_dir: Path | None, *, hold: bool = False) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from data_checks.suites import SuiteRunner

        self.as_of = as_of
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="great-expectations")
        self._runner = self._pool.submit(SuiteRunner, as_of, docs_dir)
        self._pending: list[tuple[TableReport, set[str], Any]] = []
        self._hold = hold
        self._held: list[tuple[TableReport, set[str], Any]] = []

    def submit(self, table: Table, frame: pl.DataFrame, report: TableReport) -> None:
        from data_checks.suites import profile_of

        profile = profile_of(table, self.as_of, frame)
        failed = set(frame[RULES].explode().drop_nulls().unique().to_list())
        if self._hold:
            self._held.append((report, failed, profile))
        else:
            self._start(report, failed, profile)

    def _start(self, report: TableReport, failed: set[str], profile: Any) -> None:
        future = self._pool.submit(lambda: self._runner.result().validate_profile(profile))
        self._pending.append((report, failed, future))

    def release(self) -> None:
        """Start the suites held back so far; later profiles start as they come."""
        self._hold = False
        for item in self._held:
            self._start(*item)
        self._held.clear()

    def finish(self) -> None:
        """Wait for every table's result; raise if GX and the row rules disagree."""
        self.release()
        for report, polars_failed, future in self._pending:
            check = future.result()
            report.validation_success = check.success
            gx_failed = check.failed_rules()
            if gx_failed != polars_failed:  # pragma: no cover - would be a bug in one of the two
                raise RuntimeError(
                    f"internal error: Great Expectations and the row rules disagree on {report.table} "
                    f"(GX only: {sorted(gx_failed - polars_failed)}, "
                    f"rows only: {sorted(polars_failed - gx_failed)}); please report this"
                )
        self._pending.clear()

    def docs_index(self) -> Path | None:
        return self._runner.result().docs_index()

    def close(self) -> None:
        """Stop the thread; results nobody waited for (the load failed) are dropped."""
        self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _TableOutcome:
    report: TableReport
    delivered: DeliveredFile
    loaded: pl.DataFrame  # typed contract columns + LINE
    quarantine: pl.DataFrame  # LINE, key, agency, rules (list)
    issues: list[pl.DataFrame]  # LINE, key, rule, message


def _agency_column(table: Table) -> str | None:
    """The column naming the agency that submitted a row (for stewards' follow-up)."""
    if table.name == "agencies":
        return table.key
    for col in table.columns:
        if col.references == "agencies":
            return col.name
    return None


def _process_table(
    delivered: DeliveredFile,
    as_of: dt.date,
    parents: _Parents,
    db: _Database,
    checks: _Checks,
) -> _TableOutcome:
    table = delivered.table
    report = TableReport(table=table.name, file_name=delivered.path.name, sha256=delivered.sha256)
    report.rows_read = delivered.height
    report.unknown_columns = list(delivered.unknown_columns)
    report.file_empty = delivered.empty
    report.file_hint = delivered.hint
    report.duplicate_columns = dict(delivered.duplicate_columns)
    frame = validation.validation_frame(table, delivered.contract_frame(), scan_nul=delivered.may_hold_nul)
    rules = validation.rule_expressions(table, as_of)
    frame = validation.with_rule_ids(frame, rules)

    checks.submit(table, frame, report)

    whole_file = [contract.RULE_MISSING_COLUMN] if delivered.missing_required else []
    if delivered.duplicate_columns:
        whole_file.append(contract.RULE_DUPLICATE_COLUMN)
    if whole_file:
        report.file_rejected = True
        report.missing_columns = list(delivered.missing_required)
        frame = frame.with_columns(pl.lit(whole_file, pl.List(pl.String)).alias(RULES))
    else:
        frame = _foreign_keys(table, frame, parents, db)
    frame, downgraded = _apply_levels(table, frame)
    frame, dropped = _duplicates(table, frame)

    key = table.key
    rejected_mask = frame[RULES].list.len() > 0
    # select (no copy) before filtering (a copy): only the loaded columns are copied,
    # and not at all when every row passed
    typed = validation.load_frame(table, frame).with_columns(frame[LINE])
    if table.has_composite_key:
        typed = typed.with_columns(frame[key])
    if rejected_mask.any():
        loaded = typed.filter(~rejected_mask)
        rejected_rows = frame.filter(rejected_mask)
    else:
        loaded = typed
        rejected_rows = frame.clear()
    del typed
    # keep the delivered text only for the rows going to quarantine
    delivered.raw = delivered.raw.filter(pl.col(LINE).is_in(rejected_rows[LINE].implode()))

    parents.valid[table.name] = loaded[key]
    rejected_keys = rejected_rows[key].drop_nulls().unique()
    parents.rejected[table.name] = rejected_keys.filter(~rejected_keys.is_in(loaded[key].implode()))

    agency = _agency_column(table)
    quarantine = rejected_rows.select(
        pl.col(LINE),
        _storable_code(pl.col(key)).alias("record_key"),
        (_storable_code(pl.col(agency)) if agency else pl.lit(None, pl.String)).alias("submitting_agency_id"),
        pl.col(RULES),
    )
    if any(c.type == "decimal" for c in table.columns) and rejected_rows.height:
        # the decimal rule is one; the quarantine also says which forbidden form was used
        quarantine = quarantine.with_columns(validation.decimal_details(table, rejected_rows))
    report.loaded = loaded.height
    report.rejected = rejected_rows.height
    report.duplicates_dropped = dropped.height
    for rule, count, lines in _rule_counts(rejected_rows):
        report.reasons[rule] = count
        report.examples[rule] = lines

    issues: list[pl.DataFrame] = []
    if dropped.height:
        issues.append(
            dropped.select(
                pl.col(LINE),
                pl.col(key).alias("record_key"),
                pl.lit(DUPLICATE_DROPPED).alias("rule"),
                pl.format("identical copy of {} {} dropped", pl.lit(", ".join(table.key_columns)), pl.col(key))
                .alias("message"),
            )
        )
    if delivered.unknown_columns:
        # one warning per file, on the header line, naming every ignored column
        names = ", ".join(repr(n.strip()) for n in delivered.unknown_columns)
        issues.append(
            pl.DataFrame(
                {LINE: [1], "record_key": [None], "rule": [contract.WARN_UNKNOWN_COLUMN],
                 "message": [f"unknown column(s) {names} ignored"]},
                schema={LINE: pl.Int64, "record_key": pl.String, "rule": pl.String, "message": pl.String},
            )
        )
    if downgraded is not None:
        issues.append(downgraded)
    if table.name in contract.ENROLLMENT_WINDOW_WARNINGS:
        issues.extend(_window_warnings(table, loaded, parents, db))
    if table.name == "participants":
        parents.participants = loaded.select("participant_id", LINE)
    issues = _without_excluded(table, issues)
    _count_warnings(report, issues)
    return _TableOutcome(report, delivered, loaded, quarantine, issues)


# Rules a row cannot be stored without: the value is missing or unreadable, or
# its parent is unknown. data_checks/levels.py may not turn these into warnings.
_ALWAYS_ERRORS = ("missing_column", "required:", "date_format:", "bool_format:", "int_format:", "fk:",
                  "parent_rejected:", contract.RULE_DUPLICATE_CONFLICT, "nul_character:", "too_long:",
                  contract.RULE_DUPLICATE_COLUMN, "decimal_format:")


def _storable_code(value: pl.Expr) -> pl.Expr:
    """A rejected row's key or agency as the quarantine can index it on both databases:
    null when it holds a NUL character or is longer than an identifier may be
    (the value as delivered stays in ``raw_values``)."""
    fits = value.str.len_chars() <= contract.MAX_CODE_LENGTH
    clean = ~value.str.contains("\x00", literal=True)
    return pl.when(fits & clean).then(value).otherwise(pl.lit(None, pl.String))


def _level_changes(table: Table) -> dict[str, str]:
    """Rule id -> level for this table's overrides in data_checks/levels.py (usually none)."""
    from data_checks.levels import OVERRIDES

    changes: dict[str, str] = {rule: o.level for (name, rule), o in OVERRIDES.items() if name == table.name}
    for rule, level in changes.items():
        if level != "error" and rule.startswith(_ALWAYS_ERRORS):
            raise ExtractError(
                f"data_checks/levels.py makes {table.name} {rule!r} a {level}, but a row breaking it "
                "cannot be stored; keep it an error"
            )
    return changes


def _apply_levels(table: Table, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Apply the documented level overrides: a rule turned into a warning no longer
    rejects its row but is recorded as a warning on it; an excluded rule is dropped.
    With no override (the levels SPEC §2 gives) the frame is unchanged."""
    changes = {r: lvl for r, lvl in _level_changes(table).items() if not r.startswith("warn:")}
    if not changes:
        return frame, None
    to_warn = [r for r, lvl in changes.items() if lvl == "warning"]
    warned = (
        frame.select(pl.col(LINE), pl.col(table.key).alias("record_key"),
                     pl.col(RULES).list.set_intersection(to_warn).alias("rule"))
        .explode("rule")
        .drop_nulls("rule")
    )
    warned = warned.with_columns(
        pl.col("rule").map_elements(lambda r: contract.describe_rule(r, table.name), return_dtype=pl.String)
        .alias("message")
    )
    frame = frame.with_columns(pl.col(RULES).list.set_difference(list(changes)).alias(RULES))
    return frame, (warned if warned.height else None)


def _without_excluded(table: Table, issues: list[pl.DataFrame]) -> list[pl.DataFrame]:
    """Drop the warnings data_checks/levels.py excludes for this table."""
    excluded = [r for r, lvl in _level_changes(table).items() if lvl == "excluded"]
    if not excluded:
        return issues
    kept = [issue.filter(~pl.col("rule").is_in(excluded)) for issue in issues]
    return [issue for issue in kept if issue.height]


def _count_warnings(report: TableReport, issues: Sequence[pl.DataFrame]) -> None:
    report.warnings = 0
    report.warning_reasons = Counter()
    for issue in issues:
        for rule, n in issue.group_by("rule").len().iter_rows():
            if rule == DUPLICATE_DROPPED:
                continue
            report.warnings += n
            report.warning_reasons[rule] += n


def _rule_counts(rejected: pl.DataFrame) -> list[tuple[str, int, list[int]]]:
    """Per rule id: rows rejected for it and the first few line numbers."""
    if rejected.height == 0:
        return []
    exploded = rejected.select(pl.col(LINE), pl.col(RULES).alias("rule")).explode("rule")
    grouped = (
        exploded.group_by("rule")
        .agg(pl.len().alias("n"), pl.col(LINE).sort().head(EXAMPLES_PER_REASON).alias("lines"))
        .sort("rule")
    )
    return [(r, int(n), list(lines)) for r, n, lines in grouped.iter_rows()]


def _add_rule(frame: pl.DataFrame, broken: pl.Expr, rule: str) -> pl.DataFrame:
    mask = frame.select(broken.fill_null(False)).to_series()
    if not mask.any():  # the usual case: the rule lists are not rebuilt for millions of rows
        return frame
    return frame.with_columns(
        pl.when(mask).then(pl.col(RULES).list.concat(pl.lit([rule], pl.List(pl.String)))).otherwise(pl.col(RULES)).alias(RULES)
    )


def _foreign_keys(table: Table, frame: pl.DataFrame, parents: _Parents, db: _Database) -> pl.DataFrame:
    """``fk:<col>`` when the value matches no parent valid here or stored; ``parent_rejected:<col>``
    when it matches a parent rejected in this extract (and no valid copy of it)."""
    for col in table.foreign_keys:
        parent = col.references
        assert parent is not None
        value = pl.col(col.name)
        valid_here = parents.valid.get(parent, pl.Series([], dtype=pl.String))
        rejected_here = parents.rejected.get(parent, pl.Series([], dtype=pl.String))
        stored = db.keys(parent)
        known = pl.concat([valid_here.cast(pl.String), stored.cast(pl.String)]).unique()
        if parent == table.name:  # pragma: no cover - the contract has no self references
            raise AssertionError("self-referencing tables are not supported")
        is_rejected_parent = value.is_in(rejected_here.implode()).fill_null(False)
        frame = _add_rule(frame, value.is_not_null() & is_rejected_parent, contract.rule_id(contract.RULE_PARENT_REJECTED, col.name))
        missing = value.is_not_null() & ~is_rejected_parent & ~value.is_in(known.implode()).fill_null(False)
        frame = _add_rule(frame, missing, contract.rule_id(contract.RULE_FK, col.name))
    return frame


def _duplicates(table: Table, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The duplicate-key policy among the copies that passed every other rule.

    Identical copies (every loaded value equal after normalisation) collapse to
    the first; the extra copies are returned as dropped. Copies that differ are
    all rejected ``duplicate_key_conflict``. Invalid copies keep their own rules.
    """
    key = table.key
    valid = (pl.col(RULES).list.len() == 0) & pl.col(key).is_not_null()
    frame = frame.with_columns(valid.alias("__valid"))
    candidates = frame.filter(pl.col("__valid") & pl.col(key).is_duplicated())
    empty = frame.clear().drop("__valid")
    if candidates.height == 0:
        return frame.drop("__valid"), empty
    values = [validation.value_name(c) for c in table.columns]
    per_key = candidates.group_by(key).agg(pl.struct(values).n_unique().alias("__versions"))
    conflicting = per_key.filter(pl.col("__versions") > 1)[key]
    identical = candidates.filter(~pl.col(key).is_in(conflicting.implode()))
    dropped_lines = identical.filter(pl.col(LINE) != pl.col(LINE).min().over(key))[LINE]
    is_conflict = pl.col("__valid") & pl.col(key).is_in(conflicting.implode())
    frame = _add_rule(frame, is_conflict, contract.RULE_DUPLICATE_CONFLICT)
    is_dropped = pl.col(LINE).is_in(dropped_lines.implode())
    dropped = frame.filter(is_dropped).drop("__valid")
    return frame.filter(~is_dropped).drop("__valid"), dropped


def _window_warnings(table: Table, loaded: pl.DataFrame, parents: _Parents, db: _Database) -> list[pl.DataFrame]:
    """Rows dated before the participant's enrollment or after their exit (they still load)."""
    date_col = contract.ENROLLMENT_WINDOW_WARNINGS[table.name]
    windows = db.participant_windows()
    joined = loaded.select(pl.col(LINE), pl.col(table.key), pl.col("participant_id"), pl.col(date_col)).join(
        windows, on="participant_id", how="inner"
    )
    out = []
    for rule, broken, what in (
        (contract.WARN_BEFORE_ENROLLMENT, pl.col(date_col) < pl.col("enrollment_date"), "enrollment_date"),
        (contract.WARN_AFTER_EXIT, pl.col(date_col) > pl.col("exit_date"), "exit_date"),
    ):
        hits = joined.filter(broken.fill_null(False))
        if hits.height:
            out.append(
                hits.select(
                    pl.col(LINE),
                    pl.col(table.key).alias("record_key"),
                    pl.lit(rule).alias("rule"),
                    pl.format(
                        "{} {} is {} the participant's {} {}",
                        pl.lit(date_col),
                        pl.col(date_col).cast(pl.String),
                        pl.lit("before" if rule == contract.WARN_BEFORE_ENROLLMENT else "after"),
                        pl.lit(what),
                        pl.col(what).cast(pl.String),
                    ).alias("message"),
                )
            )
    return out


def _no_supervision_warnings(parents: _Parents, supervised: pl.Series) -> pl.DataFrame | None:
    if parents.participants is None or parents.participants.height == 0:
        return None
    lonely = parents.participants.filter(~pl.col("participant_id").is_in(supervised.implode()))
    if lonely.height == 0:
        return None
    return lonely.select(
        pl.col(LINE),
        pl.col("participant_id").alias("record_key"),
        pl.lit(contract.WARN_NO_SUPERVISION_EVENTS).alias("rule"),
        pl.format("participant {} has no supervision events", pl.col("participant_id")).alias("message"),
    )


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
    checks = _Checks(report.as_of, docs_dir, hold=engine is not None)
    try:
        return _run_checked(files, report, engine, checks, say)
    finally:
        checks.close()


def _run_checked(
    files: dict[str, Path], report: LoadReport, engine: sa.engine.Engine | None, checks: _Checks, say: Progress
) -> LoadReport:
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    run_id = str(uuid.uuid4())
    report.run_id = run_id
    if engine is None:
        try:
            _validate_all(files, report, checks, _Database(None), None, say, run_id)
        except ExtractError as exc:
            report.errors.append(str(exc))
        report.docs_index = checks.docs_index()
        return report
    with store.connect(engine) as conn:
        try:
            with conn.begin():
                outcomes = _validate_all(files, report, checks, _Database(conn), conn, say, run_id)
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
    checks: _Checks,
    db: _Database,
    conn: sa.engine.Connection | None,
    say: Progress,
    run_id: str,
) -> list[_TableOutcome]:
    assert report.as_of is not None
    parents = _Parents()
    outcomes: list[_TableOutcome] = []
    supervised_here: pl.Series | None = None
    writer = _Writer(conn, run_id) if conn is not None else None
    try:
        for table in _processing_order(files):
            path = files[table.name]
            delivered = readers.read_file(table.name, path)
            outcome = _process_table(delivered, report.as_of, parents, db, checks)
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
        lonely = _no_supervision_warnings(parents, supervised)
        if lonely is not None:
            participants.issues.append(lonely)
            participants.issues[:] = _without_excluded(contract.TABLES_BY_NAME["participants"], participants.issues)
            _count_warnings(participants.report, participants.issues)
    checks.finish()
    return outcomes


def _resolve_quarantine(conn: sa.engine.Connection, table: Table, loaded_keys: pl.Series, run_id: str) -> None:
    """Mark earlier quarantined rows whose key has now loaded."""
    pending = store.read_frame(
        conn,
        "SELECT DISTINCT record_key FROM quarantine WHERE table_name = :t AND resolved_run_id IS NULL "
        "AND record_key IS NOT NULL AND run_id <> :r",
        {"t": table.name, "r": run_id},
    )
    if pending.height == 0:
        return
    keys = pending["record_key"].cast(pl.String)
    resolved = keys.filter(keys.is_in(loaded_keys.cast(pl.String).implode())).to_list()
    stmt = sa.text(
        "UPDATE quarantine SET resolved_run_id = :r WHERE table_name = :t AND resolved_run_id IS NULL "
        "AND record_key IN :keys"
    ).bindparams(sa.bindparam("keys", expanding=True))
    for start in range(0, len(resolved), 1000):
        conn.execute(stmt, {"r": run_id, "t": table.name, "keys": resolved[start : start + 1000]})


def _write_audit(
    conn: sa.engine.Connection,
    report: LoadReport,
    outcomes: Sequence[_TableOutcome],
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


def _write_quarantine(conn: sa.engine.Connection, outcome: _TableOutcome, run_id: str) -> None:
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
    rule_words = {rule: _rule_words(rule, outcome.report) for rule in q[RULES].explode().drop_nulls().unique().to_list()}
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


# --- text report ----------------------------------------------------------------------


def _rule_words(rule: str, t: TableReport) -> str:
    """A rule in words; the whole-file rules name the columns of this file."""
    if rule == contract.RULE_MISSING_COLUMN:
        return contract.describe_rule(f"{rule}:{','.join(t.missing_columns)}", t.table)
    if rule == contract.RULE_DUPLICATE_COLUMN:
        return contract.describe_rule(f"{rule}:{t.duplicate_detail()}", t.table)
    return contract.describe_rule(rule, t.table)


def format_text(report: LoadReport, verb: str = "Loaded") -> str:
    """The report for data stewards: per table what loaded, what was rejected and why."""
    lines: list[str] = []
    as_of = report.as_of.isoformat() if report.as_of else "unknown"
    lines.append(f"Extract {readers.shown_name(report.directory)} (as of {as_of})")
    for error in report.errors:
        lines.append(f"error: {error}")
    for note in report.notes:
        lines.append(f"note: {note}")
    for name, t in report.tables.items():
        verb_word = verb.lower()
        head = (
            f"{name} ({t.file_name}): {t.rows_read} rows read, {t.loaded} {verb_word}, {t.rejected} rejected, "
            f"{t.duplicates_dropped} duplicates dropped, {t.warnings} warnings"
        )
        lines.append("")
        lines.append(head)
        if t.file_empty:
            lines.append(
                "  the whole file was rejected: it is empty (no header row, no rows); deliver it again with "
                "its header row and rows, or leave the file out if the table has nothing to send"
            )
        elif t.file_rejected and t.missing_columns:
            lines.append(
                f"  the whole file was rejected: it lacks the required column(s) {', '.join(t.missing_columns)}; "
                "add them and deliver the file again"
            )
            if t.file_hint:
                lines.append(f"  (the columns may be there: {t.file_hint})")
        if t.duplicate_columns:
            lines.append(
                f"  the whole file was rejected: {t.duplicate_detail()}; which one holds the values cannot be "
                "told, so keep exactly one of them and deliver the file again"
            )
        for rule, count in sorted(t.reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            words = _rule_words(rule, t)
            where = ", ".join(f"{t.file_name}:{line}" for line in t.examples.get(rule, []))
            more = ", ..." if count > len(t.examples.get(rule, [])) else ""
            lines.append(f"  rejected {count} row(s): {words} [{rule}] (e.g. {where}{more})")
        for rule, count in sorted(t.warning_reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            words = contract.describe_rule(rule, name)
            if rule == contract.WARN_UNKNOWN_COLUMN:
                words = "unknown column(s) " + ", ".join(repr(n.strip()) for n in t.unknown_columns) + " ignored"
            lines.append(f"  warning on {count} row(s): {words} [{rule}] (loaded anyway)")
    lines.append("")
    total_dupes = sum(t.duplicates_dropped for t in report.tables.values())
    total_warn = sum(t.warnings for t in report.tables.values())
    lines.append(
        f"Total: {report.total_read} rows read, {report.total_loaded} {verb.lower()}, {report.total_rejected} rejected, "
        f"{total_dupes} duplicates dropped, {total_warn} warnings."
    )
    code = report.exit_code
    meaning = {
        EXIT_OK: "every row passed",
        EXIT_SOME_REJECTED: ("some rows were rejected" if report.total_rejected else "a file was rejected as a whole")
        + ("; they are kept in the quarantine table with their reasons"
           if report.wrote_database and report.total_rejected else ""),
        EXIT_NOTHING_LOADED: "nothing could be loaded",
    }[code]
    lines.append(f"Exit code {code}: {meaning}.")
    if report.docs_index is not None:
        lines.append(f"Data docs: {report.docs_index}")
    return "\n".join(lines)
