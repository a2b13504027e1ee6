"""DuckDB: no secondary indexes on the contract tables

On DuckDB the dashboard reads whole tables and the loader reads key columns;
neither uses an ART index, while each one costs time and memory on every write
(measured in docs/performance.md: the three on supervision_events made the
commit of 5.8 million rows take 10 s instead of 3 s). Range filters are served
by DuckDB's own per-block min/max statistics. PostgreSQL keeps its indexes:
this revision changes nothing there. Primary keys stay on both.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 23:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (table, column) of every secondary index revision 0001 created on a contract table.
_INDEXES = (
    ("programs", "lead_agency_id"),
    ("agreements", "agency_id"),
    ("agreements", "program_id"),
    ("participants", "cohort"),
    ("participants", "enrollment_date"),
    ("participants", "program_id"),
    ("participants", "supervising_agency_id"),
    ("police_contacts", "agency_id"),
    ("police_contacts", "contact_date"),
    ("police_contacts", "participant_id"),
    ("police_contacts", "program_id"),
    ("recidivism_events", "event_date"),
    ("recidivism_events", "participant_id"),
    ("recidivism_events", "source_agency_id"),
    ("referrals", "participant_id"),
    ("referrals", "provider_agency_id"),
    ("referrals", "referral_date"),
    ("referrals", "referring_agency_id"),
    ("supervision_events", "agency_id"),
    ("supervision_events", "event_date"),
    ("supervision_events", "participant_id"),
    ("violations", "agency_id"),
    ("violations", "participant_id"),
)


def _is_duckdb() -> bool:
    return op.get_bind().dialect.name == "duckdb"


def upgrade() -> None:
    if not _is_duckdb():
        return
    for table, column in _INDEXES:
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)


def downgrade() -> None:
    if not _is_duckdb():
        return
    for table, column in _INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)
