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

Modules, each importing only those before it: ``audit`` (reading load runs and the
quarantine), ``load_warnings``, ``across_loads``, ``status``, ``quarantine``, ``reprocessing``,
``scorecard``, ``overview``, ``check_db``. Their public names are importable from here.
"""

from __future__ import annotations

from dashboard.stewardship.across_loads import (
    CrossLoadResult,
    cross_load_checks,
)
from dashboard.stewardship.audit import (
    DEFAULT_DOCS_DIR,
    EXIT_CANNOT_RUN,
    EXIT_CLEAN,
    EXIT_FINDINGS,
    LOADING_KINDS,
    Audit,
    Status,
    build_audit,
    read_audit,
)
from dashboard.stewardship.check_db import (
    DatabaseCheckReport,
    as_delivered_text,
    check_database,
    integrity_failures,
    run_suites,
)
from dashboard.stewardship.load_warnings import (
    current_warnings,
    file_warnings,
    latest_runs_per_table,
)
from dashboard.stewardship.overview import (
    QualitySummary,
    quality_summary,
    read_tables,
    summarize,
)
from dashboard.stewardship.quarantine import (
    QuarantineFilter,
    example_rows,
    expand_raw_values,
    filtered,
    quarantine_counts,
    quarantine_csv,
    quarantine_rows,
    raw_value_frame,
    require_rows,
)
from dashboard.stewardship.reprocessing import (
    reprocess,
    reprocessing_csv,
    write_reprocessing_extract,
)
from dashboard.stewardship.scorecard import (
    COMPLETENESS_EXCLUDED,
    accepted_rows,
    completeness,
    completeness_columns,
    partner_scorecard,
    scorecard_csv,
)
from dashboard.stewardship.status import (
    agency_status,
    findings,
    open_rows,
    overall_status,
    run_history,
    table_history,
    table_status,
)

__all__ = [
    "Audit",
    "COMPLETENESS_EXCLUDED",
    "CrossLoadResult",
    "DEFAULT_DOCS_DIR",
    "DatabaseCheckReport",
    "EXIT_CANNOT_RUN",
    "EXIT_CLEAN",
    "EXIT_FINDINGS",
    "LOADING_KINDS",
    "QualitySummary",
    "QuarantineFilter",
    "Status",
    "accepted_rows",
    "agency_status",
    "as_delivered_text",
    "build_audit",
    "check_database",
    "completeness",
    "completeness_columns",
    "cross_load_checks",
    "current_warnings",
    "example_rows",
    "expand_raw_values",
    "file_warnings",
    "filtered",
    "findings",
    "integrity_failures",
    "latest_runs_per_table",
    "open_rows",
    "overall_status",
    "partner_scorecard",
    "quality_summary",
    "quarantine_counts",
    "quarantine_csv",
    "quarantine_rows",
    "raw_value_frame",
    "read_audit",
    "read_tables",
    "reprocess",
    "reprocessing_csv",
    "require_rows",
    "run_history",
    "run_suites",
    "scorecard_csv",
    "summarize",
    "table_history",
    "table_status",
    "write_reprocessing_extract",
]
