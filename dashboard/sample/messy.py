"""The messy extract's rows: clean background rows plus every defect the contract forbids,
planted one table at a time, each row saying what loading it must do (see ``sample_data/messy/README.md``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from dashboard.sample.extract import generate_tables

# --- the messy extract: a test oracle with every defect the contract forbids ----------

NBSP = "\u00a0"


class _Row:
    """One line of a messy file: the cells as delivered and what loading it must do.

    ``rejects`` lists every rule id the row breaks (empty: it loads);
    ``dropped`` marks an identical copy of an earlier row (a dropped
    duplicate); ``warns`` lists the warnings the loaded row draws; ``what``
    explains the plant for the README (empty for clean background rows).
    """

    __slots__ = ("values", "rejects", "warns", "dropped", "what")

    def __init__(
        self,
        values: Mapping[str, str],
        *,
        rejects: Sequence[str] = (),
        warns: Sequence[str] = (),
        dropped: bool = False,
        what: str = "",
    ) -> None:
        self.values = dict(values)
        self.rejects = tuple(rejects)
        self.warns = tuple(warns)
        self.dropped = dropped
        self.what = what


def _text_rows(frame: pl.DataFrame) -> list[dict[str, str]]:
    """A typed frame as the strings a CSV would carry (nulls as empty strings)."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            expr = col.dt.strftime("%Y-%m-%d")
        elif dtype == pl.Boolean:
            expr = pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false"))
        else:
            expr = col.cast(pl.String)
        exprs.append(expr.fill_null("").alias(name))
    return frame.select(exprs).to_dicts()


Add = Callable[..., None]
"""``add(table, defaults, set=..., rejects=..., warns=..., dropped=..., what=...)``: plant one row."""


def messy_rows(as_of: dt.date) -> dict[str, list[_Row]]:
    """Clean background rows (60 generated participants) followed by the planted ones."""
    rows = _background(as_of)

    def add(table: str, defaults: Mapping[str, str], **kw: Any) -> None:
        overrides = kw.pop("set", {})
        rows[table].append(_Row({**defaults, **overrides}, **kw))

    plants = (
        _plant_agencies, _plant_programs, _plant_agreements, _plant_participants, _plant_referrals,
        _plant_supervision_events, _plant_recidivism_events, _plant_police_contacts, _plant_version_2,
    )
    for plant in plants:
        plant(add)
    return rows


def _background(as_of: dt.date) -> dict[str, list[_Row]]:
    """Clean background rows: 60 generated participants, checked to be clean and warning-free."""
    base = generate_tables(participants=60, seed=11, as_of=as_of)
    # The background must be clean and warning-free; check rather than assume.
    parts = base["participants"].select("participant_id", "enrollment_date", "exit_date")
    for name, col in (("supervision_events", "event_date"), ("referrals", "referral_date"),
                      ("violations", "violation_date")):
        outside = base[name].join(parts, on="participant_id").filter(
            (pl.col(col) < pl.col("enrollment_date")) | (pl.col(col) > pl.col("exit_date")).fill_null(False)
        )
        if outside.height:
            raise AssertionError(f"messy background {name} has rows outside the enrollment window")
    if not parts["participant_id"].is_in(base["supervision_events"]["participant_id"].implode()).all():
        raise AssertionError("messy background has a participant without supervision events")
    # Version 2 background: a few rows of each kind, kept inside the enrollment windows.
    checks = base["reintegration_checks"].join(parts, on="participant_id").filter(
        (pl.col("check_date") >= pl.col("enrollment_date"))
        & ((pl.col("check_date") <= pl.col("exit_date")) | pl.col("exit_date").is_null())
    )
    base["reintegration_checks"] = checks.select(base["reintegration_checks"].columns).head(60)
    base["program_costs"] = base["program_costs"].head(30)
    base["staffing"] = base["staffing"].head(24)
    base["surveys"] = base["surveys"].head(60)
    return {name: [_Row(v) for v in _text_rows(frame)] for name, frame in base.items()}


def _plant_agencies(add: Add) -> None:
    """The planted rows of ``agencies``."""
    # agencies ----------------------------------------------------------------------
    ag = {"agency_id": "", "agency_name": "Planted Agency", "agency_type": "community_org", "jurisdiction": ""}
    add("agencies", ag, set={"agency_id": "A13", "agency_name": "Eastside Outreach Squad", "agency_type": "police"},
        rejects=["enum:agency_type"], what="agency_type 'police' is not an allowed value (its program P09 cascades)")
    add("agencies", ag, set={"agency_id": "A14", "agency_name": "   "},
        rejects=["required:agency_name"], what="agency_name is only spaces (= empty)")
    add("agencies", ag, set={"agency_id": "A15", "agency_name": "Valley Crisis Line",
                             "agency_type": " Social_Services "},
        what="LOADS: enum in mixed case with spaces, stored as social_services")
    a16 = {"agency_id": "A16", "agency_name": "Lakeside Mentoring Network", "agency_type": "community_org",
           "jurisdiction": "Lakeside"}
    add("agencies", a16, what="LOADS: first copy of A16")
    add("agencies", ag, set={"agency_id": "A17", "agency_name": "County Drug Court", "agency_type": "court"},
        rejects=["duplicate_key_conflict"], what="A17 copy 1 of 2; the copies differ (court vs probation)")
    add("agencies", ag, set={"agency_id": "", "agency_name": "Nameless Agency", "agency_type": "court"},
        rejects=["required:agency_id"], what="agency_id (the key) is empty")
    add("agencies", ag, set={"agency_id": "A18", "agency_name": "Unknown-kind Agency", "agency_type": ""},
        rejects=["required:agency_type"], what="agency_type is empty")
    add("agencies", a16, set={"agency_type": "COMMUNITY_ORG", "jurisdiction": f" Lakeside{NBSP}"}, dropped=True,
        what="A16 copy 2: identical after trimming/lowercasing → dropped duplicate")
    add("agencies", ag, set={"agency_id": "A17", "agency_name": "County Drug Court", "agency_type": "probation"},
        rejects=["duplicate_key_conflict"], what="A17 copy 2 of 2 (differs from copy 1)")


