"""The loaded tables as polars frames, the user's filters, and the as-of date.

Everything the metric engine and the pilot evaluation compute starts from a
:class:`Tables` (read once from the database by :func:`load_tables`) and a
:class:`Filters` (small, frozen and hashable, so the dashboard can cache on
it). :func:`resolve_as_of` turns the optional explicit as-of date into the
date the numbers are "as of" (docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

import polars as pl
import sqlalchemy as sa

from dashboard import store
from dashboard.contract import TABLE_NAMES

# Age bands for the age filter and breakdown (ages are 10..100 by contract).
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("10-17", 10, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65+", 65, 200),
)
AGE_BAND_LABELS: tuple[str, ...] = tuple(label for label, _, _ in AGE_BANDS)

# The dates the default as-of date is taken from when no load run is recorded
# (docs/metrics.md); the dates of the contract version 2 tables are not among them.
_AS_OF_FALLBACK_DATES: tuple[tuple[str, str], ...] = (
    ("referrals", "referral_date"),
    ("supervision_events", "event_date"),
    ("violations", "violation_date"),
    ("recidivism_events", "event_date"),
    ("police_contacts", "contact_date"),
    ("participants", "enrollment_date"),
)


def age_band_expr(age: pl.Expr | None = None) -> pl.Expr:
    """The age band label of ``age_at_enrollment`` (null when the age is null)."""
    age = pl.col("age_at_enrollment") if age is None else age
    expr: Any = pl.lit(None, dtype=pl.String)
    for label, low, high in reversed(AGE_BANDS):
        expr = pl.when((age >= low) & (age <= high)).then(pl.lit(label)).otherwise(expr)
    return expr.alias("age_band")


# Columns of the contract that nothing reading a :class:`Tables` uses (the metric
# engine, the pilot evaluation, the pages and the exports): the row identifiers and
# the few attributes only the data steward's checks look at, which read the tables
# whole themselves (:func:`load_tables` with ``all_columns``). Leaving them out of
# the shared tables saves about a fifth of their memory at a million participants
# (docs/performance.md, "Tables in memory"). A column is listed here only if no code
# outside the loader, the steward's checks and the sample generator names it;
# tests/test_tables_memory.py checks both that and that no output changes.
UNREAD_COLUMNS: dict[str, tuple[str, ...]] = {
    "referrals": ("completed_date",),
    "supervision_events": ("event_id",),
    "violations": ("violation_id",),
    "recidivism_events": ("event_id", "offense_category", "source_agency_id"),
    "reintegration_checks": ("check_id",),
    "surveys": ("response_id",),
}


# Enum-like string columns (a handful of values each) that the shared tables hold as
# ``pl.Categorical``: polars stores every string as a 16-byte view, a categorical as a
# 4-byte code into one global dictionary, which saves about 12 bytes a row — 0.3 GB
# of the tables and 0.8 GB of the dashboard at a million participants
# (docs/performance.md, "Enum-like columns as categoricals"). Filters on them (``==``
# a string, ``is_in`` strings) work unchanged and no engine output changes, rows or
# types (tests/test_tables_memory.py). A column the engine joins or concatenates with
# plain strings (``violations.response`` and ``violation_type``) is not listed.
# The participant, agency and program ids are listed too, in every table that stores
# them, so every join between tables is between categoricals of the same dictionary,
# and each id is held once in that dictionary instead of once per row (13.5 M
# participant ids and about 12 M agency ids at a million participants;
# docs/performance.md, "Memory, round 3": identifiers as categoricals). Grouping by
# them gives the same groups, and every output leaves as Python strings or plain
# string columns.
CATEGORICAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "agencies": ("agency_id",),
    "programs": ("program_id", "lead_agency_id"),
    "agreements": ("program_id", "agency_id"),
    "participants": (
        "participant_id", "program_id", "supervising_agency_id", "cohort", "supervision_type", "risk_level",
        "sex", "race_ethnicity", "exit_reason",
    ),
    "referrals": ("participant_id", "referring_agency_id", "provider_agency_id", "service_type", "status"),
    "supervision_events": ("participant_id", "agency_id", "event_type", "outcome"),
    "violations": ("participant_id", "agency_id"),
    "recidivism_events": ("participant_id", "event_type"),
    "police_contacts": ("participant_id", "agency_id", "program_id", "contact_type", "outcome"),
    "reintegration_checks": ("participant_id", "agency_id", "employment", "housing"),
    "program_costs": ("program_id",),
    "staffing": ("agency_id",),
    "surveys": ("participant_id", "program_id", "agency_id", "respondent_type", "question"),
}


def read_columns(table: str) -> list[str]:
    """The columns of ``table`` that :func:`load_tables` reads (all but :data:`UNREAD_COLUMNS`)."""
    unread = UNREAD_COLUMNS.get(table, ())
    return [name for name in store.polars_schema(table) if name not in unread]


def _empty(table: str) -> Any:
    """A default for the tables of contract version 2: empty, with the contract's columns."""
    return field(default_factory=lambda: conform(table, None))


