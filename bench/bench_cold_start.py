"""Where a fresh server's time goes before the overview is drawn (cold start), by phase.

Usage (from the repository root)::

    python bench/bench_cold_start.py --participants 1000000 [--db URL]

In one new process: the imports of the entry script and the overview page,
then one ``AppTest`` session's first run (the tables read, the overview's
engine calls, drawing). AppTest runs the script in a thread of its own, where
cProfile does not see, so the engine entry points the pages call are wrapped
with timers instead. Printed: the seconds of each phase and of each entry
point (calls, total), the resident memory, and what is left for drawing, so
the share of the tables read, ``compute_metrics`` and the overview's
breakdowns can be read off. Nothing here asserts a time; the numbers go
into docs/performance.md by hand, beside the machine and the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from bench_common import machine_line, prepare_database, rss_mb  # noqa: E402

# What the entry script and the overview page import before they draw anything.
_PAGE_IMPORTS = ("streamlit", "dashboard.app_access", "dashboard.app_links", "dashboard.app_page",
                 "dashboard.page_list", "dashboard.page_style", "dashboard.charts",
                 "dashboard.export_numeric", "dashboard.page_downloads", "dashboard.views",
                 "dashboard.views_evaluation", "dashboard.views_trends")


# The engine entry points app_state calls (looked up on their modules at call time).
_TIMED = (("dashboard.app_state", "load_tables"), ("dashboard.metrics.engine", "compute_metrics"),
          ("dashboard.metrics.engine", "participant_counts"), ("dashboard.metrics.engine", "referral_counts"),
          ("dashboard.metrics.breakdowns", "metric_view"),
          ("dashboard.metrics.breakdowns", "metric_breakdown"),
          ("dashboard.evaluation", "evaluate"))


_DEPTH = threading.local()


def _timed(spent: dict[str, list[float]], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` timing itself into ``spent``; a call made inside another timed call is counted
    apart ("… inside another"), so the top-level shares add up."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        depth = getattr(_DEPTH, "n", 0)
        _DEPTH.n = depth + 1
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _DEPTH.n = depth
            spent[name if depth == 0 else f"{name} inside another"].append(time.perf_counter() - start)

    return wrapper


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=None)
    parser.add_argument("--db", default=None, help="an existing loaded database (URL)")
    args = parser.parse_args(argv)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or prepare_database(args.participants, Path(tmp))
        os.environ["DATABASE_URL"] = url
        print(machine_line())
        start = time.perf_counter()
        for name in _PAGE_IMPORTS:
            __import__(name)
        seconds = time.perf_counter() - start
        print(f"imports of the entry script and the overview: {seconds:.2f} s", flush=True)
        from streamlit.testing.v1 import AppTest

        spent: dict[str, list[float]] = defaultdict(list)
        for module_name, name in _TIMED:
            module = sys.modules.get(module_name) or __import__(module_name, fromlist=[name])
            setattr(module, name, _timed(spent, name, getattr(module, name)))
        at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=1800)
        start = time.perf_counter()
        at.run()
        total = time.perf_counter() - start
        print(f"first session, overview drawn: {total:.2f} s, rss {rss_mb()[0]:,.0f} MB", flush=True)
        if at.exception:
            print([e.value for e in at.exception])
            return 1
        for name, seconds in sorted(spent.items(), key=lambda item: -sum(item[1])):
            print(f"  {name:<22} {len(seconds):>3} calls {sum(seconds):8.2f} s  ({sum(seconds) / total:.0%})")
        print("  (the lines without \"inside another\" add up to the engine's share)")
        print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
