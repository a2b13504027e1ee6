"""An independent, deliberately plain reading of SPEC §3 (metrics and pilot windows).

Written from SPEC.md §2–4 and the contract only, without looking at the
engine, so that :mod:`tests.test_reference_spec` can compare the two row by
row. Everything here is dicts, loops and :mod:`datetime`: slow, but easy to
check against the SPEC's sentences, which are quoted next to the code that
implements them.

Entry points:

- :func:`reference_metrics` -> ``{(metric, group_by, group_values): row}``
  where ``row`` has ``numerator``, ``denominator``, ``value``, ``ci_low``,
  ``ci_high`` and ``suppressed`` (numbers ``None`` when suppressed, as in
  ``metrics --format json``).
- :func:`reference_windows` -> the ``windows`` list of ``evaluate`` as
  ``{(measure, window_months): entry}``.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import math
import statistics
from dataclasses import dataclass
from typing import Any, Iterable

# z for a two-sided 95% interval, from the normal quantile (not the rounded 1.96).
Z95 = statistics.NormalDist().inv_cdf(0.975)
DAYS_PER_MONTH = 30.4375

GROUPINGS: tuple[tuple[str, ...], ...] = (
    (),
    ("program_id",),
    ("agency_id",),
    ("cohort",),
    ("program_id", "cohort"),
)
MEASURES: dict[str, tuple[str, ...]] = {
    "rearrest": ("arrest",),
    "reconviction": ("conviction",),
    "reincarceration": ("incarceration", "revocation"),
}
WINDOWS = (6, 12, 24, 36)
TERMINAL_REFERRAL = {"completed", "declined", "no_show", "closed_unsuccessful"}
DECIDED_EXIT = {"completed", "revoked", "absconded"}
DIVERTED = {"resolved_on_scene", "referred_to_services", "transported_to_treatment"}

METRIC_IDS: tuple[str, ...] = (
    "referral_completion_rate",
    "referral_acceptance_rate",
    "median_days_to_service",
    "compliance_rate",
    "violation_rate_per_100_pm",
    "program_completion_rate",
    "reentry_plan_rate",
    *(f"recidivism_{m}_{w}m" for m in MEASURES for w in WINDOWS),
    "police_diversion_rate",
)

Key = tuple[str, tuple[str, ...], tuple[Any, ...]]


# --- small helpers -------------------------------------------------------------------


def add_months(d: dt.date, months: int) -> dt.date:
    """``d + months`` calendar months, clipped to the end of the month (31 Jan + 1 = 28/29 Feb)."""
    total = d.month - 1 + months
    year, month = d.year + total // 12, total % 12 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


def wilson(successes: int, n: int) -> tuple[float, float]:
    """Wilson score 95% interval, no continuity correction."""
    z2 = Z95 * Z95
    p = successes / n
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return centre - half, centre + half


def _rows(frame: Any) -> list[dict[str, Any]]:
    """A polars frame (or a list of dicts) as a list of plain dicts."""
    if frame is None:
        return []
    if isinstance(frame, list):
        return frame
    return frame.to_dicts()  # type: ignore[no-any-return]


def _key_sort(value: Any) -> tuple[int, str]:
    """Order of one group key: lowest as a string, null last."""
    return (1, "") if value is None else (0, str(value))


def resolve_as_of(tables: Any, explicit: dt.date | None) -> dt.date:
    """SPEC §3: explicit; else the as-of of the most recent load run (by load time);
    else the latest of the listed event dates and enrollment dates."""
    if explicit is not None:
        return explicit
    runs = [r for r in _rows(tables.load_runs) if r.get("kind") != "check" and r.get("as_of") is not None]
    if runs:
        return max(runs, key=lambda r: r["started_at"])["as_of"]  # type: ignore[no-any-return]
    dates: list[dt.date] = []
    for table, column in (
        ("referrals", "referral_date"),
        ("supervision_events", "event_date"),
        ("violations", "violation_date"),
        ("recidivism_events", "event_date"),
        ("police_contacts", "contact_date"),
        ("participants", "enrollment_date"),
    ):
        dates += [r[column] for r in _rows(getattr(tables, table)) if r[column] is not None]
    return max(dates) if dates else dt.date.today()


# --- units: one per counted thing, with its attribution ------------------------------


@dataclass
class Unit:
    """One counted row: its group keys, whether it is in the numerator/denominator.

    For the median, ``amount`` holds the days; for violation exposure, the days
    under supervision (and ``den`` is False for violations, True for exposure).
    """

    program_id: Any
    agency_id: Any
    cohort: Any
    num: bool
    den: bool
    amount: float = 0.0
    risk: Any = None

    def key(self, grouping: tuple[str, ...]) -> tuple[Any, ...]:
        return tuple(getattr(self, g) for g in grouping)


@dataclass
class Scope:
    """The filter setting and the as-of date."""

    as_of: dt.date
    start: dt.date | None
    end: dt.date | None
    program_ids: tuple[str, ...]
    agency_ids: tuple[str, ...]

    def in_period(self, d: dt.date | None) -> bool:
        """Inclusive ``[start, end]``; a null date is in the period only when no period is set."""
        if self.start is None and self.end is None:
            return True
        if d is None:
            return False
        if self.start is not None and d < self.start:
            return False
        return not (self.end is not None and d > self.end)

    def attributed(self, program_id: Any, agency_id: Any) -> bool:
        """``--program`` / ``--agency`` apply to each metric's own attribution."""
        if self.program_ids and program_id not in self.program_ids:
            return False
        return not (self.agency_ids and agency_id not in self.agency_ids)


