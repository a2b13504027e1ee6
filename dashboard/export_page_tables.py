"""Numeric twins of the dashboard pages' tables (docs/exports.md, "Numeric downloads").

Each page table is written for a person ("53.0% (n=593)", "Suppressed (n<11)"); its twin here is
built from the same engine rows and holds the numbers: rates, interval bounds and values rounded
once (``export_numeric.DECIMALS``), counts as whole numbers, a withheld number empty with the
row's status ``suppressed`` (never a number, never the word in a number column), the page's own
group labels. ``dashboard.export_numeric`` writes them (header block, CSV, XLSX). Nothing here
computes a number: the engine did; suppression follows the page's table exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from dashboard.export import SUPPRESSED_TEXT
from dashboard.export_numeric import DECIMALS, NO_RECORDS, OTHER_DECIMALS, PUBLISHED, STATUS
from dashboard.metrics.definition import UNASSIGNED_LABEL


def _number(value: Any, digits: int) -> float | None:
    """``value`` rounded, or None when it is missing or not a number."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return round(float(value), digits)


def _whole(value: Any) -> int | None:
    number = _number(value, 0)
    return None if number is None else int(number)


def _status(entry: Mapping[str, Any] | None) -> str:
    if not entry:
        return NO_RECORDS
    return SUPPRESSED_TEXT if entry.get("suppressed") else PUBLISHED


