"""Partnership views: how agencies refer to each other, under which agreements,
how long referrals stay open, and how often police contacts have a co-responder.

These are the dashboard's partnership and community-policing views that docs/metrics.md
does not list as metrics. They are computed here, Streamlit-free and in
polars, so that no page counts anything itself. Every view starts from the
engine's own record selection (:class:`dashboard.metrics.prepared.Prepared`):
the as-of cut-off, the period on the record's own date, the participant
filters, and the ``--program`` / ``--agency`` filters on the record's
attribution (a referral's program is its participant's and its agency is the
provider; a police contact's agency is its own ``agency_id``).

Suppression (k = ``min_cell_size``, default 11; 0 turns it off):

- a count from 1 to k − 1 is withheld (cells with no records have no row);
- a rate (co-responder share) is withheld when its N is below k or its
  numerator is from 1 to k − 1, as for the metrics;
- complementary suppression runs within each view against its totals: the
  members of every additive set listed in each function's docstring are
  protected against subtraction from their published total
  (:func:`~dashboard.metrics.suppression.complementary_suppression` over all
  the view's sets; the co-responder share's breakdowns form one system,
  protected by :func:`dashboard.metrics.disclosure.protect`). Because these
  views publish two levels of totals, one more rule applies to them: a total
  suppressed while all its members are published would be their sum, so its
  smallest member is suppressed too (see :func:`_count_suppression`).

Agreements are organisation-level records (no person in them), so the
agreement status counts are not suppressed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import polars as pl

from dashboard.metrics.engine import OUTPUT_SCHEMA, published
from dashboard.metrics.families.partnerships import CO_RESPONDER_SHARE
from dashboard.metrics.prepared import Prepared, police_base, quarter_expr, referral_base
from dashboard.metrics.suppression import (
    AdditiveSet,
    complementary_suppression,
    key_sort_value,
    primary_suppressed,
)
from dashboard.metrics.tables import Filters, Tables, resolve_as_of
from dashboard.settings import DEFAULT_MIN_CELL_SIZE
from dashboard.stats import wilson_interval


# --- referral outcomes and ages -----------------------------------------------------

OUTCOME_GROUPS: dict[str, tuple[str, ...]] = {
    "completed": ("completed",),
    "unsuccessful": ("declined", "no_show", "closed_unsuccessful"),
    "open": ("pending", "accepted", "in_service"),
}
"""How a referral ended (its status as recorded), in display order."""

OPEN_STATUSES: tuple[str, ...] = OUTCOME_GROUPS["open"]

OPEN_AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-180", 91, 180),
    (">180", 181, None),
)
"""Days from referral_date to the as-of date (both ends inclusive bounds, None: no upper bound)."""
OPEN_AGE_BAND_LABELS: tuple[str, ...] = tuple(label for label, _, _ in OPEN_AGE_BANDS)

# --- agreements -----------------------------------------------------------------------

EXPIRING_SOON_DAYS = 90
IN_FORCE = "In force"
EXPIRING = f"Expiring within {EXPIRING_SOON_DAYS} days"
EXPIRED = "Expired"
NOT_YET_SIGNED = "Not yet signed"
AGREEMENT_STATUSES: tuple[str, ...] = (IN_FORCE, EXPIRING, EXPIRED, NOT_YET_SIGNED)
"""Agreement status on the as-of date, mutually exclusive, in display order.
"In force" here means in force and not expiring within 90 days; an agreement
expiring within 90 days is in force too (tiles add the two)."""

# --- co-responder share -------------------------------------------------------------------

CO_RESPONDER_BREAKDOWNS: tuple[str, ...] = ("quarter", "agency_id", "program_id", "cohort", "contact_type")

COUNT_SCHEMA_BASE: dict[str, pl.DataType] = {"level": pl.String(), "count": pl.Int64(), "suppressed": pl.Boolean()}

_Key = tuple[str, tuple[str | None, ...]]
"""(level, key values): one row of a count view."""


def _prepare(tables: Tables, filters: Filters) -> Prepared:
    return Prepared(tables, filters, resolve_as_of(tables, filters.as_of))


def _count_suppression(counts: dict[_Key, int], sets: Sequence[AdditiveSet], k: int) -> dict[Hashable, bool]:
    """Primary (count 1 to k − 1) then complementary suppression over ``sets`` (visited in order).

    These views publish totals at two levels (e.g. a referral route and how its
    referrals ended), so one more rule closes the gap the upward rule leaves:
    a total that is suppressed while every member of its set is published
    would be their sum, so its smallest member (ties: lowest key) is
    suppressed too. Both rules repeat until nothing changes.
    """
    state: dict[Hashable, bool] = {key: primary_suppressed(None, float(n), k) for key, n in counts.items()}
    if k <= 0:
        return state
    dens: dict[Hashable, float] = {key: float(n) for key, n in counts.items()}
    sort_keys: dict[Hashable, tuple[tuple[int, str], ...]] = {key: key_sort_value(key[1]) for key in counts}
    while True:
        state = complementary_suppression(state, dens, sort_keys, sets)
        changed = False
        for s in sets:
            members = [m for m in s.members if m in state]
            if members and state.get(s.total) and not any(state[m] for m in members):
                state[min(members, key=lambda m: (dens[m], sort_keys[m]))] = True
                changed = True
        if not changed:
            return state


def _count_frame(
    counts: dict[_Key, int],
    flags: dict[Hashable, bool],
    columns: Sequence[str],
    levels: Mapping[str, Sequence[str]],
) -> pl.DataFrame:
    """One row per key: ``level``, the dimension ``columns`` (null outside the level's own), count, suppressed."""
    records = []
    for (level, values), n in counts.items():
        record: dict[str, Any] = {c: None for c in columns}
        record.update(dict(zip(levels[level], values)))
        record.update({"level": level, "count": n, "suppressed": bool(flags[(level, values)])})
        records.append(record)
    schema: dict[str, pl.DataType] = {"level": pl.String()}
    schema.update({c: pl.String() for c in columns})
    schema.update({"count": pl.Int64(), "suppressed": pl.Boolean()})
    order = {level: i for i, level in enumerate(levels)}
    records.sort(key=lambda r: (order[r["level"]], key_sort_value(tuple(r[c] for c in levels[r["level"]]))))
    return pl.DataFrame(records, schema=schema)


def _tally(frame: pl.LazyFrame, columns: Sequence[str]) -> dict[tuple[str | None, ...], int]:
    """Row counts per distinct value of ``columns`` (only combinations with records)."""
    if not columns:
        n = frame.select(pl.len()).collect().item()
        return {(): int(n)} if n else {}
    rows = frame.group_by(list(columns)).agg(pl.len().alias("_n")).collect()
    return {tuple(None if r[c] is None else str(r[c]) for c in columns): int(r["_n"]) for r in rows.iter_rows(named=True)}


def published_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """A count view with the counts of suppressed rows set to null (what may be shown)."""
    return frame.with_columns(pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("count")).alias("count"))