def _participants(tables: Any, as_of: dt.date) -> dict[str, dict[str, Any]]:
    """Participants enrolled on or before the as-of; an exit after it counts as no exit."""
    out: dict[str, dict[str, Any]] = {}
    for p in _rows(tables.participants):
        if p["enrollment_date"] > as_of:
            continue
        p = dict(p)
        if p["exit_date"] is not None and p["exit_date"] > as_of:
            p["exit_date"] = None
            p["exit_reason"] = None
        p["index_date"] = p["release_date"] or p["enrollment_date"]
        out[p["participant_id"]] = p
    return out


def build_units(tables: Any, scope: Scope, drop_orphans: bool = False) -> dict[str, list[Unit]]:
    """Every metric's units after the as-of cut-off, period and attribution filters.

    By SPEC's letter only rows *dated* after the as-of are left out, so a
    referral, supervision event, violation or police contact dated by the
    as-of stays even when its participant enrolls after it, attributed through
    the participant as recorded ("the cohort always comes from the
    participant"). ``drop_orphans=True`` is the other defensible reading,
    kept for comparison: such rows (but police contacts) go with their
    participant, and contacts count as having no participant.
    """
    as_of = scope.as_of
    people = _participants(tables, as_of)
    all_people = {p["participant_id"]: p for p in _rows(tables.participants)}
    units: dict[str, list[Unit]] = {m: [] for m in METRIC_IDS}
    exposure: list[Unit] = []

    def person(pid: Any) -> dict[str, Any] | None:
        if pid is None:
            return None
        if pid in people:
            return people[pid]
        return None if drop_orphans else all_people.get(pid)

    def add(
        metric: str, program: Any, agency: Any, cohort: Any, num: bool, den: bool,
        amount: float = 0.0, risk: Any = None,
    ) -> None:
        if scope.attributed(program, agency):
            units[metric].append(Unit(program, agency, cohort, num, den, amount, risk))

    # referrals: agency = provider; program/cohort = participant's; period on referral_date
    for r in _rows(tables.referrals):
        p = person(r["participant_id"])
        if p is None or r["referral_date"] > as_of or not scope.in_period(r["referral_date"]):
            continue
        prog, ag, coh = p["program_id"], r["provider_agency_id"], p["cohort"]
        st = r["status"]
        add("referral_completion_rate", prog, ag, coh, st == "completed", st in TERMINAL_REFERRAL)
        add(
            "referral_acceptance_rate", prog, ag, coh,
            st != "pending" and r["accepted_date"] is not None, st != "pending",
        )
        if r["service_start_date"] is not None:
            days = (r["service_start_date"] - r["referral_date"]).days
            add("median_days_to_service", prog, ag, coh, False, True, float(days))

    # supervision events: agency = the event's; period on event_date
    for e in _rows(tables.supervision_events):
        p = person(e["participant_id"])
        if p is None or e["event_date"] > as_of or not scope.in_period(e["event_date"]):
            continue
        if not e["required"]:
            continue
        add(
            "compliance_rate", p["program_id"], e["agency_id"], p["cohort"],
            e["outcome"] == "compliant", e["outcome"] in {"compliant", "non_compliant", "missed"},
        )

    # violations: agency = participant's supervising agency (numerator and exposure alike)
    for v in _rows(tables.violations):
        p = person(v["participant_id"])
        if p is None or v["violation_date"] > as_of or not scope.in_period(v["violation_date"]):
            continue
        add("violation_rate_per_100_pm", p["program_id"], p["supervising_agency_id"], p["cohort"], True, False)
    for p in people.values():
        if p["supervision_type"] == "none":
            continue
        lo = p["enrollment_date"] if scope.start is None else max(p["enrollment_date"], scope.start)
        hi = p["exit_date"] or as_of
        if scope.end is not None:
            hi = min(hi, scope.end)
        days = (hi - lo).days + 1
        if days > 0 and scope.attributed(p["program_id"], p["supervising_agency_id"]):
            exposure.append(Unit(p["program_id"], p["supervising_agency_id"], p["cohort"], False, True, float(days)))

    # participant-based metrics: agency = supervising agency
    events_by_person: dict[Any, list[dict[str, Any]]] = {}
    for ev in _rows(tables.recidivism_events):
        if ev["event_date"] <= as_of:
            events_by_person.setdefault(ev["participant_id"], []).append(ev)
    for p in people.values():
        prog, ag, coh = p["program_id"], p["supervising_agency_id"], p["cohort"]
        if scope.in_period(p["exit_date"]) and p["exit_date"] is not None:
            reason = p["exit_reason"]
            if reason in DECIDED_EXIT:
                add("program_completion_rate", prog, ag, coh, reason == "completed", True)
        if p["release_date"] is not None and scope.in_period(p["release_date"]):
            plan = p["reentry_plan_date"]
            add("reentry_plan_rate", prog, ag, coh, plan is not None and plan <= p["release_date"], True)
        index = p["index_date"]
        if not scope.in_period(index):
            continue
        for w in WINDOWS:
            until = add_months(index, w)
            if until > as_of:
                continue
            for measure, types in MEASURES.items():
                hit = any(
                    ev["event_type"] in types and index < ev["event_date"] <= until
                    for ev in events_by_person.get(p["participant_id"], [])
                )
                add(f"recidivism_{measure}_{w}m", prog, ag, coh, hit, True, risk=p["risk_level"])

    # police contacts: program = its own, else its participant's; cohort = participant's
    for c in _rows(tables.police_contacts):
        if c["contact_date"] > as_of or not scope.in_period(c["contact_date"]):
            continue
        # The contact is dated by the as-of, so it is not left out. With drop_orphans, a
        # participant enrolled after the as-of is left out and the contact counts as one with
        # no participant; without, it takes its participant's recorded program and cohort.
        p = person(c["participant_id"])
        prog = c["program_id"] if c["program_id"] is not None else (p["program_id"] if p else None)
        add("police_diversion_rate", prog, c["agency_id"], p["cohort"] if p else None, c["outcome"] in DIVERTED, True)

    units["__exposure__"] = exposure
    return units


