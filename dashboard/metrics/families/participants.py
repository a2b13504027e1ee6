"""Participants: program completion, reentry plans on time, and the enrolled and active head counts
(see docs/metrics.md)."""

from __future__ import annotations

import polars as pl

from dashboard.metrics.definition import AS_OF_NOTE, DEMOGRAPHICS, SUPERVISING, MetricDefinition
from dashboard.metrics.kinds import Family, RateUnits, Units
from dashboard.metrics.prepared import Prepared, participant_base

DECISIVE_EXITS = ("completed", "revoked", "absconded")
ENROLLED, ACTIVE = "participants_enrolled", "participants_active"

METRICS: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        id="program_completion_rate",
        label="Program completion rate",
        definition="Share of participants who left the program for a decisive reason and completed it.",
        numerator="participants with exit_reason = completed",
        denominator="participants with exit_reason in {completed, revoked, absconded}",
        includes="Participants whose exit_date is in the period and on or before the as-of date.",
        excludes=(
            "Neutral exits (transferred, deceased, other) and participants still enrolled; "
            "an exit after the as-of date counts as no exit. " + AS_OF_NOTE
        ),
        unit="rate",
        period_date="participants.exit_date",
        source_table="participants",
        agency_attribution=SUPERVISING,
        program_attribution="the participant's program_id",
        has_interval=True,
        breakdowns=("quarter", *DEMOGRAPHICS),
        family="participants",
    ),
    MetricDefinition(
        id="reentry_plan_rate",
        label="Reentry plan on time",
        definition="Share of released participants with a written reentry plan completed on or before release.",
        numerator="participants with reentry_plan_date <= release_date",
        denominator="participants with release_date set",
        includes="Participants whose release_date is in the period; dates as recorded.",
        excludes="Participants never incarcerated (no release_date). " + AS_OF_NOTE,
        unit="rate",
        period_date="participants.release_date",
        source_table="participants",
        agency_attribution=SUPERVISING,
        program_attribution="the participant's program_id",
        has_interval=True,
        breakdowns=("quarter", *DEMOGRAPHICS),
        family="participants",
    ),
)
PROGRAM_COMPLETION, REENTRY_PLAN = (m.id for m in METRICS)


def _units(prep: Prepared, wanted: set[str]) -> list[Units]:
    out: list[Units] = []
    if PROGRAM_COMPLETION in wanted:
        p = participant_base(prep, pl.col("exit_date")).filter(pl.col("exit_date").is_not_null())
        out.append(RateUnits(p, {PROGRAM_COMPLETION: (
            pl.col("exit_reason") == "completed", pl.col("exit_reason").is_in(DECISIVE_EXITS)
        )}))
    if REENTRY_PLAN in wanted:
        p = participant_base(prep, pl.col("release_date")).filter(pl.col("release_date").is_not_null())
        out.append(RateUnits(p, {REENTRY_PLAN: (
            pl.col("reentry_plan_date") <= pl.col("release_date"), pl.col("release_date").is_not_null()
        )}))
    return out


def _counts(prep: Prepared) -> list[tuple[str, pl.LazyFrame]]:
    """Enrolled: enrollment date in the period; active: not exited on or before the as-of date (the
    period does not apply). Program = program_id, agency = supervising_agency_id."""
    people = prep.attribution_filter(
        prep.participants.lazy().with_columns(pl.col("supervising_agency_id").alias("agency_id"))
    )
    enrolled = people.filter(prep.in_period(pl.col("enrollment_date")))
    active = people.filter(pl.col("exit_date").is_null())
    return [(ENROLLED, enrolled), (ACTIVE, active)]


FAMILY = Family("participants", METRICS, units=_units, counts=_counts)
