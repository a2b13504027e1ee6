"""The stewardship engine on a small hand-made audit: open quarantine, status,
findings, history, scorecard, role enforcement and the reprocessing export.

The world (every number below is counted by hand from it):

agencies A1 probation (jurisdiction set), A2 police (jurisdiction empty),
A3 provider (jurisdiction set); program P1 led by A1 (grant set).

participants (supervising agency; optional sex / race / age filled):
  N1 A1 enrolled 2026-01-10, exit 2026-03-01  sex, race, age   -> 3 of 3
  N2 A1 enrolled 2026-02-01                   age              -> 1 of 3
  N3 A2 enrolled 2026-02-15                   sex              -> 1 of 3
  N4 -- enrolled 2026-03-01                   sex, race, age   -> 3 of 3
supervision events: E1 N1 A1 01-15; E2 N1 A1 03-05 (after N1's exit);
  E3 N2 A1 01-20 (before N2's enrollment); E4 N3 A2 02-20. N4 has none.
referrals: F1 N1 by A1 on 03-10 (after N1's exit); F2 N2 by A1 on 02-05.

runs: r1 load (2026-04-03, as of 03-31), r2 load of the same extract
(2026-04-10, as of 03-31), r3 check (2026-04-11).
quarantine:
  q1 r1 referrals line 4  F9  A1 [enum:status]
  q2 r2 referrals line 4  F9  A1 [enum:status]                 (same record again)
  q3 r1 supervision line 7 E9 A2 [required:outcome, after_as_of:event_date]
  q4 r2 supervision line 7 E9 A2 (same)
  q5 r1 participants line 3 N9 A1 [enum:sex] resolved by r2
  q6 r1 supervision line 9 (no key) A2 [required:event_id]
  q7 r2 supervision line 9 (no key) A2 (same delivered values)
  q8 r3 referrals line 5 F10 A1 [enum:status]                  (a check run: not loaded data)
  q9 r2 referrals line 6 F11 (no agency) [fk:referring_agency_id]
open = latest unresolved copy per record of a load run: q2, q4, q7, q9 -> 4.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from dashboard import stewardship as st
from dashboard import store
from dashboard.contract import TABLES_BY_NAME
from dashboard.metrics.tables import conform as conform_tables


def conform(table: str, rows: object) -> pl.DataFrame:
    """A contract table as the steward's checks get it: plain strings (stewardship.read_tables),
    not the categoricals of the metric engine's shared tables."""
    return conform_tables(table, rows, categorical=False)  # type: ignore[arg-type]


D = dt.date


def world_tables() -> dict[str, pl.DataFrame]:
    frames = {
        "agencies": [
            {"agency_id": "A1", "agency_name": "County Probation", "agency_type": "probation", "jurisdiction": "Springfield"},
            {"agency_id": "A2", "agency_name": "City Police", "agency_type": "law_enforcement", "jurisdiction": None},
            {"agency_id": "A3", "agency_name": "Reentry Works", "agency_type": "reentry_provider", "jurisdiction": "Springfield"},
        ],
        "programs": [
            {"program_id": "P1", "program_name": "Pilot", "program_model": "release_planning",
             "lead_agency_id": "A1", "start_date": D(2025, 1, 1), "grant_id": "G-1"},
        ],
        "participants": [
            _participant("N1", "A1", D(2026, 1, 10), exit_date=D(2026, 3, 1), exit_reason="completed",
                         sex="female", race_ethnicity="x", age_at_enrollment=30),
            _participant("N2", "A1", D(2026, 2, 1), age_at_enrollment=40),
            _participant("N3", "A2", D(2026, 2, 15), sex="male"),
            _participant("N4", None, D(2026, 3, 1), sex="unknown", race_ethnicity="y", age_at_enrollment=25),
        ],
        "supervision_events": [
            _event("E1", "N1", "A1", D(2026, 1, 15)),
            _event("E2", "N1", "A1", D(2026, 3, 5)),
            _event("E3", "N2", "A1", D(2026, 1, 20)),
            _event("E4", "N3", "A2", D(2026, 2, 20)),
        ],
        "referrals": [
            _referral("F1", "N1", "A1", D(2026, 3, 10)),
            _referral("F2", "N2", "A1", D(2026, 2, 5)),
        ],
    }
    out = {name: conform(name, rows) for name, rows in frames.items()}
    for name in TABLES_BY_NAME:
        out.setdefault(name, conform(name, None))
    return out


