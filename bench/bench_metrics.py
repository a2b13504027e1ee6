"""Time the metric engine at scale and print the results as text.

Usage (from the repository root)::

    python bench/bench_metrics.py [--participants 1000000] [--repeat 3] [--db]

Builds the synthetic extract in memory with ``dashboard.sample.generate_tables``
(the same generator as the demo data), then times, each ``--repeat`` times:

- ``compute_metrics``: every metric, every grouping, suppression on (k = 11);
- ``metrics_json``: the full ``metrics --format json`` document;
- ``compute_metrics`` with a period and a program filter;
- three dashboard breakdowns (violation rate by quarter, referral completion
  by service type, 12-month rearrest by risk level);

and, with ``--db``, loading the frames into an embedded DuckDB file and reading
them back with ``load_tables`` (the CLI's start-up cost). Nothing here asserts a
time; the numbers go into docs by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

AS_OF = dt.date(2026, 6, 30)


def _time(label: str, fn: Callable[[], Any], repeat: int) -> Any:
    seconds = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t0)
    print(f"{label:<58} median {statistics.median(seconds):7.2f} s   (min {min(seconds):.2f}, n={repeat})", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", action="store_true", help="also time load into DuckDB and load_tables")
    args = parser.parse_args(argv)

    from dashboard.metrics.engine import compute_metrics, metric_breakdown, metrics_json
    from dashboard.metrics.tables import Filters, Tables
    from dashboard.sample import generate_tables

    print(f"python {platform.python_version()} on {platform.machine()}, {args.participants:,} participants")
    t0 = time.perf_counter()
    frames = generate_tables(participants=args.participants, seed=42, as_of=AS_OF)
    tables = Tables.from_frames(**frames)
    rows = {k: v.height for k, v in frames.items()}
    print(f"{'generate the extract in memory':<58} {time.perf_counter() - t0:7.2f} s   rows: {rows}", flush=True)

    everything = Filters(as_of=AS_OF)
    out = _time("compute_metrics (all metrics, all groupings, k=11)",
                lambda: compute_metrics(tables, everything), args.repeat)
    print(f"{'':<58} {out.height} rows")
    _time("metrics_json (the CLI document)", lambda: metrics_json(tables, everything, 11), args.repeat)
    program = tables.programs["program_id"][0] if tables.programs.height else "P01"
    filtered = Filters(as_of=AS_OF, start=dt.date(2024, 1, 1), end=dt.date(2025, 12, 31), program_ids=(program,))
    _time("compute_metrics with period 2024-2025 and one program", lambda: compute_metrics(tables, filtered),
          args.repeat)
    _time("breakdown: violation rate by quarter",
          lambda: metric_breakdown(tables, everything, "violation_rate_per_100_pm", ["quarter"]), args.repeat)
    _time("breakdown: referral completion by service type",
          lambda: metric_breakdown(tables, everything, "referral_completion_rate", ["service_type"]), args.repeat)
    _time("breakdown: 12-month rearrest by risk level",
          lambda: metric_breakdown(tables, everything, "recidivism_rearrest_12m", ["risk_level"]), args.repeat)

    if args.db:
        from dashboard import store
        from dashboard.metrics.tables import load_tables

        with tempfile.TemporaryDirectory() as tmp:
            engine = store.make_engine(f"duckdb:///{Path(tmp) / 'bench.duckdb'}")
            store.create_schema(engine)
            t0 = time.perf_counter()
            with engine.begin() as conn:
                for name, frame in frames.items():
                    store.bulk_upsert(conn, name, frame)
            print(f"{'write the frames to DuckDB (bulk_upsert)':<58} {time.perf_counter() - t0:7.2f} s", flush=True)
            _time("load_tables from DuckDB", lambda: load_tables(engine), args.repeat)
            engine.dispose()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
