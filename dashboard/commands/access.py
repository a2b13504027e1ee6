"""The command line's side of access and audit (docs/deployment.md).

* Every data command (``load``, ``check``, ``metrics``, ``evaluate``,
  ``export``, ``reprocess``, ``audit export``) is recorded in the access log
  with the user, role and options; a refusal is recorded as ``refused``.
  Exports and row-level output are recorded *before* they are written, and
  refused when the record cannot be written; the other commands go on with
  a warning.
* ``audit verify`` and ``audit export``.
* ``reprocess``: export the open quarantine for fixing, or load fixed rows.
* ``migrate``, with a way forward when a PostgreSQL database does not exist.

The user and role on the command line come from the configuration
(``dashboard.settings``): the fixed role of a single-user install or
``PARTNERSHIP_ROLE``; the user name from ``PARTNERSHIP_USER``, ``[access]
user`` or the operating-system login.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from dashboard import access_log, store
from dashboard import stewardship as stew
from dashboard.commands.load import print_report
from dashboard.private_files import write_private_text
from dashboard.roles import AccessRefused, Principal, require_admin, require_steward, resolve_principal
from dashboard.settings import load_settings

EXIT_OK = 0
EXIT_BROKEN = 1
EXIT_CANNOT_RUN = 2

# command -> access-log action
LOGGED_COMMANDS: dict[str, str] = {
    "load": access_log.LOAD,
    "check": access_log.CHECK,
    "metrics": access_log.METRICS,
    "evaluate": access_log.EVALUATE,
    "export": access_log.EXPORT,
    "reprocess": access_log.REPROCESS,
    "audit": access_log.AUDIT_EXPORT,
}
# Commands whose output is an export or row-level data: recorded first, refused if that fails.
RECORDED_FIRST = ("export", "reprocess", "audit")
_HIDDEN_OPTIONS = {"command", "db", "export_kind", "audit_command", "func"}


def cli_principal() -> Principal:
    """The user and role of this command (see the module docstring)."""
    return resolve_principal(settings=load_settings())


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The command's options for the log (no database URL: it may hold a password)."""
    out: dict[str, Any] = {}
    for key, value in sorted(vars(args).items()):
        if key in _HIDDEN_OPTIONS or key.startswith("_") or value is None or value is False or value == [] or callable(value):
            continue
        out[key] = value if isinstance(value, (int, float, str, bool, list)) else str(value)
    if getattr(args, "export_kind", None):
        out["kind"] = args.export_kind
    return out


def _log_url(args: argparse.Namespace) -> str | None:
    """The database the command's log row goes to; None when there is none (a check of a folder, no database)."""
    db = getattr(args, "db", None)
    url = store.normalise_url(db)
    if args.command == "check" and getattr(args, "directory", None) is not None and not db:
        if store.missing_file_message(url) is not None:
            return None
    return url


def _object(args: argparse.Namespace) -> str:
    if args.command == "export":
        return f"export:{args.export_kind}"
    if args.command == "audit":
        return "access_log"
    if args.command == "reprocess":
        return "quarantine" if getattr(args, "export_to", None) else "extract"
    if getattr(args, "directory", None) is not None:
        return "extract"
    return "database"


def _record(args: argparse.Namespace, principal: Principal, action: str, obj: str, *,
            rows: int | None = None, detail: str | None = None) -> None:
    url = _log_url(args)
    if url is None:
        return
    engine = store.make_engine(url)
    try:
        access_log.record(engine, principal, action, obj, filters=_options(args), rows_returned=rows,
                          interface="cli", detail=detail)
    finally:
        engine.dispose()


def logged_dispatch(
    args: argparse.Namespace, argv: Sequence[str], dispatch: Callable[[argparse.Namespace], int]
) -> int:
    """Run the command through ``dispatch`` and record it in the access log (see the module docstring)."""
    given_k = any(a == "--min-cell-size" or a.startswith("--min-cell-size=") for a in argv)
    if not given_k and hasattr(args, "min_cell_size"):
        args.min_cell_size = load_settings().min_cell_size  # k from the configuration file
    command = args.command
    if command not in LOGGED_COMMANDS or (command == "audit" and args.audit_command == "verify"):
        return dispatch(args)
    principal = cli_principal()
    args._principal = principal
    action = LOGGED_COMMANDS[command]
    try:
        if command in RECORDED_FIRST:
            _precheck(args, principal)  # a request beyond the role is refused before anything is recorded as done
            _record(args, principal, action, _object(args))  # AccessLogUnavailable refuses the command
            return dispatch(args)
        code = dispatch(args)
    except AccessRefused as exc:
        try:
            _record(args, principal, access_log.REFUSED, exc.what, detail=str(exc))
        except access_log.AccessLogUnavailable as log_error:
            print(f"warning: the refusal could not be recorded: {log_error}", file=sys.stderr)
        raise
    try:
        _record(args, principal, action, _object(args), detail=f"exit code {code}")
    except access_log.AccessLogUnavailable as exc:
        print(f"warning: this {command} was not recorded in the access log: {exc}", file=sys.stderr)
    return code


