"""Loading: each rule rejects its row with its reason while the good rows load;
normal forms; duplicates; idempotence; atomicity; both databases; CLI."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from dashboard import store
from dashboard.commands.load import cli_check, cli_load
from dashboard.ingest import check_extract, load_extract

AS_OF = dt.date(2025, 6, 30)

AGENCIES = """agency_id,agency_name,agency_type,jurisdiction
A1,County Probation,probation,North
A2,City Police,law_enforcement,
A3,Hope Housing,reentry_provider,
"""
PROGRAMS = """program_id,program_name,program_model,lead_agency_id,start_date,end_date,grant_id
PR1,Reentry Bridge,reentry_law_enforcement,A1,2023-01-01,2027-12-31,G-1
"""
PARTICIPANTS_HEADER = (
    "participant_id,program_id,supervising_agency_id,cohort,enrollment_date,release_date,"
    "reentry_plan_date,supervision_type,risk_level,sex,race_ethnicity,age_at_enrollment,exit_date,exit_reason\n"
)
GOOD_PARTICIPANT = "P1,PR1,A1,pilot,2024-01-10,,,probation,low,female,,34,,\n"
EVENTS_HEADER = "event_id,participant_id,agency_id,event_date,event_type,required,outcome\n"
GOOD_EVENT = "E1,P1,A1,2024-02-01,home_visit,true,compliant\n"


def write_extract(directory: Path, files: dict[str, str], as_of: dt.date | None = AS_OF) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / f"{name}.csv").write_text(text, encoding="utf-8")
    if as_of is not None:
        (directory / "AS_OF").write_text(as_of.isoformat() + "\n")
    return directory


def base_files(**extra: str) -> dict[str, str]:
    files = {"agencies": AGENCIES, "programs": PROGRAMS}
    files.update(extra)
    return files


def table(engine: sa.engine.Engine, name: str) -> pl.DataFrame:
    with store.connect(engine) as conn:
        key = store.METADATA.tables[name].primary_key.columns.keys()
        return store.read_table(conn, name).sort(key)


def quarantined(engine: sa.engine.Engine, name: str) -> dict[int, list[str]]:
    with store.connect(engine) as conn:
        q = store.read_table(conn, "quarantine").filter(pl.col("table_name") == name)
    return {line: json.loads(rules) for line, rules in q.select("line_number", "rules").rows()}


# --- each rule rejects its row; the good rows of the same file load -----------------------------

# (participants row, the rules it breaks); line numbers: header 1, good row 2, bad row 3
PARTICIPANT_CASES = [
    ("P2,PR1,A1,pilot,,,,probation,low,,,,,", ["required:enrollment_date"]),
    ("P2,PR1,A1,pilot,2024/03/05,,,probation,low,,,,,", ["date_format:enrollment_date"]),
    ("P2,PR1,A1,pilot,2024-1-5,,,probation,low,,,,,", ["date_format:enrollment_date"]),
    ("P2,PR1,A1,pilot,20240305,,,probation,low,,,,,", ["date_format:enrollment_date"]),
    ("P2,PR1,A1,pilot,2024-03-05 10:00,,,probation,low,,,,,", ["date_format:enrollment_date"]),
    ("P2,PR1,A1,pilot,2024-02-30,,,probation,low,,,,,", ["date_format:enrollment_date"]),
    ("P2,PR1,A1,pilot,0000-06-24,,,probation,low,,,,,", ["date_format:enrollment_date"]),  # no year 0
    ("P2,PR1,A1,treatment,2024-03-05,,,probation,low,,,,,", ["enum:cohort"]),
    ("P2,PR1,A1,pilot,2024-03-05,,,probation,low,robot,,,,", ["enum:sex"]),
    ("P2,PR1,A1,pilot,2024-03-05,,,probation,low,,,34.5,,", ["int_format:age_at_enrollment"]),
    ("P2,PR1,A1,pilot,2024-03-05,,,probation,low,,,+34,,", ["int_format:age_at_enrollment"]),
    ("P2,PR1,A1,pilot,2024-03-05,,,probation,low,,,3.4e1,,", ["int_format:age_at_enrollment"]),
    ("P2,PR1,A1,pilot,2024-03-05,,,probation,low,,,41y,,", ["int_format:age_at_enrollment"]),
    ("P2,PR1,A1,pilot,2024-03-05,,,probation,low,,,9,,", ["range:age_at_enrollment"]),
    ("P2,PR1,A1,pilot,2024-03-05,,,probation,low,,,101,,", ["range:age_at_enrollment"]),
    ("P2,PR1,A1,pilot,2025-07-01,,,probation,low,,,,,", ["after_as_of:enrollment_date"]),
    ("P2,PR1,A1,pilot,2024-03-05,,,probation,low,,,,2024-03-01,completed", ["date_order:exit_date>=enrollment_date"]),
    ("P2,PR1,A1,pilot,2024-03-05,,,probation,low,,,,2024-04-01,", ["required_when:exit_reason:exit_date=set"]),
    ("P2,PR1,A1,pilot,2024-03-05,,,probation,low,,,,,completed", ["null_unless:exit_reason:exit_date=set"]),
    ("P2,PR9,A1,pilot,2024-03-05,,,probation,low,,,,,", ["fk:program_id"]),
    ("P2,PR1,A9,pilot,2024-03-05,,,probation,low,,,,,", ["fk:supervising_agency_id"]),
    ("P2,PR1,A1,,2024/03/05,,,probation,high,,,,,", ["required:cohort", "date_format:enrollment_date"]),
]


REFERRALS_HEADER = (
    "referral_id,participant_id,referring_agency_id,provider_agency_id,service_type,referral_date,"
    "accepted_date,service_start_date,completed_date,status\n"
)
REFERRAL_CASES = [
    ("R2,P1,A1,A3,housing,2024-03-01,,,,completed",
     ["required_when:accepted_date:status=accepted|in_service|completed",
      "required_when:service_start_date:status=in_service|completed",
      "required_when:completed_date:status=completed"]),
    ("R2,P1,A1,A3,housing,2024-03-01,2024-03-02,,,pending", ["null_when:accepted_date:status=pending"]),
    ("R2,P1,A1,A3,housing,2024-03-01,2024-03-02,2024-03-03,2024-03-04,in_service",
     ["null_unless:completed_date:status=completed"]),
    ("R2,P1,A1,A3,housing,2024-03-01,2024-02-01,2024-03-03,,in_service", ["date_order:accepted_date>=referral_date",
                                                                       ]),
    ("R2,P1,A1,A3,housing,2024-03-01,2024-03-05,2024-03-04,,in_service", ["date_order:service_start_date>=accepted_date"]),
    ("R2,P1,A1,A3,housing,2024-03-01,2024-03-02,2024-03-03,2024-03-01,completed",
     ["date_order:completed_date>=service_start_date"]),
    ("R2,P1,A1,A9,housing,2024-03-01,,,,declined", ["fk:provider_agency_id"]),
    ("R2,P1,A1,A3,haircut,2024-03-01,,,,declined", ["enum:service_type"]),
]


@pytest.fixture(scope="module")
def one_bad_row_per_rule(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, sa.engine.Engine]:
    """One extract holding every bad row of the cases above next to good rows, loaded once.

    participants.csv: line 2 is the good P1, line 3 + i is PARTICIPANT_CASES[i] (id Xi);
    referrals.csv: line 2 is the good R1, line 3 + i is REFERRAL_CASES[i] (id Ri).
    """
    tmp = tmp_path_factory.mktemp("rules")
    participants = PARTICIPANTS_HEADER + GOOD_PARTICIPANT + "".join(
        f"X{i}," + row.split(",", 1)[1] + "\n" for i, (row, _) in enumerate(PARTICIPANT_CASES)
    )
    referrals = REFERRALS_HEADER + "R1,P1,A1,A3,housing,2024-03-01,,,,pending\n" + "".join(
        f"R{i}x," + row.split(",", 1)[1] + "\n" for i, (row, _) in enumerate(REFERRAL_CASES)
    )
    files = base_files(
        participants=participants, supervision_events=EVENTS_HEADER + GOOD_EVENT, referrals=referrals
    )
    engine = store.make_engine(f"duckdb:///{tmp / 'rules.duckdb'}")
    report = load_extract(write_extract(tmp / "x", files), engine)
    return report, engine


@pytest.mark.parametrize("case", range(len(PARTICIPANT_CASES)), ids=[c[1][0] for c in PARTICIPANT_CASES])
def test_each_participant_rule_rejects_its_row_and_good_rows_load(one_bad_row_per_rule: tuple, case: int) -> None:
    report, engine = one_bad_row_per_rule
    assert table(engine, "participants")["participant_id"].to_list() == ["P1"]
    assert quarantined(engine, "participants")[3 + case] == PARTICIPANT_CASES[case][1]
    assert report.exit_code == 1


@pytest.mark.parametrize("case", range(len(REFERRAL_CASES)), ids=[c[1][0] for c in REFERRAL_CASES])
def test_each_referral_rule_rejects_its_row_and_good_rows_load(one_bad_row_per_rule: tuple, case: int) -> None:
    report, engine = one_bad_row_per_rule
    assert table(engine, "referrals")["referral_id"].to_list() == ["R1"]
    assert quarantined(engine, "referrals")[3 + case] == REFERRAL_CASES[case][1]


def test_reason_counts_add_up(one_bad_row_per_rule: tuple) -> None:
    report, _ = one_bad_row_per_rule
    participants = report.to_json()["tables"]["participants"]
    expected: dict[str, int] = {}
    for _, rules in PARTICIPANT_CASES:
        for rule in rules:
            expected[rule] = expected.get(rule, 0) + 1
    assert participants["reasons"] == dict(sorted(expected.items()))
    # 1 good row + one per case; every case rejected
    assert (participants["loaded"], participants["rejected"]) == (1, len(PARTICIPANT_CASES))


def test_bool_format_and_missing_column_and_cascade(duckdb_engine: sa.engine.Engine, tmp_path: Path) -> None:
    # programs lacks program_model: the whole file is rejected (1 row), so participant P1
    # (program PR1) is rejected parent_rejected:program_id, and its event in turn
    # parent_rejected:participant_id. Event E2 has required = "yes" (bool_format).
    programs = "program_id,program_name,lead_agency_id,start_date\nPR1,Reentry Bridge,A1,2023-01-01\n"
    files = {
        "agencies": AGENCIES,
        "programs": programs,
        "participants": PARTICIPANTS_HEADER + GOOD_PARTICIPANT,
        "supervision_events": EVENTS_HEADER + GOOD_EVENT + "E2,P1,A1,2024-02-01,home_visit,yes,compliant\n",
    }
    report = load_extract(write_extract(tmp_path / "x", files), duckdb_engine)
    tables = report.to_json()["tables"]
    assert tables["programs"] == {
        "rows_read": 1, "loaded": 0, "rejected": 1, "duplicates_dropped": 0, "warnings": 0,
        "file_rejected": True, "missing_columns": ["program_model"], "reasons": {"missing_column": 1},
    }
    assert quarantined(duckdb_engine, "participants") == {2: ["parent_rejected:program_id"]}
    assert quarantined(duckdb_engine, "supervision_events") == {
        2: ["parent_rejected:participant_id"],
        3: ["bool_format:required", "parent_rejected:participant_id"],
    }
    assert table(duckdb_engine, "agencies").height == 3
    assert report.exit_code == 1


def test_nothing_loadable_exits_2(duckdb_engine: sa.engine.Engine, tmp_path: Path) -> None:
    files = {"agencies": "agency_id,agency_name\nA1,X\n"}
    report = load_extract(write_extract(tmp_path / "x", files), duckdb_engine)
    assert report.exit_code == 2
    assert report.to_json()["tables"]["agencies"]["missing_columns"] == ["agency_type"]


# --- normal forms -------------------------------------------------------------------------------


def test_case_and_whitespace_variants_load_as_their_normal_form(duckdb_engine: sa.engine.Engine, tmp_path: Path) -> None:
    nbsp = "\u00a0"
    agencies = (
        "\ufeff Agency_ID ,AGENCY_NAME,agency_type,Jurisdiction,Notes\n"
        f"{nbsp}A1{nbsp}, County Probation ,PROBATION,  ,x\n"
        "A2,City Police,Law_Enforcement,,\n"
        "A3,Hope Housing,reentry_provider,,\n"
    )
    participants = PARTICIPANTS_HEADER + " P1 ,PR1,A1, Pilot ,2024-01-10,,,PROBATION,Low,,,34.00,,\n"
    events = EVENTS_HEADER + "E1,P1,A1,2024-02-01,HOME_VISIT,TRUE,compliant\nE2,P1,A1,2024-02-02,home_visit,0,Missed\n"
    files = {"agencies": agencies, "programs": PROGRAMS, "participants": participants, "supervision_events": events}
    report = load_extract(write_extract(tmp_path / "x", files), duckdb_engine)
    assert report.exit_code == 0, report.to_text()
    agencies_got = table(duckdb_engine, "agencies")
    assert agencies_got.row(0) == ("A1", "County Probation", "probation", None)
    assert agencies_got["agency_type"].to_list() == ["probation", "law_enforcement", "reentry_provider"]
    p = table(duckdb_engine, "participants").row(0, named=True)
    assert (p["participant_id"], p["cohort"], p["supervision_type"], p["risk_level"], p["age_at_enrollment"]) == (
        "P1", "pilot", "probation", "low", 34,
    )
    events_got = table(duckdb_engine, "supervision_events")
    assert events_got["required"].to_list() == [True, False]
    assert events_got["outcome"].to_list() == ["compliant", "missed"]
    # the unknown column is one warning, on the header line
    assert report.to_json()["tables"]["agencies"]["warnings"] == 1


def test_parquet_and_xlsx_date_cells_are_dates(duckdb_engine: sa.engine.Engine, tmp_path: Path) -> None:
    directory = write_extract(tmp_path / "x", {"agencies": AGENCIES})
    pl.DataFrame(
        {
            "program_id": ["PR1", "PR2"], "program_name": ["A", "B"],
            "program_model": ["release_planning", "release_planning"], "lead_agency_id": ["A1", "A1"],
            "start_date": [dt.date(2023, 1, 1), dt.date(2023, 2, 1)], "end_date": [None, dt.date(2022, 1, 1)],
        },
        schema_overrides={"end_date": pl.Date},
    ).write_parquet(directory / "programs.parquet")
    pl.DataFrame(
        {
            "agreement_id": ["G1", "G2"], "program_id": ["PR1", "PR1"], "agency_id": ["A2", "A3"],
            "agreement_type": ["MOU", "moa"],
            "signed_date": [dt.datetime(2023, 3, 1), dt.datetime(2023, 3, 1, 9, 30)],
        }
    ).write_excel(directory / "agreements.xlsx")
    report = load_extract(directory, duckdb_engine)
    assert table(duckdb_engine, "programs")["program_id"].to_list() == ["PR1"]
    assert quarantined(duckdb_engine, "programs") == {3: ["date_order:end_date>=start_date"]}
    got = table(duckdb_engine, "agreements")
    assert got.select("agreement_id", "agreement_type", "signed_date").rows() == [("G1", "mou", dt.date(2023, 3, 1))]
    # a date cell with a time of day is not a date
    assert quarantined(duckdb_engine, "agreements") == {3: ["date_format:signed_date"]}
    assert report.exit_code == 1


# --- duplicates, idempotence, resolution ----------------------------------------------------------


def test_identical_duplicates_collapse_and_conflicting_ones_are_all_rejected(
    duckdb_engine: sa.engine.Engine, tmp_path: Path
) -> None:
    agencies = AGENCIES + (
        "A1, County Probation ,PROBATION,North\n"  # line 5: same as line 2 after normalisation
        "A2,City Police Dept,law_enforcement,\n"  # line 6: differs from line 3
        "A3,,reentry_provider,\n"  # line 7: invalid copy, rejected for its own rule
    )
    report = load_extract(write_extract(tmp_path / "x", {"agencies": agencies}), duckdb_engine)
    got = report.to_json()["tables"]["agencies"]
    # 6 rows read = 2 loaded (A1 once, A3) + 3 rejected (A2 twice, A3's empty name) + 1 dropped
    assert (got["rows_read"], got["loaded"], got["rejected"], got["duplicates_dropped"]) == (6, 2, 3, 1)
    assert table(duckdb_engine, "agencies")["agency_id"].to_list() == ["A1", "A3"]
    assert quarantined(duckdb_engine, "agencies") == {
        3: ["duplicate_key_conflict"], 6: ["duplicate_key_conflict"], 7: ["required:agency_name"],
    }
    with store.connect(duckdb_engine) as conn:
        issues = store.read_table(conn, "load_issues")
    assert issues.select("line_number", "rule", "record_key").rows() == [(5, "duplicate_dropped", "A1")]


def test_reloading_changes_nothing_and_resolves_quarantine(engine: sa.engine.Engine, tmp_path: Path) -> None:
    bad = PARTICIPANTS_HEADER + GOOD_PARTICIPANT + "P2,PR1,A1,pilot,2024/03/05,,,probation,low,,,,,\n"
    files = base_files(participants=bad, supervision_events=EVENTS_HEADER + GOOD_EVENT)
    directory = write_extract(tmp_path / "x", files)
    first = load_extract(directory, engine)
    snapshot = {name: table(engine, name) for name in ("agencies", "programs", "participants", "supervision_events")}
    second = load_extract(directory, engine)
    assert first.to_json() == second.to_json()
    for name, frame in snapshot.items():
        assert table(engine, name).equals(frame), name
    # the partner fixes P2: the next load resolves both earlier quarantine rows
    fixed = write_extract(tmp_path / "y", base_files(
        participants=PARTICIPANTS_HEADER + "P2,PR1,A1,pilot,2024-03-05,,,probation,low,,,,,\n"))
    third = load_extract(fixed, engine)
    assert third.exit_code == 0
    with store.connect(engine) as conn:
        q = store.read_table(conn, "quarantine")
        runs = store.read_table(conn, "load_runs")
        files_audit = store.read_table(conn, "load_files")
    assert q.height == 2 and q["resolved_run_id"].to_list() == [third.run_id, third.run_id]
    assert runs.height == 3 and sorted(runs["exit_code"].to_list()) == [0, 1, 1]
    assert files_audit.filter(pl.col("run_id") == first.run_id).height == 4
    assert all(len(s) == 64 for s in files_audit["sha256"].to_list())


def test_same_extract_gives_same_tables_on_both_databases(engine: sa.engine.Engine) -> None:
    from conftest import SAMPLE_DIR

    report = load_extract(SAMPLE_DIR, engine)
    assert report.exit_code == 0
    # golden values computed from the committed sample's manifest row counts
    manifest = json.loads((SAMPLE_DIR / "manifest.json").read_text())["generator"]["rows"]
    for name, rows in manifest.items():
        frame = table(engine, name)
        assert frame.height == rows
        # a content fingerprint that must be identical on DuckDB and PostgreSQL
        digest = frame.hash_rows(seed=1).sum()
        assert digest == _sample_fingerprint(name), name


_FINGERPRINTS: dict[str, int] = {}


def _sample_fingerprint(name: str) -> int:
    """The fingerprint of the sample table read straight from the CSV files with the loader's
    normalisation (a second path that does not touch any database)."""
    from conftest import SAMPLE_DIR

    if name not in _FINGERPRINTS:
        from dashboard import contract, readers, validation

        t = contract.TABLES_BY_NAME[name]
        delivered = readers.read_file(name, readers.find_files(SAMPLE_DIR)[name])
        frame = validation.load_frame(t, validation.validation_frame(t, delivered.contract_frame()))
        _FINGERPRINTS[name] = frame.sort(list(t.key_columns)).hash_rows(seed=1).sum()
    return _FINGERPRINTS[name]


# --- atomicity ----------------------------------------------------------------------------------


def test_an_exception_mid_load_leaves_nothing(engine: sa.engine.Engine, tmp_path: Path) -> None:
    files = base_files(participants=PARTICIPANTS_HEADER + GOOD_PARTICIPANT, supervision_events=EVENTS_HEADER + GOOD_EVENT)
    directory = write_extract(tmp_path / "x", files)

    def fail_after_participants(message: str) -> None:
        if message.startswith("participants:"):
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        load_extract(directory, engine, progress=fail_after_participants)
    for name in ("agencies", "programs", "participants", "load_runs", "load_files", "quarantine", "load_issues"):
        assert table(engine, name).height == 0, name


def test_a_failed_write_stops_the_load_and_leaves_nothing(
    engine: sa.engine.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes run in the loader's writer thread: an error there (here: the database
    refusing supervision events, after participants were written) still reaches
    the caller and rolls the whole load back."""
    from dashboard import store

    files = base_files(participants=PARTICIPANTS_HEADER + GOOD_PARTICIPANT, supervision_events=EVENTS_HEADER + GOOD_EVENT)
    directory = write_extract(tmp_path / "x", files)
    real = store.bulk_upsert
    written: list[str] = []

    def refuse_events(conn, table_name, rows):  # type: ignore[no-untyped-def]
        if table_name == "supervision_events":
            raise RuntimeError("simulated database error")
        real(conn, table_name, rows)
        written.append(table_name)

    monkeypatch.setattr(store, "bulk_upsert", refuse_events)
    with pytest.raises(RuntimeError, match="simulated database error"):
        load_extract(directory, engine)
    assert "participants" in written
    monkeypatch.setattr(store, "bulk_upsert", real)
    for name in ("agencies", "programs", "participants", "load_runs", "load_files", "quarantine", "load_issues"):
        assert table(engine, name).height == 0, name


