"""One metric broken down for the dashboard, every breakdown of a view protected as one system.

:func:`metric_breakdown` and :func:`metric_view` give a metric's cells by quarter, service,
event, violation or contact type, response, demographics and program/agency/cohort; each
metric's family builds the units (:mod:`dashboard.metrics.kinds`) and the kind breaks them
down. The cells are suppressed together with the metric's ``metrics`` rows
(:mod:`dashboard.metrics.disclosure`; see docs/metrics.md, "Disclosure control across a view").
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import polars as pl

from dashboard.metrics.disclosure import Cell, protect
from dashboard.metrics.engine import OUTPUT_SCHEMA, build_units, compute_metrics, units_metrics
from dashboard.metrics.kinds import BreakdownCell
from dashboard.metrics.prepared import DEMOGRAPHIC_COLUMNS, Prepared, prepare
from dashboard.metrics.registry import GROUP_KEYS, GROUPINGS, METRIC_IDS, get_metric
from dashboard.metrics.suppression import OVERALL, AdditiveSet, GroupKey, key_sort_value, metric_sets
from dashboard.metrics.tables import Filters, Tables

BREAKDOWN_DIMENSIONS: tuple[str, ...] = (
    "quarter", "service_type", "event_type", "violation_type", "response", "contact_type",
    *DEMOGRAPHIC_COLUMNS, *GROUP_KEYS, "year",
)


def _check_breakdown(metric: str, by: Sequence[str]) -> None:
    definition = get_metric(metric)
    allowed = (*definition.breakdowns, *GROUP_KEYS)
    bad = [d for d in by if d not in allowed]
    if bad or not by or len(set(by)) != len(by):
        raise ValueError(
            f"cannot break {metric} down by {list(by)}: choose one or more distinct of {', '.join(allowed)}"
        )


def breakdown_cells(prep: Prepared, metric: str, by: list[str]) -> list[BreakdownCell]:
    """(key values, numerator, denominator, value, interval) per cell with a row, from the metric's units."""
    built = build_units(prep, {metric})
    if not built:
        return []
    (units,) = built
    return units.cells(metric, by)


VIEW_TWO_KEY_BREAKDOWNS: tuple[tuple[str, str], ...] = (("quarter", "cohort"), ("quarter", "agency_id"))
"""The two-key breakdowns the dashboard shows (quarterly trends by cohort and by
agency). Every metric whose breakdowns include ``quarter`` carries both in its
view, so a page may show either beside everything else without opening a gap."""


def metric_breakdown(
    tables: Tables,
    filters: Filters,
    metric_id: str,
    by: Sequence[str],
    *,
    min_cell_size: int = 11,
) -> pl.DataFrame:
    """One metric broken down by ``by`` (quarter of the metric's date, service/event/
    violation/contact type, response, demographics, program/agency/cohort).

    The first row is the metric's overall row exactly as :func:`compute_metrics`
    gives it (same suppression); the cells follow, sorted by key (null last).
    ``by`` is one dimension, a standard grouping (the ``metrics`` rows), or one
    of :data:`VIEW_TWO_KEY_BREAKDOWNS`; a two-key breakdown lists its complete
    grid (:func:`empty_grid_cells`). The cells are suppressed together with
    every other breakdown of the metric the product shows under the same
    filters (see :func:`metric_view`), so no suppressed cell can be recovered
    from anything one view publishes. A violation-type or response cell
    carries the exposure of its other dimensions (exposure has no type).
    Columns: metric, group_by, group (struct of the ``by`` values as strings),
    numerator, denominator, value, ci_low, ci_high, suppressed.
    """
    by = list(by)
    _check_breakdown(metric_id, by)
    if tuple(by) in GROUPINGS:
        overall_frame = compute_metrics(tables, filters, min_cell_size=min_cell_size, metric_ids=[metric_id])
        return _regroup(overall_frame, by)
    view = metric_view(tables, filters, metric_id, min_cell_size=min_cell_size)
    if tuple(by) not in view:
        shown = ", ".join("+".join(b) for b in view) or "none"
        raise ValueError(
            f"cannot break {metric_id} down by {by}: a breakdown must be part of the metric's view to be "
            f"protected with the others (one dimension, a standard grouping, or one of: {shown}); "
            "add a new two-key breakdown to VIEW_TWO_KEY_BREAKDOWNS"
        )
    return view[tuple(by)]


