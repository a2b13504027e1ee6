"""What a load or check reports: per-table counts, reasons and examples, as JSON or as text (docs/data-contract.md)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard import contract, readers

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
    """What happened to one table's file; the JSON keys are those of the ``load --format json`` output (README, loading your own extract)."""

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
        """Exactly the ``load --format json`` object (README, loading your own extract)."""
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "exit_code": self.exit_code,
            "tables": {name: t.to_json() for name, t in self.tables.items()},
        }

    def to_text(self, verb: str = "Loaded") -> str:
        return format_text(self, verb)


# --- text report ----------------------------------------------------------------------


def rule_text(rule: str, t: TableReport) -> str:
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
            words = rule_text(rule, t)
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
