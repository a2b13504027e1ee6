"""The database: schema derived from the contract, engines, and the one thin
boundary where DuckDB (embedded default) and PostgreSQL (production) differ.

Nothing above this module knows which database it talks to. Two operations
are dialect-specific because the portable SQLAlchemy path is far too slow at
a million rows (see docs/database.md): bulk upsert of a polars frame and
reading a query into polars. Everything else is plain SQLAlchemy Core with
bound parameters.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from dashboard.contract import DECIMAL_PRECISION, DECIMAL_SCALE, TABLES, Column, Table

DEFAULT_DB_FILENAME = "partnership_dashboard.duckdb"
SCHEMA_VERSION_TABLE = "alembic_version"


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or opened; the message says what to do."""


def default_url() -> str:
    """``DATABASE_URL`` if set, else the embedded DuckDB file in the current folder."""
    env = os.environ.get("DATABASE_URL")
    if env:
        return env
    return f"duckdb:///{Path.cwd() / DEFAULT_DB_FILENAME}"


def normalise_url(url: str | None) -> str:
    """Accept ``postgresql://`` (psycopg 3 driver) and bare file paths for DuckDB."""
    if not url:
        return default_url()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if "://" not in url:
        return f"duckdb:///{Path(url).resolve()}"
    return url


def missing_file_message(url: str | None) -> str | None:
    """Why a command that only reads cannot use ``url``: an embedded database file
    that does not exist (opening it would silently create an empty one). None if
    the URL may be used."""
    url = normalise_url(url)
    if url.startswith("duckdb:///") and url != "duckdb:///:memory:":
        path = Path(url[len("duckdb:///") :])
        if not path.exists():
            return (
                f"the database file {path} does not exist. Load an extract first "
                "(partnership-dashboard load DIR --db ...) or pass --db / DATABASE_URL with the right URL."
            )
    return None


def dialect_of(engine: sa.engine.Engine) -> str:
    return engine.dialect.name


def make_engine(url: str | None = None, *, read_only: bool = False) -> sa.engine.Engine:
    """An engine for ``url`` (see :func:`normalise_url`).

    DuckDB files allow one writing process at a time, so connections are not
    pooled: the dashboard holds the file only while it reads, and a ``load``
    from another process can take it between reads.
    """
    url = normalise_url(url)
    if url.startswith("duckdb"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connect_args: dict[str, Any] = {}
        if read_only:
            connect_args["read_only"] = True
        return sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)
    # A server that does not answer (a dropped route, a firewall) must fail in
    # seconds with a clear message rather than hang the dashboard or a load.
    connect_args = {"connect_timeout": 10} if url.startswith("postgresql") else {}
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


# --- schema ---------------------------------------------------------------------

_SQL_TYPES: Mapping[str, Any] = {
    "str": sa.String,
    "enum": lambda: sa.String(40),
    "date": sa.Date,
    "bool": sa.Boolean,
    "int": sa.Integer,
    # money and full-time equivalents: stored exactly, never as binary floating point
    "decimal": lambda: sa.Numeric(DECIMAL_PRECISION, DECIMAL_SCALE),
}


# Codes (identifiers and enum values) compare byte by byte on PostgreSQL,
# whatever the server's locale: the same order as polars and DuckDB, and
# key and index builds about a third faster than with a locale's rules
# (migration 0003). Free text (names) keeps the database's collation.
CODE_COLLATION = "C"


def is_code(table: Table, col: Column) -> bool:
    """An identifier (a key or a reference) or an enum value: compared, never read as prose."""
    return col.type == "enum" or (col.type == "str" and (table.is_key_column(col.name) or col.references is not None))


