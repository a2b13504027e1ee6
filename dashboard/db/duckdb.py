"""DuckDB, the embedded default: one file, one writing process, native polars I/O.

What differs from the portable path (``docs/database.md``): a bare file path
is a DuckDB URL; connections are not pooled (the dashboard holds the file
only while it reads, and a ``load`` from another process can take it between
reads) and the dashboard's readers open it read-only; connections of one
process to one file take turns (:func:`_share_file_within_process`);
queries and bulk upserts go through DuckDB's own API (Arrow in, polars out),
which is some 100x faster than SQLAlchemy's row path.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from dashboard.db.base import Backend, Convert, driver_connection, unchanged
from dashboard.db.schema import cast_to_schema

PREFIX = "duckdb:///"
MEMORY = "duckdb:///:memory:"
# Whole-table reads go one column per query (DuckDB.read_table); the tests turn it off
# to compare with the one-query read.
READ_COLUMN_BY_COLUMN = True


def file_url(path: Path) -> str:
    """The URL of the embedded database file ``path``."""
    return f"{PREFIX}{path}"


class DuckDB(Backend):
    name = "duckdb"
    readers_open_read_only = True

    def handles(self, url: str) -> bool:
        return url.startswith("duckdb")

    def embedded_path(self, url: str) -> Path | None:
        if url.startswith(PREFIX) and url != MEMORY:
            return Path(url[len(PREFIX) :])
        return None

    def make_engine(self, url: str, *, read_only: bool = False) -> sa.engine.Engine:
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connect_args: dict[str, Any] = {}
        if read_only:
            connect_args["read_only"] = True
        engine = sa.create_engine(url, poolclass=_NullPoolReleasingTurns, connect_args=connect_args)
        if path and path != ":memory:":
            _share_file_within_process(engine, path, read_only=read_only)
        return engine

    def read_frame(
        self, conn: sa.engine.Connection, sql: str, params: Mapping[str, Any] | None = None
    ) -> pl.DataFrame:
        driver = driver_connection(conn)
        text = sa.text(sql).compile(dialect=conn.dialect)  # turns :name into $name
        positional = [params[name] for name in text.positiontup] if text.positiontup and params else None
        relation = driver.sql(str(text), params=positional) if positional else driver.sql(str(text))
        return relation.pl()

    def read_table(
        self, conn: sa.engine.Connection, sql_table: sa.Table, columns: Sequence[str], convert: Convert = unchanged
    ) -> pl.DataFrame:
        """``columns`` of a whole table, one column per query.

        DuckDB hands a result over as Arrow buffers that polars then converts
        (strings into its own layout); reading a wide table at once holds both
        copies of every column at the same time, and the process keeps that
        peak afterwards. Column by column the peak is one column's copy: at a
        million participants the loaded tables take about 0.3 GB less resident
        memory, in about the same time (docs/performance.md, "Tables in memory").
        Every query scans the same table in its stored order (DuckDB keeps the
        insertion order of a plain scan), so the columns line up row by row.
        """
        if not READ_COLUMN_BY_COLUMN or len(columns) < 2:
            return super().read_table(conn, sql_table, columns, convert)
        driver = driver_connection(conn)
        series = []
        for name in columns:
            frame = driver.sql(self.select_sql(conn, sql_table, [name])).pl()
            # each column takes its final type before the next is read (a categorical
            # is a quarter of the strings it replaces)
            series.append(convert(sql_table.name, cast_to_schema(frame, sql_table)).to_series())
            del frame
        return pl.DataFrame(series)

    def bulk_upsert(self, conn: sa.engine.Connection, sql_table: sa.Table, rows: pl.DataFrame) -> bool:
        q = conn.dialect.identifier_preparer.quote
        table = sql_table.name
        col_list = ", ".join(q(c) for c in rows.columns)
        driver = driver_connection(conn)
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


# --- connections of one process to one file take turns ---------------------------------


class _ReadWriteLock:
    """Many readers or one writer (threads of one process), writers first once waiting."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire(self, write: bool, timeout: float) -> bool:
        with self._cond:
            if write:
                self._writers_waiting += 1
                try:
                    ok = self._cond.wait_for(lambda: not self._writer and self._readers == 0, timeout)
                    if ok:
                        self._writer = True
                    return ok
                finally:
                    self._writers_waiting -= 1
            ok = self._cond.wait_for(lambda: not self._writer and self._writers_waiting == 0, timeout)
            if ok:
                self._readers += 1
            return ok

    def release(self, write: bool) -> None:
        with self._cond:
            if write:
                self._writer = False
            else:
                self._readers -= 1
            self._cond.notify_all()


_FILE_LOCKS: dict[str, _ReadWriteLock] = {}
_FILE_LOCKS_GUARD = threading.Lock()
FILE_LOCK_TIMEOUT_SECONDS = 30.0


def _share_file_within_process(engine: sa.engine.Engine, path: str, *, read_only: bool) -> None:
    """Read-only and writing connections to one DuckDB file, from threads of one process, take turns.

    DuckDB refuses a connection whose configuration (read-only or not)
    differs from one already open on the same file in the same process. The
    dashboard reads read-only and appends to the access log with a writing
    connection; this lock (readers share, a writer waits for them and they
    for it) keeps the two from meeting. Other processes are kept apart by
    DuckDB's own file lock.
    """
    with _FILE_LOCKS_GUARD:
        lock = _FILE_LOCKS.setdefault(str(Path(path).resolve()), _ReadWriteLock())
    write = not read_only

    @sa.event.listens_for(engine, "do_connect")
    def _take_turn(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Any:
        if not lock.acquire(write, FILE_LOCK_TIMEOUT_SECONDS):
            raise sa.exc.OperationalError(
                "connect", None,
                Exception(f"the database file {path} stayed busy in this process for {FILE_LOCK_TIMEOUT_SECONDS:.0f} s"),
            )
        try:
            connection = dialect.connect(*cargs, **cparams)
        except BaseException:
            lock.release(write)
            raise
        record.info["_file_lock"] = write
        return connection

    engine.pool._file_turns = lock  # type: ignore[attr-defined]


class _NullPoolReleasingTurns(sa.pool.NullPool):
    """NullPool that gives up the file's turn only after the DuckDB connection is really closed
    (SQLAlchemy's ``close`` event fires before the close)."""

    def _do_return_conn(self, record: Any) -> None:
        write = record.info.get("_file_lock")
        try:
            super()._do_return_conn(record)
        finally:
            lock = getattr(self, "_file_turns", None)
            if write is not None and lock is not None:
                record.info.pop("_file_lock", None)
                lock.release(write)

    def recreate(self) -> "_NullPoolReleasingTurns":
        pool = super().recreate()
        pool._file_turns = getattr(self, "_file_turns", None)  # type: ignore[attr-defined]
        return pool  # type: ignore[return-value]
