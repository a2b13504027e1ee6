"""The Great Expectations suites come from the contract and agree with the row rules.

The loader takes each row's rule ids from polars (fast at millions of rows);
GX validates every file through the suites. These tests prove the two give
every row of the messy sample (every kind of planted defect) the same rules.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from conftest import MESSY_DIR
from dashboard import contract, readers, validation
from dashboard.ingest import check_extract, resolve_as_of
from data_checks import suites

AS_OF = resolve_as_of(MESSY_DIR, None)


@pytest.fixture(scope="module")
def runner() -> suites.SuiteRunner:
    return suites.SuiteRunner(AS_OF)


def test_suites_cover_every_contract_rule() -> None:
    for table in contract.TABLES:
        rules = {spec.rule for spec in suites.expectation_specs(table, AS_OF)}
        assert rules == set(validation.rule_expressions(table, AS_OF)), table.name
        for col in table.columns:
            assert (contract.rule_id("required", col.name) in rules) is col.required


def test_dates_after_as_of_are_allowed_only_for_the_three_contract_columns() -> None:
    allowed = {
        (t.name, s.kwargs["column"].removesuffix(validation.TYPED_SUFFIX))
        for t in contract.TABLES
        for c in t.columns
        if c.type == "date"
        for s in suites.expectation_specs(t, AS_OF)
        if s.rule == f"after_as_of:{c.name}"
    }
    dates = {(t.name, c.name) for t in contract.TABLES for c in t.columns if c.type == "date"}
    assert dates - allowed == {
        ("programs", "end_date"), ("agreements", "expires_date"), ("program_costs", "period_end")
    }


@pytest.mark.parametrize("table_name", [t for t in contract.TABLE_NAMES if t in readers.find_files(MESSY_DIR)])
def test_gx_and_polars_give_every_messy_row_the_same_rules(runner: suites.SuiteRunner, table_name: str) -> None:
    table = contract.TABLES_BY_NAME[table_name]
    delivered = readers.read_file(table_name, readers.find_files(MESSY_DIR)[table_name])
    frame = validation.validation_frame(table, delivered.contract_frame())
    rules = validation.rule_expressions(table, AS_OF)
    by_polars = validation.with_rule_ids(frame, rules)[validation.RULES].to_list()
    check = runner.validate(table, frame)
    by_gx = check.rules_by_row(frame, list(rules))
    assert by_gx == by_polars
    # the sample plants a defect in every table except where the whole file goes
    assert any(by_polars) or delivered.missing_required
    assert check.success is not any(by_polars)


def test_a_badly_written_value_breaks_only_its_format_rule(runner: suites.SuiteRunner, tmp_path: Path) -> None:
    # exit_date "2024/01/05" is badly written: only date_format:exit_date, no date order
    # (enrollment 2024-02-01 is later) and no after-as-of; exit_reason is set, so no
    # required_when either (the exit date is present, just badly written).
    (tmp_path / "participants.csv").write_text(
        "participant_id,program_id,cohort,enrollment_date,supervision_type,risk_level,exit_date,exit_reason\n"
        "P1,PR1,pilot,2024-02-01,none,low,2024/01/05,completed\n"
    )
    table = contract.TABLES_BY_NAME["participants"]
    delivered = readers.read_file("participants", tmp_path / "participants.csv")
    frame = validation.validation_frame(table, delivered.contract_frame())
    rules = validation.rule_expressions(table, dt.date(2025, 1, 1))
    assert validation.with_rule_ids(frame, rules)[validation.RULES].to_list() == [["date_format:exit_date"]]
    check = suites.SuiteRunner(dt.date(2025, 1, 1)).validate(table, frame)
    assert check.rules_by_row(frame, list(rules)) == [["date_format:exit_date"]]


def test_check_writes_html_data_docs_and_changes_no_database(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    report = check_extract(MESSY_DIR, docs_dir=docs)
    assert report.exit_code == 1
    assert not report.wrote_database
    assert (docs / "index.html").exists()
    html = (docs / "index.html").read_text()
    assert "contract_v1.participants" in html


def test_date_order_pairs_are_checked_once_per_difference_and_mapped_back_to_every_row(
    runner: suites.SuiteRunner, tmp_path: Path
) -> None:
    """A date-order rule sees a pair only through its difference, so the profile
    keeps one real pair per difference (a million participants: about 36,000
    profile rows instead of 527,000); GX's verdict on that pair still reaches
    every row that shares the difference, and only those."""
    rows = [
        ("P1", "2024-01-10", "2024-01-05"),  # exit 5 days before enrollment: broken
        ("P2", "2024-03-20", "2024-03-15"),  # the same difference, other dates: broken
        ("P3", "2024-01-10", "2024-01-15"),  # 5 days after: fine
        ("P4", "2024-03-20", "2024-03-25"),  # the same, fine
        ("P5", "2024-01-10", "2024-01-10"),  # same day: fine (on or after)
        ("P6", "2024-01-10", ""),  # no exit: the pair is not checked
        ("P7", "2024-01-10", "2024-01-09"),  # one day before: broken
    ]
    (tmp_path / "participants.csv").write_text(
        "participant_id,program_id,cohort,enrollment_date,supervision_type,risk_level,exit_date,exit_reason\n"
        + "".join(f"{p},PR1,pilot,{start},none,low,{end},{'completed' if end else ''}\n" for p, start, end in rows)
    )
    table = contract.TABLES_BY_NAME["participants"]
    delivered = readers.read_file("participants", tmp_path / "participants.csv")
    frame = validation.validation_frame(table, delivered.contract_frame())
    rule = "date_order:exit_date>=enrollment_date"
    profile = suites.profile_of(table, AS_OF, frame)
    (pair,) = [i for i, g in enumerate(profile.groups) if g == ("exit_date__v", "enrollment_date__v")]
    assert profile.by_difference == {pair}
    pairs = profile.frame.filter(pl.col(suites.GROUP) == pair).select("exit_date__v", "enrollment_date__v")
    # differences -5, +5, 0, missing exit, -1: one real pair each, the first in the file
    assert pairs.rows() == [
        (dt.date(2024, 1, 5), dt.date(2024, 1, 10)),
        (dt.date(2024, 1, 15), dt.date(2024, 1, 10)),
        (dt.date(2024, 1, 10), dt.date(2024, 1, 10)),
        (None, dt.date(2024, 1, 10)),
        (dt.date(2024, 1, 9), dt.date(2024, 1, 10)),
    ]
    check = runner.validate_profile(profile)
    assert check.unexpected_values()[rule] == 2  # two distinct differences broken
    assert check.rows_by_rule(frame)[rule] == {0, 1, 6}
    by_polars = validation.with_rule_ids(frame, validation.rule_expressions(table, AS_OF))[validation.RULES]
    assert [i for i, r in enumerate(by_polars.to_list()) if rule in r] == [0, 1, 6]