def _sql_column(table: Table, col: Column, *, for_duckdb: bool) -> sa.Column[Any]:
    """One contract column; on DuckDB without foreign keys, indexes and collations
    (see :func:`build_metadata`; DuckDB compares strings byte by byte anyway)."""
    sql_type = _SQL_TYPES[col.type]()
    if not for_duckdb and is_code(table, col):
        sql_type = sa.String(sql_type.length, collation=CODE_COLLATION)
    args: list[Any] = [sql_type]
    if col.references and not for_duckdb:
        parent = next(t for t in TABLES if t.name == col.references)
        args.append(sa.ForeignKey(f"{parent.name}.{parent.key}"))
    return sa.Column(
        col.name,
        *args,
        primary_key=table.is_key_column(col.name),
        nullable=not col.required,
        # the first column of a primary key is served by the key's own index
        index=not for_duckdb
        and col.name != table.key_columns[0]
        and (bool(col.references) or col.type in ("date", "enum") and col.name in _INDEXED),
        comment=col.description,
    )


# Filter columns worth an index beyond the foreign keys.
_INDEXED = frozenset(
    {"cohort", "enrollment_date", "referral_date", "event_date", "contact_date", "check_date", "survey_date"}
)


def build_metadata(*, for_duckdb: bool = False) -> sa.MetaData:
    """The contract tables plus the audit tables.

    On DuckDB the contract tables have their primary keys only:

    - DuckDB implements an upsert as delete-and-insert, which a declared
      foreign key forbids on a parent that has children; there the ingest
      layer is the only enforcer of foreign keys (it always is the first one
      anyway);
    - secondary (ART) indexes serve nothing the dashboard does on DuckDB (it
      reads whole tables; range filters use DuckDB's per-block min/max) and
      tripled the commit time of a large load (migration 0002 drops them).
    """
    md = sa.MetaData()
    for table in TABLES:
        sa.Table(table.name, md, *[_sql_column(table, c, for_duckdb=for_duckdb) for c in table.columns])
    _audit_tables(md)
    return md


