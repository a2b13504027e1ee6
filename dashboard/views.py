"""Turn engine output into what the dashboard shows: labels, formatted
numbers, suppression marks, display tables and the sentences that state a
finding. Streamlit-free, so every rule here is unit-tested.

Nothing here computes a metric. Helpers only pick rows of the engine's
output (``compute_metrics`` / ``metric_breakdown`` / ``evaluate``), rename
them for charts and format them for people. Comparisons of two published
numbers (which is larger) are the only arithmetic, used for wording.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from dashboard.cells import DEFAULT_MIN_CELL_SIZE, suppression_label
from dashboard.text import chart_text

UNASSIGNED = "Unassigned"

COHORT_LABELS: dict[str | None, str] = {"pilot": "Pilot", "comparison": "Comparison"}


def humanise(value: str | None) -> str:
    """An enum value as words: ``mental_health`` -> ``Mental health``; null -> Unassigned."""
    if value is None:
        return UNASSIGNED
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def cohort_label(cohort: str | None) -> str:
    if cohort is None:
        return UNASSIGNED
    return COHORT_LABELS.get(cohort, humanise(cohort))


# --- number formatting ------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def format_value(value: float | None, unit: str) -> str:
    """A metric value for people: rates as percentages with one decimal."""
    if not _is_number(value):
        return "—"
    assert value is not None
    if unit in ("rate", "proportion", "share"):
        return f"{value:.1%}"
    if unit == "days":
        return f"{value:,.1f} days"
    if unit in ("per_100_pm", "per_100_participant_months"):
        return f"{value:,.1f} per 100 participant-months"
    if unit == "count":
        return f"{int(value):,}"
    return f"{value:,.2f}"


def format_difference(value: float | None) -> str:
    """A difference of two rates in percentage points, signed."""
    if not _is_number(value):
        return "—"
    assert value is not None
    return f"{value * 100:+.1f} pp"


def format_interval(low: float | None, high: float | None, unit: str = "rate") -> str:
    """``[17.2%, 28.2%]``; ``—`` when the interval is not defined."""
    if not (_is_number(low) and _is_number(high)):
        return "—"
    assert low is not None and high is not None
    if unit == "difference":
        return f"[{low * 100:+.1f}, {high * 100:+.1f}] pp"
    if unit in ("rate", "proportion", "share"):
        return f"[{low:.1%}, {high:.1%}]"
    return f"[{low:,.2f}, {high:,.2f}]"


def format_count(value: int | float | None) -> str:
    if not _is_number(value):
        return "—"
    assert value is not None
    return f"{int(value):,}"


def p_text(p: float | None) -> str:
    """``p = 0.036`` or ``p < 0.001`` for sentences and subtitles."""
    if not _is_number(p):
        return "p not available"
    assert p is not None
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def format_p_value(p: float | None) -> str:
    if not _is_number(p):
        return "—"
    assert p is not None
    return "<0.001" if p < 0.001 else f"{p:.3f}"


# --- picking rows of the engine's output ---------------------------------------------


def _as_key_list(value: Any) -> tuple[str, ...]:
    """``group_by`` as a tuple, whether the engine stores a list, JSON or CSV text."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    if isinstance(value, pl.Series):
        return tuple(str(v) for v in value.to_list())
    text = str(value).strip()
    if not text:
        return ()
    if text.startswith("["):
        return tuple(json.loads(text))
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _as_group(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    text = str(value).strip()
    return dict(json.loads(text)) if text else {}


def metric_rows(frame: pl.DataFrame, metric_id: str, by: Sequence[str] = ()) -> pl.DataFrame:
    """The rows of ``metric_id`` grouped exactly by ``by``, one column per group key.

    Returns columns ``*by, numerator, denominator, value, ci_low, ci_high,
    suppressed`` (plus any further numeric columns the engine gives). An empty
    ``by`` selects the overall row.
    """
    wanted = tuple(by)
    selected = frame.filter(pl.col("metric") == metric_id)
    extra = [c for c in selected.columns if c not in ("metric", "group_by", "group")]
    records: list[dict[str, Any]] = []
    for row in selected.iter_rows(named=True):
        if _as_key_list(row.get("group_by")) != wanted:
            continue
        group = _as_group(row.get("group"))
        record = {key: group.get(key) for key in wanted}
        record.update({c: row[c] for c in extra})
        records.append(record)
    schema: dict[str, Any] = {key: pl.String for key in wanted}
    schema.update({c: selected.schema[c] for c in extra})
    if not records:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame(records, schema=schema)


def overall_row(frame: pl.DataFrame, metric_id: str) -> dict[str, Any] | None:
    """The overall row of a metric, or None when the engine gave none (no denominator)."""
    rows = metric_rows(frame, metric_id, ())
    return rows.row(0, named=True) if rows.height else None


def cohort_rows(frame: pl.DataFrame, metric_id: str) -> dict[str, dict[str, Any]]:
    """``{"pilot": row, "comparison": row}`` from the by-cohort grouping."""
    rows = metric_rows(frame, metric_id, ("cohort",))
    return {r["cohort"]: r for r in rows.iter_rows(named=True) if r["cohort"] is not None}


# --- display tables -------------------------------------------------------------------


def display_value(row: Mapping[str, Any] | None, unit: str, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> str:
    """One cell of a metric for people: the value, or the suppression mark."""
    if row is None:
        return "No data"
    if row.get("suppressed"):
        return suppression_label(min_cell_size)
    return format_value(row.get("value"), unit)


def tile_value(row: Mapping[str, Any] | None, unit: str, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> str:
    """A headline tile's value: short enough for a tile ("Suppressed"; the threshold goes in its caption)."""
    if row is not None and row.get("suppressed"):
        return "Suppressed"
    return display_value(row, unit, min_cell_size)


def display_n(row: Mapping[str, Any] | None) -> str:
    """``48 / 216`` (numerator over denominator) or just the denominator."""
    if row is None or row.get("suppressed"):
        return "—"
    numerator, denominator = row.get("numerator"), row.get("denominator")
    if _is_number(numerator) and _is_number(denominator):
        return f"{format_count(numerator)} / {format_count(denominator)}"
    return format_count(denominator)


def metric_table(
    rows: pl.DataFrame,
    *,
    key_titles: Mapping[str, str],
    key_labels: Mapping[str, Mapping[str | None, str]] | None = None,
    unit: str,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    value_title: str = "Rate",
) -> pl.DataFrame:
    """A table for people from :func:`metric_rows` output.

    One column per group key (titled by ``key_titles``, values relabelled
    through ``key_labels``, null as "Unassigned"), then the value, its 95%
    interval, numerator and denominator as text; suppressed rows read
    "Suppressed (n<k)" and show no numbers.
    """
    key_labels = key_labels or {}
    out: dict[str, list[str]] = {title: [] for title in key_titles.values()}
    value_col, ci_col, num_col, den_col = value_title, "95% CI", "Numerator", "N (denominator)"
    for column in (value_col, ci_col, num_col, den_col):
        out[column] = []
    for row in rows.iter_rows(named=True):
        for key, title in key_titles.items():
            raw = row.get(key)
            labels = key_labels.get(key, {})
            out[title].append(labels.get(raw, humanise(raw) if key in ("cohort",) else (raw or UNASSIGNED)))
        suppressed = bool(row.get("suppressed"))
        out[value_col].append(display_value(row, unit, min_cell_size))
        out[ci_col].append("—" if suppressed else format_interval(row.get("ci_low"), row.get("ci_high"), unit))
        out[num_col].append("—" if suppressed else format_count(row.get("numerator")))
        out[den_col].append("—" if suppressed else format_count(row.get("denominator")))
    return pl.DataFrame(out, schema={c: pl.String for c in out})


def chart_frame(
    rows: pl.DataFrame,
    *,
    category: str,
    labels: Mapping[str | None, str] | None = None,
    series: str | None = None,
    series_labels: Mapping[str | None, str] | None = None,
) -> pl.DataFrame:
    """Rename :func:`metric_rows` output into the vocabulary of ``dashboard.charts``.

    ``category`` (and ``series``) name group-key columns; their values are
    relabelled (null -> "Unassigned"). Numbers are copied, never changed.
    """
    labels = labels or {}
    series_labels = series_labels or COHORT_LABELS
    cat = [labels.get(v, v if v is not None else UNASSIGNED) for v in rows.get_column(category).to_list()]
    columns: dict[str, Any] = {"category": pl.Series("category", cat, dtype=pl.String)}
    if series:
        ser = [
            series_labels.get(v, humanise(v) if v is not None else UNASSIGNED)
            for v in rows.get_column(series).to_list()
        ]
        columns["series"] = pl.Series("series", ser, dtype=pl.String)
    for name in ("value", "ci_low", "ci_high"):
        columns[name] = rows.get_column(name).cast(pl.Float64) if name in rows.columns else None
    for name in ("numerator", "denominator"):
        columns[name] = rows.get_column(name).cast(pl.Float64).cast(pl.Int64, strict=False) if name in rows.columns else None
    columns["suppressed"] = rows.get_column("suppressed").cast(pl.Boolean)
    return pl.DataFrame({k: v for k, v in columns.items() if v is not None})


# --- findings in words ------------------------------------------------------------


def cohort_comparison_title(
    label: str,
    pilot: Mapping[str, Any] | None,
    comparison: Mapping[str, Any] | None,
    unit: str = "rate",
) -> str:
    """A title that states the finding without claiming significance.

    "Referral completion: pilot 62.0% vs comparison 48.5%" — or says which
    side cannot be shown.
    """
    def side(row: Mapping[str, Any] | None) -> str | None:
        if row is None or row.get("suppressed") or not _is_number(row.get("value")):
            return None
        return format_value(row.get("value"), unit)

    p, c = side(pilot), side(comparison)
    if p and c:
        return f"{label}: pilot {p} vs comparison {c}"
    if p:
        return f"{label}: pilot {p} (comparison not shown: too few or suppressed)"
    if c:
        return f"{label}: comparison {c} (pilot not shown: too few or suppressed)"
    return f"{label}: not enough published data to compare pilot and comparison"


def range_title(
    label: str,
    rows: Iterable[Mapping[str, Any]],
    name_of: Mapping[str | None, str],
    key: str,
    unit: str = "rate",
) -> str:
    """"Referral completion ranges from 41.0% (Agency X) to 77.5% (Agency Y)"."""
    published = [
        r for r in rows if not r.get("suppressed") and _is_number(r.get("value"))
    ]
    if not published:
        return f"{label}: no group has enough data to publish"
    lowest = min(published, key=lambda r: r["value"])
    highest = max(published, key=lambda r: r["value"])

    def name(r: Mapping[str, Any]) -> str:
        raw = r.get(key)
        return chart_text(name_of.get(raw, raw if raw is not None else UNASSIGNED))

    if len(published) == 1 or lowest is highest:
        return f"{label}: {format_value(lowest['value'], unit)} ({name(lowest)})"
    return (
        f"{label} ranges from {format_value(lowest['value'], unit)} ({name(lowest)}) "
        f"to {format_value(highest['value'], unit)} ({name(highest)})"
    )


def tile_delta(current: Mapping[str, Any] | None, previous: Mapping[str, Any] | None, unit: str) -> str | None:
    """Change since the previous quarter as text for ``st.metric``'s delta, or None.

    The two values are published engine numbers; their difference is only
    worded ("+3.1 pp vs previous quarter"), never used as a statistic.
    """
    if current is None or previous is None:
        return None
    if current.get("suppressed") or previous.get("suppressed"):
        return None
    a, b = current.get("value"), previous.get("value")
    if not (_is_number(a) and _is_number(b)):
        return None
    assert a is not None and b is not None
    if unit in ("rate", "proportion", "share"):
        return f"{(a - b) * 100:+.1f} pp vs previous quarter"
    if unit == "count":
        return f"{int(a - b):+,} vs previous quarter"
    return f"{a - b:+,.1f} vs previous quarter"


def evaluation_reading(
    window: Mapping[str, Any],
    *,
    measure_label: str,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    small_n: int = 100,
    baseline: Sequence[Mapping[str, Any]] = (),
) -> list[str]:
    """Plain-language sentences for one measure and window of ``evaluate``.

    The wording never overstates: "statistically significant" only when the
    two-sided p-value is below 0.05 *and* the difference interval excludes
    zero, always "at the 5% level"; otherwise "not distinguishable from no
    difference". Small groups (< ``small_n``) and baselines that are not
    equivalent add caveats; the comparison is observational, not causal.
    """
    pilot, comparison = window.get("pilot") or {}, window.get("comparison") or {}
    months = window.get("window_months")
    what = f"{months}-month {measure_label.lower()}"
    if pilot.get("suppressed") or comparison.get("suppressed"):
        return [
            f"{what.capitalize()}: at least one cohort is suppressed (fewer than {min_cell_size} people or "
            "events), so no comparison is shown."
        ]
    p_rate, c_rate = pilot.get("rate"), comparison.get("rate")
    if not (_is_number(p_rate) and _is_number(c_rate)):
        return [f"{what.capitalize()}: no participant has completed the {months}-month follow-up in both cohorts yet."]
    sentences = [
        f"{what.capitalize()}: {format_value(p_rate, 'rate')} of pilot participants "
        f"(N = {format_count(pilot.get('denominator'))}) vs {format_value(c_rate, 'rate')} of the comparison group "
        f"(N = {format_count(comparison.get('denominator'))})."
    ]
    diff = window.get("difference") or {}
    p_value = window.get("p_value")
    low, high = diff.get("ci_low"), diff.get("ci_high")
    if _is_number(diff.get("value")) and _is_number(low) and _is_number(high) and _is_number(p_value):
        assert low is not None and high is not None and p_value is not None
        direction = "lower" if diff["value"] < 0 else "higher"
        if p_value < 0.05 and (high < 0 or low > 0):
            sentences.append(
                f"The pilot rate is {format_difference(abs(diff['value'])).lstrip('+')} {direction}; the difference is "
                f"statistically significant at the 5% level ({p_text(p_value)}, 95% CI "
                f"{format_interval(low, high, 'difference')})."
            )
        else:
            sentences.append(
                f"The difference ({format_difference(diff['value'])}, 95% CI {format_interval(low, high, 'difference')}, "
                f"{p_text(p_value)}) is not distinguishable from no difference at the 5% level."
            )
    else:
        sentences.append("No test is reported for this window (the test is undefined or withheld).")
    denominators = (pilot.get("denominator"), comparison.get("denominator"))
    ns = [v for v in denominators if v is not None and _is_number(v)]
    if ns and min(ns) < small_n:
        sentences.append(
            f"Caution: a cohort has fewer than {small_n} eligible people, so the estimate is imprecise."
        )
    adjusted = window.get("risk_adjusted") or {}
    if adjusted.get("reason"):
        sentences.append(f"Risk-adjusted rates are not available: {adjusted['reason']}.")
    elif _is_number(adjusted.get("difference")):
        sentences.append(
            f"After adjusting both cohorts to the same risk-level mix the difference is "
            f"{format_difference(adjusted['difference'])} (no interval)."
        )
    not_equivalent = [
        b.get("covariate") for b in baseline if b.get("label") in ("not_equivalent", "adjustment_needed")
    ]
    if not_equivalent:
        sentences.append(
            "The cohorts differed at baseline on "
            + ", ".join(BASELINE_NAMES.get(str(c), str(c)) for c in not_equivalent)
            + ": part of any difference may come from who was enrolled rather than from the program."
        )
    return sentences


BASELINE_NAMES: dict[str, str] = {
    "age_at_enrollment": "age",
    "risk_high": "the share at high risk",
    "risk_moderate": "the share at moderate risk",
    "sex_female": "the share of women",
    "supervision_parole": "the share on parole",
}


def difference_title(label: str, window: Mapping[str, Any] | None) -> str:
    """"Rearrest: pilot 5.4 pp lower at 12 months (95% CI -8.9 to -1.9 pp)" — or why not shown."""
    if not window:
        return f"{label}: no 12-month comparison yet"
    diff = window.get("difference") or {}
    value = diff.get("value")
    if not _is_number(value):
        return f"{label}: 12-month difference withheld or not yet estimable"
    assert value is not None
    direction = "lower" if value < 0 else "higher"
    return (
        f"{label}: pilot {abs(value) * 100:.1f} pp {direction} at 12 months "
        f"(95% CI {format_interval(diff.get('ci_low'), diff.get('ci_high'), 'difference')})"
    )


LIMITATIONS_NOTE = (
    "Limitations: pilot and comparison groups were not randomly assigned, so differences are associations, "
    "not proven effects of the program. Only participants whose full follow-up window ended by the as-of date "
    "are counted, so recent cohorts are not yet represented. Recidivism counts only events recorded by the "
    "agencies that deliver data. Small cells (fewer than the suppression threshold) are withheld, and numbers "
    "shown under different filters can still be subtracted from each other."
)


# --- wide tables and evaluation frames ------------------------------------------------


def wide_metric_table(
    frame: pl.DataFrame,
    metrics: Sequence[tuple[str, str, str]],
    *,
    key: str,
    key_title: str,
    names: Mapping[str | None, str],
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
) -> pl.DataFrame:
    """One row per group of ``key`` and, per metric ``(id, label, unit)``, "53.0% (n=593)".

    Groups appear in the order the engine lists them; a metric with no row
    for a group (no records of that kind) reads "—", a suppressed one the
    suppression mark.
    """
    order: list[str | None] = []
    per_metric: dict[str, dict[str | None, dict[str, Any]]] = {}
    for metric_id, _, _ in metrics:
        rows = metric_rows(frame, metric_id, (key,))
        per_metric[metric_id] = {r[key]: r for r in rows.iter_rows(named=True)}
        for group in per_metric[metric_id]:
            if group not in order:
                order.append(group)
    out: dict[str, list[str]] = {key_title: [names.get(g, g if g is not None else UNASSIGNED) for g in order]}
    for metric_id, label, unit in metrics:
        values = []
        for group in order:
            row = per_metric[metric_id].get(group)
            if row is None:
                values.append("—")
            elif row.get("suppressed"):
                values.append(suppression_label(min_cell_size))
            else:
                values.append(f"{display_value(row, unit, min_cell_size)} (n={format_count(row.get('denominator'))})")
        out[label] = values
    return pl.DataFrame(out, schema={c: pl.String for c in out})


def _cell(entry: Mapping[str, Any] | None, min_cell_size: int) -> str:
    if not entry:
        return "No data"
    if entry.get("suppressed"):
        return suppression_label(min_cell_size)
    if not _is_number(entry.get("rate")):
        return "Not yet eligible"
    return (
        f"{format_value(entry['rate'], 'rate')} {format_interval(entry.get('ci_low'), entry.get('ci_high'))} "
        f"n={format_count(entry.get('numerator'))}/{format_count(entry.get('denominator'))}"
    )


def evaluation_windows_table(
    evaluation: Mapping[str, Any], measure_labels: Mapping[str, str], min_cell_size: int = DEFAULT_MIN_CELL_SIZE
) -> pl.DataFrame:
    """Every measure and window of ``evaluate``: both cohorts, difference, p, risk-adjusted."""
    rows: dict[str, list[str]] = {
        c: [] for c in (
            "Measure", "Window", "Pilot rate [95% CI] n", "Comparison rate [95% CI] n",
            "Difference (pilot − comparison)", "Difference 95% CI", "p-value",
            "Risk-adjusted pilot", "Risk-adjusted comparison", "Risk-adjusted difference",
        )
    }
    for w in evaluation.get("windows", []):
        diff = w.get("difference") or {}
        adj = w.get("risk_adjusted") or {}
        rows["Measure"].append(measure_labels.get(w["measure"], humanise(w["measure"])))
        rows["Window"].append(f"{w['window_months']} months")
        rows["Pilot rate [95% CI] n"].append(_cell(w.get("pilot"), min_cell_size))
        rows["Comparison rate [95% CI] n"].append(_cell(w.get("comparison"), min_cell_size))
        rows["Difference (pilot − comparison)"].append(format_difference(diff.get("value")))
        rows["Difference 95% CI"].append(format_interval(diff.get("ci_low"), diff.get("ci_high"), "difference"))
        rows["p-value"].append(format_p_value(w.get("p_value")))
        rows["Risk-adjusted pilot"].append(format_value(adj.get("pilot"), "rate"))
        rows["Risk-adjusted comparison"].append(format_value(adj.get("comparison"), "rate"))
        rows["Risk-adjusted difference"].append(
            format_difference(adj.get("difference")) if _is_number(adj.get("difference")) else (adj.get("reason") or "—")
        )
    return pl.DataFrame(rows, schema={c: pl.String for c in rows})


def evaluation_rate_frame(evaluation: Mapping[str, Any], measure: str) -> pl.DataFrame:
    """Chart rows (category = window, series = cohort) of one measure from ``evaluate``."""
    records = []
    for w in evaluation.get("windows", []):
        if w["measure"] != measure:
            continue
        for cohort in ("pilot", "comparison"):
            entry = w.get(cohort) or {}
            suppressed = bool(entry.get("suppressed"))
            records.append(
                {
                    "category": f"{w['window_months']} months",
                    "series": cohort_label(cohort),
                    "value": None if suppressed else entry.get("rate"),
                    "ci_low": None if suppressed else entry.get("ci_low"),
                    "ci_high": None if suppressed else entry.get("ci_high"),
                    "numerator": None if suppressed else entry.get("numerator"),
                    "denominator": None if suppressed else entry.get("denominator"),
                    "suppressed": suppressed,
                }
            )
    return pl.DataFrame(
        records,
        schema={"category": pl.String, "series": pl.String, "value": pl.Float64, "ci_low": pl.Float64,
                "ci_high": pl.Float64, "numerator": pl.Int64, "denominator": pl.Int64, "suppressed": pl.Boolean},
    )


def evaluation_difference_frame(evaluation: Mapping[str, Any], measure: str) -> pl.DataFrame:
    """Chart rows of the pilot − comparison difference per window (null when withheld)."""
    records = []
    for w in evaluation.get("windows", []):
        if w["measure"] != measure:
            continue
        diff = w.get("difference") or {}
        withheld = (w.get("pilot") or {}).get("suppressed") or (w.get("comparison") or {}).get("suppressed")
        records.append(
            {
                "category": f"{w['window_months']} months",
                "value": diff.get("value"),
                "ci_low": diff.get("ci_low"),
                "ci_high": diff.get("ci_high"),
                "note": "withheld (suppressed cell)" if withheld else "not yet estimable",
            }
        )
    return pl.DataFrame(
        records,
        schema={"category": pl.String, "value": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
                "note": pl.String},
    )


def survival_frame(evaluation: Mapping[str, Any], measure: str) -> tuple[pl.DataFrame, list[str]]:
    """Kaplan–Meier points of one measure per published cohort, and the cohorts withheld.

    Day 0 is added at S = 1 with everyone at risk (the definition of the
    curve's start), so the chart starts where every curve starts. A number
    at risk from 1 to k − 1 (k: the evaluation's ``min_cell_size``) is a small
    count of people and is left empty.
    """
    k = int(evaluation.get("min_cell_size") or 0)

    def at_risk(value: Any) -> Any:
        return None if k > 0 and _is_number(value) and 1 <= value <= k - 1 else value

    records: list[dict[str, Any]] = []
    withheld: list[str] = []
    for entry in evaluation.get("survival", []):
        if entry["measure"] != measure:
            continue
        label = cohort_label(entry["cohort"])
        if entry.get("suppressed"):
            withheld.append(label)
            continue
        records.append({"series": label, "day": 0, "survival": 1.0, "ci_low": 1.0, "ci_high": 1.0,
                        "at_risk": entry.get("n")})
        for point in entry.get("points", []):
            if point.get("survival") is None:
                continue
            records.append({"series": label, "day": point["day"], "survival": point["survival"],
                            "ci_low": point.get("ci_low"), "ci_high": point.get("ci_high"),
                            "at_risk": at_risk(point.get("at_risk"))})
    frame = pl.DataFrame(
        records,
        schema={"series": pl.String, "day": pl.Int64, "survival": pl.Float64, "ci_low": pl.Float64,
                "ci_high": pl.Float64, "at_risk": pl.Int64},
    )
    return frame, withheld


WWC_WORDS: dict[str, str] = {
    "equivalent": "Equivalent (|effect| ≤ 0.05)",
    "adjustment_needed": "Adjustment needed (0.05 < |effect| ≤ 0.25)",
    "not_equivalent": "Not equivalent (|effect| > 0.25)",
}
COVARIATE_WORDS: dict[str, str] = {
    "age_at_enrollment": "Age at enrollment (mean, Hedges' g)",
    "risk_high": "High risk (share, Cox index)",
    "risk_moderate": "Moderate risk (share, Cox index)",
    "sex_female": "Female (share, Cox index)",
    "supervision_parole": "On parole (share, Cox index)",
}


def share_withheld_text(min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> str:
    """What a share reads when, beside its N, it would give back a count of 1 to k − 1."""
    return f"Withheld (fewer than {min_cell_size} people)"


def small_share_counts(
    evaluation: Mapping[str, Any],
    counts: Mapping[str, Mapping[str, tuple[int, int]]] | None,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
) -> set[tuple[str, str]]:
    """(covariate, cohort) of the baseline shares that would give back a count of 1 to k − 1.

    ``counts`` (``evaluation.baseline_share_counts``) holds the exact counts behind the
    shares; the dashboard always passes it. Without it, the cohort's N from the
    survival entries stands in for the number the share is taken among, and a share
    is withheld when share × N is below k (exact for the risk and parole shares; for
    the share of women, taken among those with a recorded sex, only an estimate).
    """
    k = min_cell_size
    if k <= 0:
        return set()
    out: set[tuple[str, str]] = set()
    n_of = {e["cohort"]: e.get("n") for e in evaluation.get("survival", []) if not e.get("suppressed")}
    for b in evaluation.get("baseline", []):
        covariate = str(b.get("covariate"))
        if b.get("suppressed") or covariate not in BINARY_SHARES:
            continue
        for cohort in ("pilot", "comparison"):
            share = b.get(cohort)
            if counts is not None and covariate in counts and cohort in counts[covariate]:
                count = counts[covariate][cohort][0]
                if 1 <= count <= k - 1:
                    out.add((covariate, cohort))
                continue
            n = n_of.get(cohort)
            if not _is_number(share) or share == 0:
                continue
            if n is None or share * n < k - 0.5:
                out.add((covariate, cohort))
    return out


BINARY_SHARES: tuple[str, ...] = ("risk_high", "risk_moderate", "sex_female", "supervision_parole")


def baseline_table(
    evaluation: Mapping[str, Any],
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    counts: Mapping[str, Mapping[str, tuple[int, int]]] | None = None,
) -> pl.DataFrame:
    """The baseline-equivalence entries with WWC labels in words.

    A share that, beside the cohort's N, turns back into a count of 1 to k − 1 is
    withheld, and so is the effect size that uses it (with the other share it would
    give the withheld one back); see :func:`small_share_counts`.
    """
    small = small_share_counts(evaluation, counts, min_cell_size)
    out: dict[str, list[str]] = {c: [] for c in ("Covariate", "Pilot", "Comparison", "Effect size", "WWC label")}
    for b in evaluation.get("baseline", []):
        covariate = b.get("covariate")
        out["Covariate"].append(COVARIATE_WORDS.get(covariate, str(covariate)))
        if b.get("suppressed"):
            for column in ("Pilot", "Comparison", "Effect size", "WWC label"):
                out[column].append(suppression_label(min_cell_size))
            continue
        unit = "days" if covariate == "age_at_enrollment" else "rate"
        withheld_here = False
        for column, cohort in (("Pilot", "pilot"), ("Comparison", "comparison")):
            value = b.get(cohort)
            if (str(covariate), cohort) in small:
                out[column].append(share_withheld_text(min_cell_size))
                withheld_here = True
            elif unit == "rate":
                out[column].append(format_value(value, "rate"))
            else:
                out[column].append("—" if not _is_number(value) else f"{value:.1f} years")
        effect = b.get("effect_size")
        if withheld_here:
            out["Effect size"].append(share_withheld_text(min_cell_size))
        else:
            out["Effect size"].append("—" if not _is_number(effect) else f"{effect:+.3f}")
        out["WWC label"].append(WWC_WORDS.get(b.get("label") or "", "Not computable"))
    return pl.DataFrame(out, schema={c: pl.String for c in out})


def agreement_status(agreements: pl.DataFrame, as_of: Any, *, soon_days: int = 90) -> pl.DataFrame:
    """Each agreement with its status on ``as_of``: the engine's classification
    (:func:`dashboard.metrics.partnerships.agreement_status`), kept here for callers of ``views``."""
    from dashboard.metrics.partnerships import agreement_status as classify

    return classify(agreements, as_of, soon_days=soon_days)


def quarter_trend(
    rows: pl.DataFrame,
    *,
    series: str | None = "cohort",
    series_labels: Mapping[str | None, str] | None = None,
    last: int = 12,
) -> pl.DataFrame:
    """Trend rows (``period``, ``series``, value, interval, N, suppressed) from
    ``metric_rows(metric_breakdown(..., by=("quarter", series)), ...)``, last ``last`` quarters."""
    labels = series_labels or COHORT_LABELS
    quarters = sorted({q for q in rows.get_column("quarter").to_list() if q is not None})[-last:] if rows.height else []
    records = []
    for row in rows.iter_rows(named=True):
        if row["quarter"] not in quarters:
            continue
        key = row.get(series) if series else None
        records.append(
            {
                "period": row["quarter"].replace("-", " "),
                "series": (labels.get(key, humanise(key)) if series else "All"),
                "value": row.get("value"),
                "ci_low": row.get("ci_low"),
                "ci_high": row.get("ci_high"),
                "denominator": None if row.get("denominator") is None else int(row["denominator"]),
                "suppressed": bool(row.get("suppressed")),
            }
        )
    return pl.DataFrame(
        records,
        schema={"period": pl.String, "series": pl.String, "value": pl.Float64, "ci_low": pl.Float64,
                "ci_high": pl.Float64, "denominator": pl.Int64, "suppressed": pl.Boolean},
    )


def quarter_label(day: Any) -> str:
    """The engine's quarter label of a date, e.g. ``2026-Q2``."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def previous_quarter_label(day: Any) -> str:
    q = day.year * 4 + (day.month - 1) // 3 - 1
    return f"{q // 4}-Q{q % 4 + 1}"


def ratio_rows(rows: pl.DataFrame, overall: Mapping[str, Any] | None) -> pl.DataFrame:
    """``rows`` with ``ratio`` = group rate / overall rate, both published (null otherwise).

    A ratio is display arithmetic on two numbers the engine published; it is
    withheld whenever either is suppressed or the overall rate is 0.
    """
    base = None
    if overall is not None and not overall.get("suppressed") and _is_number(overall.get("value")) and overall["value"]:
        base = float(overall["value"])
    if base is None:
        return rows.with_columns(pl.lit(None, dtype=pl.Float64).alias("ratio"))
    return rows.with_columns(
        pl.when(pl.col("suppressed") | pl.col("value").is_null())
        .then(None)
        .otherwise(pl.col("value") / base)
        .alias("ratio")
    )


def trend_title(label: str, trend: pl.DataFrame, unit: str = "rate") -> str:
    """"Diversion: 68.9% in 2023 Q3, 74.0% in 2026 Q2" — first and last published periods of one series."""
    published_rows = [r for r in trend.iter_rows(named=True) if not r["suppressed"] and _is_number(r["value"])]
    if not published_rows:
        return f"{label}: no quarter has enough data to publish"
    first, last = published_rows[0], published_rows[-1]
    if first is last:
        return f"{label}: {format_value(first['value'], unit)} in {first['period']}"
    return (
        f"{label}: {format_value(first['value'], unit)} in {first['period']}, "
        f"{format_value(last['value'], unit)} in {last['period']}"
    )


def evaluation_within_view(
    evaluation: Mapping[str, Any], frame: pl.DataFrame, program_id: str | None
) -> dict[str, Any]:
    """One program's evaluation as the current view may show it beside its own ``metrics`` rows.

    A program's evaluation is computed under that program's filter, where the
    complementary rule can publish a (program, cohort) cell that the view's
    own ``metrics`` output (``frame``, the filters the page shows) withholds.
    Shown side by side, that cell would undo the view's protection, so such a
    window cell is withheld here too, with the difference, test and
    risk-adjusted rates that use it. ``program_id`` None (pooled) reads the
    cohort rows. Only ever withholds; never publishes anything.
    """
    from copy import deepcopy

    out = deepcopy(dict(evaluation))
    by = ("program_id", "cohort") if program_id is not None else ("cohort",)
    hidden: set[tuple[str, str]] = set()
    metrics_ids = {f"recidivism_{w['measure']}_{w['window_months']}m" for w in out.get("windows", [])}
    for metric in metrics_ids:
        rows = metric_rows(frame, metric, by)
        for row in rows.iter_rows(named=True):
            if program_id is not None and row.get("program_id") != program_id:
                continue
            if row.get("suppressed"):
                hidden.add((metric, str(row.get("cohort"))))
    for window in out.get("windows", []):
        metric = f"recidivism_{window['measure']}_{window['window_months']}m"
        withheld = [
            c for c in ("pilot", "comparison")
            if (metric, c) in hidden and not (window.get(c) or {}).get("suppressed")
        ]
        if not withheld:
            continue
        for cohort in withheld:
            window[cohort] = {"numerator": None, "denominator": None, "rate": None, "ci_low": None,
                              "ci_high": None, "suppressed": True}
        window["difference"] = {"value": None, "ci_low": None, "ci_high": None}
        window["p_value"] = None
        window["risk_adjusted"] = {"pilot": None, "comparison": None, "difference": None,
                                   "reason": "withheld: it uses a cohort rate that is suppressed (small cell)"}
    return out


def programs_summary_table(
    evaluations: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    measure: str = "rearrest",
    window_months: int = 12,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
) -> pl.DataFrame:
    """One row per program: one measure and window of its ``evaluate`` output, side by side.

    ``evaluations``: (program label, evaluation) pairs. The reading column
    uses the same rule as :func:`evaluation_reading`: "lower/higher" only
    when p < 0.05 and the interval excludes 0, else "no clear difference".
    """
    out: dict[str, list[str]] = {
        c: [] for c in ("Program", "Reading", "Difference [95% CI]", "p-value", "Pilot rate [95% CI] n",
                        "Comparison rate [95% CI] n")
    }
    for label, evaluation in evaluations:
        window = next(
            (w for w in evaluation.get("windows", [])
             if w["measure"] == measure and w["window_months"] == window_months),
            None,
        )
        out["Program"].append(label)
        if window is None:
            for column in list(out)[1:]:
                out[column].append("—")
            continue
        diff = window.get("difference") or {}
        p = window.get("p_value")
        out["Pilot rate [95% CI] n"].append(_cell(window.get("pilot"), min_cell_size))
        out["Comparison rate [95% CI] n"].append(_cell(window.get("comparison"), min_cell_size))
        low, high = diff.get("ci_low"), diff.get("ci_high")
        out["Difference [95% CI]"].append(
            "—" if not _is_number(diff.get("value"))
            else f"{format_difference(diff['value'])} {format_interval(low, high, 'difference')}"
        )
        out["p-value"].append(format_p_value(p))
        if (window.get("pilot") or {}).get("suppressed") or (window.get("comparison") or {}).get("suppressed"):
            reading = "Withheld (small cells)"
        elif not (_is_number(diff.get("value")) and _is_number(low) and _is_number(high) and _is_number(p)):
            reading = "No test yet"
        elif p < 0.05 and (high < 0 or low > 0):  # type: ignore[operator]
            reading = "Pilot lower (significant at 5%)" if high < 0 else "Pilot higher (significant at 5%)"  # type: ignore[operator]
        else:
            reading = "No clear difference"
        out["Reading"].append(reading)
    return pl.DataFrame(out, schema={c: pl.String for c in out})


def programs_difference_frame(
    evaluations: Sequence[tuple[str, Mapping[str, Any]]], *, measure: str = "rearrest", window_months: int = 12
) -> pl.DataFrame:
    """Forest-plot rows (category = program) of one measure and window's difference, null when withheld."""
    records = []
    for label, evaluation in evaluations:
        window = next(
            (w for w in evaluation.get("windows", [])
             if w["measure"] == measure and w["window_months"] == window_months),
            None,
        )
        diff = (window or {}).get("difference") or {}
        withheld = window is not None and (
            (window.get("pilot") or {}).get("suppressed") or (window.get("comparison") or {}).get("suppressed")
        )
        records.append({"category": label, "value": diff.get("value"), "ci_low": diff.get("ci_low"),
                        "ci_high": diff.get("ci_high"),
                        "note": "withheld (suppressed cell)" if withheld else "not yet estimable"})
    return pl.DataFrame(records, schema={"category": pl.String, "value": pl.Float64, "ci_low": pl.Float64,
                                         "ci_high": pl.Float64, "note": pl.String})


def programs_difference_title(summary: pl.DataFrame, label: str = "12-month rearrest") -> str:
    """"12-month rearrest: pilot significantly lower in 2 of 7 programs, no clear difference in 5"."""
    readings = summary.get_column("Reading").to_list() if summary.height else []
    lower = readings.count("Pilot lower (significant at 5%)")
    higher = readings.count("Pilot higher (significant at 5%)")
    unclear = readings.count("No clear difference")
    if lower + higher + unclear == 0:
        return f"{label}: no program has both cohorts published yet"
    parts = [f"pilot significantly lower in {lower} of {len(readings)} programs"]
    if higher:
        parts.append(f"higher in {higher}")
    parts.append(f"no clear difference in {unclear}")
    return f"{label}: " + ", ".join(parts)


def survival_n_text(evaluation: Mapping[str, Any], measure: str) -> str:
    """"N: pilot 1,446 (493 events), comparison 1,501 (580 events)" for a Kaplan–Meier subtitle."""
    parts = []
    for entry in evaluation.get("survival", []):
        if entry["measure"] != measure:
            continue
        label = cohort_label(entry["cohort"]).lower()
        if entry.get("suppressed"):
            parts.append(f"{label} withheld (small cell)")
        else:
            parts.append(f"{label} {format_count(entry.get('n'))} ({format_count(entry.get('events'))} events)")
    return "N: " + ", ".join(parts) if parts else "N: none"


# --- partnership views (dashboard.metrics.partnerships) --------------------------------------

OUTCOME_LABELS: dict[str, str] = {"completed": "Completed", "unsuccessful": "Unsuccessful", "open": "Open"}


def count_text(count: int | None, suppressed: bool, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> str:
    """A published count for people, or the suppression mark (no row = 0 records)."""
    if suppressed:
        return suppression_label(min_cell_size)
    return format_count(count) if count is not None else "0"


def count_rows(view: pl.DataFrame, level: str) -> pl.DataFrame:
    """The rows of one level of a partnership count view (``total``, ``pair``, ``provider``...)."""
    return view.filter(pl.col("level") == level)


def count_chart_frame(
    rows: pl.DataFrame,
    *,
    category: str,
    labels: Mapping[str | None, str] | None = None,
    series: str | None = None,
    series_labels: Mapping[str | None, str] | None = None,
) -> pl.DataFrame:
    """Count-view rows in the vocabulary of ``charts.count_bars``: category, (series,) count, suppressed.
    Values are relabelled; counts are copied, never changed."""
    labels = labels or {}
    columns: dict[str, Any] = {
        "category": [labels.get(v, v if v is not None else UNASSIGNED) for v in rows.get_column(category).to_list()]
    }
    if series:
        series_labels = series_labels or {}
        columns["series"] = [series_labels.get(v, humanise(v)) for v in rows.get_column(series).to_list()]
    columns["count"] = rows.get_column("count").to_list()
    columns["suppressed"] = rows.get_column("suppressed").to_list()
    schema = {"category": pl.String, **({"series": pl.String} if series else {}), "count": pl.Int64,
              "suppressed": pl.Boolean}
    return pl.DataFrame(columns, schema=schema)


def flow_frames(
    flow: pl.DataFrame, agency_names: Mapping[str, str], min_cell_size: int = DEFAULT_MIN_CELL_SIZE
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(heatmap data, table) of ``referral_flow``: one row per referring × provider pair.

    Heatmap columns: row, column, count, suppressed, detail (how they ended, in words).
    Table: Referring agency, Provider agency, Referrals, then one column per outcome.
    An outcome with no row had no referrals (the engine gives rows only to counts above zero).
    """
    outcomes: dict[tuple[str, str], dict[str, tuple[int | None, bool]]] = {}
    for r in count_rows(flow, "cell").iter_rows(named=True):
        pair = (r["referring_agency_id"], r["provider_agency_id"])
        outcomes.setdefault(pair, {})[r["outcome"]] = (r["count"], bool(r["suppressed"]))
    chart: list[dict[str, Any]] = []
    table: list[dict[str, Any]] = []
    for r in count_rows(flow, "pair").iter_rows(named=True):
        pair = (r["referring_agency_id"], r["provider_agency_id"])
        row_name, column_name = agency_names.get(pair[0], pair[0]), agency_names.get(pair[1], pair[1])
        ended = {o: count_text(*outcomes.get(pair, {}).get(o, (None, False)), min_cell_size) for o in OUTCOME_LABELS}
        detail = " · ".join(f"{label} {ended[o]}" for o, label in OUTCOME_LABELS.items())
        chart.append({"row": row_name, "column": column_name, "count": r["count"], "suppressed": bool(r["suppressed"]),
                      "detail": detail})
        table.append({"Referring agency": row_name, "Provider agency": column_name,
                      "Referrals": count_text(r["count"], bool(r["suppressed"]), min_cell_size),
                      **{label: ended[o] for o, label in OUTCOME_LABELS.items()}})
    chart_schema = {"row": pl.String, "column": pl.String, "count": pl.Int64, "suppressed": pl.Boolean,
                    "detail": pl.String}
    table_schema = {c: pl.String for c in ("Referring agency", "Provider agency", "Referrals", *OUTCOME_LABELS.values())}
    return pl.DataFrame(chart, schema=chart_schema), pl.DataFrame(table, schema=table_schema)


# --- reintegration outcomes (employment, stable housing, check coverage) ----------------------

LOW_COVERAGE = 0.6
"""Below this share of eligible participants with a reintegration check in the window, the
dashboard says that the employment and housing rates rest on part of the group only."""


def rate_text(row: Mapping[str, Any] | None, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> str:
    """"62.0% [55.1%, 68.4%]", the suppression mark, or "—" when the engine gave no row."""
    if row is None:
        return "—"
    if row.get("suppressed"):
        return suppression_label(min_cell_size)
    value = format_value(row.get("value"), "rate")
    interval = format_interval(row.get("ci_low"), row.get("ci_high"))
    return value if interval == "—" else f"{value} {interval}"


def is_low_coverage(row: Mapping[str, Any] | None, threshold: float = LOW_COVERAGE) -> bool:
    """True when a published coverage row is below ``threshold`` (never for a withheld row)."""
    if row is None or row.get("suppressed") or not _is_number(row.get("value")):
        return False
    return float(row["value"]) < threshold


def rates_with_coverage_table(
    frame: pl.DataFrame,
    rates: Sequence[tuple[str, str]],
    coverage: tuple[str, str],
    *,
    by: Sequence[str],
    key_titles: Mapping[str, str],
    key_labels: Mapping[str, Mapping[str | None, str]] | None = None,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    threshold: float = LOW_COVERAGE,
) -> pl.DataFrame:
    """One row per group of ``by``: each rate ``(metric id, label)`` with its 95% interval and
    n / N, then the check coverage of the same window beside them, and a flag when it is low.

    Groups appear in the order the engine lists them (coverage first: every group with an
    eligible participant has a coverage row). A rate with no row reads "—" (nobody with a
    status), a withheld number the suppression mark.
    """
    key_labels = key_labels or {}
    wanted = tuple(by)
    per_metric: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    order: list[tuple[Any, ...]] = []
    for metric_id in (coverage[0], *(m for m, _ in rates)):
        rows = metric_rows(frame, metric_id, wanted)
        per_metric[metric_id] = {tuple(r[k] for k in wanted): r for r in rows.iter_rows(named=True)}
        order += [g for g in per_metric[metric_id] if g not in order]
    out: dict[str, list[str]] = {title: [] for title in key_titles.values()}
    for _, label in rates:
        out[label] = []
        out[f"{label}: n / N"] = []
    coverage_label = coverage[1]
    out[coverage_label] = []
    out["Coverage: n / N"] = []
    out["Coverage note"] = []
    for group in order:
        for key, value in zip(wanted, group):
            labels = key_labels.get(key, {})
            default = cohort_label(value) if key == "cohort" else (value or UNASSIGNED)
            out[key_titles[key]].append(labels.get(value, default))
        for metric_id, label in rates:
            row = per_metric[metric_id].get(group)
            out[label].append(rate_text(row, min_cell_size))
            out[f"{label}: n / N"].append("—" if row is None else display_n(row))
        row = per_metric[coverage[0]].get(group)
        out[coverage_label].append(rate_text(row, min_cell_size))
        out["Coverage: n / N"].append("—" if row is None else display_n(row))
        out["Coverage note"].append(f"Low (below {threshold:.0%})" if is_low_coverage(row, threshold) else "")
    return pl.DataFrame(out, schema={c: pl.String for c in out})


def low_coverage_note(
    coverage: Mapping[str, Any] | None, window_months: int, threshold: float = LOW_COVERAGE
) -> str | None:
    """A warning when the published coverage of everyone selected is below ``threshold``."""
    if not is_low_coverage(coverage, threshold):
        return None
    assert coverage is not None
    return (
        f"Only {format_value(coverage['value'], 'rate')} of the {format_count(coverage.get('denominator'))} "
        f"eligible participants had a reintegration check in their first {window_months} months. The "
        f"{window_months}-month employment and housing rates describe the people who were checked, who may "
        "differ from those who were not: read them with care."
    )


def coverage_by_cohort_text(frame: pl.DataFrame, coverage_id: str, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> str:
    """"Check coverage: pilot 72.1% (n=168), comparison 65.0% (n=170)" for a chart subtitle."""
    parts = []
    for cohort, row in cohort_rows(frame, coverage_id).items():
        shown = display_value(row, "rate", min_cell_size)
        n = "" if row.get("suppressed") else f" (n={format_count(row.get('denominator'))})"
        parts.append(f"{cohort_label(cohort).lower()} {shown}{n}")
    return "Check coverage: " + (", ".join(parts) if parts else "no eligible participants")
