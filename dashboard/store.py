"""The database as the rest of the dashboard sees it: engines, the schema, whole-table reads
and bulk upserts into polars, with connection failures turned into one clear error.

Nothing here, and nothing above this module, asks which database it talks to:
the differences between DuckDB (embedded default) and PostgreSQL (production)
live behind :mod:`dashboard.db` (see ``docs/database.md`` and
``docs/architecture.md``). Everything else is plain SQLAlchemy Core with
bound parameters.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from dashboard import db
from dashboard.db import metadata_for as metadata_for
from dashboard.db.base import Convert, unchanged
from dashboard.db.schema import CODE_COLLATION as CODE_COLLATION
from dashboard.db.schema import DUCKDB_METADATA as DUCKDB_METADATA
from dashboard.db.schema import METADATA as METADATA
from dashboard.db.schema import build_metadata as build_metadata
from dashboard.db.schema import cast_to_schema as cast_to_schema
from dashboard.db.schema import is_code as is_code
from dashboard.db.schema import polars_schema as polars_schema
from dashboard.private_files import make_private_database
from dashboard.settings import load_settings

DEFAULT_DB_FILENAME = "partnership_dashboard.duckdb"
SCHEMA_VERSION_TABLE = "alembic_version"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or opened; the message says what to do."""


def default_url() -> str:
    """``DATABASE_URL`` if set, else ``[database] url`` of the configuration file
    (docs/deployment.md), else the embedded database file in the current folder."""
    env = os.environ.get("DATABASE_URL")
    if env:
        return env
    configured = load_settings().database_url
    if configured:
        return normalise_url(configured)
    return db.embedded_file_url(Path.cwd() / DEFAULT_DB_FILENAME)


def normalise_url(url: str | None) -> str:
    """Accept ``postgresql://`` (psycopg 3 driver) and bare file paths for the embedded database."""
    if not url:
        return default_url()
    return db.normalise_url(url)


def missing_file_message(url: str | None) -> str | None:
    """Why a command that only reads cannot use ``url``: an embedded database file
    that does not exist (opening it would silently create an empty one). None if
    the URL may be used."""
    path = embedded_path(url)
    if path is not None and not path.exists():
        return (
            f"the database file {path} does not exist. Load an extract first "
            "(partnership-dashboard load DIR --db ...) or pass --db / DATABASE_URL with the right URL."
        )
    return None


def make_engine(url: str | None = None, *, read_only: bool = False) -> sa.engine.Engine:
    """An engine for ``url`` (see :func:`normalise_url`).

    DuckDB files allow one writing process at a time, so connections are not
    pooled: the dashboard holds the file only while it reads, and a ``load``
    from another process can take it between reads.
    """
    url = normalise_url(url)
    return db.backend_for(url).make_engine(url, read_only=read_only)


def make_reader_engine(url: str) -> sa.engine.Engine:
    """An engine for a process that only reads: read-only where the database needs that
    so a writer can take it between reads (the embedded file), an ordinary one elsewhere.

    Which database it is is judged on ``url`` as given (so a bare file path, which
    :func:`normalise_url` turns into an embedded database, opens writable, as it always has).
    """
    return make_engine(url, read_only=db.backend_for(url).readers_open_read_only)


def named_file(url: str) -> Path | None:
    """The embedded database file ``url`` names as given (a URL, not a bare path); None otherwise."""
    return db.backend_for(url).embedded_path(url)


def is_missing_database(engine: sa.engine.Engine, exc: BaseException) -> bool:
    """Whether ``exc`` says the database ``engine`` names does not exist on its server."""
    return db.backend_for(engine).is_missing_database(exc)


def serialise_appends(conn: sa.engine.Connection, key: int) -> None:
    """Make other processes' appends under ``key`` wait until this transaction commits
    (PostgreSQL; one writing process per file makes it unnecessary on DuckDB)."""
    db.backend_for(conn).serialise_appends(conn, key)


def create_schema(engine: sa.engine.Engine) -> None:
    """Bring the database to the current schema through the Alembic migrations."""
    # Imported here for cost only: Alembic (and Mako) take about half a second to import, and
    # a dashboard or ``metrics`` run that only reads never needs them (docs/performance.md).
    from dashboard.migrate import upgrade

    upgrade(engine)
    path = embedded_path(engine.url.render_as_string(hide_password=False))
    if path is not None:  # partner data: the file and its write-ahead log are the owner's only
        make_private_database(path)