def _plant_programs(add: Add) -> None:
    """The planted rows of ``programs``."""
    # programs ----------------------------------------------------------------------
    pg = {"program_id": "", "program_name": "Planted Program", "program_model": "probation_community_resources",
          "lead_agency_id": "A03", "start_date": "2023-01-01", "end_date": "", "grant_id": ""}
    add("programs", pg, set={"program_id": "P09", "program_name": "Eastside Diversion",
                             "program_model": "community_policing_social_services", "lead_agency_id": "A13"},
        rejects=["parent_rejected:lead_agency_id"], what="lead agency A13 was rejected → cascade")
    add("programs", pg, set={"program_id": "P10", "start_date": "2024-06-01", "end_date": "2024-05-31"},
        rejects=["date_order:end_date>=start_date"], what="end_date before start_date")
    add("programs", pg, set={"program_id": "P11", "start_date": "2024/03/05"},
        rejects=["date_format:start_date"], what="date written 2024/03/05")
    add("programs", pg, set={"program_id": "P12", "start_date": "2024-1-5"},
        rejects=["date_format:start_date"], what="date written 2024-1-5")
    add("programs", pg, set={"program_id": "P13", "start_date": "20240305"},
        rejects=["date_format:start_date"], what="date written 20240305")
    add("programs", pg, set={"program_id": "P14", "start_date": "2024-03-05 10:30:00"},
        rejects=["date_format:start_date"], what="date with a time of day")
    add("programs", pg, set={"program_id": "P15", "program_model": "Reentry"},
        rejects=["enum:program_model"], what="program_model 'Reentry' is not an allowed value")
    add("programs", pg, set={"program_id": "P16", "lead_agency_id": "A99"},
        rejects=["fk:lead_agency_id"], what="lead agency A99 does not exist (its agreement AG909 cascades)")
    add("programs", pg, set={"program_id": "P17", "program_name": "Planted Probation Pilot",
                             "lead_agency_id": " A03 ", "end_date": "2027-12-31", "grant_id": "G-2023-017"},
        what="LOADS: id with spaces (trimmed), end_date after the as-of date is allowed")
    add("programs", pg, set={"program_id": "P18", "start_date": "2026-07-01"},
        rejects=["after_as_of:start_date"], what="start_date after the as-of date 2026-06-30")
    add("programs", pg, set={"program_id": "P19", "start_date": "2024-02-30"},
        rejects=["date_format:start_date"], what="2024-02-30 is not a calendar date")
    add("programs", pg, set={"program_id": "P20", "program_name": ""},
        rejects=["required:program_name"], what="program_name empty")
    add("programs", pg, set={"program_id": "P21", "lead_agency_id": "a03"},
        rejects=["fk:lead_agency_id"], what="'a03' ≠ 'A03': identifiers are case-sensitive")


def _plant_agreements(add: Add) -> None:
    """The planted rows of ``agreements``."""
    # agreements (XLSX: date cells are dates; a text cell in a date column is text) --
    gr = {"agreement_id": "", "program_id": "P17", "agency_id": "A09", "agreement_type": "mou",
          "signed_date": "2023-01-10", "expires_date": "2027-01-10"}
    add("agreements", gr, set={"agreement_id": "AG901", "program_id": "P09"},
        rejects=["parent_rejected:program_id"], what="program P09 was rejected → cascade")
    add("agreements", gr, set={"agreement_id": "AG902", "signed_date": "2024-01-01", "expires_date": "2023-12-31"},
        rejects=["date_order:expires_date>=signed_date"], what="expires before it was signed")
    add("agreements", gr, set={"agreement_id": "AG903", "agency_id": "A98"},
        rejects=["fk:agency_id"], what="agency A98 does not exist")
    add("agreements", gr, set={"agreement_id": "AG904", "agreement_type": "contract"},
        rejects=["enum:agreement_type"], what="agreement_type 'contract' is not allowed")
    add("agreements", gr, set={"agreement_id": "AG905", "signed_date": "2026-08-01", "expires_date": "2028-08-01"},
        rejects=["after_as_of:signed_date"], what="signed after the as-of date (date cell)")
    add("agreements", gr, set={"agreement_id": "AG906", "agreement_type": "MOA", "expires_date": "2028-01-01"},
        what="LOADS: 'MOA' stored as moa; expires after the as-of date is allowed")
    add("agreements", gr, set={"agreement_id": "AG907", "signed_date": "text:2024/03/05"},
        rejects=["date_format:signed_date"], what="a text cell '2024/03/05' in a date column")
    add("agreements", gr, set={"agreement_id": "AG908", "agreement_type": ""},
        rejects=["required:agreement_type"], what="agreement_type cell empty")
    add("agreements", gr, set={"agreement_id": "AG909", "program_id": "P16"},
        rejects=["parent_rejected:program_id"], what="program P16 was rejected (bad lead agency) → cascade")


