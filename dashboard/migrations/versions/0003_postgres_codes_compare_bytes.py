"""PostgreSQL: identifiers and enum values compare byte by byte (COLLATE "C")

Keys, references and enum values are codes: they are compared and joined,
never read as prose. Under a locale's collation (the server default, such as
en_US.UTF-8 or C.UTF-8) every comparison goes through the locale's rules,
which made building the primary keys and indexes of a first load about a
third slower than byte order (measured in docs/performance.md), and sorted
codes differently from polars and DuckDB, which compare bytes. Free text
(agency and program names, race/ethnicity) keeps the database's collation.

On an existing deployment this rebuilds the indexes on these columns (no
table rewrite: the stored values do not change). DuckDB: nothing to do.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (table, identifier columns, enum columns): every code column of contract version 1.
# Identifiers are VARCHAR, enum values VARCHAR(40), as revision 0001 made them.
_CODES = (
    ('agencies',
     ('agency_id',),
     ('agency_type',)),
    ('programs',
     ('program_id', 'lead_agency_id'),
     ('program_model',)),
    ('agreements',
     ('agreement_id', 'program_id', 'agency_id'),
     ('agreement_type',)),
    ('participants',
     ('participant_id', 'program_id', 'supervising_agency_id'),
     ('cohort', 'supervision_type', 'risk_level', 'sex', 'exit_reason')),
    ('referrals',
     ('referral_id', 'participant_id', 'referring_agency_id', 'provider_agency_id'),
     ('service_type', 'status')),
    ('supervision_events',
     ('event_id', 'participant_id', 'agency_id'),
     ('event_type', 'outcome')),
    ('violations',
     ('violation_id', 'participant_id', 'agency_id'),
     ('violation_type', 'response')),
    ('recidivism_events',
     ('event_id', 'participant_id', 'source_agency_id'),
     ('event_type', 'offense_category')),
    ('police_contacts',
     ('contact_id', 'agency_id', 'program_id', 'participant_id'),
     ('contact_type', 'outcome')),
)


def _alter(collation: str | None) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, identifiers, enums in _CODES:
        for columns, length in ((identifiers, None), (enums, 40)):
            for column in columns:
                new_type = sa.String(length, collation=collation)
                op.alter_column(table, column, type_=new_type, existing_type=sa.String(length))


def upgrade() -> None:
    _alter("C")


def downgrade() -> None:
    _alter(None)
