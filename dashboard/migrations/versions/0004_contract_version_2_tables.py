"""contract version 2: reintegration checks, program costs, staffing and surveys

Four optional tables (docs/data-contract.md). Amounts and full-time
equivalents are NUMERIC(18, 2): money is summed exactly, never as binary
floating point. ``staffing`` is keyed on (agency_id, month).

As revisions 0001 to 0003 left the other tables: on PostgreSQL foreign keys,
indexes on the references and filter dates, and byte-order ("C") collation on
identifiers and enum values; on DuckDB primary keys only (the loader enforces
the foreign keys there, see dashboard.store.build_metadata). The existing
tables and their rows are not touched, so a deployment upgrades in place.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _code(length: int | None = None) -> sa.String:
    """An identifier (VARCHAR) or enum value (VARCHAR(40)), byte-ordered on PostgreSQL."""
    return sa.String(length, collation="C" if _postgres() else None)


def _fk(column: str, parent: str) -> list[Any]:
    if _postgres():
        return [sa.ForeignKeyConstraint([column], [parent])]
    return []


def _index(table: str, *columns: str) -> None:
    if not _postgres():
        return
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "reintegration_checks",
        sa.Column("check_id", _code(), nullable=False, comment="Check identifier, unique."),
        sa.Column("participant_id", _code(), nullable=False, comment="Participant checked."),
        sa.Column("agency_id", _code(), nullable=False, comment="Agency that recorded the check."),
        sa.Column("check_date", sa.Date(), nullable=False, comment="Date of the check."),
        sa.Column("employment", _code(40), nullable=True, comment="Employment status on that date."),
        sa.Column("housing", _code(40), nullable=True, comment="Housing status on that date."),
        *_fk("participant_id", "participants.participant_id"),
        *_fk("agency_id", "agencies.agency_id"),
        sa.PrimaryKeyConstraint("check_id"),
    )
    _index("reintegration_checks", "participant_id", "agency_id", "check_date")
    op.create_table(
        "program_costs",
        sa.Column("cost_id", _code(), nullable=False, comment="Cost record identifier, unique."),
        sa.Column("program_id", _code(), nullable=False, comment="Program the money was spent on."),
        sa.Column("period_start", sa.Date(), nullable=False, comment="First day the amount covers."),
        sa.Column(
            "period_end", sa.Date(), nullable=False, comment="Last day the amount covers; may be after the as-of date."
        ),
        sa.Column(
            "amount",
            sa.Numeric(18, 2),
            nullable=False,
            comment="Amount spent, in currency units (0 or more, at most two decimals).",
        ),
        sa.Column("category", _code(40), nullable=True, comment="Kind of spending."),
        *_fk("program_id", "programs.program_id"),
        sa.PrimaryKeyConstraint("cost_id"),
    )
    _index("program_costs", "program_id")
    op.create_table(
        "staffing",
        sa.Column("agency_id", _code(), nullable=False, comment="Supervising agency."),
        sa.Column("month", sa.Date(), nullable=False, comment="The month, written as its first day (YYYY-MM-01)."),
        sa.Column(
            "officers_fte",
            sa.Numeric(18, 2),
            nullable=False,
            comment="Supervising officers in full-time equivalents (0 or more, at most two decimals).",
        ),
        *_fk("agency_id", "agencies.agency_id"),
        sa.PrimaryKeyConstraint("agency_id", "month"),
    )
    op.create_table(
        "surveys",
        sa.Column("response_id", _code(), nullable=False, comment="Response identifier, unique."),
        sa.Column("survey_date", sa.Date(), nullable=False, comment="Date of the answer."),
        sa.Column("respondent_type", _code(40), nullable=False, comment="Who answered."),
        sa.Column("question", _code(40), nullable=False, comment="Question answered."),
        sa.Column("score", sa.Integer(), nullable=False, comment="Answer from 1 to 5 (5 = most favourable)."),
        sa.Column("program_id", _code(), nullable=True, comment="Program the answer is about, when known."),
        sa.Column("agency_id", _code(), nullable=True, comment="Agency the answer is about, when known."),
        sa.Column(
            "participant_id",
            _code(),
            nullable=True,
            comment="Participant who answered; only for respondent_type participant.",
        ),
        *_fk("program_id", "programs.program_id"),
        *_fk("agency_id", "agencies.agency_id"),
        *_fk("participant_id", "participants.participant_id"),
        sa.PrimaryKeyConstraint("response_id"),
    )
    _index("surveys", "survey_date", "program_id", "agency_id", "participant_id")


def downgrade() -> None:
    for table in ("surveys", "staffing", "program_costs", "reintegration_checks"):
        op.drop_table(table)
