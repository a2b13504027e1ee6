"""``partnership-dashboard check --db URL``: the data-quality checks of a loaded database.

The checks are :func:`dashboard.stewardship.check_database`; this prints the
report (text or JSON) and returns its exit code (0 clean, 1 findings, 2 could
not run). See ``docs/stewardship.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dashboard import store
from dashboard.roles import AccessRefused, require_all_agencies
from dashboard.stewardship import DEFAULT_DOCS_DIR, EXIT_CANNOT_RUN, DatabaseCheckReport, check_database


def cli_check_db(args: argparse.Namespace) -> int:
    """``partnership-dashboard check --db URL``: print the report, return its exit code."""
    url = getattr(args, "db", None)
    missing = store.missing_file_message(url)
    if missing:  # reported like any database that cannot be used, in the format asked for
        report = DatabaseCheckReport(source=store.normalise_url(url), error=missing, exit_code=EXIT_CANNOT_RUN)
    else:
        try:
            engine = store.make_engine(url)
        except Exception as exc:  # a malformed URL, a missing driver
            print(f"error: cannot use the database {url!r}: {exc}", file=sys.stderr)
            return EXIT_CANNOT_RUN
        docs_dir: Path | None = getattr(args, "docs_dir", None) or DEFAULT_DOCS_DIR
        principal = getattr(args, "_principal", None)
        if principal is not None:
            try:
                # The data docs show delivered values of every agency: stewards of all agencies only.
                require_all_agencies(principal, "The data docs")
            except AccessRefused as exc:
                print(f"note: {exc} The checks run; no data docs are written.", file=sys.stderr)
                docs_dir = None
        try:
            report = check_database(engine, docs_dir=docs_dir, as_of=getattr(args, "as_of", None))
        finally:
            engine.dispose()
    if getattr(args, "format", "text") == "json":
        print(json.dumps(report.to_json(), indent=2, default=str))
    else:
        print(report.to_text(), file=sys.stderr if report.error else sys.stdout)
    return report.exit_code
