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

from dashboard.metrics.families import FamilyRow, TableFamily, suppress_against_overall
from dashboard.metrics.suppression import OVERALL, GroupKey
from dashboard.metrics.tables import Filters, Tables, value_in

COST_PER_PARTICIPANT = "cost_per_participant"
COST_PER_COMPLETION = "cost_per_completion"
CASELOAD_PER_OFFICER = "caseload_per_officer"
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
    by_agency = {
        rec["agency_id"]: (
            np.sort(np.array(rec["enrollment_date"], dtype="datetime64[D]")),
            np.sort(np.array([g for g in rec["_gone"] if g is not None], dtype="datetime64[D]")),
        )
        for rec in supervised.group_by("agency_id").agg("enrollment_date", pl.col("_gone").drop_nulls())
        .iter_rows(named=True)
    }
    caseload: list[int] = []
    for agency, day in zip(months["agency_id"].to_list(), months["count_date"].to_list()):
        enrolled, gone = by_agency.get(agency, (np.array([], "datetime64[D]"), np.array([], "datetime64[D]")))
        d = np.datetime64(day, "D")
        caseload.append(int(np.searchsorted(enrolled, d, "right") - np.searchsorted(gone, d, "right")))
    return months.with_columns(pl.Series("caseload", caseload, dtype=pl.Int64))


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
