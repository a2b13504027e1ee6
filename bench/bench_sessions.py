"""Concurrent sessions: N dashboard sessions changing filters at once, in one server process.

Usage (from the repository root)::

    python bench/bench_sessions.py --participants 1000000 [--sessions 10] [--changes 5] [--page overview]
    python bench/bench_sessions.py --db postgresql://user@host/db --sessions 10

Each session is a Streamlit ``AppTest`` (its own session state, the
process's shared ``st.cache_resource`` caches, as in one server), driven
by its own thread: open ``--page``, then ``--changes`` filter changes, each
to a program/cohort combination no other session asked for before, so
every redraw computes its filter set (nothing is served from a cache
another session filled). Reported: redraw latency percentiles (p50, p90,
max) over every session's filter changes, the wall time, and the resident
memory of the process (current and peak) before and after: what the
sessions share is counted once.

AppTest runs scripts without a browser, so the latency is server-side
script time; the two cores are shared by all threads. Nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from bench_common import machine_line, prepare_database, rss_mb  # noqa: E402

PROGRAMS = ("P01", "P02", "P03", "P04", "P05", "P06", "P07")
COHORTS = ((), ("pilot",), ("comparison",))


def _share_the_test_runtime() -> None:
    """Keep a test Runtime in place between and across the sessions' runs.

    Each ``AppTest`` run installs a mock Runtime as the process's singleton and
    sets it back to None when it ends, so with sessions running at once one
    session's end left another mid-run without a Runtime ("Runtime hasn't been
    created!"), and that session stopped drawing. A real server has one Runtime
    for all its sessions; this falls back to the last mock installed.
    """
    from streamlit.runtime.runtime import Runtime

    last: list[Any] = []

    def instance(cls: type[Runtime]) -> Runtime:
        if cls._instance is not None:
            last[:] = [cls._instance]
            return cls._instance
        if last:
            return last[0]
        raise RuntimeError("Runtime hasn't been created!")

    def exists(cls: type[Runtime]) -> bool:
        return cls._instance is not None or bool(last)

    Runtime.instance = classmethod(instance)  # type: ignore[method-assign, assignment]
    Runtime.exists = classmethod(exists)  # type: ignore[method-assign, assignment]


def _session(index: int, page: str, changes: int, latencies: list[float], errors: list[str]) -> None:
    """One session's page and filter changes; an exception is an error of the run, not a lost thread."""
    try:
        _changes(index, page, changes, latencies, errors)
    except Exception as exc:  # noqa: BLE001 - reported with the results
        errors.append(f"session {index}: {type(exc).__name__}: {exc}")


def _changes(index: int, page: str, changes: int, latencies: list[float], errors: list[str]) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=1800)
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    for change in range(changes):
        n = index * changes + change
        at.multiselect(key="filter_program").set_value([PROGRAMS[n % len(PROGRAMS)]])
        at.multiselect(key="filter_cohort").set_value(list(COHORTS[(n // len(PROGRAMS)) % len(COHORTS)]))
        start = time.perf_counter()
        at.run()
        latencies.append(time.perf_counter() - start)
        if at.exception:
            errors.append(f"session {index}: {[e.value for e in at.exception]}")
            return


class _PeakSampler(threading.Thread):
    """The highest resident memory seen while it runs (the process's own peak includes the first
    session's read of the tables, which happens once per load run, not per session)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, rss_mb()[0])

    def stop(self) -> None:
        self._done.set()
        self.join()
        self.peak = max(self.peak, rss_mb()[0])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=None)
    parser.add_argument("--db", default=None)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--changes", type=int, default=5)
    parser.add_argument("--page", default="overview")
    args = parser.parse_args(argv)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or prepare_database(args.participants, Path(tmp))
        os.environ["DATABASE_URL"] = url
        from streamlit.testing.v1 import AppTest

        _share_the_test_runtime()
        print(machine_line())
        warm = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=1800)
        start = time.perf_counter()
        warm.run()  # the first session reads the tables; the others share them
        after_first, first_peak = rss_mb()
        print(f"first session (tables read): {time.perf_counter() - start:.2f} s, rss {after_first:,.0f} MB "
              f"(peak so far {first_peak:,.0f} MB)")
        sampled = _PeakSampler()
        sampled.start()
        latencies: list[float] = []
        errors: list[str] = []
        threads = [threading.Thread(target=_session, args=(i, args.page, args.changes, latencies, errors))
                   for i in range(args.sessions)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        sampled.stop()
        now, peak = rss_mb()
        if errors:
            print("\n".join(errors))
            return 1
        print(f"{args.sessions} sessions x {args.changes} filter changes on {args.page}: wall {wall:.1f} s")
        print(f"redraw latency p50 {statistics.median(latencies):.2f} s, p90 {_percentile(latencies, 0.9):.2f} s, "
              f"max {max(latencies):.2f} s (n={len(latencies)})")
        print(f"resident memory after: {now:,.0f} MB (peak {peak:,.0f} MB; "
              f"peak while the {args.sessions} sessions ran, sampled every 20 ms: {sampled.peak:,.0f} MB)")
        print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