_BreakdownKey = tuple[str, tuple[str, ...], tuple[str | None, ...]]


def _strings(values: Sequence[Any]) -> tuple[str | None, ...]:
    return tuple(None if v is None else str(v) for v in values)


def view_breakdowns(metric_id: str) -> list[tuple[str, ...]]:
    """The breakdowns (besides the ``metrics`` groupings) in ``metric_id``'s view, in visiting order:
    each dimension of the registry, then :data:`VIEW_TWO_KEY_BREAKDOWNS` whose dimensions apply."""
    definition = get_metric(metric_id)
    allowed = (*definition.breakdowns, *GROUP_KEYS)
    one_key = [(d,) for d in definition.breakdowns if d not in GROUP_KEYS]
    two_key = [b for b in VIEW_TWO_KEY_BREAKDOWNS if all(d in allowed for d in b)]
    return [*one_key, *two_key]


def empty_grid_cells(rows: Sequence[BreakdownCell]) -> list[BreakdownCell]:
    """The cells a two-key breakdown lacks to list its complete grid: every first-key value
    (quarter) present × every second-key value (cohort, agency) present, each missing one as a
    cell with no records (numerator 0, or None where the breakdown's numerators are None;
    denominator 0; no value). Such a cell is withheld like any cell below the primary rule, so
    the list of cells no longer tells which quarters hold which cohorts or agencies (see
    docs/metrics.md, "Disclosure control across a view")."""
    if not rows:
        return []
    present = {tuple(row[0]) for row in rows}
    firsts = list(dict.fromkeys(row[0][0] for row in rows))
    seconds = list(dict.fromkeys(row[0][1] for row in rows))
    numerator = None if all(row[1] is None for row in rows) else 0
    return [
        ((a, b), numerator, 0.0, None, None)
        for a in firsts for b in seconds if (a, b) not in present
    ]


def metric_view(
    tables: Tables, filters: Filters, metric_id: str, *, min_cell_size: int = 11
) -> dict[tuple[str, ...], pl.DataFrame]:
    """Every breakdown of one metric the product shows under one filter setting, protected as one system.

    The system (see :mod:`dashboard.metrics.disclosure`): the metric's
    ``metrics`` rows, fixed as :func:`compute_metrics` suppresses them; each
    one-key breakdown against the overall row; each two-key breakdown
    (quarter × g) against the overall row, against each quarter row of the
    quarter breakdown and against each ``metrics`` row of grouping g, over
    its complete grid (a combination with no records is one more unknown,
    withheld: see :func:`empty_grid_cells`). Only
    breakdown cells are ever suppressed here. Returns one frame per
    breakdown of :func:`view_breakdowns`, as :func:`metric_breakdown` gives it.

    The metric's units are built once and narrowed (:meth:`dashboard.metrics.kinds.Units.narrowed`):
    the joins and filters run once for the ``metrics`` rows and every breakdown, which then
    group a small frame in memory (docs/performance.md, "Breakdown views").
    """
    return metric_views(tables, filters, [metric_id], min_cell_size=min_cell_size)[metric_id]


def metric_views(
    tables: Tables, filters: Filters, metric_ids: Sequence[str], *, min_cell_size: int = 11
) -> dict[str, dict[tuple[str, ...], pl.DataFrame]]:
    """:func:`metric_view` of each of ``metric_ids``, computed together: one :class:`Prepared`,
    and metrics that share units (the windows of one recidivism measure share their
    participants and first events) share one narrowed frame. Each view is exactly the one
    :func:`metric_view` gives alone: rows and cells are summed per metric, and each metric's
    ``metrics`` rows are suppressed on their own (:func:`compute_metrics`)."""
    return metrics_and_views(tables, filters, metric_ids, metric_ids, min_cell_size=min_cell_size)[1]


