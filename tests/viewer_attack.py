"""A curious viewer's attack on one view, written independently of the engine's suppression code.

The viewer gathers every number one filter setting publishes — the ``metrics``
JSON, the ``evaluate`` JSON, and every breakdown the dashboard's pages and
chart-data downloads show for the same filters — and writes down the additive
relations the metric definitions state (every grouping and every breakdown
adds up to the overall row; the cohorts of a program add up to the program and
the programs of a cohort to the cohort; a two-key breakdown adds up to each of
its one-key margins). Each relation is one linear equation in the cells'
counts. Solving the system exactly (rational arithmetic) tells which
withheld cells are determined by what is published.

Only the structure matters: which cells are withheld and which relations hold.
The counts themselves never enter the solver, so a withheld cell is
"recoverable" exactly when some combination of the relations (sums and
differences) isolates it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from dashboard.evaluation import evaluate
from dashboard.metrics.breakdowns import metric_view
from dashboard.metrics.engine import metrics_json
from dashboard.metrics.partnerships import CO_RESPONDER_BREAKDOWNS, co_responder_share
from dashboard.metrics import reintegration
from dashboard.metrics.recidivism import metric_id as recidivism_metric
from dashboard.metrics.registry import GROUP_KEYS, METRIC_IDS, get_metric
from dashboard.metrics.tables import Filters, Tables

Key = tuple[str, tuple[str, ...], tuple[str | None, ...]]
"""(metric, grouping or breakdown dimensions, values)."""

PAGE_TWO_KEY: tuple[tuple[str, str], ...] = (("quarter", "cohort"), ("quarter", "agency_id"))
"""Quarterly trends by cohort and by agency, as the compliance and community-policing pages show."""


class View:
    """Every cell one view publishes: key -> withheld (True) or shown (False)."""

    def __init__(self) -> None:
        self.hidden: dict[Key, bool] = {}
        self.conflicts: list[str] = []
        self.dimensions: dict[str, set[tuple[str, ...]]] = {}

    def add(self, key: Key, withheld: bool, source: str) -> None:
        self.dimensions.setdefault(key[0], set()).add(key[1])
        if key in self.hidden and self.hidden[key] != withheld:
            self.conflicts.append(f"{key} is withheld in one output and shown in another ({source})")
            withheld = False  # the viewer keeps the number they were shown
        self.hidden[key] = withheld

    def add_rows(self, rows: Iterable[Mapping[str, Any]], source: str) -> None:
        for row in rows:
            by = tuple(row["group_by"])
            group = row["group"] or {}
            self.add((row["metric"], by, tuple(group.get(d) for d in by)), bool(row["suppressed"]), source)


def gather(
    tables: Tables,
    filters: Filters,
    k: int,
    *,
    metrics: Sequence[str] | None = None,
    with_evaluation: bool = True,
    with_co_responder: bool = True,
) -> View:
    """Everything one view shows: metrics JSON, every breakdown of each metric (the registry's
    dimensions and the pages' quarterly two-key trends), the co-responder views and the pooled
    evaluation (whose window cells are the cohort rows of the recidivism metrics)."""
    view = View()
    doc = metrics_json(tables, filters, k)
    view.add_rows(doc["metrics"], "metrics")
    for metric in metrics or [m for m in METRIC_IDS if any(r["metric"] == m for r in doc["metrics"])]:
        dims = [d for d in get_metric(metric).breakdowns if d not in GROUP_KEYS]
        shown = [(d,) for d in dims]
        if "quarter" in dims:
            shown += list(PAGE_TWO_KEY)
        frames = metric_view(tables, filters, metric, min_cell_size=k)
        for by in shown:
            # metric_breakdown(tables, filters, metric, by) is frames[by]; one call computes them all.
            view.add_rows(frames[by].iter_rows(named=True), f"{metric} by {'+'.join(by)}")
    if with_co_responder:
        for by in [(), *[(d,) for d in CO_RESPONDER_BREAKDOWNS], ("quarter", "agency_id")]:
            frame = co_responder_share(tables, filters, list(by), min_cell_size=k)
            view.add_rows(frame.iter_rows(named=True), f"co-responder share by {'+'.join(by)}")
    if with_evaluation and not filters.program_ids:
        result = evaluate(tables, filters, min_cell_size=k)
        for window in result["windows"]:
            measure, months = window["measure"], window["window_months"]
            # Each window cell is a metrics row: of a recidivism measure, or of employment/stable housing.
            metric = (reintegration.metric_id(measure, months) if measure in reintegration.MEASURES
                      else recidivism_metric(measure, months))
            for cohort in ("pilot", "comparison"):
                cell = window[cohort]
                if not cell["suppressed"] and not cell["denominator"]:
                    continue  # nobody eligible: no metrics row, nothing to add up
                view.add((metric, ("cohort",), (cohort,)), bool(cell["suppressed"]), "evaluate")
    return view


def relations(view: View) -> list[tuple[Key, list[Key]]]:
    """The additive sets (total, members) the definitions state, over the cells the view has."""
    out: list[tuple[Key, list[Key]]] = []
    by_metric: dict[str, list[Key]] = {}
    for key in view.hidden:
        by_metric.setdefault(key[0], []).append(key)
    for metric, keys in by_metric.items():
        overall: Key = (metric, (), ())
        dims = {key[1] for key in keys if key[1]}
        for by in sorted(dims):
            members = [key for key in keys if key[1] == by]
            out.append((overall, members))
            if len(by) != 2:
                continue
            for position, margin in enumerate(by):
                for value in {key[2][position] for key in members}:
                    total: Key = (metric, (margin,), (value,))
                    out.append((total, [m for m in members if m[2][position] == value]))
    return [(t, [m for m in ms if m in view.hidden]) for t, ms in out if t in view.hidden]


def determined(hidden: Mapping[Key, bool], sets: Sequence[tuple[Key, list[Key]]]) -> set[Key]:
    """Withheld cells isolated by some rational combination of the relations (exact RREF)."""
    rows: list[dict[Key, Fraction]] = []
    for total, members in sets:
        if not members:
            continue
        row: dict[Key, Fraction] = {}
        for m in members:
            if hidden[m]:
                row[m] = row.get(m, Fraction(0)) + 1
        if hidden[total]:
            row[total] = row.get(total, Fraction(0)) - 1
        row = {c: v for c, v in row.items() if v != 0}
        if row:
            rows.append(row)
    pivots: dict[Key, dict[Key, Fraction]] = {}
    for row in rows:
        row = dict(row)
        for pivot, prow in pivots.items():
            if pivot in row:
                factor = row[pivot]
                for c, v in prow.items():
                    row[c] = row.get(c, Fraction(0)) - factor * v
                row = {c: v for c, v in row.items() if v != 0}
        if not row:
            continue
        pivot = min(row, key=repr)
        scale = row[pivot]
        row = {c: v / scale for c, v in row.items()}
        for other, orow in pivots.items():
            if pivot in orow:
                factor = orow[pivot]
                for c, v in row.items():
                    orow[c] = orow.get(c, Fraction(0)) - factor * v
                pivots[other] = {c: v for c, v in orow.items() if v != 0}
        pivots[pivot] = row
    return {pivot for pivot, row in pivots.items() if len(row) == 1}


def single_unknown_sets(view: View) -> list[str]:
    """Additive sets with exactly one withheld cell (the total counting as a cell)."""
    out = []
    for total, members in relations(view):
        if not members:
            continue
        withheld = [c for c in (total, *members) if view.hidden[c]]
        if len(withheld) == 1:
            out.append(f"{withheld[0]} = difference of the published cells of the set totalled by {total}")
    return out


def recovered(view: View) -> tuple[set[Key], set[Key]]:
    """(withheld cells a viewer of the whole view determines, those the metrics rows alone give).

    The second set is a limit of the published per-metric rule, not of the breakdowns.
    """
    sets = relations(view)
    everything = determined(view.hidden, sets)
    metrics_only = {key for key in view.hidden if key[1] in _METRIC_GROUPINGS}
    only = {key: view.hidden[key] for key in metrics_only}
    metric_sets = [(t, [m for m in ms if m in only]) for t, ms in sets if t in only and all(m in only for m in ms)]
    return everything, determined(only, metric_sets)


_METRIC_GROUPINGS = {(), ("program_id",), ("agency_id",), ("cohort",), ("program_id", "cohort")}
