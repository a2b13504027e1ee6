"""Stewardship over real loads: the messy sample's every planted defect, a
partner scorecard computed by hand, reprocessing fixed rows with the history
intact, and ``check --db`` exit codes."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from dashboard import stewardship as st
from dashboard import store
from dashboard.commands.check_db import cli_check_db
from dashboard.quality_checks import Thresholds
from data_checks.levels import level_of

ingest = pytest.importorskip("dashboard.ingest")

REPO = Path(__file__).resolve().parent.parent
MESSY = REPO / "sample_data" / "messy"
RELAXED = Thresholds(cadence_days=3650)  # the tiny extract has a few old records only


# --- the messy sample: every planted error and warning, with its count --------------------


@pytest.fixture(scope="module")
def messy_engine(tmp_path_factory: pytest.TempPathFactory) -> sa.engine.Engine:
    engine = store.make_engine(f"duckdb:///{tmp_path_factory.mktemp('messy') / 'messy.duckdb'}")
    ingest.load_extract(MESSY, engine)
    return engine


def test_every_planted_error_and_warning_is_found_with_its_count(messy_engine: sa.engine.Engine) -> None:
    planted = json.loads((MESSY / "planted.json").read_text())["tables"]
    summary = st.quality_summary(messy_engine)
    found: dict[str, dict[str, dict[str, int]]] = {}
    for r in summary.findings.iter_rows(named=True):
        kind = "errors" if r["level"] == "error" else "warnings"
        found.setdefault(r["table"], {"errors": {}, "warnings": {}})[kind][r["rule"]] = r["rows"]
    for table, expect in planted.items():
        got = found.get(table, {"errors": {}, "warnings": {}})
        assert got["errors"] == expect["reasons"], table
        assert got["warnings"] == expect["warning_reasons"], table
        for rule in expect["reasons"]:
            assert level_of(rule, table) == "error"
        for rule in expect["warning_reasons"]:
            assert level_of(rule, table) == "warning"
    by_table = {r["table_name"]: r for r in summary.tables.iter_rows(named=True)}
    for table, expect in planted.items():
        row = by_table[table]
        assert row["open_rejections"] == expect["rejected"], table
        assert row["rows_rejected"] == expect["rejected"], table
        assert row["duplicates_dropped"] == expect["duplicates_dropped"], table
        assert row["warnings"] == expect["warnings"], table
        assert row["status"] == "fail"
    assert by_table["violations"]["file_rejected"] is True
    assert summary.status == "fail"


def test_the_messy_quarantine_is_browsable_by_a_steward_only(messy_engine: sa.engine.Engine) -> None:
    viewer = st.read_audit(messy_engine, "viewer")
    with pytest.raises(PermissionError):
        st.quarantine_rows(viewer, "viewer")
    steward = st.read_audit(messy_engine, "steward")
    rows = st.quarantine_rows(steward, "steward", st.QuarantineFilter(tables=("agencies",)))
    # agencies.csv lines 14, 15, 18, 19, 20, 22 (README of the messy sample)
    assert sorted(rows["line_number"].to_list()) == [14, 15, 18, 19, 20, 22]
    ex = st.example_rows(steward, "steward", "agencies", "enum:agency_type")
    assert ex.row(0, named=True)["agency_type"].strip().lower() == "police"


# --- a tiny messy extract: scorecard by hand, then reprocessing ----------------------------

AGENCIES = """agency_id,agency_name,agency_type,jurisdiction
A1,County Probation,probation,Springfield
A2,City Police,law_enforcement,
A3,Bad Agency,police,X
"""
PROGRAMS = """program_id,program_name,program_model,lead_agency_id,start_date,end_date,grant_id
P1,Pilot,release_planning,A1,2025-01-01,,G-1
"""
PARTICIPANTS = """participant_id,program_id,supervising_agency_id,cohort,enrollment_date,supervision_type,risk_level,sex,race_ethnicity,age_at_enrollment,exit_date,exit_reason
N1,P1,A1,pilot,2026-01-10,probation,low,female,x,30,,
N2,P1,A1,pilot,2026-02-01,probation,low,,,40,,
N3,P1,A2,comparison,2026-02-15,probation,high,male,,,,
N4,P1,A2,pilot,2026/03/01,probation,low,,,,,
N5,P1,A1,pilot,2026-03-01,probation,low,,,7,,
"""
EVENTS = """event_id,participant_id,agency_id,event_date,event_type,required,outcome
E1,N1,A1,2026-01-15,office_check_in,true,compliant
E2,N2,A1,2026-02-03,home_visit,TRUE,missed
E3,N3,A2,2026-02-20,drug_test,1,compliant
E4,N4,A2,2026-03-05,drug_test,1,compliant
E5,N5,A1,2026-07-02,drug_test,0,compliant
E6,N2,A1,2026-02-04,curfew_check,yes,compliant
"""


def write_tiny_extract(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in {
        "agencies": AGENCIES, "programs": PROGRAMS, "participants": PARTICIPANTS, "supervision_events": EVENTS,
    }.items():
        (directory / f"{name}.csv").write_text(text, encoding="utf-8")
    (directory / "AS_OF").write_text("2026-06-30\n", encoding="utf-8")
    return directory


def test_scorecard_of_a_known_messy_extract_by_hand(engine: sa.engine.Engine, tmp_path: Path) -> None:
    ingest.load_extract(write_tiny_extract(tmp_path / "tiny"), engine)
    audit = st.read_audit(engine)
    card = {r["agency_id"]: r for r in st.partner_scorecard(audit, st.read_tables(engine)).iter_rows(named=True)}
    # rejected: A3 (enum:agency_type); N4 (date_format, A2); N5 (range, A1);
    #           E4 (parent N4 rejected, A2); E5 (after as-of, A1); E6 (bool_format, A1)
    # accepted: A1 = agency + program + N1, N2 + E1, E2 = 6;  A2 = agency + N3 + E3 = 3;  A3 = 0
    assert {a: (r["accepted"], r["open_rejections"]) for a, r in card.items()} == {
        "A1": (6, 3), "A2": (3, 2), "A3": (0, 1)}
    # validity 6/9, 3/5, 0/1
    assert card["A1"]["validity"] == pytest.approx(6 / 9)
    assert card["A2"]["validity"] == pytest.approx(0.6)
    assert card["A3"]["validity"] == 0.0
    # completeness: A1 jurisdiction 1/1 + grant_id 1/1 + N1 (sex, race, age) 3/3 + N2 (age) 1/3 = 6/8
    #               A2 jurisdiction 0/1 + N3 (sex) 1/3 = 1/4;  A3 no loaded rows -> none
    assert {a: (r["filled_cells"], r["optional_cells"]) for a, r in card.items()} == {
        "A1": (6, 8), "A2": (1, 4), "A3": (0, 0)}
    assert card["A1"]["completeness"] == pytest.approx(0.75)
    assert card["A3"]["completeness"] is None
    # timeliness: latest activity A1 E2 2026-02-03 -> 147 days before 06-30; A2 E3 02-20 -> 130 days
    assert (card["A1"]["data_lag_days"], card["A2"]["data_lag_days"]) == (147, 130)
    run = audit.latest_load
    assert run is not None and card["A1"]["load_lag_days"] == (run["started_at"].date() - dt.date(2026, 6, 30)).days
    assert card["A1"]["top_rules"] == (
        "participants: age_at_enrollment is outside 10..100 (1); "
        "supervision_events: event_date is after the extract's as-of date (1); "
        "supervision_events: required is not true/false/1/0 (1)"
    )
    assert card["A3"]["top_rules"].startswith("agencies: agency_type is not one of")


FIXES = {
    "agencies.csv": ("A3,Bad Agency,police,X", "A3,Bad Agency,law_enforcement,X"),
    "participants.csv": ("2026/03/01", "2026-03-01"),
    "supervision_events.csv": ("E5,N5,A1,2026-07-02", "E5,N5,A1,2026-06-02"),
}


def test_rejected_rows_reloaded_after_a_fix_leave_quarantine_with_the_history_intact(
    engine: sa.engine.Engine, tmp_path: Path
) -> None:
    first = ingest.load_extract(write_tiny_extract(tmp_path / "tiny"), engine)
    steward = st.read_audit(engine, "steward")
    assert st.summarize(steward, st.read_tables(engine), thresholds=RELAXED).status == "fail"

    fix_dir = tmp_path / "fixes"
    written = st.write_reprocessing_extract(steward, "steward", fix_dir)
    assert sorted(p.name for p in written) == ["AS_OF", "agencies.csv", "participants.csv", "supervision_events.csv"]
    # the export holds the rejected rows exactly as delivered, contract columns only
    assert (fix_dir / "agencies.csv").read_text().splitlines() == [
        "agency_id,agency_name,agency_type,jurisdiction", "A3,Bad Agency,police,X"]
    participants = (fix_dir / "participants.csv").read_text().splitlines()
    assert participants[0].startswith("participant_id,program_id,supervising_agency_id,cohort,enrollment_date,release_date")
    assert [line.split(",")[0] for line in participants[1:]] == ["N4", "N5"]

    # the steward fixes the cells that broke a rule
    for name, (old, new) in FIXES.items():
        path = fix_dir / name
        path.write_text(path.read_text().replace(old, new), encoding="utf-8")
    events = fix_dir / "supervision_events.csv"
    events.write_text(events.read_text().replace("curfew_check,yes", "curfew_check,true"), encoding="utf-8")
    parts = fix_dir / "participants.csv"
    parts.write_text(parts.read_text().replace("N5,P1,A1,pilot,2026-03-01,,,probation,low,,,7", "N5,P1,A1,pilot,2026-03-01,,,probation,low,,,17"), encoding="utf-8")

    second = st.reprocess(engine, "steward", fix_dir)
    assert second.total_rejected == 0 and second.total_loaded == 6

    audit = st.read_audit(engine, "steward")
    # nothing deleted: the six entries are still there, each resolved by the second run
    assert audit.quarantine.height == 6
    assert set(audit.quarantine["resolved_run_id"].to_list()) == {second.run_id}
    assert audit.quarantine.filter(pl.col("open")).height == 0
    history = st.run_history(audit)
    assert history["run_id"].to_list() == [first.run_id, second.run_id]
    assert history["rows_rejected"].to_list() == [6, 0]
    assert history["resolved_rows"].to_list() == [0, 6]
    # the fixed rows reached the tables
    tables = st.read_tables(engine)
    assert sorted(tables["participants"]["participant_id"].to_list()) == ["N1", "N2", "N3", "N4", "N5"]
    assert tables["supervision_events"].height == 6 and tables["agencies"].height == 3
    # and the data status turned green
    summary = st.summarize(audit, tables, thresholds=RELAXED)
    assert summary.status == "pass", summary.tables
    card = summary.scorecard
    assert card["validity"].to_list() == [1.0, 1.0, 1.0]


def test_a_viewer_cannot_reprocess(engine: sa.engine.Engine, tmp_path: Path) -> None:
    with pytest.raises(PermissionError):
        st.reprocess(engine, "viewer", write_tiny_extract(tmp_path / "tiny"))
    assert st.read_audit(engine).load_runs.height == 0


# --- check --db ----------------------------------------------------------------------------


def _args(url: str, fmt: str = "json", docs: Path | None = None) -> argparse.Namespace:
    return argparse.Namespace(db=url, docs_dir=docs, as_of=None, format=fmt, directory=None)


def test_check_db_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 2: no such database file (a typo must not create an empty database)
    missing = tmp_path / "missing.duckdb"
    assert cli_check_db(_args(f"duckdb:///{missing}", docs=tmp_path / "docs0")) == 2
    assert "does not exist" in json.loads(capsys.readouterr().out)["error"] and not missing.exists()
    # 2: the database holds no dashboard schema
    empty = tmp_path / "empty.duckdb"
    store.make_engine(f"duckdb:///{empty}").connect().close()
    assert cli_check_db(_args(f"duckdb:///{empty}", docs=tmp_path / "docs0")) == 2
    assert "no dashboard schema" in json.loads(capsys.readouterr().out)["error"]
    # 2: the server cannot be reached
    assert cli_check_db(_args("postgresql://postgres@127.0.0.1:1/none", docs=tmp_path / "docs0")) == 2
    capsys.readouterr()

    # 1: the tiny messy extract, loaded
    url = f"duckdb:///{tmp_path / 'tiny.duckdb'}"
    engine = store.make_engine(url)
    ingest.load_extract(write_tiny_extract(tmp_path / "tiny"), engine)
    engine.dispose()
    assert cli_check_db(_args(url, docs=tmp_path / "docs")) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["open_quarantine"] == {"agencies": 1, "participants": 2, "supervision_events": 3}
    assert out["expectation_failures"] == [] and out["integrity_failures"] == []
    assert out["data_docs"] and Path(out["data_docs"]).exists()


def test_check_db_is_clean_after_the_fixes_and_records_itself(engine: sa.engine.Engine, tmp_path: Path) -> None:
    good = tmp_path / "good"
    write_tiny_extract(good)
    for name, (old, new) in FIXES.items():
        path = good / name
        path.write_text(path.read_text().replace(old, new), encoding="utf-8")
    p = good / "participants.csv"
    p.write_text(p.read_text().replace(",,,7,,", ",,,17,,"), encoding="utf-8")
    e = good / "supervision_events.csv"
    e.write_text(e.read_text().replace("curfew_check,yes", "curfew_check,true"), encoding="utf-8")
    report = ingest.load_extract(good, engine)
    assert report.total_rejected == 0
    result = st.check_database(engine, thresholds=RELAXED)
    assert (result.exit_code, result.cross_load, result.warnings) == (0, [], {}), result.to_text()
    assert result.rows_checked["supervision_events"] == 6
    runs = st.read_audit(engine).load_runs
    assert runs["kind"].to_list() == ["load", "check"]
    # A warning on a loaded row (an event five days before N1's enrollment on 2026-01-10) is
    # listed, but, as for `load`, does not change the exit code: the row passed.
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "supervision_events.csv").write_text(
        EVENTS.splitlines()[0] + "\nE7,N1,A1,2026-01-05,drug_test,true,compliant\n", encoding="utf-8")
    (extra / "AS_OF").write_text("2026-06-30\n", encoding="utf-8")
    assert ingest.load_extract(extra, engine).total_rejected == 0
    result = st.check_database(engine, thresholds=RELAXED, record=False)
    assert (result.exit_code, result.warnings, result.cross_load) == (
        0, {"supervision_events warn:before_enrollment": 1}, []), result.to_text()


def test_check_db_sees_bad_rows_that_reached_the_database(engine: sa.engine.Engine) -> None:
    """Rows written around the loader (by hand, or by an older version) are caught."""
    with engine.begin() as conn:
        store.bulk_upsert(conn, "agencies", pl.DataFrame(
            {"agency_id": ["A1"], "agency_name": ["X"], "agency_type": ["police"], "jurisdiction": [None]}))
        store.bulk_upsert(conn, "programs", pl.DataFrame(
            {"program_id": ["P1"], "program_name": ["Pilot"], "program_model": ["release_planning"],
             "lead_agency_id": ["A1"], "start_date": [dt.date(2027, 1, 1)], "end_date": [dt.date(2026, 1, 1)],
             "grant_id": [None]}))
    if engine.dialect.name == "duckdb":  # PostgreSQL's declared foreign keys refuse the orphan
        with engine.begin() as conn:
            store.bulk_upsert(conn, "agreements", pl.DataFrame(
                {"agreement_id": ["G1"], "program_id": ["P9"], "agency_id": ["A1"], "agreement_type": ["mou"],
                 "signed_date": [dt.date(2026, 1, 1)], "expires_date": [None]}))
    result = st.check_database(engine, as_of=dt.date(2026, 6, 30), record=False)
    assert result.exit_code == 1
    failures = {(f["table"], f["rule"]): f["rows"] for f in result.expectation_failures}
    assert failures == {
        ("agencies", "enum:agency_type"): 1,
        ("programs", "after_as_of:start_date"): 1,
        ("programs", "date_order:end_date>=start_date"): 1,
    }
    if engine.dialect.name == "duckdb":
        assert result.integrity_failures == [{"table": "agreements", "rule": "fk:program_id", "rows": 1}]
