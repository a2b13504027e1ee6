"""Supervision: the compliance rate and violations per 100 participant-months (see docs/metrics.md)."""

from __future__ import annotations

import polars as pl

from dashboard.contract import VIOLATION_RESPONSES, VIOLATION_TYPES
from dashboard.metrics.definition import (
    AS_OF_NOTE,
    DEMOGRAPHICS,
    PARTICIPANT_PROGRAM,
    SUPERVISING,
    MetricDefinition,
)
from dashboard.metrics.kinds import ExposureUnits, Family, RateUnits, Units
from dashboard.metrics.prepared import Prepared, supervision_base, violation_units

COMPLIANCE_KNOWN = ("compliant", "non_compliant", "missed")
VIOLATION_ONLY: dict[str, tuple[str, ...]] = {"violation_type": VIOLATION_TYPES, "response": VIOLATION_RESPONSES}
"""Breakdown dimensions that violations have and exposure has not, with every value."""

METRICS: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        id="compliance_rate",
        label="Supervision compliance rate",
        definition="Share of required supervision checks with a known outcome that were compliant.",
        numerator="supervision events with required = true and outcome = compliant",
        denominator="supervision events with required = true and outcome in {compliant, non_compliant, missed}",
        includes="Supervision events whose event_date is in the period.",
        excludes="Events that were not required, and excused events. " + AS_OF_NOTE,
        unit="rate",
        period_date="supervision_events.event_date",
        source_table="supervision_events",
        agency_attribution="the event's agency_id",
        program_attribution=PARTICIPANT_PROGRAM,
        has_interval=True,
        breakdowns=("quarter", "event_type", *DEMOGRAPHICS),
        family="supervision",
    ),
    MetricDefinition(
        id="violation_rate_per_100_pm",
        label="Violations per 100 participant-months",
        definition=(
            "Violations per 100 participant-months under supervision: 100 × violations / participant-months."
        ),
        numerator="violations whose violation_date is in the period",
        denominator=(
            "participant-months under supervision: the sum over participants with supervision_type != none "
            "of the days in [max(enrollment_date, start), min(exit_date or as-of, end)], both ends counted, "
            "divided by 30.4375"
        ),
        includes=(
            "Every violation dated in the period (whatever the participant's supervision_type); "
            "an exit after the as-of date counts as no exit."
        ),
        excludes="Exposure of participants with supervision_type none. " + AS_OF_NOTE,
        unit="per_100_participant_months",
        period_date="violations.violation_date",
        source_table="violations",
        agency_attribution=SUPERVISING + " (numerator and exposure alike; not the violation's agency_id)",
        program_attribution=PARTICIPANT_PROGRAM,
        has_interval=False,
        breakdowns=("quarter", "violation_type", "response", *DEMOGRAPHICS),
        family="supervision",
    ),
)
COMPLIANCE, VIOLATION_RATE = (m.id for m in METRICS)


def _units(prep: Prepared, wanted: set[str]) -> list[Units]:
    out: list[Units] = []
    if COMPLIANCE in wanted:
        required = pl.col("required")
        out.append(RateUnits(supervision_base(prep), {COMPLIANCE: (
            required & (pl.col("outcome") == "compliant"), required & pl.col("outcome").is_in(COMPLIANCE_KNOWN)
        )}))
    if VIOLATION_RATE in wanted:
        events, exposure = violation_units(prep)
        out.append(ExposureUnits(VIOLATION_RATE, events, exposure, VIOLATION_ONLY))
    return out


FAMILY = Family("supervision", METRICS, units=_units)
