"""The breakdown views behind the overview, recidivism, equity and compliance pages: each metric's
units built once for all its breakdowns (``metric_view`` now) against built again per breakdown
(its definition, as ``metric_view`` computed it before).

Usage (from the repository root)::

    python bench/bench_views.py --db duckdb:///.bench-data/sample-1000000.duckdb [--repeat 3]
    python bench/bench_views.py --participants 100000 [--repeat 3]

Reads the tables once, then, under a one-program filter, times every metric's ``metric_view``
and each page's engine calls in the order the page makes them (``metrics`` rows, head counts
and the tile deltas' head counts, one view per metric the page breaks down; the recidivism
page's survival curves, ``evaluate``, are left out). The two variants alternate within each
repeat so both see the same machine load; medians of ``--repeat``. Every "before" view is
checked equal to its "after" view. No Streamlit, no caches; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import datetime as dt
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

OVERVIEW = [
    "referral_completion_rate", "compliance_rate", "program_completion_rate", "recidivism_rearrest_12m",
]
COMPLIANCE = ["compliance_rate", "violation_rate_per_100_pm"]
PAGES: dict[str, tuple[list[str], list[str]]] = {
    # page: (metrics rows it asks for, metrics it breaks down)
    "overview": (
        [*OVERVIEW, "employment_rate_12m", "stable_housing_rate_12m", "reintegration_check_coverage_12m"],
        OVERVIEW,
    ),
    "recidivism": ([f"recidivism_{m}_{w}m" for m in ("rearrest", "reconviction", "reincarceration")
                    for w in (6, 12, 24, 36)], [f"recidivism_rearrest_{w}m" for w in (6, 12, 24, 36)]),
    "equity": ([*OVERVIEW, "employment_rate_12m", "stable_housing_rate_12m"],
               [*OVERVIEW, "employment_rate_12m", "stable_housing_rate_12m"]),
    "compliance": (COMPLIANCE, COMPLIANCE),
}


def _median_pair(label: str, before: Callable[[], Any], after: Callable[[], Any], repeat: int) -> None:
    old: list[float] = []
    new: list[float] = []
    for _ in range(repeat):
        for fn, out in ((before, old), (after, new)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    b, a = statistics.median(old), statistics.median(new)
    print(f"{label:<40}{b:>9.2f}{a:>9.2f}{b / max(a, 1e-9):>8.1f}x", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=None)
    parser.add_argument("--db", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--program", default="P02")
    args = parser.parse_args(argv)

    from dashboard.metrics.breakdowns import (
        breakdown_cells,
        metric_view,
        metric_views,
        protected_view,
        view_breakdowns,
    )
    from dashboard.metrics.engine import compute_metrics, participant_counts
    from dashboard.metrics.prepared import prepare
    from dashboard.metrics.tables import Filters, resolve_as_of

    def view_by_definition(tables: Any, filters: Any, metric: str) -> dict[tuple[str, ...], Any]:
        """metric_view as it was computed before: rows and each breakdown from the tables."""
        rows = compute_metrics(tables, filters, min_cell_size=11, metric_ids=[metric])
        prep = prepare(tables, filters)
        raw = {by: breakdown_cells(prep, metric, list(by)) for by in view_breakdowns(metric)}
        return protected_view(metric, rows, raw, min_cell_size=11)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or prepare_database(args.participants, Path(tmp))
        print(machine_line())
        tables = read_tables(url)
        filters = Filters(program_ids=(args.program,))
        metrics = sorted({m for _, shown in PAGES.values() for m in shown} | {"referral_completion_rate"})
        for metric in metrics:
            old, new = view_by_definition(tables, filters, metric), metric_view(tables, filters, metric)
            assert list(old) == list(new) and all(old[b].to_dicts() == new[b].to_dicts() for b in old), metric
        print(f"{'metric_view (seconds, median)':<40}{'before':>9}{'after':>9}{'':>9}")
        for metric in metrics:
            _median_pair(metric, functools.partial(view_by_definition, tables, filters, metric),
                         functools.partial(metric_view, tables, filters, metric), args.repeat)

        as_of = resolve_as_of(tables, filters.as_of)
        q_start = dt.date(as_of.year, (as_of.month - 1) // 3 * 3 + 1, 1)

        def each_alone(view: Callable[[Any, Any, str], Any]) -> Callable[[list[str]], None]:
            def run(shown: list[str]) -> None:
                for m in shown:
                    view(tables, filters, m)
            return run

        def as_the_page_asks(shown: list[str]) -> None:
            """The recidivism page asks for its four windows together (PageContext.breakdowns)."""
            if all(m.startswith("recidivism_") for m in shown):
                metric_views(tables, filters, shown)
            else:
                for m in shown:
                    metric_view(tables, filters, m)

        def page(name: str, views_of: Callable[[list[str]], None]) -> Callable[[], None]:
            rows, shown = PAGES[name]

            def run() -> None:
                compute_metrics(tables, filters, min_cell_size=11, metric_ids=rows)
                if name == "overview":
                    participant_counts(tables, filters)
                    participant_counts(tables, dataclasses.replace(filters, start=q_start, end=as_of))
                    day_before = q_start - dt.timedelta(days=1)
                    participant_counts(tables, dataclasses.replace(filters, as_of=day_before))
                views_of(shown)
            return run

        print(f"{'page engine work (seconds, median)':<40}{'before':>9}{'after':>9}{'':>9}")
        for name in PAGES:
            before, after = page(name, each_alone(view_by_definition)), page(name, as_the_page_asks)
            _median_pair(name, before, after, args.repeat)
        print(f"peak rss {rss_mb()[1]:,.0f} MB")
        print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
