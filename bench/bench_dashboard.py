"""Time the dashboard's redraws at scale, through Streamlit's AppTest.

Usage (from the repository root)::

    python bench/bench_dashboard.py --participants 1000000 [--repeat 3] [--pages overview,equity]
    python bench/bench_dashboard.py --db postgresql://user@host/db [--repeat 3]
    python bench/bench_dashboard.py --participants 100000 --profile pilot_evaluation

With ``--participants N`` the seeded sample extract of N participants is
generated and loaded once into ``.bench-data/sample-N.duckdb`` (git-ignored)
and reused by later runs; ``--db URL`` measures an existing loaded database
instead (PostgreSQL or DuckDB). Without either, ``sample_data/`` is loaded
into a temporary DuckDB file.

Reported, each a median of ``--repeat``:

- ``cold start``: a new session (server start: nothing cached) until the
  overview is drawn; measured once, first;
- per page, ``first``: the first open of the page under new filters (the
  page's own work; the tables are cached by then);
- per page, ``change``: a filter change on that page (another program);
- the process's resident memory (current and peak) after every page.

AppTest runs the script in-process, so times are server-side script time
without the browser's drawing, and the memory is the server's for one
session. ``--profile PAGE`` prints a cProfile of that page's first open and
filter change instead (of the script thread AppTest runs the page in). Nothing here asserts a time: results go into
docs/performance.md by hand, with the machine and the load average.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from bench_common import machine_line, prepare_database, rss_mb  # noqa: E402

PAGES = (
    "overview", "pilot_evaluation", "recidivism", "reintegration", "referrals", "compliance",
    "partnerships", "community_policing", "operations", "community_voice", "equity", "data_status",
)
PROGRAMS = ("P01", "P02", "P03", "P04", "P05", "P06", "P07")


def _run(at, label: str) -> float:  # noqa: ANN001 - AppTest
    t = time.perf_counter()
    at.run()
    took = time.perf_counter() - t
    if at.exception:
        raise SystemExit(f"{label}: the page failed: {[e.value for e in at.exception]}")
    return took


def _program_filter(at, page: str):  # noqa: ANN001, ANN202 - AppTest's widget
    """The program filter; when the page drew no data (the DuckDB file was briefly held by
    another process, so the status probe said unreachable), wait for the next probe and redraw
    (untimed) until it is back."""
    for _ in range(12):
        try:
            return at.multiselect(key="filter_program")
        except KeyError:
            print(f"  ({page}: no filters drawn, the database was busy; redrawing)", flush=True)
            time.sleep(6)  # the status probe is cached for 5 s (app_state.STATUS_TTL_SECONDS)
            _run(at, page)
    raise SystemExit(f"{page}: the database stayed unreachable")


def _page_times(at, page: str, n: int, repeat: int) -> tuple[list[float], list[float]]:  # noqa: ANN001
    first, change = [], []
    for r in range(repeat):
        at.switch_page(f"pages/{page}.py")
        _program_filter(at, page).set_value([PROGRAMS[(n * repeat + r) % len(PROGRAMS)]])
        first.append(_run(at, page))
        _program_filter(at, page).set_value([PROGRAMS[(n * repeat + r + 3) % len(PROGRAMS)]])
        change.append(_run(at, page))
    return first, change


def _profiled_run(at, page: str) -> tuple[float, list[cProfile.Profile]]:  # noqa: ANN001
    """One run with a profiler in every thread it starts: AppTest runs the page's script in a
    thread of its own, which a profiler enabled in this (the main) thread does not see."""
    profilers: list[cProfile.Profile] = []

    def start_profiler(frame, event, arg):  # noqa: ANN001, ANN202 - sys.setprofile's signature
        sys.setprofile(None)  # this thread's first event: hand over to a cProfile of the thread
        profiler = cProfile.Profile()
        profilers.append(profiler)
        profiler.enable()

    threading.setprofile(start_profiler)
    try:
        took = _run(at, page)
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]
    return took, profilers


def _profile(at, page: str) -> None:  # noqa: ANN001
    at.switch_page(f"pages/{page}.py")
    at.multiselect(key="filter_program").set_value(["P02"])
    for label in ("first open", "filter change"):
        took, profilers = _profiled_run(at, page)
        print(f"--- {page}, {label}: {took:.2f} s ({len(profilers)} script thread(s) profiled)")
        if profilers:
            pstats.Stats(*profilers).sort_stats("cumulative").print_stats(45)
        at.multiselect(key="filter_program").set_value(["P05"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=None)
    parser.add_argument("--db", default=None, help="an existing loaded database (URL)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated page names")
    parser.add_argument("--profile", default=None, metavar="PAGE", help="cProfile one page instead")
    args = parser.parse_args(argv)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or prepare_database(args.participants, Path(tmp))
        os.environ["DATABASE_URL"] = url
        from streamlit.testing.v1 import AppTest

        print(machine_line())
        print(f"database: {url.split('@')[-1]}")
        at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=900)
        cold = _run(at, "overview")
        print(f"cold start (new session, read, overview drawn): {cold:.2f} s   rss {rss_mb()[0]:,.0f} MB")
        if args.profile:
            _profile(at, args.profile)
            return 0
        print(f"{'page':<22}{'first':>8}{'change':>8}{'rss MB':>9}{'peak MB':>9}"
              f"   (seconds, median of {args.repeat})", flush=True)
        for n, page in enumerate(p for p in args.pages.split(",") if p):
            first, change = _page_times(at, page, n, args.repeat)
            now, peak = rss_mb()
            print(f"{page:<22}{statistics.median(first):>8.2f}{statistics.median(change):>8.2f}"
                  f"{now:>9,.0f}{peak:>9,.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
