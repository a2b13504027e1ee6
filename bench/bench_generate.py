"""Time the sample generator at scale and print the results as text.

Usage (from the repository root)::

    python bench/bench_generate.py [--participants 1000000] [--format csv|parquet|both]

Each measurement runs in a fresh child process so the peak resident memory
reported is that run's alone (the child's own ``ru_maxrss``): once building
every table in memory (``generate_tables``), then once per format writing the
extract (``generate_extract``, which keeps one table in memory at a time). The numbers go
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
from pathlib import Path

_CHILD = """
import datetime as dt, json, resource, sys, time
from dashboard.sample import generate_extract, generate_tables
mode, n, fmt, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
t0 = time.perf_counter()
if mode == "frames":
    rows = {k: v.height for k, v in generate_tables(participants=n, seed=42, as_of=dt.date(2026, 6, 30)).items()}
else:
    rows = generate_extract(out, participants=n, seed=42, as_of=dt.date(2026, 6, 30), fmt=fmt)["generator"]["rows"]
seconds = time.perf_counter() - t0
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kb": peak_kb, "rows": rows}))
"""


def _run(mode: str, participants: int, fmt: str) -> dict[str, object]:
    """One run in a fresh process: ``frames`` (all tables in memory) or ``extract`` (written to disk)."""
    out = Path(tempfile.mkdtemp(prefix=f"bench_generate_{fmt}_"))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, mode, str(participants), fmt, str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["bytes"] = sum(f.stat().st_size for f in out.iterdir())
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
    frames = _run("frames", args.participants, "csv")
    print(f"all tables in memory (generate_tables): {frames['seconds']:6.1f} s, "
          f"peak RSS {int(frames['peak_kb']) / 1024:,.0f} MB")  # type: ignore[call-overload]
    for fmt in formats:
        r = _run("extract", args.participants, fmt)
        rows = r["rows"]
        assert isinstance(rows, dict)
        print(
            f"extract written as {fmt:8} (generate_extract): {r['seconds']:6.1f} s, "
            f"{sum(rows.values()):,} rows, {int(r['bytes']) / 1e6:,.0f} MB on disk, "  # type: ignore[call-overload]
            f"peak RSS {int(r['peak_kb']) / 1024:,.0f} MB"  # type: ignore[call-overload]
        )
    for name, count in frames["rows"].items():  # type: ignore[attr-defined]
        print(f"    {name:<20} {count:>12,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
