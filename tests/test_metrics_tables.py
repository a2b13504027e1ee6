"""Inputs of the metric engine: tables, filters, and the as-of date (SPEC §3)."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.metrics.engine import compute_metrics, metrics_json
from dashboard.metrics.tables import Filters, Tables, age_band_expr, resolve_as_of

D = dt.date


def run_row(run_id: str, kind: str, started: dt.datetime, as_of: dt.date) -> dict:
    return {"run_id": run_id, "kind": kind, "started_at": started, "as_of": as_of, "source": "x", "status": "succeeded"}


def test_as_of_explicit_then_latest_load_run_then_latest_date() -> None:
    people = [{"participant_id": "a", "program_id": "P1", "cohort": "pilot", "enrollment_date": D(2024, 1, 5),
               "supervision_type": "none", "risk_level": "low"}]
    contacts = [{"contact_id": "c", "agency_id": "A", "contact_date": D(2024, 3, 9), "contact_type": "other",
                 "co_responder": False, "outcome": "arrest"}]
    runs = [
        run_row("1", "load", dt.datetime(2024, 5, 1, 9), D(2024, 4, 30)),
        run_row("2", "load", dt.datetime(2024, 6, 1, 9), D(2024, 5, 31)),  # most recent load
        run_row("3", "check", dt.datetime(2024, 7, 1, 9), D(2024, 6, 30)),  # a check is not a load
        run_row("4", "load", dt.datetime(2024, 4, 1, 9), D(2024, 12, 31)),  # later as-of, earlier load time
    ]
    with_runs = Tables.from_frames(participants=people, police_contacts=contacts, load_runs=runs)
    assert resolve_as_of(with_runs, D(2023, 1, 1)) == D(2023, 1, 1)
    assert resolve_as_of(with_runs, None) == D(2024, 5, 31)
    # No load run: the latest enrollment / record date (the contact on 9 Mar 2024).
    assert resolve_as_of(Tables.from_frames(participants=people, police_contacts=contacts), None) == D(2024, 3, 9)
    assert resolve_as_of(Tables.from_frames(participants=people), None) == D(2024, 1, 5)


def test_filters_are_hashable_and_checked() -> None:
    a = Filters(program_ids=["P1"], cohorts="pilot")  # lists and single strings become tuples
    assert a == Filters(program_ids=("P1",), cohorts=("pilot",)) and hash(a) == hash(Filters(program_ids=("P1",), cohorts=("pilot",)))
    assert a.participant_filters == {"cohort": ("pilot",)}
    with pytest.raises(ValueError, match="swap"):
        Filters(start=D(2024, 2, 1), end=D(2024, 1, 1))


def test_from_frames_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown table"):
        Tables.from_frames(participant=[])
    with pytest.raises(ValueError, match="unknown column"):
        Tables.from_frames(participants=[{"participant_id": "a", "colour": "red"}])


def test_age_bands() -> None:
    import polars as pl

    ages = pl.DataFrame({"age_at_enrollment": [10, 17, 18, 24, 25, 64, 65, 100, None]})
    assert ages.select(age_band_expr())["age_band"].to_list() == [
        "10-17", "10-17", "18-24", "18-24", "25-34", "55-64", "65+", "65+", None]


def test_empty_database_gives_no_rows_and_no_errors() -> None:
    empty = Tables.from_frames()
    assert compute_metrics(empty, Filters(as_of=D(2024, 1, 1))).height == 0
    assert metrics_json(empty, Filters(as_of=D(2024, 1, 1)))["metrics"] == []
