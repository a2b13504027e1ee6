"""What every part of the sample generator shares: defaults, weights checked against the contract,
seeded random streams and the numpy-to-polars series builders (see :mod:`dashboard.sample`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from dashboard.contract import TABLES_BY_NAME

GENERATOR_NAME = "dashboard.sample"
# Bump when the same seed would produce different rows.
GENERATOR_VERSION = 1
DEFAULT_AS_OF = dt.date(2026, 6, 30)
DEFAULT_SEED = 42
DEFAULT_PARTICIPANTS = 3000
FORMATS = ("csv", "parquet")

# The planted effect: pilot re-arrest hazard relative to the comparison cohort.
PILOT_HAZARD_RATIO = 0.70
# Probability of a first arrest within 12 months of the index date, by risk level.
REARREST_12M = {"low": 0.12, "moderate": 0.25, "high": 0.40}

EPOCH = dt.date(1970, 1, 1)
NO_VALUE = np.iinfo(np.int64).min  # "no date" / "no value" in the integer arrays below
DAYS_PER_MONTH = 30.4375


# --- contract-derived helpers -------------------------------------------------------


def enum_values(table: str, column: str) -> tuple[str, ...]:
    values = TABLES_BY_NAME[table].column(column).enum
    if not values:
        raise ValueError(f"{table}.{column} is not an enum column in the contract")
    return values


def contract_weights(table: str, column: str, weights: Mapping[str, float]) -> np.ndarray:
    """Probabilities over the contract's enum values, in contract order.

    Every key must be an allowed value; every allowed value must have a weight
    (zero is allowed where a value is produced by another path, e.g. the
    ``revoked`` response comes only with a revocation exit).
    """
    allowed = enum_values(table, column)
    unknown = set(weights) - set(allowed)
    missing = set(allowed) - set(weights)
    if unknown or missing:
        raise ValueError(
            f"sample weights for {table}.{column} do not match the contract: "
            f"unknown {sorted(unknown)}, missing {sorted(missing)}"
        )
    p = np.array([weights[v] for v in allowed], dtype=float)
    return p / p.sum()


def enum_code(table: str, column: str, value: str) -> int:
    return enum_values(table, column).index(value)


def choose(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """``n`` category codes drawn with probabilities ``p`` (inverse CDF, vectorised)."""
    cdf = np.cumsum(p)
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int64)


def choose_rows(rng: np.random.Generator, p_rows: np.ndarray) -> np.ndarray:
    """One category per row, each row with its own probability vector (rows of ``p_rows``)."""
    cdf = np.cumsum(p_rows, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(p_rows))[:, None]
    return np.minimum((u >= cdf).sum(axis=1), p_rows.shape[1] - 1).astype(np.int64)


def uniform_days(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, n: int) -> np.ndarray:
    """Whole days uniformly in ``[lo, hi]`` (both included; requires hi >= lo)."""
    lo_a = np.broadcast_to(np.asarray(lo, dtype=np.int64), (n,))
    hi_a = np.broadcast_to(np.asarray(hi, dtype=np.int64), (n,))
    return lo_a + np.floor(rng.random(n) * (hi_a - lo_a + 1)).astype(np.int64)


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def months_before(as_of: dt.date, months: int) -> int:
    """First day of the month ``months`` calendar months before ``as_of``, as a day number."""
    total = as_of.year * 12 + (as_of.month - 1) - months
    return day_number(dt.date(total // 12, total % 12 + 1, 1))


# --- series builders (numpy → polars, with nulls) ----------------------------------


def date_series(name: str, days: np.ndarray) -> pl.Series:
    valid = days != NO_VALUE
    s = pl.Series(name, np.where(valid, days, 0).astype(np.int32)).cast(pl.Date)
    if valid.all():
        return s
    return pl.select(pl.when(pl.Series(valid)).then(s).alias(name)).to_series()


def label_series(name: str, values: Sequence[str | None], codes: np.ndarray) -> pl.Series:
    """Strings from a small list by code; code -1 means null."""
    lookup = pl.Series(name, list(values), dtype=pl.String)
    idx = pl.Series(np.where(codes < 0, 0, codes).astype(np.uint32))
    s = lookup.gather(idx).alias(name)
    if (codes >= 0).all():
        return s
    return pl.select(pl.when(pl.Series(codes >= 0)).then(s).alias(name)).to_series()


def id_series(name: str, prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """``prefix`` + zero-padded number, e.g. ``PT0000042``."""
    return pl.select(
        (pl.lit(prefix) + pl.Series(numbers.astype(np.int64)).cast(pl.String).str.zfill(width)).alias(name)
    ).to_series()


def table_frame(table: str, columns: Mapping[str, pl.Series]) -> pl.DataFrame:
    """The table's frame with exactly the contract's columns, in contract order."""
    names = TABLES_BY_NAME[table].column_names
    missing = [c for c in names if c not in columns]
    extra = [c for c in columns if c not in names]
    if missing or extra:
        raise ValueError(f"sample {table}: missing columns {missing}, unknown columns {extra}")
    return pl.DataFrame([columns[c].alias(c) for c in names])


def stream_rng(seed: int, stream: int) -> np.random.Generator:
    """An independent generator per table, so changing one table never shifts another."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream])))
