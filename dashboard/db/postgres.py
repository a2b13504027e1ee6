"""PostgreSQL, the production database: COPY in and out, snapshot-consistent parallel reads.

What differs from the portable path (``docs/database.md``): ``postgresql://``
URLs use the psycopg 3 driver and give up connecting after 10 s; the full
schema (foreign keys, indexes, byte-order collation of codes); whole tables
are read with ``COPY ... TO STDOUT`` (or over several ADBC connections
sharing one snapshot), and bulk upserts go through ``COPY`` into a staging
table, or straight into an empty table with its keys and indexes rebuilt.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl
import sqlalchemy as sa

from dashboard.db.base import Backend, Connect, Convert, driver_connection, unchanged
from dashboard.db.schema import METADATA, cast_to_schema, polars_type


class PostgreSQL(Backend):
    name = "postgresql"

    def handles(self, url: str) -> bool:
        return url.startswith("postgresql")

    def normalise_url(self, url: str) -> str:
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            return "postgresql+psycopg://" + url[len("postgresql://") :]
        return url

    def make_engine(self, url: str, *, read_only: bool = False) -> sa.engine.Engine:
        # A server that does not answer (a dropped route, a firewall) must fail in
        # seconds with a clear message rather than hang the dashboard or a load.
        return sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})

    def is_missing_database(self, exc: BaseException) -> bool:
        text = str(getattr(exc, "orig", None) or exc)
        return "does not exist" in text and "database" in text

    @property
    def metadata(self) -> sa.MetaData:
        return METADATA

    def read_table(
        self, conn: sa.engine.Connection, sql_table: sa.Table, columns: Sequence[str], convert: Convert = unchanged
    ) -> pl.DataFrame:
        select = self.select_sql(conn, sql_table, columns)
        return convert(sql_table.name, _postgres_copy_read(conn, select, [sql_table.c[c] for c in columns]))

    def read_tables(
        self,
        engine: sa.engine.Engine,
        names: Sequence[str],
        connect: Connect,
        columns: Mapping[str, Sequence[str]],
        convert: Convert = unchanged,
    ) -> dict[str, pl.DataFrame]:
        """In one REPEATABLE READ transaction, so a load committing meanwhile is either
        wholly in the frames or not at all; with the ADBC driver installed (the
        ``postgres`` extra) the tables are read over several connections at once,
        all importing that transaction's snapshot."""
        with connect(engine) as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                if _adbc_available() and len(names) > 1:
                    try:
                        return _postgres_parallel_read(
                            conn, {name: self.columns_of(name, columns) for name in names}, convert
                        )
                    except Exception as exc:  # the extra connections failed: read on this one
                        warnings.warn(
                            f"reading over several PostgreSQL connections failed ({exc.__class__.__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}); reading one table at a time",
                            RuntimeWarning,
                            stacklevel=3,
                        )
                return {
                    name: self.read_table(conn, METADATA.tables[name], self.columns_of(name, columns), convert)
                    for name in names
                }

    def bulk_upsert(self, conn: sa.engine.Connection, sql_table: sa.Table, rows: pl.DataFrame) -> bool:
        cols = [c.name for c in sql_table.columns]
        keys = [c.name for c in sql_table.primary_key.columns]
        return _postgres_copy_upsert(conn, sql_table.name, cols, keys, rows, [c.type for c in sql_table.columns])

    def serialise_appends(self, conn: sa.engine.Connection, key: int) -> None:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _adbc_available() -> bool:
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


# A table larger than this many 8 kB pages is read in several ctid ranges at once.
_PAGES_PER_PART = 20_000
_READ_CONNECTIONS = 4


