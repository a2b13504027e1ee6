"""The surveys family's computations, for the pages and tests that import them from here;
the family lives in :mod:`dashboard.metrics.families.surveys`."""

from __future__ import annotations

from dashboard.metrics.families.surveys import (  # noqa: F401 (re-exported)
    ANSWER_COLUMNS,
    FAVOURABLE_SCORES,
    METRICS,
    RESPONDENT_TYPES,
    SURVEY_FAMILY,
    SURVEY_GROUPINGS,
    SURVEY_KEYS,
    SURVEY_METRICS,
    SURVEY_QUESTIONS,
    TREND_SCHEMA,
    answers_with_programs,
    rows_from_cells,
    suppress_survey_rows,
    survey_cells,
    survey_metric_id,
    survey_responses,
    survey_rows,
    survey_rows_per_period,
    survey_trend,
)
