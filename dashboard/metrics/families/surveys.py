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

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl

from dashboard.metrics.definition import NO_PARTICIPANT_FILTERS, MetricDefinition
from dashboard.metrics.kinds import Family
from dashboard.metrics.per_tables import once_per_tables
from dashboard.metrics.table_kinds import FamilyRow, TableFamily, suppress_against_overall
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


_SURVEY_WORDS: dict[str, str] = {
    "trust": "trust (in the police and partner agencies)",
    "safety": "feeling safe",
    "satisfaction": "satisfaction with the service",
    "coordination": "coordination between the partner agencies",
}


def _survey_definitions() -> list[MetricDefinition]:
    out = []
    for question, words in _SURVEY_WORDS.items():
        out.append(
            MetricDefinition(
                id=survey_metric_id(question),
                label=f"Favourable answers: {question}",
                definition=(
                    f"Share of survey answers about {words} that were favourable: a score of 4 or 5 on the "
                    "1–5 scale (top-two box)."
                ),
                numerator=f"responses to the question {question} with score 4 or 5",
                denominator=f"responses to the question {question}",
                includes=(
                    "Responses whose survey_date is in the period, from residents, participants, staff and "
                    "partners, with or without a program, agency or participant."
                ),
                excludes=(
                    "Responses dated after the as-of date. Under --program, responses with no program (neither "
                    "their own nor their participant's). " + NO_PARTICIPANT_FILTERS
                ),
                unit="rate",
                period_date="surveys.survey_date",
                source_table="surveys",
                agency_attribution="the response's agency_id (the agency the answer is about)",
                program_attribution="the response's program_id, else its participant's program_id",
                has_interval=True,
                breakdowns=(),
                family="surveys",
                own_groupings=((), ("program_id",), ("agency_id",), ("respondent_type",)),
                participant_filters_apply=False,
            )
        )
    return out


METRICS: tuple[MetricDefinition, ...] = tuple(_survey_definitions())
SURVEY_METRICS: tuple[str, ...] = tuple(survey_metric_id(q) for q in SURVEY_QUESTIONS)


ANSWER_COLUMNS: tuple[str, ...] = ("survey_date", "question", "score", *SURVEY_KEYS, "_favourable")
"""The columns of :func:`survey_responses`: what the counts need."""


def answers_with_programs(tables: Tables) -> pl.DataFrame:
    """Every answer's :data:`ANSWER_COLUMNS`, program_id derived (its own, else its participant's)
    and ``_favourable`` (score 4 or 5) added. Depends on the tables alone, so the dashboard joins
    the answers to the million participants once per load run, not on every filter change
    (``once_per_tables``; docs/performance.md, "Contract-version-2 and partnership pages")."""
    owners = tables.participants.lazy().select("participant_id", pl.col("program_id").alias("_participant_program"))
    return tables.surveys.lazy().join(owners, on="participant_id", how="left").with_columns(
        pl.coalesce(pl.col("program_id"), pl.col("_participant_program")).alias("program_id"),
        pl.col("score").is_in(FAVOURABLE_SCORES).fill_null(False).alias("_favourable"),
    ).select(ANSWER_COLUMNS).collect()


def survey_responses(tables: Tables, filters: Filters, as_of: dt.date) -> pl.LazyFrame:
    """Responses that count: dated by the as-of and in the period, with the derived
    program_id, after --program / --agency, with ``_favourable`` (score 4 or 5);
    columns :data:`ANSWER_COLUMNS`."""
    s = once_per_tables(tables, "survey_answers", answers_with_programs).lazy()
    s = s.filter(pl.col("survey_date") <= as_of)
    if filters.start is not None:
        s = s.filter(pl.col("survey_date") >= filters.start)
    if filters.end is not None:
        s = s.filter(pl.col("survey_date") <= filters.end)
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


TREND_SCHEMA: dict[str, Any] = {
    "metric": pl.String, "period": pl.String, "group_by": pl.String, "group": pl.String, "numerator": pl.Int64,
    "denominator": pl.Int64, "value": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
    "suppressed": pl.Boolean,
}