@dataclass(frozen=True, eq=False)
class Tables:
    """The contract tables (plus the load runs) as polars frames.

    Frames carry the contract's column names and polars types: dates
    ``pl.Date``, identifiers and enum values ``pl.String``, whole numbers
    ``pl.Int64``, booleans ``pl.Boolean`` and decimals (amounts, full-time
    equivalents) ``pl.Decimal(precision=18, scale=2)``, exact as stored.
    The four tables of contract version 2 default to empty frames, so a
    version 1 database gives them no rows. :func:`load_tables` leaves out the
    columns nothing here reads (:data:`UNREAD_COLUMNS`). ``eq=False`` keeps
    hashing by identity: frames are never compared by value.
    """

    agencies: pl.DataFrame
    programs: pl.DataFrame
    agreements: pl.DataFrame
    participants: pl.DataFrame
    referrals: pl.DataFrame
    supervision_events: pl.DataFrame
    violations: pl.DataFrame
    recidivism_events: pl.DataFrame
    police_contacts: pl.DataFrame
    load_runs: pl.DataFrame
    reintegration_checks: pl.DataFrame = _empty("reintegration_checks")
    program_costs: pl.DataFrame = _empty("program_costs")
    staffing: pl.DataFrame = _empty("staffing")
    surveys: pl.DataFrame = _empty("surveys")

    @classmethod
    def from_frames(cls, **frames: pl.DataFrame | list[dict[str, Any]] | None) -> Tables:
        """Build from any subset of tables (missing ones are empty).

        Accepts frames or lists of row dicts; columns missing from a frame are
        added as nulls and every column is cast to the contract type, so test
        fixtures can name only the columns they care about.
        """
        unknown = set(frames) - set(TABLE_NAMES) - {"load_runs"}
        if unknown:
            raise ValueError(f"unknown table(s) {sorted(unknown)}; expected some of {list(TABLE_NAMES)}")
        built: dict[str, pl.DataFrame] = {}
        for name in (*TABLE_NAMES, "load_runs"):
            built[name] = conform(name, frames.get(name))
        return cls(**built)


def conform(
    table: str,
    data: pl.DataFrame | list[dict[str, Any]] | None,
    columns: Sequence[str] | None = None,
    *,
    categorical: bool = True,
) -> pl.DataFrame:
    """``data`` with exactly the columns of ``table`` (or only ``columns`` of them), in
    contract order and types; the :data:`CATEGORICAL_COLUMNS` as ``pl.Categorical``
    unless ``categorical`` is false (the data steward's checks read plain strings)."""
    schema = store.polars_schema(table)
    if categorical:
        schema = {
            name: pl.Categorical() if name in CATEGORICAL_COLUMNS.get(table, ()) else dtype
            for name, dtype in schema.items()
        }
    if columns is not None:
        schema = {name: dtype for name, dtype in schema.items() if name in columns}
    if data is None:
        return pl.DataFrame(schema=schema)
    frame = data if isinstance(data, pl.DataFrame) else pl.DataFrame(data, infer_schema_length=None)
    extra = set(frame.columns) - set(schema)
    if extra:
        raise ValueError(f"{table}: unknown column(s) {sorted(extra)}")
    if frame.height == 0:
        return pl.DataFrame(schema=schema)
    exprs = []
    for name, dtype in schema.items():
        if name in frame.columns:
            col = pl.col(name)
            if dtype == pl.Date() and frame.schema[name] == pl.String():
                exprs.append(col.str.to_date("%Y-%m-%d").alias(name))
            else:
                exprs.append(col.cast(dtype).alias(name))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(exprs)