def _participant(pid: str, agency: str | None, enrolled: dt.date, **kw: object) -> dict[str, object]:
    return {"participant_id": pid, "program_id": "P1", "supervising_agency_id": agency, "cohort": "pilot",
            "enrollment_date": enrolled, "supervision_type": "probation", "risk_level": "low", **kw}


def _event(eid: str, pid: str, agency: str, day: dt.date, outcome: str = "compliant") -> dict[str, object]:
    return {"event_id": eid, "participant_id": pid, "agency_id": agency, "event_date": day,
            "event_type": "office_check_in", "required": True, "outcome": outcome}


def _referral(rid: str, pid: str, agency: str, day: dt.date) -> dict[str, object]:
    return {"referral_id": rid, "participant_id": pid, "referring_agency_id": agency, "provider_agency_id": "A3",
            "service_type": "housing", "referral_date": day, "status": "pending"}


def _run(run_id: str, kind: str, started: dt.datetime, read: int, rejected: int) -> dict[str, object]:
    return {"run_id": run_id, "kind": kind, "started_at": started, "finished_at": started + dt.timedelta(minutes=1),
            "as_of": D(2026, 3, 31), "source": "/extracts/march", "status": "rejected_rows" if rejected else "succeeded",
            "exit_code": 1 if rejected else 0, "validation_success": not rejected, "rows_read": read,
            "rows_loaded": read - rejected, "rows_rejected": rejected, "duplicates_dropped": 0, "warnings": 0,
            "summary_json": None}


def _file(run_id: str, table: str, read: int, rejected: int) -> dict[str, object]:
    return {"run_id": run_id, "table_name": table, "file_name": f"{table}.csv", "sha256": "0" * 64,
            "rows_read": read, "rows_loaded": read - rejected, "rows_rejected": rejected, "duplicates_dropped": 0,
            "warnings": 0, "file_rejected": False, "missing_columns": None, "validation_success": not rejected}


EVENT_E9 = {"event_id": "E9", "participant_id": "N1", "agency_id": "A2", "event_date": "2026-05-01",
            "event_type": "home_visit", "required": "true", "outcome": ""}
EVENT_NO_KEY = {"event_id": "", "participant_id": "N2", "agency_id": "A2", "event_date": "2026-02-02",
                "event_type": "drug_test", "required": "1", "outcome": "missed"}
REFERRAL_F9 = {"referral_id": "F9", "participant_id": "N2", "referring_agency_id": "A1", "provider_agency_id": "A3",
               "service_type": "housing", "referral_date": "2026-02-10", "status": "done", "notes": "call back"}


def _q(run: str, table: str, line: int, key: str | None, agency: str | None, raw: dict[str, str],
       rules: list[str], resolved: str | None = None) -> dict[str, object]:
    return {"run_id": run, "table_name": table, "source_file": f"{table}.csv", "line_number": line,
            "record_key": key, "submitting_agency_id": agency, "raw_values": json.dumps(raw),
            "rules": json.dumps(rules), "reasons": "\n".join(rules), "resolved_run_id": resolved}


def world_audit_frames() -> dict[str, pl.DataFrame]:
    r1, r2, r3 = dt.datetime(2026, 4, 3, 9), dt.datetime(2026, 4, 10, 9), dt.datetime(2026, 4, 11, 9)
    runs = [_run("r1", "load", r1, 16, 4), _run("r2", "load", r2, 15, 4), _run("r3", "check", r3, 15, 1)]
    files = [
        _file("r1", "agencies", 3, 0), _file("r1", "programs", 1, 0), _file("r1", "participants", 5, 1),
        _file("r1", "referrals", 3, 1), _file("r1", "supervision_events", 6, 2),
        _file("r2", "participants", 5, 0), _file("r2", "referrals", 4, 2), _file("r2", "supervision_events", 6, 2),
    ]
    quarantine = [
        _q("r1", "referrals", 4, "F9", "A1", REFERRAL_F9, ["enum:status"]),
        _q("r2", "referrals", 4, "F9", "A1", REFERRAL_F9, ["enum:status"]),
        _q("r1", "supervision_events", 7, "E9", "A2", EVENT_E9, ["required:outcome", "after_as_of:event_date"]),
        _q("r2", "supervision_events", 7, "E9", "A2", EVENT_E9, ["required:outcome", "after_as_of:event_date"]),
        _q("r1", "participants", 3, "N9", "A1", {"participant_id": "N9", "sex": "f"}, ["enum:sex"], resolved="r2"),
        _q("r1", "supervision_events", 9, None, "A2", EVENT_NO_KEY, ["required:event_id"]),
        _q("r2", "supervision_events", 9, None, "A2", EVENT_NO_KEY, ["required:event_id"]),
        _q("r3", "referrals", 5, "F10", "A1", {"referral_id": "F10", "status": "x"}, ["enum:status"]),
        _q("r2", "referrals", 6, "F11", None, {"referral_id": "F11", "referring_agency_id": "A99"},
           ["fk:referring_agency_id"]),
    ]
    issues = [
        {"run_id": "r2", "table_name": "referrals", "source_file": "referrals.csv", "line_number": 1,
         "rule": "warn:unknown_column:notes", "record_key": None, "message": "unknown column notes ignored"},
        # an older run's unknown column: not the latest load of supervision_events -> not counted
        {"run_id": "r1", "table_name": "supervision_events", "source_file": "supervision_events.csv",
         "line_number": 1, "rule": "warn:unknown_column:x", "record_key": None, "message": "x"},
    ]

    def frame(table: str, rows: list[dict[str, object]]) -> pl.DataFrame:
        return pl.DataFrame(rows, schema=store.polars_schema(table))

    return {
        "load_runs": frame("load_runs", runs),
        "load_files": frame("load_files", files),
        "quarantine": frame("quarantine", quarantine),
        "load_issues": frame("load_issues", issues),
    }


