"""The ``partnership-dashboard`` console script: argument parsing and dispatch.

Every command's handler lives in :mod:`dashboard.commands` (output format and
exit code); the work itself lives in the domain modules. A handler module is
imported only when its command runs, so ``--help`` stays fast (Great
Expectations alone costs seconds to import); see ``docs/architecture.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dashboard.arguments import as_of_argument, date_argument, month_argument, nonnegative_argument
from dashboard.formats import CHART_FORMATS, CHART_GROUPINGS, TABLE_FORMATS
from dashboard.settings import DEFAULT_MIN_CELL_SIZE

EXIT_OK = 0
EXIT_SOME_REJECTED = 1
EXIT_NOTHING_LOADED = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="partnership-dashboard",
        description="Validate partner extracts, compute pilot metrics and serve the dashboard.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db_help = "database URL (default: DATABASE_URL, else the embedded file ./partnership_dashboard.duckdb)"

    p = sub.add_parser("demo", help="create the embedded database from sample_data/ if absent and serve the dashboard")
    p.add_argument("--db", help=db_help)
    _add_serve_arguments(p)

    p = sub.add_parser("serve", help="serve the dashboard on an existing database (unattended; see docs/deployment.md)")
    p.add_argument("--db", help=db_help)
    _add_serve_arguments(p)

    p = sub.add_parser("load", help="validate and load every contract file in DIR")
    p.add_argument("directory", metavar="DIR", type=Path)
    p.add_argument("--db", help=db_help)
    p.add_argument("--as-of", type=as_of_argument, help="the extract's as-of date (default: manifest.json, AS_OF file, today)")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = sub.add_parser("check", help="run the data-quality suites without loading; write results and data docs")
    p.add_argument("directory", metavar="DIR", type=Path, nargs="?")
    p.add_argument("--db", help="check a loaded database instead of an extract directory")
    p.add_argument("--as-of", type=as_of_argument)
    p.add_argument("--docs-dir", type=Path, default=None, help="where to write the HTML data docs")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = sub.add_parser("metrics", help="print every metric for every grouping")
    p.add_argument("--db", help=db_help)
    p.add_argument("--as-of", type=as_of_argument)
    p.add_argument("--start", type=date_argument)
    p.add_argument("--end", type=date_argument)
    p.add_argument("--program")
    p.add_argument("--agency")
    p.add_argument("--min-cell-size", type=nonnegative_argument, default=DEFAULT_MIN_CELL_SIZE)
    p.add_argument("--format", choices=("json", "csv"), required=True)

    p = sub.add_parser("evaluate", help="print the pilot evaluation (pilot vs comparison)")
    p.add_argument("--db", help=db_help)
    p.add_argument("--program")
    p.add_argument(
        "--measure", action="append",
        choices=("rearrest", "reconviction", "reincarceration", "employment", "stable_housing"),
        help="repeat for several; default all (employment and stable_housing when reintegration checks are loaded)",
    )
    p.add_argument("--as-of", type=as_of_argument)
    p.add_argument("--min-cell-size", type=nonnegative_argument, default=DEFAULT_MIN_CELL_SIZE)
    p.add_argument("--format", choices=("json",), default="json")

    p = sub.add_parser("export", help="write charts, tables and the report bundle")
    p.add_argument("--db", help=db_help)
    export_sub = p.add_subparsers(dest="export_kind", required=True, metavar="KIND")
    _add_export_arguments(export_sub)

    p = sub.add_parser("sample", help="generate a synthetic extract (seeded)")
    p.add_argument("--participants", type=int, default=3000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--as-of", type=date_argument, default=None)
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")

    p = sub.add_parser("migrate", help="bring the database schema up to date (Alembic)")
    p.add_argument("--db", help=db_help)

    _add_access_commands(sub, db_help)
    return parser


def _add_serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--address", default="127.0.0.1",
                   help="interface to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every interface, "
                        "behind a reverse proxy with TLS)")
    p.add_argument("--port", type=int, default=8501)
    browser = p.add_mutually_exclusive_group()
    browser.add_argument("--browser", dest="browser", action="store_const", const=True, default=None,
                         help="open a browser window once the dashboard answers")
    browser.add_argument("--no-browser", dest="browser", action="store_const", const=False,
                         help="never open a browser (default when there is no display or no terminal)")


def _add_filter_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", type=as_of_argument, help="as-of date (default: the latest load's)")
    p.add_argument("--period", help="reporting period instead of --start/--end: 2025Q1, 2025H1, FY2025, "
                   "FY2025Q1 or 2025-01-01:2025-03-31")
    p.add_argument("--fiscal-year-start-month", type=month_argument, default=7,
                   help="first month of the fiscal year for FY periods (default 7 = July)")
    p.add_argument("--start", type=date_argument, help="first day of the period (inclusive)")
    p.add_argument("--end", type=date_argument, help="last day of the period (inclusive)")
    p.add_argument("--program", help="program id (each metric's own program attribution)")
    p.add_argument("--agency", help="agency id (each metric's own agency attribution)")
    p.add_argument("--min-cell-size", type=nonnegative_argument, default=DEFAULT_MIN_CELL_SIZE,
                   help=f"suppress cells below this size (default {DEFAULT_MIN_CELL_SIZE}; 0 turns suppression off)")


def _add_export_arguments(export_subparsers: Any) -> None:
    """Add ``chart``, ``table`` and ``report`` to ``partnership-dashboard export``.

    ``--db`` is on the parent ``export`` parser.
    """
    p = export_subparsers.add_parser("chart", help="one metric's chart as PNG (300 dpi), SVG or PDF")
    p.add_argument("--metric", required=True, help="metric id, e.g. referral_completion_rate")
    p.add_argument("--format", choices=CHART_FORMATS, help="default: from the --out suffix")
    p.add_argument("--by", choices=tuple(CHART_GROUPINGS), default="program-cohort",
                   help="bars per program, agency, cohort, or program with cohorts side by side (default)")
    p.add_argument("--out", type=Path, required=True, help="file to write")
    _add_filter_arguments(p)

    p = export_subparsers.add_parser("table", help="metrics as CSV or XLSX, suppressed cells marked")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--metric", action="append", help="metric id (repeat for several)")
    which.add_argument("--all", action="store_true", help="every metric")
    p.add_argument("--format", choices=TABLE_FORMATS, help="default: from the --out suffix")
    p.add_argument("--out", type=Path, required=True, help="file to write")
    _add_filter_arguments(p)

    p = export_subparsers.add_parser("report", help="the report package (PDF, HTML, ZIP) for a reporting period")
    p.add_argument("--period", required=True, help="2025Q1, 2025H1, FY2025, FY2025Q1 or 2025-01-01:2025-03-31")
    p.add_argument("--program", help="program id (default: all programs)")
    p.add_argument("--agency", action="append", default=[], help="agency id (repeat for several), as the "
                   "dashboard's agency filter: each measure's own agency attribution")
    p.add_argument("--cohort", action="append", default=[], choices=("pilot", "comparison"),
                   help="participant cohort (repeat for both)")
    p.add_argument("--risk", action="append", default=[], help="risk level, e.g. high (repeat for several)")
    p.add_argument("--supervision", action="append", default=[],
                   help="supervision type, e.g. parole (repeat for several)")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4", help="PDF page size (default a4)")
    p.add_argument("--fiscal-year-start-month", type=month_argument, default=7,
                   help="first month of the fiscal year for FY periods (default 7 = July)")
    p.add_argument("--as-of", type=as_of_argument, help="as-of date (default: the latest load's)")
    p.add_argument("--min-cell-size", type=nonnegative_argument, default=DEFAULT_MIN_CELL_SIZE,
                   help=f"suppress cells below this size (default {DEFAULT_MIN_CELL_SIZE}; 0 turns suppression off)")
    p.add_argument("--out", type=Path, required=True, help="directory to write the package into")


def _add_access_commands(sub: Any, db_help: str) -> None:
    """``audit verify|export`` and ``reprocess``."""
    p = sub.add_parser("audit", help="verify or export the access log (who looked at and exported what)")
    p.add_argument("--db", help=db_help)
    audit_sub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    v = audit_sub.add_parser("verify", help="check the hash chain: exit 0 intact, 1 broken (naming the first bad row)")
    v.add_argument("--db", help=db_help, default=argparse.SUPPRESS)
    v.add_argument("--format", choices=("text", "json"), default="text")
    e = audit_sub.add_parser("export", help="write the access log as CSV or JSON (admin role)")
    e.add_argument("--db", help=db_help, default=argparse.SUPPRESS)
    e.add_argument("--since", type=date_argument, required=True, help="first day (UTC), YYYY-MM-DD")
    e.add_argument("--until", type=date_argument, help="last day (UTC), YYYY-MM-DD (default: today)")
    e.add_argument("--format", choices=("csv", "json"), required=True)
    e.add_argument("--out", type=Path, help="file to write (mode 0600); default: standard output")

    p = sub.add_parser(
        "reprocess",
        help="write the open quarantine as contract files for fixing (--export-to), or load fixed rows (DIR)",
    )
    p.add_argument("directory", metavar="DIR", type=Path, nargs="?", help="a folder of fixed rows to load")
    p.add_argument("--export-to", type=Path, metavar="FOLDER",
                   help="write each table's open quarantined rows (steward; only your agencies' rows)")
    p.add_argument("--table", action="append", help="with --export-to: only this table (repeat for several)")
    p.add_argument("--db", help=db_help)
    p.add_argument("--as-of", type=date_argument)
    p.add_argument("--format", choices=("text", "json"), default="text")


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from dashboard.memory import return_freed_memory

    return_freed_memory()  # before anything large is allocated (dashboard/memory.py)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    import sqlalchemy as sa

    from dashboard.access_log import AccessLogUnavailable
    from dashboard.private_files import owner_only_umask
    from dashboard.settings import ConfigError
    from dashboard.store import DatabaseUnavailable

    try:
        # Everything this command creates (database file, exports, data docs) is its owner's only.
        with owner_only_umask():
            from dashboard.commands.access import logged_dispatch

            return logged_dispatch(args, argv, _dispatch)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOTHING_LOADED
    except AccessLogUnavailable as exc:
        print(f"error: refused: {exc}", file=sys.stderr)
        return EXIT_NOTHING_LOADED
    except PermissionError as exc:
        print(f"error: refused: {exc}", file=sys.stderr)
        return EXIT_NOTHING_LOADED
    except DatabaseUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOTHING_LOADED
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        print(
            f"error: the database could not be reached or used: {str(exc.orig or exc).splitlines()[0]}. "
            "Check the --db URL (or DATABASE_URL) and that the server is running.",
            file=sys.stderr,
        )
        return EXIT_NOTHING_LOADED
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot use{where}: {exc.strerror or exc}. Choose a folder you can write to.", file=sys.stderr)
        return EXIT_NOTHING_LOADED
    except KeyboardInterrupt:
        print("interrupted; nothing was committed by the interrupted step", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd == "demo":
        from dashboard.commands.serve import cli_demo

        return cli_demo(args)
    if cmd == "serve":
        from dashboard.commands.serve import cli_serve

        return cli_serve(args)
    if cmd == "load":
        from dashboard.commands.load import cli_load

        return cli_load(args)
    if cmd == "check":
        if args.directory is None:
            if not args.db and not os.environ.get("DATABASE_URL"):
                print("error: check needs an extract directory or --db URL", file=sys.stderr)
                return EXIT_NOTHING_LOADED
            from dashboard.commands.check_db import cli_check_db

            return cli_check_db(args)
        from dashboard.commands.load import cli_check

        return cli_check(args)
    if cmd == "metrics":
        from dashboard.commands.metrics import cli_metrics

        return cli_metrics(args)
    if cmd == "evaluate":
        from dashboard.commands.evaluate import cli_evaluate

        return cli_evaluate(args)
    if cmd == "export":
        from dashboard.commands.export import cli_export

        return cli_export(args)
    if cmd == "sample":
        from dashboard.commands.sample import cli_sample

        return cli_sample(args)
    if cmd == "migrate":
        from dashboard.commands.access import migrate

        return migrate(args)
    if cmd in ("audit", "reprocess"):
        from dashboard.commands.access import dispatch_access_command

        return dispatch_access_command(args)
    raise AssertionError(cmd)  # argparse restricts the choices


def run() -> None:  # pragma: no cover - exercised by the installed console script
    """The console script: :func:`main`, then exit without interpreter teardown.

    Every command has committed or rolled back its work and closed its
    connections by the time :func:`main` returns. The DuckDB 2.0 bindings
    print dozens of "nanobind: leaked ..." lines during interpreter teardown,
    which read like a crash to a data steward; exiting directly after
    flushing the output skips that teardown and changes nothing else.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
