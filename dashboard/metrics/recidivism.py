"""Recidivism building blocks shared by the metric engine and the pilot evaluation.

One definition, used by ``recidivism_{measure}_{W}m`` in ``metrics`` and by
``evaluate`` (docs/metrics.md), so the two outputs can never disagree on who is
eligible or who recidivated:

- **Index date**: ``release_date`` if set, else ``enrollment_date``.
- **Months** are calendar months; ``d + W months`` clips to the end of the
  month (31 Jan + 1 month = 28/29 Feb).
- **Eligible** for window W: ``index_date + W months <= as_of``.
- **Matching events**: rearrest = arrest; reconviction = conviction;
  reincarceration = incarceration or revocation.
- **First matching event**: the earliest matching event with
  ``index_date < event_date <= as_of`` (an event on the index date does not
  count; events after the as-of date are left out).
- **Recidivated** within W: the first matching event is on or before
  ``index_date + W months``.
- Participants enrolled after the as-of date are left out.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import TypeVar

import polars as pl

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

MEASURES: tuple[str, ...] = ("rearrest", "reconviction", "reincarceration")
WINDOWS_MONTHS: tuple[int, ...] = (6, 12, 24, 36)
MATCHING_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "rearrest": ("arrest",),
    "reconviction": ("conviction",),
    "reincarceration": ("incarceration", "revocation"),
}


def metric_id(measure: str, window_months: int) -> str:
    """The metric id of a measure and window, e.g. ``recidivism_rearrest_12m``."""
    check_measure(measure)
    return f"recidivism_{measure}_{window_months}m"


def check_measure(measure: str) -> None:
    if measure not in MATCHING_EVENT_TYPES:
        raise ValueError(f"unknown recidivism measure {measure!r}; choose one of: {', '.join(MEASURES)}")


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, clipped to the end of the month."""
    total = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(total, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def add_months_expr(dates: pl.Expr, months: int) -> pl.Expr:
    """Polars version of :func:`add_months` (``offset_by`` clips to the month end too)."""
    return dates.dt.offset_by(f"{months}mo")


def index_date_expr() -> pl.Expr:
    """``release_date`` if set, else ``enrollment_date``, as column ``index_date``."""
    return pl.coalesce(pl.col("release_date"), pl.col("enrollment_date")).alias("index_date")


def participants_with_index_date(participants: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Participants enrolled on or before ``as_of``, with their ``index_date`` added."""
    return participants.filter(pl.col("enrollment_date") <= as_of).with_columns(index_date_expr())


def first_event_column(measure: str) -> str:
    """Column name of a measure's first matching event date in :func:`first_matching_events`."""
    check_measure(measure)
    return f"first_{measure}_date"


def first_matching_events(
    participants: pl.LazyFrame | pl.DataFrame,
    events: pl.LazyFrame | pl.DataFrame,
    measures: tuple[str, ...] | list[str] | set[str],
    as_of: dt.date,
) -> pl.LazyFrame:
    """``participant_id`` and, per measure, ``first_<measure>_date``: the earliest
    matching event with ``index_date < event_date <= as_of`` (null where none).

    One pass over the events for every measure. ``participants`` must carry
    ``participant_id`` and ``index_date``; only participants with at least one
    event after their index date get a row.
    """
    wanted = sorted(set(measures))
    for m in wanted:
        check_measure(m)
    index = participants.lazy().select("participant_id", "index_date")
    after = (
        events.lazy()
        .filter(pl.col("event_date") <= as_of)
        .select("participant_id", "event_date", "event_type")
        .join(index, on="participant_id", how="inner")
        .filter(pl.col("event_date") > pl.col("index_date"))
    )
    return after.group_by("participant_id").agg(
        pl.col("event_date").filter(pl.col("event_type").is_in(list(MATCHING_EVENT_TYPES[m]))).min()
        .alias(first_event_column(m))
        for m in wanted
    )


def first_matching_event(
    participants: pl.DataFrame, events: pl.DataFrame, measure: str, as_of: dt.date
) -> pl.DataFrame:
    """``participant_id``, ``first_event_date``: the earliest matching event strictly
    after each participant's index date and on or before ``as_of``.

    ``participants`` must carry ``participant_id`` and ``index_date``; only
    participants with such an event get a row.
    """
    column = first_event_column(measure)
    return (
        first_matching_events(participants, events, [measure], as_of)
        .filter(pl.col(column).is_not_null())
        .select("participant_id", pl.col(column).alias("first_event_date"))
        .collect()
    )


def with_first_event(
    participants: pl.DataFrame, events: pl.DataFrame, measure: str, as_of: dt.date
) -> pl.DataFrame:
    """Participants enrolled by ``as_of`` with ``index_date`` and ``first_event_date`` (null: none)."""
    people = participants_with_index_date(participants, as_of)
    first = first_matching_event(people, events, measure, as_of)
    return people.join(first, on="participant_id", how="left")


def recidivism_outcomes(
    participants: pl.DataFrame,
    events: pl.DataFrame,
    *,
    measure: str,
    window_months: int,
    as_of: dt.date,
) -> pl.DataFrame:
    """The eligible participants for one measure and window, one row each.

    Keeps every participant column and adds ``index_date``, ``window_end``
    (index date + W months), ``first_event_date`` and ``recidivated``
    (bool: a first matching event on or before ``window_end``). The metric's
    denominator is the row count, its numerator the ``recidivated`` count.
    """
    return outcomes_in_window(with_first_event(participants, events, measure, as_of), window_months, as_of)


def outcomes_in_window(people: FrameT, window_months: int, as_of: dt.date) -> FrameT:
    """:func:`recidivism_outcomes` from the output of :func:`with_first_event` (computed once
    per measure when several windows are wanted, as in the pilot evaluation), eager or lazy:
    the evaluation reads ``first_event_date`` from each participant's facts
    (docs/performance.md, "Pilot evaluation")."""
    return (
        people.with_columns(add_months_expr(pl.col("index_date"), window_months).alias("window_end"))
        .filter(pl.col("window_end") <= as_of)
        .with_columns(
            (pl.col("first_event_date").is_not_null() & (pl.col("first_event_date") <= pl.col("window_end")))
            .alias("recidivated")
        )
    )
