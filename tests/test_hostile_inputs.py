"""The hostile battery, ingest half: files a careless or hostile partner could
deliver, each with the exact outcome the loader must give.

Nothing may overwrite (two headers read as one column), crash (no traceback,
the exit codes of docs/stewardship.md), or load differently on the two
databases (a NUL character or an over-long value is quarantined by a contract
rule before either database sees it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from dashboard import contract, readers, store
from dashboard.arguments import EARLIEST_AS_OF, as_of_problem
from dashboard.cli import main
from dashboard.ingest import check_extract, load_extract

AS_OF = dt.date(2025, 6, 30)
AGENCIES = "agency_id,agency_name,agency_type,jurisdiction\nA1,County Probation,probation,North\nA2,City Police,law_enforcement,\n"
PROGRAMS = (
    "program_id,program_name,program_model,lead_agency_id,start_date,end_date,grant_id\n"
    "PR1,Reentry Bridge,reentry_law_enforcement,A1,2023-01-01,,G-1\n"
)


def extract(directory: Path, files: dict[str, str | bytes], as_of: dt.date | None = AS_OF) -> Path:
    """Write an extract: ``files`` maps file names (with their suffix) to text or bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (directory / name).write_bytes(data)
    if as_of is not None:
        (directory / "AS_OF").write_text(as_of.isoformat() + "\n")
    return directory


def rows(engine: sa.engine.Engine, name: str) -> pl.DataFrame:
    with store.connect(engine) as conn:
        return store.read_table(conn, name)


def quarantine(engine: sa.engine.Engine, name: str) -> pl.DataFrame:
    return rows(engine, "quarantine").filter(pl.col("table_name") == name).sort("line_number")


# --- header matching that cannot overwrite ------------------------------------------------------

PARTICIPANTS_PADDED = (
    # the case: a padded " Risk_Level " first, the real risk_level later
    " Risk_Level ,participant_id,program_id,cohort,enrollment_date,supervision_type,risk_level\n"
    "low,P1,PR1,pilot,2024-01-10,probation,high\n"
    "low,P2,PR1,comparison,2024-01-11,probation,moderate\n"
)


def test_two_headers_read_as_one_column_reject_the_file_on_both_databases(
    engine: sa.engine.Engine, tmp_path: Path
) -> None:
    files: dict[str, str | bytes] = {
        "agencies.csv": AGENCIES, "programs.csv": PROGRAMS, "participants.csv": PARTICIPANTS_PADDED,
    }
    report = load_extract(extract(tmp_path / "x", files), engine)
    # agencies (2 rows) and programs (1) load; both participant rows are rejected with the file
    assert report.exit_code == 1
    assert report.to_json()["tables"]["participants"] == {
        "rows_read": 2, "loaded": 0, "rejected": 2, "duplicates_dropped": 0, "warnings": 0,
        "file_rejected": True, "missing_columns": [], "reasons": {"duplicate_column": 2},
    }
    text = report.to_text()
    assert "' Risk_Level ' and 'risk_level' (both read as risk_level)" in text
    assert "every row passed" not in text
    assert rows(engine, "participants").height == 0
    q = quarantine(engine, "participants")
    assert q["line_number"].to_list() == [2, 3]
    assert [json.loads(r) for r in q["rules"]] == [["duplicate_column"], ["duplicate_column"]]
    assert "' Risk_Level ' and 'risk_level'" in q["reasons"][0]
    # the quarantine keeps both columns as delivered
    assert json.loads(q["raw_values"][0])[" Risk_Level "] == "low"
    assert rows(engine, "agencies").height == 2 and rows(engine, "programs").height == 1


def test_identical_repeated_csv_header_is_caught_although_the_reader_renames_it(tmp_path: Path) -> None:
    path = tmp_path / "agencies.csv"
    path.write_text("agency_id,agency_name,agency_type,AGENCY_NAME\nA1,One,court,Two\n", encoding="utf-8")
    delivered = readers.read_file("agencies", path)
    assert delivered.duplicate_columns == {"agency_name": ["agency_name", "AGENCY_NAME"]}
    path.write_text("agency_id,agency_name,agency_type,agency_name\nA1,One,court,Two\n", encoding="utf-8")
    assert readers.read_file("agencies", path).duplicate_columns == {"agency_name": ["agency_name", "agency_name"]}


