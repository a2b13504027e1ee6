"""What a metric is, in words a program director can check: :class:`MetricDefinition` and the
groupings every metric is reported by (see docs/metrics.md).

The families of :mod:`dashboard.metrics.families` declare their metrics with these; the
registry (:mod:`dashboard.metrics.registry`) collects them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["rate", "days", "per_100_participant_months", "currency", "participants_per_officer"]

GROUPINGS: tuple[tuple[str, ...], ...] = ((), ("program_id",), ("agency_id",), ("cohort",), ("program_id", "cohort"))
"""Every metric is reported overall and by these keys (docs/metrics.md), in this order."""

GROUP_KEYS: tuple[str, ...] = ("program_id", "agency_id", "cohort")
OUTPUT_GROUP_KEYS: tuple[str, ...] = (*GROUP_KEYS, "respondent_type")
"""Every key a metric row may be grouped by: the survey metrics add respondent_type."""
UNASSIGNED_LABEL = "Unassigned"


@dataclass(frozen=True)
class MetricDefinition:
    """One metric: what it counts, in words a program director can check.

    ``period_date`` is the date the user's period ``[start, end]`` applies
    to; ``source_table`` the table whose rows (or participants) are counted;
    ``agency_attribution`` says which agency column the ``agency_id``
    grouping and the ``--agency`` filter use; ``breakdowns`` lists the extra
    dimensions :func:`dashboard.metrics.breakdowns.metric_breakdown` accepts.
    """

    id: str
    label: str
    definition: str
    numerator: str
    denominator: str
    includes: str
    excludes: str
    unit: Unit
    period_date: str
    source_table: str
    agency_attribution: str
    program_attribution: str
    has_interval: bool
    breakdowns: tuple[str, ...]
    family: str
    own_groupings: tuple[tuple[str, ...], ...] | None = None
    groupings_add_up: bool = True
    participant_filters_apply: bool = True

    @property
    def groupings(self) -> tuple[tuple[str, ...], ...]:
        """The groupings reported, in output order (the five of section 3 unless the metric has its own)."""
        return self.own_groupings or GROUPINGS


DEMOGRAPHICS: tuple[str, ...] = ("sex", "race_ethnicity", "age_band", "risk_level", "supervision_type")
PARTICIPANT_PROGRAM = "the participant's program_id"
SUPERVISING = "the participant's supervising_agency_id"
AS_OF_NOTE = (
    "Records dated after the as-of date and participants enrolled after it are left out; "
    "a record dated by the as-of date still counts when its participant enrolls later, "
    "with that participant's program and cohort."
)
NO_PARTICIPANT_FILTERS = (
    "The participant filters (cohort, risk level, supervision type, sex, race/ethnicity, age band) do not apply."
)
