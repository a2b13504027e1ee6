"""The kinds of metric a family is made of, and how the engine turns each kind into rows.

A family (:mod:`dashboard.metrics.families`) builds, for the metrics wanted, one or
more *units* objects of these kinds; the engine only loops over them:

- :class:`RateUnits` — one frame of counted records, and per metric a 0/1 numerator
  and denominator expression (every rate: referrals, compliance, completions,
  recidivism, diversion, reintegration). A Wilson interval when the metric has one.
- :class:`MedianUnits` — one frame with ``_days`` per record; the value is the median.
- :class:`ExposureUnits` — events counted against exposure days (violations per 100
  participant-months): Σ events / (Σ days / 30.4375) × 100.
- :class:`TableUnits` — money or ratio rows a version-2 table family computes whole
  (:class:`dashboard.metrics.table_kinds.TableFamily`).

Every kind gives the lazy queries the engine collects in one pass, the rows from
their results, and (except table rows) the breakdown cells of the dashboard
(see docs/metrics.md for each definition).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import polars as pl

from dashboard.metrics.definition import GROUP_KEYS, GROUPINGS, MetricDefinition
from dashboard.metrics.prepared import Prepared, flag, quarter_expr
from dashboard.metrics.suppression import GroupKey, suppress_metric_rows
from dashboard.metrics.table_kinds import SuppressRows, TableFamily
from dashboard.stats import wilson_interval

DAYS_PER_MONTH = 30.4375
CELL_KEYS = list(GROUP_KEYS)

BreakdownCell = tuple[tuple[Any, ...], int | None, float, float | None, tuple[float, float] | None]
"""(key values, numerator, denominator, value, interval) of one breakdown cell with a row."""
HasInterval = Callable[[str], bool]


@dataclass
class Row:
    """One output row before suppression."""

    metric: str
    key: GroupKey
    numerator: int | float | None
    denominator: float
    value: float | None
    ci: tuple[float, float] | None


def rollups(cells: pl.DataFrame, sums: list[str]) -> list[tuple[tuple[str, ...], pl.DataFrame]]:
    """``cells`` (one row per program, agency and cohort) summed per grouping, in output order."""
    out = []
    for grouping in GROUPINGS:
        if grouping:
            frame = cells.group_by(list(grouping)).agg(pl.col(s).sum() for s in sums)
        else:
            frame = cells.select(pl.col(s).sum() for s in sums)
        out.append((grouping, frame))
    return out


def key_of(row: dict[str, Any], grouping: tuple[str, ...]) -> GroupKey:
    return (grouping, tuple(row[g] for g in grouping))


def with_quarter(frame: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """The calendar quarter ("2025-Q3") and year ("2025") of the metric's date, when ``by`` asks for
    them and ``frame`` does not carry them already (a narrowed frame computes them once: see
    :meth:`Units.narrowed`)."""
    wanted = [d for d in ("quarter", "year") if d in by]
    if not wanted:
        return frame
    present = set(frame.collect_schema().names())
    if "quarter" in wanted and "quarter" not in present:
        frame = frame.with_columns(quarter_expr(pl.col("_date")).alias("quarter"))
    if "year" in wanted and "year" not in present:
        frame = frame.with_columns(pl.col("_date").dt.year().cast(pl.String).alias("year"))
    return frame


NARROWING_ENGINE: Literal["streaming"] = "streaming"
"""How a narrowed frame is collected. Polars' streaming engine joins and filters the records in
batches, so only the narrow result is held whole, not the joined records it is cut from: at a
million participants the compliance view peaks about 0.2 GB lower and is a third faster
(docs/performance.md, "Memory, round 3": narrowed frames). The narrowed frames are only
grouped and summed afterwards (whole-number flags, day counts), so their row order does not
matter."""


def compact_keys(frame: pl.LazyFrame, keep: Sequence[str] = ()) -> pl.LazyFrame:
    """``frame`` with its text columns (program, agency, quarter, age band...) as categoricals.

    A narrowed frame holds every record a view counts (4.8 million supervision events for the
    compliance page at a million participants) and only reads its text columns to group by them:
    as categoricals they take 4 bytes a row instead of 16, about 0.2 GB less while a page is drawn
    (docs/performance.md, "Memory, round 3": narrowed frames). Grouping gives the same groups
    (a null stays null) and every cell and row leaves as Python strings, so no output changes.
    Columns in ``keep`` stay text (those joined with plain strings later)."""
    schema = frame.collect_schema()
    text = [name for name, dtype in schema.items() if dtype == pl.String() and name not in keep]
    return frame.with_columns(pl.col(text).cast(pl.Categorical())) if text else frame


def dated_dimensions(breakdowns: Sequence[Sequence[str]]) -> list[str]:
    """The dimensions of ``breakdowns`` derived from the metric's date (quarter, year)."""
    return [d for d in ("quarter", "year") if any(d in by for by in breakdowns)]