def metrics_and_views(
    tables: Tables,
    filters: Filters,
    metric_ids: Sequence[str],
    view_ids: Sequence[str],
    *,
    min_cell_size: int = 11,
) -> tuple[pl.DataFrame, dict[str, dict[tuple[str, ...], pl.DataFrame]]]:
    """What a page draws under one filter setting, computed together: :func:`compute_metrics` of
    ``metric_ids`` and ``view_ids`` (exactly its frame, unpublished) and :func:`metric_view` of
    each of ``view_ids``.

    A page shows a metric's ``metrics`` rows (tiles, tables by program and agency) beside its
    breakdowns (trends, groups); computed apart, the rows and each view prepared the filters and
    built the metric's units again. Here there is one :class:`Prepared` and the units of every
    metric are built once: those with a view are narrowed (:meth:`Units.narrowed`), one at a
    time so that only one narrowed frame is held, and give their rows and their views; the
    others give their rows in one pass (docs/performance.md, "Pages share their metrics and
    views"). Each metric's rows are suppressed on their own and each view is protected on its
    own, so both are exactly what the functions give alone.
    """
    view_ids = list(dict.fromkeys(view_ids))
    wanted = {*metric_ids, *view_ids}
    breakdowns = {m: view_breakdowns(m) for m in view_ids}
    built = build_units(prepare(tables, filters), wanted)
    plain = [units for units in built if not any(m in units.metric_ids for m in view_ids)]
    parts = [units_metrics(plain, min_cell_size=min_cell_size)]  # the rows of metrics without a view, one pass
    out: dict[str, dict[tuple[str, ...], pl.DataFrame]] = {}
    for units in built:
        mine = [m for m in view_ids if m in units.metric_ids]
        if not mine:
            continue
        # One narrowed frame at a time (each can hold millions of records): its rows, then its views.
        union = list(dict.fromkeys(by for m in mine for by in breakdowns[m]))
        narrow = units.narrowed([m for m in units.metric_ids if m in wanted], union)
        rows = units_metrics([narrow], min_cell_size=min_cell_size)
        parts.append(rows)
        for m in mine:
            raw = {by: narrow.cells(m, list(by)) for by in breakdowns[m]}
            out[m] = protected_view(m, rows.filter(pl.col("metric") == m), raw, min_cell_size=min_cell_size)
        del narrow
    for m in view_ids:  # a metric with no units (a table family without rows): its rows and cells are empty
        if m not in out:
            out[m] = protected_view(m, units_metrics([], min_cell_size=min_cell_size),
                                    {by: [] for by in breakdowns[m]}, min_cell_size=min_cell_size)
    metrics_frame = in_output_order(pl.concat(parts))
    return metrics_frame, {m: out[m] for m in view_ids}


def in_output_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows of several units' :func:`units_metrics` frames in :func:`compute_metrics`' order: each
    metric's rows come from one units object, already in order, so the metrics are put in the
    registry's order and each keeps its rows' order."""
    if frame.height == 0:
        return frame
    parts = frame.partition_by("metric", as_dict=True, maintain_order=True)
    return pl.concat([parts[(m,)] for m in METRIC_IDS if (m,) in parts])


def protected_view(
    metric_id: str,
    metrics_frame: pl.DataFrame,
    raw: dict[tuple[str, ...], list[BreakdownCell]],
    *,
    min_cell_size: int = 11,
) -> dict[tuple[str, ...], pl.DataFrame]:
    """:func:`metric_view`'s frames from the metric's ``metrics`` rows (as :func:`compute_metrics`
    gives them) and the unsuppressed cells of each breakdown (as :func:`breakdown_cells` gives
    them): the complete grids added, every cell protected as one system (see :func:`metric_view`)."""
    k = min_cell_size
    raw = {by: list(rows) for by, rows in raw.items()}
    for by, rows in raw.items():
        if len(by) == 2 and k > 0:  # with suppression off every cell is shown: no grid needed
            rows.extend(empty_grid_cells(rows))
    cells, metric_keys = _metric_cells(metrics_frame)
    keyed: dict[tuple[str, ...], list[tuple[_BreakdownKey, tuple[Any, ...]]]] = {}
    for by, rows in raw.items():
        keyed[by] = []
        for row in sorted(rows, key=lambda c: key_sort_value(_strings(c[0]))):
            key: _BreakdownKey = ("breakdown", by, _strings(row[0]))
            cells[key] = Cell(row[1], row[2], key_sort_value(key[2]))
            keyed[by].append((key, row))
    flags = protect(cells, _view_sets(metric_keys, keyed), k)
    return _view_frames(metric_id, metrics_frame, keyed, flags)


def _metric_cells(metrics_frame: pl.DataFrame) -> tuple[dict[Hashable, Cell], list[GroupKey]]:
    """The ``metrics`` rows as fixed cells of the view's system, and their keys in order."""
    cells: dict[Hashable, Cell] = {}
    metric_keys: list[GroupKey] = []
    for rec in metrics_frame.iter_rows(named=True):
        grouping = tuple(rec["group_by"])
        values: tuple[str | None, ...] = tuple(rec["group"][g] for g in grouping)
        metric_keys.append((grouping, values))
        cells[(grouping, values)] = Cell(
            rec["numerator"], float(rec["denominator"]), key_sort_value(values), fixed=bool(rec["suppressed"])
        )
    return cells, metric_keys


