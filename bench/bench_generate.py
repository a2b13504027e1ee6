"""Time the sample generator at scale and print the results as text.

Usage (from the repository root)::

    /work/venv/bin/python bench/bench_generate.py [--participants 1000000] [--format csv|parquet|both]

Each format runs in a fresh child process so the peak resident memory
reported is that run's alone (the child's own ``ru_maxrss``, covering both
the in-memory generation and the full extract write). The numbers go
into docs/performance.md by hand; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = """
import datetime as dt, json, resource, sys, time
from dashboard.sample import generate_extract, generate_tables
n, fmt, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
tables = generate_tables(participants=n, seed=42, as_of=dt.date(2026, 6, 30))
t1 = time.perf_counter()
del tables
t2 = time.perf_counter()
manifest = generate_extract(out, participants=n, seed=42, as_of=dt.date(2026, 6, 30), fmt=fmt)
t3 = time.perf_counter()
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"generate_s": t1 - t0, "extract_s": t3 - t2, "peak_kb": peak_kb,
                  "rows": manifest["generator"]["rows"]}))
"""


def _run(participants: int, fmt: str) -> dict[str, object]:
    out = Path(tempfile.mkdtemp(prefix=f"bench_generate_{fmt}_"))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(participants), fmt, str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        size = sum(f.stat().st_size for f in out.iterdir())
        result.update(format=fmt, peak_rss_mb=result["peak_kb"] / 1024, bytes=size)
        return result
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("csv", "parquet", "both"), default="both")
    args = parser.parse_args()
    formats = ("csv", "parquet") if args.format == "both" else (args.format,)
    print(f"bench_generate: {args.participants:,} participants, seed 42, as of 2026-06-30")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for fmt in formats:
        r = _run(args.participants, fmt)
        rows = r["rows"]
        assert isinstance(rows, dict)
        total = sum(rows.values())
        print(
            f"{fmt:8} frames in memory {r['generate_s']:6.1f} s | frames + write {r['extract_s']:6.1f} s | "
            f"{total:,} rows, {r['bytes'] / 1e6:,.0f} MB on disk | peak RSS {r['peak_rss_mb']:,.0f} MB"
        )
        for name, count in rows.items():
            print(f"    {name:<20} {count:>12,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
