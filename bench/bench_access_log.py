"""Time what the access log costs a page view, a download and a command, on both databases.

Usage (from the repository root)::

    python bench/bench_access_log.py [--repeat 200] [--history 100000] [--postgres URL]

For the embedded database (a temporary file holding the sample extract) and,
with ``--postgres`` (or ``PARTNERSHIP_TEST_POSTGRES_URL``), a temporary
PostgreSQL database, with ``--history`` rows already in the log:

- ``page view (queued)``: what a page view pays — the dashboard queues its
  row for the background writer (``_Writer.submit``);
- ``who is asking``: resolving the user's role from the configuration file
  (the example file), which every page view also does;
- ``background append``: the writer's work per page-view row, one row per
  transaction (the worst case: a lone page view);
- ``download / row-level (write_now)``: what a download or a quarantine view
  waits for — its row written and committed before the data leave;
- ``verify``: ``audit verify`` over the whole chain.

Median and 95th percentile in milliseconds. Nothing here asserts a time; the
target (docs/deployment.md) is "well under 50 ms" per page view.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent


def _entry(i: int) -> object:
    from dashboard import access_log

    return access_log.Entry(f"user{i % 7}@county.gov", "viewer", access_log.PAGE_VIEW, "Overview",
                            {"program": ["P01"], "start": "2025-01-01"}, None, "dashboard")


def _fill(engine: sa.engine.Engine, rows: int) -> None:
    from dashboard import access_log

    now = dt.datetime(2026, 1, 1)
    batch = 10_000
    for start in range(0, rows, batch):
        access_log.append_many(engine, [(_entry(i), now) for i in range(start, min(rows, start + batch))])  # type: ignore[misc]


def _resolve() -> object:
    """What every page view also pays: reading the configuration file and resolving the principal."""
    from dashboard.roles import resolve_principal

    return resolve_principal(secrets={})


def _times(fn: object, repeat: int) -> tuple[float, float]:
    samples = []
    for i in range(repeat):
        t = time.perf_counter()
        fn(i)  # type: ignore[operator]
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def bench(label: str, url: str, repeat: int, history: int) -> None:
    from dashboard import access_log, store

    engine = store.make_engine(url)
    _fill(engine, history)
    writer = access_log.writer_for(url)
    results = {}
    results["page view (queued)"] = _times(lambda i: writer.submit(_entry(i)), repeat)  # type: ignore[arg-type]
    results["who is asking (config file read)"] = _times(lambda i: _resolve(), repeat)
    writer.flush()
    results["background append"] = _times(lambda i: access_log.append(engine, _entry(i)), repeat)  # type: ignore[arg-type]
    results["download / row-level (write_now)"] = _times(lambda i: writer.write_now(_entry(i)), repeat)  # type: ignore[arg-type]
    t = time.perf_counter()
    check = access_log.verify(engine)
    verify_ms = (time.perf_counter() - t) * 1000
    print(f"\n{label}: {check.rows:,} rows in the log at the end, chain intact: {check.intact}")
    for name, (median, p95) in results.items():
        print(f"  {name:36s} median {median:8.3f} ms   p95 {p95:8.3f} ms")
    print(f"  {'verify (whole chain)':36s} {verify_ms:8.0f} ms")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--postgres", default=os.environ.get("PARTNERSHIP_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PARTNERSHIP_CONFIG", str(REPO / "partnership-dashboard.example.toml"))
    os.environ.pop("DATABASE_URL", None)
    from dashboard import store
    from dashboard.ingest import load_extract

    with tempfile.TemporaryDirectory() as tmp:
        url = f"duckdb:///{Path(tmp) / 'bench.duckdb'}"
        engine = store.make_engine(url)
        load_extract(REPO / "sample_data", engine)
        engine.dispose()
        bench("DuckDB (embedded file, sample extract loaded)", url, args.repeat, args.history)
    if args.postgres:
        admin = sa.create_engine(store.normalise_url(args.postgres), isolation_level="AUTOCOMMIT")
        name = f"pd_bench_log_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = admin.url.set(database=name).render_as_string(hide_password=False)
            engine = store.make_engine(url)
            store.create_schema(engine)
            engine.dispose()
            bench("PostgreSQL (local server)", url, args.repeat, args.history)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