# Over 80 lines on purpose: seeded generator: one random stream drawn in a fixed order; splitting it risks
# changing the bytes of the pinned sample.
def _plant_participants(add: Add) -> None:
    """The planted rows of ``participants``."""
    # participants ------------------------------------------------------------------
    pt = {"participant_id": "", "program_id": "P17", "supervising_agency_id": "A03", "cohort": "pilot",
          "enrollment_date": "2024-06-01", "release_date": "", "reentry_plan_date": "",
          "supervision_type": "probation", "risk_level": "moderate", "sex": "male", "race_ethnicity": "White",
          "age_at_enrollment": "35", "exit_date": "", "exit_reason": ""}
    P = "participants"
    add(P, pt, set={"participant_id": "PT-M01", "enrollment_date": "2024-01-15", "age_at_enrollment": "30"},
        what="LOADS: anchor for the planted referrals and events")
    add(P, pt, set={"participant_id": "PT-M02", "cohort": "comparison", "enrollment_date": "2024-02-01",
                    "risk_level": "low", "sex": "female", "race_ethnicity": "Black", "age_at_enrollment": "45",
                    "exit_date": "2025-02-01", "exit_reason": "completed"},
        what="LOADS: anchor with an exit on 2025-02-01")
    add(P, pt, set={"participant_id": f"{NBSP}PT-N01{NBSP}", "program_id": " P17", "cohort": " PILOT ",
                    "enrollment_date": "2024-04-10", "supervision_type": "Probation", "risk_level": "High",
                    "sex": "FEMALE", "race_ethnicity": "Hispanic or Latino", "age_at_enrollment": "34.0"},
        what="LOADS: non-breaking spaces around the id, ' PILOT ', 'High', 'FEMALE', age '34.0'")
    add(P, pt, set={"participant_id": "PT-N02", "cohort": f"Comparison{NBSP}", "enrollment_date": "2024-05-20",
                    "risk_level": "LOW", "sex": "Unknown", "race_ethnicity": "", "age_at_enrollment": "41.00"},
        what="LOADS: 'Comparison' + non-breaking space, 'LOW', age '41.00'")
    add(P, pt, set={"participant_id": "PT-W01", "enrollment_date": "2025-06-01", "risk_level": "low",
                    "race_ethnicity": "", "age_at_enrollment": "28"},
        warns=["warn:no_supervision_events"], what="LOADS with a warning: no supervision events")
    d1 = {**pt, "participant_id": "PT-D1", "enrollment_date": "2024-03-01", "risk_level": "low",
          "age_at_enrollment": "33"}
    add(P, d1, rejects=["duplicate_key_conflict"], what="PT-D1 copy 1 of 2; the copies differ in risk_level")
    d2 = {**pt, "participant_id": "PT-D2", "enrollment_date": "2024-03-02", "age_at_enrollment": "34"}
    add(P, d2, what="LOADS: PT-D2 copy 1")
    d3 = {**pt, "participant_id": "PT-D3", "cohort": "comparison", "enrollment_date": "2024-03-03"}
    add(P, d3, what="LOADS: PT-D3 valid copy (the other copy is invalid)")
    x = [
        ("PT-X01", {"cohort": ""}, ["required:cohort"], "cohort empty"),
        ("PT-X02", {"enrollment_date": "2024/03/05"}, ["date_format:enrollment_date"], "date written 2024/03/05"),
        ("PT-X03", {"enrollment_date": "2024-1-5"}, ["date_format:enrollment_date"], "date written 2024-1-5"),
        ("PT-X04", {"enrollment_date": "20240305"}, ["date_format:enrollment_date"], "date written 20240305"),
        ("PT-X05", {"enrollment_date": "2024-03-05T09:30:00"}, ["date_format:enrollment_date"],
         "date with a time of day"),
        ("PT-X06", {"supervision_type": "probatoin"}, ["enum:supervision_type"], "supervision_type misspelt"),
        ("PT-X07", {"sex": "F"}, ["enum:sex"], "optional enum sex = 'F' (not allowed)"),
        ("PT-X08", {"age_at_enrollment": "34.5"}, ["int_format:age_at_enrollment"], "age '34.5'"),
        ("PT-X09", {"age_at_enrollment": "+34"}, ["int_format:age_at_enrollment"], "age '+34'"),
        ("PT-X10", {"age_at_enrollment": "3.4e1"}, ["int_format:age_at_enrollment"], "age '3.4e1'"),
        ("PT-X11", {"age_at_enrollment": "41y"}, ["int_format:age_at_enrollment"], "age '41y'"),
        ("PT-X12", {"age_at_enrollment": "9"}, ["range:age_at_enrollment"], "age 9 (allowed 10..100)"),
        ("PT-X13", {"age_at_enrollment": "101"}, ["range:age_at_enrollment"], "age 101 (allowed 10..100)"),
        ("PT-X14", {"enrollment_date": "2026-07-01"}, ["after_as_of:enrollment_date"],
         "enrolled after the as-of date"),
        ("PT-X15", {"enrollment_date": "2024-02-01", "exit_date": "2024-01-01", "exit_reason": "completed"},
         ["date_order:exit_date>=enrollment_date"], "exit before enrollment"),
        ("PT-X16", {"exit_date": "2025-01-15"}, ["required_when:exit_reason:exit_date=set"],
         "exit_date set, exit_reason empty"),
        ("PT-X17", {"exit_reason": "completed"}, ["null_unless:exit_reason:exit_date=set"],
         "exit_reason without exit_date"),
        ("PT-X18", {"program_id": "P99"}, ["fk:program_id"], "program P99 does not exist"),
        ("PT-X19", {"supervising_agency_id": "A99"}, ["fk:supervising_agency_id"],
         "optional FK: agency A99 does not exist"),
        ("PT-X20", {"program_id": "P09"}, ["parent_rejected:program_id"], "program P09 was rejected → cascade"),
        ("PT-X21", {"program_id": "P09", "supervising_agency_id": "A13"},
         ["parent_rejected:program_id", "parent_rejected:supervising_agency_id"],
         "both parents rejected (P09, A13): counted under each"),
        ("PT-X22", {"program_id": ""}, ["required:program_id"], "program_id empty"),
        ("PT-X23", {"risk_level": "extreme", "age_at_enrollment": "41y"},
         ["enum:risk_level", "int_format:age_at_enrollment"], "two bad values: counted under each"),
        ("PT-X25", {"supervision_type": "parole", "release_date": "2026-12-01"}, ["after_as_of:release_date"],
         "released after the as-of date"),
        ("PT-X26", {"supervising_agency_id": "a03"}, ["fk:supervising_agency_id"],
         "'a03' ≠ 'A03': identifiers are case-sensitive"),
        ("PT-X27", {"cohort": "treatment"}, ["enum:cohort"], "cohort 'treatment' is not allowed"),
        ("PT-X28", {"supervision_type": "post_release", "release_date": "2024-05-20",
                    "reentry_plan_date": "2024-3-05"}, ["date_format:reentry_plan_date"],
         "date written 2024-3-05"),
        ("PT-X29", {"exit_date": "2025-01-15", "exit_reason": "graduated"}, ["enum:exit_reason"],
         "exit_reason 'graduated' is not allowed"),
    ]
    for pid, over, rejects, what in x:
        add(P, pt, set={"participant_id": pid, **over}, rejects=rejects, what=what)
    add(P, d1, set={"risk_level": "high"}, rejects=["duplicate_key_conflict"],
        what="PT-D1 copy 2 of 2 (risk_level high vs low)")
    add(P, d2, set={"cohort": " PILOT ", "risk_level": "Moderate", "age_at_enrollment": "34.0"}, dropped=True,
        what="PT-D2 copy 2: identical after normalisation → dropped duplicate")
    add(P, d3, set={"enrollment_date": "2024/03/03"}, rejects=["date_format:enrollment_date"],
        what="PT-D3 invalid copy: rejected for its own rule; the valid copy loads")