# --- rows and suppression ------------------------------------------------------------


def _raw_rows(units: dict[str, list[Unit]]) -> dict[Key, dict[str, Any]]:
    """Every (metric, grouping, group) with a denominator above zero, unsuppressed."""
    out: dict[Key, dict[str, Any]] = {}
    for metric in METRIC_IDS:
        for grouping in GROUPINGS:
            if metric == "violation_rate_per_100_pm":
                viol: dict[tuple[Any, ...], int] = {}
                days: dict[tuple[Any, ...], float] = {}
                for u in units[metric]:
                    viol[u.key(grouping)] = viol.get(u.key(grouping), 0) + 1
                for u in units["__exposure__"]:
                    days[u.key(grouping)] = days.get(u.key(grouping), 0.0) + u.amount
                for key in set(viol) | set(days):
                    num, months = viol.get(key, 0), days.get(key, 0.0) / DAYS_PER_MONTH
                    if num == 0 and months == 0:
                        continue
                    out[(metric, grouping, key)] = {
                        "numerator": num, "denominator": months,
                        "value": 100 * num / months if months > 0 else None,
                        "ci_low": None, "ci_high": None,
                    }
            elif metric == "median_days_to_service":
                values: dict[tuple[Any, ...], list[float]] = {}
                for u in units[metric]:
                    values.setdefault(u.key(grouping), []).append(u.amount)
                for key, vals in values.items():
                    out[(metric, grouping, key)] = {
                        "numerator": None, "denominator": len(vals),
                        "value": float(statistics.median(vals)), "ci_low": None, "ci_high": None,
                    }
            else:
                cells: dict[tuple[Any, ...], list[int]] = {}
                for u in units[metric]:
                    cell = cells.setdefault(u.key(grouping), [0, 0])
                    cell[0] += int(u.num and u.den)
                    cell[1] += int(u.den)
                for key, (num, den) in cells.items():
                    if den == 0:
                        continue
                    lo, hi = wilson(num, den)
                    out[(metric, grouping, key)] = {
                        "numerator": num, "denominator": den, "value": num / den,
                        "ci_low": lo, "ci_high": hi,
                    }
    return out


