"""Time the ``metrics`` command at scale against the DuckDB-SQL reference, with peak memory.

Usage (from the repository root)::

    python bench/bench_metrics.py [--participants 1000000] [--db URL] [--repeat 3]
    python bench/bench_metrics.py --engine [--participants 1000000] [--repeat 3]
    python bench/bench_metrics.py --pages [--participants 1000000] [--db URL] [--repeat 3]

Default: the seeded sample of ``--participants`` is built once into
``.bench-data/sample-N.duckdb`` (or ``--db`` names a loaded database), then,
each ``--repeat`` times and each in a fresh child process (so its peak
resident memory, ``ru_maxrss``, is its own):

- ``cli``: ``partnership-dashboard metrics --db URL --format json`` (every
  metric, every grouping, suppression on; output to /dev/null);
- ``sql``: the second implementation of docs/metrics.md in DuckDB SQL
  (``tests/test_metrics_sql.py``: the metrics of its section 3, every
  grouping) run inside the DuckDB file, for the same as-of date (DuckDB only).

``--pages`` times ``compute_metrics`` on the tables read from the database
(as a dashboard server holds them): the overview's metric ids and every
metric under a one-program filter, and every metric unfiltered.

``--engine`` instead times the engine functions on frames generated in
memory (``compute_metrics``, ``metrics_json``, a filtered run, three
breakdowns). Nothing here asserts a time; the numbers go into
docs/performance.md by hand, beside the machine and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from bench_common import AS_OF, machine_line, prepare_database  # noqa: E402

# Run in a child: the SQL reference of tests/test_metrics_sql.py, over the tables in the DuckDB file itself
# (its ``register`` of in-memory frames becomes a no-op, so the queries read the stored tables).
_SQL_CHILD = """
import sys, time, types, datetime as dt
sys.path.insert(0, {tests!r})
import duckdb
import test_metrics_sql as ref
from dashboard.metrics.tables import Filters

class _Connection:
    def __init__(self, con):
        self._con = con
    def register(self, *args):
        pass
    def execute(self, *args):
        return self._con.execute(*args)
    def close(self):
        self._con.close()

real_connect = duckdb.connect
ref.duckdb = types.SimpleNamespace(connect=lambda: _Connection(real_connect({path!r}, read_only=True)))
tables = types.SimpleNamespace(**{{name: types.SimpleNamespace(to_arrow=lambda: None) for name in (
    "participants", "referrals", "supervision_events", "violations", "recidivism_events", "police_contacts")}})
