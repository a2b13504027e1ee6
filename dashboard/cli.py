"""The ``partnership-dashboard`` console script.

Argument parsing lives here; each command's work lives in the module that owns
it and is imported only when that command runs, so ``--help`` stays fast
(Great Expectations alone costs seconds to import).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dashboard.arguments import as_of_argument, date_argument, nonnegative_argument
from dashboard.settings import DEFAULT_MIN_CELL_SIZE

EXIT_OK = 0
EXIT_SOME_REJECTED = 1
EXIT_NOTHING_LOADED = 2

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_SCRIPT = REPO_ROOT / "streamlit_app.py"
SAMPLE_DIR = REPO_ROOT / "sample_data"


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

    from dashboard.cli_access import add_access_commands

    add_access_commands(sub, db_help)
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


def _add_export_arguments(export_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Export sub-commands; their options are owned by dashboard.export."""
    try:
        from dashboard.export import add_export_arguments
    except ImportError:
        return
    add_export_arguments(export_sub)


def _run_streamlit(db: str | None, args: argparse.Namespace) -> int:
    """Serve the dashboard unattended (dashboard.serve): never a prompt, one process to stop."""
    from dashboard.serve import serve

    return serve(db, address=args.address, port=args.port, browser=args.browser, app_script=APP_SCRIPT)


def _demo(args: argparse.Namespace) -> int:
    from dashboard import store

    url = store.normalise_url(args.db)
    engine = store.make_engine(url)
    if not store.schema_exists(engine) or _is_empty(engine):
        from dashboard.ingest import load_extract

        print(f"Creating the demo database from {SAMPLE_DIR} ...", flush=True)
        report = load_extract(SAMPLE_DIR, engine)
        print(f"Loaded {report.total_loaded} rows ({report.total_rejected} rejected).", flush=True)
    engine.dispose()
    return _run_streamlit(url, args)


def _is_empty(engine: object) -> bool:
    import sqlalchemy as sa

    from dashboard import store

    with store.connect(engine) as conn:  # type: ignore[arg-type]
        return not conn.execute(sa.text("SELECT 1 FROM participants LIMIT 1")).first()


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    from dashboard.access_log import AccessLogUnavailable
    from dashboard.private_files import owner_only_umask
    from dashboard.settings import ConfigError
    from dashboard.store import DatabaseUnavailable

    import sqlalchemy as sa

    try:
        # Everything this command creates (database file, exports, data docs) is its owner's only.
        with owner_only_umask():
            from dashboard.cli_access import logged_dispatch

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
        return _demo(args)
    if cmd == "serve":
        return _run_streamlit(args.db, args)
    if cmd == "load":
        from dashboard.ingest import cli_load

        return cli_load(args)
    if cmd == "check":
        if args.directory is None:
            if not args.db and not os.environ.get("DATABASE_URL"):
                print("error: check needs an extract directory or --db URL", file=sys.stderr)
                return EXIT_NOTHING_LOADED
            from dashboard.stewardship import cli_check_db

            return cli_check_db(args)
        from dashboard.ingest import cli_check

        return cli_check(args)
    if cmd == "metrics":
        from dashboard.commands.metrics import cli_metrics

        return cli_metrics(args)
    if cmd == "evaluate":
        from dashboard.evaluation import cli_evaluate

        return cli_evaluate(args)
    if cmd == "export":
        from dashboard.export import cli_export

        return cli_export(args)
    if cmd == "sample":
        from dashboard.sample import cli_sample

        return cli_sample(args)
    if cmd == "migrate":
        from dashboard.cli_access import migrate

        return migrate(args)
    if cmd in ("audit", "reprocess"):
        from dashboard.cli_access import dispatch_access_command

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