def _view_sets(
    metric_keys: list[GroupKey], keyed: dict[tuple[str, ...], list[tuple[_BreakdownKey, tuple[Any, ...]]]]
) -> list[AdditiveSet[Hashable]]:
    """The additive sets of one view: the ``metrics`` rows' own, each breakdown against the overall
    row, each two-key breakdown against each value of either margin (see :func:`metric_view`)."""
    sets: list[AdditiveSet[Hashable]] = [
        AdditiveSet(s.total, tuple(s.members)) for s in metric_sets(metric_keys)
    ]
    for by, rows in keyed.items():
        members = tuple(key for key, _ in rows)
        sets.append(AdditiveSet(OVERALL, members))
        if len(by) != 2:
            continue
        for position, margin in enumerate(by):
            # Members by their value on this margin, in one pass (a set per value, in key order).
            by_value: dict[Any, list[_BreakdownKey]] = {}
            for m in members:
                by_value.setdefault(m[2][position], []).append(m)
            for value in sorted(by_value, key=lambda v: key_sort_value((v,))):
                total: Hashable = (
                    ((margin,), (value,)) if margin in GROUP_KEYS else ("breakdown", (margin,), (value,))
                )
                sets.append(AdditiveSet(total, tuple(by_value[value])))
    return sets


def _view_frames(
    metric_id: str,
    metrics_frame: pl.DataFrame,
    keyed: dict[tuple[str, ...], list[tuple[_BreakdownKey, tuple[Any, ...]]]],
    flags: Mapping[Hashable, bool],
) -> dict[tuple[str, ...], pl.DataFrame]:
    """One frame per breakdown: the metric's overall row, then its cells with their flags."""
    overall = metrics_frame.filter(pl.col("group_by").list.len() == 0)
    out: dict[tuple[str, ...], pl.DataFrame] = {}
    for by, rows in keyed.items():
        records: list[dict[str, Any]] = []
        if overall.height:
            records.append({**overall.row(0, named=True), "group": {d: None for d in by}})
        for key, (values_raw, num, den, value, ci) in rows:
            records.append({
                "metric": metric_id, "group_by": list(by),
                "group": dict(zip(by, key[2])),
                "numerator": num, "denominator": den, "value": value,
                "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
                "suppressed": flags[key],
            })
        schema = dict(OUTPUT_SCHEMA)
        schema["group"] = pl.Struct({d: pl.String() for d in by})
        out[by] = pl.DataFrame(records, schema=schema)
    return out


def _regroup(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Rows of one standard grouping (plus overall) with ``group`` narrowed to ``by``."""
    keep = frame.filter(
        (pl.col("group_by").list.len() == 0) | (pl.col("group_by").list.join("+") == "+".join(by))
    )
    return keep.with_columns(pl.struct(*[pl.col("group").struct.field(d) for d in by]).alias("group"))
