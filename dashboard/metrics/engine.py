"""The metric engine: every SPEC §3 metric, for every grouping, in polars.

:func:`compute_metrics` is the one entry point behind ``metrics`` (JSON and
CSV), the dashboard and the exports. It works in three steps:

1. **Units** — one frame per metric family holding the counted records
   (referrals, supervision events, participants, police contacts...) after
   the as-of cut-off, the period, the filters and the attribution of each
   record to a program, an agency and a cohort (see the registry).
2. **Cells** — each unit frame is summed once by (program_id, agency_id,
   cohort); every grouping is a roll-up of those cells, so every grouping
   adds up to the overall row by construction (the median, which does not
   add up, is computed from the units per grouping).
3. **Rows** — a group gets a row when its denominator is above zero
   (violation rate: participant-months or violations above zero); rates get
   a Wilson 95% interval; suppression is applied last.

Nothing divides by zero: a group without a denominator gets no row, and the
violation rate of a group with violations but no exposure is null.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import sys
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from dashboard.cells import neutralise_text  # group keys are partner text: no spreadsheet formulas
from dashboard.contract import VIOLATION_RESPONSES, VIOLATION_TYPES
from dashboard.metrics import reintegration
from dashboard.metrics.recidivism import (
    MEASURES,
    WINDOWS_MONTHS,
    add_months_expr,
    first_event_column,
    first_matching_events,
    index_date_expr,
    metric_id,
)
from dashboard.metrics.table_families import family_of, family_rows
from dashboard.metrics.registry import (
    GROUP_KEYS,
    GROUPINGS,
    METRIC_IDS,
    METRICS_BY_ID,
    OUTPUT_GROUP_KEYS,
    get_metric,
)
from dashboard.metrics.suppression import (
    OVERALL,
    AdditiveSet,
    GroupKey,
    key_sort_value,
    metric_sets,
    suppress_metric_rows,
)
from dashboard.metrics.tables import Filters, Tables, age_band_expr, resolve_as_of, value_in
from dashboard.stats import wilson_interval

DAYS_PER_MONTH = 30.4375
COMPLETION_CLOSED = ("completed", "declined", "no_show", "closed_unsuccessful")
COMPLIANCE_KNOWN = ("compliant", "non_compliant", "missed")
DECISIVE_EXITS = ("completed", "revoked", "absconded")
DIVERSION_OUTCOMES = ("resolved_on_scene", "referred_to_services", "transported_to_treatment")
DEMOGRAPHIC_COLUMNS = ("sex", "race_ethnicity", "age_band", "risk_level", "supervision_type")

OUTPUT_SCHEMA: dict[str, pl.DataType] = {
    "metric": pl.String(),
    "group_by": pl.List(pl.String()),
    "group": pl.Struct({k: pl.String() for k in OUTPUT_GROUP_KEYS}),
    "numerator": pl.Float64(),
    "denominator": pl.Float64(),
    "value": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "suppressed": pl.Boolean(),
}
"""Columns of :func:`compute_metrics`. ``group`` carries every key; only
those named in ``group_by`` are meaningful (a null there is the Unassigned
group). ``denominator`` is a count for every metric except the violation rate,
where it is participant-months, and the caseload, where it is officer FTE.
``numerator`` is a count (a whole number) except for the costs, where it is money."""


# --- step 1: units ------------------------------------------------------------------


class _Prepared:
    """The participants and records after the as-of cut-off and participant filters.

    Two participant frames, because SPEC §3 leaves out two different things:
    ``participants`` are those enrolled on or before the as-of date (the
    participant-based metrics count them), while ``attributes`` holds every
    recorded participant's program, cohort and demographics. A referral,
    supervision event, violation or police contact dated on or before the
    as-of date is not left out even when its participant enrolls after it
    (only rows *dated* after the as-of are), and "the cohort always comes from
    the participant", so such a row keeps its participant's recorded program
    and cohort.
    """

    def __init__(self, tables: Tables, filters: Filters, as_of: dt.date) -> None:
        self.tables = tables
        self.filters = filters
        self.as_of = as_of
        everyone = tables.participants.lazy().with_columns(age_band_expr())
        for column, allowed in filters.participant_filters.items():
            everyone = everyone.filter(value_in(pl.col(column), allowed))
        self.attributes = everyone.select(
            "participant_id", "program_id", "cohort", "supervising_agency_id", *DEMOGRAPHIC_COLUMNS
        ).collect()
        # An exit after the as-of date counts as no exit.
        exited = pl.col("exit_date") <= as_of
        p = everyone.filter(pl.col("enrollment_date") <= as_of).with_columns(
            pl.when(exited).then(pl.col("exit_date")).otherwise(None).alias("exit_date"),
            pl.when(exited).then(pl.col("exit_reason")).otherwise(None).alias("exit_reason"),
        )
        self.participants = p.collect()
        self.participant_filtered = bool(filters.participant_filters)

    def participant_attributes(self, *, agency: bool) -> pl.LazyFrame:
        """participant_id with the participant's program, cohort (and agency) and demographics,
        for every recorded participant (see the class docstring)."""
        cols = ["participant_id", "program_id", "cohort", *DEMOGRAPHIC_COLUMNS]
        if agency:
            cols.append("supervising_agency_id")
        return self.attributes.lazy().select(cols)

    def in_period(self, date: pl.Expr) -> pl.Expr:
        cond = pl.lit(True)
        if self.filters.start is not None:
            cond = cond & (date >= self.filters.start)
        if self.filters.end is not None:
            cond = cond & (date <= self.filters.end)
        return cond

    def attribution_filter(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """--program / --agency on the metric's own program_id and agency_id columns."""
        if self.filters.program_ids:
            frame = frame.filter(value_in(pl.col("program_id"), self.filters.program_ids))
        if self.filters.agency_ids:
            frame = frame.filter(value_in(pl.col("agency_id"), self.filters.agency_ids))
        return frame