def view_columns(breakdowns: Sequence[Sequence[str]]) -> list[str]:
    """The columns of a units frame that ``breakdowns`` and the ``metrics`` rows read: the group
    keys, each dimension, and ``_date`` for a quarter or year (they are derived from it)."""
    out = list(CELL_KEYS)
    for by in breakdowns:
        for d in by:
            column = "_date" if d in ("quarter", "year") else d
            if column not in out:
                out.append(column)
    return out


class Units(Protocol):
    """What the engine asks of every kind."""

    def queries(self) -> list[pl.LazyFrame]:
        """The lazy frames to collect (all kinds' queries are collected in one pass)."""

    def rows(self, collected: Sequence[pl.DataFrame], has_interval: HasInterval) -> list[Row]:
        """The rows of every metric of these units, from the collected :meth:`queries`."""

    def cells(self, metric: str, by: list[str]) -> list[BreakdownCell]:
        """One metric's cells broken down by ``by`` (dimensions of the units' frame)."""

    @property
    def metric_ids(self) -> tuple[str, ...]:
        """The metrics these units give rows of."""

    def narrowed(self, metrics: Sequence[str], breakdowns: Sequence[Sequence[str]]) -> Units:
        """The same units for those of ``metrics`` they carry, their frames computed once and kept
        narrow (only the columns of :func:`view_columns`): :meth:`queries`, :meth:`rows` and
        :meth:`cells` give what they give here, for those metrics, ``breakdowns`` and the
        ``metrics`` groupings, but each call then groups a small frame in memory instead of
        re-running the joins and filters from the tables (a view asks for a dozen breakdowns of
        each metric; the recidivism windows share one frame)."""


