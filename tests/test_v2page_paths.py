"""The faster paths behind the contract-version-2 and partnership pages (docs/performance.md,
"Contract-version-2 and partnership pages") give exactly what the slower ones gave, on the
sample data under several filter settings, with suppression on (k = 11) and off (k = 0):

- the survey trend's rows per period from one pass equal the survey rows computed period by period;
- the cost trend's pilot counts per period from one pass equal the counts period by period;
- each staffing month's caseload equals a direct count of the participants active that day;
- the co-responder breakdowns taken from one view equal ``co_responder_share`` for each breakdown;
- the operations, community-voice and reintegration pages' metric subsets equal the full output.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from dashboard.metrics import operations, partnerships, surveys
from dashboard.metrics.engine import compute_metrics
from dashboard.metrics.tables import Filters, Tables
from dashboard.sample import generate_tables

AS_OF = dt.date(2026, 6, 30)
SETTINGS = [
    Filters(as_of=AS_OF),
    Filters(as_of=AS_OF, program_ids=("P03",)),
    Filters(as_of=AS_OF, agency_ids=("A02", "A05")),
    Filters(as_of=dt.date(2025, 3, 31), cohorts=("pilot",), start=dt.date(2023, 1, 1)),
    Filters(as_of=AS_OF, risk_levels=("high", None), end=dt.date(2025, 12, 31)),
    Filters(as_of=AS_OF, start=dt.date(2024, 2, 10), end=dt.date(2025, 11, 20)),
]
PAGE_METRICS = {
    "operations": ["cost_per_participant", "cost_per_completion", "caseload_per_officer"],
    "community_voice": list(surveys.SURVEY_METRICS),
    "reintegration": [f"{m}_{w}m" for m in ("employment_rate", "stable_housing_rate", "reintegration_check_coverage")
                      for w in (6, 12)],
}


def quarters(filters: Filters, as_of: dt.date, count: int = 12) -> list[tuple[str, dt.date, dt.date]]:
    """The last ``count`` quarters up to the as-of, clipped to the filters' period (as the pages ask)."""
    out = []
    index = as_of.year * 4 + (as_of.month - 1) // 3
    for i in range(index - count + 1, index + 1):
        year, q = divmod(i, 4)
        start = dt.date(year, q * 3 + 1, 1)
        end = dt.date(year, 12, 31) if q == 3 else dt.date(year, q * 3 + 4, 1) - dt.timedelta(days=1)
        if (filters.start and end < filters.start) or (filters.end and start > filters.end):
            continue
        out.append((f"{year} Q{q + 1}", max(start, filters.start or start), min(end, filters.end or end)))
    return out


@pytest.fixture(scope="module")
def tables() -> Tables:
    return Tables.from_frames(**generate_tables(participants=2500, seed=7, as_of=AS_OF))


def as_of_of(filters: Filters) -> dt.date:
    return filters.as_of or AS_OF


@pytest.mark.parametrize("filters", SETTINGS, ids=range(len(SETTINGS)))
def test_survey_rows_per_period_equal_one_period_at_a_time(tables: Tables, filters: Filters) -> None:
    as_of = as_of_of(filters)
    periods = quarters(filters, as_of)
    # Overlapping and out-of-range periods too: each period counts every answer in its own dates.
    periods += [("whole 2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31)), ("early", dt.date(2019, 1, 1),
                dt.date(2021, 6, 30)), ("empty", dt.date(2030, 1, 1), dt.date(2030, 3, 31))]
    wanted = set(surveys.SURVEY_METRICS)
    whole, per_period = surveys.survey_rows_per_period(tables, filters, as_of, periods)
    assert whole == surveys.survey_rows(tables, filters, as_of, wanted)
    assert list(per_period) == [label for label, _, _ in periods]
    for label, start, end in periods:
        expected = surveys.survey_rows(tables, dataclasses.replace(filters, start=start, end=end), as_of, wanted)
        assert per_period[label] == expected, label
    assert any(per_period[label] for label, _, _ in periods)