def _quarter_expr(date: pl.Expr) -> pl.Expr:
    # concat_str, not pl.format: pl.format panicked ("i < self.len()") on some row orders (polars 2.1).
    return pl.concat_str([date.dt.year().cast(pl.String), pl.lit("-Q"), date.dt.quarter().cast(pl.String)])


def _referral_base(prep: _Prepared) -> pl.LazyFrame:
    r = prep.tables.referrals.lazy().filter(pl.col("referral_date") <= prep.as_of)
    r = r.join(prep.participant_attributes(agency=False), on="participant_id", how="inner")
    r = r.with_columns(pl.col("provider_agency_id").alias("agency_id"), pl.col("referral_date").alias("_date"))
    return prep.attribution_filter(r.filter(prep.in_period(pl.col("_date"))))


def _supervision_base(prep: _Prepared) -> pl.LazyFrame:
    e = prep.tables.supervision_events.lazy().filter(pl.col("event_date") <= prep.as_of)
    e = e.join(prep.participant_attributes(agency=False), on="participant_id", how="inner")
    e = e.with_columns(pl.col("event_date").alias("_date"))
    return prep.attribution_filter(e.filter(prep.in_period(pl.col("_date"))))


def _participant_base(prep: _Prepared, date: pl.Expr) -> pl.LazyFrame:
    p = prep.participants.lazy().with_columns(
        pl.col("supervising_agency_id").alias("agency_id"), date.alias("_date")
    )
    return prep.attribution_filter(p.filter(prep.in_period(pl.col("_date"))))


def _police_base(prep: _Prepared) -> pl.LazyFrame:
    c = prep.tables.police_contacts.lazy().filter(pl.col("contact_date") <= prep.as_of)
    attrs = prep.participant_attributes(agency=False).rename({"program_id": "_participant_program"})
    attrs = attrs.with_columns(pl.lit(True).alias("_known"))
    c = c.join(attrs, on="participant_id", how="left")
    # A contact dated on or before the as-of date counts with its participant's
    # recorded program (when it has none of its own) and cohort. A participant
    # filter keeps only contacts of matching participants, so contacts with no
    # (known) participant go.
    if prep.participant_filtered:
        c = c.filter(pl.col("_known").fill_null(False))
    c = c.with_columns(
        pl.coalesce(pl.col("program_id"), pl.col("_participant_program")).alias("program_id"),
        pl.col("contact_date").alias("_date"),
    )
    return prep.attribution_filter(c.filter(prep.in_period(pl.col("_date"))))


def _flag(cond: pl.Expr) -> pl.Expr:
    return cond.fill_null(False).cast(pl.Int64)


@dataclass(frozen=True)
class _Family:
    """Records shared by several rate metrics: one frame, each metric's 0/1 numerator
    and denominator expressions. Aggregated in one pass for all its metrics."""

    frame: pl.LazyFrame
    flags: dict[str, tuple[pl.Expr, pl.Expr]]


def _families(prep: _Prepared, wanted: set[str]) -> list[_Family]:
    """The rate metrics among ``wanted`` (all but the median and the violation rate), by family."""
    out: list[_Family] = []
    status = pl.col("status")
    referral_flags = {
        "referral_completion_rate": (status == "completed", status.is_in(COMPLETION_CLOSED)),
        "referral_acceptance_rate": (
            (status != "pending") & pl.col("accepted_date").is_not_null(), status != "pending"
        ),
    }
    if wanted & set(referral_flags):
        out.append(_Family(_referral_base(prep), {m: f for m, f in referral_flags.items() if m in wanted}))
    if "compliance_rate" in wanted:
        required = pl.col("required")
        out.append(_Family(_supervision_base(prep), {"compliance_rate": (
            required & (pl.col("outcome") == "compliant"), required & pl.col("outcome").is_in(COMPLIANCE_KNOWN)
        )}))
    if "program_completion_rate" in wanted:
        p = _participant_base(prep, pl.col("exit_date")).filter(pl.col("exit_date").is_not_null())
        out.append(_Family(p, {"program_completion_rate": (
            pl.col("exit_reason") == "completed", pl.col("exit_reason").is_in(DECISIVE_EXITS)
        )}))
    if "reentry_plan_rate" in wanted:
        p = _participant_base(prep, pl.col("release_date")).filter(pl.col("release_date").is_not_null())
        out.append(_Family(p, {"reentry_plan_rate": (
            pl.col("reentry_plan_date") <= pl.col("release_date"), pl.col("release_date").is_not_null()
        )}))
    recid = [(m, w) for m in MEASURES for w in WINDOWS_MONTHS if metric_id(m, w) in wanted]
    if recid:
        base = _recidivism_base(prep, {m for m, _ in recid})
        base = base.with_columns(
            add_months_expr(pl.col("index_date"), w).alias(f"_end_{w}") for w in sorted({w for _, w in recid})
        )
        flags = {}
        for measure, window in recid:
            end = pl.col(f"_end_{window}")
            eligible = end <= prep.as_of
            first = pl.col(first_event_column(measure))
            flags[metric_id(measure, window)] = (eligible & first.is_not_null() & (first <= end), eligible)
        out.append(_Family(base, flags))
    if "police_diversion_rate" in wanted:
        out.append(_Family(_police_base(prep), {"police_diversion_rate": (
            pl.col("outcome").is_in(DIVERSION_OUTCOMES), pl.col("contact_id").is_not_null()
        )}))
    for build in _FAMILY_BUILDERS:
        family = build(prep, wanted)
        if family is not None:
            out.append(family)
    return out


