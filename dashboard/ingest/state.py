"""What a load keeps across tables: the database writer, the parents' keys for foreign keys, quarantine resolution."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, cast

import polars as pl
import sqlalchemy as sa

from dashboard import contract, store, validation
from dashboard.contract import TABLES, Table

# --- per-table state shared across tables ----------------------------------------------


@dataclass
class Parents:
    """Keys of each processed table: valid in this extract, and rejected in it."""

    valid: dict[str, pl.Series] = field(default_factory=dict)
    rejected: dict[str, pl.Series] = field(default_factory=dict)
    #: participants loaded in this run: id and line (for warn:no_supervision_events)
    participants: pl.DataFrame | None = None


_WINDOW_COLUMNS = ["participant_id", "enrollment_date", "exit_date"]


class Database:
    """What the loader needs to know of the database, read once before this run writes.

    Everything is read at the start, inside the load's transaction, because the
    writes then go on in a thread of their own (:class:`Writer`) while the
    next file is validated. ``None`` connection = ``check``: nothing is stored.
    """

    def __init__(self, conn: sa.engine.Connection | None) -> None:
        self.conn = conn
        self._keys: dict[str, pl.Series] = {}
        for name in sorted({c.references for t in TABLES for c in t.foreign_keys if c.references}):
            key = contract.TABLES_BY_NAME[name].key
            self._keys[name] = (
                pl.Series(key, [], pl.String) if conn is None else store.read_table(conn, name, [key])[key]
            )
        self._windows = (
            pl.DataFrame(schema={"participant_id": pl.String, "enrollment_date": pl.Date, "exit_date": pl.Date})
            if conn is None
            else store.read_table(conn, "participants", _WINDOW_COLUMNS)
        )

    def keys(self, table: str) -> pl.Series:
        """Keys stored in ``table`` before this run."""
        return self._keys[table]

    def add_participants(self, loaded: pl.DataFrame) -> None:
        """This run's valid participants replace their stored copies in :meth:`participant_windows`."""
        ids = loaded["participant_id"].implode()
        self._windows = pl.concat(
            [self._windows.filter(~pl.col("participant_id").is_in(ids)), loaded.select(_WINDOW_COLUMNS)]
        )

    def participant_windows(self) -> pl.DataFrame:
        """Enrollment and exit dates of every participant, as they are once this run is stored."""
        return self._windows

    def supervised_participants(self, written_here: pl.Series | None, filled_empty_table: bool) -> pl.Series:
        """Participants with supervision events once this run is stored (call after the writes).

        ``written_here``: participants of this run's valid events. When this run
        filled an empty table (``filled_empty_table``; no one else could write
        it meanwhile) those are all there are, and the table is not read.
        """
        here = (
            written_here.cast(pl.String) if written_here is not None else pl.Series("participant_id", [], pl.String)
        )
        if self.conn is None or filled_empty_table:
            return here
        stored = store.read_frame(self.conn, "SELECT DISTINCT participant_id FROM supervision_events")
        return stored["participant_id"].cast(pl.String)  # this run's events are stored by now


#: Validated rows that may wait for the database writer (see :class:`Writer`).
WRITE_QUEUE_BYTES = 512 * 1024 * 1024


class Writer:
    """Writes each table's valid rows in a thread beside the loader.

    The database's work (DuckDB's insert, PostgreSQL's COPY and index builds)
    leaves the interpreter free, so while one table is written the next files
    are read and validated. Writes run one at a time, in hand-over order, on
    the load's connection and transaction; nothing else uses that connection
    until :meth:`drain`. Validated tables may queue for the writer up to
    :data:`WRITE_QUEUE_BYTES` (estimated frame size, the table being written
    included; a table larger than that waits until the queue is empty), so
    the loader does not stall on every hand-over while memory stays bounded.
    An error in a write stops the load at the next hand-over (later writes
    are skipped), and the transaction is rolled back as ever.
    """

    def __init__(self, conn: sa.engine.Connection, run_id: str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.conn = conn
        self.run_id = run_id
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database-writer")
        self._handed: deque[tuple[Any, int]] = deque()  # (future, bytes), oldest first
        self._failed = False
        #: tables that were empty and now hold exactly this run's rows (see store.bulk_upsert)
        self.filled_empty: set[str] = set()

    def write(self, table: Table, loaded: pl.DataFrame) -> None:
        # The table's columns in order are picked here, not in the writer thread:
        # polars runs such steps on its shared thread pool, where the writer would
        # queue behind the validation of the next file (measured: 1.7 s).
        rows = loaded.select(table.column_names)
        size = cast(int, rows.estimated_size())  # in bytes, an int; polars types it int | float
        while self._handed and (self._handed[0][0].done() or self._queued_bytes() + size > WRITE_QUEUE_BYTES):
            self._handed.popleft()[0].result()  # waits for the oldest write; re-raises its error
        self._handed.append((self._pool.submit(self._write, table, rows), size))

    def _queued_bytes(self) -> int:
        return sum(size for _, size in self._handed)

    def _write(self, table: Table, rows: pl.DataFrame) -> None:
        if self._failed:
            return  # an earlier write failed: the load is being abandoned
        try:
            if store.bulk_upsert(self.conn, table.name, rows):
                self.filled_empty.add(table.name)
            _resolve_quarantine(self.conn, table, rows.select(validation.record_key(table)).to_series(), self.run_id)
        except BaseException:
            self._failed = True
            raise

    def drain(self) -> None:
        """Wait for every write handed over; re-raise the first error."""
        while self._handed:
            self._handed.popleft()[0].result()

    def close(self) -> None:
        """Wait for the thread to stop (before the transaction ends, whatever happened)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._handed.clear()


def _resolve_quarantine(conn: sa.engine.Connection, table: Table, loaded_keys: pl.Series, run_id: str) -> None:
    """Mark earlier quarantined rows whose key has now loaded."""
    pending = store.read_frame(
        conn,
        "SELECT DISTINCT record_key FROM quarantine WHERE table_name = :t AND resolved_run_id IS NULL "
        "AND record_key IS NOT NULL AND run_id <> :r",
        {"t": table.name, "r": run_id},
    )
    if pending.height == 0:
        return
    keys = pending["record_key"].cast(pl.String)
    resolved = keys.filter(keys.is_in(loaded_keys.cast(pl.String).implode())).to_list()
    stmt = sa.text(
        "UPDATE quarantine SET resolved_run_id = :r WHERE table_name = :t AND resolved_run_id IS NULL "
        "AND record_key IN :keys"
    ).bindparams(sa.bindparam("keys", expanding=True))
    for start in range(0, len(resolved), 1000):
        conn.execute(stmt, {"r": run_id, "t": table.name, "keys": resolved[start : start + 1000]})