def _plant_referrals(add: Add) -> None:
    """The planted rows of ``referrals``."""
    # referrals (with an unknown extra column 'notes') --------------------------------
    rf = {"referral_id": "", "participant_id": "PT-M01", "referring_agency_id": "A03",
          "provider_agency_id": "A09", "service_type": "mental_health", "referral_date": "2025-03-10",
          "accepted_date": "", "service_start_date": "", "completed_date": "", "status": "pending", "notes": ""}
    R = "referrals"
    pend = "null_when:accepted_date:status=pending"
    refs = [
        ("RF-M01", {"accepted_date": "2025-03-01", "status": "accepted"},
         ["date_order:accepted_date>=referral_date"], "accepted before referred"),
        ("RF-M02", {"service_start_date": "2025-03-05", "status": "declined"},
         ["date_order:service_start_date>=referral_date"], "service started before referral"),
        ("RF-M03", {"accepted_date": "2025-03-20", "service_start_date": "2025-03-15", "status": "in_service"},
         ["date_order:service_start_date>=accepted_date"], "service started before acceptance"),
        ("RF-M04", {"accepted_date": "2025-03-11", "service_start_date": "2025-03-20",
                    "completed_date": "2025-03-18", "status": "completed"},
         ["date_order:completed_date>=service_start_date"], "completed before service start"),
        ("RF-M05", {"status": "accepted"}, ["required_when:accepted_date:status=accepted|in_service|completed"],
         "status accepted without accepted_date"),
        ("RF-M06", {"accepted_date": "2025-03-12", "status": "in_service"},
         ["required_when:service_start_date:status=in_service|completed"], "in_service without start date"),
        ("RF-M07", {"accepted_date": "2025-03-12", "service_start_date": "2025-03-20", "status": "completed"},
         ["required_when:completed_date:status=completed"], "completed without completed_date"),
        ("RF-M08", {"accepted_date": "2025-03-12", "completed_date": "2025-04-01", "status": "no_show"},
         ["null_unless:completed_date:status=completed"], "no_show with a completed_date"),
        ("RF-M09", {"accepted_date": "2025-03-12"}, [pend], "pending with an accepted_date"),
        ("RF-M10", {"service_start_date": "2025-03-20"}, ["null_when:service_start_date:status=pending"],
         "pending with a service_start_date"),
        ("RF-M11", {"accepted_date": "2025-03-12", "service_start_date": "2025-03-20",
                    "completed_date": "2025-05-01"},
         [pend, "null_when:service_start_date:status=pending", "null_unless:completed_date:status=completed"],
         "pending with all three dates: three rules"),
        ("RF-M12", {"provider_agency_id": "A77"}, ["fk:provider_agency_id"], "provider A77 does not exist"),
        ("RF-M13", {"provider_agency_id": "A17"}, ["parent_rejected:provider_agency_id"],
         "provider A17 was rejected (conflicting duplicates) → cascade"),
        ("RF-M14", {"participant_id": "PT-X06"}, ["parent_rejected:participant_id"],
         "participant PT-X06 was rejected → cascade"),
        ("RF-M15", {"participant_id": "PT-D1"}, ["parent_rejected:participant_id"],
         "participant PT-D1 was rejected (conflicting duplicates) → cascade"),
        ("RF-M16", {"service_type": ""}, ["required:service_type"], "service_type empty"),
        ("RF-M17", {"status": "done"}, ["enum:status"], "status 'done' is not allowed"),
        ("RF-M18", {"service_type": "Housing", "provider_agency_id": "A11", "accepted_date": "2025-03-11",
                    "service_start_date": "2025-03-20", "completed_date": "2025-06-30", "status": "COMPLETED",
                    "notes": "moved in"},
         [], "LOADS: 'COMPLETED', 'Housing' in capitals; a note in the unknown column"),
        ("RF-M20", {"referral_date": "2026-07-15"}, ["after_as_of:referral_date"],
         "referred after the as-of date"),
        ("RF-M21", {"participant_id": "PT-X20", "referring_agency_id": "A13"},
         ["parent_rejected:participant_id", "parent_rejected:referring_agency_id"],
         "participant and referring agency both rejected: counted under each"),
        ("RF-M22", {"participant_id": "PT-D3"}, [],
         "LOADS: its participant PT-D3 loaded (only the other copy was invalid)"),
        ("RF-M23", {"referral_date": "2026-05-01", "accepted_date": "2026-05-02",
                    "service_start_date": "2026-05-10", "completed_date": "2026-07-02", "status": "completed"},
         ["after_as_of:completed_date"], "completed after the as-of date"),
        ("RF-M24", {"accepted_date": "2025-3-12", "status": "declined"}, ["date_format:accepted_date"],
         "date written 2025-3-12"),
        ("RF-M25", {"participant_id": " PT-N01 ", "referral_date": "2024-04-20", "accepted_date": "2024-05-01",
                    "service_start_date": "2024-05-10", "status": " in_service "},
         [], "LOADS: participant id and status with spaces"),
        ("RF-M26", {"provider_agency_id": "A16", "service_type": "mentoring", "accepted_date": "2025-03-12",
                    "status": "accepted"},
         [], "LOADS: provider A16 (its duplicate copies collapsed)"),
    ]
    for rid, over, rejects, what in refs:
        add(R, rf, set={"referral_id": rid, **over}, rejects=rejects, what=what)
    add(R, rf, set={"referral_id": "RF-M19", "participant_id": "PT-M02", "referral_date": "2025-03-01"},
        warns=["warn:after_exit"], what="LOADS with a warning: referred after the participant's exit (2025-02-01)")
    add(R, rf, set={"referral_id": "RF-D3"}, what="LOADS: RF-D3 valid copy")
    add(R, rf, set={"referral_id": "RF-D3", "referral_date": "2025/03/05"}, rejects=["date_format:referral_date"],
        what="RF-D3 invalid copy: rejected for its own rule; the valid copy loads")