def test_repeated_headers_in_xlsx_and_parquet(tmp_path: Path) -> None:
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["agency_id", "agency_type", "agency_name", "Agency_Name "])
    sheet.append(["A1", "court", "One", "Two"])
    workbook.save(tmp_path / "agencies.xlsx")
    assert readers.read_file("agencies", tmp_path / "agencies.xlsx").duplicate_columns == {
        "agency_name": ["agency_name", "Agency_Name "]
    }
    pq.write_table(
        pa.table({"agency_id": ["A1"], "agency_type": ["court"], "agency_name": ["One"], "AGENCY_NAME": ["Two"]}),
        tmp_path / "agencies.parquet",
    )
    assert readers.read_file("agencies", tmp_path / "agencies.parquet").duplicate_columns == {
        "agency_name": ["agency_name", "AGENCY_NAME"]
    }
    # two columns of exactly one name: polars refuses such a file; it is still read and rejected
    same = pa.table([pa.array(["A1"]), pa.array(["court"]), pa.array(["One"]), pa.array(["Two"])],
                    names=["agency_id", "agency_type", "agency_name", "agency_name"])
    pq.write_table(same, tmp_path / "programs.parquet")
    delivered = readers.read_file("agencies", tmp_path / "programs.parquet")
    assert delivered.duplicate_columns == {"agency_name": ["agency_name", "agency_name"]}
    assert delivered.height == 1


def test_repeated_unknown_headers_are_only_a_warning(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"agencies.csv": "agency_id,agency_name,agency_type,Notes,notes\nA1,One,court,x,y\n"}
    report = check_extract(extract(tmp_path / "x", files), docs_dir=tmp_path / "docs")
    assert report.exit_code == 0
    assert report.tables["agencies"].unknown_columns == ["Notes", "notes"]


# --- both databases quarantine the same rows ------------------------------------------------------

LONG_KEY = "K" * (contract.MAX_CODE_LENGTH + 1)  # 129 characters
LONGEST_KEY = "L" * contract.MAX_CODE_LENGTH  # 128: loads
AGENCIES_HOSTILE = (
    "agency_id,agency_name,agency_type,jurisdiction\n"
    "A1,County Probation,probation,North\n"  # line 2: loads
    "A2,City\x00Police,law_enforcement,\n"  # line 3: NUL in a name
    "A\x003,Hope Housing,reentry_provider,\n"  # line 4: NUL in the key
    f"{LONG_KEY},Too Long,court,\n"  # line 5: key of 129 characters
    f"{LONGEST_KEY},Longest,court,\n"  # line 6: key of 128 characters, loads
    f"A6,{'n' * (contract.MAX_TEXT_LENGTH + 1)},court,\n"  # line 7: name of 5,001 characters
    f"A7,{'n' * contract.MAX_TEXT_LENGTH},court,\n"  # line 8: name of 5,000 characters, loads
    "A8,Eight,court\x00,\n"  # line 9: NUL in an enum value: both the NUL and the list
)
PARTICIPANTS_HOSTILE = (
    "participant_id,program_id,supervising_agency_id,cohort,enrollment_date,supervision_type,risk_level\n"
    "P1,PR1,A1,pilot,2024-01-10,probation,low\n"  # line 2: loads
    f"P2,PR1,{LONG_KEY},pilot,2024-01-10,probation,low\n"  # line 3: over-long reference to a rejected agency
    "P3,PR1,A1,pilot\x00,2024-01-10,probation,low\n"  # line 4: NUL in the cohort
)