def _small(row: dict[str, Any], k: int) -> bool:
    """Denominator below k, or numerator from 1 to k - 1."""
    if row["denominator"] < k:
        return True
    num = row["numerator"]
    return num is not None and 1 <= num <= k - 1


def _sets(metric: str, rows: dict[Key, dict[str, Any]]) -> list[tuple[Key, list[Key]]]:
    """The additive sets of one metric, in the SPEC's visiting order: (total, members)."""
    overall = (metric, (), ())
    by_grouping: dict[tuple[str, ...], list[Key]] = {g: [] for g in GROUPINGS}
    for key in rows:
        if key[0] == metric:
            by_grouping[key[1]].append(key)
    sets: list[tuple[Key, list[Key]]] = []
    for g in GROUPINGS[1:]:
        sets.append((overall, by_grouping[g]))
    pc = by_grouping[("program_id", "cohort")]
    programs = sorted({k[2][0] for k in pc}, key=_key_sort)
    cohorts = sorted({k[2][1] for k in pc}, key=_key_sort)
    for prog in programs:
        sets.append(((metric, ("program_id",), (prog,)), [k for k in pc if k[2][0] == prog]))
    for coh in cohorts:
        sets.append(((metric, ("cohort",), (coh,)), [k for k in pc if k[2][1] == coh]))
    return sets


def suppress(rows: dict[Key, dict[str, Any]], k: int) -> None:
    """Small-cell, then complementary suppression, in place (flags only)."""
    for row in rows.values():
        row["suppressed"] = k > 0 and _small(row, k)
    if k <= 0:
        return
    for metric in METRIC_IDS:
        sets = _sets(metric, rows)
        changed = True
        while changed:
            changed = False
            for total, members in sets:
                # The total counts as one more cell of its set: act when exactly one
                # cell of {total} + members is suppressed.
                if total not in rows or not members:
                    continue
                hidden = [m for m in (total, *members) if rows[m]["suppressed"]]
                if len(hidden) != 1:
                    continue
                shown = [m for m in members if not rows[m]["suppressed"]]
                if shown:
                    pick = min(
                        shown,
                        key=lambda m: (rows[m]["denominator"], tuple(_key_sort(v) for v in m[2])),
                    )
                    rows[pick]["suppressed"] = True
                else:
                    rows[total]["suppressed"] = True
                changed = True


def reference_metrics(
    tables: Any,
    *,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    program_ids: Iterable[str] = (),
    agency_ids: Iterable[str] = (),
    min_cell_size: int = 11,
    drop_orphans: bool = False,
) -> dict[Key, dict[str, Any]]:
    """Every metric for every grouping, suppressed as SPEC §3 words it."""
    scope = Scope(resolve_as_of(tables, as_of), start, end, tuple(program_ids), tuple(agency_ids))
    rows = _raw_rows(build_units(tables, scope, drop_orphans))
    suppress(rows, min_cell_size)
    for row in rows.values():
        if row["suppressed"]:
            for name in ("numerator", "denominator", "value", "ci_low", "ci_high"):
                row[name] = None
    return rows