def test_a_killed_load_leaves_the_database_as_before(engine: sa.engine.Engine, tmp_path: Path) -> None:
    # a first load commits one agency; a second load is killed after writing its programs
    write_extract(tmp_path / "before", {"agencies": "agency_id,agency_name,agency_type\nA0,Old,court\n"})
    load_extract(tmp_path / "before", engine)
    directory = write_extract(tmp_path / "x", base_files(participants=PARTICIPANTS_HEADER + GOOD_PARTICIPANT))
    marker = tmp_path / "inside-transaction"
    url = engine.url.render_as_string(hide_password=False)
    script = textwrap.dedent(
        f"""
        import pathlib, time
        from dashboard import store
        from dashboard.ingest import load_extract

        def pause(message):
            if message.startswith("programs:"):
                pathlib.Path({str(marker)!r}).write_text("x")
                time.sleep(120)

        load_extract({str(directory)!r}, store.make_engine({url!r}), progress=pause)
        """
    )
    if engine.dialect.name == "duckdb":
        engine.dispose()  # the child needs the file's write lock
    child = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "GX_ANALYTICS_ENABLED": "false"})
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the loading process ended before the kill"
            assert time.monotonic() < deadline, "the loading process never reached the pause"
            time.sleep(0.1)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    assert table(engine, "agencies")["agency_id"].to_list() == ["A0"]
    assert table(engine, "programs").height == 0
    assert table(engine, "load_runs").height == 1