def _plant_supervision_events(add: Add) -> None:
    """The planted rows of ``supervision_events``."""
    # supervision_events --------------------------------------------------------------
    se = {"event_id": "", "participant_id": "PT-M01", "agency_id": "A03", "event_date": "2025-01-10",
          "event_type": "office_check_in", "required": "true", "outcome": "compliant"}
    S = "supervision_events"
    events = [
        ("SE-M01", {}, [], "LOADS: anchor PT-M01's event"),
        ("SE-M02", {"participant_id": "PT-M02", "event_date": "2024-06-01"}, [], "LOADS: PT-M02's event"),
        ("SE-M03", {"participant_id": " PT-N01 ", "event_date": "2024-05-01", "event_type": "Drug_Test",
                    "required": "True", "outcome": " Compliant"}, [],
         "LOADS: 'True', ' Compliant', 'Drug_Test' normalised"),
        ("SE-M04", {"participant_id": "PT-N02", "event_date": "2024-06-01", "required": "0",
                    "outcome": "EXCUSED"}, [], "LOADS: boolean '0', 'EXCUSED'"),
        ("SE-M05", {"participant_id": "PT-D2", "event_date": "2024-04-01"}, [], "LOADS: PT-D2's event"),
        ("SE-M06", {"participant_id": "PT-D3", "event_date": "2024-04-01"}, [], "LOADS: PT-D3's event"),
        ("SE-M07", {"required": "yes"}, ["bool_format:required"], "boolean 'yes'"),
        ("SE-M08", {"required": "Y"}, ["bool_format:required"], "boolean 'Y'"),
        ("SE-M09", {"required": "2"}, ["bool_format:required"], "boolean '2'"),
        ("SE-M10", {"outcome": ""}, ["required:outcome"], "outcome empty"),
        ("", {}, ["required:event_id"], "event_id (the key) empty"),
        ("SE-M11", {"event_date": "2024/03/05"}, ["date_format:event_date"], "date written 2024/03/05"),
        ("SE-M12", {"event_date": "2026-07-01"}, ["after_as_of:event_date"], "dated after the as-of date"),
        ("SE-M13", {"event_type": "phone_call"}, ["enum:event_type"], "event_type 'phone_call' not allowed"),
        ("SE-M14", {"participant_id": "PT-NOPE"}, ["fk:participant_id"], "participant PT-NOPE does not exist"),
        ("SE-M15", {"agency_id": "A13"}, ["parent_rejected:agency_id"], "agency A13 was rejected → cascade"),
        ("SE-M16", {"participant_id": "PT-D1"}, ["parent_rejected:participant_id"],
         "participant PT-D1 rejected (conflicting duplicates) → cascade"),
        ("SE-M17", {"participant_id": "PT-X01", "event_date": "2024-07-01"}, ["parent_rejected:participant_id"],
         "participant PT-X01 rejected → cascade"),
        ("SE-M18", {"participant_id": "PT-X06", "event_date": "2024-07-01"}, ["parent_rejected:participant_id"],
         "participant PT-X06 rejected → cascade"),
        ("SE-M19", {"participant_id": "PT-X15", "event_date": "2024-07-01"}, ["parent_rejected:participant_id"],
         "participant PT-X15 rejected → cascade"),
        ("SE-M20", {"participant_id": "PT-X20", "event_date": "2024-07-01"}, ["parent_rejected:participant_id"],
         "participant PT-X20 rejected (itself by cascade) → cascade, third level"),
        ("SE-M21", {"participant_id": "PT-X21", "event_date": "2024-07-01"}, ["parent_rejected:participant_id"],
         "participant PT-X21 rejected → cascade"),
        ("SE-M24", {"event_date": "2024-02-30"}, ["date_format:event_date"], "2024-02-30 is not a calendar date"),
        ("SE-M25", {"agency_id": "a01"}, ["fk:agency_id"], "'a01' ≠ 'A01': identifiers are case-sensitive"),
        ("SE-M26", {"participant_id": " PT-M01 ", "event_date": "2025-02-10"}, [],
         "LOADS: participant id with spaces"),
    ]
    for eid, over, rejects, what in events:
        add(S, se, set={"event_id": eid, **over}, rejects=rejects, what=what)
    add(S, se, set={"event_id": "SE-M22", "event_date": "2024-01-10"}, warns=["warn:before_enrollment"],
        what="LOADS with a warning: before PT-M01's enrollment (2024-01-15)")
    add(S, se, set={"event_id": "SE-M23", "participant_id": "PT-M02", "event_date": "2025-03-01"},
        warns=["warn:after_exit"], what="LOADS with a warning: after PT-M02's exit (2025-02-01)")
    t1 = {**se, "event_id": "SE-T1", "event_date": "2025-04-01", "event_type": "home_visit"}
    add(S, t1, what="LOADS: SE-T1 copy 1 of 3")
    add(S, {**se, "event_id": "SE-C1", "event_date": "2025-04-02"}, rejects=["duplicate_key_conflict"],
        what="SE-C1 copy 1 of 2 (outcome compliant)")
    add(S, t1, dropped=True, what="SE-T1 copy 2: byte-identical → dropped duplicate")
    add(S, {**se, "event_id": "SE-C1", "event_date": "2025-04-02", "outcome": "missed"},
        rejects=["duplicate_key_conflict"], what="SE-C1 copy 2 of 2 (outcome missed)")
    add(S, t1, set={"event_type": "Home_Visit", "required": "TRUE", "outcome": "COMPLIANT"}, dropped=True,
        what="SE-T1 copy 3: identical after normalisation → dropped duplicate")


