"""The access log: who looked at and exported what, in a chain an edit cannot hide.

One append-only table, ``access_log``, in the same database as the data
(docs/deployment.md, "Access log"). The dashboard writes a row for every page
view (with its filters), download, report build, quarantine view and
refusal; the command line for ``load``, ``check``, ``metrics``, ``evaluate``,
``export`` and ``reprocess``. Each row holds the UTC time, the user, their
role, the action, the object (page, file kind or table), the filters as
JSON, the rows returned and the interface (``dashboard`` or ``cli``).

**The chain.** Rows are numbered ``seq`` = 1, 2, 3 ... and each carries
``row_hash`` = SHA-256 over the previous row's hash and its own content
(:func:`row_digest`); the first row's previous hash is 64 zeros. The product
never updates or deletes a row. An UPDATE behind its back changes a row's
content but not its hash; a DELETE leaves a gap in ``seq`` and a row whose
``prev_hash`` no longer matches: :func:`verify` finds either and names the
first bad row. (Deleting the newest rows leaves a shorter valid chain: an
auditor who keeps the count and last hash that ``audit verify`` prints can
tell; docs/deployment.md says how.)

**Two writers never fork the chain.** On PostgreSQL an append holds a
transaction-scoped advisory lock (:data:`POSTGRES_LOCK_KEY`) from reading the
last hash to its commit: other appends, from any process, wait; readers go
on. An advisory lock needs no privilege on the table, so the dashboard's
database role may be refused UPDATE, DELETE and TRUNCATE on it. DuckDB allows
one writing process per file, and inside a process appends are serialised by
a lock.

**Failures.** :class:`AccessLogUnavailable` says why a row could not be
written. Callers decide what it means: aggregate views go on (an admin is
told), row-level data and exports are refused (:func:`require_log`).
"""

from __future__ import annotations

import atexit
import csv
import datetime as dt
import hashlib
import io
import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dashboard import store
from dashboard.roles import Principal, require_admin

TABLE = "access_log"
GENESIS = "0" * 64
INTERFACES = ("dashboard", "cli")
COLUMNS = (
    "seq", "logged_at", "user_name", "role", "action", "object", "filters", "rows_returned", "interface",
    "detail", "prev_hash", "row_hash",
)

# Actions written by the product (docs/deployment.md lists what each means).
PAGE_VIEW = "page_view"
DOWNLOAD = "download"
EXPORT = "export"
REPORT_BUILD = "report_build"
QUARANTINE_VIEW = "quarantine_view"
REFUSED = "refused"
LOAD = "load"
CHECK = "check"
METRICS = "metrics"
EVALUATE = "evaluate"
REPROCESS = "reprocess"
AUDIT_EXPORT = "audit_export"
ACCESS_LOG_VIEW = "access_log_view"

# pg_advisory_xact_lock key of the access log's appends ("PDACCESS" as a 64-bit integer).
POSTGRES_LOCK_KEY = int.from_bytes(b"PDACCESS", "big")

_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


class AccessLogUnavailable(RuntimeError):
    """A row could not be written to the access log; the message says why and what to do."""


@dataclass(frozen=True)
class Entry:
    """One row of the access log as the product writes it (before numbering and hashing)."""

    user_name: str
    role: str
    action: str
    object: str
    filters: Mapping[str, Any]
    rows_returned: int | None
    interface: str
    detail: str | None = None


