"""An independent, deliberately plain reading of the contract-version-2 metrics.

Written from the metric definitions of ``docs/metrics.md`` (reintegration,
costs, caseload, surveys) and the data contract only, without looking at the
engine, so that tests can compare the two row by row. Like
:mod:`tests.reference_spec` it is dicts, loops, :mod:`datetime` and
:mod:`fractions`: slow, but each step can be read against a sentence of the
definitions, quoted beside the code.

Entry points:

- :func:`reference_v2_metrics` -> ``{(metric, group_by, group_values): row}``
  with ``numerator``, ``denominator``, ``value``, ``ci_low``, ``ci_high`` and
  ``suppressed`` (numbers ``None`` when suppressed, as ``metrics --format json``
  prints them).
- :func:`reference_v2_windows` -> the employment and stable-housing entries of
  ``evaluate``'s ``windows`` as ``{(measure, window_months): entry}``.

``tables`` is anything with the contract tables as attributes (polars frames
or lists of dicts), e.g. :class:`dashboard.metrics.tables.Tables`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterable

from reference_spec import _key_sort, _rows, add_months, newcombe, resolve_as_of, wilson, z_test_p

Key = tuple[str, tuple[str, ...], tuple[Any, ...]]

PARTICIPANT_GROUPINGS: tuple[tuple[str, ...], ...] = (
    (),
    ("program_id",),
    ("agency_id",),
    ("cohort",),
    ("program_id", "cohort"),
)
SURVEY_GROUPINGS: tuple[tuple[str, ...], ...] = ((), ("program_id",), ("agency_id",), ("respondent_type",))
COST_GROUPINGS: tuple[tuple[str, ...], ...] = ((), ("program_id",))
CASELOAD_GROUPINGS: tuple[tuple[str, ...], ...] = ((), ("agency_id",))

REINTEGRATION_WINDOWS = (6, 12)
EMPLOYMENT_ORDER = ("full_time", "part_time", "unemployed", "not_in_labor_force")
HOUSING_ORDER = ("stable", "transitional", "homeless", "institutional")
QUESTIONS = ("trust", "safety", "satisfaction", "coordination")

REINTEGRATION_IDS = tuple(
    f"{kind}_{w}m"
    for kind in ("employment_rate", "stable_housing_rate", "reintegration_check_coverage")
    for w in REINTEGRATION_WINDOWS
)
COST_IDS = ("cost_per_participant", "cost_per_completion")
SURVEY_IDS = tuple(f"survey_favourable_{q}" for q in QUESTIONS)


@dataclass
class Scope:
    as_of: dt.date
    start: dt.date | None
    end: dt.date | None
    program_ids: tuple[str, ...]
    agency_ids: tuple[str, ...]

    def in_period(self, d: dt.date) -> bool:
        if self.start is not None and d < self.start:
            return False
        return not (self.end is not None and d > self.end)


@dataclass
class Cell:
    """One counted thing with its group keys (``amount`` is money for costs)."""

    keys: dict[str, Any]
    num: Any
    den: Any
    risk: Any = None


# --- participants --------------------------------------------------------------------------


def _enrolled(tables: Any, as_of: dt.date) -> dict[str, dict[str, Any]]:
    """Participants enrolled on or before the as-of; an exit after it counts as no exit."""
    out = {}
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


# --- reintegration -------------------------------------------------------------------------


def _status(checks: list[dict[str, Any]], column: str, order: tuple[str, ...]) -> str | None:
    """The value of the latest check with ``column`` set; on a shared latest date the value
    listed first in the enum order wins."""
    dated = [(c["check_date"], c[column]) for c in checks if c[column] is not None]
    if not dated:
        return None
    latest = max(d for d, _ in dated)
    return min((v for d, v in dated if d == latest), key=order.index)


def reintegration_cells(tables: Any, scope: Scope) -> dict[str, list[Cell]]:
    people = _enrolled(tables, scope.as_of)
    checks_of: dict[str, list[dict[str, Any]]] = {}
    for c in _rows(tables.reintegration_checks):
        checks_of.setdefault(c["participant_id"], []).append(c)
    out: dict[str, list[Cell]] = {m: [] for m in REINTEGRATION_IDS}
    for p in people.values():
        prog, agency = p["program_id"], p["supervising_agency_id"]
        if scope.program_ids and prog not in scope.program_ids:
            continue
        if scope.agency_ids and agency not in scope.agency_ids:
            continue
        index = p["index_date"]
        # Period applies to the index date.
        if not scope.in_period(index):
            continue
        keys = {"program_id": prog, "agency_id": agency, "cohort": p["cohort"]}
        for w in REINTEGRATION_WINDOWS:
            until = add_months(index, w)
            # Eligible: index_date + W months on or before the as-of.
            if until > scope.as_of:
                continue
            window = [c for c in checks_of.get(p["participant_id"], []) if index < c["check_date"] <= until]
            emp = _status(window, "employment", EMPLOYMENT_ORDER)
            out[f"employment_rate_{w}m"].append(Cell(
                keys, emp in ("full_time", "part_time"), emp is not None and emp != "not_in_labor_force",
                p["risk_level"],
            ))
            housing = _status(window, "housing", HOUSING_ORDER)
            out[f"stable_housing_rate_{w}m"].append(Cell(
                keys, housing == "stable", housing is not None, p["risk_level"],
            ))
            out[f"reintegration_check_coverage_{w}m"].append(Cell(keys, bool(window), True, p["risk_level"]))
    return out


# --- costs ---------------------------------------------------------------------------------


def _days(lo: dt.date, hi: dt.date) -> int:
    return max((hi - lo).days + 1, 0)


def cost_cells(tables: Any, scope: Scope) -> dict[str, list[Cell]]:
    """Numerators as money cells (den False), denominators as participant cells (num False)."""
    as_of = scope.as_of
    hi = as_of if scope.end is None else min(scope.end, as_of)
    out: dict[str, list[Cell]] = {m: [] for m in COST_IDS}
    for c in _rows(tables.program_costs):
        prog = c["program_id"]
        if scope.program_ids and prog not in scope.program_ids:
            continue
        lo = c["period_start"] if scope.start is None else max(c["period_start"], scope.start)
        inside = _days(lo, min(c["period_end"], hi))
        share = Fraction(str(c["amount"])) * inside / _days(c["period_start"], c["period_end"])
        for m in COST_IDS:
            out[m].append(Cell({"program_id": prog}, share, 0))
    people = _enrolled(tables, as_of)
    for p in people.values():
        if p["cohort"] != "pilot":
            continue
        prog = p["program_id"]
        if scope.program_ids and prog not in scope.program_ids:
            continue
        # Served: enrolled on or before the period's end and the as-of, not exited before its start.
        served = p["enrollment_date"] <= hi and not (
            scope.start is not None and p["exit_date"] is not None and p["exit_date"] < scope.start
        )
        if served:
            out["cost_per_participant"].append(Cell({"program_id": prog}, Fraction(0), 1))
        done = p["exit_reason"] == "completed" and p["exit_date"] is not None
        if done and p["exit_date"] <= hi and (scope.start is None or p["exit_date"] >= scope.start):
            out["cost_per_completion"].append(Cell({"program_id": prog}, Fraction(0), 1))
    return out


# --- caseload ------------------------------------------------------------------------------


def _month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def caseload_cells(tables: Any, scope: Scope) -> list[Cell]:
    as_of = scope.as_of
    people = [
        p for p in _rows(tables.participants)
        if p["supervising_agency_id"] is not None and p["supervision_type"] != "none"
    ]
    out = []
    for s in _rows(tables.staffing):
        month, agency = s["month"], s["agency_id"]
        if scope.agency_ids and agency not in scope.agency_ids:
            continue
        # A staffing month counts when its first day is in the period and on or before the as-of.
        if month > as_of or not scope.in_period(month):
            continue
        d = min(_month_end(month), as_of)
        active = sum(
            1 for p in people
            if p["supervising_agency_id"] == agency and p["enrollment_date"] <= d
            and (p["exit_date"] is None or p["exit_date"] > d)
        )
        out.append(Cell({"agency_id": agency}, active, Fraction(str(s["officers_fte"]))))
    return out


# --- surveys -------------------------------------------------------------------------------


def survey_cells(tables: Any, scope: Scope) -> dict[str, list[Cell]]:
    program_of = {p["participant_id"]: p["program_id"] for p in _rows(tables.participants)}
    out: dict[str, list[Cell]] = {m: [] for m in SURVEY_IDS}
    for r in _rows(tables.surveys):
        d = r["survey_date"]
        if d > scope.as_of or not scope.in_period(d):
            continue
        prog = r["program_id"] if r["program_id"] is not None else program_of.get(r["participant_id"])
        if scope.program_ids and prog not in scope.program_ids:
            continue
        if scope.agency_ids and r["agency_id"] not in scope.agency_ids:
            continue
        keys = {"program_id": prog, "agency_id": r["agency_id"], "respondent_type": r["respondent_type"]}
        out[f"survey_favourable_{r['question']}"].append(Cell(keys, r["score"] >= 4, True))
    return out


# --- rows and suppression ------------------------------------------------------------------


def _rate_rows(metric: str, cells: list[Cell], groupings: tuple[tuple[str, ...], ...]) -> dict[Key, dict[str, Any]]:
    out: dict[Key, dict[str, Any]] = {}
    for grouping in groupings:
        sums: dict[tuple[Any, ...], list[int]] = {}
        for c in cells:
            s = sums.setdefault(tuple(c.keys[g] for g in grouping), [0, 0])
            s[0] += int(bool(c.num) and bool(c.den))
            s[1] += int(bool(c.den))
        for key, (num, den) in sums.items():
            if den == 0:
                continue
            lo, hi = wilson(num, den)
            out[(metric, grouping, key)] = {
                "numerator": num, "denominator": den, "value": num / den, "ci_low": lo, "ci_high": hi,
            }
    return out


def _ratio_rows(metric: str, cells: list[Cell], groupings: tuple[tuple[str, ...], ...]) -> dict[Key, dict[str, Any]]:
    """Σ num / Σ den per group; a row when Σ den > 0; no interval."""
    out: dict[Key, dict[str, Any]] = {}
    for grouping in groupings:
        sums: dict[tuple[Any, ...], list[Any]] = {}
        for c in cells:
            s = sums.setdefault(tuple(c.keys[g] for g in grouping), [Fraction(0), Fraction(0)])
            s[0] += c.num
            s[1] += c.den
        for key, (num, den) in sums.items():
            if den <= 0:
                continue
            out[(metric, grouping, key)] = {
                "numerator": float(num), "denominator": float(den), "value": float(num / den),
                "ci_low": None, "ci_high": None,
            }
    return out


def _sets(metric: str, rows: dict[Key, dict[str, Any]], groupings: tuple[tuple[str, ...], ...]) -> list[tuple[Key, list[Key]]]:
    """(total, members) in visiting order: each grouping against the overall row, then (for
    the participant groupings) each program's cohorts and each cohort's programs."""
    overall: Key = (metric, (), ())
    by: dict[tuple[str, ...], list[Key]] = {g: [k for k in rows if k[0] == metric and k[1] == g] for g in groupings}
    sets: list[tuple[Key, list[Key]]] = [(overall, by[g]) for g in groupings if g and len(g) == 1]
    if ("program_id", "cohort") in by:
        # The two-key grouping against the overall row comes in the grouping order, after cohort.
        sets.append((overall, by[("program_id", "cohort")]))
        pc = by[("program_id", "cohort")]
        for prog in sorted({k[2][0] for k in pc}, key=_key_sort):
            sets.append(((metric, ("program_id",), (prog,)), [k for k in pc if k[2][0] == prog]))
        for coh in sorted({k[2][1] for k in pc}, key=_key_sort):
            sets.append(((metric, ("cohort",), (coh,)), [k for k in pc if k[2][1] == coh]))
    return sets


def suppress(
    rows: dict[Key, dict[str, Any]], metric: str, groupings: tuple[tuple[str, ...], ...], k: int,
    *, denominator_only: bool = False,
) -> None:
    """Primary, then complementary suppression of one metric's rows, in place (flags only).

    Primary: denominator below k, or (unless ``denominator_only``) numerator from 1 to k - 1.
    Complementary: a set's total counts as one more cell; whenever exactly one cell of a set is
    suppressed, the published member with the smallest denominator (ties: lowest key as a
    string, null last; keys compared in order) is suppressed too; with no published member left
    the total goes. Repeat until nothing changes.
    """
    mine = {key: row for key, row in rows.items() if key[0] == metric}
    for row in mine.values():
        small = row["denominator"] < k
        if not denominator_only and row["numerator"] is not None:
            small = small or 1 <= row["numerator"] <= k - 1
        row["suppressed"] = k > 0 and small
    if k <= 0:
        return
    sets = _sets(metric, mine, groupings)
    changed = True
    while changed:
        changed = False
        for total, members in sets:
            if not members:
                continue
            cells = ([total] if total in mine else []) + members
            hidden = [c for c in cells if mine[c]["suppressed"]]
            if len(hidden) != 1:
                continue
            shown = [m for m in members if not mine[m]["suppressed"]]
            if shown:
                pick = min(shown, key=lambda m: (mine[m]["denominator"], tuple(_key_sort(v) for v in m[2])))
                mine[pick]["suppressed"] = True
            elif total in mine:
                mine[total]["suppressed"] = True
            else:
                continue
            changed = True


def _has_rows(tables: Any, name: str) -> bool:
    return len(_rows(getattr(tables, name, None))) > 0


def reference_v2_raw(tables: Any, scope: Scope) -> tuple[dict[Key, dict[str, Any]], list[tuple[str, tuple[tuple[str, ...], ...], bool]]]:
    """Unsuppressed rows and, per metric, (metric, groupings, denominator-only suppression?)."""
    rows: dict[Key, dict[str, Any]] = {}
    plan: list[tuple[str, tuple[tuple[str, ...], ...], bool]] = []
    if _has_rows(tables, "reintegration_checks"):
        for metric, cells in reintegration_cells(tables, scope).items():
            rows.update(_rate_rows(metric, cells, PARTICIPANT_GROUPINGS))
            plan.append((metric, PARTICIPANT_GROUPINGS, False))
    if _has_rows(tables, "program_costs"):
        for metric, cells in cost_cells(tables, scope).items():
            # A group gets a row when its denominator (participants) is above zero.
            raw = _ratio_rows(metric, cells, COST_GROUPINGS)
            rows.update(raw)
            for key, row in raw.items():
                row["denominator"] = int(row["denominator"])
            plan.append((metric, COST_GROUPINGS, True))
    if _has_rows(tables, "staffing"):
        raw = _ratio_rows("caseload_per_officer", caseload_cells(tables, scope), CASELOAD_GROUPINGS)
        rows.update(raw)
        plan.append(("caseload_per_officer", CASELOAD_GROUPINGS, False))
    if _has_rows(tables, "surveys"):
        for metric, cells in survey_cells(tables, scope).items():
            rows.update(_rate_rows(metric, cells, SURVEY_GROUPINGS))
            plan.append((metric, SURVEY_GROUPINGS, False))
    return rows, plan


def reference_v2_metrics(
    tables: Any,
    *,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    program_ids: Iterable[str] = (),
    agency_ids: Iterable[str] = (),
    min_cell_size: int = 11,
) -> dict[Key, dict[str, Any]]:
    """Every version-2 metric for every grouping, suppressed, numbers blanked when suppressed."""
    scope = Scope(resolve_as_of(tables, as_of), start, end, tuple(program_ids), tuple(agency_ids))
    rows, plan = reference_v2_raw(tables, scope)
    for metric, groupings, denominator_only in plan:
        if metric == "caseload_per_officer":
            # Caseload describes staff, not people: never suppressed.
            for key, row in rows.items():
                if key[0] == metric:
                    row["suppressed"] = False
            continue
        suppress(rows, metric, groupings, min_cell_size, denominator_only=denominator_only)
    for row in rows.values():
        if row["suppressed"]:
            for name in ("numerator", "denominator", "value", "ci_low", "ci_high"):
                row[name] = None
    return rows


# --- pilot evaluation: employment and stable housing ---------------------------------------

EVALUATED = {"employment": "employment_rate", "stable_housing": "stable_housing_rate"}


def _risk_adjusted(cells: list[Cell]) -> dict[str, Any]:
    """Each cohort's rate standardised to the risk mix of both cohorts' denominators; null
    with the reason when a stratum has a denominator in one cohort only."""
    counted = [c for c in cells if c.den]
    strata: dict[tuple[str, Any], list[int]] = {}
    for c in counted:
        s = strata.setdefault((c.keys["cohort"], c.risk), [0, 0])
        s[0] += int(bool(c.num))
        s[1] += 1
    risks = sorted({c.risk for c in counted}, key=_key_sort)
    one_sided = [r for r in risks if ("pilot", r) not in strata or ("comparison", r) not in strata]
    if not counted or one_sided:
        return {"pilot": None, "comparison": None, "difference": None, "one_sided": one_sided}
    total = len(counted)
    rates = {}
    for cohort in ("pilot", "comparison"):
        rates[cohort] = sum(
            (strata[("pilot", r)][1] + strata[("comparison", r)][1]) / total
            * strata[(cohort, r)][0] / strata[(cohort, r)][1]
            for r in risks
        )
    return {"pilot": rates["pilot"], "comparison": rates["comparison"],
            "difference": rates["pilot"] - rates["comparison"], "one_sided": []}


def reference_v2_windows(
    tables: Any, *, program_id: str | None = None, as_of: dt.date | None = None, min_cell_size: int = 11,
) -> dict[tuple[str, int], dict[str, Any]]:
    """Employment and stable-housing windows of ``evaluate`` (none without reintegration checks)."""
    if not _has_rows(tables, "reintegration_checks"):
        return {}
    scope = Scope(resolve_as_of(tables, as_of), None, None, (program_id,) if program_id else (), ())
    all_cells = reintegration_cells(tables, scope)
    metrics = reference_v2_metrics(tables, as_of=scope.as_of, program_ids=scope.program_ids, min_cell_size=min_cell_size)
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for measure, prefix in EVALUATED.items():
        for w in REINTEGRATION_WINDOWS:
            metric = f"{prefix}_{w}m"
            cells = [c for c in all_cells[metric] if c.keys["cohort"] in ("pilot", "comparison")]
            entry: dict[str, Any] = {}
            for cohort in ("pilot", "comparison"):
                num = sum(1 for c in cells if c.keys["cohort"] == cohort and c.num and c.den)
                den = sum(1 for c in cells if c.keys["cohort"] == cohort and c.den)
                key: Key = (
                    (metric, ("cohort",), (cohort,)) if program_id is None
                    else (metric, ("program_id", "cohort"), (program_id, cohort))
                )
                row = metrics.get(key)
                hidden = bool(row and row["suppressed"])
                cell: dict[str, Any] = {"numerator": num, "denominator": den, "suppressed": hidden}
                if den:
                    cell["rate"] = num / den
                    cell["ci_low"], cell["ci_high"] = wilson(num, den)
                else:
                    # Nobody in the denominator: 0/0, not suppressed, null rate.
                    cell["rate"] = cell["ci_low"] = cell["ci_high"] = None
                if hidden:
                    for name in ("numerator", "denominator", "rate", "ci_low", "ci_high"):
                        cell[name] = None
                entry[cohort] = cell
            pilot, comp = entry["pilot"], entry["comparison"]
            hidden_any = pilot["suppressed"] or comp["suppressed"]
            if hidden_any or not pilot["denominator"] or not comp["denominator"]:
                entry["difference"] = {"value": None, "ci_low": None, "ci_high": None}
                entry["p_value"] = None
            else:
                d, lo, hi = newcombe(pilot["numerator"], pilot["denominator"], comp["numerator"], comp["denominator"])
                entry["difference"] = {"value": d, "ci_low": lo, "ci_high": hi}
                entry["p_value"] = z_test_p(pilot["numerator"], pilot["denominator"], comp["numerator"], comp["denominator"])
            entry["risk_adjusted"] = None if hidden_any else _risk_adjusted(cells)
            out[(measure, w)] = entry
    return out
