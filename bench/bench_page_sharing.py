"""A page's ``metrics`` rows and breakdown views computed together (``metrics_and_views``: one
``Prepared``, each metric's units built once for its rows and its view) against apart (as the
overview, equity and compliance pages asked before: ``compute_metrics`` for the rows, then one
``metric_view`` per metric; the recidivism page: ``metric_views`` of one measure's windows).

Usage (from the repository root)::

    python bench/bench_page_sharing.py --db duckdb:///.bench-data/sample-1000000.duckdb [--repeat 3]
    python bench/bench_page_sharing.py --participants 100000 [--repeat 3]

Reads the tables once, then under a one-program filter times each page's engine work both ways,
alternated within each repeat so both see the same machine load (medians of ``--repeat``). The
overview's three head counts are the same either way and are left out. Every "together" frame is
checked equal to its "apart" frame first. No Streamlit, no caches; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
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

HEADLINE = ["referral_completion_rate", "compliance_rate", "program_completion_rate", "recidivism_rearrest_12m"]
REINTEGRATION = ["employment_rate_12m", "stable_housing_rate_12m"]
COMPLIANCE = ["compliance_rate", "violation_rate_per_100_pm"]
RECIDIVISM = [f"recidivism_{m}_{w}m" for m in ("rearrest", "reconviction", "reincarceration") for w in (6, 12, 24, 36)]
PAGES: dict[str, tuple[list[str], list[str]]] = {
    # page: (metrics rows it asks for, metrics it shows a view of), as pages/*.py ask
    "overview": ([*HEADLINE, *REINTEGRATION, "reintegration_check_coverage_12m"], HEADLINE),
    "equity": ([*HEADLINE, *REINTEGRATION], [*HEADLINE, *REINTEGRATION]),
    "compliance": (COMPLIANCE, COMPLIANCE),
    "recidivism": (RECIDIVISM, [f"recidivism_rearrest_{w}m" for w in (6, 12, 24, 36)]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=None)
    parser.add_argument("--db", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--program", default="P02")
    parser.add_argument("--pages", default=",".join(PAGES))
    args = parser.parse_args(argv)

    from dashboard.metrics.breakdowns import metric_view, metric_views, metrics_and_views
    from dashboard.metrics.engine import compute_metrics
    from dashboard.metrics.tables import Filters

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or prepare_database(args.participants, Path(tmp))
        print(machine_line())
        tables = read_tables(url)
        filters = Filters(program_ids=(args.program,))

        def apart(name: str) -> Callable[[], Any]:
            rows, shown = PAGES[name]

            def run() -> Any:
                frame = compute_metrics(tables, filters, min_cell_size=11, metric_ids=sorted({*rows, *shown}))
                if name == "recidivism":  # PageContext.breakdowns: the windows together
                    return frame, metric_views(tables, filters, shown)
                return frame, {m: metric_view(tables, filters, m) for m in shown}
            return run

        def together(name: str) -> Callable[[], Any]:
            rows, shown = PAGES[name]
            return lambda: metrics_and_views(tables, filters, rows, shown)

        print(f"{'page engine work (seconds, median)':<28}{'apart':>9}{'together':>9}{'gain':>8}  load")
        for name in args.pages.split(","):
            old, new = apart(name)(), together(name)()
            assert old[0].to_dicts() == new[0].to_dicts(), name
            assert all(old[1][m][b].to_dicts() == new[1][m][b].to_dicts() for m in old[1] for b in old[1][m]), name
            times: dict[str, list[float]] = {"apart": [], "together": []}
            for _ in range(args.repeat):
                for label, fn in (("apart", apart(name)), ("together", together(name))):
                    t = time.perf_counter()
                    fn()
                    times[label].append(time.perf_counter() - t)
            b, a = statistics.median(times["apart"]), statistics.median(times["together"])
            print(f"{name:<28}{b:>9.2f}{a:>9.2f}{b / max(a, 1e-9):>7.1f}x  {os.getloadavg()[0]:.1f}", flush=True)
        print(f"peak rss {rss_mb()[1]:,.0f} MB")
        print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
