"""The report bundle's measures table shows employment and stable housing at 12 months beside
the check coverage when reintegration checks are stored, and nothing new otherwise.

The fixture is ``report_tables`` (30 participants of P01 released 2025-02-01; the 12-month window
ends 2026-02-01, before the as-of date 2026-06-30; period 2025Q1 applies to the index date) plus:

- X00..X19: one check on 2025-12-01. Employment: X00..X11 full_time, X12..X15 unemployed,
  X16..X19 not_in_labor_force. Housing: X00..X14 stable, X15..X19 homeless.
- X20..X24: one check on 2026-01-15 with housing stable and no employment status.
- X25..X29: never checked.

Employment at 12 months: 12 of the 16 in the labour force (X00..X15) = 75.0%.
Stable housing: X00..X14 and X20..X24 of the 25 with a housing status = 20/25 = 80.0%.
Coverage: 25 of 30 checked = 83.3%.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from test_report import AS_OF, report_tables

from dashboard.metrics.tables import Tables
from dashboard.report import REPORT_MEASURES, build_content
from dashboard.stats import wilson_interval

NEW_IDS = ["employment_rate_12m", "stable_housing_rate_12m", "reintegration_check_coverage_12m"]


def _with_checks() -> Tables:
    checks = []
    for i in range(25):
        employment = None if i >= 20 else "full_time" if i < 12 else "unemployed" if i < 16 else "not_in_labor_force"
        housing = "stable" if i < 15 or i >= 20 else "homeless"
        checks.append({"check_id": f"K{i:02d}", "participant_id": f"X{i:02d}", "agency_id": "A03",
                       "check_date": dt.date(2025, 12, 1) if i < 20 else dt.date(2026, 1, 15),
                       "employment": employment, "housing": housing})
    stored = Tables.from_frames(reintegration_checks=checks).reintegration_checks
    return dataclasses.replace(report_tables(), reintegration_checks=stored)


def test_measures_table_lists_employment_and_housing_with_coverage() -> None:
    content = build_content(_with_checks(), period="2025Q1", program_id="P01", as_of=AS_OF)
    rows = {r["Metric ID"]: r for r in content.measures.iter_rows(named=True)}
    assert list(rows)[-3:] == NEW_IDS  # after the version 1 measures, coverage last
    for metric, (num, den) in zip(NEW_IDS, [(12, 16), (20, 25), (25, 30)]):
        row = rows[metric]
        assert (row["Numerator"], row["N"], row["Suppressed"]) == (num, den, False)
        assert row["Rate"] == pytest.approx(num / den, abs=5e-5)
        low, high = wilson_interval(num, den)  # type: ignore[misc]
        assert (row["95% CI low"], row["95% CI high"]) == pytest.approx((low, high), abs=5e-5)
    assert rows["employment_rate_12m"]["Measure"] == "Employed at 12 months"
    defined = [definition[1] for definition in content.definitions]
    assert defined[-3:] == NEW_IDS
    assert any("check coverage" in text for text in content.limitations)


def test_measures_table_without_checks_is_as_before() -> None:
    content = build_content(report_tables(), period="2025Q1", program_id="P01", as_of=AS_OF)
    shown = content.measures["Metric ID"].to_list()
    assert shown == [m.key for m in REPORT_MEASURES if m.table is None]
    assert not set(NEW_IDS) & {d[1] for d in content.definitions}
    assert not any("check coverage" in text for text in content.limitations)


def test_small_cells_are_suppressed_in_the_report() -> None:
    # Only X00..X04 checked: coverage 5/30 has numerator 5 (1..10) -> suppressed; employment 5/5 and
    # housing 5/5 have a denominator below 11 -> suppressed.
    tables = _with_checks()
    tables = dataclasses.replace(tables, reintegration_checks=tables.reintegration_checks.head(5))
    content = build_content(tables, period="2025Q1", program_id="P01", as_of=AS_OF)
    rows = {r["Metric ID"]: r for r in content.measures.iter_rows(named=True)}
    for metric in NEW_IDS:
        assert rows[metric]["Suppressed"] is True and rows[metric]["N"] is None and rows[metric]["Rate"] is None
