"""Helpers the dashboard benchmarks share: the machine line, the benchmark database, memory."""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_DATA = REPO / ".bench-data"  # git-ignored; the generated extracts and databases stay here
AS_OF = dt.date(2026, 6, 30)


def machine_line() -> str:
    """CPU count, memory, Python and the load average, to print beside every result."""
    with open("/proc/meminfo", encoding="ascii") as handle:
        total_kb = int(handle.readline().split()[1])
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{platform.machine()}, {os.cpu_count()} cores, {total_kb / 1024 / 1024:.0f} GB, "
            f"python {platform.python_version()}, load average {load}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    current = 0.0
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare_database(participants: int | None, tmp: Path) -> str:
    """A DuckDB URL holding the seeded sample of ``participants`` (built once, kept in .bench-data),
    or ``sample_data/`` loaded into ``tmp`` when ``participants`` is None."""
    if participants is None:
        path, extract = tmp / "bench.duckdb", REPO / "sample_data"
    else:
        BENCH_DATA.mkdir(exist_ok=True)
        path, extract = BENCH_DATA / f"sample-{participants}.duckdb", BENCH_DATA / f"sample-{participants}"
        if path.exists():
            return f"duckdb:///{path}"
        if not extract.exists():
            _cli("sample", "--participants", str(participants), "--out", str(extract),
                 "--format", "parquet", "--as-of", AS_OF.isoformat())
    _cli("load", str(extract), "--db", f"duckdb:///{path}")
    return f"duckdb:///{path}"


def _cli(*args: str) -> None:
    """The product's own CLI in a child process (its memory is not this process's)."""
    command = [sys.executable, "-m", "dashboard.cli", *args]
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    subprocess.run(command, check=True, cwd=REPO, env=env, stdout=subprocess.DEVNULL)


def read_tables(url: str):  # noqa: ANN201 - dashboard.metrics.tables.Tables, imported late
    """The tables as the dashboard reads them, with the time and resident memory printed."""
    import time

    from dashboard import store
    from dashboard.metrics.tables import load_tables

    engine = store.make_reader_engine(url)
    start = time.perf_counter()
    try:
        tables = load_tables(engine)
    finally:
        engine.dispose()
    print(f"read the tables: {time.perf_counter() - start:.2f} s, rss {rss_mb()[0]:,.0f} MB")
    return tables
