"""The metric engine: every metric of docs/metrics.md, for every grouping, in polars.

:func:`compute_metrics` is the one entry point behind ``metrics`` (JSON and
CSV), the dashboard and the exports. It works in three steps:

1. **Units** — each metric family (:mod:`dashboard.metrics.families`) builds
   the units of its wanted metrics, in the kinds of :mod:`dashboard.metrics.kinds`
   (rate, median, exposure rate, money/ratio rows): the counted records
   (referrals, supervision events, participants, police contacts...) after
   the as-of cut-off, the period, the filters and the attribution of each
   record to a program, an agency and a cohort (:mod:`dashboard.metrics.prepared`).
   The engine loops over families and kinds; it never names a metric.
2. **Cells** — each unit frame is summed once by (program_id, agency_id,
   cohort); every grouping is a roll-up of those cells, so every grouping
   adds up to the overall row by construction (the median, which does not
   add up, is computed from the units per grouping).
3. **Rows** — a group gets a row when its denominator is above zero
   (violation rate: participant-months or violations above zero); rates get
   a Wilson 95% interval; suppression is applied last.

Nothing divides by zero: a group without a denominator gets no row, and the
violation rate of a group with violations but no exposure is null.

The dashboard's breakdowns (:func:`metric_breakdown`, :func:`metric_view`) live in
:mod:`dashboard.metrics.breakdowns`; the ``metrics``
command is :mod:`dashboard.commands.metrics`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Sequence
from typing import Any

import polars as pl

from dashboard.cells import DEFAULT_MIN_CELL_SIZE, neutralise_text  # group keys are partner text: no spreadsheet formulas
from dashboard.metrics import families
from dashboard.metrics.families.participants import DECISIVE_EXITS  # noqa: F401 (re-exported)
from dashboard.metrics.families.police import DIVERSION_OUTCOMES  # noqa: F401 (re-exported)
from dashboard.metrics.families.referrals import COMPLETION_CLOSED  # noqa: F401 (re-exported)
from dashboard.metrics.families.supervision import COMPLIANCE_KNOWN  # noqa: F401 (re-exported)
from dashboard.metrics.kinds import DAYS_PER_MONTH, Row, Units, key_of, rollups  # noqa: F401 (re-exported)
from dashboard.metrics.prepared import DEMOGRAPHIC_COLUMNS, Prepared, prepare  # noqa: F401 (re-exported)
from dashboard.metrics.registry import (
    GROUP_KEYS,
    GROUPINGS,
    METRIC_IDS,
    METRICS_BY_ID,
    OUTPUT_GROUP_KEYS,
    get_metric,
)
from dashboard.metrics.suppression import GroupKey, key_sort_value, suppress_metric_rows
from dashboard.metrics.tables import Filters, Tables, resolve_as_of

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


# --- step 1: units, by family and kind ----------------------------------------------------


def build_units(prep: Prepared, wanted: set[str]) -> list[Units]:
    """The units of every metric in ``wanted``, family by family (see :mod:`dashboard.metrics.kinds`)."""
    return [units for family in families.FAMILIES for units in family.build(prep, wanted)]


# --- step 2 and 3: cells, groupings, rows -----------------------------------------------

CELL_KEYS = list(GROUP_KEYS)


def _sort_rows(rows: list[Row]) -> list[Row]:
    order = {m: i for i, m in enumerate(METRIC_IDS)}
    return sorted(rows, key=lambda r: (
        order[r.metric], METRICS_BY_ID[r.metric].groupings.index(r.key[0]), key_sort_value(r.key[1])
    ))


def _has_interval(metric: str) -> bool:
    return METRICS_BY_ID[metric].has_interval


def _raw_rows(tables: Tables, filters: Filters, as_of: dt.date, ids: Sequence[str]) -> list[Row]:
    """The rows of the metrics ``ids``, family by family: a family's units and their
    queries' results are let go before the next family's are built, so the peak memory
    is the largest family's rather than every family's at once (docs/performance.md,
    "The `metrics` command")."""
    prep = Prepared(tables, filters, as_of)
    wanted = set(ids)
    rows: list[Row] = []
    for family in families.FAMILIES:
        built = family.build(prep, wanted)
        if built:
            rows += _collected_rows(built)
        del built
    return _sort_rows(rows)


def _units_rows(built: Sequence[Units]) -> list[Row]:
    """The rows of every metric of ``built``, their queries collected in one pass, in output order."""
    return _sort_rows(_collected_rows(built))


def _collected_rows(built: Sequence[Units]) -> list[Row]:
    queries = [unit.queries() for unit in built]
    collected = pl.collect_all([q for qs in queries for q in qs])
    rows: list[Row] = []
    at = 0
    for unit, qs in zip(built, queries):
        rows += unit.rows(collected[at:at + len(qs)], _has_interval)
        at += len(qs)
    return rows


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
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
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


def units_metrics(built: Sequence[Units], *, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> pl.DataFrame:
    """:func:`compute_metrics`' frame for the metrics of units already built (and maybe narrowed:
    :meth:`dashboard.metrics.kinds.Units.narrowed`), so that a breakdown view computes its units
    once for its cells and its ``metrics`` rows alike (:func:`dashboard.metrics.breakdowns.metric_view`)."""
    return _rows_frame(_units_rows(built), min_cell_size)


def _count_or_none(numerator: int | float | None) -> int | None:
    return None if numerator is None else int(numerator)


def _rows_frame(rows: list[Row], k: int) -> pl.DataFrame:
    flags: dict[tuple[str, GroupKey], bool] = {}
    by_metric: dict[str, list[Row]] = {}
    for r in rows:
        by_metric.setdefault(r.metric, []).append(r)
    for metric, mrows in by_metric.items():
        family = families.family_of(metric)
        assert family is not None, metric  # every row comes from a family
        result = family.suppressor(metric)([(r.key, r.numerator, r.denominator) for r in mrows], k)
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


def metrics_json(tables: Tables, filters: Filters, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> dict[str, Any]:
    """The ``metrics --format json`` object (see docs/metrics.md)."""
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


def metrics_csv(tables: Tables, filters: Filters, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> str:
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


# --- head counts for the dashboard tiles -----------------------------------------------------


def participant_counts(tables: Tables, filters: Filters, *, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> pl.DataFrame:
    """Participants enrolled and active, overall and by every grouping, suppressed.

    ``participants_enrolled``: enrolled on or before the as-of date with the
    enrollment date in the period. ``participants_active``: enrolled on or
    before the as-of date and not exited on or before it (the period does
    not apply: it is a head count on the as-of date). Program = program_id,
    agency = supervising_agency_id. The count is in ``denominator`` and
    ``value`` (``numerator`` null); a count from 1 to k − 1 is suppressed, then
    complementary suppression runs as for the metrics.
    """
    return head_counts(tables, filters, "participants", min_cell_size=min_cell_size)


def referral_counts(tables: Tables, filters: Filters, *, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> pl.DataFrame:
    """Referrals made in the period, overall and by every grouping, suppressed.

    ``referrals_made``: referrals dated (referral_date) in the period and on or
    before the as-of date, attributed like every referral metric (program and
    cohort of the participant, agency = provider_agency_id), whatever their
    status. Same columns and suppression as :func:`participant_counts`.
    """
    return head_counts(tables, filters, "referrals", min_cell_size=min_cell_size)


def head_counts(tables: Tables, filters: Filters, family: str, *, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> pl.DataFrame:
    """The head counts the family called ``family`` declares, overall and by every grouping, suppressed."""
    counts = families.family_named(family).counts
    if counts is None:
        raise ValueError(f"the {family} family declares no head counts")
    return _count_frame(counts(prepare(tables, filters)), min_cell_size)


def _count_frame(counts: Sequence[tuple[str, pl.LazyFrame]], min_cell_size: int) -> pl.DataFrame:
    """Count rows per cell and grouping; a count of 1 to k − 1 is suppressed, then
    complementary suppression runs as for the metrics."""
    names = [name for name, _ in counts]
    rows: list[Row] = []
    # One pass for every count: the counts share their participants (and the work to get them).
    collected = pl.collect_all(
        [frame.group_by(CELL_KEYS).agg(pl.len().cast(pl.Int64).alias("_n")) for _, frame in counts]
    )
    for name, cells in zip(names, collected):
        for grouping, rolled in rollups(cells, ["_n"]):
            for rec in rolled.iter_rows(named=True):
                n = int(rec["_n"] or 0)
                if n > 0:
                    rows.append(Row(name, key_of(rec, grouping), None, float(n), float(n), None))
    flags: dict[tuple[str, GroupKey], bool] = {}
    for name in names:
        mine = [r for r in rows if r.metric == name]
        counted = [(r.key, _count_or_none(r.numerator), r.denominator) for r in mine]
        for key, flag in suppress_metric_rows(counted, min_cell_size).items():
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
