"""Resident memory after ``load_tables``: what the shared tables cost a dashboard process.

Usage (from the repository root)::

    python bench/bench_tables_memory.py --db duckdb:///.bench-data/sample-1000000.duckdb [--repeat 2]

Each repeat reads the tables in a fresh child process, once as the dashboard
does (``load_tables(engine)``) and once with every column
(``all_columns=True``, what the data steward's checks read), alternated so both
see the same machine load, and prints the seconds, the resident memory 2 s after
the read, the peak, and the frames' ``estimated_size`` (which counts a string by
its bytes, not the 16-byte view polars keeps for each). Nothing here asserts;
the numbers go into docs/performance.md ("Tables in memory") by hand.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from bench_common import machine_line  # noqa: E402

_CHILD = """
import dataclasses, sys, time
def status(key):
    for line in open('/proc/self/status'):
        if line.startswith(key):
            return int(line.split()[1]) // 1024
from dashboard import store
from dashboard.metrics.tables import load_tables
before = status('VmRSS')
start = time.perf_counter()
tables = load_tables(store.make_reader_engine(sys.argv[1]), all_columns=sys.argv[2] == 'all')
took = time.perf_counter() - start
time.sleep(2)
size = sum(getattr(tables, f.name).estimated_size() for f in dataclasses.fields(tables)) >> 20
print(f"{took:6.2f} s   rss {status('VmRSS'):>6,} MB (imports {before} MB)   peak {status('VmHWM'):>6,} MB"
      f"   estimated_size {size:,} MB")
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a loaded database (URL)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    print(machine_line())
    for _ in range(args.repeat):
        for mode, label in (("narrow", "load_tables (dashboard)"), ("all", "every column (steward)")):
            out = subprocess.run([sys.executable, "-c", _CHILD, args.db, mode], cwd=REPO, check=True,
                                 capture_output=True, text=True).stdout.strip()
            print(f"{label:<26}{out}", flush=True)
    print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
