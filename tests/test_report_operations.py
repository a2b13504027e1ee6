"""The report package carries cost per participant, cost per completion and the survey measures
when their tables hold rows, and is unchanged when they do not."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
from test_metrics_operations import COST_AS_OF, COSTS, PEOPLE, frames

from dashboard.report import OPERATIONS_MEASURES, build_content, build_report

D = dt.date


def survey_answers() -> list[dict[str, Any]]:
    # 2026 Q1: trust 30 answers, 21 favourable (scores 4 or 5) -> 70%; safety 4 answers (suppressed at k=11).
    out = [{"response_id": f"t{i}", "survey_date": D(2026, 2, 1), "respondent_type": "resident", "question": "trust",
            "score": 4 if i < 21 else 2, "program_id": "P1"} for i in range(30)]
    out += [{"response_id": f"s{i}", "survey_date": D(2026, 2, 1), "respondent_type": "staff", "question": "safety",
             "score": 5, "program_id": "P1"} for i in range(4)]
    return out


def test_report_measures_for_costs_and_surveys() -> None:
    tables = frames(participants=PEOPLE, program_costs=COSTS, surveys=survey_answers())
    content = build_content(tables, period="2026Q1", as_of=COST_AS_OF, min_cell_size=2)
    rows = {r["Metric ID"]: r for r in content.operations.iter_rows(named=True)}
    # Period 2026-01-01..2026-03-31, as in the cost fixture: 27875/12 of cost over 8 served (27875/96 each)
    # and 3 completions (27875/36 each); k = 2 publishes both overall rows.
    assert rows["cost_per_participant"]["N"] == 8
    assert rows["cost_per_participant"]["Numerator"] == 2322.92 and rows["cost_per_participant"]["Value"] == 290.36
    assert rows["cost_per_completion"]["N"] == 3 and rows["cost_per_completion"]["Value"] == 774.31
    assert (rows["survey_favourable_trust"]["Numerator"], rows["survey_favourable_trust"]["N"]) == (21, 30)
    assert rows["survey_favourable_trust"]["Value"] == 0.7
    # No answers to satisfaction or coordination in the period: listed, with the reason.
    assert rows["survey_favourable_satisfaction"]["Note"] == "no one in the denominator in the period"
    assert [r for r in OPERATIONS_MEASURES if r in rows] == list(rows)
    assert any(m == "cost_per_completion" for _, m, _ in content.definitions)


def test_report_suppresses_small_cost_and_survey_cells(tmp_path: Path) -> None:
    tables = frames(participants=PEOPLE, program_costs=COSTS, surveys=survey_answers())
    result = build_report(tables, period="2026Q1", as_of=COST_AS_OF, min_cell_size=11, out_dir=tmp_path)
    rows = {r["Metric ID"]: r for r in result.content.operations.iter_rows(named=True)}
    # 8 served and 3 completions are below 11; 4 safety answers too. 30 trust answers with 21 favourable pass.
    for metric in ("cost_per_participant", "cost_per_completion", "survey_favourable_safety"):
        assert rows[metric]["Suppressed"] and rows[metric]["N"] is None and rows[metric]["Value"] is None
    assert not rows["survey_favourable_trust"]["Suppressed"]
    page = result.html.read_text(encoding="utf-8")
    assert "Costs and community voice" in page and "participant filters do not apply" in page
    names = zipfile.ZipFile(result.zip).namelist()
    assert "tables/costs_and_surveys.csv" in names and "tables/costs_and_surveys.xlsx" in names
    csv_text = (tmp_path / "tables" / "costs_and_surveys.csv").read_text(encoding="utf-8")
    assert "2322" not in csv_text  # the withheld cost rows carry no number


@pytest.mark.parametrize("program", [None, "P1"])
def test_a_version_1_report_has_no_operations_section(tmp_path: Path, program: str | None) -> None:
    tables = frames(participants=PEOPLE)
    result = build_report(tables, period="2026Q1", as_of=COST_AS_OF, program_id=program, out_dir=tmp_path)
    assert result.content.operations.height == 0
    assert "Costs and community voice" not in result.html.read_text(encoding="utf-8")
    assert not any("costs_and_surveys" in n for n in zipfile.ZipFile(result.zip).namelist())