def canonical_filters(filters: Mapping[str, Any]) -> str:
    """The filters as JSON with sorted keys and no spaces, so the same filters hash the same way."""
    return json.dumps(filters, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def _timestamp_text(value: Any) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    raise TypeError(f"logged_at must be a datetime, not {value!r}")


def row_digest(prev_hash: str, row: Mapping[str, Any]) -> str:
    """SHA-256 (hex) over the previous row's hash and this row's content.

    The content is the JSON list of seq, logged_at (ISO, microseconds, UTC),
    user_name, role, action, object, filters (canonical JSON text),
    rows_returned, interface and detail, in that order; the hash input is
    ``prev_hash`` + a newline + that JSON (UTF-8).
    """
    content = [
        int(row["seq"]),
        _timestamp_text(row["logged_at"]),
        row["user_name"],
        row["role"],
        row["action"],
        row["object"],
        row["filters"],
        None if row["rows_returned"] is None else int(row["rows_returned"]),
        row["interface"],
        row["detail"],
    ]
    text = prev_hash + "\n" + json.dumps(content, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _process_lock(url: str) -> threading.Lock:
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(url, threading.Lock())


def _table(engine: sa.engine.Engine) -> sa.Table:
    return store.metadata_for(engine).tables[TABLE]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def append(engine: sa.engine.Engine, entry: Entry, *, now: dt.datetime | None = None) -> int:
    """Append ``entry`` to the chain; returns its ``seq``.

    Raises :class:`AccessLogUnavailable` when the row cannot be written (no
    table yet, the database is busy or unreachable, a read-only database).
    """
    return append_many(engine, [(entry, now or _now())])[-1]


def append_many(engine: sa.engine.Engine, entries: Sequence[tuple[Entry, dt.datetime]]) -> list[int]:
    """Append several entries, in order, in one transaction; returns their ``seq`` numbers."""
    for entry, _ in entries:
        if entry.interface not in INTERFACES:
            raise ValueError(f"interface must be one of {INTERFACES}, not {entry.interface!r}")
    url = engine.url.render_as_string(hide_password=False)
    path = store.embedded_path(url)
    if path is not None and not path.exists():
        raise AccessLogUnavailable(
            f"the database file {path} does not exist, so the access log cannot be written there"
        )
    table = _table(engine)
    try:
        with _process_lock(url), engine.begin() as conn:
            store.serialise_appends(conn, POSTGRES_LOCK_KEY)  # other processes' appends wait; readers go on
            last = conn.execute(
                sa.select(table.c.seq, table.c.row_hash).order_by(table.c.seq.desc()).limit(1)
            ).first()
            seq, prev = (int(last[0]), str(last[1])) if last else (0, GENESIS)
            rows: list[dict[str, Any]] = []
            for entry, when in entries:
                seq += 1
                row: dict[str, Any] = {
                    "seq": seq,
                    "logged_at": when,
                    "user_name": entry.user_name,
                    "role": entry.role,
                    "action": entry.action,
                    "object": entry.object,
                    "filters": canonical_filters(entry.filters),
                    "rows_returned": entry.rows_returned,
                    "interface": entry.interface,
                    "detail": entry.detail,
                    "prev_hash": prev,
                }
                row["row_hash"] = prev = row_digest(prev, row)
                rows.append(row)
            if rows:
                conn.execute(table.insert(), rows)
            return [int(r["seq"]) for r in rows]
    except AccessLogUnavailable:
        raise
    except (sa.exc.SQLAlchemyError, store.DatabaseUnavailable, OSError) as exc:
        first = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        missing_table = "access_log" in first and (
            "does not exist" in first or "no such table" in first.lower() or "Catalog Error" in first
        )
        hint = (
            " The database has no access_log table yet: run `partnership-dashboard migrate`."
            if missing_table
            else " Check that the database is reachable and writable (for the embedded file: that no "
            "other program holds it)."
        )
        raise AccessLogUnavailable(
            f"the access log could not be written ({exc.__class__.__name__}: {first}).{hint}"
        ) from exc


# --- the dashboard's writer: page views in the background, the rest at once ---------------


class _Writer:
    """Appends for one database from one process, in the order they were asked for.

    A page view is queued and written by a background thread (opening the
    embedded file alone takes ~0.1 s, more than a page view may spend on its
    log); a download, export or row-level view is written at once, after
    whatever is queued, and its caller learns whether it was recorded. A
    failure is kept (:meth:`error`) and the queued rows are retried with the
    next write; at most ``MAX_QUEUED`` are kept.
    """

    MAX_QUEUED = 10_000

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: sa.engine.Engine | None = None
        self._queue: list[tuple[Entry, dt.datetime]] = []
        self._queue_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._error: AccessLogUnavailable | None = None
        self._dropped = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="access-log-writer", daemon=True)
        self._thread.start()

    def engine(self) -> sa.engine.Engine:
        if self._engine is None:
            self._engine = store.make_engine(self.url)
        return self._engine

    def submit(self, entry: Entry) -> None:
        with self._queue_lock:
            if len(self._queue) >= self.MAX_QUEUED:
                self._queue.pop(0)
                self._dropped += 1
            self._queue.append((entry, _now()))
        self._wake.set()

    def write_now(self, entry: Entry) -> None:
        """Write everything queued and then ``entry``; raise :class:`AccessLogUnavailable` if that fails."""
        with self._write_lock:
            with self._queue_lock:
                batch, self._queue = self._queue, []
            try:
                append_many(self.engine(), [*batch, (entry, _now())])
            except AccessLogUnavailable as exc:
                self._requeue(batch, exc)
                raise
            self._error = None

    def flush(self) -> AccessLogUnavailable | None:
        """Write what is queued; the error, if it could not be written."""
        with self._write_lock:
            with self._queue_lock:
                batch, self._queue = self._queue, []
            if not batch:
                return self._error
            try:
                append_many(self.engine(), batch)
            except AccessLogUnavailable as exc:
                self._requeue(batch, exc)
                return exc
            self._error = None
            return None

    def _requeue(self, batch: list[tuple[Entry, dt.datetime]], exc: AccessLogUnavailable) -> None:
        self._error = exc
        with self._queue_lock:
            self._queue = (batch + self._queue)[-self.MAX_QUEUED:]

    def error(self) -> AccessLogUnavailable | None:
        return self._error

    def pending(self) -> int:
        with self._queue_lock:
            return len(self._queue)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            if self.flush() is not None:
                # the database is away: retry soon, not in a tight loop (and stop promptly when asked)
                for _ in range(20):
                    if self._stopping:
                        return
                    time.sleep(0.1)
                self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then end the background thread (before the interpreter exits)."""
        self.flush()
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        if self._engine is not None:
            self._engine.dispose()


_WRITERS: dict[str, _Writer] = {}
_WRITERS_GUARD = threading.Lock()


def writer_for(url: str) -> _Writer:
    """The process's writer for the database at ``url`` (created on first use)."""
    with _WRITERS_GUARD:
        writer = _WRITERS.get(url)
        if writer is None:
            writer = _WRITERS[url] = _Writer(url)
        return writer


def flush_all() -> None:
    """Write every queued row of every writer and end their threads (a server calls this when it stops)."""
    with _WRITERS_GUARD:
        writers = list(_WRITERS.values())
        _WRITERS.clear()
    for writer in writers:
        writer.stop()


atexit.register(flush_all)  # a writer thread must not be inside the database driver when the interpreter ends


def record(
    engine: sa.engine.Engine,
    principal: Principal,
    action: str,
    object: str,
    *,
    filters: Mapping[str, Any] | None = None,
    rows_returned: int | None = None,
    interface: str = "dashboard",
    detail: str | None = None,
) -> int:
    """:func:`append` one action of ``principal``."""
    return append(engine, Entry(
        user_name=principal.user, role=principal.role, action=action, object=object,
        filters=dict(filters or {}), rows_returned=rows_returned, interface=interface, detail=detail,
    ))


def require_log(error: BaseException | None, what: str) -> None:
    """Refuse ``what`` (row-level data or an export) when its access-log row could not be written."""
    if error is not None:
        raise PermissionError(
            f"{what} is refused because the access log could not be written: {error} "
            "Row-level data and exports are only given out when they are recorded; aggregate views go on."
        )


# --- reading and verifying ---------------------------------------------------------------


def _rows(conn: sa.engine.Connection, since: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    table = store.metadata_for(conn.engine).tables[TABLE]
    query = sa.select(*[table.c[c] for c in COLUMNS]).order_by(table.c.seq)
    if since is not None:
        query = query.where(table.c.logged_at >= since)
    for row in conn.execute(query).mappings():
        yield dict(row)


@dataclass(frozen=True)
class Verification:
    """The result of checking the chain: intact, or the first bad row and what is wrong with it."""

    rows: int
    last_seq: int | None
    last_hash: str | None
    bad_seq: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None

    def to_text(self) -> str:
        if self.intact:
            if not self.rows:
                return "The access log is empty (nothing to verify)."
            return (
                f"The access log is intact: {self.rows:,} row(s), seq 1 to {self.last_seq}, "
                f"last hash {self.last_hash}. Keep this line: a later verify must show at least these rows "
                "with this hash at this seq."
            )
        return f"The access log is BROKEN at row seq {self.bad_seq}: {self.problem}"

    def to_json(self) -> dict[str, Any]:
        return {"intact": self.intact, "rows": self.rows, "last_seq": self.last_seq, "last_hash": self.last_hash,
                "bad_seq": self.bad_seq, "problem": self.problem}


def verify_rows(rows: Iterator[Mapping[str, Any]] | Sequence[Mapping[str, Any]]) -> Verification:
    """Check the chain over ``rows`` in ``seq`` order (see the module docstring)."""
    prev, expected, count = GENESIS, 1, 0
    last_seq: int | None = None
    for row in rows:
        seq = int(row["seq"])
        if seq != expected:
            what = "missing" if seq > expected else "repeated or out of order"
            span = f"row {expected}" if seq == expected + 1 else f"rows {expected} to {seq - 1}"
            return Verification(count, last_seq, prev, seq,
                                f"the row before it is {what}: expected seq {expected}, found {seq}"
                                + (f" ({span} deleted)" if seq > expected else "") + ".")
        if row["prev_hash"] != prev:
            return Verification(count, last_seq, prev, seq,
                                "its prev_hash does not match the hash of the row before it "
                                "(that row was changed, or rows were removed and renumbered).")
        digest = row_digest(prev, row)
        if row["row_hash"] != digest:
            return Verification(count, last_seq, prev, seq,
                                "its content does not match its hash (the row was changed after it was written).")
        prev, expected, count, last_seq = digest, seq + 1, count + 1, seq
    return Verification(count, last_seq, prev if count else None)


def verify(engine: sa.engine.Engine) -> Verification:
    """Check the whole chain in the database."""
    with store.connect(engine) as conn:
        return verify_rows(_rows(conn))


def read_log(
    engine: sa.engine.Engine,
    principal: Principal | str,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    users: Sequence[str] = (),
    actions: Sequence[str] = (),
    interfaces: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The access log (admins only), oldest first, filtered by day (UTC), user, action and interface."""
    require_admin(principal, "The access log")
    start = dt.datetime.combine(since, dt.time()) if since else None
    with store.connect(engine) as conn:
        rows = list(_rows(conn, start))
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time()) if until else None
    return [
        r for r in rows
        if (end is None or r["logged_at"] < end)
        and (not users or r["user_name"] in users)
        and (not actions or r["action"] in actions)
        and (not interfaces or r["interface"] in interfaces)
    ]


def _export_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _timestamp_text(value) + "Z"
    return value


def export_text(rows: Sequence[Mapping[str, Any]], fmt: str) -> str:
    """The rows as CSV or JSON (one object with a ``rows`` list), every column including both hashes.

    CSV cells that a spreadsheet would run as a formula are neutralised
    (docs/exports.md); the JSON keeps the values exactly, so an auditor can
    recompute the hashes from it.
    """
    records = [{c: _export_value(r[c]) for c in COLUMNS} for r in rows]
    if fmt == "json":
        return json.dumps({"columns": list(COLUMNS), "rows": records}, indent=1, ensure_ascii=False) + "\n"
    if fmt != "csv":
        raise ValueError(f"format must be csv or json, not {fmt!r}")
    from dashboard.export import neutralise_text

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for rec in records:
        writer.writerow(["" if rec[c] is None else neutralise_text(str(rec[c])) if isinstance(rec[c], str)
                         else rec[c] for c in COLUMNS])
    return buf.getvalue()
