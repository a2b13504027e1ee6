"""The pilot evaluation over per-participant facts gives exactly the JSON it gave before
(docs/performance.md, "Pilot evaluation").

``evaluation_before`` is the evaluation as it was before the facts (a frozen copy). Here every
program and the pooled evaluation are compared with it, float for float, on sample_data/ and on a
generated sample with reintegration checks, under several filter settings (k = 0 and 11,
participant filters, a period, an agency, an as-of date long after the data and one early in it):

- ``evaluate`` as the command line calls it (facts found for the participants in scope);
- ``evaluate`` over facts found once for every participant (as the dashboard shares them);
- each part alone (``parts``) equals that part of the full evaluation;
- ``metric_rows`` (``metrics`` rows the dashboard already has) gives the same evaluation;
- ``baseline_share_counts`` with and without facts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path

import evaluation_before
import polars as pl
import pytest

from dashboard import store
from dashboard.evaluation import (
    PARTS,
    baseline_share_counts,
    evaluate,
    evaluation_metric_ids,
    evaluation_metric_rows,
    participant_facts,
)
from dashboard.ingest import load_extract
from dashboard.metrics.engine import compute_metrics, published
from dashboard.metrics.reintegration import coverage_metric_id
from dashboard.metrics.tables import Filters, Tables, load_tables, resolve_as_of
from dashboard.sample import generate_tables
from dashboard.views_evaluation import EVALUATION_VIEW_METRICS

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
AS_OF = dt.date(2026, 6, 30)

SETTINGS = [
    (Filters(), 11),
    (Filters(), 0),
    (Filters(cohorts=("pilot", "comparison"), sexes=("female",), start=dt.date(2022, 1, 1)), 11),
    (Filters(risk_levels=("high", None), age_bands=("25-34", "35-44"), end=dt.date(2025, 12, 31)), 5),
    (Filters(as_of=dt.date(2040, 1, 1)), 11),
    (Filters(as_of=dt.date(2024, 3, 31), supervision_types=("parole", "probation")), 0),
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    """sample_data/ loaded as is into a fresh DuckDB file."""
    engine = store.make_engine(f"duckdb:///{tmp_path_factory.mktemp('facts') / 'sample.duckdb'}")
    load_extract(SAMPLE_DIR, engine)
    tables = load_tables(engine)
    engine.dispose()
    return tables


@pytest.fixture(scope="module")
def generated() -> Tables:
    return Tables.from_frames(**generate_tables(participants=4000, seed=11, as_of=AS_OF))


def _programs(tables: Tables) -> list[str | None]:
    return [None, *sorted(tables.participants.get_column("program_id").unique().drop_nulls().to_list())]


def _agency_setting(tables: Tables) -> tuple[Filters, int]:
    agencies = tables.participants.get_column("supervising_agency_id").drop_nulls().unique()
    agency = sorted(agencies.to_list())[0]
    return Filters(agency_ids=(agency,)), 11


def _check_same(tables: Tables, filters: Filters, k: int) -> None:
    as_of = resolve_as_of(tables, filters.as_of)
    facts = participant_facts(tables, as_of)
    for program in _programs(tables):
        before = evaluation_before.evaluate(tables, filters, program_id=program, min_cell_size=k)
        assert evaluate(tables, filters, program_id=program, min_cell_size=k) == before, program
        shared = evaluate(tables, filters, program_id=program, min_cell_size=k, facts=facts)
        assert shared == before, program
        for part in PARTS:
            alone = evaluate(tables, filters, program_id=program, min_cell_size=k, facts=facts, parts=(part,))
            keys = ("survival", "logrank") if part == "survival" else (part,)
            for key in ("windows", "survival", "logrank", "baseline"):
                assert alone[key] == (before[key] if key in keys else []), (program, part, key)
        rearrest = evaluation_before.evaluate(tables, filters, program_id=program, measures=("rearrest",),
                                              min_cell_size=k)
        assert evaluate(tables, filters, program_id=program, measures=("rearrest",), min_cell_size=k,
                        facts=facts) == rearrest, program
        counts = evaluation_before.baseline_share_counts(tables, filters, program_id=program)
        assert baseline_share_counts(tables, filters, program_id=program) == counts
        assert baseline_share_counts(tables, filters, program_id=program, facts=facts) == counts
    # Metrics rows the caller already has (published: suppressed numbers blanked) stand in for the
    # evaluation's own: the view's recidivism rows (the rest computed), or every rate it checks
    # with the check coverage beside them (as the dashboard asks for them).
    pooled = evaluation_before.evaluate(tables, filters, min_cell_size=k)
    for ids in (list(EVALUATION_VIEW_METRICS), [*evaluation_metric_ids(), coverage_metric_id(12)]):
        rows = published(compute_metrics(tables, filters, min_cell_size=k, metric_ids=ids))
        assert evaluate(tables, filters, min_cell_size=k, facts=facts, metric_rows=rows) == pooled
    one = dataclasses.replace(filters, program_ids=("P01",))
    rows = published(compute_metrics(tables, one, min_cell_size=k, metric_ids=evaluation_metric_ids(["rearrest"])))
    assert evaluate(tables, filters, program_id="P01", measures=("rearrest",), min_cell_size=k, facts=facts,
                    metric_rows=rows) == evaluation_before.evaluate(tables, filters, program_id="P01",
                                                                   measures=("rearrest",), min_cell_size=k)


@pytest.mark.parametrize("setting", range(len(SETTINGS) + 1))
def test_sample_data_evaluation_is_unchanged(sample: Tables, setting: int) -> None:
    filters, k = SETTINGS[setting] if setting < len(SETTINGS) else _agency_setting(sample)
    _check_same(sample, filters, k)


@pytest.mark.parametrize("setting", range(len(SETTINGS) + 1))
def test_generated_sample_evaluation_is_unchanged(generated: Tables, setting: int) -> None:
    filters, k = SETTINGS[setting] if setting < len(SETTINGS) else _agency_setting(generated)
    assert generated.reintegration_checks.height > 0  # the employment and housing measures are compared too
    _check_same(generated, filters, k)


def _check_same_metric_rows(tables: Tables, filters: Filters, k: int) -> None:
    """The metrics rows built from the facts are ``compute_metrics``' frame, row for row, for the
    pooled view, each program's own filter and a mix of recidivism and other metrics."""
    facts = participant_facts(tables, resolve_as_of(tables, filters.as_of))
    every = [*evaluation_metric_ids(), coverage_metric_id(12)]
    asks = [every, evaluation_metric_ids(["rearrest"]), ["recidivism_reconviction_24m"], every[::-1]]
    for program in _programs(tables):
        scoped = filters if program is None else dataclasses.replace(filters, program_ids=(program,))
        for ids in asks:
            expected = compute_metrics(tables, scoped, min_cell_size=k, metric_ids=ids)
            got = evaluation_metric_rows(tables, scoped, ids, min_cell_size=k, facts=facts)
            assert got.equals(expected, null_equal=True), (program, ids[:2])
            assert got.get_column("suppressed").sum() == expected.get_column("suppressed").sum()
    assert evaluation_metric_rows(tables, filters, every, min_cell_size=k).equals(
        compute_metrics(tables, filters, min_cell_size=k, metric_ids=every), null_equal=True)


