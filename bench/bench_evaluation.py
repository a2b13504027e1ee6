"""The pilot evaluation's engine work, before against after the per-participant facts.

Usage (from the repository root)::

    python bench/bench_evaluation.py --db duckdb:///.bench-data/sample-1000000.duckdb [--repeat 3]
    python bench/bench_evaluation.py --participants 100000 [--repeat 3]

Reads the tables once and finds the participant facts once (timed: the dashboard does it once
per load run and as-of date, shared by every session). Then, alternating before and after
within each repeat so both see the same machine load (medians of ``--repeat``):

- ``before``: the evaluation as it was (``tests/evaluation_before.py``, a frozen copy);
- ``after (CLI)``: ``evaluate`` without facts, as the ``evaluate`` command calls it;
- ``after (dashboard)``: ``evaluate`` as the dashboard calls it on a cache miss: over the shared
  facts, only the parts the page shows and, pooled, with the ``metrics`` rows the page has
  computed for itself anyway (``PageContext.evaluation_metrics``); a program's evaluation
  computes its own rows (from the facts), so that time is included.

The last rows time the ``metrics`` rows the page checks its suppression against
(``compute_metrics`` against ``evaluation_metric_rows`` over the facts, compared frame for
frame) and the baseline share counts.

No Streamlit, no caches; nothing here asserts a time. Every "after" result is compared with
the "before" one and the run stops if they differ.
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
sys.path.insert(0, str(REPO / "tests"))

from bench_common import machine_line, prepare_database, read_tables, rss_mb  # noqa: E402

PROGRAMS = ("P01", "P02", "P03", "P04", "P05", "P06", "P07")


def _time(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _row(label: str, variants: list[Callable[[], Any]], repeat: int, same: Callable[[Any, Any], bool]) -> None:
    """Times each variant ``repeat`` times, alternating; checks each result against the first's."""
    times: list[list[float]] = [[] for _ in variants]
    loads = []
    for _ in range(repeat):
        results = []
        for i, fn in enumerate(variants):
            took, out = _time(fn)
            times[i].append(took)
            results.append(out)
        loads.append(os.getloadavg()[0])
        for out in results[1:]:
            if not same(results[0], out):
                raise SystemExit(f"{label}: the new evaluation differs from the old one")
    medians = [statistics.median(t) for t in times]
    cells = "".join(f"{m:>10.2f}" for m in medians)
    gain = f"{medians[0] / max(medians[-1], 1e-9):>8.1f}x"
    print(f"{label:<44}{cells}{gain}   load {min(loads):.1f}-{max(loads):.1f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=None)
    parser.add_argument("--db", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import evaluation_before as before

    from dashboard.evaluation import (
        baseline_share_counts,
        evaluate,
        evaluation_metric_ids,
        evaluation_metric_rows,
        participant_facts,
    )
    from dashboard.metrics.engine import compute_metrics, published
    from dashboard.metrics.reintegration import coverage_metric_id
    from dashboard.metrics.tables import Filters, resolve_as_of

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or prepare_database(args.participants, Path(tmp))
        print(machine_line())
        tables = read_tables(url)
        as_of = resolve_as_of(tables, None)
        took, facts = _time(lambda: participant_facts(tables, as_of))
        print(f"participant facts (once per load run and as-of): {took:.2f} s, {facts.frame.height:,} rows, "
              f"{facts.frame.estimated_size() / 1e6:,.0f} MB, rss {rss_mb()[0]:,.0f} MB, "
              f"load {os.getloadavg()[0]:.1f}")
        print(f"{'work (seconds, median)':<44}{'before':>10}{'CLI':>10}{'dashboard':>10}{'gain':>9}")
        one = Filters(program_ids=("P02",))
        equal = lambda a, b: a == b  # noqa: E731

        def survival_part(a: dict[str, Any], b: dict[str, Any]) -> bool:
            return all(a[key] == b[key] for key in ("survival", "logrank"))

        page_rows = published(compute_metrics(tables, one, metric_ids=evaluation_metric_ids()))
        _row("evaluate pooled, every measure (P02 filter)", [
            lambda: before.evaluate(tables, one),
            lambda: evaluate(tables, one),
            lambda: evaluate(tables, one, facts=facts, metric_rows=page_rows),
        ], args.repeat, equal)
        _row("evaluate one program (P02), every measure", [
            lambda: before.evaluate(tables, Filters(), program_id="P02"),
            lambda: evaluate(tables, Filters(), program_id="P02"),
            lambda: evaluate(tables, Filters(), program_id="P02", facts=facts),
        ], args.repeat, equal)
        _row("evaluate one program (P02), rearrest only", [
            lambda: before.evaluate(tables, Filters(), program_id="P02", measures=("rearrest",)),
            lambda: evaluate(tables, Filters(), program_id="P02", measures=("rearrest",)),
            lambda: evaluate(tables, Filters(), program_id="P02", measures=("rearrest",), facts=facts),
        ], args.repeat, equal)
        _row("recidivism page: survival (P02 filter)", [
            lambda: before.evaluate(tables, one),
            lambda: evaluate(tables, one, parts=("survival",)),
            lambda: evaluate(tables, one, parts=("survival",), facts=facts),
        ], args.repeat, survival_part)

        def summary(fn: Callable[[str], dict[str, Any]]) -> list[Any]:
            return [fn(p)["windows"] for p in PROGRAMS]

        _row("pilot summary: 7 programs, rearrest windows", [
            lambda: summary(lambda p: before.evaluate(tables, Filters(), program_id=p, measures=("rearrest",))),
            lambda: summary(lambda p: evaluate(tables, Filters(), program_id=p, measures=("rearrest",),
                                                parts=("windows",))),
            lambda: summary(lambda p: evaluate(tables, Filters(), program_id=p, measures=("rearrest",),
                                                parts=("windows",), facts=facts)),
        ], args.repeat, equal)
        view_ids = [*evaluation_metric_ids(), coverage_metric_id(12)]

        def frames_equal(a: Any, b: Any) -> bool:
            return all(x.equals(y, null_equal=True) for x, y in zip(a, b, strict=True))

        _row("metrics rows the page checks (P02 filter)", [
            lambda: [compute_metrics(tables, one, metric_ids=view_ids)],
            lambda: [compute_metrics(tables, one, metric_ids=view_ids)],
            lambda: [evaluation_metric_rows(tables, one, view_ids, min_cell_size=11, facts=facts)],
        ], args.repeat, frames_equal)
        rearrest_ids = evaluation_metric_ids(["rearrest"])
        _row("metrics rows of the summary: 7 programs", [
            lambda: [compute_metrics(tables, Filters(program_ids=(p,)), metric_ids=rearrest_ids) for p in PROGRAMS],
            lambda: [compute_metrics(tables, Filters(program_ids=(p,)), metric_ids=rearrest_ids) for p in PROGRAMS],
            lambda: [evaluation_metric_rows(tables, Filters(program_ids=(p,)), rearrest_ids, min_cell_size=11,
                                            facts=facts) for p in PROGRAMS],
        ], args.repeat, frames_equal)
        _row("baseline share counts (P02 filter)", [
            lambda: before.baseline_share_counts(tables, one),
            lambda: baseline_share_counts(tables, one),
            lambda: baseline_share_counts(tables, one, facts=facts),
        ], args.repeat, equal)
        print(f"rss {rss_mb()[0]:,.0f} MB (peak {rss_mb()[1]:,.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
