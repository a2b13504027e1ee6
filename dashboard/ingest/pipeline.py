"""One table through the pipeline: read, validate, drop duplicates, check parents, warnings, quarantine."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from dashboard import contract, validation
from dashboard.contract import Table
from dashboard.ingest.report import DUPLICATE_DROPPED, EXAMPLES_PER_REASON, TableReport
from dashboard.ingest.state import Database, Parents
from dashboard.readers import LINE, DeliveredFile, ExtractError
from dashboard.validation import RULES

# --- the pipeline -----------------------------------------------------------------------


class Checks:
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
class TableOutcome:
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


# Over 80 lines on purpose: one table's load in the order the steps must run (read, validate, quarantine,
# upsert); each step is a call.
def process_table(
    delivered: DeliveredFile,
    as_of: dt.date,
    parents: Parents,
    db: Database,
    checks: Checks,
) -> TableOutcome:
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
    issues = without_excluded(table, issues)
    count_warnings(report, issues)
    return TableOutcome(report, delivered, loaded, quarantine, issues)


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
    With no override (the levels docs/data-contract.md gives) the frame is unchanged."""
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


def without_excluded(table: Table, issues: list[pl.DataFrame]) -> list[pl.DataFrame]:
    """Drop the warnings data_checks/levels.py excludes for this table."""
    excluded = [r for r, lvl in _level_changes(table).items() if lvl == "excluded"]
    if not excluded:
        return issues
    kept = [issue.filter(~pl.col("rule").is_in(excluded)) for issue in issues]
    return [issue for issue in kept if issue.height]


def count_warnings(report: TableReport, issues: Sequence[pl.DataFrame]) -> None:
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


def _foreign_keys(table: Table, frame: pl.DataFrame, parents: Parents, db: Database) -> pl.DataFrame:
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


def _window_warnings(table: Table, loaded: pl.DataFrame, parents: Parents, db: Database) -> list[pl.DataFrame]:
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


def no_supervision_warnings(parents: Parents, supervised: pl.Series) -> pl.DataFrame | None:
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
