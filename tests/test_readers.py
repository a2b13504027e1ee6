"""Reading partner files: text as delivered, headers matched loosely, line numbers kept."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import polars as pl
import pytest

from dashboard import contract, readers, validation
from dashboard.readers import LINE


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def test_bom_header_case_and_spaces_unknown_and_missing_columns(tmp_path: Path) -> None:
    path = _write(tmp_path / "agencies.csv", "\ufeff AGENCY_ID ,Agency_Name,agency_type,Extra\nA1,X,court,y\n")
    f = readers.read_file("agencies", path)
    assert f.column_map == {"agency_id": " AGENCY_ID ", "agency_name": "Agency_Name", "agency_type": "agency_type"}
    assert f.unknown_columns == ["Extra"]
    assert f.missing_required == [] and f.missing_optional == ["jurisdiction"]
    frame = f.contract_frame()
    assert frame.columns == ["agency_id", "agency_name", "agency_type", "jurisdiction", LINE]
    assert frame.row(0) == ("A1", "X", "court", None, 2)
    assert f.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_line_numbers_follow_quoted_values_that_span_lines(tmp_path: Path) -> None:
    # line 1 header; row A1 on line 2 spans lines 2-3; A2 starts on line 4; A3 on line 5
    text = 'agency_id,agency_name,agency_type\nA1,"two\nlines",court\nA2,B,court\nA3,C,court\n'
    f = readers.read_file("agencies", _write(tmp_path / "agencies.csv", text))
    assert f.raw[LINE].to_list() == [2, 4, 5]


def test_raw_values_are_kept_untrimmed(tmp_path: Path) -> None:
    f = readers.read_file("agencies", _write(tmp_path / "agencies.csv", "agency_id,agency_name,agency_type\n A1 ,,court\n"))
    assert f.raw.row(0) == (" A1 ", "", "court", 2)


def test_files_are_found_case_insensitively(tmp_path: Path) -> None:
    _write(tmp_path / "Agencies.CSV", "agency_id\n")
    pl.DataFrame({"program_id": ["P1"]}).write_parquet(tmp_path / "programs.parquet")
    _write(tmp_path / "notes.csv", "x\n")
    assert {k: p.name for k, p in readers.find_files(tmp_path).items()} == {
        "agencies": "Agencies.CSV", "programs": "programs.parquet",
    }
    assert readers.unused_files(tmp_path) == []


def test_two_files_for_one_table_are_an_error_naming_both(tmp_path: Path) -> None:
    # a second format of the same table is no longer picked over silently
    _write(tmp_path / "Agencies.CSV", "agency_id\n")
    pl.DataFrame({"agency_id": ["A1"]}).write_parquet(tmp_path / "agencies.parquet")
    with pytest.raises(readers.ExtractError, match="Agencies.CSV and agencies.parquet are both files for the agencies"):
        readers.find_files(tmp_path)


def test_unreadable_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "agencies.csv"
    path.write_bytes(b"agency_id,agency_name\n\xff\xfe,x\n")
    with pytest.raises(readers.ExtractError, match="agencies.csv"):
        readers.read_file("agencies", path)


@pytest.mark.parametrize(
    ("value", "typed"),
    [
        ("2024-03-05", dt.date(2024, 3, 5)), (" 2024-03-05\u00a0", dt.date(2024, 3, 5)), ("2024/03/05", None),
        ("2024-1-5", None), ("20240305", None), ("2024-03-05T00:00", None), ("2023-02-29", None), ("", None),
    ],
)
def test_csv_dates_are_exactly_yyyy_mm_dd(tmp_path: Path, value: str, typed: dt.date | None) -> None:
    table = contract.TABLES_BY_NAME["programs"]
    text = f"program_id,start_date\nP1,{value}\n"
    f = readers.read_file("programs", _write(tmp_path / "programs.csv", text))
    frame = validation.validation_frame(table, f.contract_frame())
    assert frame["start_date__v"].to_list() == [typed]


@pytest.mark.parametrize(
    ("value", "typed"),
    [("34", 34), ("34.0", 34), ("34.00", 34), ("034", 34), ("34.5", None), ("+34", None), ("3.4e1", None),
     ("41y", None), ("-3", None), ("34.", None)],
)
def test_integers_are_digits_with_optional_zero_decimals(tmp_path: Path, value: str, typed: int | None) -> None:
    table = contract.TABLES_BY_NAME["participants"]
    f = readers.read_file("participants", _write(tmp_path / "participants.csv", f"participant_id,age_at_enrollment\nP1,{value}\n"))
    frame = validation.validation_frame(table, f.contract_frame())
    assert frame["age_at_enrollment__v"].to_list() == [typed]


@pytest.mark.parametrize(("value", "typed"), [("TRUE", True), ("False", False), ("1", True), ("0", False), ("yes", None), ("t", None)])
def test_booleans_are_true_false_1_0_any_case(tmp_path: Path, value: str, typed: bool | None) -> None:
    table = contract.TABLES_BY_NAME["police_contacts"]
    f = readers.read_file("police_contacts", _write(tmp_path / "police_contacts.csv", f"contact_id,co_responder\nC1,{value}\n"))
    frame = validation.validation_frame(table, f.contract_frame())
    assert frame["co_responder__v"].to_list() == [typed]


def test_xlsx_date_cells_and_text_cells(tmp_path: Path) -> None:
    # row 2: a date cell; row 3: text in lenient form (rejected later); row 4: a whole number 34.0
    path = tmp_path / "programs.xlsx"
    import xlsxwriter

    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ["Program_ID", "start_date", "grant_id"])
    sheet.write_row(1, 0, ["P1"])
    sheet.write_datetime(1, 1, dt.datetime(2024, 3, 5), date_format)
    sheet.write_row(2, 0, ["P2", "2024/03/05"])
    sheet.write_row(3, 0, ["P3"])
    sheet.write_datetime(3, 1, dt.datetime(2024, 3, 7), date_format)
    sheet.write_number(3, 2, 34.0)
    book.close()
    f = readers.read_file("programs", path)
    got = f.contract_frame().select("program_id", "start_date", "grant_id", LINE)
    assert got.rows() == [("P1", "2024-03-05", None, 2), ("P2", "2024/03/05", None, 3), ("P3", "2024-03-07", "34", 4)]