def test_nul_characters_and_over_long_values_are_quarantined_identically(
    engine: sa.engine.Engine, tmp_path: Path
) -> None:
    files: dict[str, str | bytes] = {
        "agencies.csv": AGENCIES_HOSTILE, "programs.csv": PROGRAMS, "participants.csv": PARTICIPANTS_HOSTILE,
    }
    report = load_extract(extract(tmp_path / "x", files), engine)
    assert report.exit_code == 1 and not report.errors
    assert sorted(rows(engine, "agencies")["agency_id"].to_list()) == ["A1", "A7", LONGEST_KEY]
    agencies = quarantine(engine, "agencies")
    assert dict(zip(agencies["line_number"], (json.loads(r) for r in agencies["rules"]))) == {
        3: ["nul_character:agency_name"],
        4: ["nul_character:agency_id"],
        5: ["too_long:agency_id"],
        7: ["too_long:agency_name"],
        9: ["nul_character:agency_type", "enum:agency_type"],
    }
    # keys the quarantine could not index on PostgreSQL are kept only in raw_values
    assert dict(zip(agencies["line_number"], agencies["record_key"])) == {
        3: "A2", 4: None, 5: None, 7: "A6", 9: "A8",
    }
    assert json.loads(agencies.filter(pl.col("line_number") == 4)["raw_values"][0])["agency_id"] == "A\x003"
    assert "contains a NUL character" in agencies["reasons"][0]
    assert "longer than 128 characters" in agencies.filter(pl.col("line_number") == 5)["reasons"][0]
    participants = quarantine(engine, "participants")
    assert dict(zip(participants["line_number"], (json.loads(r) for r in participants["rules"]))) == {
        3: ["too_long:supervising_agency_id", "parent_rejected:supervising_agency_id"],
        4: ["nul_character:cohort", "enum:cohort"],
    }
    assert participants["submitting_agency_id"].to_list() == [None, "A1"]
    assert rows(engine, "participants")["participant_id"].to_list() == ["P1"]
    assert report.to_json()["tables"]["agencies"]["reasons"] == {
        "enum:agency_type": 1, "nul_character:agency_id": 1, "nul_character:agency_name": 1,
        "nul_character:agency_type": 1, "too_long:agency_id": 1, "too_long:agency_name": 1,
    }


def test_a_nul_character_in_a_parquet_value_is_quarantined(tmp_path: Path) -> None:
    directory = extract(tmp_path / "x", {})
    pl.DataFrame(
        {"agency_id": ["A1", "A2"], "agency_name": ["One", "Two"], "agency_type": ["court", "court"],
         "jurisdiction": [None, "North\x00"]}
    ).write_parquet(directory / "agencies.parquet")
    report = check_extract(directory, docs_dir=tmp_path / "docs")
    assert report.to_json()["tables"]["agencies"]["reasons"] == {"nul_character:jurisdiction": 1}
    assert report.tables["agencies"].examples == {"nul_character:jurisdiction": [3]}


def test_a_huge_field_is_rejected_for_its_length_and_the_rest_loads(tmp_path: Path) -> None:
    huge = "x" * 2_000_000  # one 2 MB value
    files: dict[str, str | bytes] = {
        "agencies.csv": f"agency_id,agency_name,agency_type,jurisdiction\nA1,One,court,\nA2,Two,court,{huge}\n"
    }
    report = check_extract(extract(tmp_path / "x", files), docs_dir=tmp_path / "docs")
    assert report.exit_code == 1
    assert report.to_json()["tables"]["agencies"]["reasons"] == {"too_long:jurisdiction": 1}
    assert report.tables["agencies"].loaded == 1


def test_the_storage_rules_are_listed_with_their_words() -> None:
    from data_checks.levels import default_checks

    checks = dict(default_checks("agencies"))
    assert checks["nul_character:agency_type"] == "error" and checks["too_long:agency_id"] == "error"
    assert "too_long:agency_type" not in checks  # an enum is bounded by its list of values
    assert checks["duplicate_column"] == "error"
    assert contract.describe_rule("too_long:agency_name", "agencies") == "agency_name is longer than 5000 characters"
    assert contract.describe_rule("too_long:program_id", "participants") == "program_id is longer than 128 characters"


# --- empty or rejected files ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["agencies.csv", "agencies.xlsx", "agencies.parquet"])
def test_an_empty_file_is_rejected_as_a_whole_and_the_load_exits_1(
    duckdb_engine: sa.engine.Engine, tmp_path: Path, name: str
) -> None:
    report = load_extract(extract(tmp_path / "x", {name: b""}), duckdb_engine)
    assert report.exit_code == 1
    assert report.to_json()["tables"]["agencies"] == {
        "rows_read": 0, "loaded": 0, "rejected": 0, "duplicates_dropped": 0, "warnings": 0,
        "file_rejected": True, "missing_columns": ["agency_id", "agency_name", "agency_type"], "reasons": {},
    }
    text = report.to_text()
    assert "it is empty (no header row, no rows)" in text and "Exit code 1" in text
    assert "every row passed" not in text


def test_an_empty_file_beside_good_ones_exits_1_on_both_databases(engine: sa.engine.Engine, tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"agencies.csv": AGENCIES, "programs.csv": PROGRAMS, "referrals.csv": b"\n\n"}
    report = load_extract(extract(tmp_path / "x", files), engine)
    assert report.exit_code == 1 and report.tables["referrals"].file_empty
    assert rows(engine, "agencies").height == 2


