"""Recidivism: rearrest, reconviction and reincarceration within 6, 12, 24 and 36 months of the index
date (see docs/metrics.md; the windows and matching events are in :mod:`dashboard.metrics.recidivism`,
shared with the pilot evaluation)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.metrics.definition import AS_OF_NOTE, DEMOGRAPHICS, SUPERVISING, MetricDefinition
from dashboard.metrics.kinds import Family, RateUnits, Units
from dashboard.metrics.prepared import Prepared, recidivism_base
from dashboard.metrics.recidivism import (
    MATCHING_EVENT_TYPES,
    MEASURES,
    WINDOWS_MONTHS,
    add_months_expr,
    first_event_column,
    metric_id,
)

_MEASURE_WORDS: dict[str, tuple[str, str]] = {
    "rearrest": ("Rearrest", "an arrest"),
    "reconviction": ("Reconviction", "a conviction"),
    "reincarceration": ("Reincarceration", "an incarceration or a revocation"),
}


def _recidivism_definitions() -> list[MetricDefinition]:
    out = []
    for measure in MEASURES:
        title, words = _MEASURE_WORDS[measure]
        types = " or ".join(MATCHING_EVENT_TYPES[measure])
        for window in WINDOWS_MONTHS:
            out.append(
                MetricDefinition(
                    id=metric_id(measure, window),
                    label=f"{title} within {window} months",
                    definition=(
                        f"Share of eligible participants with {words} in the {window} calendar months after "
                        "their index date (release_date if set, else enrollment_date)."
                    ),
                    numerator=(
                        f"eligible participants with at least one recidivism event of type {types} with "
                        f"index_date < event_date <= index_date + {window} months"
                    ),
                    denominator=f"eligible participants: index_date + {window} months <= as-of date",
                    includes=(
                        "Participants whose index date is in the period. Months are calendar months "
                        "clipped to the month end (31 Jan + 1 month = 28/29 Feb)."
                    ),
                    excludes=(
                        "Events on the index date itself; participants whose window has not ended by the "
                        "as-of date. " + AS_OF_NOTE
                    ),
                    unit="rate",
                    period_date="index_date (participants.release_date, else enrollment_date)",
                    source_table="participants, recidivism_events",
                    agency_attribution=SUPERVISING,
                    program_attribution="the participant's program_id",
                    has_interval=True,
                    breakdowns=("quarter", *DEMOGRAPHICS, "year"),
                    family="recidivism",
                )
            )
    return out


METRICS: tuple[MetricDefinition, ...] = tuple(_recidivism_definitions())


def _units(prep: Prepared, wanted: set[str]) -> list[Units]:
    recid = [(m, w) for m in MEASURES for w in WINDOWS_MONTHS if metric_id(m, w) in wanted]
    if not recid:
        return []
    return rate_units(recidivism_base(prep, {m for m, _ in recid}), prep.as_of, wanted)


def rate_units(base: pl.LazyFrame, as_of: dt.date, wanted: set[str]) -> list[Units]:
    """The units of the wanted recidivism metrics from ``base``: one row per participant in
    scope and period with ``program_id``, ``agency_id``, ``cohort``, ``index_date`` and
    ``first_<measure>_date`` of each wanted measure. The pilot evaluation, which has every
    participant's first events already (docs/performance.md, "Pilot evaluation"), builds the
    same units from them, so its suppression check needs no second search for the events."""
    recid = [(m, w) for m in MEASURES for w in WINDOWS_MONTHS if metric_id(m, w) in wanted]
    if not recid:
        return []
    base = base.with_columns(
        add_months_expr(pl.col("index_date"), w).alias(f"_end_{w}") for w in sorted({w for _, w in recid})
    )
    flags = {}
    for measure, window in recid:
        end = pl.col(f"_end_{window}")
        eligible = end <= as_of
        first = pl.col(first_event_column(measure))
        flags[metric_id(measure, window)] = (eligible & first.is_not_null() & (first <= end), eligible)
    return [RateUnits(base, flags)]


FAMILY = Family("recidivism", METRICS, units=_units)