def _postgres_parallel_read(
    conn: sa.engine.Connection, columns: Mapping[str, Sequence[str]], convert: Convert = unchanged
) -> dict[str, pl.DataFrame]:
    """Read the tables ``columns`` names (those columns of each) over several ADBC
    connections sharing ``conn``'s snapshot.

    The server sends a table at about a million rows per second per backend,
    so one connection spends some 12 s on a 10-million-row database; several
    backends, each sending a table or a range of a large table's pages
    (``ctid``), share that work. Each connection starts a REPEATABLE READ
    transaction on the snapshot ``conn`` exported, the way ``pg_dump --jobs``
    does, so every part sees exactly the same rows.
    """
    import adbc_driver_postgresql.dbapi as adbc  # optional (the ``postgres`` extra): imported when used

    driver = driver_connection(conn)
    with driver.cursor() as cur:
        cur.execute("SELECT pg_export_snapshot()")
        snapshot = cur.fetchone()[0]
        cur.execute(
            "SELECT c.relname, (pg_relation_size(c.oid) / current_setting('block_size')::int)::bigint "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = ANY(%s) AND c.relkind = 'r' AND n.nspname = current_schema()",
            (list(columns),),
        )
        pages = dict(cur.fetchall())
    md = METADATA
    q = conn.dialect.identifier_preparer.quote
    jobs: list[tuple[str, str]] = []
    for name in sorted(columns, key=lambda n: -pages.get(n, 0)):
        # NUMERIC arrives from ADBC as an Arrow extension type polars cannot cast: read
        # it as text (exact), which cast_to_schema turns into Decimal(18, 2)
        table_columns = [md.tables[name].c[c] for c in columns[name]]
        cols = ", ".join(
            f"{q(c.name)}::text AS {q(c.name)}" if isinstance(c.type, sa.Numeric) else q(c.name)
            for c in table_columns
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
            # The driver's batches are freed only whole, so a column polars keeps without copying
            # (dates, numbers) would hold its batch's strings too: copied into one chunk first, each
            # column's buffers are its own (0.5 GB less at a million participants, in the same time).
            frame = pl.from_arrow(cur.fetch_arrow_table().combine_chunks())
            cur.execute("COMMIT")
        assert isinstance(frame, pl.DataFrame)
        # typed and converted part by part, so the raw strings of only a few parts are held at once
        return convert(job[0], cast_to_schema(frame, md.tables[job[0]]))

    with ThreadPoolExecutor(max_workers=_READ_CONNECTIONS, thread_name_prefix="postgres-read") as pool:
        frames = list(pool.map(run, jobs))
    # Arrow's memory pool keeps the pages of those copies for reuse: give them back (about 0.2 GB at 1M)
    import pyarrow as pa  # installed with the ADBC driver

    pa.default_memory_pool().release_unused()
    out: dict[str, list[pl.DataFrame]] = {name: [] for name in columns}
    # jobs of one table are in ctid order, so the parts concatenate in the table's physical order
    for (name, _), frame in zip(jobs, frames):
        out[name].append(frame)
    # each part is typed and converted already (a cast to the contract's types here would turn
    # the caller's categoricals back into strings)
    return {name: pl.concat(parts, how="vertical_relaxed") for name, parts in out.items()}


def _postgres_copy_read(conn: sa.engine.Connection, select: str, columns: list[sa.Column[Any]]) -> pl.DataFrame:
    """A whole-table read from PostgreSQL through ``COPY ... TO STDOUT`` (CSV), parsed by polars.

    Row-by-row fetching through the driver costs about 6 s per million rows
    (60 s for a 1M-participant extract); COPY streams the table in one piece.
    Every value arrives as text and is typed here: in PostgreSQL's CSV an
    unquoted empty field is NULL (the loader never stores empty strings).
    """
    buffer = io.BytesIO()
    driver = driver_connection(conn)
    with driver.cursor() as cur:
        with cur.copy(f"COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')") as copy:
            for block in copy:
                buffer.write(block)
    names = [c.name for c in columns]
    if buffer.tell() == 0:
        return pl.DataFrame(schema={c.name: polars_type(c.type) for c in columns})
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
        return col.cast(polars_type(sql_type))
    return col


def _postgres_copy_upsert(
    conn: sa.engine.Connection,
    table: str,
    cols: list[str],
    keys: list[str],
    rows: pl.DataFrame,
    sql_types: list[Any],
) -> bool:
    q = conn.dialect.identifier_preparer.quote
    driver = driver_connection(conn)
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
    from dashboard import (
        pgcopy,  # numpy and Arrow: imported by a PostgreSQL load only, not by every store import
    )

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
    from psycopg import sql  # the ``postgres`` extra: only a PostgreSQL database gets here

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