def embedded_path(url: str | None) -> Path | None:
    """The embedded database file of ``url``, or None for a server or an in-memory database."""
    url = normalise_url(url)
    return db.backend_for(url).embedded_path(url)


def schema_exists(engine: sa.engine.Engine) -> bool:
    try:
        return sa.inspect(engine).has_table("participants")
    except sa.exc.OperationalError as exc:  # pragma: no cover - depends on the server
        raise DatabaseUnavailable(unavailable_message(engine, exc)) from exc


def unavailable_message(engine: sa.engine.Engine, exc: BaseException) -> str:
    """What to tell a user whose database could not be opened."""
    where = engine.url.render_as_string(hide_password=True)
    return (
        f"Cannot open the database {where}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}. "
        "Check that the server is running and the URL (--db or DATABASE_URL) is right; for the "
        "embedded database, check that no other program is loading into the same file."
    )


@contextmanager
def connect(engine: sa.engine.Engine) -> Iterator[sa.engine.Connection]:
    """A connection, with connection failures turned into :class:`DatabaseUnavailable`."""
    try:
        conn = engine.connect()
    except (sa.exc.OperationalError, sa.exc.DBAPIError) as exc:
        raise DatabaseUnavailable(unavailable_message(engine, exc)) from exc
    try:
        yield conn
    finally:
        conn.close()


# --- reading and writing polars frames (the fast paths live in dashboard.db) --------------


def read_frame(
    conn: sa.engine.Connection, sql: str, params: Mapping[str, Any] | None = None
) -> pl.DataFrame:
    """Run a parameterised SELECT (``:name`` placeholders) into polars, types kept."""
    return db.backend_for(conn).read_frame(conn, sql, params)


def read_table(
    conn: sa.engine.Connection, table: str, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """A whole contract or audit table into polars with the contract's types."""
    backend = db.backend_for(conn)
    sql_table = backend.metadata.tables[table]
    cols = list(columns) if columns else [c.name for c in sql_table.columns]
    return backend.read_table(conn, sql_table, cols)


def read_tables(
    engine: sa.engine.Engine,
    names: Sequence[str],
    columns: Mapping[str, Sequence[str]] | None = None,
    convert: Convert | None = None,
) -> dict[str, pl.DataFrame]:
    """Whole tables, each as :func:`read_table` gives it, all from one state of the database.

    ``columns``: per table, only these columns (in this order); a table not named
    there is read whole. The metric engine leaves out the columns it never reads
    (row identifiers), which at a million participants is a fifth of its memory.

    DuckDB: one after another on one connection, each column by its own query (about
    0.1 s per million rows; the process keeps less memory after the read).
    PostgreSQL: in one REPEATABLE READ transaction, so a load committing
    meanwhile is either wholly in the frames or not at all; with the ADBC
    driver installed (the ``postgres`` extra) the tables are read over several
    connections at once, all importing that transaction's snapshot.

    ``convert(table, frame)``: applied to each frame as soon as it is read (on DuckDB
    to each column, on PostgreSQL to each part of a table), so the metric engine's
    categoricals replace the raw strings before the next read and the read's peak
    memory stays near the finished tables' (docs/performance.md, "Tables in memory").
    """
    return db.backend_for(engine).read_tables(engine, names, connect, columns or {}, convert or unchanged)


def bulk_upsert(conn: sa.engine.Connection, table: str, rows: pl.DataFrame) -> bool:
    """Insert ``rows`` into ``table``, replacing rows whose primary key exists.

    Runs inside the caller's transaction. ``rows`` must carry exactly the
    table's columns (any order) with contract types. Returns True when the
    table was empty and nobody else can write it before the transaction ends
    (so it now holds exactly ``rows``), False otherwise.
    """
    if rows.height == 0:
        return False
    backend = db.backend_for(conn)
    sql_table = backend.metadata.tables[table]
    cols = [c.name for c in sql_table.columns]
    if rows.columns != cols:
        rows = rows.select(cols)
    return backend.bulk_upsert(conn, sql_table, rows)