def _audit_tables(md: sa.MetaData) -> None:
    sa.Table(
        "load_runs",
        md,
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False, comment="load, check or reprocess"),
        sa.Column("started_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=False)),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("source", sa.String, nullable=False, comment="extract directory or database"),
        sa.Column("status", sa.String(20), nullable=False, comment="succeeded, rejected_rows, failed"),
        sa.Column("exit_code", sa.Integer),
        sa.Column("validation_success", sa.Boolean),
        sa.Column("rows_read", sa.Integer, nullable=False, default=0),
        sa.Column("rows_loaded", sa.Integer, nullable=False, default=0),
        sa.Column("rows_rejected", sa.Integer, nullable=False, default=0),
        sa.Column("duplicates_dropped", sa.Integer, nullable=False, default=0),
        sa.Column("warnings", sa.Integer, nullable=False, default=0),
        sa.Column("summary_json", sa.Text, comment="the load report as printed by load --format json"),
    )
    sa.Table(
        "load_files",
        md,
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("table_name", sa.String(40), primary_key=True),
        sa.Column("file_name", sa.String, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("rows_loaded", sa.Integer, nullable=False),
        sa.Column("rows_rejected", sa.Integer, nullable=False),
        sa.Column("duplicates_dropped", sa.Integer, nullable=False),
        sa.Column("warnings", sa.Integer, nullable=False),
        sa.Column("file_rejected", sa.Boolean, nullable=False),
        sa.Column("missing_columns", sa.String),
        sa.Column("validation_success", sa.Boolean),
    )
    sa.Table(
        "quarantine",
        md,
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("table_name", sa.String(40), primary_key=True),
        sa.Column("source_file", sa.String, primary_key=True),
        sa.Column("line_number", sa.Integer, primary_key=True, comment="line in the file; header is line 1"),
        sa.Column("record_key", sa.String, index=True),
        sa.Column("submitting_agency_id", sa.String, index=True),
        sa.Column("raw_values", sa.Text, nullable=False, comment="JSON object of the row as delivered"),
        sa.Column("rules", sa.Text, nullable=False, comment="JSON list of rule ids broken"),
        sa.Column("reasons", sa.Text, nullable=False, comment="the rules in words, one per line"),
        sa.Column("resolved_run_id", sa.String(36), comment="the later load run that loaded this key"),
    )
    sa.Table(
        "load_issues",
        md,
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("table_name", sa.String(40), primary_key=True),
        sa.Column("source_file", sa.String, primary_key=True),
        sa.Column("line_number", sa.Integer, primary_key=True),
        sa.Column("rule", sa.String, primary_key=True, comment="warn:* or duplicate_dropped"),
        sa.Column("record_key", sa.String, index=True),
        sa.Column("message", sa.Text, nullable=False),
    )


METADATA = build_metadata()
DUCKDB_METADATA = build_metadata(for_duckdb=True)


def metadata_for(engine: sa.engine.Engine) -> sa.MetaData:
    return METADATA if dialect_of(engine) == "postgresql" else DUCKDB_METADATA


def create_schema(engine: sa.engine.Engine) -> None:
    """Bring the database to the current schema through the Alembic migrations."""
    from dashboard.migrate import upgrade

    upgrade(engine)


def schema_exists(engine: sa.engine.Engine) -> bool:
    try:
        return sa.inspect(engine).has_table("participants")
    except sa.exc.OperationalError as exc:  # pragma: no cover - depends on the server
        raise DatabaseUnavailable(_unavailable_message(engine, exc)) from exc


def _unavailable_message(engine: sa.engine.Engine, exc: BaseException) -> str:
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
        raise DatabaseUnavailable(_unavailable_message(engine, exc)) from exc
    try:
        yield conn
    finally:
        conn.close()


# --- dialect boundary -------------------------------------------------------------


def _driver(conn: sa.engine.Connection) -> Any:
    """The DB-API connection under ``conn`` (DuckDB's or psycopg's own), for the
    paths SQLAlchemy has no fast form of."""
    driver = conn.connection.driver_connection
    if driver is None:  # SQLAlchemy's type allows it: a pool entry whose connection was closed
        raise sa.exc.InvalidRequestError("the database connection was closed")
    return driver


def read_frame(
    conn: sa.engine.Connection, sql: str, params: Mapping[str, Any] | None = None
) -> pl.DataFrame:
    """Run a parameterised SELECT (``:name`` placeholders) into polars, types kept."""
    if conn.dialect.name == "duckdb":
        driver = _driver(conn)
        text = sa.text(sql).compile(dialect=conn.dialect)  # turns :name into $name
        positional = [params[name] for name in text.positiontup] if text.positiontup and params else None
        relation = driver.sql(str(text), params=positional) if positional else driver.sql(str(text))
        return relation.pl()
    # infer_schema_length=None: a column null in its first rows must not fix its type to null
    return pl.read_database(
        sa.text(sql), connection=conn, execute_options={"parameters": dict(params or {})}, infer_schema_length=None
    )


def read_table(
    conn: sa.engine.Connection, table: str, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """A whole contract or audit table into polars with the contract's types."""
    md = metadata_for(conn.engine)
    sql_table = md.tables[table]
    cols = list(columns) if columns else [c.name for c in sql_table.columns]
    quoted = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in cols)
    select = f"SELECT {quoted} FROM {conn.dialect.identifier_preparer.quote(table)}"
    if conn.dialect.name == "postgresql":
        return _postgres_copy_read(conn, select, [sql_table.c[c] for c in cols])
    return cast_to_schema(read_frame(conn, select), sql_table)


def read_tables(engine: sa.engine.Engine, names: Sequence[str]) -> dict[str, pl.DataFrame]:
    """Whole tables, each as :func:`read_table` gives it, all from one state of the database.

    DuckDB: one after another on one connection (about 0.1 s per million rows).
    PostgreSQL: in one REPEATABLE READ transaction, so a load committing
    meanwhile is either wholly in the frames or not at all; with the ADBC
    driver installed (the ``postgres`` extra) the tables are read over several
    connections at once, all importing that transaction's snapshot.
    """
    if dialect_of(engine) != "postgresql":
        with connect(engine) as conn:
            return {name: read_table(conn, name) for name in names}
    with connect(engine) as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if _adbc_available() and len(names) > 1:
                try:
                    return _postgres_parallel_read(conn, names)
                except Exception as exc:  # the extra connections failed: read on this one
                    import warnings

                    warnings.warn(
                        f"reading over several PostgreSQL connections failed ({exc.__class__.__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''}); reading one table at a time",
                        RuntimeWarning,
                        stacklevel=2,
                    )
            return {name: read_table(conn, name) for name in names}


def _adbc_available() -> bool:
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


# A table larger than this many 8 kB pages is read in several ctid ranges at once.
_PAGES_PER_PART = 20_000
_READ_CONNECTIONS = 4


def _postgres_parallel_read(conn: sa.engine.Connection, names: Sequence[str]) -> dict[str, pl.DataFrame]:
    """Read ``names`` over several ADBC connections sharing ``conn``'s snapshot.

    The server sends a table at about a million rows per second per backend,
    so one connection spends some 12 s on a 10-million-row database; several
    backends, each sending a table or a range of a large table's pages
    (``ctid``), share that work. Each connection starts a REPEATABLE READ
    transaction on the snapshot ``conn`` exported, the way ``pg_dump --jobs``
    does, so every part sees exactly the same rows.
    """
    from concurrent.futures import ThreadPoolExecutor

    import adbc_driver_postgresql.dbapi as adbc

    driver = _driver(conn)
    with driver.cursor() as cur:
        cur.execute("SELECT pg_export_snapshot()")
        snapshot = cur.fetchone()[0]
        cur.execute(
            "SELECT c.relname, (pg_relation_size(c.oid) / current_setting('block_size')::int)::bigint "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = ANY(%s) AND c.relkind = 'r' AND n.nspname = current_schema()",
            (list(names),),
        )
        pages = dict(cur.fetchall())
    md = metadata_for(conn.engine)
    q = conn.dialect.identifier_preparer.quote
    jobs: list[tuple[str, str]] = []
    for name in sorted(names, key=lambda n: -pages.get(n, 0)):
        # NUMERIC arrives from ADBC as an Arrow extension type polars cannot cast: read
        # it as text (exact), which cast_to_schema turns into Decimal(18, 2)
        cols = ", ".join(
            f"{q(c.name)}::text AS {q(c.name)}" if isinstance(c.type, sa.Numeric) else q(c.name)
            for c in md.tables[name].columns
        )
        select = f"SELECT {cols} FROM {q(name)}"
        parts = max(1, -(-pages.get(name, 0) // _PAGES_PER_PART))
        if parts == 1:
            jobs.append((name, select))
            continue
        step = -(-pages[name] // parts)
        for i in range(parts):
            upper = "" if i == parts - 1 else f" AND ctid < '({(i + 1) * step},0)'::tid"
            jobs.append((name, f"{select} WHERE ctid >= '({i * step},0)'::tid{upper}"))
    url = conn.engine.url.set(drivername="postgresql")
    if "connect_timeout" not in url.query:
        url = url.update_query_dict({"connect_timeout": "10"})
    uri = url.render_as_string(hide_password=False)

    def run(job: tuple[str, str]) -> pl.DataFrame:
        with adbc.connect(uri, autocommit=True) as reader, reader.cursor() as cur:
            cur.execute("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # a server-made id, not user input
            cur.execute(job[1])
            frame = pl.from_arrow(cur.fetch_arrow_table())
            cur.execute("COMMIT")
        assert isinstance(frame, pl.DataFrame)
        return frame

    with ThreadPoolExecutor(max_workers=_READ_CONNECTIONS, thread_name_prefix="postgres-read") as pool:
        frames = list(pool.map(run, jobs))
    out: dict[str, list[pl.DataFrame]] = {name: [] for name in names}
    # jobs of one table are in ctid order, so the parts concatenate in the table's physical order
    for (name, _), frame in zip(jobs, frames):
        out[name].append(frame)
    return {
        name: cast_to_schema(pl.concat(parts, how="vertical_relaxed"), md.tables[name]) for name, parts in out.items()
    }


def _postgres_copy_read(conn: sa.engine.Connection, select: str, columns: list[sa.Column[Any]]) -> pl.DataFrame:
    """A whole-table read from PostgreSQL through ``COPY ... TO STDOUT`` (CSV), parsed by polars.

    Row-by-row fetching through the driver costs about 6 s per million rows
    (60 s for a 1M-participant extract); COPY streams the table in one piece.
    Every value arrives as text and is typed here: in PostgreSQL's CSV an
    unquoted empty field is NULL (the loader never stores empty strings).
    """
    buffer = io.BytesIO()
    driver = _driver(conn)
    with driver.cursor() as cur:
        with cur.copy(f"COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')") as copy:
            for block in copy:
                buffer.write(block)
    names = [c.name for c in columns]
    if buffer.tell() == 0:
        return pl.DataFrame(schema={c.name: _polars_type(c.type) for c in columns})
    text = pl.read_csv(buffer.getvalue(), infer_schema=False, has_header=True, new_columns=names)
    return text.select(_from_text(pl.col(c.name), c.type).alias(c.name) for c in columns)


def _from_text(col: pl.Expr, sql_type: Any) -> pl.Expr:
    if isinstance(sql_type, sa.DateTime):
        return col.str.to_datetime(time_unit="us")
    if isinstance(sql_type, sa.Date):
        return col.str.to_date("%Y-%m-%d")
    if isinstance(sql_type, sa.Boolean):
        return pl.when(col.is_null()).then(None).otherwise(col == "t")
    if isinstance(sql_type, sa.Integer):
        return col.cast(pl.Int64)
    if isinstance(sql_type, sa.Numeric):
        return col.cast(_polars_type(sql_type))
    return col



def polars_schema(table: str) -> dict[str, pl.DataType]:
    md_table = METADATA.tables[table]
    return {c.name: _polars_type(c.type) for c in md_table.columns}


def _polars_type(sql_type: Any) -> pl.DataType:
    if isinstance(sql_type, sa.DateTime):
        return pl.Datetime("us")
    if isinstance(sql_type, sa.Date):
        return pl.Date()
    if isinstance(sql_type, sa.Boolean):
        return pl.Boolean()
    if isinstance(sql_type, sa.Integer):
        return pl.Int64()
    if isinstance(sql_type, sa.Numeric):
        return pl.Decimal(DECIMAL_PRECISION, DECIMAL_SCALE)
    return pl.String()


def cast_to_schema(frame: pl.DataFrame, sql_table: sa.Table) -> pl.DataFrame:
    want = {c.name: _polars_type(c.type) for c in sql_table.columns if c.name in frame.columns}
    if frame.height == 0:
        return pl.DataFrame(schema=want)
    return frame.cast(want, strict=False)  # type: ignore[arg-type]


def bulk_upsert(conn: sa.engine.Connection, table: str, rows: pl.DataFrame) -> bool:
    """Insert ``rows`` into ``table``, replacing rows whose primary key exists.

    Runs inside the caller's transaction. ``rows`` must carry exactly the
    table's columns (any order) with contract types. Returns True when the
    table was empty and nobody else can write it before the transaction ends
    (so it now holds exactly ``rows``), False otherwise.
    """
    if rows.height == 0:
        return False
    md = metadata_for(conn.engine)
    sql_table = md.tables[table]
    cols = [c.name for c in sql_table.columns]
    keys = [c.name for c in sql_table.primary_key.columns]
    if rows.columns != cols:
        rows = rows.select(cols)
    q = conn.dialect.identifier_preparer.quote
    col_list = ", ".join(q(c) for c in cols)
    if conn.dialect.name == "duckdb":
        driver = _driver(conn)
        view = f"_incoming_{table}"
        driver.register(view, rows.to_arrow())
        try:
            # Into an empty table (a first load) a plain INSERT does the same and
            # is about 1.5x faster: nothing can conflict, since a batch's keys are
            # unique (the loader's duplicate policy).
            empty = not driver.sql(f"SELECT 1 FROM {q(table)} LIMIT 1").fetchall()
            verb = "INSERT" if empty else "INSERT OR REPLACE"
            driver.sql(f"{verb} INTO {q(table)} ({col_list}) SELECT {col_list} FROM {view}")
        finally:
            driver.unregister(view)
        # DuckDB: one writing process per file, and a concurrent transaction's
        # write to this table would fail to commit (write-write conflict)
        return empty
    if conn.dialect.name == "postgresql":
        return _postgres_copy_upsert(conn, table, cols, keys, rows, [c.type for c in sql_table.columns])
    # Any other SQLAlchemy dialect: portable but slow path.
    stmt = sa.insert(sql_table)
    conn.execute(sa.delete(sql_table).where(sa.tuple_(*[sql_table.c[k] for k in keys]).in_(rows.select(keys).rows())))
    conn.execute(stmt, rows.to_dicts())
    return False


def _postgres_copy_upsert(
    conn: sa.engine.Connection,
    table: str,
    cols: list[str],
    keys: list[str],
    rows: pl.DataFrame,
    sql_types: list[Any],
) -> bool:
    q = conn.dialect.identifier_preparer.quote
    driver = _driver(conn)
    col_list = ", ".join(q(c) for c in cols)
    with driver.cursor() as cur:
        cur.execute(f"SELECT 1 FROM {q(table)} LIMIT 1")
        if cur.fetchone() is None:
            # Asked again under the lock the first-load path needs anyway: another
            # load may have filled the table since (it then waits for this one).
            cur.execute(f"LOCK TABLE {q(table)} IN ACCESS EXCLUSIVE MODE")
            cur.execute(f"SELECT 1 FROM {q(table)} LIMIT 1")
            if cur.fetchone() is None:
                # the lock is held until the transaction ends: nobody else writes here
                _postgres_first_load(cur, table, q(table), col_list, rows, sql_types)
                return True
        staging = f"_incoming_{table}"
        updates = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in cols if c not in keys)
        changed = " OR ".join(f"{q(table)}.{q(c)} IS DISTINCT FROM EXCLUDED.{q(c)}" for c in cols if c not in keys)
        cur.execute(f"CREATE TEMP TABLE {staging} (LIKE {q(table)} INCLUDING DEFAULTS) ON COMMIT DROP")
        _copy_in(cur, staging, col_list, rows, sql_types)
        # Rows whose stored copy is identical are left alone: reloading an
        # extract then writes (and bloats) nothing.
        conflict = f"DO UPDATE SET {updates} WHERE {changed}" if updates else "DO NOTHING"
        cur.execute(
            f"INSERT INTO {q(table)} ({col_list}) SELECT {col_list} FROM {staging} "
            f"ON CONFLICT ({', '.join(q(k) for k in keys)}) {conflict}"
        )
        cur.execute(f"DROP TABLE {staging}")
    return False


_COPY_SLICE = 250_000


def _copy_in(
    cur: Any, table: str, col_list: str, rows: pl.DataFrame, sql_types: Sequence[Any], *, freeze: bool = False
) -> None:
    """COPY ``rows`` (columns in the order of ``col_list``, whose SQL types are
    ``sql_types``) into ``table``, in slices.

    The rows go in PostgreSQL's binary format (:mod:`dashboard.pgcopy`),
    which the server reads faster than text. A frame the binary writer does
    not cover, or any frame on a connection whose client encoding is not
    UTF-8 (the server would take binary text in that encoding), goes as CSV
    written by polars, where an unquoted empty field is NULL and polars
    quotes empty strings; the CSV is declared UTF-8 whatever the client
    encoding. Either is about 10x faster than psycopg's ``write_row`` per
    record.

    The server's side is the slow one, so the next slice is encoded by a
    helper thread while the current one is sent (polars and Arrow leave the
    interpreter free while they work).
    """
    from concurrent.futures import ThreadPoolExecutor

    from dashboard import pgcopy

    how = pgcopy.plan(sql_types, rows) if cur.connection.info.encoding == "utf-8" else None

    def encoded(start: int) -> memoryview:
        part = rows.slice(start, _COPY_SLICE)
        if how is not None:
            return pgcopy.encode(part, how)
        out = io.BytesIO()
        part.write_csv(out, include_header=False, null_value="", date_format="%Y-%m-%d")
        return out.getbuffer()

    options = ["FORMAT binary"] if how is not None else ["FORMAT csv", "ENCODING 'UTF8'"]
    options += ["FREEZE true"] if freeze else []
    starts = range(0, rows.height, _COPY_SLICE)
    if not starts:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="copy-encode") as pool:
        with cur.copy(f"COPY {table} ({col_list}) FROM STDIN WITH ({', '.join(options)})") as copy:
            if how is not None:
                copy.write(pgcopy.SIGNATURE)
            pending = pool.submit(encoded, starts[0])
            for start in starts[1:]:
                chunk = pending.result()
                pending = pool.submit(encoded, start)
                copy.write(chunk)
            copy.write(pending.result())
            if how is not None:
                copy.write(pgcopy.TRAILER)


def _postgres_first_load(
    cur: Any, table: str, quoted_table: str, col_list: str, rows: pl.DataFrame, sql_types: Sequence[Any]
) -> None:
    """Fill an empty table the way PostgreSQL's manual advises for bulk loads.

    Its secondary indexes and foreign keys (and its primary key, when no
    stored row of another table points at it) are dropped, the rows are
    copied straight in, then the keys and indexes are rebuilt (one sort each,
    instead of one index insertion per row) and the foreign keys are added
    back, which checks every row against its parent in one join instead of
    one lookup per row. All of it is inside the load's transaction: a failure
    restores the indexes and keys with everything else, and a row without a
    parent still fails the load. The locks this takes keep readers of this
    (empty) table, and of the empty tables that refer to it, waiting until
    the load commits.
    """
    from psycopg import sql

    def constraints(where: str, *args: Any) -> list[tuple[Any, ...]]:
        cur.execute(f"SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint {where}", args)
        return cur.fetchall()

    cur.execute(
        "SELECT pg_get_indexdef(i.indexrelid), c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
        (quoted_table,),
    )
    indexes = cur.fetchall()
    foreign_keys = constraints("WHERE conrelid = %s::regclass AND contype = 'f'", quoted_table)
    # Foreign keys of other tables that point at this one. Their tables are locked
    # (a first load writes parents before children, so nobody holds them in the
    # other order); if all are empty too, as in a load into a new database, those
    # keys are set aside for the copy and added back at the end (checking an
    # empty table is instant), so this table takes the fast path as well.
    pointing = constraints("WHERE confrelid = %s::regclass AND conrelid <> confrelid AND contype = 'f'", quoted_table)
    for child in sorted({c for c, _, _ in pointing}):
        cur.execute(f"LOCK TABLE {child} IN ACCESS EXCLUSIVE MODE")
        cur.execute(f"SELECT 1 FROM {child} LIMIT 1")
        if cur.fetchone() is not None:
            pointing = []  # a stored row points here: the primary key must stay
            referenced = True
            break
    else:
        referenced = False
    primary_key: list[tuple[Any, ...]] = []
    if not referenced:
        # 12 + 3.5 s instead of 20 s for 5.8 million supervision events
        primary_key = constraints("WHERE conrelid = %s::regclass AND contype = 'p'", quoted_table)

    def drop(owner: str, name: str) -> None:
        cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.SQL(owner), sql.Identifier(name)))

    def add(owner: str, name: str, definition: str) -> None:  # definition: as pg_get_constraintdef gave it
        cur.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(sql.SQL(owner), sql.Identifier(name))
            + sql.SQL(definition)
        )

    for owner, name, _ in [*pointing, *foreign_keys, *primary_key]:
        drop(owner, name)
    for _, name in indexes:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    if not referenced:
        # Empty and locked: truncating it changes nothing but lets COPY write the
        # rows already frozen (about 10% faster, and the first read after the
        # load does not rewrite every page to set hint bits). TRUNCATE refuses a
        # table that a foreign key points at, hence the keys set aside above.
        cur.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
    _copy_in(cur, quoted_table, col_list, rows, sql_types, freeze=not referenced)
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
    # the primary key first: a duplicate key (which the loader never lets
    # through) fails here, before any other index is built
    for owner, name, definition in primary_key:
        add(owner, name, definition)
    for definition, _ in indexes:
        cur.execute(definition)
    for owner, name, definition in [*foreign_keys, *pointing]:
        add(owner, name, definition)
    cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
