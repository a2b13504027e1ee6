"""The engine work behind one page redraw, computing everything vs only what the page shows.

Usage (from the repository root)::

    python bench/bench_page_work.py --participants 300000 [--repeat 3]
    python bench/bench_page_work.py --db URL [--repeat 3]

Reads the tables once, then times, alternating the two variants within each
repeat so both see the same machine load (medians of ``--repeat``):

- per page, ``compute_metrics`` for every metric (what each page asked for
  before) against the page's own metric ids (what it asks for now), under a
  one-program filter;
- the pilot-evaluation summary: a full ``evaluate`` per program against a
  12-month-rearrest-only ``evaluate`` per program.

No Streamlit, no caches: this is the work a filter change starts. Nothing
here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from bench_common import machine_line, prepare_database, read_tables, rss_mb  # noqa: E402

PAGE_METRICS = {
    "overview": ["referral_completion_rate", "compliance_rate", "program_completion_rate", "recidivism_rearrest_12m",
                 "employment_rate_12m", "stable_housing_rate_12m", "reintegration_check_coverage_12m"],
    "compliance": ["compliance_rate", "violation_rate_per_100_pm"],
    "referrals": ["referral_acceptance_rate", "median_days_to_service", "referral_completion_rate"],
    "equity": ["referral_completion_rate", "compliance_rate", "program_completion_rate", "recidivism_rearrest_12m",
               "employment_rate_12m", "stable_housing_rate_12m"],
}


def _pair(label: str, before: Callable[[], Any], after: Callable[[], Any], repeat: int) -> None:
    old, new = [], []
    for _ in range(repeat):
        for fn, out in ((before, old), (after, new)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    print(f"{label:<40}{statistics.median(old):>9.2f}{statistics.median(new):>9.2f}"
          f"{statistics.median(old) / max(statistics.median(new), 1e-9):>8.1f}x", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=None)
    parser.add_argument("--db", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from dashboard.evaluation import evaluate
    from dashboard.metrics.engine import compute_metrics
    from dashboard.metrics.recidivism import MEASURES, WINDOWS_MONTHS, metric_id
    from dashboard.metrics.tables import Filters

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or prepare_database(args.participants, Path(tmp))
        print(machine_line())
        tables = read_tables(url)
        filters = Filters(program_ids=("P02",))
        print(f"{'work (seconds, median)':<40}{'before':>9}{'after':>9}{'':>9}")
        for page, ids in PAGE_METRICS.items():
            _pair(f"{page}: metrics", lambda: compute_metrics(tables, filters),
                  lambda ids=ids: compute_metrics(tables, filters, metric_ids=ids), args.repeat)
        recidivism_ids = [metric_id(m, w) for m in MEASURES for w in WINDOWS_MONTHS]
        _pair("pilot evaluation: view metrics", lambda: compute_metrics(tables, Filters()),
              lambda: compute_metrics(tables, Filters(), metric_ids=recidivism_ids), args.repeat)
        programs = tables.programs["program_id"].to_list()
        _pair(f"pilot evaluation: {len(programs)} program summaries",
              lambda: [evaluate(tables, Filters(), program_id=p) for p in programs],
              lambda: [evaluate(tables, Filters(), program_id=p, measures=("rearrest",)) for p in programs],
              args.repeat)
        print(f"peak rss {rss_mb()[1]:,.0f} MB")
        print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
