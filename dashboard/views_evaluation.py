"""The pilot evaluation as the dashboard shows it: wide metric tables, the evaluation's
windows, rates, differences, survival curves and baseline equivalence, and each
program's evaluation within the current view. Split from :mod:`dashboard.views`
(which still offers every name here), under the same rules: nothing here computes a metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from dashboard.metrics.recidivism import MEASURES, WINDOWS_MONTHS, metric_id

from dashboard.views import (
    DEFAULT_MIN_CELL_SIZE,
    UNASSIGNED,
    is_number,
    cohort_label,
    display_value,
    format_count,
    format_difference,
    format_interval,
    format_p_value,
    format_value,
    humanise,
    metric_rows,
    stated_direction,
    suppression_label,
)


EVALUATION_VIEW_METRICS: tuple[str, ...] = tuple(metric_id(m, w) for m in MEASURES for w in WINDOWS_MONTHS)
"""The ``metrics`` rows :func:`evaluation_within_view` reads: the recidivism rates."""

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
    if not is_number(entry.get("rate")):
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
            format_difference(adj.get("difference")) if is_number(adj.get("difference")) else (adj.get("reason") or "—")
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
        return None if k > 0 and is_number(value) and 1 <= value <= k - 1 else value

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
            if not is_number(share) or share == 0:
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
                out[column].append("—" if not is_number(value) else f"{value:.1f} years")
        effect = b.get("effect_size")
        if withheld_here:
            out["Effect size"].append(share_withheld_text(min_cell_size))
        else:
            out["Effect size"].append("—" if not is_number(effect) else f"{effect:+.3f}")
        out["WWC label"].append(WWC_WORDS.get(b.get("label") or "", "Not computable"))
    return pl.DataFrame(out, schema={c: pl.String for c in out})


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
            "—" if not is_number(diff.get("value"))
            else f"{format_difference(diff['value'])} {format_interval(low, high, 'difference')}"
        )
        out["p-value"].append(format_p_value(p))
        if (window.get("pilot") or {}).get("suppressed") or (window.get("comparison") or {}).get("suppressed"):
            reading = "Withheld (small cells)"
        elif not (is_number(diff.get("value")) and is_number(low) and is_number(high) and is_number(p)):
            reading = "No test yet"
        elif (direction := stated_direction(diff["value"], low, high, p)) is not None:
            reading = f"Pilot {direction} (significant at 5%)"
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
