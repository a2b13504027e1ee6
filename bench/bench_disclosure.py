"""Time the disclosure check on the compliance page's systems (dashboard/metrics/disclosure.py).

Usage (from the repository root)::

    python bench/bench_disclosure.py [--participants 100000 1000000] [--repeat 3] [--far-future]

For each size, the synthetic extract is built in memory with
``dashboard.sample.generate_tables`` (the rows ``partnership-dashboard sample
--participants N`` writes). The compliance page shows two measures, the
compliance rate and the violation rate per 100 person-months, each with every
breakdown of its view; :func:`dashboard.metrics.breakdowns.metric_view` builds each
measure's system of cells and sets and hands it to
:func:`dashboard.metrics.disclosure.protect`. This script captures those systems
(unfiltered view, k = 11) and times ``protect`` on them alone, and also the
whole ``metric_view`` (data work included). ``--far-future`` adds a run with a
stored as-of of 9999-12-31, where every active participant accrues exposure in
every quarter up to that date (about 32,000 quarters).

Prints cells, sets, withheld cells and the median time in seconds. Nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Hashable, Sequence
from typing import Any

MEASURES = ("compliance_rate", "violation_rate_per_100_pm")
K = 11


def _systems(tables: Any, as_of: dt.date) -> dict[str, tuple[Any, Any, float]]:
    """measure -> (cells, sets, seconds for the whole metric_view) of the compliance page's view."""
    from dashboard.metrics import breakdowns, disclosure
    from dashboard.metrics.tables import Filters

    captured: list[tuple[dict[Hashable, Any], Sequence[Any]]] = []
    real = disclosure.protect

    def spy(cells: dict[Hashable, Any], sets: Sequence[Any], k: int) -> dict[Hashable, bool]:
        captured.append((cells, sets))
        return real(cells, sets, k)

    out = {}
    disclosure.protect = spy
    try:
        for measure in MEASURES:
            captured.clear()
            start = time.perf_counter()
            breakdowns.metric_view(tables, Filters(as_of=as_of), measure, min_cell_size=K)
            out[measure] = (*captured[0], time.perf_counter() - start)
    finally:
        disclosure.protect = real
    return out


def _run(label: str, tables: Any, as_of: dt.date, repeat: int) -> None:
    from dashboard.metrics.disclosure import protect

    for measure, (cells, sets, view_seconds) in _systems(tables, as_of).items():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            flags = protect(cells, sets, K)
            times.append(time.perf_counter() - start)
        print(f"{label:<28} {measure:<28} cells {len(cells):>8,}  sets {len(sets):>7,}  "
              f"withheld {sum(flags.values()):>6,}  protect {statistics.median(times):8.3f} s  "
              f"metric_view {view_seconds:8.3f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--far-future", action="store_true")
    args = parser.parse_args()

    from dashboard.metrics.tables import Tables
    from dashboard.sample import DEFAULT_AS_OF, generate_tables

    for n in args.participants:
        start = time.perf_counter()
        tables = Tables.from_frames(**generate_tables(participants=n, seed=42, as_of=DEFAULT_AS_OF))
        print(f"{n:,} participants generated in {time.perf_counter() - start:.1f} s", flush=True)
        _run(f"{n:,} as-of {DEFAULT_AS_OF}", tables, DEFAULT_AS_OF, args.repeat)
        if args.far_future:
            _run(f"{n:,} as-of 9999-12-31", tables, dt.date(9999, 12, 31), 1)
        del tables


if __name__ == "__main__":
    main()
