"""Reintegration outcomes: employment and stable housing 6 and 12 months after release.

One definition, used by the metrics ``employment_rate_{W}m``,
``stable_housing_rate_{W}m`` and ``reintegration_check_coverage_{W}m`` in
``metrics`` and by the ``employment`` and ``stable_housing`` measures of
``evaluate``, so the two outputs can never disagree (see the
"Reintegration outcomes" section of ``docs/metrics.md``):

- **Index date**, **eligible** and calendar **months** as for recidivism
  (:mod:`dashboard.metrics.recidivism`): eligible for window W when
  ``index_date + W months <= as_of`` (month-end clipping).
- **Window**: ``index_date < check_date <= index_date + W months``. Checks
  after an exit count; eligibility ignores exits.
- **Status at W** in a domain (employment or housing): the value of the
  participant's latest check in the window with that domain set; when
  several such checks share that date, the first value in the contract's
  order wins (full_time, part_time, unemployed, not_in_labor_force; stable,
  transitional, homeless, institutional). A later check decides even when an
  earlier one said otherwise.
- **Employment rate**: status full_time or part_time, among eligible
  participants whose status is set and is not ``not_in_labor_force``
  (people outside the labour force are neither employed nor unemployed).
- **Stable housing rate**: status stable, among eligible participants with a
  housing status.
- **Check coverage**: eligible participants with at least one check in the
  window, among all eligible participants; it shows how much of the
  eligible group the two rates rest on.
- These metrics are reported only when the reintegration_checks table holds
  rows (the table as stored, whatever the filters), so an extract of
  contract version 1 gives exactly the output it gave before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import polars as pl

from dashboard.contract import EMPLOYMENT_STATUSES, HOUSING_STATUSES
from dashboard.metrics.recidivism import add_months_expr, participants_with_index_date

WINDOWS_MONTHS: tuple[int, ...] = (6, 12)
EMPLOYMENT_ORDER: tuple[str, ...] = EMPLOYMENT_STATUSES
"""The employment values in the contract's order, which also breaks same-date ties (first wins)."""
HOUSING_ORDER: tuple[str, ...] = HOUSING_STATUSES
"""The housing values in the contract's order, which also breaks same-date ties (first wins)."""
EMPLOYED: tuple[str, ...] = ("full_time", "part_time")
NOT_IN_LABOR_FORCE = "not_in_labor_force"
STABLE_HOUSING = "stable"

MEASURES: tuple[str, ...] = ("employment", "stable_housing")
"""The pilot-evaluation measures of this family (``evaluate --measure``)."""

_DOMAINS: dict[str, tuple[str, tuple[str, ...]]] = {
    # measure -> (check column, enum order)
    "employment": ("employment", EMPLOYMENT_ORDER),
    "stable_housing": ("housing", HOUSING_ORDER),
}


def employment_metric_id(window_months: int) -> str:
    return f"employment_rate_{window_months}m"


def housing_metric_id(window_months: int) -> str:
    return f"stable_housing_rate_{window_months}m"


def coverage_metric_id(window_months: int) -> str:
    return f"reintegration_check_coverage_{window_months}m"


METRIC_IDS: tuple[str, ...] = (
    *(employment_metric_id(w) for w in WINDOWS_MONTHS),
    *(housing_metric_id(w) for w in WINDOWS_MONTHS),
    *(coverage_metric_id(w) for w in WINDOWS_MONTHS),
)
"""Every metric id of this family, in registry order."""
_WINDOW_OF: dict[str, int] = {
    make(w): w for w in WINDOWS_MONTHS for make in (employment_metric_id, housing_metric_id, coverage_metric_id)
}


def check_measure(measure: str) -> None:
    if measure not in _DOMAINS:
        raise ValueError(f"unknown reintegration measure {measure!r}; choose one of: {', '.join(MEASURES)}")


def metric_id(measure: str, window_months: int) -> str:
    """The metric whose rate an evaluation measure reports, e.g. ``employment_rate_12m``."""
    check_measure(measure)
    return employment_metric_id(window_months) if measure == "employment" else housing_metric_id(window_months)


def status_column(domain: str, window_months: int) -> str:
    """Column of :func:`statuses_at_windows` with a participant's status at W (``employment``/``housing``)."""
    return f"{domain}_at_{window_months}m"


def checks_column(window_months: int) -> str:
    """Column of :func:`statuses_at_windows` with the number of checks in the window."""
    return f"checks_in_{window_months}m"


def window_end_column(window_months: int) -> str:
    return f"window_end_{window_months}m"


def has_checks(checks: pl.DataFrame) -> bool:
    """Whether the stored reintegration_checks table holds rows: the metrics and the
    evaluation measures of this family are reported only then."""
    return checks.height > 0


