"""The levels in data_checks/levels.py decide what the loader rejects: a documented
override turns an error into a warning (the row loads, flagged) or excludes a warning."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from data_checks import levels
from dashboard.ingest import load_extract
from test_ingest import EVENTS_HEADER, GOOD_EVENT, GOOD_PARTICIPANT, PARTICIPANTS_HEADER, base_files, table, write_extract

# P2 exits before it enrolls: breaks date_order:exit_date>=enrollment_date and nothing else.
EXIT_BEFORE_ENROLLMENT = "P2,PR1,A1,comparison,2024-03-01,,,probation,high,male,,40,2024-02-01,completed\n"


def _extract(tmp_path: Path) -> Path:
    return write_extract(
        tmp_path / "x",
        base_files(participants=PARTICIPANTS_HEADER + GOOD_PARTICIPANT + EXIT_BEFORE_ENROLLMENT,
                   supervision_events=EVENTS_HEADER + GOOD_EVENT),
    )


def test_default_levels_reject_the_row(duckdb_engine: sa.engine.Engine, tmp_path: Path) -> None:
    report = load_extract(_extract(tmp_path), duckdb_engine)
    participants = report.tables["participants"]
    assert (participants.loaded, participants.rejected) == (1, 1)
    assert participants.reasons == {"date_order:exit_date>=enrollment_date": 1}
    # P2 has no events, but it was rejected, so only loaded participants are warned about: none.
    assert participants.warnings == 0


def test_an_error_turned_into_a_warning_loads_the_row_flagged(
    duckdb_engine: sa.engine.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        levels.OVERRIDES, ("participants", "date_order:exit_date>=enrollment_date"),
        levels.Override(levels.WARNING, "test: partner back-dates exits; agreed to flag, not reject"),
    )
    report = load_extract(_extract(tmp_path), duckdb_engine)
    participants = report.tables["participants"]
    # P1 and P2 load; P2 carries the downgraded rule as a warning, and (having no
    # supervision events) the no-events warning -> 2 warnings.
    assert (participants.loaded, participants.rejected) == (2, 0)
    assert participants.warning_reasons == {"date_order:exit_date>=enrollment_date": 1, "warn:no_supervision_events": 1}
    assert table(duckdb_engine, "participants")["participant_id"].to_list() == ["P1", "P2"]
    issues = table(duckdb_engine, "load_issues").filter(pl.col("record_key") == "P2")
    assert sorted(issues["rule"].to_list()) == ["date_order:exit_date>=enrollment_date", "warn:no_supervision_events"]


def test_an_excluded_warning_is_not_recorded(
    duckdb_engine: sa.engine.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        levels.OVERRIDES, ("participants", "date_order:exit_date>=enrollment_date"),
        levels.Override(levels.WARNING, "test"),
    )
    monkeypatch.setitem(
        levels.OVERRIDES, ("participants", "warn:no_supervision_events"),
        levels.Override(levels.EXCLUDED, "test: this program enrolls before supervision starts"),
    )
    report = load_extract(_extract(tmp_path), duckdb_engine)
    assert report.tables["participants"].warning_reasons == {"date_order:exit_date>=enrollment_date": 1}


def test_a_rule_a_row_cannot_be_stored_without_stays_an_error(
    duckdb_engine: sa.engine.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        levels.OVERRIDES, ("participants", "required:cohort"), levels.Override(levels.WARNING, "test"),
    )
    report = load_extract(_extract(tmp_path), duckdb_engine)
    assert report.exit_code == 2
    assert any("cannot be stored" in e and "required:cohort" in e for e in report.errors)
    assert table(duckdb_engine, "participants").height == 0