def survey_trend(
    tables: Tables,
    filters: Filters,
    as_of: dt.date,
    periods: Sequence[tuple[str, dt.date, dt.date]],
    by: str | None = None,
    *,
    min_cell_size: int = 11,
) -> pl.DataFrame:
    """Favourable shares per question, per period and for the whole selected period.

    Rows: ``period`` null for the whole selected period, else the period's
    label; ``group_by`` "" for all responses, else ``by`` (program_id,
    agency_id or respondent_type) with its value in ``group`` (null: the
    Unassigned group). Each period is computed exactly as the metric under a
    period filter of its own dates.

    Suppression: the whole-period rows are suppressed as the metric is (all
    its groupings); then each period's groups are protected against that
    period's row, and each group's periods against its whole-period row
    (answers are dated, so the periods add up), until nothing changes.
    Numbers of suppressed rows are kept here; blank them before showing.
    Empty when ``surveys`` holds no rows.
    """
    if tables.surveys.height == 0:
        return pl.DataFrame(schema=TREND_SCHEMA)
    if by is not None and by not in SURVEY_KEYS:
        raise ValueError(f"survey trends break down by one of {', '.join(SURVEY_KEYS)}, not {by!r}")
    from dashboard.metrics.table_kinds import PeriodCell, PeriodGroup, suppress_over_periods

    whole, per_period = survey_rows_per_period(tables, filters, as_of, periods)
    wanted_groupings = {(), (by,)} if by else {()}
    records: list[dict[str, Any]] = []
    for metric in SURVEY_METRICS:
        mine = [r for r in whole if r[0] == metric]
        flags = suppress_survey_rows([(r[1], r[2], r[3]) for r in mine], min_cell_size)
        shown = [r for r in mine if r[1][0] in wanted_groupings]
        totals: dict[PeriodGroup, tuple[bool, float]] = {(r[1][1] or None): (flags[r[1]], r[3]) for r in shown}
        cells: dict[PeriodCell, tuple[int | float | None, float]] = {}
        values: dict[PeriodCell, FamilyRow] = {}
        for label, rows in per_period.items():
            for r in rows:
                if r[0] == metric and r[1][0] in wanted_groupings:
                    key: PeriodCell = (label, r[1][1] or None)
                    cells[key], values[key] = (r[2], r[3]), r
        cell_flags, total_flags = suppress_over_periods(cells, totals, min_cell_size)
        for r in shown:
            records.append(_trend_record(r, None, total_flags[r[1][1] or None]))
        for key, r in values.items():
            records.append(_trend_record(r, key[0], cell_flags[key]))
    return pl.DataFrame(records, schema=TREND_SCHEMA)


def survey_rows_per_period(
    tables: Tables, filters: Filters, as_of: dt.date, periods: Sequence[tuple[str, dt.date, dt.date]]
) -> tuple[list[FamilyRow], dict[str, list[FamilyRow]]]:
    """The rows of every survey metric for the whole selected period and for each period, each
    exactly :func:`survey_rows` under a period filter of its own dates, from one pass over the answers.

    The answers of the span covering the selected period and every period are selected and joined
    to their participants once, counted per answer date, and each period sums the dates inside it
    (periods may overlap). Before, each period selected and joined the answers again: thirteen
    passes for twelve quarters (docs/performance.md, "Contract-version-2 and partnership pages").
    """
    starts = [filters.start, *(start for _, start, _ in periods)]
    ends = [filters.end, *(end for _, _, end in periods)]
    span = dataclasses.replace(
        filters,
        start=None if None in starts else min(d for d in starts if d is not None),
        end=None if None in ends else max(d for d in ends if d is not None),
    )
    dated = survey_cells(tables, span, as_of, extra=("survey_date",))
    wanted = set(SURVEY_METRICS)
    keys = ["question", *SURVEY_KEYS]
    in_period = pl.lit(True)
    if filters.start is not None:
        in_period &= pl.col("survey_date") >= filters.start
    if filters.end is not None:
        in_period &= pl.col("survey_date") <= filters.end
    whole = rows_from_cells(dated.filter(in_period), wanted)
    if not periods:
        return whole, {}
    bounds = pl.DataFrame(
        {"_period": [label for label, _, _ in periods], "_start": [start for _, start, _ in periods],
         "_end": [end for _, _, end in periods]},
        schema={"_period": pl.String, "_start": pl.Date, "_end": pl.Date},
    )
    by_period = (
        dated.join_where(bounds, pl.col("survey_date") >= pl.col("_start"), pl.col("survey_date") <= pl.col("_end"))
        .group_by("_period", *keys)
        .agg(pl.col("_num").sum(), pl.col("_den").sum())
    )
    parts = by_period.partition_by("_period", as_dict=True, include_key=False)
    empty = by_period.clear().drop("_period")
    per_period = {label: rows_from_cells(parts.get((label,), empty), wanted) for label, _, _ in periods}
    return whole, per_period


def _trend_record(row: FamilyRow, period: str | None, suppressed: bool) -> dict[str, Any]:
    metric, (group_by, group), num, den, value, ci = row
    return {
        "metric": metric, "period": period, "group_by": "+".join(group_by), "group": group[0] if group else None,
        "numerator": num, "denominator": int(den), "value": value, "ci_low": ci[0] if ci else None,
        "ci_high": ci[1] if ci else None, "suppressed": suppressed,
    }


FAMILY = Family("surveys", METRICS, tables=(SURVEY_FAMILY,))
