"""The pilot evaluation: pilot vs comparison for one program or all pooled (docs/metrics.md, pilot evaluation; README, numbers from the command line).

For each recidivism measure (rearrest, reconviction, reincarceration):

- **Windows** (6, 12, 24, 36 calendar months): each cohort's rate among the
  eligible participants with its Wilson interval, the difference pilot −
  comparison with Newcombe's hybrid-score interval, the pooled two-proportion
  z-test p-value, and risk-adjusted rates (direct standardisation of each
  cohort to the ``risk_level`` mix of both cohorts' eligible participants).
  Who is eligible and who recidivated is defined once, in
  :mod:`dashboard.metrics.recidivism`, shared with the ``metrics`` command.
- **Survival**: Kaplan–Meier time to the first matching event per cohort over
  every participant whose index date is on or before the as-of date
  (censored at the as-of date), read at 90, 180, 365 and 730 days, and the
  log-rank test between the cohorts.
- **Baseline equivalence** (What Works Clearinghouse) over the same
  participants as the survival analysis.

For employment and stable housing (when reintegration checks are stored):
windows 6 and 12 with the same rates, intervals, difference, test and
risk-adjusted rates, over the participants in the rate's denominator (status
at W defined once, in :mod:`dashboard.metrics.reintegration`, shared with
the ``employment_rate_{W}m`` and ``stable_housing_rate_{W}m`` metrics); no
survival or log-rank entries. A cohort with nobody in the denominator shows
0/0, unsuppressed, with no difference or test.

Suppression (k = ``min_cell_size``; 0 turns it off): a window cell is
suppressed exactly when the ``metrics`` output under the same k and filters
suppresses the same number — the (program_id, cohort) row for one program, the
cohort row when pooled — so the two outputs cannot be subtracted from each
other. Differences, tests and risk-adjusted rates that use a suppressed cell
are withheld. A survival entry is suppressed when its cohort has fewer than k
participants or 1..k−1 events (its log-rank test is then withheld); a baseline
entry when either cohort has fewer than k participants.

Speed (docs/performance.md, "Pilot evaluation and survival curves"): what the
evaluation needs of each participant and does not depend on the filters — index
date, first matching event per measure, status at 6 and 12 months — is one
frame (:func:`participant_facts`) that the dashboard finds once per load run and
as-of date and every call filters; a caller asks only for the ``parts`` it shows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

import polars as pl

from dashboard import stats
from dashboard.contract import COHORTS, RISK_LEVELS
from dashboard.metrics import reintegration
from dashboard.metrics.kinds import compact_keys
from dashboard.metrics.recidivism import (
    MEASURES,
    WINDOWS_MONTHS,
    first_event_column,
    first_matching_events,
    metric_id,
    outcomes_in_window,
    participants_with_index_date,
)
from dashboard.metrics.tables import Filters, Tables, resolve_as_of, value_in
from dashboard.settings import DEFAULT_MIN_CELL_SIZE

SURVIVAL_DAYS: tuple[int, ...] = (90, 180, 365, 730)
PILOT, COMPARISON = COHORTS  # ("pilot", "comparison")
BINARY_COVARIATES: tuple[str, ...] = ("risk_high", "risk_moderate", "sex_female", "supervision_parole")
BASELINE_COVARIATES: tuple[str, ...] = ("age_at_enrollment", *BINARY_COVARIATES)
SEXES_FOR_SHARE: tuple[str, ...] = ("female", "male", "other")

REASON_SUPPRESSED = "withheld: it uses a cohort rate that is suppressed (small cell)"
REASON_NO_ELIGIBLE = "no eligible participants in either cohort"

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

ALL_MEASURES: tuple[str, ...] = (*MEASURES, *reintegration.MEASURES)
"""Every measure ``evaluate`` knows: the recidivism measures, then employment and stable
housing (reported only when reintegration checks are stored)."""


def _check_measure(measure: str) -> None:
    if measure not in ALL_MEASURES:
        raise ValueError(f"unknown measure {measure!r}; choose one of: {', '.join(ALL_MEASURES)}")


def _measure_windows(measure: str) -> list[tuple[int, str]]:
    """(window in months, metric id of the rate) of one measure, in window order."""
    if measure in reintegration.MEASURES:
        return [(w, reintegration.metric_id(measure, w)) for w in reintegration.WINDOWS_MONTHS]
    return [(w, metric_id(measure, w)) for w in WINDOWS_MONTHS]


def evaluation_metric_ids(measures: Sequence[str] | None = None) -> list[str]:
    """The ``metrics`` ids whose rows :func:`evaluate` checks its suppression against, for these
    measures (default all): a caller that has those rows already passes them as ``metric_rows``."""
    chosen = ALL_MEASURES if not measures else tuple(dict.fromkeys(measures))
    for measure in chosen:
        _check_measure(measure)
    return [mid for measure in chosen for _, mid in _measure_windows(measure)]


# --- participants in scope and their facts -------------------------------------------


def _participants_in_scope(tables: Tables, filters: Filters) -> pl.DataFrame:
    """Participants the evaluation may use, before the as-of and index-date rules."""
    return _in_scope(tables.participants, filters)


def _in_scope(people: FrameT, filters: Filters) -> FrameT:
    """Keep the participants the evaluation may use, before the as-of and index-date rules.

    The recidivism metrics attribute a participant to their own program and
    supervising agency, so ``--program`` / ``--agency`` filter those columns;
    the participant filters (cohort, risk level, supervision type, sex,
    race/ethnicity, age band) keep the listed values (``None`` = null).
    The period is applied later, to the index date. Row order is kept.
    """
    from dashboard.metrics.tables import age_band_expr

    if filters.program_ids:
        people = people.filter(pl.col("program_id").is_in(list(filters.program_ids)))
    if filters.agency_ids:
        people = people.filter(value_in(pl.col("supervising_agency_id"), filters.agency_ids))
    wanted = filters.participant_filters
    if "age_band" in wanted:
        people = people.with_columns(age_band_expr())
    for column, values in wanted.items():
        people = people.filter(value_in(pl.col(column), values))
    if "age_band" in wanted:
        people = people.drop("age_band")
    return people


def _in_period(frame: FrameT, filters: Filters) -> FrameT:
    """Keep rows whose ``index_date`` is in the user's period (the recidivism metrics' period date)."""
    if filters.start is not None:
        frame = frame.filter(pl.col("index_date") >= filters.start)
    if filters.end is not None:
        frame = frame.filter(pl.col("index_date") <= filters.end)
    return frame


@dataclasses.dataclass(frozen=True)
class ParticipantFacts:
    """What the evaluation needs of each participant that depends on the load run and the
    as-of date but not on the filters (docs/performance.md, "Pilot evaluation").

    ``frame``: every participant enrolled by ``as_of`` (all participant columns, in the
    table's order) with ``index_date``, ``first_<measure>_date`` for each measure of
    ``measures`` (see :mod:`dashboard.metrics.recidivism`) and, when ``statuses`` is True,
    the columns of :func:`reintegration.with_statuses` for 6 and 12 months. Each fact is a
    participant's own, so filtering this frame gives exactly the rows that finding the
    facts again for the filtered participants would give; the dashboard computes it once
    per (database, load run, as-of date) and every session and filter setting filters it.
    """

    as_of: dt.date
    measures: tuple[str, ...]
    statuses: bool
    frame: pl.DataFrame


def participant_facts(
    tables: Tables,
    as_of: dt.date,
    *,
    participants: pl.DataFrame | None = None,
    measures: Sequence[str] = ALL_MEASURES,
) -> ParticipantFacts:
    """The :class:`ParticipantFacts` of ``participants`` (default: every participant) at ``as_of``.

    ``measures``: the evaluation measures whose facts are wanted (first matching events of the
    recidivism measures; the statuses when employment or stable housing is wanted and
    reintegration checks are stored). One query, so polars plans the joins together.
    """
    recidivism = tuple(m for m in MEASURES if m in measures)
    statuses = (any(m in reintegration.MEASURES for m in measures)
                and reintegration.has_checks(tables.reintegration_checks))
    chosen = tables.participants if participants is None else participants
    people = participants_with_index_date(chosen, as_of)
    # The participants' own order is kept (a float sum such as the baseline's Hedges' g
    # depends on it in its last digit), whatever order the joins leave.
    frame = people.lazy().with_row_index("_row")
    if statuses:
        # Everyone's facts (the dashboard's): their statuses are the frame the reintegration metrics
        # keep once per set of tables (no filter or as-of date changes them), so they are found once.
        # A few participants' (the command line) are found from their own checks.
        from dashboard.metrics.families.reintegration import statuses_of_everyone

        known = statuses_of_everyone(tables) if participants is None else None
        frame = reintegration.with_statuses(frame, tables.reintegration_checks, known=known)
    if recidivism:
        firsts = first_matching_events(people, tables.recidivism_events, recidivism, as_of)
        frame = frame.join(firsts, on="participant_id", how="left")
    # Text columns (program, agency, statuses) as categoricals: the facts live as long as their
    # tables, a row per participant (docs/performance.md, "Memory, round 3").
    frame = compact_keys(frame.sort("_row").drop("_row"), keep=("participant_id",))
    return ParticipantFacts(as_of, recidivism, statuses, frame.collect())


def _usable_facts(facts: ParticipantFacts | None, as_of: dt.date, measures: Sequence[str]) -> bool:
    """Whether ``facts`` were computed at this as-of date for every recidivism measure wanted."""
    if facts is None:
        return False
    if facts.as_of != as_of:
        raise ValueError(f"the participant facts are as of {facts.as_of}, the evaluation as of {as_of}")
    wants_statuses = any(m in reintegration.MEASURES for m in measures)
    has_firsts = all(m in facts.measures for m in measures if m in MEASURES)
    return has_firsts and (facts.statuses or not wants_statuses)


def _scoped_facts(
    tables: Tables, filters: Filters, as_of: dt.date, measures: Sequence[str], facts: ParticipantFacts | None
) -> pl.DataFrame:
    """The facts of the participants in scope: filtered from ``facts`` when given, else found now
    for the participants in scope only (the command line, tests)."""
    if _usable_facts(facts, as_of, measures):
        assert facts is not None
        return _in_scope(facts.frame, filters)
    return participant_facts(
        tables, as_of, participants=_participants_in_scope(tables, filters), measures=measures
    ).frame


def evaluation_metric_rows(
    tables: Tables,
    filters: Filters,
    metric_ids: Sequence[str],
    *,
    min_cell_size: int,
    facts: ParticipantFacts | None = None,
) -> pl.DataFrame:
    """``compute_metrics(tables, filters, metric_ids=metric_ids)``, the same frame, with the
    recidivism, employment, housing and check-coverage rates built from ``facts`` when they
    were found at the filters' as-of date.

    Those rates count the participants in scope whose index date is in the period, with their
    first matching events (recidivism) or their statuses (reintegration): the rows of the facts
    after the filters. The engine's own units, roll-ups and suppression
    (:func:`dashboard.metrics.engine.units_metrics`) run over them, without searching the
    events again (docs/performance.md, "Pilot evaluation"). Each metric is computed and
    suppressed on its own, so the parts put in the engine's metric order are the frame one
    call would give.
    """
    from dashboard.metrics.engine import compute_metrics, units_metrics
    from dashboard.metrics.families import recidivism as recidivism_family
    from dashboard.metrics.families import reintegration as reintegration_family
    from dashboard.metrics.registry import METRIC_IDS

    as_of = resolve_as_of(tables, filters.as_of)
    wanted = [m for m in METRIC_IDS if m in set(metric_ids)]
    recidivism = {m for m in wanted if m in _MEASURE_OF}
    statuses = {m for m in wanted if m in reintegration.METRIC_IDS}
    if recidivism and not _usable_facts(facts, as_of, tuple({_MEASURE_OF[m] for m in recidivism})):
        recidivism = set()
    if facts is None or facts.as_of != as_of:
        statuses = set()
    if not recidivism and not statuses:
        return compute_metrics(tables, filters, min_cell_size=min_cell_size, metric_ids=wanted)
    assert facts is not None
    # Lazy, so only the columns the rates use are filtered out of the facts.
    base = _in_period(_in_scope(facts.frame.lazy(), filters), filters).with_columns(
        pl.col("supervising_agency_id").alias("agency_id")
    )
    units = recidivism_family.rate_units(base, as_of, recidivism) if recidivism else []
    if statuses:
        people = base.select("participant_id", "program_id", "agency_id", "cohort", "index_date")
        units += reintegration_family.rate_units(people, tables, as_of, statuses)
    frames = [units_metrics(units, min_cell_size=min_cell_size)]
    if rest := [m for m in wanted if m not in recidivism and m not in statuses]:
        frames.append(compute_metrics(tables, filters, min_cell_size=min_cell_size, metric_ids=rest))
    order = {m: i for i, m in enumerate(wanted)}
    combined = pl.concat(frames, how="vertical")
    position = combined.get_column("metric").replace_strict(order, return_dtype=pl.Int64)
    return combined.with_columns(position.alias("_order")).sort("_order", maintain_order=True).drop("_order")


_MEASURE_OF: dict[str, str] = {metric_id(m, w): m for m in MEASURES for w in WINDOWS_MONTHS}
"""Recidivism metric id -> its measure."""


# --- windows ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Cell:
    numerator: int
    denominator: int
    suppressed: bool


def _cell_json(cell: _Cell) -> dict[str, Any]:
    if cell.suppressed:
        return {"numerator": None, "denominator": None, "rate": None, "ci_low": None, "ci_high": None,
                "suppressed": True}
    interval = stats.wilson_interval(cell.numerator, cell.denominator)
    return {
        "numerator": cell.numerator,
        "denominator": cell.denominator,
        "rate": cell.numerator / cell.denominator if cell.denominator else None,
        "ci_low": interval[0] if interval else None,
        "ci_high": interval[1] if interval else None,
        "suppressed": False,
    }


_Counts = dict[tuple[str | None, str | None], tuple[int, int]]
"""(cohort, risk_level) -> (eligible participants n, with the outcome k)."""


def _counts_query(eligible: pl.LazyFrame | pl.DataFrame, outcome: str) -> pl.LazyFrame:
    """The per (cohort, risk level) counts a window entry is made of (see :func:`_counts_table`)."""
    return eligible.lazy().group_by("cohort", "risk_level").agg(
        pl.len().alias("n"), pl.col(outcome).sum().alias("k")
    )


def _counts_table(counts: pl.DataFrame) -> _Counts:
    return {(r["cohort"], r["risk_level"]): (int(r["n"]), int(r["k"])) for r in counts.iter_rows(named=True)}


def risk_adjusted_rates(eligible: pl.DataFrame, outcome: str = "recidivated") -> dict[str, Any]:
    """Direct standardisation of each cohort's rate to the pooled eligible ``risk_level`` mix.

    With nₛ the eligible participants of both cohorts in risk stratum s and N
    their total, weight wₛ = nₛ / N and the adjusted rate of cohort c is
    Σₛ wₛ · kc,ₛ / nc,ₛ. A stratum empty in both cohorts has weight 0; a
    stratum with eligible participants in one cohort only leaves the rate of
    the other undefined, so all three numbers are null with the reason.
    ``eligible`` (the rate's denominator, one row per participant) needs
    ``cohort``, ``risk_level`` and the 0/1 ``outcome`` column.
    """
    return _risk_adjusted_from_counts(_counts_table(_counts_query(eligible, outcome).collect()))


def _risk_adjusted_from_counts(table: _Counts) -> dict[str, Any]:
    """:func:`risk_adjusted_rates` from the (cohort, risk level) counts."""
    total = sum(n for n, _ in table.values())
    null = {"pilot": None, "comparison": None, "difference": None}
    if total == 0:
        return {**null, "reason": REASON_NO_ELIGIBLE}
    one_sided: list[str] = []
    for level in RISK_LEVELS:
        in_pilot = table.get((PILOT, level), (0, 0))[0] > 0
        in_comparison = table.get((COMPARISON, level), (0, 0))[0] > 0
        if in_pilot != in_comparison:
            only = PILOT if in_pilot else COMPARISON
            one_sided.append(f"{level} ({only} only)")
    if one_sided:
        return {
            **null,
            "reason": "risk level stratum with eligible participants in one cohort only: " + ", ".join(one_sided),
        }
    adjusted: dict[str, float] = {}
    for cohort in (PILOT, COMPARISON):
        value = 0.0
        for level in RISK_LEVELS:
            n_both = table.get((PILOT, level), (0, 0))[0] + table.get((COMPARISON, level), (0, 0))[0]
            if n_both == 0:
                continue  # weight 0
            n_c, k_c = table[(cohort, level)]
            value += (n_both / total) * (k_c / n_c)
        adjusted[cohort] = value
    return {
        "pilot": adjusted[PILOT],
        "comparison": adjusted[COMPARISON],
        "difference": adjusted[PILOT] - adjusted[COMPARISON],
        "reason": None,
    }


def _cohort_numbers(table: _Counts, cohort: str) -> tuple[int, int]:
    """(numerator, denominator) of one cohort: its counts summed over the risk levels."""
    rows = [nk for (c, _), nk in table.items() if c == cohort]
    return sum(k for _, k in rows), sum(n for n, _ in rows)


def _window_entry(table: _Counts, measure: str, window: int, suppressed: dict[str, bool]) -> dict[str, Any]:
    cells: dict[str, _Cell] = {}
    for cohort in (PILOT, COMPARISON):
        cells[cohort] = _Cell(*_cohort_numbers(table, cohort), suppressed[cohort])
    pilot, comparison = cells[PILOT], cells[COMPARISON]
    any_suppressed = pilot.suppressed or comparison.suppressed
    difference: dict[str, Any] = {"value": None, "ci_low": None, "ci_high": None}
    p_value: float | None = None
    if any_suppressed:
        risk = {"pilot": None, "comparison": None, "difference": None, "reason": REASON_SUPPRESSED}
    else:
        newcombe = stats.newcombe_difference(
            pilot.numerator, pilot.denominator, comparison.numerator, comparison.denominator
        )
        if newcombe is not None:
            difference = {"value": newcombe[0], "ci_low": newcombe[1], "ci_high": newcombe[2]}
        p_value = stats.two_proportion_z_test(
            pilot.numerator, pilot.denominator, comparison.numerator, comparison.denominator
        )
        risk = _risk_adjusted_from_counts(table)
    return {
        "measure": measure,
        "window_months": window,
        "pilot": _cell_json(pilot),
        "comparison": _cell_json(comparison),
        "difference": difference,
        "p_value": p_value,
        "risk_adjusted": risk,
    }


# --- link to the metrics output ------------------------------------------------------


def _metric_suppression(
    tables: Tables,
    filters: Filters,
    *,
    program_id: str | None,
    measures: Sequence[str],
    min_cell_size: int,
    known: pl.DataFrame | None = None,
    facts: ParticipantFacts | None = None,
) -> dict[tuple[str, int, str], tuple[bool, int | None, int | None]]:
    """(measure, window, cohort) -> (suppressed, numerator, denominator) as ``metrics`` prints them.

    Reads the (program_id, cohort) row for one program, the cohort row when
    pooled. A cohort with no row (no eligible participant) is absent.
    ``known``: ``compute_metrics`` rows the caller already has under the same filters and
    k (suppressed numbers may be blanked); each metric is computed and suppressed on its
    own, so only the metrics missing from it are computed here (from ``facts`` when given:
    :func:`evaluation_metric_rows`).
    """
    by_id = {mid: (m, w) for m in measures for w, mid in _measure_windows(m)}
    frames = []
    missing = list(by_id)
    if known is not None:
        have = set(known.get_column("metric").unique().to_list()) if known.height else set()
        frames.append(known.filter(pl.col("metric").is_in(list(by_id))))
        missing = [m for m in by_id if m not in have]
    if missing:
        frames.append(evaluation_metric_rows(tables, filters, missing, min_cell_size=min_cell_size,
                                             facts=facts))
    want_keys = ["program_id", "cohort"] if program_id is not None else ["cohort"]
    out: dict[tuple[str, int, str], tuple[bool, int | None, int | None]] = {}
    for frame in frames:
        for row in frame.iter_rows(named=True):
            if row["metric"] not in by_id or list(row["group_by"]) != want_keys:
                continue
            group = row["group"]
            if program_id is not None and group.get("program_id") != program_id:
                continue
            cohort = group.get("cohort")
            measure, window = by_id[row["metric"]]
            out[(measure, window, cohort)] = (bool(row["suppressed"]), row["numerator"], row["denominator"])
    return out


# --- survival -----------------------------------------------------------------------


def _survival_population(people: FrameT, as_of: dt.date) -> FrameT:
    """Participants whose index date is on or before the as-of date (with ``index_date``)."""
    return people.filter(pl.col("index_date") <= as_of)


def survival_times(population: FrameT, as_of: dt.date) -> FrameT:
    """``time`` (days from the index date to the first matching event, else to the as-of
    date) and ``event`` (bool), for a frame with ``index_date`` and ``first_event_date``."""
    return population.with_columns(
        pl.col("first_event_date").is_not_null().alias("event"),
        (
            pl.coalesce(pl.col("first_event_date"), pl.lit(as_of, dtype=pl.Date)) - pl.col("index_date")
        ).dt.total_days().alias("time"),
    )


def _is_small(count: int, k: int) -> bool:
    return k > 0 and 1 <= count <= k - 1


def _survival_entries(
    population: pl.DataFrame, measure: str, k: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    arrays: dict[str, tuple[Any, Any]] = {}
    any_suppressed = False
    for cohort in (PILOT, COMPARISON):
        rows = population.filter(pl.col("cohort") == cohort)
        durations = rows["time"].to_numpy()
        events = rows["event"].to_numpy()
        arrays[cohort] = (durations, events)
        n = len(durations)
        n_events = int(events.sum())
        suppressed = k > 0 and (n < k or _is_small(n_events, k))
        any_suppressed = any_suppressed or suppressed
        if suppressed:
            entries.append({"measure": measure, "cohort": cohort, "n": None, "events": None,
                            "suppressed": True, "points": []})
            continue
        curve = stats.kaplan_meier(durations, events)
        points: list[dict[str, float | int | None]] = []
        for day in SURVIVAL_DAYS:
            point = curve.at(day)
            if point is None:
                points.append({"day": day, "survival": None, "ci_low": None, "ci_high": None, "at_risk": 0})
            else:
                points.append({"day": day, "survival": point.survival, "ci_low": point.ci_low,
                               "ci_high": point.ci_high, "at_risk": point.at_risk})
        entries.append({"measure": measure, "cohort": cohort, "n": n, "events": n_events,
                        "suppressed": False, "points": points})
    logrank: dict[str, Any] = {"measure": measure, "chi2": None, "p_value": None}
    if not any_suppressed:
        result = stats.logrank_test(*arrays[PILOT], *arrays[COMPARISON])
        if result is not None:
            logrank["chi2"], logrank["p_value"] = result
    return entries, logrank


# --- baseline equivalence -----------------------------------------------------------


def _share(rows: pl.DataFrame, condition: pl.Expr, among: pl.Expr | None = None) -> float | None:
    if among is not None:
        rows = rows.filter(among)
    if rows.height == 0:
        return None
    return float(rows.select(condition.cast(pl.Int64).sum()).item()) / rows.height


def _binary_definitions() -> dict[str, tuple[pl.Expr, pl.Expr | None]]:
    """Each binary covariate: (who has it, among whom the share is taken; None = everyone)."""
    return {
        "risk_high": (pl.col("risk_level") == "high", None),
        "risk_moderate": (pl.col("risk_level") == "moderate", None),
        "sex_female": (pl.col("sex") == "female", pl.col("sex").is_in(list(SEXES_FOR_SHARE))),
        "supervision_parole": (pl.col("supervision_type") == "parole", None),
    }


def baseline_share_counts(
    tables: Tables, filters: Filters, *, program_id: str | None = None, facts: ParticipantFacts | None = None
) -> dict[str, dict[str, tuple[int, int]]]:
    """The counts behind the baseline shares: covariate -> cohort -> (participants with the
    characteristic, participants the share is taken among), over the same participants as
    :func:`evaluate`'s baseline (index date on or before the as-of date, in the period).

    Not part of the ``evaluate`` output: the dashboard uses it to withhold a share that,
    beside the cohort's N, would give a count of 1 to k − 1 back (see "Disclosure control
    across a view" in docs/metrics.md). ``facts``: as for :func:`evaluate`.
    """
    if program_id is not None:
        filters = dataclasses.replace(filters, program_ids=(program_id,))
    as_of = resolve_as_of(tables, filters.as_of)
    population = _baseline_population(tables, filters, as_of, facts)
    # One pass over the population: per cohort, who has each characteristic among whom the share
    # is taken (a null characteristic or "among" counts as not having it, as a filter drops it).
    aggregations = []
    for covariate, (condition, among) in _binary_definitions().items():
        has = condition if among is None else condition & among
        taken_among = pl.len() if among is None else among.cast(pl.Int64).sum()
        aggregations += [has.cast(pl.Int64).sum().alias(f"{covariate}:count"),
                         taken_among.alias(f"{covariate}:among")]
    grouped = population.lazy().group_by("cohort").agg(aggregations).collect()
    per_cohort = {row["cohort"]: row for row in grouped.iter_rows(named=True)}
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for covariate in _binary_definitions():
        out[covariate] = {}
        for cohort in (PILOT, COMPARISON):
            row = per_cohort.get(cohort)
            if row is None:
                out[covariate][cohort] = (0, 0)
                continue
            count, among = row[f"{covariate}:count"], row[f"{covariate}:among"]
            out[covariate][cohort] = (int(count or 0), int(among or 0))
    return out


def _baseline_population(
    tables: Tables, filters: Filters, as_of: dt.date, facts: ParticipantFacts | None
) -> pl.DataFrame:
    """The participants of the survival analysis and the baseline: in scope, enrolled by the
    as-of date, index date in the period and on or before the as-of date (no event needed);
    only the columns the baseline uses (lazy, so only those are filtered)."""
    if facts is not None and facts.as_of == as_of:
        people = _in_scope(facts.frame.lazy(), filters)
    else:
        people = participants_with_index_date(_participants_in_scope(tables, filters), as_of).lazy()
    return _survival_population(_in_period(people, filters), as_of).select(_baseline_columns()).collect()


def baseline_equivalence(population: pl.DataFrame, k: int) -> list[dict[str, Any]]:
    """WWC baseline equivalence of the cohorts in ``population`` (docs/metrics.md).

    Age by Hedges' g over participants with a recorded age; the binary
    covariates by the Cox index of their shares (sex_female among sex female,
    male or other). ``pilot``/``comparison`` are the cohort means (shares for
    binary covariates).
    """
    cohorts = {c: population.filter(pl.col("cohort") == c) for c in (PILOT, COMPARISON)}
    suppressed = k > 0 and any(frame.height < k for frame in cohorts.values())
    entries: list[dict[str, Any]] = []
    if suppressed:
        for covariate in BASELINE_COVARIATES:
            entries.append({"covariate": covariate, "pilot": None, "comparison": None, "effect_size": None,
                            "label": None, "suppressed": True})
        return entries

    ages = {c: f["age_at_enrollment"].drop_nulls().cast(pl.Float64).to_list() for c, f in cohorts.items()}
    g = stats.hedges_g(ages[PILOT], ages[COMPARISON])
    entries.append({
        "covariate": "age_at_enrollment",
        "pilot": sum(ages[PILOT]) / len(ages[PILOT]) if ages[PILOT] else None,
        "comparison": sum(ages[COMPARISON]) / len(ages[COMPARISON]) if ages[COMPARISON] else None,
        "effect_size": g,
        "label": stats.wwc_label(g),
        "suppressed": False,
    })
    definitions = _binary_definitions()
    for covariate in BINARY_COVARIATES:
        condition, among = definitions[covariate]
        p_pilot = _share(cohorts[PILOT], condition, among)
        p_comparison = _share(cohorts[COMPARISON], condition, among)
        effect = stats.cox_index(p_pilot, p_comparison)
        entries.append({
            "covariate": covariate,
            "pilot": p_pilot,
            "comparison": p_comparison,
            "effect_size": effect,
            "label": stats.wwc_label(effect),
            "suppressed": False,
        })
    return entries


# --- the evaluation -----------------------------------------------------------------


PARTS: tuple[str, ...] = ("windows", "survival", "baseline")
"""The parts of an evaluation a caller may ask for (``evaluate(..., parts=...)``)."""


def _chosen_measures(tables: Tables, measures: Sequence[str] | None) -> list[str]:
    chosen = list(ALL_MEASURES if not measures else dict.fromkeys(measures))
    for measure in chosen:
        _check_measure(measure)
    # Employment and housing are reported only when reintegration checks are stored (the
    # table as stored, whatever the filters), so a contract version 1 extract gives
    # exactly the evaluation it gave before.
    if not reintegration.has_checks(tables.reintegration_checks):
        chosen = [m for m in chosen if m not in reintegration.MEASURES]
    return chosen


def _evaluated_filters(tables: Tables, filters: Filters, program_id: str | None) -> Filters:
    """The filters of the evaluation: the program's own when one is evaluated, the as-of resolved."""
    if program_id is not None:
        if filters.program_ids and program_id not in filters.program_ids:
            raise ValueError(
                f"program {program_id!r} is outside the program filter {list(filters.program_ids)}; "
                "pass the program once, either as program_id or in the filters"
            )
        filters = dataclasses.replace(filters, program_ids=(program_id,))
    return dataclasses.replace(filters, as_of=resolve_as_of(tables, filters.as_of))


def _window_queries(
    scoped: pl.DataFrame, measure: str, as_of: dt.date
) -> list[tuple[int, str, pl.LazyFrame]]:
    """(window, outcome column, per (cohort, risk level) counts) of each window of a measure,
    from the participants in scope and period with their facts."""
    if measure in reintegration.MEASURES:
        return [
            (window, "achieved", _counts_query(reintegration.outcomes_from_statuses(
                scoped, measure=measure, window_months=window, as_of=as_of), "achieved"))
            for window, _ in _measure_windows(measure)
        ]
    first = scoped.lazy().select(
        "cohort", "risk_level", "index_date", pl.col(first_event_column(measure)).alias("first_event_date")
    )
    return [(window, "recidivated", _counts_query(outcomes_in_window(first, window, as_of), "recidivated"))
            for window in WINDOWS_MONTHS]


def _survival_query(scoped: pl.DataFrame, measure: str, as_of: dt.date) -> pl.LazyFrame:
    """``cohort``, ``time`` and ``event`` of the survival analysis of one recidivism measure."""
    first = scoped.lazy().select(
        "cohort", "index_date", pl.col(first_event_column(measure)).alias("first_event_date")
    )
    return survival_times(_survival_population(first, as_of), as_of).select("cohort", "time", "event")


def _baseline_columns() -> list[str]:
    return ["cohort", "age_at_enrollment", "risk_level", "sex", "supervision_type"]


def evaluate(
    tables: Tables,
    filters: Filters,
    *,
    program_id: str | None = None,
    measures: Sequence[str] | None = None,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    parts: Sequence[str] | None = None,
    facts: ParticipantFacts | None = None,
    metric_rows: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """The pilot evaluation as the JSON object of the ``evaluate`` command (README, numbers from the command line).

    ``program_id``: one program (None: every program the filters keep, pooled).
    ``measures``: subset of rearrest, reconviction, reincarceration, employment,
    stable_housing (default all, in that order; employment and stable_housing
    only when the reintegration_checks table holds rows). The as-of date is ``filters.as_of`` resolved as for
    ``metrics``. Floats are not rounded; undefined numbers are ``None``.

    For the dashboard, which asks for parts of the same evaluation under many filters
    (docs/performance.md, "Pilot evaluation"): ``parts`` (default :data:`PARTS`, all) leaves
    the lists of the other parts empty, each part's entries unchanged; ``facts``
    (:func:`participant_facts` at the same as-of date) is filtered instead of finding each
    participant's facts again; ``metric_rows`` are ``compute_metrics`` rows the caller already
    has under exactly the evaluation's filters and k, so those metrics are not computed again.
    """
    if min_cell_size < 0:
        raise ValueError("min_cell_size must be 0 (no suppression) or more")
    wanted = PARTS if parts is None else tuple(parts)
    if unknown := [p for p in wanted if p not in PARTS]:
        raise ValueError(f"unknown evaluation part {unknown[0]!r}; choose from: {', '.join(PARTS)}")
    chosen = _chosen_measures(tables, measures)
    filters = _evaluated_filters(tables, filters, program_id)
    as_of, k = filters.as_of, min_cell_size
    assert as_of is not None
    scoped = _in_period(_scoped_facts(tables, filters, as_of, chosen, facts), filters)
    recidivism = [m for m in chosen if m in MEASURES] if "survival" in wanted else []
    window_queries = {m: _window_queries(scoped, m, as_of) for m in chosen} if "windows" in wanted else {}
    queries = [q for qs in window_queries.values() for _, _, q in qs]
    queries += [_survival_query(scoped, m, as_of) for m in recidivism]
    if "baseline" in wanted:
        queries.append(_survival_population(scoped.lazy(), as_of).select(_baseline_columns()))
    collected = iter(pl.collect_all(queries))

    windows: list[dict[str, Any]] = []
    if window_queries:
        metric_cells = _metric_suppression(
            tables, filters, program_id=program_id, measures=chosen, min_cell_size=k, known=metric_rows,
            facts=facts,
        )
        for measure, qs in window_queries.items():
            for window, _, _ in qs:
                table = _counts_table(next(collected))
                suppressed = _suppression_of_cells(metric_cells, table, measure, window)
                windows.append(_window_entry(table, measure, window, suppressed))
    survival: list[dict[str, Any]] = []
    logrank: list[dict[str, Any]] = []
    for measure in recidivism:
        entries, test = _survival_entries(next(collected), measure, k)
        survival.extend(entries)
        logrank.append(test)
    return {
        "as_of": as_of.isoformat(),
        "program_id": program_id,
        "min_cell_size": k,
        "windows": windows,
        "survival": survival,
        "logrank": logrank,
        "baseline": baseline_equivalence(next(collected), k) if "baseline" in wanted else [],
    }


def _suppression_of_cells(
    metric_cells: dict[tuple[str, int, str], tuple[bool, int | None, int | None]],
    table: _Counts,
    measure: str,
    window: int,
) -> dict[str, bool]:
    """Each cohort's suppression flag as ``metrics`` prints it (checking that the numbers agree)."""
    suppressed = {}
    for cohort in (PILOT, COMPARISON):
        flag, numerator, denominator = metric_cells.get((measure, window, cohort), (False, 0, 0))
        _check_same_numbers(table, measure, window, cohort, flag, numerator, denominator)
        suppressed[cohort] = flag
    return suppressed


def _check_same_numbers(
    table: _Counts,
    measure: str,
    window: int,
    cohort: str,
    suppressed: bool,
    numerator: int | None,
    denominator: int | None,
) -> None:
    """The evaluation and ``metrics`` share one definition; a mismatch is a bug, never shown."""
    if suppressed:
        return
    mine = _cohort_numbers(table, cohort)
    theirs = (int(numerator or 0), int(denominator or 0))
    if mine != theirs:
        metric = dict(_measure_windows(measure))[window]
        raise RuntimeError(
            f"internal inconsistency: {metric} for the {cohort} cohort is "
            f"{theirs[0]}/{theirs[1]} in metrics but {mine[0]}/{mine[1]} in the evaluation. "
            "Nothing was printed; please report this with the command you ran."
        )