def test_a_header_only_file_is_zero_rows_and_fine(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"agencies.csv": "agency_id,agency_name,agency_type\n"}
    report = check_extract(extract(tmp_path / "x", files), docs_dir=tmp_path / "docs")
    assert report.exit_code == 0 and report.tables["agencies"].rows_read == 0
    assert not report.tables["agencies"].file_rejected


# --- files: links, two files for one table, odd names --------------------------------------------------


def test_a_link_out_of_the_extract_is_refused_and_never_read(engine: sa.engine.Engine, tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("agency_id,agency_name\nSECRET-ROW,never in quarantine\n")
    directory = extract(tmp_path / "x", {"programs.csv": PROGRAMS})
    (directory / "agencies.csv").symlink_to(secret)
    report = load_extract(directory, engine)
    assert report.exit_code == 2 and report.tables == {}
    (error,) = report.errors
    assert "agencies.csv: this file is a symbolic link to" in error and "outside the extract folder" in error
    assert "it was not opened" in error
    assert rows(engine, "quarantine").height == 0 and rows(engine, "programs").height == 0


def test_a_link_inside_the_extract_is_followed(tmp_path: Path) -> None:
    directory = extract(tmp_path / "x", {})
    (directory / "versions").mkdir()
    (directory / "versions" / "agencies-v2.csv").write_text(AGENCIES)
    (directory / "agencies.csv").symlink_to(directory / "versions" / "agencies-v2.csv")
    report = check_extract(directory, docs_dir=tmp_path / "docs")
    assert report.exit_code == 0 and report.tables["agencies"].loaded == 2


def test_a_manifest_linked_from_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "manifest.json"
    outside.write_text('{"as_of": "2025-06-30"}')
    directory = extract(tmp_path / "x", {"agencies.csv": AGENCIES}, as_of=None)
    (directory / "manifest.json").symlink_to(outside)
    report = check_extract(directory, docs_dir=tmp_path / "docs")
    assert report.exit_code == 2 and "manifest.json: a symbolic link to" in report.errors[0]


@pytest.mark.parametrize(
    ("first", "second"),
    [("Agencies.CSV", "agencies.csv"), ("agencies.csv", "agencies.parquet"), ("agencies.csv", "AGENCIES.xlsx")],
)
def test_two_files_for_one_table_stop_the_load_naming_both(tmp_path: Path, first: str, second: str) -> None:
    directory = extract(tmp_path / "x", {first: AGENCIES, second: AGENCIES})
    report = check_extract(directory, docs_dir=tmp_path / "docs")
    assert report.exit_code == 2
    names = sorted([first, second])
    assert f"{names[0]} and {names[1]} are both files for the agencies table" in report.errors[0]


def test_odd_file_names_are_mentioned_or_ignored_never_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = extract(tmp_path / "x", {"agencies.csv": AGENCIES, "programs .csv": PROGRAMS, "~$agencies.xlsx": b"lock"})
    (directory / "participants.csv").mkdir()  # a folder with a table's name
    (directory / os.fsdecode(b"notes-\xff\xfe.csv")).write_text("x\n")  # a name that is not UTF-8
    (directory / "violations\n.csv").write_text("x\n")  # a line break in a name
    code = main(["check", str(directory), "--docs-dir", str(tmp_path / "docs")])
    out = capsys.readouterr().out
    assert code == 0
    assert "note: 'programs .csv' was not read: its name is not exactly programs.csv" in out
    assert "note: participants.csv was not read: it is not a regular file" in out
    assert "note: 'violations\\n.csv' was not read" in out
    assert "~$agencies" not in out  # Excel's lock file is no table


# --- encodings and broken files: a message naming the file and line, never a traceback -----------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("agency_id,agency_name,agency_type\nA1,One,court\n".encode("utf-16"),
         "agencies.csv: the file is encoded as UTF-16, not UTF-8. Open it and save it as UTF-8 text"),
        ("agency_id,agency_name,agency_type\nA1,One,court\n".encode("utf-16-le"),
         "agencies.csv: the file is encoded as UTF-16 (a zero byte between the letters), not UTF-8"),
        ("agency_id,agency_name,agency_type\nA1,One,court\n".encode("utf-32"),
         "agencies.csv: the file is encoded as UTF-32, not UTF-8"),
        ("agency_id,agency_name,agency_type\nA1,One,court\nA2,Caf\u00e9,court\n".encode("latin-1"),
         "agencies.csv: line 3: bytes 0xE9 are not UTF-8; the file is probably in Latin-1 or Windows-1252"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
         "agencies.csv: line 1: the file is not text (binary data, bytes 0x89)"),
        (b'agency_id,agency_name,agency_type\nA1,One,court\nA2,"Two,court\nA3,Three,court\n',
         "agencies.csv: line 3: a quoted value that starts on this line is never closed"),
        (b"agency_id,agency_name,agency_type\nA1,One,court\nA2,Two,court,extra\n",
         "agencies.csv: line 3: 4 fields where the header has 3"),
        (b"PK\x03\x04 not really a workbook", None),  # as .xlsx below
    ],
)
def test_unreadable_csv_files_name_the_file_the_line_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str | None
) -> None:
    if message is None:
        name, message = "agencies.xlsx", "agencies.xlsx: the file is not a readable Excel workbook"
    else:
        name = "agencies.csv"
    directory = extract(tmp_path / "x", {name: content})
    code = main(["check", str(directory), "--docs-dir", str(tmp_path / "docs")])
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_parquet_with_wrong_column_types(tmp_path: Path) -> None:
    directory = extract(tmp_path / "x", {})
    # a list column cannot be one value per cell: the file is refused with the column named
    pl.DataFrame({"agency_id": [["A1"]], "agency_name": ["One"], "agency_type": ["court"]}).write_parquet(
        directory / "agencies.parquet"
    )
    report = check_extract(directory, docs_dir=tmp_path / "docs")
    assert report.exit_code == 2
    assert "agencies.parquet: column 'agency_id' holds List(String) values (lists or records)" in report.errors[0]
    # a date column written as a number: each row is rejected for its format, the file is named per row
    pl.DataFrame(
        {"agency_id": ["A1"], "agency_name": ["One"], "agency_type": ["court"]}
    ).write_parquet(directory / "agencies.parquet")
    pl.DataFrame(
        {"program_id": ["PR1"], "program_name": ["Bridge"], "program_model": ["release_planning"],
         "lead_agency_id": ["A1"], "start_date": [19000]}
    ).write_parquet(directory / "programs.parquet")
    report = check_extract(directory, docs_dir=tmp_path / "docs")
    assert report.exit_code == 1  # the agency is valid; the one program row is rejected
    assert report.to_json()["tables"]["programs"]["reasons"] == {"date_format:start_date": 1}


