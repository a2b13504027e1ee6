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
  reference date. Its count is compared with the median of the up to
  ``volume_history_months`` months before it, counted from the agency's first
  month in that table (months without rows count as 0); drift when it falls
  below ``median × (1 − volume_band_low)`` or above
  ``median × (1 + volume_band_high)``. The band is asymmetric because a
  delivery that stops is the common failure while caseloads grow. Needs
  ``volume_min_history_months`` months of history and a median of at least
  ``volume_min_median_rows`` (a Poisson count of mean 20 falls below 10 about
  1% of the time; smaller counts are too noisy for a band to mean anything).
* **Distribution drift** — for each key category (:data:`KEY_CATEGORIES`), the
  share of each value among an agency's rows in the ``drift_recent_months``
  months ending with the recent month against the ``drift_history_months``
  months before; drift when the absolute change exceeds
  ``drift_max_share_change`` and both windows hold ``drift_min_rows`` rows.
  The same comparison runs over all agencies together (agency ``*``).
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


@dataclass(frozen=True)
class Thresholds:
    """Every threshold of the checks across loads (see the module docstring)."""

    cadence_days: int = 31
    cadence_days_by_agency_type: Mapping[str, int] = field(default_factory=dict)
    cadence_days_by_agency: Mapping[str, int] = field(default_factory=dict)
    volume_history_months: int = 6
    volume_min_history_months: int = 3
    volume_min_median_rows: int = 20
    volume_band_low: float = 0.5
    volume_band_high: float = 2.0
    drift_recent_months: int = 3
    drift_history_months: int = 12
    drift_min_rows: int = 30
    drift_max_share_change: float = 0.10

    def cadence_for(self, agency_id: str, agency_type: str | None) -> int:
        if agency_id in self.cadence_days_by_agency:
            return int(self.cadence_days_by_agency[agency_id])
        if agency_type and agency_type in self.cadence_days_by_agency_type:
            return int(self.cadence_days_by_agency_type[agency_type])
        return self.cadence_days

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "Thresholds":
        known = {f.name for f in fields(cls)}
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