def _reintegration_family(prep: _Prepared, wanted: set[str]) -> _Family | None:
    """Employment, stable housing and check coverage at 6 and 12 months
    (:mod:`dashboard.metrics.reintegration`): participants attributed as for recidivism."""
    people = _participant_base(prep, index_date_expr()).with_columns(pl.col("_date").alias("index_date"))
    units = reintegration.metric_units(people, prep.tables.reintegration_checks, prep.as_of, wanted)
    return None if units is None else _Family(*units)


_FAMILY_BUILDERS: tuple[Callable[[_Prepared, set[str]], _Family | None], ...] = (_reintegration_family,)
"""Metric families defined in a module of their own: each builder gives its family's
units and flags for the wanted metrics, or None when none of its metrics is wanted."""


def _median_units(prep: _Prepared) -> pl.LazyFrame:
    """Referrals with a service start, with ``_days`` = service_start_date − referral_date."""
    return _referral_base(prep).filter(pl.col("service_start_date").is_not_null()).with_columns(
        (pl.col("service_start_date") - pl.col("referral_date")).dt.total_days().alias("_days")
    )


def _unit(prep: _Prepared, metric: str) -> pl.LazyFrame:
    """One rate metric's records with 0/1 columns ``_num`` and ``_den`` (for breakdowns)."""
    (family,) = _families(prep, {metric})
    num, den = family.flags[metric]
    return family.frame.with_columns(_flag(num).alias("_num"), _flag(den).alias("_den"))


def _recidivism_base(prep: _Prepared, measures: set[str]) -> pl.LazyFrame:
    """Participants with ``index_date`` and, per measure, ``first_<measure>_date``
    (see :mod:`dashboard.metrics.recidivism`, shared with the pilot evaluation)."""
    p = prep.participants.lazy().with_columns(index_date_expr())
    firsts = first_matching_events(p, prep.tables.recidivism_events, measures, prep.as_of)
    p = p.join(firsts, on="participant_id", how="left")
    p = p.with_columns(pl.col("supervising_agency_id").alias("agency_id"), pl.col("index_date").alias("_date"))
    return prep.attribution_filter(p.filter(prep.in_period(pl.col("_date"))))


