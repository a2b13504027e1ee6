"""Checks across loads: freshness, volume drift, distribution drift, consistency.

A row-level rule looks at one row; these look at a partner's delivery as a
whole against its own history, which the loaded database holds: every record
carries its date, so "history" is the agency's records in earlier calendar
months. They are warnings (see ``data_checks/levels.py``): nothing is
rejected, the steward is told what moved and by how much.

Definitions (all thresholds in :class:`Thresholds`, documented in
``docs/stewardship.md`` and overridable from a TOML file):

* **Reference date** — the as-of date of the latest load run (the date the
  data claim to be complete up to).
* **Attribution** — a row belongs to the agency in
  :data:`SUBMITTING_AGENCY_COLUMN` for its table (the agency that records it).
* **Freshness** — days from an agency's latest activity record
  (:data:`ACTIVITY_DATE_COLUMN`) to the reference date; *stale* when above the
  agency's expected cadence (per agency, else per agency type, else default).
* **Volume drift** — rows per agency per calendar month of the table's date.
  The *recent month* is the last calendar month that ended on or before the
  reference date. Its rows are compared with the daily rate of the up to
  ``volume_history_months`` months before it, counted from the agency's first
  month in that table (months without rows count as 0; *expected* = that
  rate × the recent month's days), by an exact binomial test
  (``dashboard.drift_tests.rate_test``). Needs
  ``volume_min_history_months`` months of history. Drift when the test is
  significant after false-discovery control *and* the month falls below
  ``expected × (1 − volume_band_low)`` or above
  ``expected × (1 + volume_band_high)`` (the smallest change worth an alarm;
  asymmetric because a delivery that stops is the common failure while
  caseloads grow).
* **Distribution drift** — for each key category (:data:`KEY_CATEGORIES`), the
  share of each value among an agency's rows in the ``drift_recent_months``
  months ending with the recent month against the ``drift_history_months``
  months before, when both windows hold ``drift_min_rows`` rows; tested by
  chi-square, or Fisher's exact test for small expected counts
  (``dashboard.drift_tests.proportion_test``). Drift when the test is
  significant after false-discovery control *and* the share moved by at least
  ``drift_min_share_change``. The same comparison runs over all agencies
  together (agency ``*``). For a category with two values the two shares are
  one comparison.
* **False-discovery control** — every volume and distribution comparison of
  one run is one family: Benjamini–Hochberg q-values, significant when
  q ≤ ``false_discovery_rate``.
* **Consistency** — referrals dated after the participant's exit (counted from
  the loaded tables), and every grouping of every metric adding up to its
  overall row when the metric engine is installed.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import polars as pl

from dashboard.drift_tests import DEFAULT_EXACT_BELOW_EXPECTED

# The agency that records (submits) a row of each table; also used by the
# loader for quarantine.submitting_agency_id. ``None`` = the key itself.
SUBMITTING_AGENCY_COLUMN: dict[str, str] = {
    "agencies": "agency_id",
    "programs": "lead_agency_id",
    "agreements": "agency_id",
    "participants": "supervising_agency_id",
    "referrals": "referring_agency_id",
    "supervision_events": "agency_id",
    "violations": "agency_id",
    "recidivism_events": "source_agency_id",
    "police_contacts": "agency_id",
    "reintegration_checks": "agency_id",
    "staffing": "agency_id",
    "surveys": "agency_id",
    # program_costs names no agency: its rows count under "Unassigned"
}

# The date that places an activity record in time (freshness, volume).
ACTIVITY_DATE_COLUMN: dict[str, str] = {
    "participants": "enrollment_date",
    "referrals": "referral_date",
    "supervision_events": "event_date",
    "violations": "violation_date",
    "recidivism_events": "event_date",
    "police_contacts": "contact_date",
}

# (table, category column) watched for distribution drift.
KEY_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("supervision_events", "outcome"),
    ("violations", "violation_type"),
    ("police_contacts", "outcome"),
)

UNASSIGNED = "(unassigned)"
ALL_AGENCIES = "*"


# Thresholds that older versions read, with what to do instead (a quality.toml
# naming one is refused with this text rather than silently ignored).
RETIRED_THRESHOLDS: dict[str, str] = {
    "volume_min_median_rows": (
        "no longer used: the exact binomial test judges small counts itself; remove it from the [quality] table"
    ),
    "drift_max_share_change": (
        "replaced by drift_min_share_change (the smallest move of a share that can raise an alarm, which "
        "must now also pass a significance test); rename it"
    ),
}


@dataclass(frozen=True)
class Thresholds:
    """Every threshold of the checks across loads (see the module docstring)."""

    cadence_days: int = 31
    cadence_days_by_agency_type: Mapping[str, int] = field(default_factory=dict)
    cadence_days_by_agency: Mapping[str, int] = field(default_factory=dict)
    volume_history_months: int = 6
    volume_min_history_months: int = 3
    volume_band_low: float = 0.5  # smallest drop worth an alarm: below expected × (1 − 0.5)
    volume_band_high: float = 2.0  # smallest rise worth an alarm: above expected × (1 + 2.0)
    drift_recent_months: int = 3
    drift_history_months: int = 12
    drift_min_rows: int = 30
    drift_min_share_change: float = 0.05  # smallest move of a share worth an alarm (5 points)
    false_discovery_rate: float = 0.01  # Benjamini–Hochberg level over all drift comparisons of a run
    # Fisher's exact test when an expected count is below this (Cochran's rule, 5)
    exact_test_below_expected: float = DEFAULT_EXACT_BELOW_EXPECTED

    def __post_init__(self) -> None:
        problems = []
        if not 0.0 < self.false_discovery_rate < 1.0:
            problems.append(f"false_discovery_rate must lie between 0 and 1 (got {self.false_discovery_rate})")
        if not 0.0 <= self.drift_min_share_change <= 1.0:
            problems.append(f"drift_min_share_change is a share, 0 to 1 (got {self.drift_min_share_change})")
        if not 0.0 <= self.volume_band_low <= 1.0:
            problems.append(f"volume_band_low is a fraction of the expected rows, 0 to 1 (got {self.volume_band_low})")
        if self.volume_band_high < 0.0:
            problems.append(f"volume_band_high must not be negative (got {self.volume_band_high})")
        if self.exact_test_below_expected < 0.0:
            problems.append(f"exact_test_below_expected must not be negative (got {self.exact_test_below_expected})")
        for name in ("volume_history_months", "volume_min_history_months", "drift_recent_months",
                     "drift_history_months"):
            if int(getattr(self, name)) < 1:
                problems.append(f"{name} must be at least 1 (got {getattr(self, name)})")
        if problems:
            raise ValueError("invalid quality threshold(s): " + "; ".join(problems))

    def cadence_for(self, agency_id: str, agency_type: str | None) -> int:
        if agency_id in self.cadence_days_by_agency:
            return int(self.cadence_days_by_agency[agency_id])
        if agency_type and agency_type in self.cadence_days_by_agency_type:
            return int(self.cadence_days_by_agency_type[agency_type])
        return self.cadence_days

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "Thresholds":
        known = {f.name for f in fields(cls)}
        retired = sorted(set(values) & set(RETIRED_THRESHOLDS))
        if retired:
            raise ValueError(" ".join(f"{name}: {RETIRED_THRESHOLDS[name]}" for name in retired))
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown quality threshold(s) {', '.join(unknown)}; the known ones are {', '.join(sorted(known))}"
            )
        return replace(cls(), **dict(values))

    @classmethod
    def from_toml(cls, path: Path) -> "Thresholds":
        """Read the ``[quality]`` table of a TOML file (other tables are ignored)."""
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        return cls.from_mapping(data.get("quality", {}))


def reference_month(as_of: dt.date) -> dt.date:
    """First day of the last calendar month that ended on or before ``as_of``."""
    if as_of == dt.date.max or (as_of + dt.timedelta(days=1)).day == 1:  # the last day of its month
        return as_of.replace(day=1)
    first = as_of.replace(day=1)
    if first == dt.date.min:  # nothing before January of year 1
        return first
    return (first - dt.timedelta(days=1)).replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    """First day of the month ``n`` months after ``month``'s, kept inside years 1 to 9999."""
    index = month.year * 12 + month.month - 1 + n
    index = min(max(index, dt.MINYEAR * 12), dt.MAXYEAR * 12 + 11)
    return dt.date(index // 12, index % 12 + 1, 1)


def _attributed(table: str, rows: pl.DataFrame) -> pl.Expr:
    return pl.col(SUBMITTING_AGENCY_COLUMN[table]).fill_null(UNASSIGNED).alias("agency_id")


# --- freshness ----------------------------------------------------------------------


def freshness(
    tables: Mapping[str, pl.DataFrame], as_of: dt.date, thresholds: Thresholds = Thresholds()
) -> pl.DataFrame:
    """One row per agency: its latest activity record, days since, cadence, status.

    Status ``stale`` (a warning) when days since > cadence, ``ok`` otherwise,
    ``no_activity`` for an agency that never recorded an activity row (a
    provider-only agency, say): reported, not counted as a warning.
    """
    latest_parts = []
    for table, date_col in ACTIVITY_DATE_COLUMN.items():
        rows = tables.get(table)
        if rows is None or rows.height == 0:
            continue
        latest_parts.append(
            rows.filter(pl.col(date_col) <= as_of)
            .select(_attributed(table, rows), pl.col(date_col).alias("latest"))
            .group_by("agency_id")
            .agg(pl.col("latest").max())
        )
    latest = (
        pl.concat(latest_parts).group_by("agency_id").agg(pl.col("latest").max())
        if latest_parts
        else pl.DataFrame(schema={"agency_id": pl.String, "latest": pl.Date})
    )
    agencies = tables.get("agencies")
    base = (
        agencies.select("agency_id", "agency_type")
        if agencies is not None and agencies.height
        else pl.DataFrame(schema={"agency_id": pl.String, "agency_type": pl.String})
    )
    base = pl.concat(
        [base, latest.filter(~pl.col("agency_id").is_in(base["agency_id"].implode())).select(
            "agency_id", pl.lit(None, pl.String).alias("agency_type"))]
    )
    # rows without an agency are not a partner that can be late
    latest = latest.filter(pl.col("agency_id") != UNASSIGNED)
    out = base.join(latest, on="agency_id", how="left").rename({"latest": "latest_record_date"})
    cadence = [thresholds.cadence_for(a, t) for a, t in zip(out["agency_id"], out["agency_type"])]
    out = out.with_columns(
        pl.Series("cadence_days", cadence, dtype=pl.Int64),
        (pl.lit(as_of) - pl.col("latest_record_date")).dt.total_days().alias("days_since_latest"),
    ).with_columns(
        pl.when(pl.col("latest_record_date").is_null())
        .then(pl.lit("no_activity"))
        .when(pl.col("days_since_latest") > pl.col("cadence_days"))
        .then(pl.lit("stale"))
        .otherwise(pl.lit("ok"))
        .alias("status")
    )
    return out.sort("agency_id")


# --- volume drift ---------------------------------------------------------------------


def monthly_counts(table: str, rows: pl.DataFrame) -> pl.DataFrame:
    """Rows per (agency_id, month) by the table's activity date."""
    date_col = ACTIVITY_DATE_COLUMN[table]
    return (
        rows.filter(pl.col(date_col).is_not_null())
        .select(_attributed(table, rows), pl.col(date_col).dt.truncate("1mo").alias("month"))
        .group_by("agency_id", "month")
        .len("rows")
    )


def days_in_month(month: dt.date) -> int:
    return (add_months(month, 1) - month).days


VOLUME_SCHEMA: dict[str, Any] = {
    "table": pl.String, "agency_id": pl.String, "month": pl.Date, "rows": pl.Int64,
    "expected_rows": pl.Float64, "history_months": pl.Int64, "history_rows": pl.Int64,
    "rate_ratio": pl.Float64, "band_low": pl.Float64, "band_high": pl.Float64,
    "test": pl.String, "p_value": pl.Float64, "q_value": pl.Float64, "comparisons": pl.Int64,
    "status": pl.String,
}


def _volume_comparisons(
    tables: Mapping[str, pl.DataFrame], as_of: dt.date, thresholds: Thresholds
) -> list[dict[str, Any]]:
    """The recent month against its history, per table and agency, with the test's p-value."""
    from dashboard.drift_tests import rate_test

    recent = reference_month(as_of)
    out: list[dict[str, Any]] = []
    for table in ACTIVITY_DATE_COLUMN:
        rows = tables.get(table)
        if rows is None or rows.height == 0:
            continue
        counts = monthly_counts(table, rows)
        for agency_id, per_agency in counts.group_by("agency_id"):
            by_month = dict(zip(per_agency["month"], per_agency["rows"]))
            first = min(by_month)
            history = [
                add_months(recent, -k)
                for k in range(1, thresholds.volume_history_months + 1)
                if add_months(recent, -k) >= first
            ]
            if len(history) < thresholds.volume_min_history_months:
                continue
            history_rows = sum(int(by_month.get(m, 0)) for m in history)
            history_days = sum(days_in_month(m) for m in history)
            recent_days = days_in_month(recent)
            got = int(by_month.get(recent, 0))
            if got + history_rows == 0:
                continue  # no rows in any month compared: nothing to test
            expected = history_rows * recent_days / history_days
            result = rate_test(got, recent_days, history_rows, history_days)
            out.append(
                {
                    "table": table,
                    "agency_id": agency_id[0],
                    "month": recent,
                    "rows": got,
                    "expected_rows": expected,
                    "history_months": len(history),
                    "history_rows": history_rows,
                    "rate_ratio": got / expected if expected > 0 else None,
                    "band_low": expected * (1 - thresholds.volume_band_low),
                    "band_high": expected * (1 + thresholds.volume_band_high),
                    "test": result.test,
                    "p_value": result.p_value,
                }
            )
    return out


def volume_drift(
    tables: Mapping[str, pl.DataFrame], as_of: dt.date, thresholds: Thresholds = Thresholds()
) -> pl.DataFrame:
    """Per table and agency with enough history: the recent month against its baseline rate.

    Columns: table, agency_id, month, rows, expected_rows (the history's daily
    rate × the month's days), history_months, history_rows, rate_ratio (rows /
    expected), band_low, band_high (the smallest change worth an alarm, in
    rows), test, p_value, q_value, comparisons, status (``ok``, ``low``,
    ``high``). Run alone, the false-discovery control covers the volume
    comparisons only; :func:`drift_checks` covers volume and distribution
    together, as a run of the checks does.
    """
    return drift_checks(tables, as_of, thresholds, distribution=False)[0]


# --- distribution drift ---------------------------------------------------------------


DISTRIBUTION_SCHEMA: dict[str, Any] = {
    "table": pl.String, "column": pl.String, "value": pl.String, "agency_id": pl.String,
    "recent_window": pl.String, "recent_count": pl.Int64, "recent_rows": pl.Int64, "recent_share": pl.Float64,
    "history_window": pl.String, "history_count": pl.Int64, "history_rows": pl.Int64,
    "history_share": pl.Float64, "change": pl.Float64, "test": pl.String, "p_value": pl.Float64,
    "q_value": pl.Float64, "comparisons": pl.Int64, "status": pl.String,
}


def _window_label(start: dt.date, end_exclusive: dt.date) -> str:
    last = add_months(end_exclusive, -1)
    return f"{start:%Y-%m}" if start == last else f"{start:%Y-%m}..{last:%Y-%m}"


def _distribution_comparisons(
    tables: Mapping[str, pl.DataFrame], as_of: dt.date, thresholds: Thresholds
) -> list[dict[str, Any]]:
    """Each value's share, recent window against history, with the test's p-value.

    Rows carry ``mirror_of``: for a category with exactly two values the second
    value's comparison is the first's seen from the other side (the same
    table, the same p-value), counted once in the false-discovery control.
    """
    from dashboard.drift_tests import proportion_test

    recent_end = add_months(reference_month(as_of), 1)  # exclusive
    recent_start = add_months(recent_end, -thresholds.drift_recent_months)
    history_start = add_months(recent_start, -thresholds.drift_history_months)
    recent_label = _window_label(recent_start, recent_end)
    history_label = _window_label(history_start, recent_start)
    out: list[dict[str, Any]] = []
    for table, column in KEY_CATEGORIES:
        rows = tables.get(table)
        if rows is None or rows.height == 0:
            continue
        date_col = ACTIVITY_DATE_COLUMN[table]
        framed = rows.select(
            _attributed(table, rows),
            pl.col(column).cast(pl.String).fill_null("(empty)").alias("value"),
            pl.when((pl.col(date_col) >= recent_start) & (pl.col(date_col) < recent_end))
            .then(pl.lit("recent"))
            .when((pl.col(date_col) >= history_start) & (pl.col(date_col) < recent_start))
            .then(pl.lit("history"))
            .otherwise(None)
            .alias("window"),
        ).filter(pl.col("window").is_not_null())
        framed = pl.concat([framed, framed.with_columns(pl.lit(ALL_AGENCIES).alias("agency_id"))])
        counts: dict[tuple[str, str], dict[str, int]] = {}
        for agency_id, window, value, n in framed.group_by("agency_id", "window", "value").len("n").iter_rows():
            counts.setdefault((agency_id, window), {})[value] = int(n)
        for agency_id in sorted({a for a, _ in counts}):
            recent = counts.get((agency_id, "recent"), {})
            history = counts.get((agency_id, "history"), {})
            n_recent, n_history = sum(recent.values()), sum(history.values())
            if n_recent < thresholds.drift_min_rows or n_history < thresholds.drift_min_rows:
                continue
            values = sorted(set(recent) | set(history))
            first_of_two = values[0] if len(values) == 2 else None
            for value in values:
                k_recent, k_history = recent.get(value, 0), history.get(value, 0)
                result = proportion_test(
                    k_recent, n_recent, k_history, n_history, thresholds.exact_test_below_expected
                )
                out.append(
                    {
                        "table": table, "column": column, "value": value, "agency_id": agency_id,
                        "recent_window": recent_label, "recent_count": k_recent, "recent_rows": n_recent,
                        "recent_share": k_recent / n_recent,
                        "history_window": history_label, "history_count": k_history, "history_rows": n_history,
                        "history_share": k_history / n_history,
                        "change": k_recent / n_recent - k_history / n_history,
                        "test": result.test, "p_value": result.p_value,
                        "mirror_of": first_of_two if first_of_two not in (None, value) else None,
                    }
                )
    return out


def distribution_drift(
    tables: Mapping[str, pl.DataFrame], as_of: dt.date, thresholds: Thresholds = Thresholds()
) -> pl.DataFrame:
    """Share of each key category value, recent window against history.

    Columns: table, column, value, agency_id (``*`` = all agencies),
    recent_window, recent_count, recent_rows, recent_share, history_window,
    history_count, history_rows, history_share, change, test, p_value,
    q_value, comparisons, status (``ok`` or ``drift``). Only groups where
    both windows have enough rows. Run alone, the false-discovery control
    covers the distribution comparisons only (see :func:`drift_checks`).
    """
    return drift_checks(tables, as_of, thresholds, volume=False)[1]


# --- both, under one false-discovery control ------------------------------------------


def drift_checks(
    tables: Mapping[str, pl.DataFrame],
    as_of: dt.date,
    thresholds: Thresholds = Thresholds(),
    *,
    volume: bool = True,
    distribution: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Volume and distribution drift decided together.

    Every comparison made is one hypothesis of one family: the
    Benjamini–Hochberg q-values are computed over all of them (a two-valued
    category's mirrored share counted once), and a comparison is an alarm
    when its q-value is at most ``false_discovery_rate`` and its change is at
    least the minimum effect (``volume_band_low`` / ``volume_band_high``,
    ``drift_min_share_change``). Returns (volume frame, distribution frame).
    """
    from dashboard.drift_tests import NO_TEST, benjamini_hochberg

    vol = _volume_comparisons(tables, as_of, thresholds) if volume else []
    dist = _distribution_comparisons(tables, as_of, thresholds) if distribution else []
    # a comparison with nothing to compare (every row with one value) is no hypothesis: q = 1
    tested = [r for r in vol + dist if r["test"] != NO_TEST and r.get("mirror_of") is None]
    for r, q in zip(tested, benjamini_hochberg([r["p_value"] for r in tested])):
        r["q_value"] = q
    m = len(tested)
    alpha = thresholds.false_discovery_rate
    for r in vol:
        r.setdefault("q_value", 1.0)
        r["comparisons"] = m
        significant = r["q_value"] <= alpha
        r["status"] = (
            "low" if significant and r["rows"] < r["band_low"]
            else "high" if significant and r["rows"] > r["band_high"]
            else "ok"
        )
    first_q = {
        (r["table"], r["agency_id"], r["value"]): r.get("q_value", 1.0) for r in dist if r["mirror_of"] is None
    }
    for r in dist:
        if r["mirror_of"] is not None:
            r["q_value"] = first_q[(r["table"], r["agency_id"], r["mirror_of"])]
        r.setdefault("q_value", 1.0)
        r["comparisons"] = m
        big_enough = abs(r["change"]) >= thresholds.drift_min_share_change - 1e-12
        r["status"] = "drift" if r["q_value"] <= alpha and big_enough else "ok"
    vol_frame = pl.DataFrame(vol, schema=VOLUME_SCHEMA).sort("table", "agency_id")
    dist_frame = (
        pl.DataFrame([{k: r[k] for k in DISTRIBUTION_SCHEMA} for r in dist], schema=DISTRIBUTION_SCHEMA)
        .sort("table", "column", "agency_id", "value")
    )
    return vol_frame, dist_frame


def describe_volume(r: Mapping[str, Any]) -> str:
    """A volume comparison in words: the rows, the expectation, the change, the test."""
    from dashboard.drift_tests import format_p

    if r["rate_ratio"] is None:
        change = "rows again after none in those months"
    elif r["rows"] >= r["expected_rows"]:
        change = f"{r['rate_ratio'] - 1:.0%} more than expected"
    else:
        change = f"{1 - r['rate_ratio']:.0%} fewer than expected"
    return (
        f"{r['rows']:,} rows in {r['month']:%Y-%m} against {r['expected_rows']:,.1f} expected from the "
        f"{r['history_months']} months before ({r['history_rows']:,} rows): {change} "
        f"(an alarm needs fewer than {r['band_low']:,.1f} or more than {r['band_high']:,.1f}); "
        f"{r['test']} p {format_p(r['p_value'])}, q {format_p(r['q_value'])} "
        f"after false-discovery control over {r['comparisons']:,} comparisons"
    )


def describe_distribution(r: Mapping[str, Any]) -> str:
    """A distribution comparison in words: both shares with their counts, the change, the test."""
    from dashboard.drift_tests import format_p

    points = r["change"] * 100
    direction = "up" if points > 0 else "down" if points < 0 else "unchanged,"
    return (
        f"share of {r['column']} = {r['value']} is {r['recent_share']:.1%} in {r['recent_window']} "
        f"({r['recent_count']:,} of {r['recent_rows']:,} rows) against {r['history_share']:.1%} in "
        f"{r['history_window']} ({r['history_count']:,} of {r['history_rows']:,}): {direction} "
        f"{abs(points):.1f} percentage points; {r['test']} p {format_p(r['p_value'])}, "
        f"q {format_p(r['q_value'])} after false-discovery control over {r['comparisons']:,} comparisons"
    )


# --- consistency ---------------------------------------------------------------------


def referrals_after_exit(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Referrals dated after their participant's exit date, with the agency that made them."""
    referrals = tables.get("referrals")
    participants = tables.get("participants")
    schema = {
        "referral_id": pl.String, "participant_id": pl.String, "agency_id": pl.String,
        "referral_date": pl.Date, "exit_date": pl.Date,
    }
    if referrals is None or participants is None or referrals.height == 0:
        return pl.DataFrame(schema=schema)
    return (
        referrals.join(participants.select("participant_id", "exit_date"), on="participant_id", how="inner")
        .filter(pl.col("exit_date").is_not_null() & (pl.col("referral_date") > pl.col("exit_date")))
        .select(
            "referral_id", "participant_id",
            pl.col("referring_agency_id").fill_null(UNASSIGNED).alias("agency_id"),
            "referral_date", "exit_date",
        )
        .sort("referral_id")
    )


def grouping_consistency(metric_rows: pl.DataFrame) -> pl.DataFrame:
    """Groupings that do not add up to the overall row, from an unsuppressed metrics frame.

    ``metric_rows`` has columns metric, group_by (a string such as
    ``"program_id"`` or ``""`` for overall), numerator, denominator. For every
    metric and single-key grouping, the sums of numerator and denominator over
    the groups must equal the overall row's (docs/metrics.md: null keys form their own
    group, so every grouping adds up). Returns the mismatches.
    """
    overall = metric_rows.filter(pl.col("group_by") == "").select(
        "metric", pl.col("numerator").alias("overall_numerator"),
        pl.col("denominator").alias("overall_denominator"),
    )
    sums = (
        metric_rows.filter((pl.col("group_by") != "") & ~pl.col("group_by").str.contains(","))
        .group_by("metric", "group_by")
        .agg(pl.col("numerator").sum(), pl.col("denominator").sum())
    )
    joined = sums.join(overall, on="metric", how="inner")
    def differs(a: str, b: str) -> pl.Expr:
        # relative tolerance: the violation rate's denominator is a sum of fractional months
        gap = (pl.col(a) - pl.col(b)).abs()
        return (gap > 1e-6 * pl.max_horizontal(pl.col(b).abs(), pl.lit(1.0))).fill_null(False)

    return joined.filter(differs("numerator", "overall_numerator") | differs("denominator", "overall_denominator")).sort(
        "metric", "group_by"
    )


THRESHOLDS_ENV = "PARTNERSHIP_QUALITY_CONFIG"
DEFAULT_THRESHOLDS_FILE = Path("quality.toml")


def load_thresholds(path: Path | None = None) -> Thresholds:
    """The thresholds in force: ``path``, else the file named by
    ``PARTNERSHIP_QUALITY_CONFIG``, else the ``[quality]`` table of the
    configuration file (``dashboard.settings``), else ``./quality.toml`` when
    present, else the defaults of :class:`Thresholds`."""
    import os

    if path is None:
        env = os.environ.get(THRESHOLDS_ENV)
        if env:
            path = Path(env)
            if not path.exists():
                raise FileNotFoundError(
                    f"{THRESHOLDS_ENV} names {path}, which does not exist; fix the path or unset the variable"
                )
        else:
            from dashboard.settings import load_settings

            configured = load_settings().quality  # [quality] of the configuration file (docs/deployment.md)
            if configured:
                return Thresholds.from_mapping(configured)
            if DEFAULT_THRESHOLDS_FILE.exists():
                path = DEFAULT_THRESHOLDS_FILE
    return Thresholds.from_toml(path) if path is not None else Thresholds()
