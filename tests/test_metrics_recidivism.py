"""Recidivism building blocks shared by ``metrics`` and ``evaluate``."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.metrics.recidivism import (
    add_months,
    add_months_expr,
    first_matching_event,
    first_matching_events,
    metric_id,
    participants_with_index_date,
    recidivism_outcomes,
)
from dashboard.metrics.tables import Tables

D = dt.date


def test_add_months_clips_to_month_end() -> None:
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)  # leap year
    assert add_months(D(2023, 1, 31), 1) == D(2023, 2, 28)
    assert add_months(D(2023, 8, 31), 6) == D(2024, 2, 29)
    assert add_months(D(2024, 2, 29), 12) == D(2025, 2, 28)
    assert add_months(D(2024, 2, 29), 1) == D(2024, 3, 29)  # from the day, not "end of month stays end"
    assert add_months(D(2023, 12, 15), 36) == D(2026, 12, 15)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dates(min_value=D(1990, 1, 1), max_value=D(2040, 12, 31)), min_size=1, max_size=30),
       st.sampled_from([1, 6, 12, 24, 36]))
def test_polars_offset_matches_calendar_months(days: list[dt.date], months: int) -> None:
    out = pl.DataFrame({"d": days}).select(add_months_expr(pl.col("d"), months))["d"].to_list()
    assert out == [add_months(d, months) for d in days]


def _tables() -> Tables:
    return Tables.from_frames(
        participants=[
            {"participant_id": "a", "program_id": "P1", "cohort": "pilot", "enrollment_date": D(2023, 1, 5),
             "release_date": D(2023, 8, 31), "supervision_type": "parole", "risk_level": "high"},
            {"participant_id": "b", "program_id": "P1", "cohort": "comparison", "enrollment_date": D(2023, 12, 31),
             "supervision_type": "probation", "risk_level": "low"},
            {"participant_id": "late", "program_id": "P1", "cohort": "pilot", "enrollment_date": D(2024, 7, 1),
             "supervision_type": "probation", "risk_level": "low"},
        ],
        recidivism_events=[
            {"event_id": "1", "participant_id": "a", "event_date": D(2023, 8, 31), "event_type": "arrest"},
            {"event_id": "2", "participant_id": "a", "event_date": D(2024, 2, 29), "event_type": "arrest"},
            {"event_id": "3", "participant_id": "a", "event_date": D(2023, 10, 1), "event_type": "revocation"},
            {"event_id": "4", "participant_id": "b", "event_date": D(2024, 7, 1), "event_type": "arrest"},
        ],
    )


def test_first_matching_event_is_strictly_after_index_and_by_as_of() -> None:
    t = _tables()
    people = participants_with_index_date(t.participants, D(2024, 6, 30))
    assert sorted(people["participant_id"].to_list()) == ["a", "b"]  # late enrolled after as-of
    first = first_matching_event(people, t.recidivism_events, "rearrest", D(2024, 6, 30))
    # a: arrest on the index date (31 Aug 2023) does not count; next is 29 Feb 2024. b: arrest after as-of.
    assert first.rows() == [("a", D(2024, 2, 29))]
    first = first_matching_event(people, t.recidivism_events, "reincarceration", D(2024, 6, 30))
    assert first.rows() == [("a", D(2023, 10, 1))]


def test_recidivism_outcomes_eligibility_on_the_as_of_date() -> None:
    t = _tables()
    # a: index 31 Aug 2023 + 6 months = 29 Feb 2024 <= as-of 29 Feb 2024: eligible, rearrest on 29 Feb counts.
    # b: index 31 Dec 2023 + 6 months = 30 Jun 2024 > as-of: not eligible.
    out = recidivism_outcomes(t.participants, t.recidivism_events, measure="rearrest", window_months=6,
                              as_of=D(2024, 2, 29))
    assert out.select("participant_id", "window_end", "recidivated").rows() == [("a", D(2024, 2, 29), True)]
    out = recidivism_outcomes(t.participants, t.recidivism_events, measure="rearrest", window_months=6,
                              as_of=D(2024, 6, 30))
    assert sorted(out.select("participant_id", "recidivated").rows()) == [("a", True), ("b", False)]
    assert metric_id("reconviction", 24) == "recidivism_reconviction_24m"


def test_first_matching_events_all_measures_in_one_pass() -> None:
    t = _tables()
    people = participants_with_index_date(t.participants, D(2024, 6, 30))
    out = first_matching_events(people, t.recidivism_events, ["rearrest", "reconviction", "reincarceration"],
                                D(2024, 6, 30)).collect()
    # a: arrest 29 Feb 2024 (the index-date arrest does not count), no conviction, revocation 1 Oct 2023.
    # b: only an arrest after the as-of date -> no row.
    assert out.sort("participant_id").rows(named=True) == [
        {"participant_id": "a", "first_rearrest_date": D(2024, 2, 29), "first_reconviction_date": None,
         "first_reincarceration_date": D(2023, 10, 1)}
    ]