# --- as-of, manifest, errors, CLI ---------------------------------------------------------------


def test_as_of_comes_from_option_manifest_file_then_today(duckdb_engine: sa.engine.Engine, tmp_path: Path) -> None:
    future = "agency_id,agency_name,agency_type\nA1,X,court\n"
    programs = "program_id,program_name,program_model,lead_agency_id,start_date\nPR1,P,release_planning,A1,2025-03-01\n"
    d = write_extract(tmp_path / "x", {"agencies": future, "programs": programs}, as_of=dt.date(2025, 1, 1))
    assert check_extract(d, docs_dir=tmp_path / "docs").to_json()["tables"]["programs"]["reasons"] == {
        "after_as_of:start_date": 1
    }
    (d / "manifest.json").write_text(json.dumps({"contract_version": 1, "as_of": "2025-06-01"}))
    assert check_extract(d, docs_dir=tmp_path / "docs").exit_code == 0
    assert check_extract(d, as_of=dt.date(2025, 2, 1), docs_dir=tmp_path / "docs").exit_code == 1
    (d / "manifest.json").write_text(json.dumps({"contract_version": 3, "as_of": "2025-06-01"}))
    report = load_extract(d, duckdb_engine)
    assert report.exit_code == 2 and "contract version 3" in report.errors[0]
    assert "reads versions 1 or 2" in report.errors[0]
    assert table(duckdb_engine, "agencies").height == 0
    (d / "manifest.json").write_text(json.dumps({"contract_version": "1", "as_of": "2025-06-01"}))
    report = load_extract(d, duckdb_engine)
    assert report.exit_code == 2 and "write it as the number 1" in report.errors[0]
    assert table(duckdb_engine, "agencies").height == 0