# --- pilot evaluation windows --------------------------------------------------------


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def newcombe(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float, float]:
    """p1 - p2 with the Newcombe hybrid-score interval (method 10, no continuity correction)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1)
    l2, u2 = wilson(x2, n2)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def z_test_p(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided pooled two-proportion z-test; None when the standard error is 0."""
    if n1 == 0 or n2 == 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return None
    z = (x1 / n1 - x2 / n2) / se
    return 2 * (1 - _phi(abs(z)))


def reference_windows(
    tables: Any,
    *,
    program_id: str | None = None,
    as_of: dt.date | None = None,
    min_cell_size: int = 11,
) -> dict[tuple[str, int], dict[str, Any]]:
    """The ``windows`` of ``evaluate``: per measure and window, each cohort's cell,
    the difference, the p-value and the risk-adjusted rates."""
    scope = Scope(resolve_as_of(tables, as_of), None, None, (program_id,) if program_id else (), ())
    units = build_units(tables, scope)
    metrics = reference_metrics(
        tables, as_of=scope.as_of, program_ids=scope.program_ids, min_cell_size=min_cell_size
    )
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for measure in MEASURES:
        for w in WINDOWS:
            metric = f"recidivism_{measure}_{w}m"
            cells: dict[str, dict[str, Any]] = {}
            for cohort in ("pilot", "comparison"):
                num = sum(1 for u in units[metric] if u.cohort == cohort and u.num)
                den = sum(1 for u in units[metric] if u.cohort == cohort)
                if program_id is None:
                    key: Key = (metric, ("cohort",), (cohort,))
                else:
                    key = (metric, ("program_id", "cohort"), (program_id, cohort))
                row = metrics.get(key)
                hidden = bool(row and row["suppressed"])
                cell: dict[str, Any] = {"numerator": num, "denominator": den, "suppressed": hidden}
                if den:
                    cell["rate"] = num / den
                    cell["ci_low"], cell["ci_high"] = wilson(num, den)
                else:
                    cell["rate"] = cell["ci_low"] = cell["ci_high"] = None
                if hidden:
                    for name in ("numerator", "denominator", "rate", "ci_low", "ci_high"):
                        cell[name] = None
                cells[cohort] = cell
            pilot, comp = cells["pilot"], cells["comparison"]
            entry: dict[str, Any] = {"pilot": pilot, "comparison": comp}
            any_hidden = pilot["suppressed"] or comp["suppressed"]
            if any_hidden or not pilot["denominator"] or not comp["denominator"]:
                entry["difference"] = {"value": None, "ci_low": None, "ci_high": None}
                entry["p_value"] = None
            else:
                d, lo, hi = newcombe(pilot["numerator"], pilot["denominator"], comp["numerator"], comp["denominator"])
                entry["difference"] = {"value": d, "ci_low": lo, "ci_high": hi}
                entry["p_value"] = z_test_p(
                    pilot["numerator"], pilot["denominator"], comp["numerator"], comp["denominator"]
                )
            entry["risk_adjusted"] = None if any_hidden else _risk_adjusted(
                [u for u in units[metric] if u.cohort in ("pilot", "comparison")]
            )
            out[(measure, w)] = entry
    return out


def _risk_adjusted(units: list[Unit]) -> dict[str, Any]:
    """Direct standardization of each cohort's rate to the risk mix of both
    cohorts' eligible participants together; null with the reason when a
    stratum has eligible participants in one cohort only."""
    cells: dict[tuple[str, Any], list[int]] = {}
    for u in units:
        cell = cells.setdefault((u.cohort, u.risk), [0, 0])
        cell[0] += int(u.num)
        cell[1] += 1
    total = len(units)
    strata = sorted({u.risk for u in units}, key=_key_sort)
    one_sided = [s for s in strata if ("pilot", s) not in cells or ("comparison", s) not in cells]
    if total == 0 or one_sided:
        return {"pilot": None, "comparison": None, "difference": None, "one_sided": one_sided}
    rates = {}
    for cohort in ("pilot", "comparison"):
        rates[cohort] = sum(
            (cells[("pilot", s)][1] + cells[("comparison", s)][1]) / total
            * cells[(cohort, s)][0] / cells[(cohort, s)][1]
            for s in strata
        )
    return {"pilot": rates["pilot"], "comparison": rates["comparison"],
            "difference": rates["pilot"] - rates["comparison"], "one_sided": []}


