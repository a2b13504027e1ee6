"""Referrals: completion and acceptance rates, median days to service, and the referrals-made count.

Every referral metric counts referrals dated (referral_date) in the period and on or before
the as-of date, attributed to the participant's program and cohort and to the provider agency
(see docs/metrics.md).
"""

from __future__ import annotations

import polars as pl

from dashboard.metrics.definition import AS_OF_NOTE, DEMOGRAPHICS, PARTICIPANT_PROGRAM, MetricDefinition
from dashboard.metrics.kinds import Family, MedianUnits, RateUnits, Units
from dashboard.metrics.prepared import Prepared, referral_base

COMPLETION_CLOSED = ("completed", "declined", "no_show", "closed_unsuccessful")
REFERRALS_MADE = "referrals_made"

METRICS: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        id="referral_completion_rate",
        label="Referral completion rate",
        definition="Share of closed referrals that ended with the service completed.",
        numerator="referrals with status completed",
        denominator="referrals with status in {completed, declined, no_show, closed_unsuccessful}",
        includes="Referrals whose referral_date is in the period. Statuses as recorded.",
        excludes="Open referrals (pending, accepted, in_service). " + AS_OF_NOTE,
        unit="rate",
        period_date="referrals.referral_date",
        source_table="referrals",
        agency_attribution="the referral's provider_agency_id",
        program_attribution=PARTICIPANT_PROGRAM,
        has_interval=True,
        breakdowns=("quarter", "service_type", *DEMOGRAPHICS),
        family="referrals",
    ),
    MetricDefinition(
        id="referral_acceptance_rate",
        label="Referral acceptance rate",
        definition="Share of referrals past the pending stage that the provider accepted.",
        numerator="referrals with status != pending and accepted_date set",
        denominator="referrals with status != pending",
        includes="Referrals whose referral_date is in the period; accepted_date as recorded, even after the as-of date.",
        excludes="Pending referrals. " + AS_OF_NOTE,
        unit="rate",
        period_date="referrals.referral_date",
        source_table="referrals",
        agency_attribution="the referral's provider_agency_id",
        program_attribution=PARTICIPANT_PROGRAM,
        has_interval=True,
        breakdowns=("quarter", "service_type", *DEMOGRAPHICS),
        family="referrals",
    ),
    MetricDefinition(
        id="median_days_to_service",
        label="Median days to service",
        definition=(
            "Median number of days from referral to the start of the service "
            "(service_start_date − referral_date); for an even count, the mean of the two middle values."
        ),
        numerator="none (the value is the median, not a ratio)",
        denominator="referrals with service_start_date set",
        includes="Referrals whose referral_date is in the period; service_start_date as recorded.",
        excludes="Referrals with no service start. " + AS_OF_NOTE,
        unit="days",
        period_date="referrals.referral_date",
        source_table="referrals",
        agency_attribution="the referral's provider_agency_id",
        program_attribution=PARTICIPANT_PROGRAM,
        has_interval=False,
        breakdowns=("quarter", "service_type", *DEMOGRAPHICS),
        family="referrals",
    ),
)
COMPLETION, ACCEPTANCE, MEDIAN_DAYS = (m.id for m in METRICS)


def _units(prep: Prepared, wanted: set[str]) -> list[Units]:
    status = pl.col("status")
    flags = {
        COMPLETION: (status == "completed", status.is_in(COMPLETION_CLOSED)),
        ACCEPTANCE: ((status != "pending") & pl.col("accepted_date").is_not_null(), status != "pending"),
    }
    out: list[Units] = []
    if wanted & set(flags):
        out.append(RateUnits(referral_base(prep), {m: f for m, f in flags.items() if m in wanted}))
    if MEDIAN_DAYS in wanted:
        # Referrals with a service start, ``_days`` = service_start_date − referral_date.
        served = referral_base(prep).filter(pl.col("service_start_date").is_not_null()).with_columns(
            (pl.col("service_start_date") - pl.col("referral_date")).dt.total_days().alias("_days")
        )
        out.append(MedianUnits(MEDIAN_DAYS, served))
    return out


def _counts(prep: Prepared) -> list[tuple[str, pl.LazyFrame]]:
    """``referrals_made``: referrals in the period, attributed like every referral metric,
    whatever their status."""
    return [(REFERRALS_MADE, referral_base(prep))]


FAMILY = Family("referrals", METRICS, units=_units, counts=_counts)
