"""The counted records of every metric family, after the as-of cut-off, the period and the filters.

:class:`Prepared` holds the participants and the records a view starts from; the
``*_base`` functions give one family's records, each attributed to a program, an
agency and a cohort as ``docs/metrics.md`` says (``_date`` is the date the period
applies to). The metric families (:mod:`dashboard.metrics.families`), the
partnership views and the engine all start from here.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from dashboard.metrics.recidivism import first_matching_events, index_date_expr
from dashboard.metrics.tables import Filters, Tables, age_band_expr, resolve_as_of, value_in

DEMOGRAPHIC_COLUMNS = ("sex", "race_ethnicity", "age_band", "risk_level", "supervision_type")


class Prepared:
    """The participants and records after the as-of cut-off and participant filters.

    Two participant frames, because docs/metrics.md leaves out two different things:
    ``participants`` are those enrolled on or before the as-of date (the
    participant-based metrics count them), while ``attributes`` holds every
    recorded participant's program, cohort and demographics. A referral,
    supervision event, violation or police contact dated on or before the
    as-of date is not left out even when its participant enrolls after it
    (only rows *dated* after the as-of are), and "the cohort always comes from
    the participant", so such a row keeps its participant's recorded program
    and cohort.
    """

    def __init__(self, tables: Tables, filters: Filters, as_of: dt.date) -> None:
        self.tables = tables
        self.filters = filters
        self.as_of = as_of
        everyone = tables.participants.lazy().with_columns(age_band_expr())
        for column, allowed in filters.participant_filters.items():
            everyone = everyone.filter(value_in(pl.col(column), allowed))
        self.attributes = everyone.select(
            "participant_id", "program_id", "cohort", "supervising_agency_id", *DEMOGRAPHIC_COLUMNS
        ).collect()
        # An exit after the as-of date counts as no exit.
        exited = pl.col("exit_date") <= as_of
        p = everyone.filter(pl.col("enrollment_date") <= as_of).with_columns(
            pl.when(exited).then(pl.col("exit_date")).otherwise(None).alias("exit_date"),
            pl.when(exited).then(pl.col("exit_reason")).otherwise(None).alias("exit_reason"),
        )
        self.participants = p.collect()
        self.participant_filtered = bool(filters.participant_filters)

    def participant_attributes(self, *, agency: bool) -> pl.LazyFrame:
        """participant_id with the participant's program, cohort (and agency) and demographics,
        for every recorded participant (see the class docstring)."""
        cols = ["participant_id", "program_id", "cohort", *DEMOGRAPHIC_COLUMNS]
        if agency:
            cols.append("supervising_agency_id")
        return self.attributes.lazy().select(cols)

    def in_period(self, date: pl.Expr) -> pl.Expr:
        cond = pl.lit(True)
        if self.filters.start is not None:
            cond = cond & (date >= self.filters.start)
        if self.filters.end is not None:
            cond = cond & (date <= self.filters.end)
        return cond

    def attribution_filter(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """--program / --agency on the metric's own program_id and agency_id columns."""
        if self.filters.program_ids:
            frame = frame.filter(value_in(pl.col("program_id"), self.filters.program_ids))
        if self.filters.agency_ids:
            frame = frame.filter(value_in(pl.col("agency_id"), self.filters.agency_ids))
        return frame



def quarter_expr(date: pl.Expr) -> pl.Expr:
    # concat_str, not pl.format: pl.format panicked ("i < self.len()") on some row orders (polars 2.1).
    return pl.concat_str([date.dt.year().cast(pl.String), pl.lit("-Q"), date.dt.quarter().cast(pl.String)])


def referral_base(prep: Prepared) -> pl.LazyFrame:
    r = prep.tables.referrals.lazy().filter(pl.col("referral_date") <= prep.as_of)
    r = r.join(prep.participant_attributes(agency=False), on="participant_id", how="inner")
    r = r.with_columns(pl.col("provider_agency_id").alias("agency_id"), pl.col("referral_date").alias("_date"))
    return prep.attribution_filter(r.filter(prep.in_period(pl.col("_date"))))


