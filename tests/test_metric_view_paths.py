"""A breakdown view builds its metric's units once (docs/performance.md, "Breakdown views").

``metric_view`` narrows the units (``Units.narrowed``: the joins and filters run once, only the
columns the breakdowns read are kept) and takes the ``metrics`` rows and every breakdown's cells
from that one frame. These tests prove it gives exactly what the definitions give when each part
is computed on its own from the tables — ``compute_metrics`` for the rows and ``breakdown_cells``
(the metric's units built afresh and grouped once per breakdown) for each breakdown — protected by
the same system: every frame, number and suppression flag, for every metric with breakdowns,
under several filter settings with suppression on and off.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from dashboard.metrics.breakdowns import (
    breakdown_cells,
    metric_breakdown,
    metric_view,
    metric_views,
    metrics_and_views,
    protected_view,
    view_breakdowns,
)
from dashboard.metrics.engine import compute_metrics
from dashboard.metrics.prepared import prepare
from dashboard.metrics.registry import METRICS
from dashboard.metrics.tables import Filters, Tables
from dashboard.sample import generate_tables

AS_OF = dt.date(2026, 6, 30)
SETTINGS = [
    (Filters(as_of=AS_OF), 11),
    (Filters(as_of=AS_OF, program_ids=("P03",)), 11),
    (Filters(as_of=AS_OF), 0),
    (Filters(as_of=dt.date(2025, 3, 31), cohorts=("pilot",), start=dt.date(2023, 1, 1)), 11),
    (Filters(as_of=AS_OF, risk_levels=("high", None), end=dt.date(2025, 12, 31), agency_ids=("A01",)), 5),
    (Filters(as_of=dt.date(2400, 1, 1)), 11),  # far future: every window has ended, nothing after it
]
VIEW_METRICS = [m.id for m in METRICS if view_breakdowns(m.id)]


@pytest.fixture(scope="module")
def tables() -> Tables:
    return Tables.from_frames(**generate_tables(participants=1500, seed=11, as_of=AS_OF))


def _by_definition(
    tables: Tables, filters: Filters, metric: str, k: int
) -> dict[tuple[str, ...], pl.DataFrame]:
    """The view as the definitions give it: rows and each breakdown's cells computed apart."""
    rows = compute_metrics(tables, filters, min_cell_size=k, metric_ids=[metric])
    prep = prepare(tables, filters)
    raw = {by: breakdown_cells(prep, metric, list(by)) for by in view_breakdowns(metric)}
    return protected_view(metric, rows, raw, min_cell_size=k)


def test_every_kind_of_metric_has_a_view() -> None:
    # Rates, a median (days to service) and an exposure rate (violations) are all covered below.
    assert {"compliance_rate", "median_days_to_service", "violation_rate_per_100_pm",
            "recidivism_rearrest_12m", "referral_completion_rate"} <= set(VIEW_METRICS)


@pytest.mark.parametrize("setting", SETTINGS, ids=range(len(SETTINGS)))
def test_the_view_equals_its_definition(tables: Tables, setting: tuple[Filters, int]) -> None:
    filters, k = setting
    shown = 0
    for metric in VIEW_METRICS:
        fast = metric_view(tables, filters, metric, min_cell_size=k)
        slow = _by_definition(tables, filters, metric, k)
        assert list(fast) == list(slow) == view_breakdowns(metric)
        for by in slow:
            assert fast[by].schema == slow[by].schema, (metric, by)
            assert fast[by].to_dicts() == slow[by].to_dicts(), (metric, by)
            shown += fast[by].height
    assert shown > 0


@pytest.mark.parametrize("setting", SETTINGS[:3], ids=range(3))
def test_the_views_metrics_rows_equal_compute_metrics(tables: Tables, setting: tuple[Filters, int]) -> None:
    """The overall row every breakdown starts with, and a breakdown by a standard grouping, are
    the ``metrics`` rows themselves."""
    filters, k = setting
    for metric in VIEW_METRICS:
        rows = compute_metrics(tables, filters, min_cell_size=k, metric_ids=[metric])
        overall = rows.filter(pl.col("group_by").list.len() == 0).drop("group")
        for frame in metric_view(tables, filters, metric, min_cell_size=k).values():
            assert frame.head(overall.height).drop("group").to_dicts() == overall.to_dicts(), metric


