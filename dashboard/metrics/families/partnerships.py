"""Partnerships: the dashboard rates beyond ``metrics`` (the co-responder share of police contacts).

Computed by :mod:`dashboard.metrics.partnerships` with the same Wilson interval and
suppression as the metrics; declared here so that docs/metrics.md and the help text
read the same definition (see docs/metrics.md, "Dashboard rates beyond the metrics above").
"""

from __future__ import annotations

from dashboard.metrics.definition import MetricDefinition
from dashboard.metrics.families.police import DIVERSION_DEFINITION
from dashboard.metrics.kinds import Family

CO_RESPONDER_DEFINITION = MetricDefinition(
    id="police_co_responder_share",
    label="Co-responder share of police contacts",
    definition="Share of police contacts that a clinician or social worker attended (co_responder = true).",
    numerator="police contacts with co_responder = true",
    denominator="all police contacts",
    includes=DIVERSION_DEFINITION.includes,
    excludes=DIVERSION_DEFINITION.excludes,
    unit="rate",
    period_date="police_contacts.contact_date",
    source_table="police_contacts",
    agency_attribution="the contact's agency_id",
    program_attribution=DIVERSION_DEFINITION.program_attribution,
    has_interval=True,
    breakdowns=("quarter", "contact_type"),
    family="police",
)

CO_RESPONDER_SHARE = CO_RESPONDER_DEFINITION.id

FAMILY = Family("partnerships", (), dashboard_metrics=(CO_RESPONDER_DEFINITION,))
