"""Trends over quarters, partnership views and reintegration outcomes as the dashboard
shows them. Split from :mod:`dashboard.views` (which still offers every name here),
under the same rules: nothing here computes a metric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from dashboard.views import (
    COHORT_LABELS,
    DEFAULT_MIN_CELL_SIZE,
    UNASSIGNED,
    is_number,
    cohort_label,
    cohort_rows,
    display_n,
    display_value,
    format_count,
    format_interval,
    format_value,
    humanise,
    metric_rows,
    suppression_label,
)


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
    if overall is not None and not overall.get("suppressed") and is_number(overall.get("value")) and overall["value"]:
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
    published_rows = [r for r in trend.iter_rows(named=True) if not r["suppressed"] and is_number(r["value"])]
    if not published_rows:
        return f"{label}: no quarter has enough data to publish"
    first, last = published_rows[0], published_rows[-1]
    if first is last:
        return f"{label}: {format_value(first['value'], unit)} in {first['period']}"
    return (
        f"{label}: {format_value(first['value'], unit)} in {first['period']}, "
        f"{format_value(last['value'], unit)} in {last['period']}"
    )


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
    if row is None or row.get("suppressed") or not is_number(row.get("value")):
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