# --- survival, log-rank, baseline equivalence ----------------------------------------------

SURVIVAL_DAYS = (90, 180, 365, 730)


def _survival_people(tables: Any, as_of: dt.date, program_id: str | None) -> list[dict[str, Any]]:
    """Participants (enrolled by the as-of) whose index date is on or before the as-of."""
    return [
        p for p in _participants(tables, as_of).values()
        if p["index_date"] <= as_of and (program_id is None or p["program_id"] == program_id)
    ]


def survival_time(p: dict[str, Any], events: list[dict[str, Any]], types: tuple[str, ...], as_of: dt.date) -> tuple[int, bool]:
    """(days, event?): to the first matching event strictly after the index date and on or
    before the as-of; else censored at the as-of."""
    dates = [e["event_date"] for e in events if e["event_type"] in types and p["index_date"] < e["event_date"] <= as_of]
    if dates:
        return (min(dates) - p["index_date"]).days, True
    return (as_of - p["index_date"]).days, False


def _counts(times: list[tuple[int, bool]]) -> tuple[list[int], dict[int, int]]:
    """Sorted times (for at-risk counts by bisection) and events per time."""
    deaths: dict[int, int] = {}
    for t, e in times:
        if e:
            deaths[t] = deaths.get(t, 0) + 1
    return sorted(t for t, _ in times), deaths


def _at_risk(sorted_times: list[int], t: int) -> int:
    """Number whose time is at least ``t``."""
    return len(sorted_times) - bisect.bisect_left(sorted_times, t)


def kaplan_meier_at(times: list[tuple[int, bool]], day: int) -> dict[str, Any]:
    """S(day) with the log(-log) Greenwood interval and the number at risk (time >= day)."""
    sorted_times, deaths = _counts(times)
    at_risk = _at_risk(sorted_times, day)
    if at_risk == 0:
        return {"day": day, "survival": None, "ci_low": None, "ci_high": None, "at_risk": 0}
    s, var = 1.0, 0.0
    for t in sorted(t for t in deaths if t <= day):
        n, d = _at_risk(sorted_times, t), deaths[t]
        s *= 1 - d / n
        var += d / (n * (n - d)) if n > d else math.inf
    lo: float | None
    hi: float | None
    if s == 1.0:
        lo = hi = 1.0
    elif s == 0.0 or math.isinf(var):
        lo = hi = None
    else:
        se = math.sqrt(var) / abs(math.log(s))
        lo, hi = s ** math.exp(Z95 * se), s ** math.exp(-Z95 * se)
    return {"day": day, "survival": s, "ci_low": lo, "ci_high": hi, "at_risk": at_risk}


def logrank(a: list[tuple[int, bool]], b: list[tuple[int, bool]]) -> tuple[float | None, float | None]:
    """Two-group log-rank chi-square (1 df) and p-value; None when the variance is 0."""
    (sa, da), (sb, db) = _counts(a), _counts(b)
    observed = expected = variance = 0.0
    for t in sorted(set(da) | set(db)):
        n1, n2 = _at_risk(sa, t), _at_risk(sb, t)
        d1 = da.get(t, 0)
        d = d1 + db.get(t, 0)
        n = n1 + n2
        observed += d1
        expected += d * n1 / n
        if n > 1:
            variance += n1 * n2 * d * (n - d) / (n * n * (n - 1))
    if variance <= 0:
        return None, None
    chi2 = (observed - expected) ** 2 / variance
    return chi2, math.erfc(math.sqrt(chi2 / 2))


