"""The pilot evaluation as it was before per-participant facts (kept to prove the new code gives the same JSON).

A frozen copy of dashboard/evaluation.py at 32f2a63; tests/test_evaluation_facts.py compares against it."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl

from dashboard import stats
from dashboard.contract import COHORTS, RISK_LEVELS
from dashboard.metrics import reintegration
from dashboard.metrics.recidivism import (
    MEASURES,
    WINDOWS_MONTHS,
    metric_id,
    outcomes_in_window,
    with_first_event,
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


# --- participants in scope ----------------------------------------------------------


def _participants_in_scope(tables: Tables, filters: Filters) -> pl.DataFrame:
    """Participants the evaluation may use, before the as-of and index-date rules.

    The recidivism metrics attribute a participant to their own program and
    supervising agency, so ``--program`` / ``--agency`` filter those columns;
    the participant filters (cohort, risk level, supervision type, sex,
    race/ethnicity, age band) keep the listed values (``None`` = null).
    The period is applied later, to the index date.
    """
    from dashboard.metrics.tables import age_band_expr

    people = tables.participants
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


def _in_period(frame: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Keep rows whose ``index_date`` is in the user's period (the recidivism metrics' period date)."""
    if filters.start is not None:
        frame = frame.filter(pl.col("index_date") >= filters.start)
    if filters.end is not None:
        frame = frame.filter(pl.col("index_date") <= filters.end)
    return frame


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
    counts = eligible.group_by("cohort", "risk_level").agg(
        pl.len().alias("n"), pl.col(outcome).sum().alias("k")
    )
    table = {(r["cohort"], r["risk_level"]): (int(r["n"]), int(r["k"])) for r in counts.iter_rows(named=True)}
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


def _window_entry(
    eligible: pl.DataFrame,
    measure: str,
    window: int,
    suppressed: dict[str, bool],
    outcome: str = "recidivated",
) -> dict[str, Any]:
    cells: dict[str, _Cell] = {}
    for cohort in (PILOT, COMPARISON):
        rows = eligible.filter(pl.col("cohort") == cohort)
        cells[cohort] = _Cell(int(rows[outcome].sum()), rows.height, suppressed[cohort])
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
        risk = risk_adjusted_rates(eligible, outcome)
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
) -> dict[tuple[str, int, str], tuple[bool, int | None, int | None]]:
    """(measure, window, cohort) -> (suppressed, numerator, denominator) as ``metrics`` prints them.

    Reads the (program_id, cohort) row for one program, the cohort row when
    pooled. A cohort with no row (no eligible participant) is absent.
    """
    from dashboard.metrics.engine import compute_metrics

    by_id = {mid: (m, w) for m in measures for w, mid in _measure_windows(m)}
    frame = compute_metrics(tables, filters, min_cell_size=min_cell_size, metric_ids=list(by_id))
    want_keys = ["program_id", "cohort"] if program_id is not None else ["cohort"]
    out: dict[tuple[str, int, str], tuple[bool, int | None, int | None]] = {}
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