def _survey_rows_one_period_at_a_time(tables, filters, as_of, periods):  # type: ignore[no-untyped-def]
    """How ``survey_trend`` computed its rows before: the metric's rows under each period's filter."""
    wanted = set(surveys.SURVEY_METRICS)
    return surveys.survey_rows(tables, filters, as_of, wanted), {
        label: surveys.survey_rows(tables, dataclasses.replace(filters, start=start, end=end), as_of, wanted)
        for label, start, end in periods
    }


@pytest.mark.parametrize("k", [11, 0])
@pytest.mark.parametrize("by", [None, "program_id", "agency_id", "respondent_type"])
@pytest.mark.parametrize("filters", SETTINGS[:4], ids=range(4))
def test_survey_trend_equals_the_period_by_period_trend(
    tables: Tables, filters: Filters, by: str | None, k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.metrics.families import surveys as family

    as_of = as_of_of(filters)
    periods = quarters(filters, as_of)
    fast = surveys.survey_trend(tables, filters, as_of, periods, by, min_cell_size=k)
    monkeypatch.setattr(family, "survey_rows_per_period", _survey_rows_one_period_at_a_time)
    slow = surveys.survey_trend(tables, filters, as_of, periods, by, min_cell_size=k)
    assert fast.height > 0
    assert fast.to_dicts() == slow.to_dicts()
    if not k:
        assert not fast["suppressed"].any()
    elif by == "agency_id":
        assert fast["suppressed"].any()  # the comparison covers withheld cells too


def _pilot_counts_one_period_at_a_time(tables, filters, as_of, periods):  # type: ignore[no-untyped-def]
    """How ``cost_trend`` counted its denominators before: the metric's counts under each period's filter."""
    out = {}
    for label, start, end in periods:
        shifted = dataclasses.replace(filters, start=start, end=end)
        out[label] = (operations.pilot_served(tables, shifted, as_of), operations.pilot_completions(tables, shifted, as_of))
    return out


@pytest.mark.parametrize("filters", SETTINGS, ids=range(len(SETTINGS)))
def test_pilot_counts_per_period_equal_one_period_at_a_time(tables: Tables, filters: Filters) -> None:
    as_of = as_of_of(filters)
    periods = quarters(filters, as_of) + [("whole 2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31))]
    assert operations.pilot_counts_per_period(tables, filters, as_of, periods) == _pilot_counts_one_period_at_a_time(
        tables, filters, as_of, periods)


@pytest.mark.parametrize("k", [11, 0])
@pytest.mark.parametrize("filters", SETTINGS, ids=range(len(SETTINGS)))
def test_cost_trend_equals_the_period_by_period_trend(
    tables: Tables, filters: Filters, k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.metrics.families import operations as family

    as_of = as_of_of(filters)
    periods = quarters(filters, as_of)
    fast = operations.cost_trend(tables, filters, as_of, periods, min_cell_size=k)
    monkeypatch.setattr(family, "pilot_counts_per_period", _pilot_counts_one_period_at_a_time)
    slow = operations.cost_trend(tables, filters, as_of, periods, min_cell_size=k)
    assert fast.height > 0
    assert fast.to_dicts() == slow.to_dicts()


@pytest.mark.parametrize("filters", SETTINGS, ids=range(len(SETTINGS)))
def test_staffing_caseload_equals_a_direct_count(tables: Tables, filters: Filters) -> None:
    months = operations.staffing_months(tables, filters, as_of_of(filters))
    people = tables.participants.filter(
        (pl.col("supervision_type") != "none") & pl.col("supervising_agency_id").is_not_null())
    assert months.height > 0
    for rec in months.iter_rows(named=True):
        day = rec["count_date"]
        active = people.filter(
            (pl.col("supervising_agency_id") == rec["agency_id"]) & (pl.col("enrollment_date") <= day)
            & ~(pl.col("exit_date").is_not_null() & (pl.max_horizontal("enrollment_date", "exit_date") <= day))
        )
        assert rec["caseload"] == active.height


@pytest.mark.parametrize("k", [11, 0])
@pytest.mark.parametrize("filters", SETTINGS[:4], ids=range(4))
def test_co_responder_breakdowns_from_one_view_equal_each_share(tables: Tables, filters: Filters, k: int) -> None:
    view = partnerships.co_responder_view(tables, filters, min_cell_size=k)
    for by in [(), ("agency_id",), ("quarter",), ("quarter", "agency_id")]:
        one = partnerships.co_responder_share(tables, filters, by, min_cell_size=k)
        assert partnerships.co_responder_breakdown(view, by).to_dicts() == one.to_dicts()
    with pytest.raises(ValueError, match="distinct dimensions"):
        partnerships.co_responder_breakdown(view, ("agency_id", "agency_id"))
    with pytest.raises(ValueError, match="it is shown by one of"):
        partnerships.co_responder_breakdown(view, ("agency_id", "cohort"))


@pytest.mark.parametrize("k", [11, 0])
@pytest.mark.parametrize("filters", SETTINGS[:5], ids=range(5))
@pytest.mark.parametrize("page", sorted(PAGE_METRICS))
def test_page_metrics_equal_the_full_output(tables: Tables, filters: Filters, page: str, k: int) -> None:
    ids = PAGE_METRICS[page]
    full = compute_metrics(tables, filters, min_cell_size=k).filter(pl.col("metric").is_in(ids))
    subset = compute_metrics(tables, filters, min_cell_size=k, metric_ids=sorted(set(ids)))
    assert full.height > 0
    assert subset.to_dicts() == full.to_dicts()


@pytest.mark.parametrize("k", [11, 0])
@pytest.mark.parametrize("filters", SETTINGS, ids=range(len(SETTINGS)))
def test_reintegration_from_everyones_statuses_equals_reading_the_checks(
    tables: Tables, filters: Filters, k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.metrics.breakdowns import metric_breakdown
    from dashboard.metrics.families import reintegration as family

    ids = PAGE_METRICS["reintegration"]
    fast = compute_metrics(tables, filters, min_cell_size=k, metric_ids=ids)
    fast_quarters = metric_breakdown(tables, filters, "employment_rate_12m", ["quarter"], min_cell_size=k)
    assert family.statuses_of_everyone(tables) is family.statuses_of_everyone(tables)  # once per tables
    monkeypatch.setattr(family, "statuses_of_everyone", lambda _tables: None)  # every filter reads the checks
    slow = compute_metrics(tables, filters, min_cell_size=k, metric_ids=ids)
    assert fast.height > 0
    assert fast.to_dicts() == slow.to_dicts()
    slow_quarters = metric_breakdown(tables, filters, "employment_rate_12m", ["quarter"], min_cell_size=k)
    assert fast_quarters.to_dicts() == slow_quarters.to_dicts()


def _answers_joined_per_call(tables: Tables, filters: Filters, as_of: dt.date) -> pl.DataFrame:
    """How the survey answers were selected before: filtered, then joined to the participants, on every call."""
    s = tables.surveys.lazy().filter(pl.col("survey_date") <= as_of)
    if filters.start is not None:
        s = s.filter(pl.col("survey_date") >= filters.start)
    if filters.end is not None:
        s = s.filter(pl.col("survey_date") <= filters.end)
    owners = tables.participants.lazy().select("participant_id", pl.col("program_id").alias("_participant_program"))
    s = s.join(owners, on="participant_id", how="left").with_columns(
        pl.coalesce(pl.col("program_id"), pl.col("_participant_program")).alias("program_id"),
        pl.col("score").is_in((4, 5)).fill_null(False).alias("_favourable"),
    )
    if filters.program_ids:
        s = s.filter(pl.col("program_id").is_in(list(filters.program_ids)))
    if filters.agency_ids:
        s = s.filter(pl.col("agency_id").is_in(list(filters.agency_ids)))
    return s.select(surveys.ANSWER_COLUMNS).collect()


@pytest.mark.parametrize("filters", SETTINGS, ids=range(len(SETTINGS)))
def test_survey_answers_from_the_shared_join_equal_a_join_per_call(tables: Tables, filters: Filters) -> None:
    as_of = as_of_of(filters)
    shared = surveys.survey_responses(tables, filters, as_of).collect()
    order = list(surveys.ANSWER_COLUMNS)
    expected = _answers_joined_per_call(tables, filters, as_of)
    assert shared.height > 0
    assert shared.sort(order, nulls_last=True).to_dicts() == expected.sort(order, nulls_last=True).to_dicts()