def reference_survival(
    tables: Any, *, program_id: str | None = None, as_of: dt.date | None = None, min_cell_size: int = 11
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, tuple[float | None, float | None]]]:
    """Survival entries by (measure, cohort) and log-rank by measure, suppressed per SPEC."""
    when = resolve_as_of(tables, as_of)
    k = min_cell_size
    people = _survival_people(tables, when, program_id)
    events: dict[Any, list[dict[str, Any]]] = {}
    for e in _rows(tables.recidivism_events):
        events.setdefault(e["participant_id"], []).append(e)
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    tests: dict[str, tuple[float | None, float | None]] = {}
    for measure, types in MEASURES.items():
        times: dict[str, list[tuple[int, bool]]] = {}
        for cohort in ("pilot", "comparison"):
            times[cohort] = [
                survival_time(p, events.get(p["participant_id"], []), types, when)
                for p in people if p["cohort"] == cohort
            ]
            n, ev = len(times[cohort]), sum(1 for _, e in times[cohort] if e)
            hidden = k > 0 and (n < k or 1 <= ev <= k - 1)
            entries[(measure, cohort)] = {
                "n": None if hidden else n, "events": None if hidden else ev, "suppressed": hidden,
                "points": [] if hidden else [kaplan_meier_at(times[cohort], d) for d in SURVIVAL_DAYS],
            }
        if entries[(measure, "pilot")]["suppressed"] or entries[(measure, "comparison")]["suppressed"]:
            tests[measure] = (None, None)
        else:
            tests[measure] = logrank(times["pilot"], times["comparison"])
    return entries, tests


def _cox(p1: float | None, p2: float | None) -> float | None:
    if p1 is None or p2 is None or p1 in (0.0, 1.0) or p2 in (0.0, 1.0):
        return None
    return (math.log(p1 / (1 - p1)) - math.log(p2 / (1 - p2))) / 1.65


def _label(effect: float | None) -> str | None:
    if effect is None:
        return None
    if abs(effect) <= 0.05:
        return "equivalent"
    return "adjustment_needed" if abs(effect) <= 0.25 else "not_equivalent"


def reference_baseline(
    tables: Any, *, program_id: str | None = None, as_of: dt.date | None = None, min_cell_size: int = 11
) -> dict[str, dict[str, Any]]:
    """WWC baseline equivalence over the survival population, by covariate."""
    when = resolve_as_of(tables, as_of)
    people = _survival_people(tables, when, program_id)
    groups = {c: [p for p in people if p["cohort"] == c] for c in ("pilot", "comparison")}
    hidden = min_cell_size > 0 and any(len(g) < min_cell_size for g in groups.values())
    out: dict[str, dict[str, Any]] = {}

    ages = {c: [p["age_at_enrollment"] for p in g if p["age_at_enrollment"] is not None] for c, g in groups.items()}
    a, b = ages["pilot"], ages["comparison"]
    mean_a = sum(a) / len(a) if a else None
    mean_b = sum(b) / len(b) if b else None
    g_eff = None
    if len(a) >= 2 and len(b) >= 2:
        var_a = sum((x - mean_a) ** 2 for x in a) / (len(a) - 1)  # type: ignore[operator]
        var_b = sum((x - mean_b) ** 2 for x in b) / (len(b) - 1)  # type: ignore[operator]
        pooled = math.sqrt(((len(a) - 1) * var_a + (len(b) - 1) * var_b) / (len(a) + len(b) - 2))
        if pooled > 0:
            big_n = len(a) + len(b)
            g_eff = (mean_a - mean_b) / pooled * (1 - 3 / (4 * big_n - 9))  # type: ignore[operator]
    out["age_at_enrollment"] = {"pilot": mean_a, "comparison": mean_b, "effect_size": g_eff}

    def share(rows: list[dict[str, Any]], test: Any, among: Any = None) -> float | None:
        base = [r for r in rows if among is None or among(r)]
        return sum(1 for r in base if test(r)) / len(base) if base else None

    binaries = {
        "risk_high": (lambda r: r["risk_level"] == "high", None),
        "risk_moderate": (lambda r: r["risk_level"] == "moderate", None),
        "sex_female": (lambda r: r["sex"] == "female", lambda r: r["sex"] in ("female", "male", "other")),
        "supervision_parole": (lambda r: r["supervision_type"] == "parole", None),
    }
    for name, (test, among) in binaries.items():
        p1, p2 = share(groups["pilot"], test, among), share(groups["comparison"], test, among)
        out[name] = {"pilot": p1, "comparison": p2, "effect_size": _cox(p1, p2)}
    for entry in out.values():
        entry["label"] = _label(entry["effect_size"])
        entry["suppressed"] = hidden
        if hidden:
            entry.update(pilot=None, comparison=None, effect_size=None, label=None)
    return out
