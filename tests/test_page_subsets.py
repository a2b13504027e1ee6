"""Pages compute only what they show (docs/performance.md, "Dashboard redraws"): a page asks the
engine for its own metrics, and the pilot-evaluation summary evaluates 12-month rearrest alone.
These tests prove that the narrower calls give exactly the rows, flags and numbers of the full ones,
under several filter settings (suppression on)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from dashboard.evaluation import evaluate
from dashboard.metrics.engine import compute_metrics
from dashboard.metrics.tables import Filters, Tables
from dashboard.sample import generate_tables
from dashboard.views_evaluation import EVALUATION_VIEW_METRICS

AS_OF = dt.date(2026, 6, 30)
# The metric ids each page now asks for (pages/*.py).
PAGE_METRICS = {
    "overview": ["referral_completion_rate", "compliance_rate", "program_completion_rate", "recidivism_rearrest_12m",
                 "employment_rate_12m", "stable_housing_rate_12m", "reintegration_check_coverage_12m"],
    "compliance": ["compliance_rate", "violation_rate_per_100_pm"],
    "referrals": ["referral_acceptance_rate", "median_days_to_service", "referral_completion_rate"],
    "pilot_evaluation": list(EVALUATION_VIEW_METRICS),
    "coverage": ["reintegration_check_coverage_12m"],
    "community_policing": ["police_diversion_rate"],
    "equity": ["referral_completion_rate", "compliance_rate", "program_completion_rate",
               "recidivism_rearrest_12m", "employment_rate_12m", "stable_housing_rate_12m"],
}
SETTINGS = [
    Filters(as_of=AS_OF),
    Filters(as_of=AS_OF, program_ids=("P03",)),
    Filters(as_of=dt.date(2025, 3, 31), cohorts=("pilot",), start=dt.date(2023, 1, 1)),
    Filters(as_of=AS_OF, risk_levels=("high", None), end=dt.date(2025, 12, 31)),
]


@pytest.fixture(scope="module")
def tables() -> Tables:
    return Tables.from_frames(**generate_tables(participants=2500, seed=7, as_of=AS_OF))


@pytest.mark.parametrize("filters", SETTINGS, ids=range(len(SETTINGS)))
@pytest.mark.parametrize("page", sorted(PAGE_METRICS))
def test_page_metrics_equal_the_full_output(tables: Tables, filters: Filters, page: str) -> None:
    ids = PAGE_METRICS[page]
    full = compute_metrics(tables, filters, min_cell_size=11).filter(pl.col("metric").is_in(ids))
    subset = compute_metrics(tables, filters, min_cell_size=11, metric_ids=sorted(set(ids)))
    assert full.height > 0
    assert subset.to_dicts() == full.to_dicts()


@pytest.mark.parametrize("program", [None, "P01", "P04"])
@pytest.mark.parametrize("filters", SETTINGS[:3], ids=range(3))
def test_rearrest_only_evaluation_equals_the_full_one(tables: Tables, filters: Filters, program: str | None) -> None:
    if program is not None and filters.program_ids:
        program = filters.program_ids[0]  # a program outside the program filter is refused
    full = evaluate(tables, filters, program_id=program, min_cell_size=11)
    rearrest = evaluate(tables, filters, program_id=program, measures=("rearrest",), min_cell_size=11)
    assert rearrest["windows"] == [w for w in full["windows"] if w["measure"] == "rearrest"]
    assert rearrest["survival"] == [s for s in full["survival"] if s["measure"] == "rearrest"]
    assert rearrest["logrank"] == [t for t in full["logrank"] if t["measure"] == "rearrest"]
    assert rearrest["baseline"] == full["baseline"]
    assert [w["window_months"] for w in rearrest["windows"]] == [6, 12, 24, 36]
