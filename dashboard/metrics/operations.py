"""The operations family's computations, for the pages and tests that import them from here;
the family lives in :mod:`dashboard.metrics.families.operations`."""

from __future__ import annotations

from dashboard.metrics.families.operations import (  # noqa: F401 (re-exported)
    CASELOAD_FAMILY,
    CASELOAD_GROUPINGS,
    CASELOAD_PER_OFFICER,
    COST_FAMILY,
    COST_GROUPINGS,
    COST_METRICS,
    COST_PER_COMPLETION,
    COST_PER_PARTICIPANT,
    METRICS,
    TREND_SCHEMA,
    caseload_by_month,
    caseload_rows,
    cost_in_period,
    cost_rows,
    cost_trend,
    never_suppressed,
    pilot_completions,
    pilot_counts_per_period,
    pilot_served,
    staffing_months,
    suppress_cost_rows,
)
