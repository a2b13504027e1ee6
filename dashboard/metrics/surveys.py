"""Community voice: the share of favourable survey answers, per question.

Definition (``docs/metrics.md``, contract version 2):
``survey_favourable_{Q}`` for Q in trust, safety, satisfaction, coordination
= responses to Q scored 4 or 5 (top-two box) / responses to Q, with a Wilson
95% interval. Responses dated after the as-of date are left out; the period
applies to survey_date. The program of a response is its program_id, else
its participant's program; its agency is its agency_id; a null key forms its
own group. Reported overall and by program_id, agency_id and respondent_type.
``--program`` applies to the derived program (responses without one drop
out), ``--agency`` to agency_id; the participant filters do not apply.

Suppression as for the other rates: a row whose denominator is below k or
whose numerator is from 1 to k − 1 is withheld, then the groups of program_id,
agency_id and respondent_type (in that order) are each protected against the
overall row, until nothing changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from dashboard.metrics.families import FamilyRow, TableFamily, suppress_against_overall
from dashboard.metrics.suppression import GroupKey, key_sort_value
from dashboard.metrics.tables import Filters, Tables, value_in
from dashboard.stats import wilson_interval

SURVEY_QUESTIONS: tuple[str, ...] = ("trust", "safety", "satisfaction", "coordination")
RESPONDENT_TYPES: tuple[str, ...] = ("participant", "resident", "staff", "partner")
FAVOURABLE_SCORES: tuple[int, ...] = (4, 5)
SURVEY_GROUPINGS: tuple[tuple[str, ...], ...] = ((), ("program_id",), ("agency_id",), ("respondent_type",))
SURVEY_KEYS: tuple[str, ...] = ("program_id", "agency_id", "respondent_type")


def survey_metric_id(question: str) -> str:
    return f"survey_favourable_{question}"


SURVEY_METRICS: tuple[str, ...] = tuple(survey_metric_id(q) for q in SURVEY_QUESTIONS)


def survey_responses(tables: Tables, filters: Filters, as_of: dt.date) -> pl.LazyFrame:
    """Responses that count: dated by the as-of and in the period, with the derived
    program_id, after --program / --agency. Adds ``_favourable`` (score 4 or 5)."""
    s = tables.surveys.lazy().filter(pl.col("survey_date") <= as_of)
    if filters.start is not None:
        s = s.filter(pl.col("survey_date") >= filters.start)
    if filters.end is not None:
        s = s.filter(pl.col("survey_date") <= filters.end)
    owners = tables.participants.lazy().select("participant_id", pl.col("program_id").alias("_participant_program"))
    s = s.join(owners, on="participant_id", how="left").with_columns(
        pl.coalesce(pl.col("program_id"), pl.col("_participant_program")).alias("program_id"),
        pl.col("score").is_in(FAVOURABLE_SCORES).fill_null(False).alias("_favourable"),
    )
    if filters.program_ids:
        s = s.filter(value_in(pl.col("program_id"), filters.program_ids))
    if filters.agency_ids:
        s = s.filter(value_in(pl.col("agency_id"), filters.agency_ids))
    return s


def survey_cells(tables: Tables, filters: Filters, as_of: dt.date, extra: Sequence[str] = ()) -> pl.DataFrame:
    """Favourable and total responses per (question, program_id, agency_id, respondent_type, *extra)."""
    keys = ["question", *SURVEY_KEYS, *extra]
    return (
        survey_responses(tables, filters, as_of)
        .group_by(keys)
        .agg(pl.col("_favourable").sum().cast(pl.Int64).alias("_num"), pl.len().cast(pl.Int64).alias("_den"))
        .collect()
    )


def rows_from_cells(cells: pl.DataFrame, wanted: set[str]) -> list[FamilyRow]:
    """Rows per question and grouping from :func:`survey_cells` (a group needs a denominator)."""
    rows: list[FamilyRow] = []
    for question in SURVEY_QUESTIONS:
        metric = survey_metric_id(question)
        if metric not in wanted:
            continue
        mine = cells.filter(pl.col("question") == question)
        for grouping in SURVEY_GROUPINGS:
            if grouping:
                rolled = mine.group_by(list(grouping)).agg(pl.col("_num").sum(), pl.col("_den").sum())
            else:
                rolled = mine.select(pl.col("_num").sum(), pl.col("_den").sum())
            found = []
            for rec in rolled.iter_rows(named=True):
                num, den = int(rec["_num"] or 0), int(rec["_den"] or 0)
                if den > 0:
                    key: GroupKey = (grouping, tuple(rec[g] for g in grouping))
                    found.append((metric, key, num, float(den), num / den, wilson_interval(num, den)))
            rows += sorted(found, key=lambda r: key_sort_value(r[1][1]))
    return rows


def survey_rows(tables: Tables, filters: Filters, as_of: dt.date, wanted: set[str]) -> list[FamilyRow]:
    """Rows of the survey metrics in ``wanted``."""
    return rows_from_cells(survey_cells(tables, filters, as_of), wanted)


def suppress_survey_rows(rows: Sequence[tuple[GroupKey, int | float | None, float]], k: int) -> dict[GroupKey, bool]:
    """Primary, then program_id, agency_id and respondent_type each against the overall row."""
    return suppress_against_overall(rows, k, SURVEY_GROUPINGS)


SURVEY_FAMILY = TableFamily(
    metric_ids=SURVEY_METRICS, source_table="surveys", rows=survey_rows, suppress=suppress_survey_rows
)