_DATE_OFFSET = 1_000_000
"""Added to a date's day number (days since 1970-01-01) so every date of the calendar is positive."""
_CODE_BASE = 8
"""Room for the status code below a date in :func:`_latest_code`: 0 (a value outside the order) to
``_CODE_BASE - 1`` (the first value of the order)."""


def _latest_code(domain: str, order: tuple[str, ...], in_window: pl.Expr) -> pl.Expr:
    """Per check row, a number whose maximum over a participant's rows gives the status at W.

    The status at W is decided by the latest check in the window with ``domain`` set and, among
    checks of that date, by the value listed first in the contract's order. Both orders at once:
    ``(day number) * 8 + code``, where the code is 7 for the first value of the order, 6 for the
    second…, and 0 for a value outside it (it still makes its date the latest, and gives no status
    unless a listed value shares that date). Rows outside the window or with no value give null.
    One plain ``max`` per participant then replaces a filtered aggregation inside each group, which
    polars cannot run as one vectorised pass over a million participants.
    """
    rank = pl.col(domain).replace_strict(list(order), list(range(len(order))), default=None, return_dtype=pl.Int64)
    code = (_CODE_BASE - 1 - rank).fill_null(0)
    day = pl.col("check_date").cast(pl.Int64) + _DATE_OFFSET
    return pl.when(in_window & pl.col(domain).is_not_null()).then(day * _CODE_BASE + code).otherwise(None)


def _status_from_code(latest: pl.Expr, order: tuple[str, ...]) -> pl.Expr:
    """The status (string, null when none) from the maximum of :func:`_latest_code`."""
    code = latest % _CODE_BASE
    rank = pl.when(code > 0).then(_CODE_BASE - 1 - code).otherwise(None)
    return rank.replace_strict(list(range(len(order))), list(order), default=None, return_dtype=pl.String)


def statuses_at_windows(
    people: pl.LazyFrame | pl.DataFrame,
    checks: pl.LazyFrame | pl.DataFrame,
    windows: Iterable[int] = WINDOWS_MONTHS,
) -> pl.LazyFrame:
    """Per participant with a check after their index date: for each window W,
    ``employment_at_Wm`` and ``housing_at_Wm`` (status at W, null when none) and
    ``checks_in_Wm`` (checks in the window).

    ``people`` must carry ``participant_id`` and ``index_date``. Checks are
    taken as recorded (agency, exits and the as-of date do not matter here:
    an eligible participant's window ends by the as-of date anyway).
    """
    windows = sorted(set(windows))
    # participant ids are categoricals in the loaded tables and may be plain strings in a caller's
    # frame: the join takes the checks' type, the result the people's
    id_type = people.lazy().collect_schema()["participant_id"]
    check_id_type = checks.lazy().collect_schema()["participant_id"]
    index = (
        people.lazy().select(pl.col("participant_id").cast(check_id_type), "index_date").unique("participant_id")
    )
    rows = (
        checks.lazy()
        .select("participant_id", "check_date", "employment", "housing")
        .join(index, on="participant_id", how="inner")
        .filter(pl.col("check_date") > pl.col("index_date"))
    )
    per_row: list[pl.Expr] = []
    for w in windows:
        in_window = pl.col("check_date") <= add_months_expr(pl.col("index_date"), w)
        per_row += [
            _latest_code("employment", EMPLOYMENT_ORDER, in_window).alias(f"_employment_{w}"),
            _latest_code("housing", HOUSING_ORDER, in_window).alias(f"_housing_{w}"),
            in_window.cast(pl.Int64).alias(f"_in_{w}"),
        ]
    aggs: list[pl.Expr] = []
    for w in windows:
        aggs += [pl.col(f"_employment_{w}").max(), pl.col(f"_housing_{w}").max(),
                 pl.col(f"_in_{w}").sum().alias(checks_column(w))]
    latest = rows.with_columns(per_row).group_by("participant_id").agg(aggs)
    return latest.select(
        pl.col("participant_id").cast(id_type),
        *(
            expr
            for w in windows
            for expr in (
                _status_from_code(pl.col(f"_employment_{w}"), EMPLOYMENT_ORDER).alias(status_column("employment", w)),
                _status_from_code(pl.col(f"_housing_{w}"), HOUSING_ORDER).alias(status_column("housing", w)),
                pl.col(checks_column(w)),
            )
        ),
    )


