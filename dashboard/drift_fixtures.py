"""Extracts with no drift by construction, and with a planted shift.

The drift checks (``dashboard.quality_checks``) are measured on these: the
false-alarm rate on extracts where every difference between windows is chance,
and the power to find a planted change (``bench/bench_drift.py``, the method
in docs/stewardship.md). They start from a generated extract
(``dashboard.sample``) and change only what the checks look at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import polars as pl

from dashboard.quality_checks import (
    ACTIVITY_DATE_COLUMN,
    KEY_CATEGORIES,
    SUBMITTING_AGENCY_COLUMN,
    add_months,
    reference_month,
)


def without_drift(tables: Mapping[str, pl.DataFrame], as_of: dt.date, seed: int) -> dict[str, pl.DataFrame]:
    """A copy of ``tables`` in which no volume or distribution drift can exist.

    For every activity table and submitting agency: each row's date is drawn
    uniformly from the days between the first day of the agency's first month
    in that table and ``as_of`` (a constant daily rate: every month's count is
    chance around the same mean), and each watched category
    (``KEY_CATEGORIES``) is shuffled among the agency's rows (its share is the
    same in every window). Rows without an agency form one group, as the
    checks count them; rows without a date keep theirs.
    """
    rng = np.random.default_rng(seed)
    watched = dict(KEY_CATEGORIES)
    out = dict(tables)
    for table, date_col in ACTIVITY_DATE_COLUMN.items():
        rows = tables.get(table)
        if rows is None or rows.height == 0:
            continue
        agency_col = SUBMITTING_AGENCY_COLUMN[table]
        rows = rows.with_row_index("_row")
        dated = rows.filter(pl.col(date_col).is_not_null())
        parts = [rows.join(dated.select("_row"), on="_row", how="anti")]
        for _, group in dated.group_by(agency_col, maintain_order=True):
            first = group[date_col].min()
            assert isinstance(first, dt.date)
            start = first.replace(day=1)
            span = (as_of - start).days + 1
            if span <= 0:
                parts.append(group)
                continue
            offsets = rng.integers(0, span, group.height)
            new_dates = pl.Series(
                date_col, [start + dt.timedelta(days=int(d)) for d in offsets], dtype=pl.Date
            )
            group = group.with_columns(new_dates)
            if table in watched:
                column = watched[table]
                group = group.with_columns(pl.Series(column, rng.permutation(group[column].to_numpy())))
            parts.append(group)
        out[table] = pl.concat(parts, how="vertical_relaxed").sort("_row").drop("_row")
    return out


def with_missed_shift(
    tables: Mapping[str, pl.DataFrame],
    as_of: dt.date,
    agency_id: str,
    share: float,
    seed: int,
    recent_months: int = 3,
) -> dict[str, pl.DataFrame]:
    """A copy of ``tables`` where ``share`` of ``agency_id``'s compliant
    supervision events in its last ``recent_months`` months (ending with the
    last complete month before ``as_of``) are recorded as ``missed`` instead."""
    rng = np.random.default_rng(seed)
    end = add_months(reference_month(as_of), 1)
    start = add_months(end, -recent_months)
    events = tables["supervision_events"].with_row_index("_row")
    eligible = events.filter(
        (pl.col("agency_id") == agency_id)
        & (pl.col("outcome") == "compliant")
        & (pl.col("event_date") >= start)
        & (pl.col("event_date") < end)
    )["_row"].to_numpy()
    chosen = rng.choice(eligible, size=round(share * len(eligible)), replace=False)
    changed = events.with_columns(
        pl.when(pl.col("_row").is_in(pl.Series(chosen, dtype=pl.UInt32).implode()))
        .then(pl.lit("missed"))
        .otherwise(pl.col("outcome"))
        .alias("outcome")
    ).drop("_row")
    out = dict(tables)
    out["supervision_events"] = changed
    return out


def busiest_agency(tables: Mapping[str, pl.DataFrame], table: str = "supervision_events") -> str:
    """The agency that records the most rows of ``table`` (where a planted shift is placed)."""
    column = SUBMITTING_AGENCY_COLUMN[table]
    counts = tables[table].filter(pl.col(column).is_not_null()).group_by(column).len("n")
    return str(counts.sort(["n", column], descending=[True, False])[column][0])