def test_a_refused_extract_leaves_what_was_loaded(engine: sa.engine.Engine, tmp_path: Path) -> None:
    good = load_extract(extract(tmp_path / "good", {"agencies.csv": AGENCIES}), engine)
    assert good.exit_code == 0
    utf16 = (AGENCIES + "A3,Three,court,\n").encode("utf-16")
    bad = load_extract(extract(tmp_path / "bad", {"agencies.csv": utf16, "programs.csv": PROGRAMS}), engine)
    assert bad.exit_code == 2 and "UTF-16" in bad.errors[0]
    assert sorted(rows(engine, "agencies")["agency_id"].to_list()) == ["A1", "A2"]
    assert rows(engine, "programs").height == 0


# --- as-of dates in range -------------------------------------------------------------------------------


def test_as_of_range() -> None:
    today = dt.date(2026, 3, 10)
    assert as_of_problem(dt.date(2026, 3, 11), today) is None  # tomorrow: a time zone ahead
    assert "in the future" in str(as_of_problem(dt.date(2026, 3, 12), today))
    assert as_of_problem(dt.date(1975, 6, 30), today) is None  # a 1970s study
    assert as_of_problem(EARLIEST_AS_OF, today) is None
    assert "before 1900-01-01" in str(as_of_problem(dt.date(1899, 12, 31), today))


@pytest.mark.parametrize(
    ("manifest", "as_of_file"),
    [('{"contract_version": 1, "as_of": "9999-12-31"}', None), (None, "9999-12-31\n")],
)
def test_a_far_future_as_of_in_the_extract_stops_the_load(
    duckdb_engine: sa.engine.Engine, tmp_path: Path, manifest: str | None, as_of_file: str | None
) -> None:
    files: dict[str, str | bytes] = {"agencies.csv": AGENCIES}
    if manifest is not None:
        files["manifest.json"] = manifest
    if as_of_file is not None:
        files["AS_OF"] = as_of_file
    report = load_extract(extract(tmp_path / "x", files, as_of=None), duckdb_engine)
    assert report.exit_code == 2
    assert "the as-of date 9999-12-31 is in the future" in report.errors[0]
    assert rows(duckdb_engine, "agencies").height == 0
    explicit = load_extract(tmp_path / "x", duckdb_engine, as_of=dt.date.today() + dt.timedelta(days=2))
    assert explicit.exit_code == 2 and "is in the future" in explicit.errors[0]