def categorise(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (all or some columns of ``table``) with its :data:`CATEGORICAL_COLUMNS` as
    ``pl.Categorical``: :func:`load_tables` applies it to each column as it is read."""
    wanted = [name for name in CATEGORICAL_COLUMNS.get(table, ()) if name in frame.columns]
    return frame.with_columns(pl.col(name).cast(pl.Categorical()) for name in wanted) if wanted else frame


def load_tables(engine: sa.engine.Engine, *, all_columns: bool = False, plain_strings: bool = False) -> Tables:
    """Read every contract table and the load runs once (the expensive step).

    The frames leave out :data:`UNREAD_COLUMNS` (no metric, page or export reads
    them) unless ``all_columns`` is set, as the data steward's checks do; an
    empty table keeps all its columns. The :data:`CATEGORICAL_COLUMNS` are
    ``pl.Categorical`` unless ``plain_strings`` is set (the steward's checks).
    """
    frames: dict[str, pl.DataFrame] = {}
    # Inspect on a connection of its own: on DuckDB the inspector leaves a
    # result open that makes the native read on the same connection fail.
    with store.connect(engine) as conn:
        existing = set(sa.inspect(conn).get_table_names())
    wanted = (*TABLE_NAMES, "load_runs")
    present = [name for name in wanted if name in existing]
    columns = {} if all_columns else {name: read_columns(name) for name in present if name in UNREAD_COLUMNS}
    read = store.read_tables(engine, present, columns, None if plain_strings else categorise)
    for name in wanted:
        frame = read.pop(name, None)
        # an empty table keeps every contract column, as a table the database lacks does
        # (a version 1 database: see Tables); it costs no memory
        narrow = columns.get(name) if frame is not None and frame.height else None
        frames[name] = conform(name, frame, narrow, categorical=not plain_strings)
    return Tables(**frames)


def value_in(expr: pl.Expr, allowed: Sequence[str | None]) -> pl.Expr:
    """True where ``expr`` is one of ``allowed``; ``None`` in ``allowed`` matches a null
    value (the Unassigned group). Null elsewhere counts as no match. The metrics and
    the pilot evaluation filter through this one function, so their suppression agrees."""
    values = [v for v in allowed if v is not None]
    cond = expr.is_in(values) if values else pl.lit(False)
    if any(v is None for v in allowed):
        cond = cond | expr.is_null()
    return cond.fill_null(False)


@dataclass(frozen=True)
class Filters:
    """What the user asked for. Tuples (empty = all), so the object is hashable.

    - ``as_of``: explicit as-of date (None: see :func:`resolve_as_of`).
    - ``start``/``end``: the inclusive period; each metric applies it to its own date.
    - ``program_ids``/``agency_ids``: applied to each metric's own attribution.
    - ``cohorts``, ``risk_levels``, ``supervision_types``, ``sexes``,
      ``race_ethnicities``, ``age_bands``: participant filters. They keep the
      participants whose value is listed (``None`` in the tuple matches a null
      value) and everything attributed to those participants; police contacts
      with no participant are left out whenever any participant filter is set,
      since they cannot be shown to match it.
    """

    as_of: dt.date | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    program_ids: tuple[str, ...] = ()
    agency_ids: tuple[str, ...] = ()
    cohorts: tuple[str | None, ...] = ()
    risk_levels: tuple[str | None, ...] = ()
    supervision_types: tuple[str | None, ...] = ()
    sexes: tuple[str | None, ...] = ()
    race_ethnicities: tuple[str | None, ...] = ()
    age_bands: tuple[str | None, ...] = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
            elif isinstance(value, str) and f.name not in ("as_of", "start", "end"):
                object.__setattr__(self, f.name, (value,))
        if self.start and self.end and self.start > self.end:
            raise ValueError(
                f"the period starts ({self.start}) after it ends ({self.end}); swap --start and --end"
            )

    @property
    def participant_filters(self) -> dict[str, tuple[str | None, ...]]:
        """Participant column -> allowed values, for the filters that are set."""
        pairs = {
            "cohort": self.cohorts,
            "risk_level": self.risk_levels,
            "supervision_type": self.supervision_types,
            "sex": self.sexes,
            "race_ethnicity": self.race_ethnicities,
            "age_band": self.age_bands,
        }
        return {k: v for k, v in pairs.items() if v}


def resolve_as_of(tables: Tables, explicit: dt.date | None = None) -> dt.date:
    """The as-of date (docs/metrics.md).

    ``explicit`` if given; else the ``as_of`` of the most recent load run of
    kind ``load`` by load time (``started_at``); else the latest of
    referral_date, supervision event_date, violation_date, recidivism
    event_date, contact_date and enrollment_date over the loaded rows; today
    when the database holds no rows at all.
    """
    if explicit is not None:
        return explicit
    runs = tables.load_runs
    if runs.height:
        loads = runs.filter((pl.col("kind") == "load") & pl.col("as_of").is_not_null())
        if loads.height:
            latest = loads.sort(["started_at", "finished_at"], descending=True, nulls_last=True).row(0, named=True)
            return latest["as_of"]  # type: ignore[no-any-return]
    candidates: list[dt.date] = []
    for table, column in _AS_OF_FALLBACK_DATES:
        value = getattr(tables, table)[column].max()
        if value is not None:
            candidates.append(value)  # type: ignore[arg-type]
    return max(candidates) if candidates else dt.date.today()