def _precheck(args: argparse.Namespace, principal: Principal) -> None:
    if args.command == "audit":
        require_admin(principal, "The access log")
    elif args.command == "reprocess":
        what = ("Exporting quarantined rows for reprocessing" if getattr(args, "export_to", None)
                else "Reprocessing quarantined rows")
        require_steward(principal, what)


# --- audit and reprocess ---------------------------------------------------------------------


def dispatch_access_command(args: argparse.Namespace) -> int:
    if args.command == "audit":
        return audit_verify(args) if args.audit_command == "verify" else audit_export(args)
    return reprocess(args)


def _engine_for_existing(args: argparse.Namespace) -> sa.engine.Engine:
    missing = store.missing_file_message(getattr(args, "db", None))
    if missing:
        raise store.DatabaseUnavailable(missing)
    return store.make_engine(getattr(args, "db", None))


def _has_log(engine: sa.engine.Engine) -> bool:
    with store.connect(engine) as conn:
        return sa.inspect(conn).has_table(access_log.TABLE)


def audit_verify(args: argparse.Namespace) -> int:
    """``audit verify``: 0 intact, 1 broken (the first bad row named), 2 no access log to check."""
    engine = _engine_for_existing(args)
    try:
        if not _has_log(engine):
            print("error: this database has no access log yet; run `partnership-dashboard migrate` "
                  "to add it.", file=sys.stderr)
            return EXIT_CANNOT_RUN
        result = access_log.verify(engine)
    finally:
        engine.dispose()
    if args.format == "json":
        print(json.dumps(result.to_json()))
    else:
        print(result.to_text(), file=sys.stdout if result.intact else sys.stderr)
    return EXIT_OK if result.intact else EXIT_BROKEN


def audit_export(args: argparse.Namespace) -> int:
    """``audit export --since DATE --format csv|json [--out FILE]`` (admin role)."""
    principal: Principal = getattr(args, "_principal", None) or cli_principal()
    engine = _engine_for_existing(args)
    try:
        rows = access_log.read_log(engine, principal, since=args.since, until=args.until)
    finally:
        engine.dispose()
    text = access_log.export_text(rows, args.format)
    if args.out is None:
        sys.stdout.write(text)
    else:
        write_private_text(args.out, text)
        print(f"Wrote {len(rows):,} access-log rows to {args.out}", file=sys.stderr)
    return EXIT_OK


def reprocess(args: argparse.Namespace) -> int:
    """``reprocess --export-to FOLDER`` (steward: open quarantine as contract files) or ``reprocess DIR``."""
    principal: Principal = getattr(args, "_principal", None) or cli_principal()
    if (args.export_to is None) == (args.directory is None):
        print("error: give either a folder of fixed rows to load (reprocess DIR) or --export-to FOLDER "
              "to write the open quarantine for fixing", file=sys.stderr)
        return EXIT_CANNOT_RUN
    engine = _engine_for_existing(args)
    try:
        if args.export_to is not None:
            require_steward(principal, "Exporting quarantined rows for reprocessing")
            audit = stew.read_audit(engine, principal)
            written = stew.write_reprocessing_extract(audit, principal, args.export_to, args.table)
            for path in written:
                print(f"wrote {path}")
            if not any(p.suffix == ".csv" for p in written):
                print("No open quarantined rows" + ("" if principal.all_agencies else " of your agencies")
                      + " to export.")
            return EXIT_OK
        report = stew.reprocess(engine, principal, args.directory, as_of=args.as_of)
    finally:
        engine.dispose()
    return print_report(report, args.format, "Reprocessed")


def migrate(args: argparse.Namespace) -> int:
    """``migrate``: bring the schema up to date; say how to create a PostgreSQL database that does not exist."""
    engine = store.make_engine(args.db)
    try:
        store.create_schema(engine)
    except sa.exc.OperationalError as exc:
        if store.is_missing_database(engine, exc):
            url = engine.url
            print(
                f"error: the PostgreSQL database {url.database!r} does not exist on {url.host or 'localhost'}. "
                "Create it (as a user allowed to create databases), then run migrate again:\n"
                f"  createdb -h {url.host or 'localhost'} -p {url.port or 5432} -U {url.username or 'postgres'} "
                f"-O {url.username or 'postgres'} {url.database}\n"
                f"or in psql: CREATE DATABASE \"{url.database}\" OWNER \"{url.username or 'postgres'}\";",
                file=sys.stderr,
            )
            return EXIT_CANNOT_RUN
        raise
    finally:
        engine.dispose()
    print(f"Schema is up to date on {engine.url.render_as_string(hide_password=True)}")
    return EXIT_OK