def test_a_1970s_study_loads(duckdb_engine: sa.engine.Engine, tmp_path: Path) -> None:
    programs = (
        "program_id,program_name,program_model,lead_agency_id,start_date\n"
        "PR1,Early Study,release_planning,A1,1972-03-01\n"
    )
    files: dict[str, str | bytes] = {
        "agencies.csv": AGENCIES, "programs.csv": programs, "manifest.json": '{"as_of": "1976-12-31"}',
    }
    report = load_extract(extract(tmp_path / "x", files, as_of=None), duckdb_engine)
    assert report.exit_code == 0 and report.as_of == dt.date(1976, 12, 31)


@pytest.mark.parametrize(
    "argv",
    [
        ["load", "DIR", "--as-of", "9999-12-31"],
        ["check", "DIR", "--as-of", "9999-12-31"],
        ["metrics", "--format", "json", "--as-of", "9999-12-31"],
        ["evaluate", "--as-of", "9999-12-31"],
        ["export", "table", "--metric", "compliance_rate", "--out", "t.csv", "--as-of", "9999-12-31"],
        ["metrics", "--format", "json", "--as-of", "1899-12-31"],
    ],
)
def test_every_as_of_option_refuses_a_date_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    argv = [str(tmp_path) if a == "DIR" else a for a in argv]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --as-of: the as-of date" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        ("agency_id;agency_name;agency_type\nA1;One;court\n", "its header is separated by semicolons, not commas"),
        ("agency_id\tagency_name\tagency_type\nA1\tOne\tcourt\n", "its header is separated by tabs, not commas"),
        ("agency_id,agency_name,agency_type\rA1,One,court\r", "its lines end in a carriage return only"),
    ],
)
def test_a_file_whose_columns_look_missing_says_why(tmp_path: Path, content: str, hint: str) -> None:
    report = check_extract(extract(tmp_path / "x", {"agencies.csv": content}), docs_dir=tmp_path / "docs")
    assert report.tables["agencies"].file_rejected
    assert f"(the columns may be there: {hint}" in report.to_text()


def test_a_manifest_nested_without_end_is_a_message(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"agencies.csv": AGENCIES, "manifest.json": "[" * 100_000}
    report = check_extract(extract(tmp_path / "x", files, as_of=None), docs_dir=tmp_path / "docs")
    assert report.exit_code == 2 and "manifest.json: not valid JSON" in report.errors[0]


def test_parquet_columns_without_a_text_form_are_named(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory = extract(tmp_path / "x", {})
    pl.DataFrame(
        {"agency_id": ["A1"], "agency_name": ["One"], "agency_type": ["court"], "jurisdiction": [dt.timedelta(days=1)]}
    ).write_parquet(directory / "agencies.parquet")
    report = check_extract(directory, docs_dir=tmp_path / "docs")
    assert "agencies.parquet: column 'jurisdiction' holds Duration(time_unit='us') values" in report.errors[0]
    pq.write_table(
        pa.table({"agency_id": pa.array([b"\xff\xfe"], pa.binary()), "agency_name": ["One"], "agency_type": ["court"]}),
        directory / "agencies.parquet",
    )
    report = check_extract(directory, docs_dir=tmp_path / "docs")
    assert "agencies.parquet: column 'agency_id' holds Binary values" in report.errors[0]


def test_values_are_scanned_for_nul_unless_the_csv_holds_no_zero_byte(tmp_path: Path) -> None:
    from dashboard import validation

    table = contract.TABLES_BY_NAME["agencies"]
    clean = readers.read_file("agencies", extract(tmp_path / "a", {"agencies.csv": AGENCIES}) / "agencies.csv")
    assert not clean.may_hold_nul
    # skipping the scan gives exactly the frame the scan gives
    assert validation.validation_frame(table, clean.contract_frame(), scan_nul=False).equals(
        validation.validation_frame(table, clean.contract_frame())
    )
    dirty = readers.read_file("agencies", extract(tmp_path / "b", {"agencies.csv": AGENCIES_HOSTILE}) / "agencies.csv")
    assert dirty.may_hold_nul