def _outcome_flags(window_months: int, eligible: pl.Expr) -> dict[str, tuple[pl.Expr, pl.Expr]]:
    """Metric id -> (numerator, denominator) expressions over :func:`with_statuses` rows."""
    employment = pl.col(status_column("employment", window_months))
    housing = pl.col(status_column("housing", window_months))
    checked = pl.col(checks_column(window_months)).fill_null(0) > 0
    return {
        employment_metric_id(window_months): (
            eligible & employment.is_in(list(EMPLOYED)),
            eligible & employment.is_not_null() & (employment != NOT_IN_LABOR_FORCE),
        ),
        housing_metric_id(window_months): (
            eligible & (housing == STABLE_HOUSING),
            eligible & housing.is_not_null(),
        ),
        coverage_metric_id(window_months): (eligible & checked, eligible),
    }


def with_statuses(
    people: pl.LazyFrame,
    checks: pl.LazyFrame | pl.DataFrame,
    windows: Iterable[int] = WINDOWS_MONTHS,
    *,
    known: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """``people`` (with ``index_date``) plus ``window_end_Wm`` and the columns of
    :func:`statuses_at_windows` (null status and 0 checks for those never checked).

    ``known``: :func:`statuses_at_windows` already computed for a superset of ``people`` with
    the same index dates and at least these windows (a participant's statuses depend only on
    their index date and their own checks), so the checks are not read again."""
    windows = sorted(set(windows))
    if known is None:
        statuses = statuses_at_windows(people, checks, windows)
    else:
        statuses = known.lazy().select(
            "participant_id",
            *(c for w in windows for c in (status_column("employment", w), status_column("housing", w),
                                           checks_column(w))),
        )
    out = people.join(statuses, on="participant_id", how="left")
    return out.with_columns(
        *(add_months_expr(pl.col("index_date"), w).alias(window_end_column(w)) for w in windows),
        *(pl.col(checks_column(w)).fill_null(0) for w in windows),
    )


def metric_units(
    people: pl.LazyFrame,
    checks: pl.DataFrame,
    as_of: dt.date,
    wanted: Iterable[str],
    *,
    known: pl.DataFrame | None = None,
) -> tuple[pl.LazyFrame, dict[str, tuple[pl.Expr, pl.Expr]]] | None:
    """The counted participants and each wanted metric's (numerator, denominator) flags.

    ``people``: the participants the engine counts (enrolled by the as-of
    date, filtered, attributed and with their index date in the period),
    carrying ``index_date``. None when no metric of this family is wanted.
    When the stored table holds no checks, the frame is empty, so these
    metrics give no row at all. ``known``: as for :func:`with_statuses`.
    """
    ids = [m for m in METRIC_IDS if m in set(wanted)]
    if not ids:
        return None
    windows = sorted({_WINDOW_OF[m] for m in ids})
    if not has_checks(checks):
        people = people.filter(pl.lit(False))
    frame = with_statuses(people, checks, windows, known=known)
    flags: dict[str, tuple[pl.Expr, pl.Expr]] = {}
    for w in windows:
        eligible = pl.col(window_end_column(w)) <= as_of
        flags.update(_outcome_flags(w, eligible))
    return frame, {m: flags[m] for m in ids}


def reintegration_outcomes(
    participants: pl.DataFrame,
    checks: pl.DataFrame,
    *,
    measure: str,
    window_months: int,
    as_of: dt.date,
) -> pl.DataFrame:
    """The participants in one evaluation measure's denominator for window W, one row each.

    Keeps every participant column and adds ``index_date``, ``window_end``
    (index date + W months), ``status`` (the status at W in the measure's
    domain) and ``achieved`` (bool: employed, or stably housed). The rate's
    denominator is the row count, its numerator the ``achieved`` count; the
    same flags as the metric of :func:`metric_id`.
    """
    check_measure(measure)
    people = participants_with_index_date(participants, as_of).lazy()
    frame = with_statuses(people, checks, [window_months])
    return outcomes_from_statuses(frame, measure=measure, window_months=window_months, as_of=as_of).collect()


def outcomes_from_statuses(
    frame: pl.LazyFrame | pl.DataFrame, *, measure: str, window_months: int, as_of: dt.date
) -> pl.LazyFrame:
    """:func:`reintegration_outcomes` from rows that already carry the columns of
    :func:`with_statuses` for W (the pilot evaluation finds every participant's statuses once
    per load run and as-of date, then only filters them; see docs/performance.md)."""
    check_measure(measure)
    domain = _DOMAINS[measure][0]
    eligible = pl.col(window_end_column(window_months)) <= as_of
    numerator, denominator = _outcome_flags(window_months, eligible)[metric_id(measure, window_months)]
    w = window_months
    drop = [status_column("employment", w), status_column("housing", w), checks_column(w), window_end_column(w)]
    return (
        frame.lazy().filter(denominator.fill_null(False))
        .with_columns(
            pl.col(window_end_column(window_months)).alias("window_end"),
            pl.col(status_column(domain, window_months)).alias("status"),
            numerator.fill_null(False).alias("achieved"),
        )
        .drop(drop)
    )
