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


def build_units(tables: Any, scope: Scope, drop_orphans: bool = True) -> dict[str, list[Unit]]:
    """Every metric's units after the as-of cut-off, period and attribution filters.

    ``drop_orphans``: referrals, supervision events and violations of a
    participant enrolled after the as-of are left out with the participant
    (they cannot exist without their participant, whose program and cohort
    they take). Police contacts need no participant: one dated by the as-of
    stays, as a contact with no participant. With ``drop_orphans=False`` the
    other rows stay too, attributed through the participant as recorded.
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
        # The contact is dated by the as-of, so it is not left out; a participant enrolled
        # after the as-of is left out, so the contact counts as one with no participant.
        p = people.get(c["participant_id"]) if c["participant_id"] is not None else None
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
                if total not in rows or rows[total]["suppressed"]:
                    continue
                hidden = [m for m in members if rows[m]["suppressed"]]
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
    drop_orphans: bool = True,
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
