"""initial schema: contract version 1 tables and load audit

Revision ID: 0001
Revises:
Create Date: 2026-11-23 20:21:31.930814
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _fk(columns: list[str], references: list[str]) -> list[sa.ForeignKeyConstraint]:
    """Foreign keys are declared on PostgreSQL only: DuckDB"s upsert is a
    delete-and-insert that a declared key forbids on a parent with children, so
    there the loader alone enforces them (see dashboard.store.build_metadata)."""
    if op.get_bind().dialect.name == "postgresql":
        return [sa.ForeignKeyConstraint(columns, references)]
    return []


# Over 80 lines on purpose: a migration is frozen history: it spells out every table it creates and never
# changes.
def upgrade() -> None:
    op.create_table("agencies",
    sa.Column("agency_id", sa.String(), nullable=False, comment="Agency identifier, unique."),
    sa.Column("agency_name", sa.String(), nullable=False, comment="Agency name as it should appear in reports."),
    sa.Column("agency_type", sa.String(length=40), nullable=False, comment="Kind of agency."),
    sa.Column("jurisdiction", sa.String(), nullable=True, comment="City, county or state served."),
    sa.PrimaryKeyConstraint("agency_id")
    )
    op.create_table("load_files",
    sa.Column("run_id", sa.String(length=36), nullable=False),
    sa.Column("table_name", sa.String(length=40), nullable=False),
    sa.Column("file_name", sa.String(), nullable=False),
    sa.Column("sha256", sa.String(length=64), nullable=False),
    sa.Column("rows_read", sa.Integer(), nullable=False),
    sa.Column("rows_loaded", sa.Integer(), nullable=False),
    sa.Column("rows_rejected", sa.Integer(), nullable=False),
    sa.Column("duplicates_dropped", sa.Integer(), nullable=False),
    sa.Column("warnings", sa.Integer(), nullable=False),
    sa.Column("file_rejected", sa.Boolean(), nullable=False),
    sa.Column("missing_columns", sa.String(), nullable=True),
    sa.Column("validation_success", sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint("run_id", "table_name")
    )
    op.create_table("load_issues",
    sa.Column("run_id", sa.String(length=36), nullable=False),
    sa.Column("table_name", sa.String(length=40), nullable=False),
    sa.Column("source_file", sa.String(), nullable=False),
    sa.Column("line_number", sa.Integer(), nullable=False),
    sa.Column("rule", sa.String(), nullable=False, comment="warn:* or duplicate_dropped"),
    sa.Column("record_key", sa.String(), nullable=True),
    sa.Column("message", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("run_id", "table_name", "source_file", "line_number", "rule")
    )
    op.create_index(op.f("ix_load_issues_record_key"), "load_issues", ["record_key"], unique=False)
    op.create_table("load_runs",
    sa.Column("run_id", sa.String(length=36), nullable=False),
    sa.Column("kind", sa.String(length=10), nullable=False, comment="load, check or reprocess"),
    sa.Column("started_at", sa.DateTime(), nullable=False),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
    sa.Column("as_of", sa.Date(), nullable=False),
    sa.Column("source", sa.String(), nullable=False, comment="extract directory or database"),
    sa.Column("status", sa.String(length=20), nullable=False, comment="succeeded, rejected_rows, failed"),
    sa.Column("exit_code", sa.Integer(), nullable=True),
    sa.Column("validation_success", sa.Boolean(), nullable=True),
    sa.Column("rows_read", sa.Integer(), nullable=False),
    sa.Column("rows_loaded", sa.Integer(), nullable=False),
    sa.Column("rows_rejected", sa.Integer(), nullable=False),
    sa.Column("duplicates_dropped", sa.Integer(), nullable=False),
    sa.Column("warnings", sa.Integer(), nullable=False),
    sa.Column("summary_json", sa.Text(), nullable=True, comment="the load report as printed by load --format json"),
    sa.PrimaryKeyConstraint("run_id")
    )
    op.create_table("quarantine",
    sa.Column("run_id", sa.String(length=36), nullable=False),
    sa.Column("table_name", sa.String(length=40), nullable=False),
    sa.Column("source_file", sa.String(), nullable=False),
    sa.Column("line_number", sa.Integer(), nullable=False, comment="line in the file; header is line 1"),
    sa.Column("record_key", sa.String(), nullable=True),
    sa.Column("submitting_agency_id", sa.String(), nullable=True),
    sa.Column("raw_values", sa.Text(), nullable=False, comment="JSON object of the row as delivered"),
    sa.Column("rules", sa.Text(), nullable=False, comment="JSON list of rule ids broken"),
    sa.Column("reasons", sa.Text(), nullable=False, comment="the rules in words, one per line"),
    sa.Column("resolved_run_id", sa.String(length=36), nullable=True, comment="the later load run that loaded this key"),
    sa.PrimaryKeyConstraint("run_id", "table_name", "source_file", "line_number")
    )
    op.create_index(op.f("ix_quarantine_record_key"), "quarantine", ["record_key"], unique=False)
    op.create_index(op.f("ix_quarantine_submitting_agency_id"), "quarantine", ["submitting_agency_id"], unique=False)
    op.create_table("programs",
    sa.Column("program_id", sa.String(), nullable=False, comment="Program identifier, unique."),
    sa.Column("program_name", sa.String(), nullable=False, comment="Program name."),
    sa.Column("program_model", sa.String(length=40), nullable=False, comment="Partnership model."),
    sa.Column("lead_agency_id", sa.String(), nullable=False, comment="Lead agency."),
    sa.Column("start_date", sa.Date(), nullable=False, comment="Date the program started."),
    sa.Column("end_date", sa.Date(), nullable=True, comment="Planned or actual end; may be after the as-of date."),
    sa.Column("grant_id", sa.String(), nullable=True, comment="Funder award number, used in report bundles."),
    *_fk(["lead_agency_id"], ["agencies.agency_id"]),
    sa.PrimaryKeyConstraint("program_id")
    )
    op.create_index(op.f("ix_programs_lead_agency_id"), "programs", ["lead_agency_id"], unique=False)
    op.create_table("agreements",
    sa.Column("agreement_id", sa.String(), nullable=False, comment="Agreement identifier, unique."),
    sa.Column("program_id", sa.String(), nullable=False, comment="Program the agreement serves."),
    sa.Column("agency_id", sa.String(), nullable=False, comment="Partner agency."),
    sa.Column("agreement_type", sa.String(length=40), nullable=False, comment="Kind of agreement."),
    sa.Column("signed_date", sa.Date(), nullable=False, comment="Date signed."),
    sa.Column("expires_date", sa.Date(), nullable=True, comment="Expiry; may be after the as-of date."),
    *_fk(["agency_id"], ["agencies.agency_id"]),
    *_fk(["program_id"], ["programs.program_id"]),
    sa.PrimaryKeyConstraint("agreement_id")
    )
    op.create_index(op.f("ix_agreements_agency_id"), "agreements", ["agency_id"], unique=False)
    op.create_index(op.f("ix_agreements_program_id"), "agreements", ["program_id"], unique=False)
    op.create_table("participants",
    sa.Column("participant_id", sa.String(), nullable=False, comment="Pseudonymous participant id, unique."),
    sa.Column("program_id", sa.String(), nullable=False, comment="Program enrolled in."),
    sa.Column("supervising_agency_id", sa.String(), nullable=True, comment="Supervising agency."),
    sa.Column("cohort", sa.String(length=40), nullable=False, comment="Pilot or comparison group."),
    sa.Column("enrollment_date", sa.Date(), nullable=False, comment="Date of enrollment."),
    sa.Column("release_date", sa.Date(), nullable=True, comment="Release from custody; empty for people never incarcerated."),
    sa.Column("reentry_plan_date", sa.Date(), nullable=True, comment="Date a written release/reentry plan was completed."),
    sa.Column("supervision_type", sa.String(length=40), nullable=False, comment="Supervision the person is under."),
    sa.Column("risk_level", sa.String(length=40), nullable=False, comment="Assessed risk level."),
    sa.Column("sex", sa.String(length=40), nullable=True, comment="Sex."),
    sa.Column("race_ethnicity", sa.String(), nullable=True, comment="Race/ethnicity as recorded by the partner."),
    sa.Column("age_at_enrollment", sa.Integer(), nullable=True, comment="Age in whole years at enrollment (10 to 100)."),
    sa.Column("exit_date", sa.Date(), nullable=True, comment="Date the person left the program."),
    sa.Column("exit_reason", sa.String(length=40), nullable=True, comment="Why the person left; required when exit_date is set."),
    *_fk(["program_id"], ["programs.program_id"]),
    *_fk(["supervising_agency_id"], ["agencies.agency_id"]),
    sa.PrimaryKeyConstraint("participant_id")
    )
    op.create_index(op.f("ix_participants_cohort"), "participants", ["cohort"], unique=False)
    op.create_index(op.f("ix_participants_enrollment_date"), "participants", ["enrollment_date"], unique=False)
    op.create_index(op.f("ix_participants_program_id"), "participants", ["program_id"], unique=False)
    op.create_index(op.f("ix_participants_supervising_agency_id"), "participants", ["supervising_agency_id"], unique=False)
    op.create_table("police_contacts",
    sa.Column("contact_id", sa.String(), nullable=False, comment="Contact identifier, unique."),
    sa.Column("agency_id", sa.String(), nullable=False, comment="Police agency."),
    sa.Column("program_id", sa.String(), nullable=True, comment="Program, when the contact was part of one."),
    sa.Column("participant_id", sa.String(), nullable=True, comment="Participant, when known."),
    sa.Column("contact_date", sa.Date(), nullable=False, comment="Date of the contact."),
    sa.Column("contact_type", sa.String(length=40), nullable=False, comment="Kind of contact."),
    sa.Column("co_responder", sa.Boolean(), nullable=False, comment="A clinician or social worker attended."),
    sa.Column("outcome", sa.String(length=40), nullable=False, comment="Outcome of the contact."),
    *_fk(["agency_id"], ["agencies.agency_id"]),
    *_fk(["participant_id"], ["participants.participant_id"]),
    *_fk(["program_id"], ["programs.program_id"]),
    sa.PrimaryKeyConstraint("contact_id")
    )
    op.create_index(op.f("ix_police_contacts_agency_id"), "police_contacts", ["agency_id"], unique=False)
    op.create_index(op.f("ix_police_contacts_contact_date"), "police_contacts", ["contact_date"], unique=False)
    op.create_index(op.f("ix_police_contacts_participant_id"), "police_contacts", ["participant_id"], unique=False)
    op.create_index(op.f("ix_police_contacts_program_id"), "police_contacts", ["program_id"], unique=False)
    op.create_table("recidivism_events",
    sa.Column("event_id", sa.String(), nullable=False, comment="Event identifier, unique."),
    sa.Column("participant_id", sa.String(), nullable=False, comment="Participant."),
    sa.Column("event_date", sa.Date(), nullable=False, comment="Date of the event."),
    sa.Column("event_type", sa.String(length=40), nullable=False, comment="Kind of event."),
    sa.Column("offense_category", sa.String(length=40), nullable=True, comment="Offense category."),
    sa.Column("source_agency_id", sa.String(), nullable=True, comment="Agency that reported the event."),
    *_fk(["participant_id"], ["participants.participant_id"]),
    *_fk(["source_agency_id"], ["agencies.agency_id"]),
    sa.PrimaryKeyConstraint("event_id")
    )
    op.create_index(op.f("ix_recidivism_events_event_date"), "recidivism_events", ["event_date"], unique=False)
    op.create_index(op.f("ix_recidivism_events_participant_id"), "recidivism_events", ["participant_id"], unique=False)
    op.create_index(op.f("ix_recidivism_events_source_agency_id"), "recidivism_events", ["source_agency_id"], unique=False)
    op.create_table("referrals",
    sa.Column("referral_id", sa.String(), nullable=False, comment="Referral identifier, unique."),
    sa.Column("participant_id", sa.String(), nullable=False, comment="Participant referred."),
    sa.Column("referring_agency_id", sa.String(), nullable=False, comment="Agency that made the referral."),
    sa.Column("provider_agency_id", sa.String(), nullable=False, comment="Agency providing the service."),
    sa.Column("service_type", sa.String(length=40), nullable=False, comment="Service referred to."),
    sa.Column("referral_date", sa.Date(), nullable=False, comment="Date of referral."),
    sa.Column("accepted_date", sa.Date(), nullable=True, comment="Date the provider accepted the referral."),
    sa.Column("service_start_date", sa.Date(), nullable=True, comment="Date the service started."),
    sa.Column("completed_date", sa.Date(), nullable=True, comment="Date the service was completed."),
    sa.Column("status", sa.String(length=40), nullable=False, comment="Current status."),
    *_fk(["participant_id"], ["participants.participant_id"]),
    *_fk(["provider_agency_id"], ["agencies.agency_id"]),
    *_fk(["referring_agency_id"], ["agencies.agency_id"]),
    sa.PrimaryKeyConstraint("referral_id")
    )
    op.create_index(op.f("ix_referrals_participant_id"), "referrals", ["participant_id"], unique=False)
    op.create_index(op.f("ix_referrals_provider_agency_id"), "referrals", ["provider_agency_id"], unique=False)
    op.create_index(op.f("ix_referrals_referral_date"), "referrals", ["referral_date"], unique=False)
    op.create_index(op.f("ix_referrals_referring_agency_id"), "referrals", ["referring_agency_id"], unique=False)
    op.create_table("supervision_events",
    sa.Column("event_id", sa.String(), nullable=False, comment="Event identifier, unique."),
    sa.Column("participant_id", sa.String(), nullable=False, comment="Participant supervised."),
    sa.Column("agency_id", sa.String(), nullable=False, comment="Agency that recorded the event."),
    sa.Column("event_date", sa.Date(), nullable=False, comment="Date of the event."),
    sa.Column("event_type", sa.String(length=40), nullable=False, comment="Kind of contact or condition."),
    sa.Column("required", sa.Boolean(), nullable=False, comment="Whether the event was a required condition."),
    sa.Column("outcome", sa.String(length=40), nullable=False, comment="Outcome."),
    *_fk(["agency_id"], ["agencies.agency_id"]),
    *_fk(["participant_id"], ["participants.participant_id"]),
    sa.PrimaryKeyConstraint("event_id")
    )
    op.create_index(op.f("ix_supervision_events_agency_id"), "supervision_events", ["agency_id"], unique=False)
    op.create_index(op.f("ix_supervision_events_event_date"), "supervision_events", ["event_date"], unique=False)
    op.create_index(op.f("ix_supervision_events_participant_id"), "supervision_events", ["participant_id"], unique=False)
    op.create_table("violations",
    sa.Column("violation_id", sa.String(), nullable=False, comment="Violation identifier, unique."),
    sa.Column("participant_id", sa.String(), nullable=False, comment="Participant."),
    sa.Column("agency_id", sa.String(), nullable=False, comment="Agency that recorded the violation."),
    sa.Column("violation_date", sa.Date(), nullable=False, comment="Date of the violation."),
    sa.Column("violation_type", sa.String(length=40), nullable=False, comment="Technical or new offense."),
    sa.Column("response", sa.String(length=40), nullable=False, comment="Agency response."),
    *_fk(["agency_id"], ["agencies.agency_id"]),
    *_fk(["participant_id"], ["participants.participant_id"]),
    sa.PrimaryKeyConstraint("violation_id")
    )
    op.create_index(op.f("ix_violations_agency_id"), "violations", ["agency_id"], unique=False)
    op.create_index(op.f("ix_violations_participant_id"), "violations", ["participant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_violations_participant_id"), table_name="violations")
    op.drop_index(op.f("ix_violations_agency_id"), table_name="violations")
    op.drop_table("violations")
    op.drop_index(op.f("ix_supervision_events_participant_id"), table_name="supervision_events")
    op.drop_index(op.f("ix_supervision_events_event_date"), table_name="supervision_events")
    op.drop_index(op.f("ix_supervision_events_agency_id"), table_name="supervision_events")
    op.drop_table("supervision_events")
    op.drop_index(op.f("ix_referrals_referring_agency_id"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_referral_date"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_provider_agency_id"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_participant_id"), table_name="referrals")
    op.drop_table("referrals")
    op.drop_index(op.f("ix_recidivism_events_source_agency_id"), table_name="recidivism_events")
    op.drop_index(op.f("ix_recidivism_events_participant_id"), table_name="recidivism_events")
    op.drop_index(op.f("ix_recidivism_events_event_date"), table_name="recidivism_events")
    op.drop_table("recidivism_events")
    op.drop_index(op.f("ix_police_contacts_program_id"), table_name="police_contacts")
    op.drop_index(op.f("ix_police_contacts_participant_id"), table_name="police_contacts")
    op.drop_index(op.f("ix_police_contacts_contact_date"), table_name="police_contacts")
    op.drop_index(op.f("ix_police_contacts_agency_id"), table_name="police_contacts")
    op.drop_table("police_contacts")
    op.drop_index(op.f("ix_participants_supervising_agency_id"), table_name="participants")
    op.drop_index(op.f("ix_participants_program_id"), table_name="participants")
    op.drop_index(op.f("ix_participants_enrollment_date"), table_name="participants")
    op.drop_index(op.f("ix_participants_cohort"), table_name="participants")
    op.drop_table("participants")
    op.drop_index(op.f("ix_agreements_program_id"), table_name="agreements")
    op.drop_index(op.f("ix_agreements_agency_id"), table_name="agreements")
    op.drop_table("agreements")
    op.drop_index(op.f("ix_programs_lead_agency_id"), table_name="programs")
    op.drop_table("programs")
    op.drop_index(op.f("ix_quarantine_submitting_agency_id"), table_name="quarantine")
    op.drop_index(op.f("ix_quarantine_record_key"), table_name="quarantine")
    op.drop_table("quarantine")
    op.drop_table("load_runs")
    op.drop_index(op.f("ix_load_issues_record_key"), table_name="load_issues")
    op.drop_table("load_issues")
    op.drop_table("load_files")
    op.drop_table("agencies")
