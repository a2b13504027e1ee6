"""Benchmark: load-and-validate throughput, read-back time and peak memory.

Generates a synthetic extract (default 1,000,000 participants, about 10 million
rows in all) with ``dashboard.sample.generate_extract`` into a temporary folder,
then, for the embedded database (DuckDB) and for PostgreSQL, each in a fresh
child process so that peak memory is measured per database:

- loads it with ``dashboard.ingest.load_extract`` (read, every rule, GX suites,
  upsert, audit, one transaction) -> rows per second = rows read / seconds;
- reads every contract table into polars with ``store.read_tables`` (what
  the dashboard and the metric commands do after each load);
- reports the child's peak resident memory (``resource.getrusage``) after
  the load and again after the read-back.

Targets (issue 2): >= 200,000 rows/s, all tables in polars < 10 s, peak < 4 GB.

    python bench/bench_load.py [--participants N] [--postgres-url URL | --no-postgres]

Generated data lives in a temporary folder and is deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

TARGET_ROWS_PER_S = 200_000
TARGET_READ_S = 10.0
TARGET_PEAK_MB = 4096


def _child(database_url: str, extract: str) -> None:
    """Run in a fresh process: load, read back, print one JSON line."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from dashboard import contract, store
    from dashboard.ingest import load_extract

    engine = store.make_engine(database_url)
    store.create_schema(engine)
    stamps: list[tuple[float, str]] = []
    start = time.perf_counter()
    report = load_extract(Path(extract), engine, progress=lambda m: stamps.append((time.perf_counter() - start, m)))
    load_s = time.perf_counter() - start
    peak_load_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    engine = store.make_engine(database_url)
    start = time.perf_counter()
    rows_back = sum(frame.height for frame in store.read_tables(engine, contract.TABLE_NAMES).values())
    read_s = time.perf_counter() - start
    engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows_read": report.total_read,
                "rows_loaded": report.total_loaded,
                "exit_code": report.exit_code,
                "load_s": load_s,
                "read_s": read_s,
                "rows_back": rows_back,
                "peak_mb": peak_mb,
                "peak_load_mb": peak_load_mb,
                "tables": [{"at_s": round(t, 2), "line": m} for t, m in stamps],
            }
        )
    )


def _run_child(database_url: str, extract: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", database_url, str(extract)],
        capture_output=True,
        text=True,
        env={**os.environ, "GX_ANALYTICS_ENABLED": "false"},
    )
    if out.returncode != 0:
        tail = "\n".join(line for line in out.stderr.splitlines() if "leaked" not in line)[-3000:]
        raise RuntimeError(f"benchmark child for {database_url} failed ({out.returncode}):\n{tail}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _machine() -> str:
    import duckdb
    import great_expectations
    import polars

    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs, {mem_gb:.0f} GB RAM, Python {platform.python_version()}, "
        f"polars {polars.__version__}, duckdb {duckdb.__version__}, great_expectations {great_expectations.__version__}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("PARTNERSHIP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="server to create a throw-away benchmark database on",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-duckdb", action="store_true")
    parser.add_argument(
        "--extract",
        type=Path,
        help="load this already generated extract instead of generating one (it is kept)",
    )
    parser.add_argument("--child", nargs=2, metavar=("URL", "EXTRACT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0

    from dashboard.sample import generate_extract

    print(f"machine: {_machine()}", file=sys.stderr)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        if args.extract:
            extract = args.extract
            manifest = json.loads((extract / "manifest.json").read_text(encoding="utf-8"))
            args.participants = manifest["generator"]["participants"]
        else:
            extract = Path(tmp) / "extract"
            start = time.perf_counter()
            manifest = generate_extract(extract, participants=args.participants, seed=args.seed)
            print(f"generated in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        rows = sum(manifest["generator"]["rows"].values())

        if not args.no_duckdb:
            results["DuckDB (embedded)"] = _run_child(f"duckdb:///{Path(tmp) / 'bench.duckdb'}", extract)
            print(f"duckdb: {results['DuckDB (embedded)']}", file=sys.stderr)
        if not args.no_postgres:
            results["PostgreSQL"] = _with_postgres(args.postgres_url, extract)
            print(f"postgresql: {results['PostgreSQL']}", file=sys.stderr)

    print(f"\n{args.participants:,} participants, {rows:,} rows; {_machine()}\n")
    print("| database | rows loaded+validated | load s | rows/s | read all tables s | peak MB after load | peak MB after read | targets |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, r in results.items():
        rate = r["rows_read"] / r["load_s"]
        met = [
            "rate " + ("ok" if rate >= TARGET_ROWS_PER_S else f"MISSED ({rate / TARGET_ROWS_PER_S:.0%} of target)"),
            "read " + ("ok" if r["read_s"] < TARGET_READ_S else f"MISSED ({r['read_s'] / TARGET_READ_S:.1f}x)"),
            "memory " + ("ok" if r["peak_mb"] < TARGET_PEAK_MB else f"MISSED ({r['peak_mb'] / TARGET_PEAK_MB:.1f}x)"),
        ]
        print(
            f"| {name} | {r['rows_read']:,} | {r['load_s']:.1f} | {rate:,.0f} | {r['read_s']:.1f} | "
            f"{r['peak_load_mb']:,.0f} | {r['peak_mb']:,.0f} | {'; '.join(met)} |"
        )
    for name, r in results.items():
        print(f"\n{name}, seconds since load start when each table was written:")
        for t in r["tables"]:
            print(f"- {t['at_s']:.1f} s: {t['line']}")
    return 0


def _with_postgres(url: str, extract: Path) -> dict[str, Any]:
    import sqlalchemy as sa

    from dashboard import store

    admin = sa.create_engine(store.normalise_url(url), isolation_level="AUTOCOMMIT")
    name = f"pd_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        return _run_child(admin.url.set(database=name).render_as_string(hide_password=False), extract)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
