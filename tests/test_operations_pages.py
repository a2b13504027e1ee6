"""The Operations and Community voice pages under AppTest: they run, say that the participant
filters do not apply, show the engine's numbers, and never show a suppressed number.

The version-1 sample database drives the shared parts (status, filters); its tables get cost,
staffing and survey rows built here, handed to the pages through the tables cache.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
import streamlit as st
from test_pages import (  # noqa: F401 - fixtures
    assert_clean,
    assert_suppressed_rows_carry_no_numbers,
    chart_frames,
    chart_pairs,
    chart_with,
    published_pairs,
    run_page,
    sample_url,
    tables,
    use_db,
)

from dashboard import app_state, views
from dashboard import operations_views as ov
from dashboard.metrics.engine import compute_metrics, published
from dashboard.metrics.tables import Filters, Tables

K = 11
SURVEY_METRICS = [f"survey_favourable_{q}" for q in ov.QUESTION_LABELS]


def with_operations(tables: Tables) -> Tables:
    """The sample's tables plus a year and a half of quarterly costs per program, monthly staffing
    per supervising agency (one vacancy month) and 2,000 survey answers (a fixed seed)."""
    rng = random.Random(17)
    programs = sorted(tables.programs["program_id"].to_list())
    agencies = sorted({a for a in tables.participants["supervising_agency_id"].to_list() if a})
    costs = []
    for program in programs:
        for year, quarter in ((2025, 0), (2025, 1), (2025, 2), (2025, 3), (2026, 0), (2026, 1)):
            start = dt.date(year, quarter * 3 + 1, 1)
            end = dt.date(year + (quarter == 3), (quarter * 3 + 3) % 12 + 1, 1) - dt.timedelta(days=1)
            costs.append({"cost_id": f"{program}-{year}-{quarter}", "program_id": program, "period_start": start,
                          "period_end": end, "amount": Decimal(rng.randint(500_000, 9_000_000)) / 100,
                          "category": "personnel"})
    staffing = [{"agency_id": a, "month": dt.date(y, m, 1),
                 "officers_fte": Decimal("0.00") if (a, y, m) == (agencies[0], 2026, 2) else Decimal(rng.randint(2, 12))}
                for a in agencies for y, months in ((2025, range(1, 13)), (2026, range(1, 7))) for m in months]
    surveys = [{"response_id": f"r{i}", "survey_date": dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 545)),
                "respondent_type": rng.choice(["resident", "resident", "staff", "partner", "participant"]),
                "question": rng.choice(list(ov.QUESTION_LABELS)), "score": rng.randint(1, 5),
                "program_id": rng.choice([*programs, None]), "agency_id": rng.choice([*agencies, None])}
               for i in range(2000)]
    frames: dict[str, Any] = {name: getattr(tables, name) for name in (
        "agencies", "programs", "agreements", "participants", "referrals", "supervision_events", "violations",
        "recidivism_events", "police_contacts", "load_runs")}
    return Tables.from_frames(**frames, program_costs=costs, staffing=staffing, surveys=surveys)


@pytest.fixture(scope="module")
def v2_tables(tables: Tables) -> Tables:  # noqa: F811 - the sample's tables fixture
    return with_operations(tables)


@pytest.fixture
def v2_app(sample_url: str, v2_tables: Tables, use_db, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tables]:  # noqa: F811
    use_db(sample_url)
    # Engine output is cached per (database, load run, filters): start and end with empty caches so
    # no other test's tables are served here, nor these elsewhere.
    st.cache_resource.clear()
    monkeypatch.setattr(app_state, "_tables", lambda url, run_key: v2_tables)
    yield v2_tables
    st.cache_resource.clear()


def engine(tables: Tables, filters: Filters, ids: list[str]) -> pl.DataFrame:
    return published(compute_metrics(tables, filters, min_cell_size=K, metric_ids=ids))


def note_shown(at: Any) -> bool:
    return any("participant filters" in i.value and "do not apply" in i.value for i in at.info)


@pytest.mark.parametrize("params", [None, {"cohort": "comparison", "risk": "high"}], ids=["all", "participant-filtered"])
def test_operations_page_shows_the_engine_numbers(v2_app: Tables, params: dict[str, str] | None) -> None:
    at = run_page("pages/operations.py", params)
    assert_clean(at)
    assert_suppressed_rows_carry_no_numbers(at)
    assert note_shown(at)
    # Participant filters do not apply: the numbers are those without them.
    frame = engine(v2_app, Filters(), ["cost_per_participant", "cost_per_completion", "caseload_per_officer"])
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Cost per participant served"] == views.tile_value(
        views.overall_row(frame, "cost_per_participant"), "currency", K)
    assert tiles["Cost per completion"] == views.tile_value(views.overall_row(frame, "cost_per_completion"), "currency", K)
    assert tiles["Participants per full-time officer"] == views.tile_value(
        views.overall_row(frame, "caseload_per_officer"), "participants_per_officer", K)
    for metric, title in (("cost_per_participant", "Cost per participant served"),
                          ("cost_per_completion", "Cost per completion")):
        shown = next(f[0] for t, f in chart_frames(at)
                     if t.startswith(title) and "(all programs)" not in t)
        assert chart_pairs(shown) == published_pairs(views.metric_rows(frame, metric, ("program_id",)))
    caseload = chart_with(at, "Caseload per officer ranges")
    assert chart_pairs(caseload) == published_pairs(views.metric_rows(frame, "caseload_per_officer", ("agency_id",)))
    # The month's FTE is beside the ratio; the vacancy month reads "no officer time".
    months = at.dataframe[-1].value
    assert list(months.columns) == ["Month", "Agency", "Active caseload", "Officer FTE", "Caseload per officer"]
    assert "no officer time" in set(months["Caseload per officer"])


def test_operations_trend_quarters_equal_the_metric_per_quarter(v2_app: Tables) -> None:
    at = run_page("pages/operations.py")
    trend = chart_with(at, "Cost per completion (all programs)")
    quarter = trend.filter((pl.col("period") == "2025 Q3") & (pl.col("series") == ov.ALL_PROGRAMS)).row(0, named=True)
    q3 = engine(v2_app, Filters(start=dt.date(2025, 7, 1), end=dt.date(2025, 9, 30)), ["cost_per_completion"])
    overall = views.overall_row(q3, "cost_per_completion")
    assert overall is not None
    if quarter["suppressed"]:
        assert quarter["value"] is None
    else:
        assert overall["suppressed"] is False
        assert quarter["value"] == pytest.approx(overall["value"]) and quarter["denominator"] == overall["denominator"]


@pytest.mark.parametrize("params", [None, {"cohort": "pilot", "program": "P01"}], ids=["all", "filtered"])
def test_community_voice_page_shows_the_engine_numbers(v2_app: Tables, params: dict[str, str] | None) -> None:
    at = run_page("pages/community_voice.py", params)
    assert_clean(at)
    assert_suppressed_rows_carry_no_numbers(at)
    assert note_shown(at)
    filters = Filters(program_ids=("P01",)) if params else Filters()  # the cohort filter does not apply
    frame = engine(v2_app, filters, SURVEY_METRICS)
    tiles = {m.label: m.value for m in at.metric}
    for metric in SURVEY_METRICS:
        label = f"{ov.QUESTION_LABELS[ov.question_of(metric)]}: favourable"
        assert tiles[label] == views.tile_value(views.overall_row(frame, metric), "rate", K)
    by_question = chart_with(at, "Favourable answers")
    expected = [r for m in SURVEY_METRICS for r in [views.overall_row(frame, m)] if r is not None]
    assert chart_pairs(by_question) == sorted(
        (round(r["value"], 9), int(r["denominator"])) for r in expected if not r["suppressed"])
    by_type = chart_with(at, "Trust: favourable")
    assert chart_pairs(by_type) == published_pairs(
        views.metric_rows(frame, "survey_favourable_trust", ("respondent_type",)))


def test_community_voice_breakdowns_by_program_and_agency(v2_app: Tables) -> None:
    at = run_page("pages/community_voice.py")
    at.selectbox(key="voice_question").set_value("safety")
    at.radio(key="voice_by").set_value("agency_id")
    at.run()
    assert_clean(at)
    assert_suppressed_rows_carry_no_numbers(at)
    frame = engine(v2_app, Filters(), ["survey_favourable_safety"])
    bars = chart_with(at, "Safety: favourable")
    assert chart_pairs(bars) == published_pairs(views.metric_rows(frame, "survey_favourable_safety", ("agency_id",)))
    table = at.dataframe[-1].value
    assert table.columns[0] == "Agency" and "Answers (N)" in table.columns
    assert table["Agency"].iloc[0] == ov.ALL_RESPONSES


@pytest.mark.parametrize("page", ["pages/operations.py", "pages/community_voice.py"])
def test_pages_on_the_sample_extract(page: str, sample_url: str, tables: Tables, use_db) -> None:  # noqa: F811
    # The sample extract loaded as users load it holds costs, staffing and survey answers.
    assert all(getattr(tables, t).height for t in ("program_costs", "staffing", "surveys"))
    use_db(sample_url)
    st.cache_resource.clear()
    at = run_page(page, {"program": "P01", "cohort": "pilot", "start": "2025-01-01"})
    assert_clean(at)
    assert_suppressed_rows_carry_no_numbers(at)
    assert note_shown(at)
    # The cohort filter does not apply; program and period do.
    frame = engine(tables, Filters(program_ids=("P01",), start=dt.date(2025, 1, 1)),
                   ["cost_per_participant", "survey_favourable_trust"])
    tiles = {m.label: m.value for m in at.metric}
    if page == "pages/operations.py":
        assert tiles["Cost per participant served"] == views.tile_value(
            views.overall_row(frame, "cost_per_participant"), "currency", K)
    else:
        assert tiles["Trust: favourable"] == views.tile_value(
            views.overall_row(frame, "survey_favourable_trust"), "rate", K)
    assert len(chart_frames(at)) >= 3