@pytest.mark.parametrize("setting", range(len(SETTINGS) + 1))
def test_metric_rows_from_facts_are_the_engines(sample: Tables, generated: Tables, setting: int) -> None:
    for tables in (sample, generated):
        filters, k = SETTINGS[setting] if setting < len(SETTINGS) else _agency_setting(tables)
        _check_same_metric_rows(tables, filters, k)


def test_metric_rows_from_facts_suppress_some_cells(generated: Tables) -> None:
    """The comparison above covers suppressed rows: at k = 11 some program's rows are withheld."""
    facts = participant_facts(generated, AS_OF)
    ids = evaluation_metric_ids(["rearrest"])
    flags = [evaluation_metric_rows(generated, Filters(as_of=AS_OF, program_ids=(p,)), ids, min_cell_size=11,
                                    facts=facts).get_column("suppressed").any()
             for p in _programs(generated)[1:]]
    assert any(flags)


def test_facts_at_another_as_of_are_refused(generated: Tables) -> None:
    facts = participant_facts(generated, dt.date(2025, 1, 1))
    with pytest.raises(ValueError, match="as of"):
        evaluate(generated, Filters(as_of=AS_OF), facts=facts)


def test_facts_without_a_measure_are_found_again(generated: Tables) -> None:
    """Facts found for rearrest only still give the full evaluation: the missing measures are found."""
    filters = Filters(as_of=AS_OF)
    facts = participant_facts(generated, AS_OF, measures=("rearrest",))
    assert facts.measures == ("rearrest",) and not facts.statuses
    assert evaluate(generated, filters, facts=facts) == evaluation_before.evaluate(generated, filters)