def world_audit(role: str = "viewer") -> st.Audit:
    f = world_audit_frames()
    return st.build_audit(f["load_runs"], f["load_files"], f["quarantine"], f["load_issues"], role=role)  # type: ignore[arg-type]


# --- open quarantine and status ----------------------------------------------------------


def test_open_quarantine_keeps_one_copy_per_record_and_skips_resolved_and_check_runs() -> None:
    audit = world_audit("steward")
    open_rows = audit.quarantine.filter(pl.col("open"))
    assert sorted(zip(open_rows["run_id"], open_rows["line_number"])) == [("r2", 4), ("r2", 6), ("r2", 7), ("r2", 9)]


def test_status_per_table_and_agency() -> None:
    audit = world_audit()
    summary = st.summarize(audit, world_tables(), with_groupings=False)
    by_table = {r["table_name"]: r for r in summary.tables.iter_rows(named=True)}
    assert (by_table["referrals"]["open_rejections"], by_table["referrals"]["status"]) == (2, "fail")
    assert (by_table["supervision_events"]["open_rejections"], by_table["supervision_events"]["status"]) == (2, "fail")
    # N9 was fixed by r2; N4 has no supervision events -> one warning
    assert (by_table["participants"]["open_rejections"], by_table["participants"]["warnings"]) == (0, 1)
    assert by_table["participants"]["status"] == "warn"
    assert by_table["agencies"]["status"] == "pass"
    assert by_table["violations"]["status"] == "not_loaded"
    # referrals: warnings = F1 after exit + the unknown column of its latest load (r2)
    assert by_table["referrals"]["warnings"] == 2
    # the latest load of referrals is r2: 4 read, 2 rejected
    assert (by_table["referrals"]["run_id"], by_table["referrals"]["rows_rejected"]) == ("r2", 2)
    by_agency = {r["agency_id"]: r for r in summary.agencies.iter_rows(named=True)}
    assert {a: (r["open_rejections"], r["status"]) for a, r in by_agency.items()} == {
        "A1": (1, "fail"), "A2": (2, "fail"), "A3": (0, "pass"), "(unassigned)": (1, "fail"),
    }
    # A1's warnings: E2 after exit, E3 before enrollment, F1 after exit
    assert by_agency["A1"]["warnings"] == 3
    assert summary.status == "fail"


def test_findings_count_each_rule_in_plain_words() -> None:
    f = st.findings(world_audit(), st.current_warnings(world_tables()))
    got = {(r["table"], r["rule"]): (r["level"], r["rows"]) for r in f.iter_rows(named=True)}
    assert got == {
        ("referrals", "enum:status"): ("error", 1),
        ("referrals", "fk:referring_agency_id"): ("error", 1),
        ("supervision_events", "required:outcome"): ("error", 1),
        ("supervision_events", "after_as_of:event_date"): ("error", 1),
        ("supervision_events", "required:event_id"): ("error", 1),
        ("supervision_events", "warn:after_exit"): ("warning", 1),
        ("supervision_events", "warn:before_enrollment"): ("warning", 1),
        ("referrals", "warn:after_exit"): ("warning", 1),
        ("participants", "warn:no_supervision_events"): ("warning", 1),
    }
    text = dict(zip(f["rule"], f["description"]))
    assert text["enum:status"].startswith("status is not one of: pending, accepted")
    assert text["fk:referring_agency_id"] == "referring_agency_id does not match any agencies row"
    # errors are listed before warnings
    assert f["level"].to_list().index("warning") == 5


