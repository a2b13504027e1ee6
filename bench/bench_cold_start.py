"""Where a fresh server's time goes before the overview is drawn (cold start), by phase.

Usage (from the repository root)::

    python bench/bench_cold_start.py --participants 1000000 [--db URL] [--top 30]

In one new process: the imports of the entry script and the overview page,
then one ``AppTest`` session's first run (the tables read, the overview's
engine calls, drawing) under cProfile. Printed: the seconds of each phase,
the resident memory, and the functions with the most cumulative time, so
the share of the tables read, ``compute_metrics`` and the overview's
breakdowns can be read off. Nothing here asserts a time; the numbers go
into docs/performance.md by hand, beside the machine and the load average.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from bench_common import machine_line, prepare_database, rss_mb  # noqa: E402

# What the entry script and the overview page import before they draw anything.
_PAGE_IMPORTS = ("streamlit", "dashboard.app_access", "dashboard.app_links", "dashboard.app_page",
                 "dashboard.page_list", "dashboard.page_style", "dashboard.charts", "dashboard.export_numeric",
                 "dashboard.page_downloads", "dashboard.views", "dashboard.views_evaluation",
                 "dashboard.views_trends")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=None)
    parser.add_argument("--db", default=None, help="an existing loaded database (URL)")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or prepare_database(args.participants, Path(tmp))
        os.environ["DATABASE_URL"] = url
        print(machine_line())
        start = time.perf_counter()
        for name in _PAGE_IMPORTS:
            __import__(name)
        print(f"imports of the entry script and the overview: {time.perf_counter() - start:.2f} s", flush=True)
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=1800)
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        at.run()
        profiler.disable()
        print(f"first session, overview drawn: {time.perf_counter() - start:.2f} s, rss {rss_mb()[0]:,.0f} MB",
              flush=True)
        if at.exception:
            print([e.value for e in at.exception])
            return 1
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
        print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
