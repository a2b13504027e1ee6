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

from dashboard.ingest.api import (
    check_extract as check_extract,
)
from dashboard.ingest.api import (
    load_extract as load_extract,
)
from dashboard.ingest.as_of import (
    resolve_as_of as resolve_as_of,
)
from dashboard.ingest.pipeline import (
    Checks as Checks,
)
from dashboard.ingest.pipeline import (
    TableOutcome as TableOutcome,
)
from dashboard.ingest.pipeline import (
    count_warnings as count_warnings,
)
from dashboard.ingest.pipeline import (
    no_supervision_warnings as no_supervision_warnings,
)
from dashboard.ingest.pipeline import (
    process_table as process_table,
)
from dashboard.ingest.pipeline import (
    without_excluded as without_excluded,
)
from dashboard.ingest.report import (
    DEFAULT_DOCS_DIR as DEFAULT_DOCS_DIR,
)
from dashboard.ingest.report import (
    DUPLICATE_DROPPED as DUPLICATE_DROPPED,
)
from dashboard.ingest.report import (
    EXAMPLES_PER_REASON as EXAMPLES_PER_REASON,
)
from dashboard.ingest.report import (
    EXIT_NOTHING_LOADED as EXIT_NOTHING_LOADED,
)
from dashboard.ingest.report import (
    EXIT_OK as EXIT_OK,
)
from dashboard.ingest.report import (
    EXIT_SOME_REJECTED as EXIT_SOME_REJECTED,
)
from dashboard.ingest.report import (
    LoadReport as LoadReport,
)
from dashboard.ingest.report import (
    Progress as Progress,
)
from dashboard.ingest.report import (
    TableReport as TableReport,
)
from dashboard.ingest.report import (
    format_text as format_text,
)
from dashboard.ingest.report import (
    rule_text as rule_text,
)
from dashboard.ingest.state import (
    WRITE_QUEUE_BYTES as WRITE_QUEUE_BYTES,
)
from dashboard.ingest.state import (
    Database as Database,
)
from dashboard.ingest.state import (
    Parents as Parents,
)
from dashboard.ingest.state import (
    Writer as Writer,
)