def _survival_population(people: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Participants whose index date is on or before the as-of date (with ``index_date``)."""
    return people.filter(pl.col("index_date") <= as_of)


def survival_times(population: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
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
    arrays: dict[str, tuple[list[int], list[bool]]] = {}
    any_suppressed = False
    for cohort in (PILOT, COMPARISON):
        rows = population.filter(pl.col("cohort") == cohort)
        durations = rows["time"].to_list()
        events = rows["event"].to_list()
        arrays[cohort] = (durations, events)
        n = len(durations)
        n_events = int(sum(events))
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
    tables: Tables, filters: Filters, *, program_id: str | None = None
) -> dict[str, dict[str, tuple[int, int]]]:
    """The counts behind the baseline shares: covariate -> cohort -> (participants with the
    characteristic, participants the share is taken among), over the same participants as
    :func:`evaluate`'s baseline (index date on or before the as-of date, in the period).

    Not part of the ``evaluate`` output: the dashboard uses it to withhold a share that,
    beside the cohort's N, would give a count of 1 to k − 1 back (see "Disclosure control
    across a view" in docs/metrics.md).
    """
    if program_id is not None:
        filters = dataclasses.replace(filters, program_ids=(program_id,))
    as_of = resolve_as_of(tables, filters.as_of)
    people = _participants_in_scope(tables, filters)
    population = _survival_population(
        _in_period(with_first_event(people, tables.recidivism_events, MEASURES[0], as_of), filters), as_of
    )
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for covariate, (condition, among) in _binary_definitions().items():
        out[covariate] = {}
        for cohort in (PILOT, COMPARISON):
            rows = population.filter(pl.col("cohort") == cohort)
            if among is not None:
                rows = rows.filter(among)
            count = int(rows.select(condition.cast(pl.Int64).sum()).item() or 0) if rows.height else 0
            out[covariate][cohort] = (count, rows.height)
    return out


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


# Over 80 lines on purpose: the evaluate JSON assembled in the order of its documented keys (README, numbers
# from the command line).
def evaluate(
    tables: Tables,
    filters: Filters,
    *,
    program_id: str | None = None,
    measures: Sequence[str] | None = None,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
) -> dict[str, Any]:
    """The pilot evaluation as the JSON object of the ``evaluate`` command (README, numbers from the command line).

    ``program_id``: one program (None: every program the filters keep, pooled).
    ``measures``: subset of rearrest, reconviction, reincarceration, employment,
    stable_housing (default all, in that order; employment and stable_housing
    only when the reintegration_checks table holds rows). The as-of date is ``filters.as_of`` resolved as for
    ``metrics``. Floats are not rounded; undefined numbers are ``None``.
    """
    if min_cell_size < 0:
        raise ValueError("min_cell_size must be 0 (no suppression) or more")
    chosen = list(ALL_MEASURES if not measures else dict.fromkeys(measures))
    for measure in chosen:
        _check_measure(measure)
    # Employment and housing are reported only when reintegration checks are stored (the
    # table as stored, whatever the filters), so a contract version 1 extract gives
    # exactly the evaluation it gave before.
    if not reintegration.has_checks(tables.reintegration_checks):
        chosen = [m for m in chosen if m not in reintegration.MEASURES]
    if program_id is not None:
        if filters.program_ids and program_id not in filters.program_ids:
            raise ValueError(
                f"program {program_id!r} is outside the program filter {list(filters.program_ids)}; "
                "pass the program once, either as program_id or in the filters"
            )
        filters = dataclasses.replace(filters, program_ids=(program_id,))
    as_of = resolve_as_of(tables, filters.as_of)
    filters = dataclasses.replace(filters, as_of=as_of)
    k = min_cell_size

    people = _participants_in_scope(tables, filters)
    events = tables.recidivism_events
    metric_cells = _metric_suppression(
        tables, filters, program_id=program_id, measures=chosen, min_cell_size=k
    )

    windows: list[dict[str, Any]] = []
    survival: list[dict[str, Any]] = []
    logrank: list[dict[str, Any]] = []
    population_for_baseline: pl.DataFrame | None = None
    for measure in chosen:
        if measure in reintegration.MEASURES:
            # Rates only: no survival curve or log-rank test for a status at a point in time.
            for window, _ in _measure_windows(measure):
                in_denominator = _in_period(reintegration.reintegration_outcomes(
                    people, tables.reintegration_checks, measure=measure, window_months=window, as_of=as_of
                ), filters)
                suppressed = _suppression_of_cells(metric_cells, in_denominator, measure, window, "achieved")
                windows.append(_window_entry(in_denominator, measure, window, suppressed, "achieved"))
            continue
        # The first matching event is found once per measure; each window only cuts it.
        first_events = with_first_event(people, events, measure, as_of)
        for window in WINDOWS_MONTHS:
            eligible = _in_period(outcomes_in_window(first_events, window, as_of), filters)
            suppressed = _suppression_of_cells(metric_cells, eligible, measure, window, "recidivated")
            windows.append(_window_entry(eligible, measure, window, suppressed))
        with_events = _in_period(first_events, filters)
        population = survival_times(_survival_population(with_events, as_of), as_of)
        if population_for_baseline is None:
            population_for_baseline = population
        entries, test = _survival_entries(population, measure, k)
        survival.extend(entries)
        logrank.append(test)

    if population_for_baseline is None:  # no measure asked for: still describe the cohorts
        population_for_baseline = _survival_population(
            _in_period(with_first_event(people, events, MEASURES[0], as_of), filters), as_of
        )
    return {
        "as_of": as_of.isoformat(),
        "program_id": program_id,
        "min_cell_size": k,
        "windows": windows,
        "survival": survival,
        "logrank": logrank,
        "baseline": baseline_equivalence(population_for_baseline, k),
    }


def _suppression_of_cells(
    metric_cells: dict[tuple[str, int, str], tuple[bool, int | None, int | None]],
    eligible: pl.DataFrame,
    measure: str,
    window: int,
    outcome: str,
) -> dict[str, bool]:
    """Each cohort's suppression flag as ``metrics`` prints it (checking that the numbers agree)."""
    suppressed = {}
    for cohort in (PILOT, COMPARISON):
        flag, numerator, denominator = metric_cells.get((measure, window, cohort), (False, 0, 0))
        _check_same_numbers(eligible, measure, window, cohort, flag, numerator, denominator, outcome)
        suppressed[cohort] = flag
    return suppressed


def _check_same_numbers(
    eligible: pl.DataFrame,
    measure: str,
    window: int,
    cohort: str,
    suppressed: bool,
    numerator: int | None,
    denominator: int | None,
    outcome: str = "recidivated",
) -> None:
    """The evaluation and ``metrics`` share one definition; a mismatch is a bug, never shown."""
    if suppressed:
        return
    rows = eligible.filter(pl.col("cohort") == cohort)
    mine = (int(rows[outcome].sum()), rows.height)
    theirs = (int(numerator or 0), int(denominator or 0))
    if mine != theirs:
        metric = dict(_measure_windows(measure))[window]
        raise RuntimeError(
            f"internal inconsistency: {metric} for the {cohort} cohort is "
            f"{theirs[0]}/{theirs[1]} in metrics but {mine[0]}/{mine[1]} in the evaluation. "
            "Nothing was printed; please report this with the command you ran."
        )