def supervision_base(prep: Prepared) -> pl.LazyFrame:
    e = prep.tables.supervision_events.lazy().filter(pl.col("event_date") <= prep.as_of)
    e = e.join(prep.participant_attributes(agency=False), on="participant_id", how="inner")
    e = e.with_columns(pl.col("event_date").alias("_date"))
    return prep.attribution_filter(e.filter(prep.in_period(pl.col("_date"))))


def participant_base(prep: Prepared, date: pl.Expr) -> pl.LazyFrame:
    p = prep.participants.lazy().with_columns(
        pl.col("supervising_agency_id").alias("agency_id"), date.alias("_date")
    )
    return prep.attribution_filter(p.filter(prep.in_period(pl.col("_date"))))


def police_base(prep: Prepared) -> pl.LazyFrame:
    c = prep.tables.police_contacts.lazy().filter(pl.col("contact_date") <= prep.as_of)
    attrs = prep.participant_attributes(agency=False).rename({"program_id": "_participant_program"})
    attrs = attrs.with_columns(pl.lit(True).alias("_known"))
    c = c.join(attrs, on="participant_id", how="left")
    # A contact dated on or before the as-of date counts with its participant's
    # recorded program (when it has none of its own) and cohort. A participant
    # filter keeps only contacts of matching participants, so contacts with no
    # (known) participant go.
    if prep.participant_filtered:
        c = c.filter(pl.col("_known").fill_null(False))
    c = c.with_columns(
        pl.coalesce(pl.col("program_id"), pl.col("_participant_program")).alias("program_id"),
        pl.col("contact_date").alias("_date"),
    )
    return prep.attribution_filter(c.filter(prep.in_period(pl.col("_date"))))


def flag(cond: pl.Expr) -> pl.Expr:
    return cond.fill_null(False).cast(pl.Int64)


def recidivism_base(prep: Prepared, measures: set[str]) -> pl.LazyFrame:
    """Participants with ``index_date`` and, per measure, ``first_<measure>_date``
    (see :mod:`dashboard.metrics.recidivism`, shared with the pilot evaluation)."""
    p = prep.participants.lazy().with_columns(index_date_expr())
    firsts = first_matching_events(p, prep.tables.recidivism_events, measures, prep.as_of)
    p = p.join(firsts, on="participant_id", how="left")
    p = p.with_columns(pl.col("supervising_agency_id").alias("agency_id"), pl.col("index_date").alias("_date"))
    return prep.attribution_filter(p.filter(prep.in_period(pl.col("_date"))))


def violation_units(prep: Prepared) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(violations, exposure): both attributed to the participant's program,
    supervising agency and cohort. ``violations`` rows count 1 each;
    ``exposure`` rows carry ``_lo``/``_hi`` and ``_days`` per participant."""
    v = prep.tables.violations.lazy().filter(pl.col("violation_date") <= prep.as_of)
    v = v.join(prep.participant_attributes(agency=True), on="participant_id", how="inner")
    v = v.with_columns(pl.col("supervising_agency_id").alias("agency_id"), pl.col("violation_date").alias("_date"))
    v = prep.attribution_filter(v.filter(prep.in_period(pl.col("_date"))))
    p = prep.participants.lazy().filter(pl.col("supervision_type") != "none")
    low = pl.col("enrollment_date")
    if prep.filters.start is not None:
        low = pl.max_horizontal(low, pl.lit(prep.filters.start))
    high = pl.coalesce(pl.col("exit_date"), pl.lit(prep.as_of))
    if prep.filters.end is not None:
        high = pl.min_horizontal(high, pl.lit(prep.filters.end))
    p = p.with_columns(
        pl.col("supervising_agency_id").alias("agency_id"),
        low.alias("_lo"),
        high.alias("_hi"),
    ).with_columns(pl.max_horizontal((pl.col("_hi") - pl.col("_lo")).dt.total_days() + 1, pl.lit(0)).alias("_days"))
    return v, prep.attribution_filter(p)


def prepare(tables: Tables, filters: Filters) -> Prepared:
    """:class:`Prepared` at the as-of date the filters resolve to."""
    return Prepared(tables, filters, resolve_as_of(tables, filters.as_of))
