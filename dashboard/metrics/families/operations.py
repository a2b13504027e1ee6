"""Operations: what the pilot costs per person, and how stretched its officers are.

Definitions (``docs/metrics.md``, contract version 2):

- **Cost in the period** — each ``program_costs`` row contributes
  amount × (days of [period_start, period_end] inside the selected period and
  on or before the as-of date) / (days of [period_start, period_end]), both
  ends counted. With no period the selected period is everything up to the
  as-of date; an end after the as-of is capped at it. Money is summed
  exactly (fractions of cents kept) and converted once, for the value.
- ``cost_per_participant`` = cost in the period / pilot participants served
  in the period (enrolled on or before the period's end and the as-of, not
  exited before its start; an exit after the as-of counts as no exit).
- ``cost_per_completion`` = cost in the period / pilot participants who
  exited completed with the exit date in the period and on or before the as-of.
  Both are reported overall and by program; the overall numerator is all
  cost in the period, including programs with no pilot participant (which
  get no row). ``--agency`` and the participant filters do not apply;
  ``--program`` does (the cost's program_id, the participant's program).
- ``caseload_per_officer`` = Σ active caseload / Σ officers_fte over the
  staffing months whose first day is in the period and on or before the
  as-of. The active caseload of an agency in a month counts participants
  supervised by it (supervision_type ≠ none) enrolled on or before d and
  not exited on or before d, d being the month's last day or the as-of if
  earlier. Overall and by agency; an agency whose Σ FTE is 0 gets no row but
  its caseload enters the overall row. ``--agency`` applies (the staffing
  agency); ``--program`` and the participant filters do not.

Suppression: cost rows are withheld when their denominator (people) is
below k, then programs against the overall row; the money never triggers
it. Caseload rows are never suppressed (they describe staff).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import polars as pl

from dashboard.metrics.definition import NO_PARTICIPANT_FILTERS, MetricDefinition
from dashboard.metrics.kinds import Family
from dashboard.metrics.per_tables import once_per_tables
from dashboard.metrics.suppression import OVERALL, GroupKey
from dashboard.metrics.table_kinds import (
    FamilyRow,
    PeriodCell,
    PeriodGroup,
    TableFamily,
    suppress_against_overall,
    suppress_over_periods,
)
from dashboard.metrics.tables import Filters, Tables, value_in

_COST_INCLUDES = (
    "Cost in the period: each program_costs row contributes amount × (days of [period_start, period_end] inside "
    "the period and on or before the as-of date) / (days of [period_start, period_end]), both ends counted; with "
    "no period, everything up to the as-of date; an end after the as-of date is capped at it. Money is summed "
    "exactly and rounded only for display. The overall numerator is all cost in the period, including programs "
    "with no pilot participant in the denominator (they get no row of their own)."
)
_COST_EXCLUDES = (
    "The comparison cohort (its services are not the pilot's cost). --agency does not apply (all pilot "
    "participants of the program, whatever their agency); --program applies to the cost's program_id and the "
    "participant's program_id. " + NO_PARTICIPANT_FILTERS
)
METRICS: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        id="cost_per_participant",
        label="Cost per participant served",
        definition="What the pilot spent in the period per pilot participant served in it.",
        numerator="cost in the period (prorated by days, see Includes)",
        denominator=(
            "pilot participants served in the period: enrolled on or before the period's end and the as-of date, "
            "and not exited before the period's start (an exit on the start day still counts; an exit after the "
            "as-of date counts as no exit)"
        ),
        includes=_COST_INCLUDES,
        excludes=_COST_EXCLUDES,
        unit="currency",
        period_date="program_costs [period_start, period_end] (prorated); participants served in the period",
        source_table="program_costs, participants",
        agency_attribution="none (--agency does not apply to costs)",
        program_attribution="the cost's program_id; the participant's program_id",
        has_interval=False,
        breakdowns=(),
        family="operations",
        own_groupings=((), ("program_id",)),
        groupings_add_up=False,
        participant_filters_apply=False,
    ),
    MetricDefinition(
        id="cost_per_completion",
        label="Cost per completion",
        definition="What the pilot spent in the period per pilot participant who completed the program in it.",
        numerator="cost in the period (prorated by days, see Includes)",
        denominator=(
            "pilot participants with exit_reason = completed and exit_date in the period and on or before the "
            "as-of date (without a period: every completion on or before the as-of date)"
        ),
        includes=_COST_INCLUDES,
        excludes=_COST_EXCLUDES,
        unit="currency",
        period_date="program_costs [period_start, period_end] (prorated); participants.exit_date",
        source_table="program_costs, participants",
        agency_attribution="none (--agency does not apply to costs)",
        program_attribution="the cost's program_id; the participant's program_id",
        has_interval=False,
        breakdowns=(),
        family="operations",
        own_groupings=((), ("program_id",)),
        groupings_add_up=False,
        participant_filters_apply=False,
    ),
    MetricDefinition(
        id="caseload_per_officer",
        label="Caseload per officer",
        definition=(
            "Participants under supervision per full-time supervising officer: Σ active caseload / Σ officers_fte "
            "over the staffing months (participant-months per officer-month)."
        ),
        numerator=(
            "Σ over the staffing months of the agency's active caseload: participants with supervising_agency_id = "
            "the agency and supervision_type != none, enrolled on or before d and not exited on or before d, where "
            "d is the month's last day or the as-of date if earlier"
        ),
        denominator="Σ officers_fte over the same staffing months",
        includes=(
            "Staffing months whose first day is in the period and on or before the as-of date, FTE-0 (vacancy) "
            "months included: they add caseload but no officer time. An agency whose Σ officers_fte is 0 gets no "
            "row, but its caseload still enters the overall row."
        ),
        excludes=(
            "Participants with no supervising agency or with supervision_type none. --program does not apply "
            "(staffing is per agency); --agency applies to the staffing agency. " + NO_PARTICIPANT_FILTERS
            + " Never suppressed: it describes staff, not people."
        ),
        unit="participants_per_officer",
        period_date="staffing.month (its first day)",
        source_table="staffing, participants",
        agency_attribution="the staffing row's agency_id (= the participants' supervising_agency_id)",
        program_attribution="none (--program does not apply to caseload)",
        has_interval=False,
        breakdowns=(),
        family="operations",
        own_groupings=((), ("agency_id",)),
        groupings_add_up=False,
        participant_filters_apply=False,
    ),
)
COST_PER_PARTICIPANT, COST_PER_COMPLETION, CASELOAD_PER_OFFICER = (m.id for m in METRICS)
COST_METRICS: tuple[str, ...] = (COST_PER_PARTICIPANT, COST_PER_COMPLETION)
COST_GROUPINGS: tuple[tuple[str, ...], ...] = ((), ("program_id",))
CASELOAD_GROUPINGS: tuple[tuple[str, ...], ...] = ((), ("agency_id",))


def _exact(value: Any) -> Fraction:
    """A stored decimal (or number) as an exact fraction; null as 0."""
    if value is None:
        return Fraction(0)
    if isinstance(value, float):
        # A float column (e.g. a test fixture): take the decimal it was written as.
        return Fraction(repr(value))
    return Fraction(value)


# --- costs ------------------------------------------------------------------------------


def cost_in_period(tables: Tables, filters: Filters, as_of: dt.date) -> dict[str, Fraction]:
    """Exact cost in the period per program_id (programs with some overlap only)."""
    costs = tables.program_costs.lazy()
    if filters.program_ids:
        costs = costs.filter(value_in(pl.col("program_id"), filters.program_ids))
    low = pl.col("period_start")
    if filters.start is not None:
        low = pl.max_horizontal(low, pl.lit(filters.start))
    high = pl.min_horizontal(pl.col("period_end"), pl.lit(as_of))
    if filters.end is not None:
        high = pl.min_horizontal(high, pl.lit(filters.end))
    days = (pl.col("period_end") - pl.col("period_start")).dt.total_days() + 1
    overlap = (high - low).dt.total_days() + 1
    parts = (
        costs.filter(pl.col("amount").is_not_null())
        .with_columns(days.alias("_days"), overlap.alias("_overlap"))
        .filter((pl.col("_overlap") > 0) & (pl.col("_days") > 0))
        # Rows sharing a program and a proration are summed as decimals (exact) first.
        .group_by("program_id", "_overlap", "_days")
        .agg(pl.col("amount").sum())
        .collect()
    )
    out: dict[str, Fraction] = defaultdict(Fraction)
    for rec in parts.iter_rows(named=True):
        share = Fraction(int(rec["_overlap"]), int(rec["_days"])) if rec["_overlap"] < rec["_days"] else Fraction(1)
        out[rec["program_id"]] += _exact(rec["amount"]) * share
    return dict(out)


def _pilot(tables: Tables, filters: Filters, as_of: dt.date) -> pl.LazyFrame:
    """Pilot participants enrolled by the as-of date, exits after it removed; --program applied."""
    p = tables.participants.lazy().filter((pl.col("cohort") == "pilot") & (pl.col("enrollment_date") <= as_of))
    if filters.program_ids:
        p = p.filter(value_in(pl.col("program_id"), filters.program_ids))
    exited = pl.col("exit_date") <= as_of
    return p.with_columns(
        pl.when(exited).then(pl.col("exit_date")).otherwise(None).alias("exit_date"),
        pl.when(exited).then(pl.col("exit_reason")).otherwise(None).alias("exit_reason"),
    )


def pilot_served(tables: Tables, filters: Filters, as_of: dt.date) -> dict[str, int]:
    """Pilot participants served in the period, per program_id."""
    p = _pilot(tables, filters, as_of)
    if filters.end is not None:
        p = p.filter(pl.col("enrollment_date") <= filters.end)
    if filters.start is not None:
        p = p.filter(pl.col("exit_date").is_null() | (pl.col("exit_date") >= filters.start))
    counts = p.group_by("program_id").agg(pl.len().alias("n")).collect()
    return {rec["program_id"]: int(rec["n"]) for rec in counts.iter_rows(named=True)}


def pilot_completions(tables: Tables, filters: Filters, as_of: dt.date) -> dict[str, int]:
    """Pilot participants who exited completed in the period (and by the as-of), per program_id."""
    p = _pilot(tables, filters, as_of).filter(pl.col("exit_reason") == "completed")
    if filters.start is not None:
        p = p.filter(pl.col("exit_date") >= filters.start)
    if filters.end is not None:
        p = p.filter(pl.col("exit_date") <= filters.end)
    counts = p.group_by("program_id").agg(pl.len().alias("n")).collect()
    return {rec["program_id"]: int(rec["n"]) for rec in counts.iter_rows(named=True)}


def pilot_counts_per_period(
    tables: Tables, filters: Filters, as_of: dt.date, periods: Sequence[tuple[str, dt.date | None, dt.date | None]]
) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    """(:func:`pilot_served`, :func:`pilot_completions`) under a period filter of each period's own
    dates, keyed by the period's label, from one pass over the pilot participants.

    Each period is two conditional counts per program in one grouped query; before, each period
    filtered the million participants twice (docs/performance.md, "Contract-version-2 and
    partnership pages"). Served periods overlap (a participant is served in every quarter of a
    stay), so the counts are conditions per period, not one label per participant.
    """
    if not periods:
        return {}
    counts = []
    for i, (_, start, end) in enumerate(periods):
        served, completed = pl.lit(True), pl.col("exit_reason") == "completed"
        if end is not None:
            served &= pl.col("enrollment_date") <= end
            completed &= pl.col("exit_date") <= end
        if start is not None:
            served &= pl.col("exit_date").is_null() | (pl.col("exit_date") >= start)
            completed &= pl.col("exit_date") >= start
        counts += [served.sum().alias(f"_served{i}"), completed.sum().alias(f"_completed{i}")]
    found = _pilot(tables, filters, as_of).group_by("program_id").agg(counts).collect()
    out: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
    for i, (label, _, _) in enumerate(periods):
        served_n = {rec["program_id"]: int(rec[f"_served{i}"]) for rec in found.iter_rows(named=True)
                    if rec[f"_served{i}"]}
        completed_n = {rec["program_id"]: int(rec[f"_completed{i}"]) for rec in found.iter_rows(named=True)
                       if rec[f"_completed{i}"]}
        out[label] = (served_n, completed_n)
    return out


def _cost_rows(metric: str, cost: dict[str, Fraction], people: dict[str, int]) -> list[FamilyRow]:
    rows: list[FamilyRow] = []

    def row(key: GroupKey, money: Fraction, n: int) -> None:
        if n > 0:
            rows.append((metric, key, float(money), float(n), float(money / n), None))

    row(OVERALL, sum(cost.values(), Fraction(0)), sum(people.values()))
    for program in sorted(people, key=lambda p: (p is None, p or "")):
        row((("program_id",), (program,)), cost.get(program, Fraction(0)), people[program])
    return rows


def cost_rows(tables: Tables, filters: Filters, as_of: dt.date, wanted: set[str]) -> list[FamilyRow]:
    """Rows of the cost metrics in ``wanted``: overall, then by program_id."""
    cost = cost_in_period(tables, filters, as_of)
    rows: list[FamilyRow] = []
    if COST_PER_PARTICIPANT in wanted:
        rows += _cost_rows(COST_PER_PARTICIPANT, cost, pilot_served(tables, filters, as_of))
    if COST_PER_COMPLETION in wanted:
        rows += _cost_rows(COST_PER_COMPLETION, cost, pilot_completions(tables, filters, as_of))
    return rows


def suppress_cost_rows(rows: Sequence[tuple[GroupKey, int | float | None, float]], k: int) -> dict[GroupKey, bool]:
    """Denominator below k (the money never triggers), then programs against the overall row."""
    return suppress_against_overall(rows, k, COST_GROUPINGS, numerator_triggers=False)


COST_FAMILY = TableFamily(
    metric_ids=COST_METRICS, source_table="program_costs", rows=cost_rows, suppress=suppress_cost_rows
)


# --- caseload ---------------------------------------------------------------------------

_DAY = np.timedelta64(1, "D")


def staffing_months(tables: Tables, filters: Filters, as_of: dt.date) -> pl.DataFrame:
    """The staffing months that count, each with its active caseload.

    Columns: agency_id, month, officers_fte (as stored), caseload (Int64) and
    ``count_date`` (the month's last day, or the as-of date if earlier).
    """
    staff = tables.staffing.lazy().filter(pl.col("month") <= as_of)
    if filters.start is not None:
        staff = staff.filter(pl.col("month") >= filters.start)
    if filters.end is not None:
        staff = staff.filter(pl.col("month") <= filters.end)
    if filters.agency_ids:
        staff = staff.filter(value_in(pl.col("agency_id"), filters.agency_ids))
    months = staff.with_columns(
        pl.min_horizontal(pl.col("month").dt.month_end(), pl.lit(as_of)).alias("count_date")
    ).sort("agency_id", "month").collect()
    by_agency = once_per_tables(tables, "supervision_spans", supervision_spans)
    caseload: list[int] = []
    for agency, day in zip(months["agency_id"].to_list(), months["count_date"].to_list()):
        enrolled, gone = by_agency.get(agency, (np.array([], "datetime64[D]"), np.array([], "datetime64[D]")))
        d = np.datetime64(day, "D")
        caseload.append(int(np.searchsorted(enrolled, d, "right") - np.searchsorted(gone, d, "right")))
    return months.with_columns(pl.Series("caseload", caseload, dtype=pl.Int64))


def supervision_spans(tables: Tables) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per supervising agency: the sorted enrollment dates of its supervised participants
    (supervision_type not none) and the sorted days from which those who exited are no longer
    active (the later of enrollment and exit). A month's caseload on day d is the number of
    enrollments on or before d minus the departures on or before d. Independent of filters and
    the as-of date, so the dashboard works it out once per load run (``once_per_tables``)."""
    supervised = tables.participants.filter(
        (pl.col("supervision_type") != "none") & pl.col("supervising_agency_id").is_not_null()
    ).select(
        pl.col("supervising_agency_id").alias("agency_id"),
        pl.col("enrollment_date"),
        # The day from which a participant is no longer active: exited on or before d.
        pl.when(pl.col("exit_date").is_not_null())
        .then(pl.max_horizontal("enrollment_date", "exit_date"))
        .otherwise(None)
        .alias("_gone"),
    )
    # Each agency's dates go to numpy column-wise: at a million participants a detour through
    # Python date objects took seconds (docs/performance.md, "Contract-version-2 and partnership pages").
    return {
        key[0]: (
            np.sort(part.get_column("enrollment_date").to_numpy()),
            np.sort(part.get_column("_gone").drop_nulls().to_numpy()),
        )
        for key, part in supervised.partition_by("agency_id", as_dict=True).items()
    }


def caseload_rows(tables: Tables, filters: Filters, as_of: dt.date, wanted: set[str]) -> list[FamilyRow]:
    """``caseload_per_officer`` overall and by agency_id (rows with Σ FTE > 0)."""
    if CASELOAD_PER_OFFICER not in wanted:
        return []
    months = staffing_months(tables, filters, as_of)
    load: dict[str, int] = defaultdict(int)
    fte: dict[str, Fraction] = defaultdict(Fraction)
    for rec in months.iter_rows(named=True):
        load[rec["agency_id"]] += rec["caseload"]
        fte[rec["agency_id"]] += _exact(rec["officers_fte"])
    rows: list[FamilyRow] = []

    def row(key: GroupKey, n: int, officers: Fraction) -> None:
        if officers > 0:
            rows.append((CASELOAD_PER_OFFICER, key, n, float(officers), float(Fraction(n) / officers), None))

    row(OVERALL, sum(load.values()), sum(fte.values(), Fraction(0)))
    for agency in sorted(load):
        row((("agency_id",), (agency,)), load[agency], fte[agency])
    return rows


def never_suppressed(rows: Sequence[tuple[GroupKey, int | float | None, float]], k: int) -> dict[GroupKey, bool]:
    """Caseload rows describe staff, not people: always published."""
    return {key: False for key, _, _ in rows}


CASELOAD_FAMILY = TableFamily(
    metric_ids=(CASELOAD_PER_OFFICER,), source_table="staffing", rows=caseload_rows, suppress=never_suppressed
)


# --- over time, for the dashboard ---------------------------------------------------------

TREND_SCHEMA: dict[str, Any] = {
    "metric": pl.String, "period": pl.String, "program_id": pl.String, "numerator": pl.Float64,
    "denominator": pl.Float64, "value": pl.Float64, "suppressed": pl.Boolean,
}


def cost_trend(
    tables: Tables,
    filters: Filters,
    as_of: dt.date,
    periods: Sequence[tuple[str, dt.date, dt.date]],
    *,
    min_cell_size: int = 11,
) -> pl.DataFrame:
    """Cost per participant and per completion, overall and by program, per period and for the
    whole selected period (``period`` null), suppressed so that no withheld cell can be recovered.

    Each period is computed exactly as the metric under a period filter of its
    own dates. Suppression: each period's programs against that period's
    overall row (as in the metric); completions are also additive over the
    periods (each exit falls in one), so for cost per completion each
    program's periods are protected against its whole-period row too.
    Periods wholly before the first or after the last cost row are left out.
    Numbers of suppressed rows are kept here; blank them before showing.
    Empty when ``program_costs`` holds no rows.
    """
    if tables.program_costs.height == 0:
        return pl.DataFrame(schema=TREND_SCHEMA)
    import dataclasses

    whole = cost_rows(tables, filters, as_of, set(COST_METRICS))
    # Quarters before the first or after the last cost row would only show a cost of 0.
    first, last = tables.program_costs["period_start"].min(), tables.program_costs["period_end"].max()
    periods = [(label, start, end) for label, start, end in periods
               if first is not None and last is not None and end >= first and start <= last]  # type: ignore[operator]
    counts = pilot_counts_per_period(tables, filters, as_of, periods)
    per_period: dict[str, list[FamilyRow]] = {}
    for label, start, end in periods:
        cost = cost_in_period(tables, dataclasses.replace(filters, start=start, end=end), as_of)
        served, completed = counts[label]
        per_period[label] = _cost_rows(COST_PER_PARTICIPANT, cost, served) + _cost_rows(
            COST_PER_COMPLETION, cost, completed)
    records: list[dict[str, Any]] = []
    for metric in COST_METRICS:
        mine = [r for r in whole if r[0] == metric]
        total_flags = suppress_cost_rows([(r[1], r[2], r[3]) for r in mine], min_cell_size)
        totals: dict[PeriodGroup, tuple[bool, float]] = {
            (r[1][1] or None): (total_flags[r[1]], r[3]) for r in mine
        }
        cells: dict[PeriodCell, tuple[int | float | None, float]] = {}
        values: dict[PeriodCell, FamilyRow] = {}
        for label, rows in per_period.items():
            for r in rows:
                if r[0] == metric:
                    key: PeriodCell = (label, r[1][1] or None)
                    cells[key], values[key] = (None, r[3]), r
        cell_flags, total_out = suppress_over_periods(
            cells, totals, min_cell_size, numerator_triggers=False,
            periods_add_up=metric == COST_PER_COMPLETION,
        )
        for r in mine:
            records.append({"metric": metric, "period": None, "program_id": r[1][1][0] if r[1][1] else None,
                            "numerator": r[2], "denominator": r[3], "value": r[4],
                            "suppressed": total_out[r[1][1] or None]})
        for key, r in values.items():
            records.append({"metric": metric, "period": key[0], "program_id": key[1][0] if key[1] else None,
                            "numerator": r[2],
                            "denominator": r[3], "value": r[4], "suppressed": cell_flags[key]})
    return pl.DataFrame(records, schema=TREND_SCHEMA)


def caseload_by_month(tables: Tables, filters: Filters, as_of: dt.date) -> pl.DataFrame:
    """Caseload per officer per staffing month, by agency and for all agencies (agency_id null).

    Columns: month, agency_id, caseload, officers_fte (float), caseload_per_officer
    (null when the month has no officer time). Never suppressed (it describes
    staff). The months and filters are those of ``caseload_per_officer``.
    """
    schema = {"month": pl.Date, "agency_id": pl.String, "caseload": pl.Int64, "officers_fte": pl.Float64,
              "caseload_per_officer": pl.Float64}
    if tables.staffing.height == 0:
        return pl.DataFrame(schema=schema)
    months = staffing_months(tables, filters, as_of)
    records: list[dict[str, Any]] = []
    totals: dict[dt.date, tuple[int, Fraction]] = {}
    for rec in months.iter_rows(named=True):
        fte = _exact(rec["officers_fte"])
        n, f = totals.get(rec["month"], (0, Fraction(0)))
        totals[rec["month"]] = (n + rec["caseload"], f + fte)
        records.append({"month": rec["month"], "agency_id": rec["agency_id"], "caseload": rec["caseload"],
                        "officers_fte": float(fte),
                        "caseload_per_officer": float(rec["caseload"] / fte) if fte > 0 else None})
    for month, (n, fte) in totals.items():
        records.append({"month": month, "agency_id": None, "caseload": n, "officers_fte": float(fte),
                        "caseload_per_officer": float(n / fte) if fte > 0 else None})
    return pl.DataFrame(records, schema=schema).sort("month", "agency_id", nulls_last=True)


FAMILY = Family("operations", METRICS, tables=(COST_FAMILY, CASELOAD_FAMILY))