def _violation_units(prep: _Prepared) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(violations, exposure): both attributed to the participant's program,
    supervising agency and cohort. ``violations`` rows count 1 each;
    ``exposure`` rows carry ``_lo``/``_hi`` and ``_days`` per participant."""
    v = prep.tables.violations.lazy().filter(pl.col("violation_date") <= prep.as_of)
    v = v.join(prep.participant_attributes(agency=True), on="participant_id", how="inner")
    v = v.with_columns(pl.col("supervising_agency_id").alias("agency_id"), pl.col("violation_date").alias("_date"))
    v = prep.attribution_filter(v.filter(prep.in_period(pl.col("_date"))))
    p = prep.participants.lazy().filter(pl.col("supervision_type") != "none")
    low = pl.col("enrollment_date")
    if prep.filters.start is not None:
        low = pl.max_horizontal(low, pl.lit(prep.filters.start))
    high = pl.coalesce(pl.col("exit_date"), pl.lit(prep.as_of))
    if prep.filters.end is not None:
        high = pl.min_horizontal(high, pl.lit(prep.filters.end))
    p = p.with_columns(
        pl.col("supervising_agency_id").alias("agency_id"),
        low.alias("_lo"),
        high.alias("_hi"),
    ).with_columns(pl.max_horizontal((pl.col("_hi") - pl.col("_lo")).dt.total_days() + 1, pl.lit(0)).alias("_days"))
    return v, prep.attribution_filter(p)


# --- step 2 and 3: cells, groupings, rows -----------------------------------------------

_CELL_KEYS = list(GROUP_KEYS)


def _rollups(cells: pl.DataFrame, sums: list[str]) -> list[tuple[tuple[str, ...], pl.DataFrame]]:
    out = []
    for grouping in GROUPINGS:
        if grouping:
            frame = cells.group_by(list(grouping)).agg(pl.col(s).sum() for s in sums)
        else:
            frame = cells.select(pl.col(s).sum() for s in sums)
        out.append((grouping, frame))
    return out


def _key_of(row: dict[str, Any], grouping: tuple[str, ...]) -> GroupKey:
    return (grouping, tuple(row[g] for g in grouping))


@dataclass
class _Row:
    metric: str
    key: GroupKey
    numerator: int | float | None
    denominator: float
    value: float | None
    ci: tuple[float, float] | None


def _rate_rows(metric: str, cells: pl.DataFrame) -> list[_Row]:
    rows = []
    for grouping, frame in _rollups(cells, ["_num", "_den"]):
        for rec in frame.iter_rows(named=True):
            num, den = int(rec["_num"] or 0), int(rec["_den"] or 0)
            if den <= 0:
                continue
            has_interval = METRICS_BY_ID[metric].has_interval
            rows.append(
                _Row(metric, _key_of(rec, grouping), num, float(den), num / den,
                     wilson_interval(num, den) if has_interval else None)
            )
    return rows


def _median_rows(metric: str, units: pl.DataFrame) -> list[_Row]:
    rows = []
    served = units
    for grouping in GROUPINGS:
        if grouping:
            frame = served.group_by(list(grouping)).agg(pl.len().alias("n"), pl.col("_days").median().alias("m"))
        else:
            frame = served.select(pl.len().alias("n"), pl.col("_days").median().alias("m"))
        for rec in frame.iter_rows(named=True):
            if rec["n"] <= 0:
                continue
            rows.append(_Row(metric, _key_of(rec, grouping), None, float(rec["n"]), float(rec["m"]), None))
    return rows


def _violation_rows(metric: str, violations: pl.DataFrame, exposure: pl.DataFrame) -> list[_Row]:
    # Sum the days, then divide once: Σ days / 30.4375 (SPEC §3).
    num_cells = violations.group_by(_CELL_KEYS).agg(pl.len().cast(pl.Int64).alias("_num"))
    den_cells = exposure.group_by(_CELL_KEYS).agg(pl.col("_days").sum().cast(pl.Int64).alias("_daysum"))
    cells = num_cells.join(den_cells, on=_CELL_KEYS, how="full", coalesce=True, nulls_equal=True).with_columns(
        pl.col("_num").fill_null(0), pl.col("_daysum").fill_null(0)
    )
    rows = []
    for grouping, frame in _rollups(cells, ["_num", "_daysum"]):
        for rec in frame.iter_rows(named=True):
            num, days = int(rec["_num"] or 0), int(rec["_daysum"] or 0)
            if num <= 0 and days <= 0:
                continue
            months = days / DAYS_PER_MONTH
            rows.append(_Row(metric, _key_of(rec, grouping), num, months, 100.0 * num / months if days > 0 else None, None))
    return rows


def _sort_rows(rows: list[_Row]) -> list[_Row]:
    order = {m: i for i, m in enumerate(METRIC_IDS)}
    return sorted(rows, key=lambda r: (
        order[r.metric], METRICS_BY_ID[r.metric].groupings.index(r.key[0]), key_sort_value(r.key[1])
    ))


def _raw_rows(tables: Tables, filters: Filters, as_of: dt.date, ids: Sequence[str]) -> list[_Row]:
    prep = _Prepared(tables, filters, as_of)
    wanted = set(ids)
    families = _families(prep, wanted)
    queries: list[pl.LazyFrame] = []
    for family in families:
        aggs = []
        for metric, (num, den) in family.flags.items():
            aggs += [_flag(num).sum().alias(f"{metric}:num"), _flag(den).sum().alias(f"{metric}:den")]
        queries.append(family.frame.group_by(_CELL_KEYS).agg(aggs))
    if "median_days_to_service" in wanted:
        queries.append(_median_units(prep).select(*_CELL_KEYS, "_days"))
    if "violation_rate_per_100_pm" in wanted:
        v, e = _violation_units(prep)
        queries += [v.select(_CELL_KEYS), e.select(*_CELL_KEYS, "_days")]
    collected = pl.collect_all(queries)
    rows: list[_Row] = []
    for family, cells in zip(families, collected):
        for metric in family.flags:
            rows += _rate_rows(metric, cells.select(
                *_CELL_KEYS, pl.col(f"{metric}:num").alias("_num"), pl.col(f"{metric}:den").alias("_den")
            ))
    rest = collected[len(families):]
    if "median_days_to_service" in wanted:
        rows += _median_rows("median_days_to_service", rest.pop(0))
    if "violation_rate_per_100_pm" in wanted:
        rows += _violation_rows("violation_rate_per_100_pm", rest[0], rest[1])
    rows += [_Row(*r) for r in family_rows(tables, filters, as_of, wanted)]
    return _sort_rows(rows)


def _check_ids(metric_ids: Sequence[str] | None) -> list[str]:
    if metric_ids is None:
        return list(METRIC_IDS)
    for m in metric_ids:
        get_metric(m)
    return [m for m in METRIC_IDS if m in set(metric_ids)]


def compute_metrics(
    tables: Tables,
    filters: Filters,
    *,
    min_cell_size: int = 11,
    metric_ids: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Every requested metric (default: all) for every grouping, long form.

    One row per (metric, grouping, group) with a denominator above zero;
    columns as in :data:`OUTPUT_SCHEMA`. Suppressed rows keep their numbers
    here (``suppressed`` is True) so callers inside the engine can reason
    about them; :func:`metrics_json`, :func:`metrics_csv` and
    :func:`published` blank them.
    """
    ids = _check_ids(metric_ids)
    as_of = resolve_as_of(tables, filters.as_of)
    rows = _raw_rows(tables, filters, as_of, ids)
    return _rows_frame(rows, min_cell_size)


def _count_or_none(numerator: int | float | None) -> int | None:
    return None if numerator is None else int(numerator)


def _rows_frame(rows: list[_Row], k: int) -> pl.DataFrame:
    flags: dict[tuple[str, GroupKey], bool] = {}
    by_metric: dict[str, list[_Row]] = {}
    for r in rows:
        by_metric.setdefault(r.metric, []).append(r)
    for metric, mrows in by_metric.items():
        family = family_of(metric)
        if family is not None:
            result = family.suppress([(r.key, r.numerator, r.denominator) for r in mrows], k)
        else:
            result = suppress_metric_rows([(r.key, _count_or_none(r.numerator), r.denominator) for r in mrows], k)
        for key, flag in result.items():
            flags[(metric, key)] = flag
    records = []
    for r in rows:
        group: dict[str, str | None] = {g: None for g in OUTPUT_GROUP_KEYS}
        group.update(dict(zip(r.key[0], r.key[1])))
        records.append(
            {
                "metric": r.metric,
                "group_by": list(r.key[0]),
                "group": group,
                "numerator": r.numerator,
                "denominator": r.denominator,
                "value": r.value,
                "ci_low": r.ci[0] if r.ci else None,
                "ci_high": r.ci[1] if r.ci else None,
                "suppressed": flags[(r.metric, r.key)],
            }
        )
    return pl.DataFrame(records, schema=OUTPUT_SCHEMA)