def _plant_recidivism_events(add: Add) -> None:
    """The planted rows of ``recidivism_events``."""
    # violations: the file lacks the required column violation_type (whole file rejected)
    # recidivism_events (header names in other cases, with spaces) -----------------------
    re_ = {"event_id": "", "participant_id": "PT-M01", "event_date": "2025-05-01", "event_type": "arrest",
           "offense_category": "property", "source_agency_id": "A01"}
    E = "recidivism_events"
    recid = [
        ("RE-M01", {"offense_category": "felony"}, ["enum:offense_category"],
         "optional enum offense_category 'felony'"),
        ("RE-M02", {"participant_id": ""}, ["required:participant_id"], "participant_id empty"),
        ("RE-M03", {"participant_id": "PT-D1"}, ["parent_rejected:participant_id"],
         "participant PT-D1 rejected → cascade"),
        ("RE-M04", {"event_type": "ARREST", "offense_category": "Drug"}, [], "LOADS: 'ARREST', 'Drug'"),
        ("RE-M05", {"event_date": "20250101"}, ["date_format:event_date"], "date written 20250101"),
        ("RE-M06", {"source_agency_id": "A55"}, ["fk:source_agency_id"], "optional FK: agency A55 does not exist"),
        ("RE-M07", {"event_date": "2026-07-04"}, ["after_as_of:event_date"], "dated after the as-of date"),
        ("RE-M08", {"source_agency_id": "A14"}, ["parent_rejected:source_agency_id"],
         "agency A14 was rejected (empty name) → cascade"),
        ("RE-M09", {"event_type": "citation"}, ["enum:event_type"], "event_type 'citation' not allowed"),
        ("RE-M10", {"offense_category": "", "source_agency_id": "  "}, [],
         "LOADS: optional columns empty / spaces only"),
    ]
    for eid, over, rejects, what in recid:
        add(E, re_, set={"event_id": eid, **over}, rejects=rejects, what=what)


def _plant_police_contacts(add: Add) -> None:
    """The planted rows of ``police_contacts``."""
    # police_contacts -----------------------------------------------------------------
    pc = {"contact_id": "", "agency_id": "A01", "program_id": "P05", "participant_id": "",
          "contact_date": "2025-02-01", "contact_type": "outreach", "co_responder": "true",
          "outcome": "referred_to_services"}
    C = "police_contacts"
    contacts = [
        ("PC-M01", {"co_responder": "t"}, ["bool_format:co_responder"], "boolean 't'"),
        ("PC-M02", {"co_responder": ""}, ["required:co_responder"], "co_responder empty"),
        ("PC-M03", {"program_id": "P99"}, ["fk:program_id"], "optional FK: program P99 does not exist"),
        ("PC-M04", {"agency_id": "A13"}, ["parent_rejected:agency_id"], "agency A13 was rejected → cascade"),
        ("PC-M05", {"program_id": "P09"}, ["parent_rejected:program_id"], "program P09 was rejected → cascade"),
        ("PC-M06", {"participant_id": "PT-X18"}, ["parent_rejected:participant_id"],
         "participant PT-X18 was rejected → cascade"),
        ("PC-M07", {"co_responder": "FALSE", "contact_type": "Crisis_Call", "outcome": "Arrest"}, [],
         "LOADS: 'FALSE', 'Crisis_Call', 'Arrest'"),
        ("PC-M08", {"co_responder": "1"}, [], "LOADS: boolean '1'"),
        ("PC-M09", {"co_responder": "0", "program_id": "", "participant_id": "PT-M01"}, [],
         "LOADS: boolean '0', no program, a participant"),
        ("PC-M10", {"contact_type": "traffic_stop"}, ["enum:contact_type"], "contact_type 'traffic_stop'"),
        ("PC-M11", {"contact_date": "2024-3-5"}, ["date_format:contact_date"], "date written 2024-3-5"),
        ("PC-M12", {"participant_id": "PT-GONE"}, ["fk:participant_id"], "participant PT-GONE does not exist"),
        ("PC-M13", {"outcome": "citation"}, ["enum:outcome"], "outcome 'citation' not allowed"),
        ("PC-M14", {"contact_date": "2026-07-02"}, ["after_as_of:contact_date"], "dated after the as-of date"),
    ]
    for cid, over, rejects, what in contacts:
        add(C, pc, set={"contact_id": cid, **over}, rejects=rejects, what=what)


