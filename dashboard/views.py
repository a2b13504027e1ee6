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
from dashboard.metrics.definition import UNASSIGNED_LABEL
from dashboard.text import chart_text

UNASSIGNED = UNASSIGNED_LABEL  # one wording for a missing group, everywhere

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


def is_number(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def format_value(value: float | None, unit: str) -> str:
    """A metric value for people: rates as percentages with one decimal."""
    if not is_number(value):
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
    if not is_number(value):
        return "—"
    assert value is not None
    return f"{value * 100:+.1f} pp"


def format_interval(low: float | None, high: float | None, unit: str = "rate") -> str:
    """``[17.2%, 28.2%]``; ``—`` when the interval is not defined."""
    if not (is_number(low) and is_number(high)):
        return "—"
    assert low is not None and high is not None
    if unit == "difference":
        return f"[{low * 100:+.1f}, {high * 100:+.1f}] pp"
    if unit in ("rate", "proportion", "share"):
        return f"[{low:.1%}, {high:.1%}]"
    return f"[{low:,.2f}, {high:,.2f}]"


def format_count(value: int | float | None) -> str:
    if not is_number(value):
        return "—"
    assert value is not None
    return f"{int(value):,}"


def p_text(p: float | None) -> str:
    """``p = 0.036`` or ``p < 0.001`` for sentences and subtitles."""
    if not is_number(p):
        return "p not available"
    assert p is not None
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def format_p_value(p: float | None) -> str:
    if not is_number(p):
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
    if is_number(numerator) and is_number(denominator):
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
        if row is None or row.get("suppressed") or not is_number(row.get("value")):
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
        r for r in rows if not r.get("suppressed") and is_number(r.get("value"))
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
    if not (is_number(a) and is_number(b)):
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
    if not (is_number(p_rate) and is_number(c_rate)):
        return [f"{what.capitalize()}: no participant has completed the {months}-month follow-up in both cohorts yet."]
    sentences = [
        f"{what.capitalize()}: {format_value(p_rate, 'rate')} of pilot participants "
        f"(N = {format_count(pilot.get('denominator'))}) vs {format_value(c_rate, 'rate')} of the comparison group "
        f"(N = {format_count(comparison.get('denominator'))})."
    ]
    diff = window.get("difference") or {}
    p_value = window.get("p_value")
    low, high = diff.get("ci_low"), diff.get("ci_high")
    if is_number(diff.get("value")) and is_number(low) and is_number(high) and is_number(p_value):
        assert low is not None and high is not None and p_value is not None
        direction = stated_direction(diff["value"], low, high, p_value)
        if direction is not None:
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
    ns = [v for v in denominators if v is not None and is_number(v)]
    if ns and min(ns) < small_n:
        sentences.append(
            f"Caution: a cohort has fewer than {small_n} eligible people, so the estimate is imprecise."
        )
    adjusted = window.get("risk_adjusted") or {}
    if adjusted.get("reason"):
        sentences.append(f"Risk-adjusted rates are not available: {adjusted['reason']}.")
    elif is_number(adjusted.get("difference")):
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


def stated_direction(
    value: float | None, ci_low: float | None, ci_high: float | None, p_value: float | None = None
) -> str | None:
    """The one wording rule for a pilot − comparison difference: "lower", "higher" or None.

    A direction is stated only when the evidence supports it: the 95% interval excludes zero
    (an interval touching zero does not) and, when a p-value is given, p < 0.05 as well; with no
    interval, p < 0.05 alone. Otherwise None, which every caller words as "no clear difference"
    (docs/metrics.md: differences and intervals).
    """
    if not is_number(value):
        return None
    assert value is not None
    if is_number(ci_low) and is_number(ci_high):
        assert ci_low is not None and ci_high is not None
        supported = ci_high < 0 or ci_low > 0
        if is_number(p_value):
            supported = supported and p_value < 0.05  # type: ignore[operator]
    else:
        supported = is_number(p_value) and p_value < 0.05  # type: ignore[operator]
    if not supported or value == 0:
        return None
    return "lower" if value < 0 else "higher"


def difference_title(label: str, window: Mapping[str, Any] | None) -> str:
    """"Rearrest: pilot 5.4 pp lower at 12 months (95% CI -8.9 to -1.9 pp)" when the interval excludes
    zero, else "Rearrest: no clear difference at 12 months (-2.4 pp, 95% CI ...)" — or why not shown."""
    if not window:
        return f"{label}: no 12-month comparison yet"
    diff = window.get("difference") or {}
    value = diff.get("value")
    if not is_number(value):
        return f"{label}: 12-month difference withheld or not yet estimable"
    assert value is not None
    interval = format_interval(diff.get("ci_low"), diff.get("ci_high"), "difference")
    direction = stated_direction(value, diff.get("ci_low"), diff.get("ci_high"), window.get("p_value"))
    if direction is None:
        return f"{label}: no clear difference at 12 months ({format_difference(value)}, 95% CI {interval})"
    return f"{label}: pilot {abs(value) * 100:.1f} pp {direction} at 12 months (95% CI {interval})"


LIMITATIONS_NOTE = (
    "Limitations: pilot and comparison groups were not randomly assigned, so differences are associations, "
    "not proven effects of the program. Only participants whose full follow-up window ended by the as-of date "
    "are counted, so recent cohorts are not yet represented. Recidivism counts only events recorded by the "
    "agencies that deliver data. Small cells (fewer than the suppression threshold) are withheld, and numbers "
    "shown under different filters can still be subtracted from each other."
)