def test_some_cells_are_suppressed_and_some_shown(tables: Tables) -> None:
    """The comparison above is not vacuous: with k = 11 the views both publish and withhold cells."""
    filters, k = SETTINGS[1]
    frames = metric_view(tables, filters, "compliance_rate", min_cell_size=k)
    flags = pl.concat([f.select("suppressed") for f in frames.values()])["suppressed"]
    assert flags.any() and not flags.all()
    trend = metric_breakdown(tables, filters, "compliance_rate", ["quarter", "cohort"], min_cell_size=k)
    assert trend.height > 1


@pytest.mark.parametrize("setting", [SETTINGS[0], SETTINGS[2], SETTINGS[5]], ids=[0, 2, 5])
def test_views_computed_together_equal_each_alone(tables: Tables, setting: tuple[Filters, int]) -> None:
    """``metric_views`` shares one frame among metrics of the same units (the recidivism windows,
    the referral rates) and gives each exactly its own ``metric_view``."""
    filters, k = setting
    together = metric_views(tables, filters, VIEW_METRICS, min_cell_size=k)
    assert list(together) == VIEW_METRICS
    for metric in VIEW_METRICS:
        alone = _by_definition(tables, filters, metric, k)
        assert list(together[metric]) == list(alone)
        for by, frame in alone.items():
            assert together[metric][by].to_dicts() == frame.to_dicts(), (metric, by)


# What each page asks for together (pages/*.py: ``ctx.page_metrics(rows, views=...)``), and a mix
# of every view metric with metrics that have no view (counts, money), sharing units with them.
PAGE_SETS = {
    "overview": (["referral_completion_rate", "compliance_rate", "program_completion_rate", "recidivism_rearrest_12m",
                  "employment_rate_12m", "stable_housing_rate_12m", "reintegration_check_coverage_12m"],
                 ["referral_completion_rate", "compliance_rate", "program_completion_rate",
                  "recidivism_rearrest_12m"]),
    "equity": (["referral_completion_rate", "compliance_rate", "program_completion_rate", "recidivism_rearrest_12m",
                "employment_rate_12m", "stable_housing_rate_12m"],
               ["referral_completion_rate", "compliance_rate", "program_completion_rate", "recidivism_rearrest_12m",
                "employment_rate_12m", "stable_housing_rate_12m"]),
    "compliance": (["compliance_rate", "violation_rate_per_100_pm"], ["compliance_rate", "violation_rate_per_100_pm"]),
    "recidivism": ([f"recidivism_{m}_{w}m" for m in ("rearrest", "reconviction", "reincarceration")
                    for w in (6, 12, 24, 36)],
                   [f"recidivism_reconviction_{w}m" for w in (6, 12, 24, 36)]),
    "everything": ([m.id for m in METRICS], VIEW_METRICS[::2]),
}


@pytest.mark.parametrize("setting", SETTINGS, ids=range(len(SETTINGS)))
@pytest.mark.parametrize("page", sorted(PAGE_SETS))
def test_a_pages_metrics_and_views_computed_together_equal_each_apart(
    tables: Tables, setting: tuple[Filters, int], page: str
) -> None:
    """``metrics_and_views`` (one ``Prepared``, each metric's units built once for its rows and its
    view) gives exactly ``compute_metrics`` of the page's metrics and each view's definition."""
    filters, k = setting
    metric_ids, view_ids = PAGE_SETS[page]
    frame, together = metrics_and_views(tables, filters, metric_ids, view_ids, min_cell_size=k)
    apart = compute_metrics(tables, filters, min_cell_size=k, metric_ids=sorted({*metric_ids, *view_ids}))
    assert frame.schema == apart.schema
    assert frame.to_dicts() == apart.to_dicts()
    assert apart.height > 0
    assert list(together) == list(dict.fromkeys(view_ids))
    for metric in view_ids:
        alone = _by_definition(tables, filters, metric, k)
        assert list(together[metric]) == list(alone)
        for by, expected in alone.items():
            assert together[metric][by].schema == expected.schema, (metric, by)
            assert together[metric][by].to_dicts() == expected.to_dicts(), (metric, by)