def test_current_warnings_match_the_contract() -> None:
    w = st.current_warnings(world_tables())
    assert sorted(zip(w["table"], w["rule"], w["record_key"])) == [
        ("participants", "warn:no_supervision_events", "N4"),
        ("referrals", "warn:after_exit", "F1"),
        ("supervision_events", "warn:after_exit", "E2"),
        ("supervision_events", "warn:before_enrollment", "E3"),
    ]


def test_run_history_has_rejection_rates_and_resolutions() -> None:
    h = st.run_history(world_audit())
    assert h["run_id"].to_list() == ["r1", "r2", "r3"]
    assert h["rejection_rate"].to_list() == pytest.approx([4 / 16, 4 / 15, 1 / 15])
    assert h["resolved_rows"].to_list() == [0, 1, 0]
    th = st.table_history(world_audit())
    ref = th.filter(pl.col("table_name") == "referrals")
    assert ref["rejection_rate"].to_list() == pytest.approx([1 / 3, 2 / 4])


# --- scorecard ------------------------------------------------------------------------------


def test_partner_scorecard_hand_computed() -> None:
    card = st.partner_scorecard(world_audit(), world_tables())
    rows = {r["agency_id"]: r for r in card.iter_rows(named=True)}
    # accepted rows by submitting agency:
    #   A1: agency 1 + program 1 + participants N1,N2 + events E1,E2,E3 + referrals F1,F2 = 9
    #   A2: agency 1 + participant N3 + event E4 = 3;  A3: agency 1;  unassigned: participant N4 = 1
    assert {a: r["accepted"] for a, r in rows.items()} == {"A1": 9, "A2": 3, "A3": 1, "(unassigned)": 1}
    # validity = accepted / (accepted + open rejections): 9/10, 3/5, 1/1, 1/2
    assert {a: r["validity"] for a, r in rows.items()} == pytest.approx(
        {"A1": 0.9, "A2": 0.6, "A3": 1.0, "(unassigned)": 0.5})
    # completeness over optional, non-conditional columns:
    #   A1: jurisdiction 1/1 + grant_id 1/1 + (N1 3/3, N2 1/3) = 6/8
    #   A2: jurisdiction 0/1 + N3 1/3 = 1/4;  A3: 1/1;  unassigned: N4 3/3
    assert {a: (r["filled_cells"], r["optional_cells"]) for a, r in rows.items()} == {
        "A1": (6, 8), "A2": (1, 4), "A3": (1, 1), "(unassigned)": (3, 3)}
    assert rows["A1"]["completeness"] == pytest.approx(0.75)
    # timeliness: latest load r2 started 2026-04-10 for as-of 2026-03-31 -> 10 days;
    # latest activity: A1 F1 2026-03-10 -> 21 days, A2 E4 02-20 -> 39, A3 none;
    # rows without an agency are no partner that can be late -> none
    assert {r["load_lag_days"] for r in rows.values()} == {10}
    assert {a: r["data_lag_days"] for a, r in rows.items()} == {"A1": 21, "A2": 39, "A3": None, "(unassigned)": None}
    # A2's open rules, ties by table then rule id
    assert rows["A2"]["top_rules"] == (
        "supervision_events: event_date is after the extract's as-of date (1); "
        "supervision_events: event_id is required but empty (1); "
        "supervision_events: outcome is required but empty (1)"
    )
    assert rows["A1"]["top_rules"].startswith("referrals: status is not one of")
    csv_text = st.scorecard_csv(card).decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("agency_id,agency_name,accepted,open_rejections,validity")
    assert "A2,City Police,3,2,0.6," in csv_text


# --- roles enforced in the engine -----------------------------------------------------------


def test_a_viewer_gets_aggregates_but_no_rows() -> None:
    viewer = world_audit("viewer")
    assert "raw_values" not in viewer.quarantine.columns and "record_key" not in viewer.quarantine.columns
    counts = st.quarantine_counts(viewer)
    assert counts["rows"].sum() == 5  # 4 open entries, E9 broke two rules
    for call in (
        lambda: st.quarantine_rows(viewer, "viewer"),
        lambda: st.example_rows(viewer, "viewer", "referrals", "enum:status"),
        lambda: st.quarantine_csv(viewer, "viewer"),
        lambda: st.reprocessing_csv(viewer, "viewer", "referrals"),
    ):
        with pytest.raises(PermissionError, match="steward role"):
            call()
    # a steward cannot see rows through an audit read for a viewer either
    with pytest.raises(PermissionError, match="read for a viewer"):
        st.quarantine_rows(viewer, "steward")
    # even holding a steward's audit, a viewer role is refused
    with pytest.raises(PermissionError):
        st.quarantine_rows(world_audit("steward"), "viewer")