# --- rate ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateUnits:
    """Records shared by several rate metrics: one frame, each metric's 0/1 numerator
    and denominator expressions. Aggregated in one pass for all its metrics."""

    frame: pl.LazyFrame
    flags: dict[str, tuple[pl.Expr, pl.Expr]]

    def queries(self) -> list[pl.LazyFrame]:
        aggs = []
        for metric, (num, den) in self.flags.items():
            aggs += [flag(num).sum().alias(f"{metric}:num"), flag(den).sum().alias(f"{metric}:den")]
        return [self.frame.group_by(CELL_KEYS).agg(aggs)]

    def rows(self, collected: Sequence[pl.DataFrame], has_interval: HasInterval) -> list[Row]:
        (cells,) = collected
        out: list[Row] = []
        for metric in self.flags:
            mine = cells.select(
                *CELL_KEYS, pl.col(f"{metric}:num").alias("_num"), pl.col(f"{metric}:den").alias("_den")
            )
            for grouping, frame in rollups(mine, ["_num", "_den"]):
                for rec in frame.iter_rows(named=True):
                    num, den = int(rec["_num"] or 0), int(rec["_den"] or 0)
                    if den <= 0:
                        continue
                    ci = wilson_interval(num, den) if has_interval(metric) else None
                    out.append(Row(metric, key_of(rec, grouping), num, float(den), num / den, ci))
        return out

    def cells(self, metric: str, by: list[str]) -> list[BreakdownCell]:
        num, den = self.flags[metric]
        unit = with_quarter(self.frame.with_columns(flag(num).alias("_num"), flag(den).alias("_den")), by)
        frame = unit.group_by(by).agg(pl.col("_num").sum(), pl.col("_den").sum()).collect()
        out: list[BreakdownCell] = []
        for rec in frame.iter_rows(named=True):
            n, d = int(rec["_num"]), int(rec["_den"])
            if d > 0:
                out.append((tuple(rec[x] for x in by), n, float(d), n / d, wilson_interval(n, d)))
        return out

    @property
    def metric_ids(self) -> tuple[str, ...]:
        return tuple(self.flags)

    def narrowed(self, metrics: Sequence[str], breakdowns: Sequence[Sequence[str]]) -> RateUnits:
        # Each metric's 0/1 flags are computed here once; a record counted in none adds 0 to every
        # sum, and a cell or group whose denominator is 0 has no row, so such records are left out.
        mine = [m for m in self.flags if m in metrics]
        columns: dict[str, pl.Expr] = {}
        for i, metric in enumerate(mine):
            num, den = self.flags[metric]
            # 0/1 kept in one byte each: the frame can hold millions of records (supervision events).
            columns[f"_num{i}"], columns[f"_den{i}"] = flag(num).cast(pl.Int8), flag(den).cast(pl.Int8)
        counted = self.frame.with_columns(**columns)
        counted = counted.filter(pl.any_horizontal([pl.col(c) != 0 for c in columns]))
        narrow = counted.select(*view_columns(breakdowns), *columns)
        # Quarter and year are all the breakdowns read of the date: the date itself is not kept.
        narrow = with_quarter(narrow, dated_dimensions(breakdowns)).drop("_date", strict=False)
        narrow = compact_keys(narrow).collect(engine=NARROWING_ENGINE).lazy()
        # flag(_num0 == 1) is _num0 again: 1 where the metric's own numerator held, else 0.
        flags = {m: (pl.col(f"_num{i}") == 1, pl.col(f"_den{i}") == 1) for i, m in enumerate(mine)}
        return RateUnits(narrow, flags)


# --- median ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MedianUnits:
    """One metric whose value is the median of ``_days`` over its records (no numerator)."""

    metric: str
    frame: pl.LazyFrame

    def queries(self) -> list[pl.LazyFrame]:
        return [self.frame.select(*CELL_KEYS, "_days")]

    def rows(self, collected: Sequence[pl.DataFrame], has_interval: HasInterval) -> list[Row]:
        (units,) = collected
        out: list[Row] = []
        for grouping in GROUPINGS:
            if grouping:
                frame = units.group_by(list(grouping)).agg(
                    pl.len().alias("n"), pl.col("_days").median().alias("m")
                )
            else:
                frame = units.select(pl.len().alias("n"), pl.col("_days").median().alias("m"))
            for rec in frame.iter_rows(named=True):
                if rec["n"] <= 0:
                    continue
                key = key_of(rec, grouping)
                out.append(Row(self.metric, key, None, float(rec["n"]), float(rec["m"]), None))
        return out

    def cells(self, metric: str, by: list[str]) -> list[BreakdownCell]:
        frame = with_quarter(self.frame, by).group_by(by).agg(
            pl.len().alias("n"), pl.col("_days").median().alias("m")
        ).collect()
        return [(tuple(rec[d] for d in by), None, float(rec["n"]), float(rec["m"]), None)
                for rec in frame.iter_rows(named=True)]

    @property
    def metric_ids(self) -> tuple[str, ...]:
        return (self.metric,)

    def narrowed(self, metrics: Sequence[str], breakdowns: Sequence[Sequence[str]]) -> MedianUnits:
        narrow = self.frame.select(*view_columns(breakdowns), "_days")
        narrow = with_quarter(narrow, dated_dimensions(breakdowns))
        return MedianUnits(self.metric, compact_keys(narrow).collect(engine=NARROWING_ENGINE).lazy())


# --- exposure rate ---------------------------------------------------------------------------


