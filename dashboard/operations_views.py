"""What the Operations and Community voice pages show: engine output relabelled for charts and tables.

Streamlit-free, like :mod:`dashboard.views`, and computing nothing: the
numbers come from the metric engine (``compute_metrics``) and the series of
:mod:`dashboard.metrics.operations` and :mod:`dashboard.metrics.surveys`,
already suppressed and blanked. Costs, caseload and surveys describe the
programs and their staff, not a group of participants, so the participant
filters never apply to them (``docs/metrics.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from dashboard.views import UNASSIGNED, format_count, format_interval, format_value, humanise, suppression_label

PARTICIPANT_FILTERS_NOTE = (
    "The participant filters (cohort, risk level, supervision type) do not apply on this page: costs, caseload "
    "and surveys describe the programs and their staff, not a group of participants. The period applies to each "
    "measure's own date; the program filter applies to costs and surveys, the agency filter to caseload and surveys."
)
COST_DENOMINATORS: dict[str, str] = {
    "cost_per_participant": "the pilot participants served in it",
    "cost_per_completion": "the pilot participants who completed the program in it",
}
ALL_PROGRAMS = "All programs"
ALL_AGENCIES = "All agencies"
ALL_RESPONSES = "All responses"
QUESTION_LABELS: dict[str, str] = {
    "trust": "Trust", "safety": "Safety", "satisfaction": "Satisfaction", "coordination": "Coordination",
}
BREAKDOWN_TITLES: dict[str, str] = {
    "respondent_type": "Respondent type", "program_id": "Program", "agency_id": "Agency",
}
_TREND_SCHEMA: dict[str, Any] = {
    "period": pl.String, "series": pl.String, "value": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
    "denominator": pl.Int64, "suppressed": pl.Boolean,
}


def _label(value: str | None, names: Mapping[str, str]) -> str:
    return UNASSIGNED if value is None else names.get(value, value)


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


# --- costs -----------------------------------------------------------------------------------


def cost_rows(whole: pl.DataFrame, metric: str) -> pl.DataFrame:
    """Whole-period rows of one cost measure from ``cost_trend`` (program_id null = all programs):
    program_id, denominator, value, suppressed (no numerator: it is money, shown in the table)."""
    return whole.filter(pl.col("metric") == metric).select("program_id", "denominator", "value", "suppressed")


def cost_tile_help(row: Mapping[str, Any] | None, metric: str, min_cell_size: int) -> str:
    """The tile's help: the cost and the people it is divided by, or why nothing is shown."""
    people = COST_DENOMINATORS[metric]
    if row is None:
        return f"No one in the period: there are no {people.removeprefix('the ')}."
    if row.get("suppressed"):
        return f"Fewer than {min_cell_size} people in the denominator (or its complement): withheld."
    return (f"{_money(row.get('numerator'))} of cost in the period over {format_count(row.get('denominator'))} of "
            f"{people} (pilot cohort only; costs prorated by days).")


def cost_table(whole: pl.DataFrame, program_names: Mapping[str, str], min_cell_size: int) -> pl.DataFrame:
    """Per program (then all programs): cost in the period, people served, cost per participant,
    completions, cost per completion; withheld cells say so."""
    mark = suppression_label(min_cell_size)
    by: dict[str | None, dict[str, Any]] = {}
    for rec in whole.iter_rows(named=True):
        by.setdefault(rec["program_id"], {})[rec["metric"]] = rec
    order = sorted((p for p in by if p is not None), key=lambda p: _label(p, program_names)) + (
        [None] if None in by else [])
    out: dict[str, list[str]] = {c: [] for c in (
        "Program", "Cost in the period", "Pilot participants served", "Cost per participant",
        "Completions", "Cost per completion")}
    for program in order:
        served, completion = by[program].get("cost_per_participant"), by[program].get("cost_per_completion")
        cost = next((r["numerator"] for r in (served, completion) if r and not r["suppressed"]), None)
        out["Program"].append(ALL_PROGRAMS if program is None else _label(program, program_names))
        out["Cost in the period"].append(_money(cost))
        for row, n_col, v_col in ((served, "Pilot participants served", "Cost per participant"),
                                  (completion, "Completions", "Cost per completion")):
            if row is None:
                out[n_col].append("0")
                out[v_col].append("—")
            elif row["suppressed"]:
                out[n_col].append(mark)
                out[v_col].append(mark)
            else:
                out[n_col].append(format_count(row["denominator"]))
                out[v_col].append(_money(row["value"]))
    return pl.DataFrame(out, schema={c: pl.String for c in out})