def test_unknown_part_is_refused(generated: Tables) -> None:
    with pytest.raises(ValueError, match="unknown evaluation part"):
        evaluate(generated, Filters(as_of=AS_OF), parts=("windows", "curves"))


def test_facts_keep_every_participant_enrolled_by_the_as_of_date(generated: Tables) -> None:
    facts = participant_facts(generated, AS_OF)
    enrolled = generated.participants.filter(generated.participants["enrollment_date"] <= AS_OF)
    ids = facts.frame.get_column("participant_id").to_list()
    assert ids == enrolled.get_column("participant_id").to_list()


def _statuses_before(people: pl.DataFrame, checks: pl.DataFrame, windows: list[int]) -> pl.DataFrame:
    """``reintegration.statuses_at_windows`` as it was (filtered aggregations inside each group)."""
    from dashboard.metrics.recidivism import add_months_expr
    from dashboard.metrics.reintegration import EMPLOYMENT_ORDER, HOUSING_ORDER, checks_column, status_column

    def rank(column: str, order: tuple[str, ...]) -> pl.Expr:
        return pl.col(column).replace_strict(list(order), list(range(len(order))), default=None, return_dtype=pl.Int8)

    def status_at(domain: str, in_window: pl.Expr, w: int) -> pl.Expr:
        has_value = in_window & pl.col(domain).is_not_null()
        latest = pl.col("check_date").filter(has_value).max()
        return pl.col(f"_{domain}_rank").filter(has_value & (pl.col("check_date") == latest)).min().alias(
            status_column(domain, w))

    index = people.lazy().select("participant_id", "index_date").unique("participant_id")
    rows = (checks.lazy().select("participant_id", "check_date", "employment", "housing")
            .join(index, on="participant_id", how="inner").filter(pl.col("check_date") > pl.col("index_date"))
            .with_columns(rank("employment", EMPLOYMENT_ORDER).alias("_employment_rank"),
                          rank("housing", HOUSING_ORDER).alias("_housing_rank"),
                          *(add_months_expr(pl.col("index_date"), w).alias(f"_end_{w}") for w in windows)))
    aggs: list[pl.Expr] = []
    for w in windows:
        in_window = pl.col("check_date") <= pl.col(f"_end_{w}")
        aggs += [status_at("employment", in_window, w), status_at("housing", in_window, w),
                 in_window.cast(pl.Int64).sum().alias(checks_column(w))]
    return rows.group_by("participant_id").agg(aggs).with_columns(
        pl.col(status_column(domain, w)).replace_strict(list(range(len(order))), list(order), default=None,
                                                        return_dtype=pl.String)
        for w in windows for domain, order in (("employment", EMPLOYMENT_ORDER), ("housing", HOUSING_ORDER))
    ).collect()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_statuses_at_windows_are_unchanged(seed: int) -> None:
    """The statuses at 6 and 12 months (one plain maximum per participant) equal the former
    filtered aggregations, with same-date ties, missing values, a value outside the contract's
    order, checks on the window's last day and before the index date."""
    from dashboard.metrics.reintegration import EMPLOYMENT_ORDER, HOUSING_ORDER, statuses_at_windows

    rng = random.Random(seed)
    base = dt.date(2021, 1, 31)
    people = pl.DataFrame({
        "participant_id": [f"p{i}" for i in range(300)],
        "index_date": [base + dt.timedelta(days=rng.randrange(0, 400)) for _ in range(300)],
    })
    index = dict(zip(people["participant_id"], people["index_date"]))
    rows = []
    for i in range(3000):
        pid = f"p{rng.randrange(0, 320)}"  # some checks belong to nobody in ``people``
        start = index.get(pid, base)
        day = start + dt.timedelta(days=rng.choice([0, 1, 30, 181, 182, 183, 365, 366, rng.randrange(-30, 420)]))
        rows.append({
            "participant_id": pid, "check_date": day,
            "employment": rng.choice([*EMPLOYMENT_ORDER, None, None, "retired"]),
            "housing": rng.choice([*HOUSING_ORDER, None, "unknown"]),
        })
    checks = pl.DataFrame(rows)
    want = _statuses_before(people, checks, [6, 12]).sort("participant_id")
    got = statuses_at_windows(people, checks, [6, 12]).collect().sort("participant_id")
    assert got.columns == want.columns
    assert got.to_dicts() == want.to_dicts()