# --- 1. referral flow -----------------------------------------------------------------------

FLOW_LEVELS: dict[str, tuple[str, ...]] = {
    "total": (),
    "pair": ("referring_agency_id", "provider_agency_id"),
    "cell": ("referring_agency_id", "provider_agency_id", "outcome"),
}


def outcome_group_expr(status: pl.Expr | None = None) -> pl.Expr:
    """completed / unsuccessful (declined, no_show, closed_unsuccessful) / open (pending, accepted, in_service)."""
    status = pl.col("status") if status is None else status
    expr: Any = pl.lit(None, dtype=pl.String)
    for group, statuses in reversed(OUTCOME_GROUPS.items()):
        expr = pl.when(status.is_in(list(statuses))).then(pl.lit(group)).otherwise(expr)
    return expr.alias("outcome")


def referral_flow(tables: Tables, filters: Filters, *, min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> pl.DataFrame:
    """Who refers to whom, and how those referrals ended.

    Referrals dated (referral_date) in the period and on or before the as-of
    date, selected and attributed like every referral metric (the program
    and participant filters through the participant, the agency filter on the
    provider), counted at three levels:

    - ``total``: all of them (equals ``referrals_made`` overall);
    - ``pair``: by referring_agency_id × provider_agency_id;
    - ``cell``: by pair × ``outcome`` (:data:`OUTCOME_GROUPS`, status as recorded).

    Additive sets: the pairs against the total, then the outcomes of each
    pair against that pair. Columns: level, referring_agency_id,
    provider_agency_id, outcome, count, suppressed.
    """
    prep = _prepare(tables, filters)
    refs = referral_base(prep).with_columns(outcome_group_expr())
    counts: dict[_Key, int] = {}
    for level, columns in FLOW_LEVELS.items():
        counts.update({(level, key): n for key, n in _tally(refs, columns).items()})
    pairs = [key for key in counts if key[0] == "pair"]
    sets = [AdditiveSet(("total", ()), tuple(pairs))]
    for pair in pairs:
        members = tuple(key for key in counts if key[0] == "cell" and key[1][:2] == pair[1])
        sets.append(AdditiveSet(pair, members))
    flags = _count_suppression(counts, sets, min_cell_size)
    return _count_frame(counts, flags, FLOW_LEVELS["cell"], FLOW_LEVELS)


# --- 2. referrals without an agreement in force ---------------------------------------------

UNCOVERED_LEVELS: dict[str, tuple[str, ...]] = {
    "total": (),
    "provider": ("provider_agency_id",),
    "program_provider": ("provider_agency_id", "program_id"),
}


def in_force_expr(day: pl.Expr) -> pl.Expr:
    """An agreement is in force on ``day`` when signed_date <= day and (no expires_date or day <= expires_date)."""
    return (pl.col("signed_date") <= day) & (pl.col("expires_date").is_null() | (day <= pl.col("expires_date")))


def referrals_without_agreement(
    tables: Tables, filters: Filters, *, min_cell_size: int = DEFAULT_MIN_CELL_SIZE
) -> pl.DataFrame:
    """Referrals made to a provider that had no agreement in force with the referral's program on the referral date.

    The referral's program is its participant's; an agreement of any type
    (MOU, MOA, data sharing) between that program and the provider agency
    counts when it is in force on the referral date (:func:`in_force_expr`).
    Referrals are selected as in :func:`referral_flow`. Levels: ``total``,
    ``provider`` (provider_agency_id) and ``program_provider``
    (provider × program: which agreement is missing). Additive sets: the
    providers against the total, then the programs of each provider against
    that provider. Columns: level, provider_agency_id, program_id, count,
    suppressed. Counts of referrals only: no participant row ever leaves here.
    """
    prep = _prepare(tables, filters)
    refs = referral_base(prep).select("referral_id", "program_id", "provider_agency_id", "referral_date")
    agreements = tables.agreements.lazy().select(
        "program_id", pl.col("agency_id").alias("provider_agency_id"), "signed_date", "expires_date"
    )
    covered = (
        refs.join(agreements, on=["program_id", "provider_agency_id"], how="inner")
        .filter(in_force_expr(pl.col("referral_date")))
        .select("referral_id")
        .unique()
    )
    uncovered = refs.join(covered, on="referral_id", how="anti")
    counts: dict[_Key, int] = {}
    for level, columns in UNCOVERED_LEVELS.items():
        counts.update({(level, key): n for key, n in _tally(uncovered, columns).items()})
    providers = [key for key in counts if key[0] == "provider"]
    sets = [AdditiveSet(("total", ()), tuple(providers))]
    for provider in providers:
        members = tuple(key for key in counts if key[0] == "program_provider" and key[1][0] == provider[1][0])
        sets.append(AdditiveSet(provider, members))
    flags = _count_suppression(counts, sets, min_cell_size)
    return _count_frame(counts, flags, UNCOVERED_LEVELS["program_provider"], UNCOVERED_LEVELS)


# --- 3. open referrals by age ----------------------------------------------------------------

OPEN_AGE_LEVELS: dict[str, tuple[str, ...]] = {
    "total": (),
    "provider": ("provider_agency_id",),
    "band": ("age_band",),
    "provider_band": ("provider_agency_id", "age_band"),
}


def open_age_band_expr(days: pl.Expr) -> pl.Expr:
    """The :data:`OPEN_AGE_BANDS` label of a number of days."""
    expr: Any = pl.lit(None, dtype=pl.String)
    for label, low, high in reversed(OPEN_AGE_BANDS):
        cond = days >= low if high is None else (days >= low) & (days <= high)
        expr = pl.when(cond).then(pl.lit(label)).otherwise(expr)
    return expr.alias("age_band")


def open_referrals_by_age(
    tables: Tables, filters: Filters, *, min_cell_size: int = DEFAULT_MIN_CELL_SIZE
) -> pl.DataFrame:
    """Referrals still open on the as-of date, by days since referral and provider.

    Open: status (as recorded) pending, accepted or in_service. Referrals are
    selected as in :func:`referral_flow` (so the period applies to the
    referral_date: "open referrals made in the period"). Age = as-of date −
    referral_date in days, banded 0-30, 31-60, 61-90, 91-180, >180. Levels:
    ``total``, ``provider``, ``band`` and ``provider_band``. Additive sets,
    in this order: the providers against the total, the bands of each
    provider against that provider, the bands against the total, the
    providers of each band against that band. Columns: level,
    provider_agency_id, age_band, count, suppressed.
    """
    prep = _prepare(tables, filters)
    refs = referral_base(prep).filter(pl.col("status").is_in(list(OPEN_STATUSES)))
    refs = refs.with_columns(open_age_band_expr((pl.lit(prep.as_of) - pl.col("referral_date")).dt.total_days()))
    counts: dict[_Key, int] = {}
    for level, columns in OPEN_AGE_LEVELS.items():
        counts.update({(level, key): n for key, n in _tally(refs, columns).items()})
    band_rank = {label: i for i, label in enumerate(OPEN_AGE_BAND_LABELS)}
    cells = sorted((key for key in counts if key[0] == "provider_band"),
                   key=lambda key: (key_sort_value(key[1][:1]), band_rank[str(key[1][1])]))
    providers = [key for key in counts if key[0] == "provider"]
    bands = sorted((key for key in counts if key[0] == "band"), key=lambda key: band_rank[str(key[1][0])])
    total = ("total", ())
    sets = [AdditiveSet(total, tuple(providers))]
    sets += [AdditiveSet(p, tuple(c for c in cells if c[1][0] == p[1][0])) for p in providers]
    sets.append(AdditiveSet(total, tuple(bands)))
    sets += [AdditiveSet(b, tuple(c for c in cells if c[1][1] == b[1][0])) for b in bands]
    flags = _count_suppression(counts, sets, min_cell_size)
    frame = _count_frame(counts, flags, OPEN_AGE_LEVELS["provider_band"], OPEN_AGE_LEVELS)
    # Bands in their natural order, not as strings (">180" would sort first).
    return frame.with_columns(
        pl.col("age_band").replace_strict(band_rank, default=None, return_dtype=pl.Int64).alias("_rank")
    ).sort(pl.col("level").replace_strict({lv: i for i, lv in enumerate(OPEN_AGE_LEVELS)}, return_dtype=pl.Int64),
           "provider_agency_id", "_rank", nulls_last=True).drop("_rank")


# --- 4. co-responder share of police contacts ------------------------------------------------


def co_responder_share(
    tables: Tables,
    filters: Filters,
    by: Sequence[str] = (),
    *,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
) -> pl.DataFrame:
    """Share of police contacts attended by a co-responder (co_responder = true), with a Wilson 95% interval.

    Contacts are selected and attributed exactly as for
    ``police_diversion_rate`` (dated on or before the as-of date and in the
    period by contact_date; agency = the contact's agency_id; program = its
    program_id, else its participant's; only contacts of matching
    participants when a participant filter is set). Numerator: contacts with
    co_responder = true; denominator: all those contacts.

    The first row is the overall row; then one row per value of ``by`` (any
    of :data:`CO_RESPONDER_BREAKDOWNS`; ``quarter`` is the contact_date's
    calendar quarter, "2025-Q3") with a contact, in key order (null last). A
    row is suppressed when N < k or the numerator is from 1 to k − 1; every
    breakdown the dashboard shows is then protected together with the others
    (see :func:`co_responder_view`), so no suppressed cell can be worked out
    from the community-policing page.
    Columns as :data:`dashboard.metrics.engine.OUTPUT_SCHEMA` with ``group``
    holding the ``by`` keys, so the dashboard's ``views`` helpers read it.
    """
    _check_co_responder_dimensions(by)
    return co_responder_breakdown(co_responder_view(tables, filters, min_cell_size=min_cell_size), by)


def _check_co_responder_dimensions(by: Sequence[str]) -> None:
    by = list(by)
    bad = [d for d in by if d not in CO_RESPONDER_BREAKDOWNS]
    if bad or len(set(by)) != len(by):
        raise ValueError(
            f"cannot break {CO_RESPONDER_SHARE} down by {by}: choose distinct dimensions among "
            f"{', '.join(CO_RESPONDER_BREAKDOWNS)}"
        )


def co_responder_breakdown(view: Mapping[tuple[str, ...], pl.DataFrame], by: Sequence[str]) -> pl.DataFrame:
    """The breakdown by ``by`` of a :func:`co_responder_view` (what :func:`co_responder_share` returns).

    The dashboard computes the view once per filter setting and takes its four breakdowns from it,
    instead of computing the whole protected view again for each (docs/performance.md,
    "Contract-version-2 and partnership pages").
    """
    _check_co_responder_dimensions(by)
    if tuple(by) not in view:
        raise ValueError(
            f"cannot break {CO_RESPONDER_SHARE} down by {list(by)}: it is shown by one of "
            f"{', '.join(CO_RESPONDER_BREAKDOWNS)} or by {' x '.join(CO_RESPONDER_TWO_KEY)}"
        )
    return view[tuple(by)]


CO_RESPONDER_TWO_KEY: tuple[str, str] = ("quarter", "agency_id")
"""The two-key co-responder breakdown the community-policing page shows."""


def co_responder_view(
    tables: Tables, filters: Filters, *, min_cell_size: int = DEFAULT_MIN_CELL_SIZE
) -> dict[tuple[str, ...], pl.DataFrame]:
    """Every co-responder breakdown under one filter setting, protected as one system
    (:mod:`dashboard.metrics.disclosure`): the overall row; each breakdown of
    :data:`CO_RESPONDER_BREAKDOWNS` against it; the quarter × agency cells against
    the overall row, each quarter row and each agency row. Keyed by ``by``
    (``()`` is the overall row alone)."""
    from dashboard.metrics.disclosure import Cell, protect

    prep = _prepare(tables, filters)
    contacts = police_base(prep).with_columns(
        pl.col("co_responder").fill_null(False).cast(pl.Int64).alias("_num"),
        quarter_expr(pl.col("_date")).alias("quarter"),
    )
    breakdowns: list[tuple[str, ...]] = [(d,) for d in CO_RESPONDER_BREAKDOWNS] + [CO_RESPONDER_TWO_KEY]
    queries = [contacts.select(pl.col("_num").sum().alias("_num"), pl.len().alias("_den"))]
    queries += [contacts.group_by(list(by)).agg(pl.col("_num").sum(), pl.len().alias("_den")) for by in breakdowns]
    collected = pl.collect_all(queries)
    overall = collected[0].row(0, named=True)
    o_num, o_den = int(overall["_num"] or 0), int(overall["_den"] or 0)
    total_key: Hashable = ("__overall__",)
    cells: dict[Hashable, Cell] = {}
    if o_den > 0:
        cells[total_key] = Cell(o_num, float(o_den), ())
    members: dict[tuple[str, ...], list[tuple[Hashable, tuple[str | None, ...], int, int]]] = {}
    for by, frame in zip(breakdowns, collected[1:]):
        rows: list[tuple[Hashable, tuple[str | None, ...], int, int]] = []
        for rec in frame.iter_rows(named=True):
            key = tuple(None if rec[d] is None else str(rec[d]) for d in by)
            rows.append((("cell", by, key), key, int(rec["_num"]), int(rec["_den"])))
        rows.sort(key=lambda r: key_sort_value(r[1]))
        members[by] = rows
        for cell_key, values, num, den in rows:
            cells[cell_key] = Cell(num, float(den), key_sort_value(values))
    sets: list[AdditiveSet[Hashable]] = [AdditiveSet(total_key, tuple(r[0] for r in members[by])) for by in breakdowns]
    two = members[CO_RESPONDER_TWO_KEY]
    for position, margin in enumerate(CO_RESPONDER_TWO_KEY):
        for value in sorted({r[1][position] for r in two}, key=lambda v: key_sort_value((v,))):
            sets.append(AdditiveSet(("cell", (margin,), (value,)), tuple(r[0] for r in two if r[1][position] == value)))
    flags = protect(cells, sets, min_cell_size)
    out: dict[tuple[str, ...], pl.DataFrame] = {}
    for by in [(), *breakdowns]:
        schema = dict(OUTPUT_SCHEMA)
        schema["group"] = pl.Struct({d: pl.String() for d in by})
        records: list[dict[str, Any]] = []
        if o_den > 0:
            records.append(_rate_record([], {}, o_num, o_den, flags[total_key]))
        for cell_key, values, num, den in members.get(by, []):
            records.append(_rate_record(list(by), dict(zip(by, values)), num, den, flags[cell_key]))
        out[by] = pl.DataFrame(records, schema=schema)
    return out


def _rate_record(by: list[str], group: dict[str, Any], num: int, den: int, suppressed: bool) -> dict[str, Any]:
    ci = wilson_interval(num, den)
    return {
        "metric": CO_RESPONDER_SHARE, "group_by": by, "group": group,
        "numerator": num, "denominator": float(den), "value": num / den,
        "ci_low": ci[0] if ci else None, "ci_high": ci[1] if ci else None, "suppressed": bool(suppressed),
    }


# --- 5. agreement status ---------------------------------------------------------------------


def agreement_status(agreements: pl.DataFrame, as_of: dt.date, *, soon_days: int = EXPIRING_SOON_DAYS) -> pl.DataFrame:
    """Each agreement (an organisation-level record, not a person) with its ``status`` on ``as_of``.

    - *Not yet signed*: signed_date after the as-of date;
    - *Expired*: expires_date before the as-of date;
    - *Expiring within 90 days*: in force and as_of <= expires_date <= as_of + 90 days;
    - *In force*: signed on or before the as-of date with no expiry date or one more than 90 days after it.

    In force on a day follows :func:`in_force_expr` (an agreement is still in
    force on its expiry date).
    """
    # Saturates at the last representable day (an as-of near 9999-12-31 must not crash a page).
    soon = as_of + dt.timedelta(days=soon_days) if as_of <= dt.date.max - dt.timedelta(days=soon_days) else dt.date.max
    expiring = EXPIRING if soon_days == EXPIRING_SOON_DAYS else f"Expiring within {soon_days} days"
    status = (
        pl.when(pl.col("signed_date") > as_of).then(pl.lit(NOT_YET_SIGNED))
        .when(pl.col("expires_date").is_not_null() & (pl.col("expires_date") < as_of)).then(pl.lit(EXPIRED))
        .when(pl.col("expires_date").is_not_null() & (pl.col("expires_date") <= soon)).then(pl.lit(expiring))
        .otherwise(pl.lit(IN_FORCE))
    )
    return agreements.with_columns(status.alias("status"))


AGREEMENT_LEVELS: dict[str, tuple[str, ...]] = {
    "total": ("status",),
    "program": ("program_id", "status"),
    "program_partner": ("program_id", "agency_id", "status"),
}


def filtered_agreements(tables: Tables, filters: Filters) -> pl.DataFrame:
    """The agreements of the filtered programs and partner agencies, with their status on the as-of date.

    The program filter applies to the agreement's program_id, the agency
    filter to its partner agency_id; the period and participant filters do
    not apply (the status is a state on the as-of date).
    """
    as_of = resolve_as_of(tables, filters.as_of)
    agreements = tables.agreements
    if filters.program_ids:
        agreements = agreements.filter(pl.col("program_id").is_in(list(filters.program_ids)))
    if filters.agency_ids:
        agreements = agreements.filter(pl.col("agency_id").is_in(list(filters.agency_ids)))
    return agreement_status(agreements, as_of)


def agreement_status_counts(tables: Tables, filters: Filters) -> pl.DataFrame:
    """Agreements by status on the as-of date: overall (every status, zeros included), by program,
    and by program × partner agency (combinations with agreements only).

    Not suppressed: agreements are between organisations. Columns: level,
    program_id, agency_id, status, count, suppressed (always false).
    """
    status = filtered_agreements(tables, filters).lazy()
    counts: dict[_Key, int] = {("total", (s,)): 0 for s in AGREEMENT_STATUSES}
    for level, columns in AGREEMENT_LEVELS.items():
        counts.update({(level, key): n for key, n in _tally(status, columns).items()})
    rank = {s: i for i, s in enumerate(AGREEMENT_STATUSES)}
    frame = _count_frame(counts, {key: False for key in counts}, AGREEMENT_LEVELS["program_partner"], AGREEMENT_LEVELS)
    return frame.with_columns(pl.col("status").replace_strict(rank, return_dtype=pl.Int64).alias("_rank")).sort(
        pl.col("level").replace_strict({lv: i for i, lv in enumerate(AGREEMENT_LEVELS)}, return_dtype=pl.Int64),
        "program_id", "agency_id", "_rank", nulls_last=True,
    ).drop("_rank")


VIEW_DEFINITIONS: dict[str, str] = {
    "agreement_status": "**Agreement status on the as-of date**: *in force* — signed on or before it with no "
    "expiry date or one more than 90 days after it; *expiring within 90 days* — in force and expiring at most 90 "
    "days after it (an agreement is in force on its expiry date); *expired* — expiry date before it; *not yet "
    "signed* — signed after it. \"In force\" tiles count the expiring ones too. Agreements are between "
    "organisations, so no count is suppressed. Program and agency filters apply to the agreement's program and "
    "partner agency; the period and participant filters do not apply.",
    "referral_flow": "**Referral flow** (`referral_flow`): referrals dated (referral_date) in the period and on or "
    "before the as-of date, counted by referring agency × provider agency and how they ended, status as "
    "recorded: *completed*; *unsuccessful* — declined, no-show or closed unsuccessfully; *open* — pending, "
    "accepted or in service. Program and participant filters apply through the participant; the agency filter "
    "applies to the provider. Counts of 1 to k − 1 are suppressed, and a further cell where one suppressed cell "
    "could be recovered from a published total (pairs against all referrals, outcomes against their pair).",
    "referrals_without_agreement": "**Referrals without an agreement in force** (`referrals_without_agreement`): "
    "referrals (selected as for the referral flow) whose provider agency had no agreement of any type (MOU, MOA, "
    "data sharing) with the participant's program in force on the referral date — in force means signed on or "
    "before it and not expired before it (no expiry date, or referral date on or before the expiry date). "
    "Counted by provider, and by provider and program; suppressed as the referral flow.",
    "open_referrals_by_age": "**Open referrals by age** (`open_referrals_by_age`): referrals dated in the period "
    "and on or before the as-of date whose status (as recorded) is pending, accepted or in service, by days "
    "from the referral date to the as-of date (0-30, 31-60, 61-90, 91-180, more than 180) and provider agency. "
    "Counts of 1 to k − 1 are suppressed, with complementary suppression against the provider and age totals.",
}
"""Plain-language definitions of the count views, shown one click away on the dashboard."""


__all__ = [
    "AGREEMENT_STATUSES", "CO_RESPONDER_SHARE", "VIEW_DEFINITIONS", "OPEN_AGE_BAND_LABELS", "OUTCOME_GROUPS",
    "agreement_status", "agreement_status_counts", "co_responder_breakdown", "co_responder_share",
    "co_responder_view", "filtered_agreements",
    "open_referrals_by_age", "published", "published_counts", "referral_flow", "referrals_without_agreement",
]
