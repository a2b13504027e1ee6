"""Checks across loads: volume and distribution drift between a table's loads (docs/stewardship.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from dashboard.contract import TABLE_NAMES
from dashboard.metrics.registry import METRICS_BY_ID
from dashboard.metrics.tables import Filters, Tables
from dashboard.quality_checks import (
    Thresholds,
    describe_distribution,
    describe_volume,
    drift_checks,
    freshness,
    grouping_consistency,
    load_thresholds,
    referrals_after_exit,
)
from data_checks.levels import EXCLUDED, level_of

# --- checks across loads ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CrossLoadResult:
    """The checks across loads for one reference date (see dashboard.quality_checks)."""

    as_of: dt.date
    freshness: pl.DataFrame
    volume: pl.DataFrame
    distribution: pl.DataFrame
    referrals_after_exit: pl.DataFrame
    groupings: pl.DataFrame | None  # None: metric engine not available
    groupings_note: str = ""

    def findings(self) -> pl.DataFrame:
        """One row per warning: check, table, agency_id, detail."""
        rows: list[dict[str, Any]] = []
        for r in self.freshness.filter(pl.col("status") == "stale").iter_rows(named=True):
            rows.append({
                "check": "freshness", "table": "*", "agency_id": r["agency_id"],
                "detail": f"latest record {r['latest_record_date']}, {r['days_since_latest']} days before "
                          f"{self.as_of}; expected at least every {r['cadence_days']} days",
            })
        for r in self.volume.filter(pl.col("status") != "ok").iter_rows(named=True):
            rows.append({
                "check": "volume_drift", "table": r["table"], "agency_id": r["agency_id"],
                "detail": describe_volume(r), "test": r["test"], "p_value": r["p_value"], "q_value": r["q_value"],
                "effect": f"{r['rows']} rows against {r['expected_rows']:.1f} expected",
            })
        for r in self.distribution.filter(pl.col("status") == "drift").iter_rows(named=True):
            rows.append({
                "check": "distribution_drift", "table": r["table"], "agency_id": r["agency_id"],
                "detail": describe_distribution(r), "test": r["test"], "p_value": r["p_value"],
                "q_value": r["q_value"],
                "effect": f"{r['column']} = {r['value']}: {r['change'] * 100:+.1f} percentage points",
            })
        per_agency = self.referrals_after_exit.group_by("agency_id").len("n").sort("agency_id")
        for r in per_agency.iter_rows(named=True):
            rows.append({
                "check": "consistency:referral_after_exit", "table": "referrals", "agency_id": r["agency_id"],
                "detail": f"{r['n']} referral(s) dated after the participant's exit",
            })
        if self.groupings is not None:
            for r in self.groupings.iter_rows(named=True):
                rows.append({
                    "check": "consistency:groupings", "table": "*", "agency_id": "*",
                    "detail": f"{r['metric']} by {r['group_by']} sums to {r['numerator']}/{r['denominator']}, "
                              f"overall is {r['overall_numerator']}/{r['overall_denominator']}",
                })
        schema = {
            "check": pl.String, "table": pl.String, "agency_id": pl.String, "detail": pl.String,
            "test": pl.String, "p_value": pl.Float64, "q_value": pl.Float64, "effect": pl.String,
        }
        out = pl.DataFrame(rows, schema=schema)
        keep = [level_of(c) != EXCLUDED for c in out["check"]]
        return out.filter(pl.Series(keep, dtype=pl.Boolean)) if out.height else out


def cross_load_checks(
    tables: Mapping[str, pl.DataFrame],
    as_of: dt.date,
    thresholds: Thresholds | None = None,
    *,
    with_groupings: bool = True,
) -> CrossLoadResult:
    """Run every check across loads on the loaded tables for the reference date.

    ``thresholds`` default: :func:`dashboard.quality_checks.load_thresholds`.
    """
    thresholds = thresholds or load_thresholds()
    groupings, note = (None, "not run")
    if with_groupings:
        groupings, note = _grouping_check(tables, as_of)
    # one false-discovery control over every volume and distribution comparison of this run
    volume, distribution = drift_checks(tables, as_of, thresholds)
    return CrossLoadResult(
        as_of=as_of,
        freshness=freshness(tables, as_of, thresholds),
        volume=volume,
        distribution=distribution,
        referrals_after_exit=referrals_after_exit(tables),
        groupings=groupings,
        groupings_note=note,
    )


def _grouping_check(tables: Mapping[str, pl.DataFrame], as_of: dt.date) -> tuple[pl.DataFrame | None, str]:
    """Every grouping adds up to the overall row, through the metric engine when installed."""
    try:
        from dashboard.metrics import engine as metric_engine  # type: ignore[attr-defined]
    except ImportError:
        return None, "the metric engine (dashboard.metrics.engine) is not installed; grouping totals not checked"
    compute = getattr(metric_engine, "compute_metrics", None)
    if compute is None:
        return None, "dashboard.metrics.engine has no compute_metrics; grouping totals not checked"
    frames = {name: tables[name] for name in TABLE_NAMES if name in tables}
    try:
        result = compute(Tables.from_frames(**frames), Filters(as_of=as_of), min_cell_size=0)
    except TypeError:
        result = compute(Tables.from_frames(**frames), Filters(as_of=as_of))
    frame = result if isinstance(result, pl.DataFrame) else getattr(result, "frame", None)
    if frame is None or "group_by" not in frame.columns:
        return None, "the metric engine's output has no group_by column; grouping totals not checked"
    # Costs and caseload do not add up by design (a program without pilot participants, an agency
    # without officer time has no row, yet counts overall): check only the measures that do.
    additive = [m for m, d in METRICS_BY_ID.items() if getattr(d, "groupings_add_up", True)]
    frame = frame.filter(pl.col("metric").is_in(additive))
    gb = frame["group_by"]
    if gb.dtype != pl.String:
        frame = frame.with_columns(pl.col("group_by").list.join(","))
    return grouping_consistency(frame.select("metric", "group_by", "numerator", "denominator")), "checked"