# Over 80 lines on purpose: seeded generator: one random stream drawn in a fixed order; splitting it risks
# changing the bytes of the pinned sample.
def _plant_version_2(add: Add) -> None:
    """The planted rows of the contract version 2 tables (see :func:`messy_rows`)."""
    # reintegration_checks ---------------------------------------------------------------
    rc = {"check_id": "", "participant_id": "PT-M01", "agency_id": "A03", "check_date": "2025-01-15",
          "employment": "full_time", "housing": "stable"}
    K = "reintegration_checks"
    checks = [
        ("RC-M01", {"employment": "", "housing": " "}, ["at_least_one:employment|housing"],
         "neither employment nor housing is set"),
        ("RC-M02", {"employment": "Full_Time ", "housing": "STABLE"}, [], "LOADS: enums in other cases, spaces"),
        ("RC-M03", {"employment": "employed"}, ["enum:employment"], "employment 'employed' is not an allowed value"),
        ("RC-M04", {"housing": "couch_surfing"}, ["enum:housing"], "housing 'couch_surfing' is not an allowed value"),
        ("RC-M05", {"employment": "", "housing": "homeless"}, [], "LOADS: housing only"),
        ("RC-M06", {"employment": "not_in_labor_force", "housing": ""}, [], "LOADS: employment only"),
        ("RC-M07", {"check_date": "2026-07-15"}, ["after_as_of:check_date"], "dated after the as-of date"),
        ("RC-M08", {"check_date": "2025/01/15"}, ["date_format:check_date"], "date written 2025/01/15"),
        ("RC-M09", {"participant_id": "PT-GONE"}, ["fk:participant_id"], "participant PT-GONE does not exist"),
        ("RC-M10", {"participant_id": "PT-D1"}, ["parent_rejected:participant_id"],
         "participant PT-D1 was rejected → cascade"),
        ("RC-M11", {"agency_id": "A13"}, ["parent_rejected:agency_id"], "agency A13 was rejected → cascade"),
        ("RC-M12", {"agency_id": ""}, ["required:agency_id"], "agency_id empty"),
        ("RC-M13", {"check_date": "15/01/2025", "employment": "", "housing": ""},
         ["at_least_one:employment|housing", "date_format:check_date"], "bad date and no status at all"),
    ]
    for cid, over, rejects, what in checks:
        add(K, rc, set={"check_id": cid, **over}, rejects=rejects, what=what)
    add(K, rc, set={"check_id": "RC-M14", "check_date": "2024-01-10"}, warns=["warn:before_enrollment"],
        what="LOADS with a warning: before PT-M01's enrollment (2024-01-15)")
    add(K, rc, set={"check_id": "RC-M15", "participant_id": "PT-M02", "check_date": "2025-04-01"},
        warns=["warn:after_exit"], what="LOADS with a warning: after PT-M02's exit (2025-02-01); a follow-up")
    add(K, rc, set={"check_id": "RC-M16", "employment": "part_time"}, rejects=["duplicate_key_conflict"],
        what="RC-M16 copy 1 of 2 (part_time)")
    add(K, rc, set={"check_id": "RC-M16", "employment": "unemployed"}, rejects=["duplicate_key_conflict"],
        what="RC-M16 copy 2 of 2 (unemployed): the copies differ")

    # program_costs: the decimal rule -----------------------------------------------------
    co = {"cost_id": "", "program_id": "P17", "period_start": "2025-01-01", "period_end": "2025-03-31",
          "amount": "12500.00", "category": "personnel"}
    O = "program_costs"
    costs = [
        ("CO-M01", {"amount": "12"}, [], "LOADS: amount 12 (no fraction)"),
        ("CO-M02", {"amount": "12.5"}, [], "LOADS: amount 12.5 (one decimal place)"),
        ("CO-M03", {"amount": f" 12.50{NBSP}"}, [], "LOADS: amount 12.50 with spaces"),
        ("CO-M04", {"amount": "-3"}, ["decimal_format:amount"], "amount -3: a sign (amounts are never below 0)"),
        ("CO-M05", {"amount": "1e3"}, ["decimal_format:amount"], "amount 1e3: an exponent"),
        ("CO-M06", {"amount": "1,200"}, ["decimal_format:amount"], "amount 1,200: a thousands separator"),
        ("CO-M07", {"amount": "$12"}, ["decimal_format:amount"], "amount $12: a currency symbol"),
        ("CO-M08", {"amount": "12.505"}, ["decimal_format:amount"], "amount 12.505: three decimal places"),
        ("CO-M09", {"amount": "7,50"}, ["decimal_format:amount"], "amount 7,50: a decimal comma"),
        ("CO-M10", {"amount": "+12"}, ["decimal_format:amount"], "amount +12: a sign"),
        ("CO-M11", {"amount": ""}, ["required:amount"], "amount empty"),
        ("CO-M12", {"amount": "0", "category": ""}, [], "LOADS: amount 0, no category"),
        ("CO-M13", {"period_end": "2024-12-31"}, ["date_order:period_end>=period_start"],
         "period_end before period_start"),
        ("CO-M14", {"period_start": "2026-04-01", "period_end": "2027-03-31"}, [],
         "LOADS: period_end after the as-of date is allowed"),
        ("CO-M15", {"period_start": "2026-07-01", "period_end": "2026-09-30"}, ["after_as_of:period_start"],
         "period_start after the as-of date"),
        ("CO-M16", {"category": "salaries"}, ["enum:category"], "optional enum category 'salaries'"),
        ("CO-M17", {"program_id": "P09"}, ["parent_rejected:program_id"], "program P09 was rejected → cascade"),
        ("CO-M18", {"program_id": "P99"}, ["fk:program_id"], "program P99 does not exist"),
    ]
    for cid, over, rejects, what in costs:
        add(O, co, set={"cost_id": cid, **over}, rejects=rejects, what=what)

    # staffing: the (agency_id, month) key ------------------------------------------------
    st = {"agency_id": "A12", "month": "2025-01-01", "officers_fte": "3"}
    T = "staffing"
    add(T, st, what="LOADS: A12 2025-01")
    add(T, st, set={"month": "2025-02-15"}, rejects=["first_of_month:month"], what="month is not the first day")
    add(T, st, set={"month": "2025-03-01", "officers_fte": "3"}, rejects=["duplicate_key_conflict"],
        what="A12 2025-03 copy 1 of 2 (3 FTE)")
    add(T, st, set={"month": "2025-03-01", "officers_fte": "3.5"}, rejects=["duplicate_key_conflict"],
        what="A12 2025-03 copy 2 of 2 (3.5 FTE): the copies differ")
    add(T, st, set={"month": "2025-04-01", "officers_fte": "2.5"}, what="LOADS: A12 2025-04 copy 1 of 2")
    add(T, st, set={"month": " 2025-04-01", "officers_fte": "2.50"}, dropped=True,
        what="A12 2025-04 copy 2: 2.50 is 2.5 → dropped duplicate")
    add(T, st, set={"month": "2025-05-01", "officers_fte": "-1"}, rejects=["decimal_format:officers_fte"],
        what="officers_fte -1: a sign")
    add(T, st, set={"month": "2025-06-01", "officers_fte": "0"}, what="LOADS: a vacancy month (0 FTE)")
    add(T, st, set={"month": "2025-07-01", "officers_fte": "two"}, rejects=["decimal_format:officers_fte"],
        what="officers_fte 'two'")
    add(T, st, set={"month": "2025-08-01", "officers_fte": ""}, rejects=["required:officers_fte"],
        what="officers_fte empty")
    add(T, st, set={"month": "2025-09"}, rejects=["date_format:month"], what="month written 2025-09")
    add(T, st, set={"month": ""}, rejects=["required:month"], what="month empty")
    add(T, st, set={"month": "2026-07-01"}, rejects=["after_as_of:month"], what="a month after the as-of date")
    add(T, st, set={"agency_id": "A99"}, rejects=["fk:agency_id"], what="agency A99 does not exist")
    add(T, st, set={"agency_id": "A13"}, rejects=["parent_rejected:agency_id"], what="agency A13 was rejected → cascade")

    # surveys ---------------------------------------------------------------------------
    sv = {"response_id": "", "survey_date": "2025-05-01", "respondent_type": "resident", "question": "trust",
          "score": "4", "program_id": "P17", "agency_id": "A01", "participant_id": ""}
    V = "surveys"
    answers = [
        ("SV-M01", {"score": "6"}, ["range:score"], "score 6 (1 to 5)"),
        ("SV-M02", {"score": "0"}, ["range:score"], "score 0 (1 to 5)"),
        ("SV-M03", {"score": "4.5"}, ["int_format:score"], "score 4.5 is not a whole number"),
        ("SV-M04", {"score": "5.0"}, [], "LOADS: score 5.0 (spreadsheet export)"),
        ("SV-M05", {"participant_id": "PT-M01"}, ["null_unless:participant_id:respondent_type=participant"],
         "participant_id on a resident's answer"),
        ("SV-M06", {"respondent_type": "participant", "participant_id": "PT-M01", "program_id": ""}, [],
         "LOADS: a participant's answer, program known through the participant"),
        ("SV-M07", {"respondent_type": "Participant", "question": "Satisfaction"}, [],
         "LOADS: a participant's answer without participant_id"),
        ("SV-M08", {"question": "wellbeing"}, ["enum:question"], "question 'wellbeing' is not an allowed value"),
        ("SV-M09", {"respondent_type": "visitor"}, ["enum:respondent_type"], "respondent_type 'visitor'"),
        ("SV-M10", {"agency_id": "A99"}, ["fk:agency_id"], "agency A99 does not exist"),
        ("SV-M11", {"program_id": "P09"}, ["parent_rejected:program_id"], "program P09 was rejected → cascade"),
        ("SV-M12", {"respondent_type": "participant", "participant_id": "PT-X18"},
         ["parent_rejected:participant_id"], "participant PT-X18 was rejected → cascade"),
        ("SV-M13", {"survey_date": "2026-07-01"}, ["after_as_of:survey_date"], "dated after the as-of date"),
        ("SV-M14", {"score": ""}, ["required:score"], "score empty"),
        ("SV-M15", {"program_id": "", "agency_id": ""}, [], "LOADS: about no particular program or agency"),
    ]
    for rid, over, rejects, what in answers:
        add(V, sv, set={"response_id": rid, **over}, rejects=rejects, what=what)


# How each messy file is delivered.
