"""Police: the diversion rate of police contacts (see docs/metrics.md)."""

from __future__ import annotations

import polars as pl

from dashboard.metrics.definition import DEMOGRAPHICS, MetricDefinition
from dashboard.metrics.kinds import Family, RateUnits, Units
from dashboard.metrics.prepared import Prepared, police_base

DIVERSION_OUTCOMES = ("resolved_on_scene", "referred_to_services", "transported_to_treatment")

DIVERSION_DEFINITION = MetricDefinition(
    id="police_diversion_rate",
    label="Police diversion rate",
    definition="Share of police contacts diverted from arrest: resolved on scene, referred to services or transported to treatment.",
    numerator="police contacts with outcome in {resolved_on_scene, referred_to_services, transported_to_treatment}",
    denominator="all police contacts",
    includes="Police contacts whose contact_date is in the period, with or without a participant.",
    excludes=(
        "Contacts dated after the as-of date. A contact whose participant enrolled after the as-of date "
        "still counts, with that participant's cohort (and program, when the contact has none of its own). "
        "When any participant filter is set, only contacts of matching participants count."
    ),
    unit="rate",
    period_date="police_contacts.contact_date",
    source_table="police_contacts",
    agency_attribution="the contact's agency_id",
    program_attribution="the contact's program_id, else its participant's program_id",
    has_interval=True,
    breakdowns=("quarter", "contact_type", *DEMOGRAPHICS),
    family="police",
)

METRICS: tuple[MetricDefinition, ...] = (DIVERSION_DEFINITION,)
DIVERSION = DIVERSION_DEFINITION.id


def _units(prep: Prepared, wanted: set[str]) -> list[Units]:
    if DIVERSION not in wanted:
        return []
    return [RateUnits(police_base(prep), {DIVERSION: (
        pl.col("outcome").is_in(DIVERSION_OUTCOMES), pl.col("contact_id").is_not_null()
    )})]


FAMILY = Family("police", METRICS, units=_units)
