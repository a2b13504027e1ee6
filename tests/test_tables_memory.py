"""The shared tables leave out the columns nothing reads, and that changes no number.

:func:`dashboard.metrics.tables.load_tables` reads every contract table but
the columns in :data:`~dashboard.metrics.tables.UNREAD_COLUMNS` (row
identifiers and a few attributes only the data steward's checks use), which
keeps the dashboard's memory smaller at state scale (docs/performance.md,
"Tables in memory"). These tests hold that choice to its promise:

- no module that works on the loaded tables names such a column;
- every engine output (metrics, breakdowns, partnership and operations views,
  the pilot evaluation) is identical with and without those columns, under
  several filters, with suppression on and off;
- the database read gives exactly the full read minus those columns, on
  DuckDB (read column by column) and on PostgreSQL; the steward's checks still
  get every column.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from dataclasses import fields
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

import dashboard.db.duckdb as duckdb_backend
from dashboard import store
from dashboard.evaluation import baseline_share_counts, evaluate
from dashboard.ingest import load_extract
from dashboard.metrics import partnerships
from dashboard.metrics.breakdowns import metric_breakdown
from dashboard.metrics.engine import compute_metrics, participant_counts, referral_counts
from dashboard.metrics.families import operations, surveys
from dashboard.metrics.tables import CATEGORICAL_COLUMNS, UNREAD_COLUMNS, Filters, Tables, load_tables, read_columns, resolve_as_of
from dashboard.sample import generate_tables
from dashboard.stewardship.overview import read_tables as steward_read_tables

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "sample_data"

# Code that may name the unread columns: it reads rows itself (the loader, the
# steward's checks), writes them (the sample generator, the migrations), or
# declares them (the contract and what is derived from it).
_MAY_NAME = (
    "dashboard/contract.py",
    "dashboard/contract_docs.py",
    "dashboard/data_docs.py",
    "dashboard/quality_checks.py",
    "dashboard/validation.py",
    "dashboard/drift_fixtures.py",
    "dashboard/drift_tests.py",
    "dashboard/readers.py",
    "dashboard/metrics/tables.py",
    "dashboard/db/",
    "dashboard/ingest/",
    "dashboard/migrations/",
    "dashboard/sample/",
    "dashboard/stewardship/",
)


def test_no_code_working_on_the_loaded_tables_names_an_unread_column() -> None:
    names = sorted({column for columns in UNREAD_COLUMNS.values() for column in columns})
    word = re.compile(r"\b(" + "|".join(names) + r")\b")
    found = []
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(_MAY_NAME):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if word.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, "code reading the shared tables names a column load_tables leaves out:\n" + "\n".join(found)


def test_the_steward_pages_still_get_every_column() -> None:
    # the quality checks (stewardship.read_tables) read the tables whole themselves
    source = (ROOT / "dashboard/stewardship/overview.py").read_text(encoding="utf-8")
    assert "load_tables(engine, all_columns=True, plain_strings=True)" in source


def _narrow(tables: Tables) -> Tables:
    """``tables`` without the unread columns, as :func:`load_tables` gives them."""
    frames = {f.name: getattr(tables, f.name) for f in fields(Tables)}
    return Tables(**{name: frame.drop(UNREAD_COLUMNS.get(name, ())) for name, frame in frames.items()})


def _plain(value: Any) -> Any:
    """An output made comparable: frames as their rows (in order) and schema."""
    if isinstance(value, pl.DataFrame):
        return (value.schema, value.to_dicts())
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _outputs(tables: Tables, filters: Filters, k: int) -> dict[str, Any]:
    """Every engine output the pages, exports and commands draw (one program of the evaluation)."""
    as_of = resolve_as_of(tables, filters.as_of)
    program = filters.program_ids[0] if filters.program_ids else "P01"
    periods = ((f"{as_of.year}", dt.date(as_of.year, 1, 1), as_of), ("all", dt.date(2000, 1, 1), as_of))
    out: dict[str, Any] = {
        "metrics": compute_metrics(tables, filters, min_cell_size=k),
        "participants": participant_counts(tables, filters, min_cell_size=k),
        "referrals": referral_counts(tables, filters, min_cell_size=k),
        "breakdown": metric_breakdown(tables, filters, "violation_rate_per_100_pm", ["quarter", "cohort"],
                                      min_cell_size=k),
        "recidivism_breakdown": metric_breakdown(tables, filters, "recidivism_rearrest_12m", ["sex"], min_cell_size=k),
        "co_responder": partnerships.co_responder_share(tables, filters, ("agency_id",), min_cell_size=k),
        "agreement_status": partnerships.agreement_status_counts(tables, filters),
        "flow": partnerships.referral_flow(tables, filters, min_cell_size=k),
        "without_agreement": partnerships.referrals_without_agreement(tables, filters, min_cell_size=k),
        "open_by_age": partnerships.open_referrals_by_age(tables, filters, min_cell_size=k),
        "caseload": operations.caseload_by_month(tables, filters, as_of),
        "costs": operations.cost_trend(tables, filters, as_of, periods, min_cell_size=k),
        "surveys": surveys.survey_trend(tables, filters, as_of, periods, "respondent_type", min_cell_size=k),
        "evaluation": evaluate(tables, filters, program_id=program, min_cell_size=k),
        "baseline": baseline_share_counts(tables, filters, program_id=program),
    }
    return out


_FILTERS = (
    Filters(),
    Filters(start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), program_ids=("P02",)),
    Filters(cohorts=("pilot",), risk_levels=("high", None), agency_ids=("A03",)),
    Filters(as_of=dt.date(2025, 9, 30), age_bands=("18-24", "25-34"), sexes=("female",)),
)


@pytest.fixture(scope="module")
def sample_tables() -> Tables:
    return Tables.from_frames(**generate_tables(participants=1500, seed=7))


@pytest.mark.parametrize("k", [0, 11])
@pytest.mark.parametrize("filters", _FILTERS, ids=["none", "period-program", "participants-agency", "as-of-age"])
def test_leaving_out_the_unread_columns_changes_no_output(sample_tables: Tables, filters: Filters, k: int) -> None:
    narrow = _narrow(sample_tables)
    assert "event_id" not in narrow.supervision_events.columns
    assert _plain(_outputs(narrow, filters, k)) == _plain(_outputs(sample_tables, filters, k))


def test_load_tables_reads_all_but_the_unread_columns(engine: sa.engine.Engine) -> None:
    load_extract(SAMPLE_DIR, engine)
    narrow = load_tables(engine)
    whole = load_tables(engine, all_columns=True)
    for name in (*UNREAD_COLUMNS, "participants", "police_contacts", "agreements", "program_costs", "load_runs"):
        got, full = getattr(narrow, name), getattr(whole, name)
        assert got.columns == (read_columns(name) if name in UNREAD_COLUMNS else full.columns), name
        assert full.height > 0, name
        # same rows in the same order, the unread columns left out
        assert_frame_equal(got, full.select(got.columns), check_exact=True)
    steward = steward_read_tables(engine)
    assert "event_id" in steward["supervision_events"].columns
    assert "source_agency_id" in steward["recidivism_events"].columns
    # the numbers of the metrics command: equal from either read
    filters = Filters(start=dt.date(2025, 1, 1))
    assert_frame_equal(compute_metrics(narrow, filters), compute_metrics(whole, filters))


def test_duckdb_reads_column_by_column_exactly_as_in_one_query(
    duckdb_engine: sa.engine.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_extract(SAMPLE_DIR, duckdb_engine)
    names = ["participants", "referrals", "supervision_events", "recidivism_events", "program_costs", "staffing"]
    by_column = store.read_tables(duckdb_engine, names, {"referrals": read_columns("referrals")})
    monkeypatch.setattr(duckdb_backend, "READ_COLUMN_BY_COLUMN", False)
    in_one_query = store.read_tables(duckdb_engine, names, {"referrals": read_columns("referrals")})
    for name in names:
        assert by_column[name].height > 0, name
        assert_frame_equal(by_column[name], in_one_query[name], check_exact=True)
    assert by_column["referrals"].columns == read_columns("referrals")
    assert by_column["program_costs"].schema["amount"] == pl.Decimal(18, 2)


def _plain_strings(tables: Tables) -> Tables:
    """``tables`` with the :data:`CATEGORICAL_COLUMNS` as plain strings, as before they were categorical."""
    frames = {f.name: getattr(tables, f.name) for f in fields(Tables)}
    return Tables(**{name: frame.with_columns(pl.col(pl.Categorical).cast(pl.String)) for name, frame in frames.items()})


def test_the_loaded_tables_hold_the_enum_like_columns_as_categoricals(sample_tables: Tables) -> None:
    for table, names in CATEGORICAL_COLUMNS.items():
        for name in names:
            assert getattr(sample_tables, table).schema[name] == pl.Categorical(), (table, name)
    # participant, agency and program ids are categoricals wherever they are stored (13.5 M participant
    # ids and 12 M agency ids at 1M participants), so every join between tables is one of categoricals;
    # row identifiers (referral_id, contact_id) stay strings
    assert sample_tables.referrals.schema["referral_id"] == pl.String()
    for table in ("participants", "referrals", "supervision_events", "violations", "recidivism_events",
                  "police_contacts", "reintegration_checks", "surveys"):
        assert getattr(sample_tables, table).schema["participant_id"] == pl.Categorical(), table
    for table, column in (("agencies", "agency_id"), ("programs", "program_id"), ("agreements", "agency_id"),
                          ("participants", "supervising_agency_id"), ("staffing", "agency_id"),
                          ("program_costs", "program_id"), ("referrals", "provider_agency_id")):
        assert getattr(sample_tables, table).schema[column] == pl.Categorical(), (table, column)


@pytest.mark.parametrize("k", [0, 11])
@pytest.mark.parametrize("filters", _FILTERS, ids=["none", "period-program", "participants-agency", "as-of-age"])
def test_categorical_columns_change_no_output(sample_tables: Tables, filters: Filters, k: int) -> None:
    # the same rows and the same schema (every output column still a plain string)
    # whether the enum-like columns are categoricals or strings
    plain = _plain_strings(sample_tables)
    assert plain.supervision_events.schema["outcome"] == pl.String()
    assert _plain(_outputs(sample_tables, filters, k)) == _plain(_outputs(plain, filters, k))