def _args(directory: Path, db: str | None, fmt: str, **kw: object) -> argparse.Namespace:
    return argparse.Namespace(directory=directory, db=db, as_of=None, format=fmt, **kw)


def test_cli_json_shape_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cli.duckdb")
    good = write_extract(tmp_path / "good", base_files())
    assert cli_load(_args(good, db, "json")) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"as_of", "exit_code", "tables"} and out["as_of"] == "2025-06-30"
    assert set(out["tables"]["agencies"]) == {
        "rows_read", "loaded", "rejected", "duplicates_dropped", "warnings", "file_rejected", "missing_columns", "reasons",
    }
    bad = write_extract(tmp_path / "bad", {"agencies": AGENCIES + "A4,,court,\n"})
    assert cli_load(_args(bad, db, "text")) == 1
    text = capsys.readouterr().out
    assert "agency_name is required but empty" in text and "agencies.csv:5" in text
    assert cli_load(_args(tmp_path / "nowhere", db, "json")) == 2
    captured = capsys.readouterr()
    assert "no such directory" in captured.err and json.loads(captured.out)["exit_code"] == 2
    (tmp_path / "empty").mkdir()
    assert cli_load(_args(tmp_path / "empty", db, "text")) == 2
    assert "no contract files" in capsys.readouterr().err
    assert cli_check(_args(bad, None, "json", docs_dir=tmp_path / "docs")) == 1
    assert json.loads(capsys.readouterr().out)["tables"]["agencies"]["reasons"] == {"required:agency_name": 1}