def cost_trend_frame(trend: pl.DataFrame, metric: str, program_names: Mapping[str, str]) -> pl.DataFrame:
    """Quarter rows of one cost measure for ``charts.trend_chart``: one series per program and all programs."""
    rows = trend.filter((pl.col("metric") == metric) & pl.col("period").is_not_null())
    records = [{
        "period": rec["period"],
        "series": ALL_PROGRAMS if rec["program_id"] is None else _label(rec["program_id"], program_names),
        "value": rec["value"], "ci_low": None, "ci_high": None,
        "denominator": None if rec["denominator"] is None else int(rec["denominator"]),
        "suppressed": bool(rec["suppressed"]),
    } for rec in rows.iter_rows(named=True)]
    return pl.DataFrame(records, schema=_TREND_SCHEMA).sort("period", "series")


# --- caseload --------------------------------------------------------------------------------


def caseload_trend_frame(monthly: pl.DataFrame, agency_names: Mapping[str, str], column: str) -> pl.DataFrame:
    """Months of ``caseload_by_month`` for ``charts.trend_chart``: ``column`` (caseload_per_officer or
    officers_fte) per agency and for all agencies; N = the active caseload."""
    records = [{
        "period": rec["month"].strftime("%Y-%m"),
        "series": ALL_AGENCIES if rec["agency_id"] is None else _label(rec["agency_id"], agency_names),
        "value": rec[column], "ci_low": None, "ci_high": None, "denominator": rec["caseload"], "suppressed": False,
    } for rec in monthly.iter_rows(named=True)]
    return pl.DataFrame(records, schema=_TREND_SCHEMA)


def caseload_table(monthly: pl.DataFrame, agency_names: Mapping[str, str]) -> pl.DataFrame:
    """Month, agency, active caseload, officer FTE and their ratio (vacancy months say so)."""
    out: dict[str, list[str]] = {c: [] for c in (
        "Month", "Agency", "Active caseload", "Officer FTE", "Caseload per officer")}
    for rec in monthly.iter_rows(named=True):
        out["Month"].append(rec["month"].strftime("%Y-%m"))
        out["Agency"].append(ALL_AGENCIES if rec["agency_id"] is None else _label(rec["agency_id"], agency_names))
        out["Active caseload"].append(format_count(rec["caseload"]))
        out["Officer FTE"].append(f"{rec['officers_fte']:,.2f}")
        ratio = rec["caseload_per_officer"]
        out["Caseload per officer"].append("no officer time" if ratio is None else f"{ratio:,.2f}")
    return pl.DataFrame(out, schema={c: pl.String for c in out})


# --- community voice -------------------------------------------------------------------------


def question_of(metric: str) -> str:
    return metric.removeprefix("survey_favourable_")


def group_labels(by: str, program_names: Mapping[str, str], agency_names: Mapping[str, str]) -> dict[str, str]:
    return dict(program_names) if by == "program_id" else dict(agency_names) if by == "agency_id" else {}


def _group_text(by: str, value: str | None, names: Mapping[str, str]) -> str:
    if value is None:
        return UNASSIGNED
    return humanise(value) if by == "respondent_type" else names.get(value, value)


