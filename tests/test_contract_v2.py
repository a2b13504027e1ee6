"""Contract version 2: the four new tables load under every rule of the contract, on both databases.

Each rule is shown with a row that breaks it (and the reason a steward reads)
next to rows that must load; the staffing key is two columns; decimals are
exact; a database made by revision 0003 upgrades in place; a version 1
extract loads as before.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")
import sqlalchemy as sa

from dashboard import contract, migrate, readers, store
from dashboard.ingest import check_extract, load_extract
from dashboard.metrics.tables import Tables, load_tables, resolve_as_of
from test_ingest import AGENCIES, GOOD_PARTICIPANT, PARTICIPANTS_HEADER, PROGRAMS, quarantined, table, write_extract

AS_OF = dt.date(2025, 6, 30)
# P1 enrolled 2024-01-10, never exited; P2 enrolled 2024-02-01, exited 2024-12-31.
PARTICIPANTS = PARTICIPANTS_HEADER + GOOD_PARTICIPANT + "P2,PR1,A1,comparison,2024-02-01,,,parole,high,male,,40,2024-12-31,completed\n"
COSTS_HEADER = "cost_id,program_id,period_start,period_end,amount,category\n"
STAFFING_HEADER = "agency_id,month,officers_fte\n"
CHECKS_HEADER = "check_id,participant_id,agency_id,check_date,employment,housing\n"
SURVEYS_HEADER = "response_id,survey_date,respondent_type,question,score,program_id,agency_id,participant_id\n"


def v2_extract(directory: Path, **files: str) -> Path:
    return write_extract(directory, {"agencies": AGENCIES, "programs": PROGRAMS, "participants": PARTICIPANTS, **files})


def reasons_in_words(engine: sa.engine.Engine, name: str) -> dict[int, str]:
    with store.connect(engine) as conn:
        q = store.read_table(conn, "quarantine").filter(pl.col("table_name") == name)
    return dict(q.select("line_number", "reasons").rows())


# --- the decimal rule ---------------------------------------------------------------------------

# line 2.. of program_costs.csv: (amount as written, loads?)
AMOUNTS = [
    ("12", True), ("12.5", True), ("12.50", True), ("0", True), (" 7.05 ", True),
    ("-3", False), ("+3", False), ("1e3", False), ("1,200", False), ("$12", False), ("12.505", False),
    ("12.", False), (".5", False), ("7,50", False), ("12 EUR", False), ("1234567890123456789", False),
]
# what the quarantine says about each rejected form, after the rule itself
WHAT_IS_WRONG = {
    "-3": "'-3' has a minus sign (the value cannot be below 0)", "+3": "'+3' has a plus sign",
    "1e3": "'1e3' is written with an exponent", "1,200": "'1,200' has a thousands separator",
    "$12": "'$12' has a currency symbol or code", "12.505": "'12.505' has more than two decimal places",
    "12.": "'12.' ends with a point (write 12 or 12.0)", ".5": "'.5' has no digit before the point (write 0.5)",
    "7,50": "'7,50' has a decimal comma (write a point)", "12 EUR": "'12 EUR' has a currency symbol or code",
    "1234567890123456789": "'1234567890123456789' is too large (at most 16 digits before the point)",
}


def test_decimal_forms_load_or_are_rejected_with_what_is_wrong(engine: sa.engine.Engine, tmp_path: Path) -> None:
    lines = [f'C{i},PR1,2025-01-01,2025-03-31,"{text}",personnel\n' for i, (text, _) in enumerate(AMOUNTS)]
    report = load_extract(v2_extract(tmp_path / "x", program_costs=COSTS_HEADER + "".join(lines)), engine)
    got = report.to_json()["tables"]["program_costs"]
    bad = [text for text, ok in AMOUNTS if not ok]
    assert got["loaded"] == len(AMOUNTS) - len(bad)
    assert got["reasons"] == {"decimal_format:amount": len(bad)}
    rejected = quarantined(engine, "program_costs")
    assert set(rejected) == {i + 2 for i, (_, ok) in enumerate(AMOUNTS) if not ok}
    words = reasons_in_words(engine, "program_costs")
    for i, (text, ok) in enumerate(AMOUNTS):
        if ok:
            continue
        rule, detail = words[i + 2].split("\n")
        assert rule == contract.describe_rule("decimal_format:amount", "program_costs")
        assert detail == f"amount: {WHAT_IS_WRONG[text]}"
    for what in ("two decimal places", "no sign", "exponent", "thousands separator", "currency symbol", "below 0"):
        assert what in contract.describe_rule("decimal_format:amount", "program_costs")
    stored = table(engine, "program_costs")
    assert stored.schema["amount"] == pl.Decimal(18, 2)
    # hand check: 12 + 12.5 + 12.50 + 0 + 7.05 = 44.05, exactly
    assert stored["amount"].sum() == Decimal("44.05")
    assert sorted(stored["amount"].to_list()) == [Decimal(v) for v in ("0.00", "7.05", "12.00", "12.50", "12.50")]


def test_spreadsheet_numbers_are_numbers_with_at_most_two_places(tmp_path: Path) -> None:
    import xlsxwriter

    d = v2_extract(tmp_path / "x")
    book = xlsxwriter.Workbook(str(d / "staffing.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["agency_id", "month", "officers_fte"])
    values = [12.0, 12.5, 0.1 + 0.2, 12.505, -3.0, 1234567.89]
    for r, value in enumerate(values, start=1):
        sheet.write_string(r, 0, "A1")
        sheet.write_datetime(r, 1, dt.datetime(2024, r, 1), book.add_format({"num_format": "yyyy-mm-dd"}))
        sheet.write_number(r, 2, value)
    book.close()
    delivered = readers.read_file("staffing", d / "staffing.xlsx")
    # 0.1 + 0.2 is 0.30000000000000004 in binary floating point: a rounding error, not a third place
    assert delivered.raw["officers_fte"].to_list() == ["12", "12.50", "0.30", "12.505", "-3", "1234567.89"]
    report = check_extract(d, docs_dir=tmp_path / "docs").to_json()["tables"]["staffing"]
    assert report["loaded"] == 4 and report["reasons"] == {"decimal_format:officers_fte": 2}


def test_parquet_decimals_count_their_places_not_their_scale(tmp_path: Path) -> None:
    d = v2_extract(tmp_path / "x")
    pl.DataFrame(
        {
            "cost_id": ["C1", "C2", "C3"], "program_id": ["PR1"] * 3,
            "period_start": [dt.date(2025, 1, 1)] * 3, "period_end": [dt.date(2025, 3, 31)] * 3,
            "amount": [Decimal("12.500"), Decimal("3.000"), Decimal("12.505")], "category": [None] * 3,
        },
        schema_overrides={"amount": pl.Decimal(10, 3), "category": pl.String},
    ).write_parquet(d / "program_costs.parquet")
    report = check_extract(d, docs_dir=tmp_path / "docs").to_json()["tables"]["program_costs"]
    assert report["loaded"] == 2 and report["reasons"] == {"decimal_format:amount": 1}


# --- staffing: the two-column key ---------------------------------------------------------------


STAFFING = STAFFING_HEADER + (
    "A1,2024-03-01,2.5\n"      # 2 loads
    "A1,2024-04-01,3\n"        # 3 loads (first copy)
    "A1, 2024-04-01 ,3.00\n"   # 4 the same key and number: dropped duplicate
    "A2,2024-04-01,1\n"        # 5 conflict with line 6
    "A2,2024-04-01,2\n"        # 6 conflict with line 5
    "A2,2024-05-01,0\n"        # 7 loads: a vacancy month
    "A3,2024-04-02,1\n"        # 8 not the first day of a month
    "A3,2025-07-01,1\n"        # 9 after the as-of date
    "A9,2024-04-01,1\n"        # 10 no such agency
)


def test_staffing_duplicates_are_judged_on_agency_and_month(engine: sa.engine.Engine, tmp_path: Path) -> None:
    report = load_extract(v2_extract(tmp_path / "x", staffing=STAFFING), engine)
    got = report.to_json()["tables"]["staffing"]
    assert (got["rows_read"], got["loaded"], got["rejected"], got["duplicates_dropped"]) == (9, 3, 5, 1)
    assert got["reasons"] == {
        "duplicate_key_conflict": 2, "first_of_month:month": 1, "after_as_of:month": 1, "fk:agency_id": 1,
    }
    stored = table(engine, "staffing")
    assert stored.rows() == [
        ("A1", dt.date(2024, 3, 1), Decimal("2.50")),
        ("A1", dt.date(2024, 4, 1), Decimal("3.00")),
        ("A2", dt.date(2024, 5, 1), Decimal("0.00")),
    ]
    with store.connect(engine) as conn:
        q = store.read_table(conn, "quarantine").filter(pl.col("table_name") == "staffing").sort("line_number")
        issues = store.read_table(conn, "load_issues").filter(pl.col("table_name") == "staffing")
    # the quarantine's record key shows both parts of the key
    assert q["record_key"].to_list() == [
        "A2 | 2024-04-01", "A2 | 2024-04-01", "A3 | 2024-04-02", "A3 | 2025-07-01", "A9 | 2024-04-01",
    ]
    assert q["submitting_agency_id"].to_list() == ["A2", "A2", "A3", "A3", "A9"]
    assert issues.select("line_number", "record_key", "rule").rows() == [(4, "A1 | 2024-04-01", "duplicate_dropped")]
    assert "agency_id, month A1 | 2024-04-01" in issues["message"][0]


def test_a_fixed_staffing_row_resolves_its_quarantine_and_reloading_changes_nothing(
    engine: sa.engine.Engine, tmp_path: Path
) -> None:
    first = v2_extract(tmp_path / "x", staffing=STAFFING_HEADER + "A1,2024-03-01,2.5\nA1,2024-04-01,-2\n")
    assert load_extract(first, engine).exit_code == 1
    fixed = v2_extract(tmp_path / "y", staffing=STAFFING_HEADER + "A1,2024-03-01,2.5\nA1,2024-04-01,2\n")
    again = load_extract(fixed, engine)
    assert again.exit_code == 0
    with store.connect(engine) as conn:
        q = store.read_table(conn, "quarantine").filter(pl.col("table_name") == "staffing")
    assert q.select("record_key", pl.col("resolved_run_id") == again.run_id).rows() == [("A1 | 2024-04-01", True)]
    before = table(engine, "staffing")
    assert load_extract(fixed, engine).to_json()["tables"]["staffing"]["loaded"] == 2
    assert table(engine, "staffing").equals(before)
    assert before["officers_fte"].to_list() == [Decimal("2.50"), Decimal("2.00")]


# --- the other rules of the new tables ------------------------------------------------------------


def test_reintegration_checks_rules_and_window_warnings(engine: sa.engine.Engine, tmp_path: Path) -> None:
    checks = CHECKS_HEADER + (
        "K1,P1,A1,2024-06-01,full_time,\n"       # 2 loads: employment only
        "K2,P1,A1,2024-06-01,,Stable\n"          # 3 loads: housing only
        "K3,P1,A1,2024-06-01,, \n"               # 4 neither
        "K4,P1,A1,2023-12-01,unemployed,homeless\n"  # 5 loads, before P1's enrollment
        "K5,P2,A1,2025-02-01,part_time,stable\n"     # 6 loads, after P2's exit
        "K6,P9,A1,2024-06-01,part_time,stable\n"     # 7 no such participant
        "K7,P1,A1,2024-06-01,employed,stable\n"      # 8 employment not allowed
        "K8,P1,A1,2025-07-01,part_time,stable\n"     # 9 after the as-of date
    )
    report = load_extract(v2_extract(tmp_path / "x", reintegration_checks=checks), engine)
    got = report.to_json()["tables"]["reintegration_checks"]
    assert got["loaded"] == 4 and got["warnings"] == 2
    assert quarantined(engine, "reintegration_checks") == {
        4: ["at_least_one:employment|housing"], 7: ["fk:participant_id"], 8: ["enum:employment"],
        9: ["after_as_of:check_date"],
    }
    assert reasons_in_words(engine, "reintegration_checks")[4] == (
        "none of employment and housing is set; at least one is required"
    )
    with store.connect(engine) as conn:
        issues = store.read_table(conn, "load_issues").filter(pl.col("table_name") == "reintegration_checks")
    assert sorted(issues.select("record_key", "rule").rows()) == [
        ("K4", "warn:before_enrollment"), ("K5", "warn:after_exit"),
    ]
    assert table(engine, "reintegration_checks")["housing"].to_list() == [None, "stable", "homeless", "stable"]


def test_program_costs_period_rules(engine: sa.engine.Engine, tmp_path: Path) -> None:
    costs = COSTS_HEADER + (
        "C1,PR1,2025-04-01,2025-09-30,100,personnel\n"   # 2 loads: the period may run past the as-of date
        "C2,PR1,2025-04-01,2025-03-31,100,\n"            # 3 ends before it starts
        "C3,PR1,2025-07-01,2025-09-30,100,training\n"    # 4 starts after the as-of date
        "C4,PR1,2025-04-01,2025-04-01,100,salaries\n"    # 5 category not allowed
        "C5,PX,2025-04-01,2025-04-30,100,other\n"        # 6 no such program
    )
    load_extract(v2_extract(tmp_path / "x", program_costs=costs), engine)
    assert quarantined(engine, "program_costs") == {
        3: ["date_order:period_end>=period_start"], 4: ["after_as_of:period_start"], 5: ["enum:category"],
        6: ["fk:program_id"],
    }
    assert table(engine, "program_costs")["period_end"].to_list() == [dt.date(2025, 9, 30)]


def test_survey_rules_and_a_participant_rejected_upstream(engine: sa.engine.Engine, tmp_path: Path) -> None:
    participants = PARTICIPANTS + "P3,PR1,A1,pilot,2024-01-10,,,probation,extreme,,,,,\n"  # rejected: risk_level
    surveys = SURVEYS_HEADER + (
        "S1,2025-01-01,resident,trust,5,PR1,A2,\n"          # 2 loads
        "S2,2025-01-01,resident,trust,6,,,\n"               # 3 score 6
        "S3,2025-01-01,resident,safety,4,,,P1\n"            # 4 participant_id on a resident's answer
        "S4,2025-01-01,Participant,Safety,4.0,,,P1\n"       # 5 loads
        "S5,2025-01-01,participant,trust,3,,,P3\n"          # 6 P3 was rejected
        "S6,2025-01-01,staff,coordination,0,PR1,,\n"        # 7 score 0
        "S7,2025-01-01,partner,coordination,3,,A7,\n"       # 8 no such agency
    )
    files = {"agencies": AGENCIES, "programs": PROGRAMS, "participants": participants, "surveys": surveys}
    load_extract(write_extract(tmp_path / "x", files), engine)
    assert quarantined(engine, "surveys") == {
        3: ["range:score"], 4: ["null_unless:participant_id:respondent_type=participant"],
        6: ["parent_rejected:participant_id"], 7: ["range:score"], 8: ["fk:agency_id"],
    }
    words = reasons_in_words(engine, "surveys")
    assert words[3] == "score is outside 1..5"
    assert words[4] == "participant_id must be empty unless respondent_type is participant"
    assert table(engine, "surveys").select("response_id", "respondent_type", "question", "score").rows() == [
        ("S1", "resident", "trust", 5), ("S4", "participant", "safety", 4),
    ]


# --- both databases give the same quarantine --------------------------------------------------------


@pytest.mark.postgres
def test_messy_version_2_tables_quarantine_identically_on_both_databases(
    duckdb_engine: sa.engine.Engine, postgres_engine: sa.engine.Engine
) -> None:
    from conftest import MESSY_DIR

    names = [t.name for t in contract.TABLES if t.since == 2]
    frames = []
    for engine in (duckdb_engine, postgres_engine):
        report = load_extract(MESSY_DIR, engine)
        with store.connect(engine) as conn:
            q = store.read_table(conn, "quarantine").filter(pl.col("table_name").is_in(names))
            issues = store.read_table(conn, "load_issues").filter(pl.col("table_name").is_in(names))
        frames.append((
            {n: report.to_json()["tables"][n] for n in names},
            q.drop("run_id").sort("table_name", "line_number"),
            issues.drop("run_id").sort("table_name", "line_number", "rule"),
            {n: table(engine, n) for n in names},
        ))
    (report_a, q_a, issues_a, tables_a), (report_b, q_b, issues_b, tables_b) = frames
    assert report_a == report_b
    assert q_a.equals(q_b) and q_a.height == sum(r["rejected"] for r in report_a.values())
    assert issues_a.equals(issues_b)
    for name in names:
        assert tables_a[name].equals(tables_b[name]), name


def test_decimals_are_exact_in_the_database_and_in_tables(engine: sa.engine.Engine, tmp_path: Path) -> None:
    # 0.10 + 0.20 is 0.30 exactly (in binary floating point it is 0.30000000000000004)
    costs = COSTS_HEADER + "".join(
        f"C{i},PR1,2025-01-01,2025-01-31,{a},\n" for i, a in enumerate(["0.10", "0.20", "9999999999999999.99"])
    )
    load_extract(v2_extract(tmp_path / "x", program_costs=costs), engine)
    with store.connect(engine) as conn:
        total = conn.execute(sa.text("SELECT SUM(amount) FROM program_costs WHERE amount < 1")).scalar_one()
    assert Decimal(total) == Decimal("0.30")
    tables = load_tables(engine)
    assert tables.program_costs.schema["amount"] == pl.Decimal(18, 2)
    assert tables.program_costs.sort("cost_id")["amount"].to_list() == [
        Decimal("0.10"), Decimal("0.20"), Decimal("9999999999999999.99"),
    ]


# --- manifests, version 1 extracts, Tables --------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "loads", "message"),
    [
        (1, True, None), (2, True, None), (None, True, None),
        (3, False, "contract version 3, but this program reads versions 1 or 2"),
        ("2", False, "write it as the number 2"),
        (True, False, "contract version True"),
    ],
)
def test_manifest_versions(tmp_path: Path, version: object, loads: bool, message: str | None) -> None:
    d = v2_extract(tmp_path / "x", staffing=STAFFING_HEADER + "A1,2024-03-01,2.5\n")
    manifest: dict[str, object] = {"as_of": "2025-06-30"}
    if version is not None:
        manifest["contract_version"] = version
    (d / "manifest.json").write_text(json.dumps(manifest))
    report = check_extract(d, docs_dir=tmp_path / "docs")
    if loads:
        assert report.exit_code == 0 and report.to_json()["tables"]["staffing"]["loaded"] == 1
    else:
        assert report.exit_code == 2 and message in report.errors[0] and "nothing was loaded" in report.errors[0].lower()


def test_a_version_1_extract_loads_as_before_and_leaves_the_new_tables_empty(
    engine: sa.engine.Engine, tmp_path: Path
) -> None:
    d = write_extract(tmp_path / "x", {"agencies": AGENCIES, "programs": PROGRAMS, "participants": PARTICIPANTS})
    (d / "manifest.json").write_text(json.dumps({"contract_version": 1, "as_of": "2025-06-30"}))
    report = load_extract(d, engine).to_json()
    assert list(report["tables"]) == ["agencies", "programs", "participants"]
    tables = load_tables(engine)
    for t in contract.TABLES:
        if t.since == 2:
            frame = getattr(tables, t.name)
            assert frame.height == 0 and frame.columns == list(t.column_names), t.name
    # the default as-of date reads the version 1 dates only
    assert resolve_as_of(Tables.from_frames(participants=tables.participants), None) == dt.date(2024, 2, 1)


def test_tables_from_frames_types_the_new_tables() -> None:
    tables = Tables.from_frames(
        staffing=[{"agency_id": "A1", "month": "2024-03-01", "officers_fte": "2.5"}],
        program_costs=[{"cost_id": "C1", "amount": 12.5, "period_start": dt.date(2024, 1, 1)}],
        surveys=[{"response_id": "S1", "score": 4}],
        reintegration_checks=[{"check_id": "K1", "check_date": "2024-05-01"}],
    )
    # agency ids are categoricals in the loaded tables (docs/performance.md, "Memory, round 3")
    assert tables.staffing.schema == {
        "agency_id": pl.Categorical(), "month": pl.Date, "officers_fte": pl.Decimal(18, 2),
    }
    assert tables.staffing["officers_fte"][0] == Decimal("2.50")
    assert tables.program_costs.schema["amount"] == pl.Decimal(18, 2)
    assert tables.program_costs.schema["category"] == pl.String
    assert tables.surveys.schema["score"] == pl.Int64 and tables.surveys.schema["survey_date"] == pl.Date
    assert tables.reintegration_checks.schema["check_date"] == pl.Date
    # surveys and checks dated later do not move the default as-of date
    later = Tables.from_frames(
        participants=[{"participant_id": "P1", "enrollment_date": "2024-01-10"}],
        surveys=[{"response_id": "S1", "survey_date": "2025-05-01"}],
        reintegration_checks=[{"check_id": "K1", "check_date": "2025-05-01"}],
    )
    assert resolve_as_of(later, None) == dt.date(2024, 1, 10)


# --- migration 0004 ----------------------------------------------------------------------------------


def _upgrade_from_0003_keeps_rows_and_loads_version_2(engine: sa.engine.Engine, tmp_path: Path) -> None:
    migrate.upgrade(engine, "0003")
    assert not sa.inspect(engine).has_table("staffing")
    load_extract_v1 = write_extract(tmp_path / "v1", {"agencies": AGENCIES, "programs": PROGRAMS})
    # a version 1 load by the previous release: its rows go in straight through the store
    with engine.begin() as conn:
        from dashboard.readers import read_file
        from dashboard.validation import load_frame, validation_frame

        for name in ("agencies", "programs"):
            t = contract.TABLES_BY_NAME[name]
            delivered = read_file(name, load_extract_v1 / f"{name}.csv")
            store.bulk_upsert(conn, name, load_frame(t, validation_frame(t, delivered.contract_frame())))
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == "0005"
    assert table(engine, "agencies")["agency_id"].to_list() == ["A1", "A2", "A3"]
    report = load_extract(v2_extract(tmp_path / "v2", staffing=STAFFING_HEADER + "A1,2024-03-01,2.5\n"), engine)
    assert report.exit_code == 0
    assert table(engine, "staffing")["officers_fte"].to_list() == [Decimal("2.50")]
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0003")
    assert not sa.inspect(engine).has_table("staffing")
    assert sa.inspect(engine).has_table("participants")


def test_a_duckdb_database_of_revision_0003_upgrades_in_place(tmp_path: Path) -> None:
    engine = store.make_engine(f"duckdb:///{tmp_path / 'old.duckdb'}")
    try:
        _upgrade_from_0003_keeps_rows_and_loads_version_2(engine, tmp_path)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_postgresql_database_of_revision_0003_upgrades_in_place(postgres_url: str, tmp_path: Path) -> None:
    import uuid

    admin = sa.create_engine(store.normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    name = f"pd_v2_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = store.make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        _upgrade_from_0003_keeps_rows_and_loads_version_2(engine, tmp_path)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgresql_copy_sends_decimal_frames_as_text() -> None:
    """The binary COPY writer has no NUMERIC form: a frame with decimals goes the CSV path."""
    from dashboard import pgcopy

    frame = pl.DataFrame(
        {"agency_id": ["A1"], "month": [dt.date(2024, 3, 1)], "officers_fte": [Decimal("2.50")]},
        schema=store.polars_schema("staffing"),
    )
    sql_types = [c.type for c in store.METADATA.tables["staffing"].columns]
    assert pgcopy.plan(sql_types, frame) is None
    assert pgcopy.plan(sql_types[:2], frame.drop("officers_fte")) is not None


def test_the_check_levels_list_exactly_the_rules_of_every_table() -> None:
    """data_checks/levels.py lists each rule the loader can emit (the stewards' page reads it)."""
    from dashboard.validation import rule_expressions
    from data_checks.levels import default_checks

    for t in contract.TABLES:
        listed = {rule for rule, _ in default_checks(t.name) if not rule.startswith("warn:")}
        # file-level and cross-row rules: a missing or repeated column, conflicting copies of a key
        across = {"missing_column", "duplicate_column", "duplicate_key_conflict"} | {
            f"{kind}:{c.name}" for c in t.foreign_keys for kind in ("fk", "parent_rejected")
        }
        assert listed == set(rule_expressions(t, AS_OF)) | across, t.name
    assert ("decimal_format:amount", "error") in default_checks("program_costs")
