"""Validated loading of a partner extract (docs/data-contract.md; README, loading your own extract).

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

Modules, each importing only those before it: ``report`` (the report and its text),
``as_of``, ``state`` (what a load keeps across tables), ``pipeline`` (one table through the
checks), ``api`` (the entry points). Their public names are importable from here.
"""

from __future__ import annotations

from dashboard.ingest.api import (
    check_extract,
    load_extract,
)
from dashboard.ingest.as_of import (
    resolve_as_of,
)
from dashboard.ingest.pipeline import (
    Checks,
    TableOutcome,
    count_warnings,
    no_supervision_warnings,
    process_table,
    without_excluded,
)
from dashboard.ingest.report import (
    DEFAULT_DOCS_DIR,
    DUPLICATE_DROPPED,
    EXAMPLES_PER_REASON,
    EXIT_NOTHING_LOADED,
    EXIT_OK,
    EXIT_SOME_REJECTED,
    LoadReport,
    Progress,
    TableReport,
    format_text,
    rule_text,
)
from dashboard.ingest.state import (
    WRITE_QUEUE_BYTES,
    Database,
    Parents,
    Writer,
)

__all__ = [
    "Checks",
    "DEFAULT_DOCS_DIR",
    "DUPLICATE_DROPPED",
    "Database",
    "EXAMPLES_PER_REASON",
    "EXIT_NOTHING_LOADED",
    "EXIT_OK",
    "EXIT_SOME_REJECTED",
    "LoadReport",
    "Parents",
    "Progress",
    "TableOutcome",
    "TableReport",
    "WRITE_QUEUE_BYTES",
    "Writer",
    "check_extract",
    "count_warnings",
    "format_text",
    "load_extract",
    "no_supervision_warnings",
    "process_table",
    "resolve_as_of",
    "rule_text",
    "without_excluded",
]