def volume_drift(
    tables: Mapping[str, pl.DataFrame], as_of: dt.date, thresholds: Thresholds = Thresholds()
) -> pl.DataFrame:
    """Per table and agency with enough history: the recent month against its band.

    Columns: table, agency_id, month, rows, history_months, history_median,
    band_low, band_high, status (``ok``, ``low``, ``high``).
    """
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
            hist_counts = sorted(int(by_month.get(m, 0)) for m in history)
            n = len(hist_counts)
            median = (
                float(hist_counts[n // 2])
                if n % 2
                else (hist_counts[n // 2 - 1] + hist_counts[n // 2]) / 2.0
            )
            if median < thresholds.volume_min_median_rows:
                continue
            low = median * (1 - thresholds.volume_band_low)
            high = median * (1 + thresholds.volume_band_high)
            got = int(by_month.get(recent, 0))
            status = "low" if got < low else "high" if got > high else "ok"
            out.append(
                {
                    "table": table,
                    "agency_id": agency_id[0],
                    "month": recent,
                    "rows": got,
                    "history_months": n,
                    "history_median": median,
                    "band_low": low,
                    "band_high": high,
                    "status": status,
                }
            )
    schema = {
        "table": pl.String, "agency_id": pl.String, "month": pl.Date, "rows": pl.Int64,
        "history_months": pl.Int64, "history_median": pl.Float64, "band_low": pl.Float64,
        "band_high": pl.Float64, "status": pl.String,
    }
    return pl.DataFrame(out, schema=schema).sort("table", "agency_id")


# --- distribution drift ---------------------------------------------------------------


def distribution_drift(
    tables: Mapping[str, pl.DataFrame], as_of: dt.date, thresholds: Thresholds = Thresholds()
) -> pl.DataFrame:
    """Share of each key category value, recent window against history.

    Columns: table, column, value, agency_id (``*`` = all agencies),
    recent_rows, recent_share, history_rows, history_share, change, status
    (``ok`` or ``drift``). Only groups where both windows have enough rows.
    """
    recent_end = add_months(reference_month(as_of), 1)  # exclusive
    recent_start = add_months(recent_end, -thresholds.drift_recent_months)
    history_start = add_months(recent_start, -thresholds.drift_history_months)
    parts = []
    for table, column in KEY_CATEGORIES:
        rows = tables.get(table)
        if rows is None or rows.height == 0:
            continue
        date_col = ACTIVITY_DATE_COLUMN[table]
        framed = rows.select(
            _attributed(table, rows),
            pl.col(column).cast(pl.String).alias("value"),
            pl.when((pl.col(date_col) >= recent_start) & (pl.col(date_col) < recent_end))
            .then(pl.lit("recent"))
            .when((pl.col(date_col) >= history_start) & (pl.col(date_col) < recent_start))
            .then(pl.lit("history"))
            .otherwise(None)
            .alias("window"),
        ).filter(pl.col("window").is_not_null())
        framed = pl.concat([framed, framed.with_columns(pl.lit(ALL_AGENCIES).alias("agency_id"))])
        counts = framed.group_by("agency_id", "window", "value").len("n")
        totals = counts.group_by("agency_id", "window").agg(pl.col("n").sum().alias("total"))
        values = counts.select("agency_id", "value").unique()
        grid = values.join(pl.DataFrame({"window": ["recent", "history"]}), how="cross")
        full = (
            grid.join(counts, on=["agency_id", "window", "value"], how="left")
            .with_columns(pl.col("n").fill_null(0))
            .join(totals, on=["agency_id", "window"], how="left")
            .with_columns(pl.col("total").fill_null(0))
        )
        recent = full.filter(pl.col("window") == "recent").select(
            "agency_id", "value", pl.col("total").alias("recent_rows"),
            (pl.col("n") / pl.col("total")).alias("recent_share"),
        )
        history = full.filter(pl.col("window") == "history").select(
            "agency_id", "value", pl.col("total").alias("history_rows"),
            (pl.col("n") / pl.col("total")).alias("history_share"),
        )
        joined = recent.join(history, on=["agency_id", "value"]).filter(
            (pl.col("recent_rows") >= thresholds.drift_min_rows)
            & (pl.col("history_rows") >= thresholds.drift_min_rows)
        )
        parts.append(
            joined.with_columns(
                pl.lit(table).alias("table"),
                pl.lit(column).alias("column"),
                (pl.col("recent_share") - pl.col("history_share")).alias("change"),
            )
        )
    schema = {
        "table": pl.String, "column": pl.String, "value": pl.String, "agency_id": pl.String,
        "recent_rows": pl.UInt32, "recent_share": pl.Float64, "history_rows": pl.UInt32,
        "history_share": pl.Float64, "change": pl.Float64,
    }
    if not parts:
        return pl.DataFrame(schema={**schema, "status": pl.String})
    out = pl.concat([p.select(list(schema)).cast(schema) for p in parts])  # type: ignore[arg-type]
    return out.with_columns(
        pl.when(pl.col("change").abs() > thresholds.drift_max_share_change)
        .then(pl.lit("drift"))
        .otherwise(pl.lit("ok"))
        .alias("status")
    ).sort("table", "column", "agency_id", "value")


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
    the groups must equal the overall row's (SPEC §3: null keys form their own
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
    ``PARTNERSHIP_QUALITY_CONFIG``, else ``./quality.toml`` when present, else
    the defaults of :class:`Thresholds`."""
    import os

    if path is None:
        env = os.environ.get(THRESHOLDS_ENV)
        if env:
            path = Path(env)
            if not path.exists():
                raise FileNotFoundError(
                    f"{THRESHOLDS_ENV} names {path}, which does not exist; fix the path or unset the variable"
                )
        elif DEFAULT_THRESHOLDS_FILE.exists():
            path = DEFAULT_THRESHOLDS_FILE
    return Thresholds.from_toml(path) if path is not None else Thresholds()