start = time.perf_counter()
rows = ref.sql_metrics(tables, Filters(as_of=dt.date.fromisoformat({as_of!r})))
print(len(rows), file=sys.stderr)
"""


def _child(command: list[str]) -> tuple[float, float]:
    """(seconds, peak resident MB) of one child process; its output goes to /dev/null."""
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{command[:4]} failed: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
    return seconds, usage.ru_maxrss / 1024


def _report(label: str, runs: list[tuple[float, float]]) -> None:
    seconds = [s for s, _ in runs]
    peaks = [m for _, m in runs]
    print(f"{label:<44} median {statistics.median(seconds):7.2f} s (min {min(seconds):.2f})   "
          f"peak RSS median {statistics.median(peaks):,.0f} MB   n={len(runs)}", flush=True)


def command_line(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or prepare_database(args.participants, Path(tmp))
        print(machine_line())
        print(f"database: {url.split('@')[-1]}")
        cli = [sys.executable, "-m", "dashboard.cli", "metrics", "--db", url, "--format", "json"]
        _report("metrics CLI (every metric, k=11, JSON)", [_child(cli) for _ in range(args.repeat)])
        if url.startswith("duckdb:///"):
            code = _SQL_CHILD.format(tests=str(REPO / "tests"), path=url.split(":///", 1)[1], as_of=AS_OF.isoformat())
            sql = [sys.executable, "-c", code]
            _report("DuckDB-SQL reference (section 3 metrics)", [_child(sql) for _ in range(args.repeat)])
        print(machine_line())
    return 0


def _time(label: str, fn: Callable[[], Any], repeat: int) -> Any:
    seconds = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t0)
    print(f"{label:<58} median {statistics.median(seconds):7.2f} s   (min {min(seconds):.2f}, n={repeat})", flush=True)
    return result


def engine(args: argparse.Namespace) -> int:
    """The engine on frames generated in memory (no database)."""
    import resource

    from dashboard.metrics.breakdowns import metric_breakdown
    from dashboard.metrics.engine import compute_metrics, metrics_json
    from dashboard.metrics.tables import Filters, Tables
    from dashboard.sample import generate_tables

    print(machine_line())
    t0 = time.perf_counter()
    frames = generate_tables(participants=args.participants, seed=42, as_of=AS_OF)
    tables = Tables.from_frames(**frames)
    rows = {k: v.height for k, v in frames.items()}
    print(f"{'generate the extract in memory':<58} {time.perf_counter() - t0:7.2f} s   rows: {json.dumps(rows)}")
    everything = Filters(as_of=AS_OF)
    out = _time("compute_metrics (all metrics, all groupings, k=11)",
                lambda: compute_metrics(tables, everything), args.repeat)
    print(f"{'':<58} {out.height} rows")
    _time("metrics_json (the CLI document)", lambda: metrics_json(tables, everything, 11), args.repeat)
    program = tables.programs["program_id"][0] if tables.programs.height else "P01"
    filtered = Filters(as_of=AS_OF, start=dt.date(2024, 1, 1), end=dt.date(2025, 12, 31), program_ids=(program,))
    _time("compute_metrics with period 2024-2025 and one program", lambda: compute_metrics(tables, filtered),
          args.repeat)
    for metric, by in (("violation_rate_per_100_pm", "quarter"), ("referral_completion_rate", "service_type"),
                       ("recidivism_rearrest_12m", "risk_level")):
        _time(f"breakdown: {metric} by {by}",
              lambda m=metric, b=by: metric_breakdown(tables, everything, m, [b]), args.repeat)
    print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    return 0


OVERVIEW_IDS = ("referral_completion_rate", "compliance_rate", "program_completion_rate",
                "recidivism_rearrest_12m", "employment_rate_12m", "stable_housing_rate_12m",
                "reintegration_check_coverage_12m")
"""The metrics the overview page asks for (pages/overview.py)."""


def page_subsets(args: argparse.Namespace) -> int:
    """``compute_metrics`` as a page calls it, on the tables read once from the database."""
    from dashboard import store
    from dashboard.metrics.engine import compute_metrics
    from dashboard.metrics.tables import Filters, load_tables

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or prepare_database(args.participants, Path(tmp))
        print(machine_line())
        engine = store.make_reader_engine(url)
        tables = _time("read the tables (load_tables)", lambda: load_tables(engine), 1)
        engine.dispose()
        one_program = Filters(program_ids=("P02",))
        _time("compute_metrics: the overview's ids, program P02",
              lambda: compute_metrics(tables, one_program, metric_ids=list(OVERVIEW_IDS)), args.repeat)
        _time("compute_metrics: every metric, program P02",
              lambda: compute_metrics(tables, one_program), args.repeat)
        _time("compute_metrics: every metric, no filter",
              lambda: compute_metrics(tables, Filters()), args.repeat)
        print(machine_line())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1_000_000)
    parser.add_argument("--db", default=None, help="a loaded database (URL) instead of the seeded sample")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engine", action="store_true", help="time the engine on in-memory frames instead")
    parser.add_argument("--pages", action="store_true",
                        help="time compute_metrics as the pages call it instead")
    args = parser.parse_args(argv)
    if args.pages:
        return page_subsets(args)
    return engine(args) if args.engine else command_line(args)


if __name__ == "__main__":
    sys.exit(main())
