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
from pathlib import Path

import evaluation_before
import pytest

from dashboard import store
from dashboard.evaluation import PARTS, baseline_share_counts, evaluate, evaluation_metric_ids, participant_facts
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