def survey_group_frame(trend: pl.DataFrame, metric: str, by: str, names: Mapping[str, str]) -> pl.DataFrame:
    """Whole-period rows of one question by ``by``, in the vocabulary of ``charts.rate_bars``."""
    rows = trend.filter((pl.col("metric") == metric) & pl.col("period").is_null() & (pl.col("group_by") == by))
    return pl.DataFrame({
        "category": [_group_text(by, v, names) for v in rows["group"].to_list()],
        "value": rows["value"], "ci_low": rows["ci_low"], "ci_high": rows["ci_high"],
        "numerator": rows["numerator"], "denominator": rows["denominator"], "suppressed": rows["suppressed"],
    }, schema={"category": pl.String, "value": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
               "numerator": pl.Int64, "denominator": pl.Int64, "suppressed": pl.Boolean})


def survey_question_frame(frame: pl.DataFrame, metrics: list[str]) -> pl.DataFrame:
    """The overall row of each question (engine output), for ``charts.rate_bars``."""
    records = []
    for metric in metrics:
        rows = frame.filter((pl.col("metric") == metric) & (pl.col("group_by").list.len() == 0))
        for rec in rows.iter_rows(named=True):
            records.append({
                "category": QUESTION_LABELS.get(question_of(metric), metric), "value": rec["value"],
                "ci_low": rec["ci_low"], "ci_high": rec["ci_high"],
                "numerator": None if rec["numerator"] is None else int(rec["numerator"]),
                "denominator": None if rec["denominator"] is None else int(rec["denominator"]),
                "suppressed": bool(rec["suppressed"]),
            })
    return pl.DataFrame(records, schema={"category": pl.String, "value": pl.Float64, "ci_low": pl.Float64,
                                         "ci_high": pl.Float64, "numerator": pl.Int64, "denominator": pl.Int64,
                                         "suppressed": pl.Boolean})


def survey_trend_frame(trend: pl.DataFrame, metric: str, by: str | None, names: Mapping[str, str]) -> pl.DataFrame:
    """Quarter rows of one question for ``charts.trend_chart``: all responses, and each group of ``by``."""
    rows = trend.filter((pl.col("metric") == metric) & pl.col("period").is_not_null())
    records = [{
        "period": rec["period"],
        "series": ALL_RESPONSES if rec["group_by"] == "" else _group_text(by or "", rec["group"], names),
        "value": rec["value"], "ci_low": rec["ci_low"], "ci_high": rec["ci_high"],
        "denominator": rec["denominator"], "suppressed": bool(rec["suppressed"]),
    } for rec in rows.iter_rows(named=True)]
    return pl.DataFrame(records, schema=_TREND_SCHEMA).sort("period", "series")


def survey_table(trend: pl.DataFrame, metric: str, by: str, names: Mapping[str, str], min_cell_size: int,
                 ) -> pl.DataFrame:
    """Whole-period rows of one question (all responses, then each group of ``by``) with N and interval."""
    mark = suppression_label(min_cell_size)
    rows = trend.filter((pl.col("metric") == metric) & pl.col("period").is_null())
    out: dict[str, list[str]] = {c: [] for c in (BREAKDOWN_TITLES[by], "Favourable", "95% CI", "Favourable answers",
                                                 "Answers (N)")}
    for rec in rows.iter_rows(named=True):
        out[BREAKDOWN_TITLES[by]].append(ALL_RESPONSES if rec["group_by"] == "" else _group_text(by, rec["group"], names))
        hidden = bool(rec["suppressed"])
        out["Favourable"].append(mark if hidden else format_value(rec["value"], "rate"))
        out["95% CI"].append("—" if hidden else format_interval(rec["ci_low"], rec["ci_high"]))
        out["Favourable answers"].append("—" if hidden else format_count(rec["numerator"]))
        out["Answers (N)"].append("—" if hidden else format_count(rec["denominator"]))
    return pl.DataFrame(out, schema={c: pl.String for c in out})
