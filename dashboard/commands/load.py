"""``partnership-dashboard load DIR`` and ``check DIR``: print the report, return its exit code.

The work is :func:`dashboard.ingest.load_extract` / :func:`~dashboard.ingest.check_extract`;
the exit codes (0 every row passed, 1 some rows rejected, 2 nothing loaded) are
the report's own (see ``docs/data-contract.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from dashboard import store
from dashboard.ingest import EXIT_NOTHING_LOADED, LoadReport, check_extract, load_extract


def _stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cli_load(args: argparse.Namespace) -> int:
    """``partnership-dashboard load DIR [--db URL] [--as-of DATE] [--format text|json]``."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    engine = store.make_engine(getattr(args, "db", None))
    try:
        report = load_extract(args.directory, engine, as_of=getattr(args, "as_of", None), progress=_stderr_progress)
    finally:
        engine.dispose()
    return print_report(report, getattr(args, "format", "text"), "Loaded")


def cli_check(args: argparse.Namespace) -> int:
    """``partnership-dashboard check DIR [--as-of DATE] [--docs-dir DIR] [--format text|json]``."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if getattr(args, "directory", None) is None:
        print(
            "error: check needs an extract directory (checking a loaded database with --db is not "
            "available yet)",
            file=sys.stderr,
        )
        return EXIT_NOTHING_LOADED
    report = check_extract(
        args.directory,
        as_of=getattr(args, "as_of", None),
        docs_dir=getattr(args, "docs_dir", None),
        progress=_stderr_progress,
    )
    return print_report(report, getattr(args, "format", "text"), "Valid")


def print_report(report: LoadReport, fmt: str, verb: str) -> int:
    """Print a load/check/reprocess report as text or JSON (errors to stderr); return its exit code."""
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    if fmt == "json":
        print(json.dumps(report.to_json(), sort_keys=False))
    else:
        print(report.to_text(verb))
    return report.exit_code