def test_reprocess_and_extract_export_refuse_a_viewer(tmp_path: Path) -> None:
    with pytest.raises(PermissionError):
        st.write_reprocessing_extract(world_audit("steward"), "viewer", tmp_path)
    with pytest.raises(PermissionError):
        st.reprocess(sa.create_engine("sqlite://"), "viewer", tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- quarantine browser and export ----------------------------------------------------------


def test_quarantine_browser_filters() -> None:
    audit = world_audit("steward")
    F = st.QuarantineFilter
    assert st.quarantine_rows(audit, "steward").height == 4
    assert st.quarantine_rows(audit, "steward", F(state="unresolved")).height == 8
    assert st.quarantine_rows(audit, "steward", F(state="resolved"))["record_key"].to_list() == ["N9"]
    assert st.quarantine_rows(audit, "steward", F(state="all")).height == 9
    assert st.quarantine_rows(audit, "steward", F(tables=("referrals",)))["record_key"].to_list() == ["F9", "F11"]
    assert st.quarantine_rows(audit, "steward", F(rules=("required:outcome",)))["record_key"].to_list() == ["E9"]
    assert st.quarantine_rows(audit, "steward", F(agencies=("(unassigned)",)))["record_key"].to_list() == ["F11"]
    assert st.quarantine_rows(audit, "steward", F(run_ids=("r1",), state="all")).height == 4
    ex = st.example_rows(audit, "steward", "supervision_events", "required:outcome")
    assert ex.row(0, named=True)["outcome"] == "" and ex.row(0, named=True)["event_date"] == "2026-05-01"
    csv_text = st.quarantine_csv(audit, "steward", F(tables=("referrals",))).decode("utf-8-sig")
    header = csv_text.splitlines()[0].split(",")
    assert header[:3] == ["run_id", "started_at", "table_name"] and "status" in header
    assert "done" in csv_text


def test_reprocessing_csv_is_contract_shaped_with_the_delivered_values(tmp_path: Path) -> None:
    audit = world_audit("steward")
    text = st.reprocessing_csv(audit, "steward", "referrals")
    lines = text.splitlines()
    assert lines[0] == ",".join(TABLES_BY_NAME["referrals"].column_names)  # no "notes": not a contract column
    assert lines[1] == "F9,N2,A1,A3,housing,2026-02-10,,,,done"
    assert lines[2] == "F11,,A99,,,,,,,"
    written = st.write_reprocessing_extract(audit, "steward", tmp_path)
    assert sorted(p.name for p in written) == ["AS_OF", "referrals.csv", "supervision_events.csv"]
    assert (tmp_path / "AS_OF").read_text().strip() == "2026-03-31"
    events = pl.read_csv(tmp_path / "supervision_events.csv", infer_schema=False)
    assert events["event_id"].to_list() == ["E9", None]


# --- the database round trip ---------------------------------------------------------------


def write_world(engine: sa.engine.Engine) -> None:
    with engine.begin() as conn:
        for name, frame in world_tables().items():
            store.bulk_upsert(conn, name, frame)
        md = store.metadata_for(engine)
        for name, frame in world_audit_frames().items():
            if frame.height:
                conn.execute(md.tables[name].insert(), frame.to_dicts())


def test_read_audit_from_the_database_matches(engine: sa.engine.Engine) -> None:
    write_world(engine)
    viewer = st.read_audit(engine, "viewer")
    assert viewer.quarantine.filter(pl.col("open")).height == 4
    assert "raw_values" not in viewer.quarantine.columns
    steward = st.read_audit(engine, "steward")
    assert st.quarantine_rows(steward, "steward")["record_key"].to_list() == ["F9", "F11", "E9", None]
    summary = st.quality_summary(engine)
    assert summary.status == "fail"
    # 5 broken rules on open entries + 4 row warnings + referrals' unknown column in r2
    assert summary.findings["rows"].sum() == 5 + 4 + 1


def test_steward_csv_exports_neutralise_spreadsheet_formulas() -> None:
    """A partner's agency name like =HYPERLINK(...) or @SUM(...) must not run when a steward
    opens the scorecard CSV in a spreadsheet: it is written with a leading quote."""
    card = pl.DataFrame({"agency_id": ["A1"], "agency_name": ['=HYPERLINK("http://x","y")'], "validity": [0.5]})
    text = st.scorecard_csv(card).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