def exposure_by_quarter(exposure: pl.LazyFrame) -> pl.LazyFrame:
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
            pl.concat_str([(q // 4).cast(pl.String), pl.lit("-Q"), (q % 4 + 1).cast(pl.String)])
            .alias("quarter"),
        )
    )


@dataclass(frozen=True)
class ExposureUnits:
    """Events per 100 participant-months: ``events`` count 1 each; ``exposure`` rows carry
    ``_lo``/``_hi`` and ``_days``. ``event_only`` lists the dimensions only events have
    (with every value), whose cells carry the exposure of their other dimensions."""

    metric: str
    events: pl.LazyFrame
    exposure: pl.LazyFrame
    event_only: dict[str, tuple[str, ...]]
    by_quarter: pl.LazyFrame | None = None
    """``exposure`` split into calendar quarters (:func:`exposure_by_quarter`) when already
    computed (:meth:`narrowed`); None: split it for each breakdown by quarter."""

    def queries(self) -> list[pl.LazyFrame]:
        return [self.events.select(CELL_KEYS), self.exposure.select(*CELL_KEYS, "_days")]

    def rows(self, collected: Sequence[pl.DataFrame], has_interval: HasInterval) -> list[Row]:
        violations, exposure = collected
        # Sum the days, then divide once: Σ days / 30.4375 (docs/metrics.md).
        num_cells = violations.group_by(CELL_KEYS).agg(pl.len().cast(pl.Int64).alias("_num"))
        den_cells = exposure.group_by(CELL_KEYS).agg(pl.col("_days").sum().cast(pl.Int64).alias("_daysum"))
        cells = num_cells.join(
            den_cells, on=CELL_KEYS, how="full", coalesce=True, nulls_equal=True
        ).with_columns(pl.col("_num").fill_null(0), pl.col("_daysum").fill_null(0))
        out: list[Row] = []
        for grouping, frame in rollups(cells, ["_num", "_daysum"]):
            for rec in frame.iter_rows(named=True):
                num, days = int(rec["_num"] or 0), int(rec["_daysum"] or 0)
                if num <= 0 and days <= 0:
                    continue
                months = days / DAYS_PER_MONTH
                value = 100.0 * num / months if days > 0 else None
                out.append(Row(self.metric, key_of(rec, grouping), num, months, value, None))
        return out

    @property
    def metric_ids(self) -> tuple[str, ...]:
        return (self.metric,)

    def narrowed(self, metrics: Sequence[str], breakdowns: Sequence[Sequence[str]]) -> ExposureUnits:
        columns = view_columns(breakdowns)
        # the dimensions events and exposure share are joined with each other (both categoricals);
        # those only events have are joined with plain lists of their values, so they stay text
        keep = list(self.event_only)
        dated = with_quarter(self.events.select(columns), dated_dimensions(breakdowns))
        events = compact_keys(dated, keep).collect(engine=NARROWING_ENGINE)
        exposure_columns = [c for c in columns if c not in self.event_only and c != "_date"]
        exposure = compact_keys(self.exposure.select(*exposure_columns, "_lo", "_hi", "_days")).collect(
            engine=NARROWING_ENGINE
        )
        by_quarter = None
        if any("quarter" in by for by in breakdowns):
            # Only the quarter breakdowns read the split, and only their sums of days: it is kept
            # summed by the dimensions they pair the quarter with (whole days, so the sums of these
            # sums are exactly the sums of the split rows) — a few thousand rows, not millions.
            paired = [c for c in exposure_columns if any("quarter" in by and c in by for by in breakdowns)]
            split = exposure_by_quarter(exposure.lazy())
            summed = split.group_by(*paired, "quarter").agg(pl.col("_days").sum())
            by_quarter = compact_keys(summed).collect(engine=NARROWING_ENGINE).lazy()
        return ExposureUnits(self.metric, events.lazy(), exposure.lazy(), self.event_only, by_quarter)

    def cells(self, metric: str, by: list[str]) -> list[BreakdownCell]:
        v, e = with_quarter(self.events, by), self.exposure
        if "quarter" in by:
            e = exposure_by_quarter(e) if self.by_quarter is None else self.by_quarter
        exposure_dims = [d for d in by if d not in self.event_only]
        counts = v.group_by(by).agg(pl.len().cast(pl.Int64).alias("_num"))
        if exposure_dims:
            days = e.group_by(exposure_dims).agg(pl.col("_days").sum().cast(pl.Int64).alias("_daysum"))
        else:
            days = e.select(pl.col("_days").sum().cast(pl.Int64).alias("_daysum"))
        only = [d for d in by if d in self.event_only]
        if only:
            values = pl.DataFrame({only[0]: list(self.event_only[only[0]])}).lazy()
            for d in only[1:]:
                values = values.join(pl.DataFrame({d: list(self.event_only[d])}).lazy(), how="cross")
            days = days.join(values, how="cross")
        joined = counts.join(days, on=by, how="full", coalesce=True, nulls_equal=True).collect()
        out: list[BreakdownCell] = []
        for rec in joined.iter_rows(named=True):
            num, daysum = int(rec["_num"] or 0), int(rec["_daysum"] or 0)
            if num <= 0 and daysum <= 0:
                continue
            months = daysum / DAYS_PER_MONTH
            value = 100.0 * num / months if daysum else None
            out.append((tuple(rec[d] for d in by), num, months, value, None))
        return out


# --- money / ratio rows of the version-2 tables ----------------------------------------------


@dataclass(frozen=True)
class TableUnits:
    """The wanted metrics of one version-2 table family, computed whole by the family."""

    table: TableFamily
    prep: Prepared
    wanted: set[str]

    def queries(self) -> list[pl.LazyFrame]:
        return []

    def rows(self, collected: Sequence[pl.DataFrame], has_interval: HasInterval) -> list[Row]:
        prep = self.prep
        return [Row(*r) for r in self.table.rows(prep.tables, prep.filters, prep.as_of, self.wanted)]

    def cells(self, metric: str, by: list[str]) -> list[BreakdownCell]:
        raise ValueError(f"{metric} has no breakdowns beyond its groupings")

    @property
    def metric_ids(self) -> tuple[str, ...]:
        return tuple(m for m in self.table.metric_ids if m in self.wanted)

    def narrowed(self, metrics: Sequence[str], breakdowns: Sequence[Sequence[str]]) -> TableUnits:
        return TableUnits(self.table, self.prep, set(metrics) & self.wanted)


# --- the family ------------------------------------------------------------------------------


def suppress_counts(
    rows: Sequence[tuple[GroupKey, int | float | None, float]], k: int
) -> dict[GroupKey, bool]:
    """The rule of docs/metrics.md (small-cell and complementary suppression) for count numerators."""
    return suppress_metric_rows([(key, None if num is None else int(num), den) for key, num, den in rows], k)


UnitsBuilder = Callable[[Prepared, set[str]], list[Units]]
CountsBuilder = Callable[[Prepared], list[tuple[str, pl.LazyFrame]]]


@dataclass(frozen=True)
class Family:
    """One family of metrics: their definitions and how their units are built.

    ``units`` builds the units of the wanted metrics (an empty list when none is
    wanted); ``tables`` are version-2 table families, run when their table holds
    rows; ``counts`` gives the dashboard's head counts of the family (name, records
    counted) and ``dashboard_metrics`` the rates the dashboard shows beyond ``metrics``.
    """

    name: str
    metrics: tuple[MetricDefinition, ...]
    units: UnitsBuilder | None = None
    tables: tuple[TableFamily, ...] = ()
    counts: CountsBuilder | None = None
    dashboard_metrics: tuple[MetricDefinition, ...] = ()

    @property
    def metric_ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.metrics)

    def build(self, prep: Prepared, wanted: set[str]) -> list[Units]:
        """The units of the metrics of this family among ``wanted``."""
        mine = wanted & set(self.metric_ids)
        if not mine:
            return []
        out: list[Units] = list(self.units(prep, mine)) if self.units is not None else []
        for table in self.tables:
            theirs = mine & set(table.metric_ids)
            if theirs and table.has_rows(prep.tables):
                out.append(TableUnits(table, prep, theirs))
        return out

    def suppressor(self, metric: str) -> SuppressRows:
        """How the rows of ``metric`` are suppressed."""
        for table in self.tables:
            if metric in table.metric_ids:
                return table.suppress
        return suppress_counts
