"""Reintegration: employment, stable housing and check coverage at 6 and 12 months
(see docs/metrics.md; the statuses are worked out in :mod:`dashboard.metrics.reintegration`,
shared with the pilot evaluation). Participants are attributed as for recidivism."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.metrics import reintegration as R
from dashboard.metrics.definition import AS_OF_NOTE, DEMOGRAPHICS, SUPERVISING, MetricDefinition
from dashboard.metrics.kinds import Family, RateUnits, Units, compact_keys
from dashboard.metrics.prepared import Prepared, participant_base
from dashboard.metrics.recidivism import index_date_expr
from dashboard.metrics.per_tables import once_per_tables
from dashboard.metrics.tables import Tables

_REINTEGRATION_ELIGIBLE = (
    "eligible participants: index_date + {w} months <= as-of date (index_date: release_date if set, "
    "else enrollment_date)"
)
_REINTEGRATION_STATUS = (
    "The status at {w} months in a domain is the value of the participant's latest check with "
    "index_date < check_date <= index_date + {w} months that has the domain set; when several such checks "
    "share that date, the first value in the order {order} wins."
)
_REINTEGRATION_INCLUDES = (
    "Participants whose index date is in the period; checks after an exit count. Months are calendar "
    "months clipped to the month end (31 Aug + 6 months = 28/29 Feb)."
)
_REINTEGRATION_EXCLUDES = (
    "Checks on the index date itself or after index_date + {w} months; participants whose window has not "
    "ended by the as-of date. Not reported at all while the reintegration_checks table holds no rows. "
    + AS_OF_NOTE
)


def _reintegration_metric(
    id_: str, label: str, definition: str, numerator: str, denominator: str, excludes: str
) -> MetricDefinition:
    """A metric of the reintegration family: what differs is said; the rest is common."""
    return MetricDefinition(
        id=id_,
        label=label,
        definition=definition,
        numerator=numerator,
        denominator=denominator,
        includes=_REINTEGRATION_INCLUDES,
        excludes=excludes,
        unit="rate",
        period_date="index_date (participants.release_date, else enrollment_date)",
        source_table="participants, reintegration_checks",
        agency_attribution=SUPERVISING,
        program_attribution="the participant's program_id",
        has_interval=True,
        breakdowns=("quarter", *DEMOGRAPHICS),
        family="reintegration",
    )


def _reintegration_definitions() -> list[MetricDefinition]:
    employment_order = ", ".join(R.EMPLOYMENT_ORDER)
    housing_order = ", ".join(R.HOUSING_ORDER)
    out = []
    for w in R.WINDOWS_MONTHS:
        out.append(_reintegration_metric(
            R.employment_metric_id(w),
            f"Employed at {w} months",
            f"Share of eligible participants in the labour force who work (full or part time) {w} calendar "
            "months after their index date, by their latest reintegration check in the window. "
            + _REINTEGRATION_STATUS.format(w=w, order=employment_order),
            f"eligible participants whose employment status at {w} months is full_time or part_time",
            f"{_REINTEGRATION_ELIGIBLE.format(w=w)}, with an employment status at {w} months other than "
            "not_in_labor_force",
            "Participants with no employment status in the window, and those whose status at "
            f"{w} months is not_in_labor_force (neither employed nor unemployed). "
            + _REINTEGRATION_EXCLUDES.format(w=w),
        ))
    for w in R.WINDOWS_MONTHS:
        out.append(_reintegration_metric(
            R.housing_metric_id(w),
            f"Stably housed at {w} months",
            f"Share of eligible participants with a known housing status who are stably housed {w} "
            "calendar months after their index date, by their latest reintegration check in the window. "
            + _REINTEGRATION_STATUS.format(w=w, order=housing_order),
            f"eligible participants whose housing status at {w} months is stable",
            f"{_REINTEGRATION_ELIGIBLE.format(w=w)}, with a housing status at {w} months",
            "Participants with no housing status in the window. " + _REINTEGRATION_EXCLUDES.format(w=w),
        ))
    for w in R.WINDOWS_MONTHS:
        out.append(_reintegration_metric(
            R.coverage_metric_id(w),
            f"Reintegration check coverage at {w} months",
            "Share of eligible participants with at least one reintegration check in the "
            f"{w} calendar months after their index date: how much of the eligible group the "
            f"{w}-month employment and housing rates rest on.",
            "eligible participants with at least one check with "
            f"index_date < check_date <= index_date + {w} months",
            _REINTEGRATION_ELIGIBLE.format(w=w),
            _REINTEGRATION_EXCLUDES.format(w=w),
        ))
    return out


METRICS: tuple[MetricDefinition, ...] = tuple(_reintegration_definitions())


def statuses_of_everyone(tables: Tables) -> pl.DataFrame:
    """:func:`~dashboard.metrics.reintegration.statuses_at_windows` of every recorded participant
    at every window, computed once per set of tables and shared by every filter setting and session.

    A participant's statuses depend only on their index date (release date, else enrollment date:
    no filter or as-of date changes it) and their own checks, so each filter setting only joins its
    participants to this frame instead of joining and grouping the millions of checks again
    (docs/performance.md, "Contract-version-2 and partnership pages").
    """
    return once_per_tables(tables, "reintegration_statuses", _statuses_of_everyone)


def _statuses_of_everyone(tables: Tables) -> pl.DataFrame:
    people = tables.participants.lazy().select("participant_id", index_date_expr())
    # kept as long as the tables: the statuses as categoricals (4 bytes a row, not 16)
    statuses = R.statuses_at_windows(people, tables.reintegration_checks, R.WINDOWS_MONTHS)
    return compact_keys(statuses, keep=("participant_id",)).collect()


def _units(prep: Prepared, wanted: set[str]) -> list[Units]:
    if not any(m in wanted for m in R.METRIC_IDS):
        return []
    people = participant_base(prep, index_date_expr()).with_columns(pl.col("_date").alias("index_date"))
    return rate_units(people, prep.tables, prep.as_of, wanted)


def rate_units(people: pl.LazyFrame, tables: Tables, as_of: dt.date, wanted: set[str]) -> list[Units]:
    """The units of the wanted metrics of this family from ``people``: the participants the
    engine counts (enrolled by the as-of date, filtered, attributed, index date in the period)
    with ``program_id``, ``agency_id``, ``cohort`` and ``index_date``. The pilot evaluation builds
    the same units from its shared participant facts (docs/performance.md, "Pilot evaluation")."""
    units = R.metric_units(people, tables.reintegration_checks, as_of, wanted,
                           known=statuses_of_everyone(tables))
    return [] if units is None else [RateUnits(*units)]


FAMILY = Family("reintegration", METRICS, units=_units)
