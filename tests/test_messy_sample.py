"""The messy sample's load result equals what was planted in it (planted.json), kind by kind."""

from __future__ import annotations

import json

import polars as pl
import pytest

from dashboard import store
from dashboard.ingest import load_extract

from conftest import MESSY_DIR

PLANTED = json.loads((MESSY_DIR / "planted.json").read_text())
SPEC_KEYS = ("rows_read", "loaded", "rejected", "duplicates_dropped", "warnings", "file_rejected", "missing_columns", "reasons")


@pytest.fixture(scope="module")
def messy_load(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, pl.DataFrame, pl.DataFrame]:
    engine = store.make_engine(f"duckdb:///{tmp_path_factory.mktemp('messy') / 'm.duckdb'}")
    report = load_extract(MESSY_DIR, engine)
    with store.connect(engine) as conn:
        quarantine = store.read_table(conn, "quarantine")
        issues = store.read_table(conn, "load_issues")
    engine.dispose()
    return report.to_json(), quarantine, issues


def test_exit_code_and_as_of_match_the_plant(messy_load: tuple[dict, pl.DataFrame, pl.DataFrame]) -> None:
    got, _, _ = messy_load
    assert got["exit_code"] == PLANTED["exit_code"] == 1
    assert got["as_of"] == PLANTED["as_of"]
    assert list(got["tables"]) == list(PLANTED["tables"])


@pytest.mark.parametrize("table", list(PLANTED["tables"]))
def test_each_table_matches_the_plant_kind_by_kind(
    messy_load: tuple[dict, pl.DataFrame, pl.DataFrame], table: str
) -> None:
    got, quarantine, issues = messy_load
    expected = PLANTED["tables"][table]
    assert {k: got["tables"][table][k] for k in SPEC_KEYS} == {k: expected[k] for k in SPEC_KEYS}
    t = got["tables"][table]
    assert t["rows_read"] == t["loaded"] + t["rejected"] + t["duplicates_dropped"]
    rejected = {
        str(line): sorted(json.loads(rules))  # planted.json lists a row's rules sorted
        for line, rules in quarantine.filter(pl.col("table_name") == table).select("line_number", "rules").rows()
    }
    if expected["file_rejected"]:
        # the whole file is rejected: every row quarantined with the one reason
        assert len(rejected) == expected["rejected"]
        assert all(rules == ["missing_column"] for rules in rejected.values())
    else:
        assert rejected == expected["rejected_lines"]
    warnings = dict(
        issues.filter((pl.col("table_name") == table) & pl.col("rule").str.starts_with("warn:"))
        .group_by("rule")
        .len()
        .rows()
    )
    assert warnings == expected["warning_reasons"]


def test_quarantine_keeps_raw_values_and_reasons_in_words(messy_load: tuple[dict, pl.DataFrame, pl.DataFrame]) -> None:
    _, quarantine, _ = messy_load
    row = quarantine.filter((pl.col("table_name") == "agencies") & (pl.col("line_number") == 15)).row(0, named=True)
    # line 15 of agencies.csv has a whitespace-only agency_name: the raw value keeps the spaces
    raw = json.loads(row["raw_values"])
    assert raw["agency_id"] == "A14" and raw["agency_name"].strip() == "" and raw["agency_name"] != ""
    assert row["reasons"] == "agency_name is required but empty"
    assert row["source_file"] == "agencies.csv"