def published(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the numbers of suppressed rows set to null (what may be shown)."""
    hide = pl.col("suppressed")
    return frame.with_columns(
        pl.when(hide).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("numerator", "denominator", "value", "ci_low", "ci_high")
    )


# --- JSON / CSV / CLI ------------------------------------------------------------------------


def _is_count(metric: str) -> bool:
    return METRICS_BY_ID[metric].unit not in ("per_100_participant_months", "participants_per_officer")


def _numerator_json(metric: str, numerator: float | None) -> int | float | None:
    """A count as a whole number; money (the costs) as the exact sum's nearest float."""
    if numerator is None:
        return None
    return float(numerator) if METRICS_BY_ID[metric].unit == "currency" else int(numerator)


def _json_row(rec: dict[str, Any]) -> dict[str, Any]:
    metric = rec["metric"]
    group_by = list(rec["group_by"])
    group = {g: rec["group"][g] for g in group_by}
    if rec["suppressed"]:
        return {
            "metric": metric, "group_by": group_by, "group": group,
            "numerator": None, "denominator": None, "value": None,
            "ci_low": None, "ci_high": None, "suppressed": True,
        }
    den = rec["denominator"]
    if den is not None and _is_count(metric):
        den = int(den)
    return {
        "metric": metric,
        "group_by": group_by,
        "group": group,
        "numerator": _numerator_json(metric, rec["numerator"]),
        "denominator": den,
        "value": _finite(rec["value"]),
        "ci_low": _finite(rec["ci_low"]),
        "ci_high": _finite(rec["ci_high"]),
        "suppressed": False,
    }


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _filters_json(filters: Filters) -> dict[str, Any]:
    def one_or_many(values: tuple[Any, ...]) -> Any:
        if not values:
            return None
        return values[0] if len(values) == 1 else list(values)

    out: dict[str, Any] = {
        "start": filters.start.isoformat() if filters.start else None,
        "end": filters.end.isoformat() if filters.end else None,
        "program": one_or_many(filters.program_ids),
        "agency": one_or_many(filters.agency_ids),
    }
    for column, values in filters.participant_filters.items():
        out[column] = list(values)
    return out


def metrics_json(tables: Tables, filters: Filters, min_cell_size: int = 11) -> dict[str, Any]:
    """The ``metrics --format json`` object of SPEC §4."""
    as_of = resolve_as_of(tables, filters.as_of)
    frame = compute_metrics(tables, filters, min_cell_size=min_cell_size)
    return {
        "as_of": as_of.isoformat(),
        "min_cell_size": min_cell_size,
        "filters": _filters_json(filters),
        "metrics": [_json_row(rec) for rec in frame.iter_rows(named=True)],
    }


CSV_COLUMNS = (
    "metric", "group_by", "program_id", "agency_id", "cohort",
    "numerator", "denominator", "value", "ci_low", "ci_high", "suppressed",
)


def metrics_csv(tables: Tables, filters: Filters, min_cell_size: int = 11) -> str:
    """``metrics --format csv``: one line per JSON row; ``group_by`` joined by '+',
    keys outside the grouping and every null left empty, suppressed numbers empty.
    A ``respondent_type`` column follows ``cohort`` only when some row is grouped by it
    (survey rows), so the columns of version-1 output never change."""
    doc = metrics_json(tables, filters, min_cell_size)
    keys: tuple[str, ...] = GROUP_KEYS
    columns: tuple[str, ...] = CSV_COLUMNS
    if any("respondent_type" in row["group_by"] for row in doc["metrics"]):
        keys = (*GROUP_KEYS, "respondent_type")
        at = CSV_COLUMNS.index("cohort") + 1
        columns = (*CSV_COLUMNS[:at], "respondent_type", *CSV_COLUMNS[at:])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in doc["metrics"]:
        writer.writerow(
            [
                row["metric"],
                "+".join(row["group_by"]),
                *(neutralise_text(row["group"].get(k) or "") for k in keys),
                *("" if row[c] is None else repr(row[c]) if isinstance(row[c], float) else row[c]
                  for c in ("numerator", "denominator", "value", "ci_low", "ci_high")),
                "true" if row["suppressed"] else "false",
            ]
        )
    return buf.getvalue()


def filters_from_args(args: argparse.Namespace) -> Filters:
    """Filters from the ``metrics`` command line."""
    return Filters(
        as_of=getattr(args, "as_of", None),
        start=getattr(args, "start", None),
        end=getattr(args, "end", None),
        program_ids=(args.program,) if getattr(args, "program", None) else (),
        agency_ids=(args.agency,) if getattr(args, "agency", None) else (),
    )


def cli_metrics(args: argparse.Namespace) -> int:
    """``partnership-dashboard metrics``: print every metric for every grouping."""
    from dashboard import store
    from dashboard.metrics.tables import load_tables

    try:
        filters = filters_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    missing = store.missing_file_message(args.db)
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    engine = store.make_engine(args.db)
    try:
        if not store.schema_exists(engine):
            print(
                "error: the database has no dashboard tables yet; load an extract first "
                "(partnership-dashboard load DIR) or pass --db with the right URL.",
                file=sys.stderr,
            )
            return 2
        tables = load_tables(engine)
    finally:
        engine.dispose()
    unknown = _unknown_filter_ids(tables, filters)
    if unknown:
        print(f"error: {unknown}", file=sys.stderr)
        return 2
    if args.format == "csv":
        sys.stdout.write(metrics_csv(tables, filters, args.min_cell_size))
    else:
        json.dump(metrics_json(tables, filters, args.min_cell_size), sys.stdout)
        sys.stdout.write("\n")
    return 0


def _unknown_filter_ids(tables: Tables, filters: Filters) -> str | None:
    """--program / --agency ids the database does not know (a typo would otherwise
    print an empty list and exit 0, as if the program had nothing to report).
    ``export`` uses it too (as :func:`unknown_filter_ids`)."""
    for flag, wanted, frame, column in (
        ("--program", filters.program_ids, tables.programs, "program_id"),
        ("--agency", filters.agency_ids, tables.agencies, "agency_id"),
    ):
        known = sorted(str(v) for v in frame[column].drop_nulls().to_list())
        missing = [v for v in (wanted or ()) if v not in known]
        if missing:
            names = ", ".join(repr(v) for v in missing)
            return f"{flag} {names}: not in the database ({column}s: {', '.join(known) or 'none loaded'})"
    return None


unknown_filter_ids = _unknown_filter_ids


# --- breakdowns for the dashboard ------------------------------------------------------------

BREAKDOWN_DIMENSIONS: tuple[str, ...] = (
    "quarter", "service_type", "event_type", "violation_type", "response", "contact_type",
    *DEMOGRAPHIC_COLUMNS, *GROUP_KEYS, "year",
)
_VIOLATION_ONLY: dict[str, tuple[str, ...]] = {"violation_type": VIOLATION_TYPES, "response": VIOLATION_RESPONSES}


def _check_breakdown(metric: str, by: Sequence[str]) -> None:
    definition = get_metric(metric)
    allowed = (*definition.breakdowns, *GROUP_KEYS)
    bad = [d for d in by if d not in allowed]
    if bad or not by or len(set(by)) != len(by):
        raise ValueError(
            f"cannot break {metric} down by {list(by)}: choose one or more distinct of {', '.join(allowed)}"
        )


def _with_quarter(frame: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """The calendar quarter ("2025-Q3") and year ("2025") of the metric's date, when ``by`` asks for them."""
    if "quarter" in by:
        frame = frame.with_columns(_quarter_expr(pl.col("_date")).alias("quarter"))
    if "year" in by:
        frame = frame.with_columns(pl.col("_date").dt.year().cast(pl.String).alias("year"))
    return frame


def _exposure_by_quarter(exposure: pl.LazyFrame) -> pl.LazyFrame:
    """Split each participant's exposure [_lo, _hi] into calendar quarters (days per quarter)."""

    def qindex(d: pl.Expr) -> pl.Expr:
        return d.dt.year().cast(pl.Int64) * 4 + (d.dt.quarter().cast(pl.Int64) - 1)

    q = pl.col("_q")
    q_start = pl.date(q // 4, (q % 4) * 3 + 1, 1)
    q_end = q_start.dt.offset_by("3mo").dt.offset_by("-1d")
    return (
        exposure.filter(pl.col("_days") > 0)
        .with_columns(pl.int_ranges(qindex(pl.col("_lo")), qindex(pl.col("_hi")) + 1).alias("_q"))
        .explode("_q")
        .with_columns(
            (pl.min_horizontal(pl.col("_hi"), q_end) - pl.max_horizontal(pl.col("_lo"), q_start))
            .dt.total_days().add(1).alias("_days"),
            pl.concat_str([(q // 4).cast(pl.String), pl.lit("-Q"), (q % 4 + 1).cast(pl.String)]).alias("quarter"),
        )
    )


def _breakdown_cells(prep: _Prepared, metric: str, by: list[str]) -> list[tuple[tuple[Any, ...], int | None, float, float | None, tuple[float, float] | None]]:
    """(key values, numerator, denominator, value, interval) per cell with a row."""
    cells: list[tuple[tuple[Any, ...], int | None, float, float | None, tuple[float, float] | None]] = []
    if metric == "violation_rate_per_100_pm":
        v, e = _violation_units(prep)
        v = _with_quarter(v, by)
        if "quarter" in by:
            e = _exposure_by_quarter(e)
        exposure_dims = [d for d in by if d not in _VIOLATION_ONLY]
        counts = v.group_by(by).agg(pl.len().cast(pl.Int64).alias("_num"))
        if exposure_dims:
            days = e.group_by(exposure_dims).agg(pl.col("_days").sum().cast(pl.Int64).alias("_daysum"))
        else:
            days = e.select(pl.col("_days").sum().cast(pl.Int64).alias("_daysum"))
        only = [d for d in by if d in _VIOLATION_ONLY]
        if only:
            values = pl.DataFrame({only[0]: list(_VIOLATION_ONLY[only[0]])}).lazy()
            for d in only[1:]:
                values = values.join(pl.DataFrame({d: list(_VIOLATION_ONLY[d])}).lazy(), how="cross")
            days = days.join(values, how="cross")
        joined = counts.join(days, on=by, how="full", coalesce=True, nulls_equal=True).collect()
        for rec in joined.iter_rows(named=True):
            num, daysum = int(rec["_num"] or 0), int(rec["_daysum"] or 0)
            if num <= 0 and daysum <= 0:
                continue
            months = daysum / DAYS_PER_MONTH
            cells.append((tuple(rec[d] for d in by), num, months, 100.0 * num / months if daysum else None, None))
        return cells
    if metric == "median_days_to_service":
        frame = _with_quarter(_median_units(prep), by).group_by(by).agg(
            pl.len().alias("n"), pl.col("_days").median().alias("m")
        ).collect()
        for rec in frame.iter_rows(named=True):
            cells.append((tuple(rec[d] for d in by), None, float(rec["n"]), float(rec["m"]), None))
        return cells
    unit = _with_quarter(_unit(prep, metric), by)
    frame = unit.group_by(by).agg(pl.col("_num").sum(), pl.col("_den").sum()).collect()
    for rec in frame.iter_rows(named=True):
        num, den = int(rec["_num"]), int(rec["_den"])
        if den > 0:
            cells.append((tuple(rec[d] for d in by), num, float(den), num / den, wilson_interval(num, den)))
    return cells


VIEW_TWO_KEY_BREAKDOWNS: tuple[tuple[str, str], ...] = (("quarter", "cohort"), ("quarter", "agency_id"))
"""The two-key breakdowns the dashboard shows (quarterly trends by cohort and by
agency). Every metric whose breakdowns include ``quarter`` carries both in its
view, so a page may show either beside everything else without opening a gap."""


def metric_breakdown(
    tables: Tables,
    filters: Filters,
    metric_id: str,
    by: Sequence[str],
    *,
    min_cell_size: int = 11,
) -> pl.DataFrame:
    """One metric broken down by ``by`` (quarter of the metric's date, service/event/
    violation/contact type, response, demographics, program/agency/cohort).

    The first row is the metric's overall row exactly as :func:`compute_metrics`
    gives it (same suppression); the cells follow, sorted by key (null last).
    ``by`` is one dimension, a standard grouping (the ``metrics`` rows), or one
    of :data:`VIEW_TWO_KEY_BREAKDOWNS`. The cells are suppressed together with
    every other breakdown of the metric the product shows under the same
    filters (see :func:`metric_view`), so no suppressed cell can be recovered
    from anything one view publishes. A violation-type or response cell
    carries the exposure of its other dimensions (exposure has no type).
    Columns: metric, group_by, group (struct of the ``by`` values as strings),
    numerator, denominator, value, ci_low, ci_high, suppressed.
    """
    by = list(by)
    _check_breakdown(metric_id, by)
    if tuple(by) in GROUPINGS:
        overall_frame = compute_metrics(tables, filters, min_cell_size=min_cell_size, metric_ids=[metric_id])
        return _regroup(overall_frame, by)
    view = metric_view(tables, filters, metric_id, min_cell_size=min_cell_size)
    if tuple(by) not in view:
        shown = ", ".join("+".join(b) for b in view) or "none"
        raise ValueError(
            f"cannot break {metric_id} down by {by}: a breakdown must be part of the metric's view to be "
            f"protected with the others (one dimension, a standard grouping, or one of: {shown}); "
            "add a new two-key breakdown to VIEW_TWO_KEY_BREAKDOWNS"
        )
    return view[tuple(by)]


_BreakdownKey = tuple[str, tuple[str, ...], tuple[str | None, ...]]


def _strings(values: Sequence[Any]) -> tuple[str | None, ...]:
    return tuple(None if v is None else str(v) for v in values)


def view_breakdowns(metric_id: str) -> list[tuple[str, ...]]:
    """The breakdowns (besides the ``metrics`` groupings) in ``metric_id``'s view, in visiting order:
    each dimension of the registry, then :data:`VIEW_TWO_KEY_BREAKDOWNS` whose dimensions apply."""
    definition = get_metric(metric_id)
    allowed = (*definition.breakdowns, *GROUP_KEYS)
    one_key = [(d,) for d in definition.breakdowns if d not in GROUP_KEYS]
    two_key = [b for b in VIEW_TWO_KEY_BREAKDOWNS if all(d in allowed for d in b)]
    return [*one_key, *two_key]


def metric_view(
    tables: Tables, filters: Filters, metric_id: str, *, min_cell_size: int = 11
) -> dict[tuple[str, ...], pl.DataFrame]:
    """Every breakdown of one metric the product shows under one filter setting, protected as one system.

    The system (see :mod:`dashboard.metrics.disclosure`): the metric's
    ``metrics`` rows, fixed as :func:`compute_metrics` suppresses them; each
    one-key breakdown against the overall row; each two-key breakdown
    (quarter × g) against the overall row, against each quarter row of the
    quarter breakdown and against each ``metrics`` row of grouping g. Only
    breakdown cells are ever suppressed here. Returns one frame per
    breakdown of :func:`view_breakdowns`, as :func:`metric_breakdown` gives it.
    """
    from dashboard.metrics.disclosure import Cell, protect

    k = min_cell_size
    metrics_frame = compute_metrics(tables, filters, min_cell_size=k, metric_ids=[metric_id])
    prep = _Prepared(tables, filters, resolve_as_of(tables, filters.as_of))
    breakdowns = view_breakdowns(metric_id)
    raw = {by: _breakdown_cells(prep, metric_id, list(by)) for by in breakdowns}
    cells: dict[Hashable, Cell] = {}
    metric_keys: list[GroupKey] = []
    for rec in metrics_frame.iter_rows(named=True):
        grouping = tuple(rec["group_by"])
        values: tuple[str | None, ...] = tuple(rec["group"][g] for g in grouping)
        metric_keys.append((grouping, values))
        cells[(grouping, values)] = Cell(
            rec["numerator"], float(rec["denominator"]), key_sort_value(values), fixed=bool(rec["suppressed"])
        )
    keyed: dict[tuple[str, ...], list[tuple[_BreakdownKey, tuple[Any, ...]]]] = {}
    for by, rows in raw.items():
        keyed[by] = []
        for row in sorted(rows, key=lambda c: key_sort_value(_strings(c[0]))):
            key: _BreakdownKey = ("breakdown", by, _strings(row[0]))
            cells[key] = Cell(row[1], row[2], key_sort_value(key[2]))
            keyed[by].append((key, row))
    sets: list[AdditiveSet[Hashable]] = [
        AdditiveSet(s.total, tuple(s.members)) for s in metric_sets(metric_keys)
    ]
    for by in breakdowns:
        members = tuple(key for key, _ in keyed[by])
        sets.append(AdditiveSet(OVERALL, members))
        if len(by) != 2:
            continue
        for position, margin in enumerate(by):
            # Members by their value on this margin, in one pass (a set per value, in key order).
            by_value: dict[Any, list[_BreakdownKey]] = {}
            for m in members:
                by_value.setdefault(m[2][position], []).append(m)
            for value in sorted(by_value, key=lambda v: key_sort_value((v,))):
                total: Hashable = (
                    ((margin,), (value,)) if margin in GROUP_KEYS else ("breakdown", (margin,), (value,))
                )
                sets.append(AdditiveSet(total, tuple(by_value[value])))
    flags = protect(cells, sets, k)
    overall = metrics_frame.filter(pl.col("group_by").list.len() == 0)
    out: dict[tuple[str, ...], pl.DataFrame] = {}
    for by in breakdowns:
        records: list[dict[str, Any]] = []
        if overall.height:
            records.append({**overall.row(0, named=True), "group": {d: None for d in by}})
        for key, (values_raw, num, den, value, ci) in keyed[by]:
            records.append({
                "metric": metric_id, "group_by": list(by),
                "group": dict(zip(by, key[2])),
                "numerator": num, "denominator": den, "value": value,
                "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None,
                "suppressed": flags[key],
            })
        schema = dict(OUTPUT_SCHEMA)
        schema["group"] = pl.Struct({d: pl.String() for d in by})
        out[by] = pl.DataFrame(records, schema=schema)
    return out


def _regroup(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Rows of one standard grouping (plus overall) with ``group`` narrowed to ``by``."""
    keep = frame.filter(
        (pl.col("group_by").list.len() == 0) | (pl.col("group_by").list.join("+") == "+".join(by))
    )
    return keep.with_columns(pl.struct(*[pl.col("group").struct.field(d) for d in by]).alias("group"))


# --- head counts for the dashboard tiles -----------------------------------------------------


def participant_counts(tables: Tables, filters: Filters, *, min_cell_size: int = 11) -> pl.DataFrame:
    """Participants enrolled and active, overall and by every grouping, suppressed.

    ``participants_enrolled``: enrolled on or before the as-of date with the
    enrollment date in the period. ``participants_active``: enrolled on or
    before the as-of date and not exited on or before it (the period does
    not apply: it is a head count on the as-of date). Program = program_id,
    agency = supervising_agency_id. The count is in ``denominator`` and
    ``value`` (``numerator`` null); a count from 1 to k − 1 is suppressed, then
    complementary suppression runs as for the metrics.
    """
    as_of = resolve_as_of(tables, filters.as_of)
    prep = _Prepared(tables, filters, as_of)
    people = prep.attribution_filter(
        prep.participants.lazy().with_columns(pl.col("supervising_agency_id").alias("agency_id"))
    )
    enrolled = people.filter(prep.in_period(pl.col("enrollment_date")))
    active = people.filter(pl.col("exit_date").is_null())
    return _count_frame((("participants_enrolled", enrolled), ("participants_active", active)), min_cell_size)


def referral_counts(tables: Tables, filters: Filters, *, min_cell_size: int = 11) -> pl.DataFrame:
    """Referrals made in the period, overall and by every grouping, suppressed.

    ``referrals_made``: referrals dated (referral_date) in the period and on or
    before the as-of date, attributed like every referral metric (program and
    cohort of the participant, agency = provider_agency_id), whatever their
    status. Same columns and suppression as :func:`participant_counts`.
    """
    as_of = resolve_as_of(tables, filters.as_of)
    prep = _Prepared(tables, filters, as_of)
    return _count_frame((("referrals_made", _referral_base(prep)),), min_cell_size)


def _count_frame(counts: Sequence[tuple[str, pl.LazyFrame]], min_cell_size: int) -> pl.DataFrame:
    """Count rows per cell and grouping; a count of 1 to k − 1 is suppressed, then
    complementary suppression runs as for the metrics."""
    names = [name for name, _ in counts]
    rows: list[_Row] = []
    for name, frame in counts:
        cells = frame.group_by(_CELL_KEYS).agg(pl.len().cast(pl.Int64).alias("_n")).collect()
        for grouping, rolled in _rollups(cells, ["_n"]):
            for rec in rolled.iter_rows(named=True):
                n = int(rec["_n"] or 0)
                if n > 0:
                    rows.append(_Row(name, _key_of(rec, grouping), None, float(n), float(n), None))
    flags: dict[tuple[str, GroupKey], bool] = {}
    for name in names:
        mine = [r for r in rows if r.metric == name]
        for key, flag in suppress_metric_rows([(r.key, _count_or_none(r.numerator), r.denominator) for r in mine], min_cell_size).items():
            flags[(name, key)] = flag
    grouping_order = {g: i for i, g in enumerate(GROUPINGS)}
    rows.sort(key=lambda r: (names.index(r.metric), grouping_order[r.key[0]], key_sort_value(r.key[1])))
    records = []
    for r in rows:
        group: dict[str, str | None] = {g: None for g in GROUP_KEYS}
        group.update(dict(zip(r.key[0], r.key[1])))
        records.append({"metric": r.metric, "group_by": list(r.key[0]), "group": group, "numerator": None,
                        "denominator": r.denominator, "value": r.value, "ci_low": None, "ci_high": None,
                        "suppressed": flags[(r.metric, r.key)]})
    return pl.DataFrame(records, schema=OUTPUT_SCHEMA)
