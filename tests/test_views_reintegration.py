"""The display helpers of the reintegration page: rates with their coverage beside them, and the
warning when coverage is low. Rows are built as the engine gives them (``compute_metrics``)."""

from __future__ import annotations

from typing import Any

import polars as pl

from dashboard import views, views_trends
from dashboard.metrics.engine import OUTPUT_SCHEMA


def _row(metric: str, by: dict[str, str | None], num: int | None, den: float | None, value: float | None,
         suppressed: bool = False) -> dict[str, Any]:
    group = {"program_id": None, "agency_id": None, "cohort": None, **by}
    return {"metric": metric, "group_by": list(by), "group": group, "numerator": num, "denominator": den,
            "value": value, "ci_low": None if value is None else value - 0.05,
            "ci_high": None if value is None else value + 0.05, "suppressed": suppressed}


FRAME = pl.DataFrame([
    _row("reintegration_check_coverage_12m", {}, 50, 100, 0.5),
    _row("reintegration_check_coverage_12m", {"cohort": "pilot"}, 40, 60, 40 / 60),
    _row("reintegration_check_coverage_12m", {"cohort": "comparison"}, None, None, None, suppressed=True),
    _row("reintegration_check_coverage_12m", {"cohort": None}, 10, 30, 1 / 3),
    _row("employment_rate_12m", {}, 20, 40, 0.5),
    _row("employment_rate_12m", {"cohort": "pilot"}, 15, 30, 0.5),
    # comparison: suppressed; Unassigned: nobody with a status (no row)
    _row("employment_rate_12m", {"cohort": "comparison"}, None, None, None, suppressed=True),
], schema=OUTPUT_SCHEMA)


def test_rates_with_coverage_table() -> None:
    table = views_trends.rates_with_coverage_table(
        FRAME, [("employment_rate_12m", "Employed")], ("reintegration_check_coverage_12m", "Coverage"),
        by=("cohort",), key_titles={"cohort": "Cohort"}, min_cell_size=11,
    )
    assert table.columns == ["Cohort", "Employed", "Employed: n / N", "Coverage", "Coverage: n / N",
                             "Coverage note"]
    assert table.to_dicts() == [
        {"Cohort": "Pilot", "Employed": "50.0% [45.0%, 55.0%]", "Employed: n / N": "15 / 30",
         "Coverage": "66.7% [61.7%, 71.7%]", "Coverage: n / N": "40 / 60", "Coverage note": ""},
        {"Cohort": "Comparison", "Employed": "Suppressed (n<11)", "Employed: n / N": "—",
         "Coverage": "Suppressed (n<11)", "Coverage: n / N": "—", "Coverage note": ""},
        {"Cohort": "Unassigned", "Employed": "—", "Employed: n / N": "—",
         "Coverage": "33.3% [28.3%, 38.3%]", "Coverage: n / N": "10 / 30", "Coverage note": "Low (below 60%)"},
    ]
    overall = views_trends.rates_with_coverage_table(
        FRAME, [("employment_rate_12m", "Employed")], ("reintegration_check_coverage_12m", "Coverage"),
        by=(), key_titles={}, min_cell_size=11,
    )
    assert overall.row(0) == ("50.0% [45.0%, 55.0%]", "20 / 40", "50.0% [45.0%, 55.0%]", "50 / 100",
                              "Low (below 60%)")


def test_low_coverage_note_only_for_a_published_low_share() -> None:
    overall = views.overall_row(FRAME, "reintegration_check_coverage_12m")
    note = views_trends.low_coverage_note(overall, 12)
    assert note is not None and note.startswith("Only 50.0% of the 100 eligible participants")
    assert views_trends.low_coverage_note({**overall, "value": 0.6}, 12) is None  # at the threshold: not low
    assert views_trends.low_coverage_note({**overall, "suppressed": True}, 12) is None
    assert views_trends.low_coverage_note(None, 12) is None


def test_coverage_by_cohort_text() -> None:
    text = views_trends.coverage_by_cohort_text(FRAME, "reintegration_check_coverage_12m", 11)
    assert text == "Check coverage: pilot 66.7% (n=60), comparison Suppressed (n<11)"
    assert views_trends.coverage_by_cohort_text(FRAME, "reintegration_check_coverage_6m") == (
        "Check coverage: no eligible participants"
    )