def _typed(records: list[dict[str, Any]], schema: Mapping[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(records, schema=dict(schema), orient="row")


def rows_table(
    rows: pl.DataFrame,
    *,
    key_titles: Mapping[str, str],
    key_labels: Mapping[str, Mapping[Any, str]] | None = None,
    unit: str = "rate",
    measure: str | None = None,
    extra: Mapping[str, Sequence[float | None]] | None = None,
) -> pl.DataFrame:
    """The numeric twin of ``views.metric_table`` (same rows, same group labels).

    Columns: the group keys, Measure (when given), Rate (or Value), 95% CI low, 95% CI high,
    Numerator, N, any ``extra`` number columns (one value per row), Status. A suppressed row
    has every number empty.
    """
    from dashboard.views import humanise

    key_labels = key_labels or {}
    value_name = "Rate" if unit == "rate" else "Value"
    digits = DECIMALS if unit == "rate" else OTHER_DECIMALS
    records = []
    for i, row in enumerate(rows.iter_rows(named=True)):
        record: dict[str, Any] = {}
        for key, title in key_titles.items():
            raw = row.get(key)
            default = humanise(raw) if key == "cohort" else (raw if raw is not None else UNASSIGNED_LABEL)
            record[title] = key_labels.get(key, {}).get(raw, default)
        if measure is not None:
            record["Measure"] = measure
        source = None if row.get("suppressed") else row
        record[value_name] = _number((source or {}).get("value"), digits)
        record["95% CI low"] = _number((source or {}).get("ci_low"), digits)
        record["95% CI high"] = _number((source or {}).get("ci_high"), digits)
        record["Numerator"] = _whole((source or {}).get("numerator"))
        record["N"] = _whole((source or {}).get("denominator"))
        for name, values in (extra or {}).items():
            record[name] = None if source is None else _number(values[i], OTHER_DECIMALS)
        record[STATUS] = _status(row)
        records.append(record)
    schema: dict[str, Any] = {title: pl.String for title in key_titles.values()}
    if measure is not None:
        schema["Measure"] = pl.String
    schema |= {value_name: pl.Float64, "95% CI low": pl.Float64, "95% CI high": pl.Float64,
               "Numerator": pl.Int64, "N": pl.Int64}
    schema |= {name: pl.Float64 for name in (extra or {})}
    schema[STATUS] = pl.String
    return _typed(records, schema)


def _p_value(value: Any) -> float | None:
    """A p-value to 4 significant digits (a tiny p stays above zero)."""
    number = _number(value, 12)
    return None if number is None else float(f"{number:.4g}")


_COHORT_COLUMNS = ("rate", "95% CI low", "95% CI high", "numerator", "N", "status")


def _cohort_cells(prefix: str, entry: Mapping[str, Any] | None) -> dict[str, Any]:
    """Pilot or comparison rate, interval, n and N of one window; empty when withheld."""
    shown = entry if entry and not entry.get("suppressed") else {}
    status = _status(entry)
    if status == PUBLISHED and _number(shown.get("rate"), DECIMALS) is None:
        status = "not yet eligible"
    return {
        f"{prefix} rate": _number(shown.get("rate"), DECIMALS),
        f"{prefix} 95% CI low": _number(shown.get("ci_low"), DECIMALS),
        f"{prefix} 95% CI high": _number(shown.get("ci_high"), DECIMALS),
        f"{prefix} numerator": _whole(shown.get("numerator")),
        f"{prefix} N": _whole(shown.get("denominator")),
        f"{prefix} status": status,
    }


def _cohort_schema(prefix: str) -> dict[str, Any]:
    types = (pl.Float64, pl.Float64, pl.Float64, pl.Int64, pl.Int64, pl.String)
    return {f"{prefix} {name}": t for name, t in zip(_COHORT_COLUMNS, types, strict=True)}


def evaluation_windows_table(evaluation: Mapping[str, Any], measure_labels: Mapping[str, str]) -> pl.DataFrame:
    """The numeric twin of ``views_evaluation.evaluation_windows_table``: one row per measure and
    window, each cohort's rate, interval, n and N with its status, the difference with its interval,
    the p-value and the risk-adjusted rates (a note says why one is missing)."""
    from dashboard.views import humanise

    records = []
    for w in evaluation.get("windows", []):
        diff = w.get("difference") or {}
        adj = w.get("risk_adjusted") or {}
        adjusted = _number(adj.get("difference"), DECIMALS)
        records.append({
            "Measure": measure_labels.get(w["measure"], humanise(w["measure"])),
            "Window (months)": int(w["window_months"]),
            **_cohort_cells("Pilot", w.get("pilot")),
            **_cohort_cells("Comparison", w.get("comparison")),
            "Difference (pilot - comparison)": _number(diff.get("value"), DECIMALS),
            "Difference 95% CI low": _number(diff.get("ci_low"), DECIMALS),
            "Difference 95% CI high": _number(diff.get("ci_high"), DECIMALS),
            "p-value": _p_value(w.get("p_value")),
            "Risk-adjusted pilot rate": _number(adj.get("pilot"), DECIMALS),
            "Risk-adjusted comparison rate": _number(adj.get("comparison"), DECIMALS),
            "Risk-adjusted difference": adjusted,
            "Risk-adjusted note": None if adjusted is not None else (adj.get("reason") or None),
        })
    schema = {"Measure": pl.String, "Window (months)": pl.Int64, **_cohort_schema("Pilot"),
              **_cohort_schema("Comparison"), "Difference (pilot - comparison)": pl.Float64,
              "Difference 95% CI low": pl.Float64, "Difference 95% CI high": pl.Float64, "p-value": pl.Float64,
              "Risk-adjusted pilot rate": pl.Float64, "Risk-adjusted comparison rate": pl.Float64,
              "Risk-adjusted difference": pl.Float64, "Risk-adjusted note": pl.String}
    return _typed(records, schema)


def baseline_table(
    evaluation: Mapping[str, Any],
    min_cell_size: int,
    counts: Mapping[str, Mapping[str, tuple[int, int]]] | None = None,
) -> pl.DataFrame:
    """The numeric twin of ``views_evaluation.baseline_table``. A share that would give back a
    count of 1 to k − 1 is left empty with its effect size, and the row's Status is ``suppressed``,
    exactly where the page withholds it (``views_evaluation.small_share_counts``)."""
    from dashboard.views_evaluation import COVARIATE_WORDS, WWC_WORDS, small_share_counts

    small = small_share_counts(evaluation, counts, min_cell_size)
    records = []
    for b in evaluation.get("baseline", []):
        covariate = b.get("covariate")
        years = covariate == "age_at_enrollment"
        cells: dict[str, float | None] = {}
        hidden = {c for c in ("pilot", "comparison") if b.get("suppressed") or (str(covariate), c) in small}
        withheld = bool(hidden)
        for column, cohort in (("Pilot", "pilot"), ("Comparison", "comparison")):
            value = None if cohort in hidden else b.get(cohort)
            cells[column] = _number(value, OTHER_DECIMALS if years else DECIMALS)
        records.append({
            "Covariate": COVARIATE_WORDS.get(covariate, str(covariate)),
            "Unit": "years" if years else "share",
            **cells,
            "Effect size": None if withheld else _number(b.get("effect_size"), 3),
            "WWC label": None if b.get("suppressed") else WWC_WORDS.get(b.get("label") or "", "Not computable"),
            STATUS: SUPPRESSED_TEXT if withheld else PUBLISHED,
        })
    schema = {"Covariate": pl.String, "Unit": pl.String, "Pilot": pl.Float64, "Comparison": pl.Float64,
              "Effect size": pl.Float64, "WWC label": pl.String, STATUS: pl.String}
    return _typed(records, schema)


def programs_summary_table(
    evaluations: Sequence[tuple[str, Mapping[str, Any]]],
    readings: Sequence[str],
    *,
    measure: str = "rearrest",
    window_months: int = 12,
) -> pl.DataFrame:
    """The numeric twin of ``views_evaluation.programs_summary_table`` (``readings``: its Reading
    column, in the same order): one row per program, difference, p-value and both cohorts."""
    records = []
    for (label, evaluation), reading in zip(evaluations, readings, strict=True):
        window = next((w for w in evaluation.get("windows", [])
                       if w["measure"] == measure and w["window_months"] == window_months), None) or {}
        diff = window.get("difference") or {}
        records.append({
            "Program": label, "Reading": reading,
            "Difference (pilot - comparison)": _number(diff.get("value"), DECIMALS),
            "Difference 95% CI low": _number(diff.get("ci_low"), DECIMALS),
            "Difference 95% CI high": _number(diff.get("ci_high"), DECIMALS),
            "p-value": _p_value(window.get("p_value")),
            **_cohort_cells("Pilot", window.get("pilot")),
            **_cohort_cells("Comparison", window.get("comparison")),
        })
    schema = {"Program": pl.String, "Reading": pl.String, "Difference (pilot - comparison)": pl.Float64,
              "Difference 95% CI low": pl.Float64, "Difference 95% CI high": pl.Float64, "p-value": pl.Float64,
              **_cohort_schema("Pilot"), **_cohort_schema("Comparison")}
    return _typed(records, schema)


def labelled_rows(
    labels: Sequence[str], label_title: str, rows: Sequence[Mapping[str, Any]],
    columns: Mapping[str, tuple[str, int]],
) -> pl.DataFrame:
    """A table whose row labels come from the page's own table (``labels``, same order as
    ``rows``) and whose numbers come from the engine's ``rows``: ``columns`` maps a header to
    (field, decimals; 0 = whole number). A suppressed row has every number empty."""
    records = []
    for label, row in zip(labels, rows, strict=True):
        source = None if row.get("suppressed") else row
        record: dict[str, Any] = {label_title: label}
        for header, (field, digits) in columns.items():
            value = None if source is None else source.get(field)
            record[header] = _whole(value) if digits == 0 else _number(value, digits)
        record[STATUS] = _status(row)
        records.append(record)
    schema: dict[str, Any] = {label_title: pl.String}
    schema |= {h: pl.Int64 if d == 0 else pl.Float64 for h, (_, d) in columns.items()}
    schema[STATUS] = pl.String
    return _typed(records, schema)


def cost_table(whole: pl.DataFrame, program_names: Mapping[str, str], all_programs: str) -> pl.DataFrame:
    """The numeric twin of ``operations_views.cost_table``: per program (then all programs) the cost
    in the period, people served, cost per participant, completions, cost per completion, each
    cost measure with its own status."""
    by: dict[str | None, dict[str, Any]] = {}
    for rec in whole.iter_rows(named=True):
        by.setdefault(rec["program_id"], {})[rec["metric"]] = rec

    def label(p: str | None) -> str:
        return all_programs if p is None else program_names.get(p, p)

    order = sorted((p for p in by if p is not None), key=label) + ([None] if None in by else [])
    records = []
    for program in order:
        served, completion = by[program].get("cost_per_participant"), by[program].get("cost_per_completion")
        cost = next((r["numerator"] for r in (served, completion) if r and not r["suppressed"]), None)
        record: dict[str, Any] = {"Program": label(program), "Cost in the period": _number(cost, OTHER_DECIMALS)}
        for row, n_col, v_col, status in (
            (served, "Pilot participants served", "Cost per participant", "Cost per participant status"),
            (completion, "Completions", "Cost per completion", "Cost per completion status"),
        ):
            shown = row if row is not None and not row["suppressed"] else None
            record[n_col] = 0 if row is None else _whole((shown or {}).get("denominator"))
            record[v_col] = _number((shown or {}).get("value"), OTHER_DECIMALS)
            record[status] = _status(row)
        records.append(record)
    schema = {"Program": pl.String, "Cost in the period": pl.Float64, "Pilot participants served": pl.Int64,
              "Cost per participant": pl.Float64, "Cost per participant status": pl.String,
              "Completions": pl.Int64, "Cost per completion": pl.Float64, "Cost per completion status": pl.String}
    return _typed(records, schema)


def caseload_table(monthly: pl.DataFrame, agency_names: Mapping[str, str], all_agencies: str) -> pl.DataFrame:
    """The numeric twin of ``operations_views.caseload_table``: month, agency, active caseload,
    officer FTE and their ratio (empty in a vacancy month, with a note)."""
    records = []
    for rec in monthly.iter_rows(named=True):
        ratio = _number(rec["caseload_per_officer"], OTHER_DECIMALS)
        agency = rec["agency_id"]
        records.append({
            "Month": rec["month"].strftime("%Y-%m"),
            "Agency": all_agencies if agency is None else agency_names.get(agency, agency),
            "Active caseload": _whole(rec["caseload"]),
            "Officer FTE": _number(rec["officers_fte"], OTHER_DECIMALS),
            "Caseload per officer": ratio,
            "Note": "no officer time" if ratio is None else None,
        })
    schema = {"Month": pl.String, "Agency": pl.String, "Active caseload": pl.Int64, "Officer FTE": pl.Float64,
              "Caseload per officer": pl.Float64, "Note": pl.String}
    return _typed(records, schema)


def flow_table(flow: pl.DataFrame, agency_names: Mapping[str, str]) -> pl.DataFrame:
    """The numeric twin of the table of ``views_trends.flow_frames``: one row per referring ×
    provider pair, the referrals and how they ended as whole numbers. A withheld count is empty;
    Status says whether the pair's total is withheld, "Withheld outcomes" names the outcomes withheld.
    An outcome with no row had no referrals (0), as on the page."""
    from dashboard.views_trends import OUTCOME_LABELS, count_rows

    outcomes: dict[tuple[Any, Any], dict[str, tuple[Any, bool]]] = {}
    for r in count_rows(flow, "cell").iter_rows(named=True):
        pair = (r["referring_agency_id"], r["provider_agency_id"])
        outcomes.setdefault(pair, {})[r["outcome"]] = (r["count"], bool(r["suppressed"]))
    records = []
    for r in count_rows(flow, "pair").iter_rows(named=True):
        pair = (r["referring_agency_id"], r["provider_agency_id"])
        record: dict[str, Any] = {"Referring agency": agency_names.get(pair[0], pair[0]),
                                  "Provider agency": agency_names.get(pair[1], pair[1]),
                                  "Referrals": None if r["suppressed"] else _whole(r["count"])}
        withheld = []
        for outcome, label in OUTCOME_LABELS.items():
            count, hidden = outcomes.get(pair, {}).get(outcome, (0, False))
            record[label] = None if hidden else _whole(count)
            if hidden:
                withheld.append(label)
        record["Withheld outcomes"] = ", ".join(withheld) or None
        record[STATUS] = SUPPRESSED_TEXT if r["suppressed"] else PUBLISHED
        records.append(record)
    schema: dict[str, Any] = {"Referring agency": pl.String, "Provider agency": pl.String, "Referrals": pl.Int64}
    schema |= {label: pl.Int64 for label in OUTCOME_LABELS.values()}
    schema |= {"Withheld outcomes": pl.String, STATUS: pl.String}
    return _typed(records, schema)
