"""The level of every check: an **error** rejects the row (it goes to quarantine
and never reaches the dashboard); a **warning** lets the row load and records
the finding for the steward.

The list of checks is derived from ``dashboard.contract`` — every rule id the
loader can emit for every table — so a new column brings its checks here
without an edit. The levels follow docs/data-contract.md: every rule is an error except the
four warnings the contract names (dated before enrollment, dated after exit,
participant without supervision events, unknown column). The checks across
loads (``dashboard.quality_checks``) are warnings: they describe a delivery as
a whole, not one row, so there is no row to reject.

Changing a level or excluding a check is a decision someone must be able to
read later: put it in :data:`OVERRIDES` with the reason next to it. A test
refuses an override without a reason, and one that names a check that does
not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dashboard import contract as c

Level = Literal["error", "warning", "excluded"]
ERROR: Level = "error"
WARNING: Level = "warning"
EXCLUDED: Level = "excluded"

# The loader's record of an identical extra copy of a key: neither an error nor
# a warning (the data is kept once), listed so stewards can count it.
DUPLICATE_DROPPED = "duplicate_dropped"

# Checks across loads (dashboard.quality_checks); table "*" = every table.
CROSS_LOAD_CHECKS: dict[str, str] = {
    "freshness": "an agency has not delivered new records within its expected cadence",
    "volume_drift": (
        "a table's monthly row count from an agency differs from its recent history by more than chance "
        "(exact binomial test, false-discovery control) and by more than the band"
    ),
    "distribution_drift": (
        "the share of a key category moved from its history by more than chance (chi-square or Fisher's "
        "exact test, false-discovery control) and by at least the minimum change"
    ),
    "consistency:groupings": "a metric's groups do not add up to its overall row",
    "consistency:referral_after_exit": "referrals dated after the participant's exit",
}


@dataclass(frozen=True)
class Check:
    """One check on one table, with its level and, when not the default, why."""

    table: str
    rule: str
    level: Level
    description: str
    reason: str | None = None  # required when ``level`` differs from the contract default


@dataclass(frozen=True)
class Override:
    level: Level
    reason: str


# (table, rule id) -> the changed level and the written reason. Empty: every
# check runs at the level docs/data-contract.md gives it. Example of the required shape:
#   ("participants", "warn:no_supervision_events"): Override(
#       EXCLUDED, "Program X enrolls people before supervision starts; agreed with the director 2026-01-10"),
OVERRIDES: dict[tuple[str, str], Override] = {}


def default_checks(table: str) -> list[tuple[str, Level]]:
    """Every (rule id, default level) the loader can emit for ``table``."""
    t = c.TABLES_BY_NAME[table]
    out: list[tuple[str, Level]] = [(c.RULE_MISSING_COLUMN, ERROR), (c.RULE_DUPLICATE_COLUMN, ERROR)]
    for col in t.columns:
        if col.required:
            out.append((c.rule_id(c.RULE_REQUIRED, col.name), ERROR))
        out.append((c.rule_id(c.RULE_NUL_CHARACTER, col.name), ERROR))
        if c.max_length(t, col) is not None:
            out.append((c.rule_id(c.RULE_TOO_LONG, col.name), ERROR))
        if col.type == "date":
            out.append((c.rule_id(c.RULE_DATE_FORMAT, col.name), ERROR))
            if not col.may_follow_as_of:
                out.append((c.rule_id(c.RULE_AFTER_AS_OF, col.name), ERROR))
        elif col.type == "bool":
            out.append((c.rule_id(c.RULE_BOOL_FORMAT, col.name), ERROR))
        elif col.type == "int":
            out.append((c.rule_id(c.RULE_INT_FORMAT, col.name), ERROR))
        elif col.type == "enum":
            out.append((c.rule_id(c.RULE_ENUM, col.name), ERROR))
        elif col.type == "decimal":
            out.append((c.rule_id(c.RULE_DECIMAL_FORMAT, col.name), ERROR))
        # a decimal's lower bound of 0 is part of its format rule (no sign)
        if col.type == "int" and (col.min_value is not None or col.max_value is not None):
            out.append((c.rule_id(c.RULE_RANGE, col.name), ERROR))
        if col.references:
            out.append((c.rule_id(c.RULE_FK, col.name), ERROR))
            out.append((c.rule_id(c.RULE_PARENT_REJECTED, col.name), ERROR))
    out.extend((r.id, ERROR) for r in t.row_rules)
    out.append((c.RULE_DUPLICATE_CONFLICT, ERROR))
    if table in c.ENROLLMENT_WINDOW_WARNINGS:
        out.append((c.WARN_BEFORE_ENROLLMENT, WARNING))
        out.append((c.WARN_AFTER_EXIT, WARNING))
    if table == "participants":
        out.append((c.WARN_NO_SUPERVISION_EVENTS, WARNING))
    out.append((c.WARN_UNKNOWN_COLUMN, WARNING))
    return out



def all_checks() -> list[Check]:
    """Every row-level check of every table with its effective level and reason."""
    checks: list[Check] = []
    for t in c.TABLES:
        for rule, level in default_checks(t.name):
            override = OVERRIDES.get((t.name, rule))
            checks.append(
                Check(
                    table=t.name,
                    rule=rule,
                    level=override.level if override else level,
                    description=c.describe_rule(rule, t.name),
                    reason=override.reason if override else None,
                )
            )
    for rule, text in CROSS_LOAD_CHECKS.items():
        checks.append(Check("*", rule, WARNING, text))
    return checks


def _base_rule(rule: str) -> str:
    """``warn:unknown_column:foo`` -> ``warn:unknown_column``; other ids unchanged."""
    if rule.startswith("warn:"):
        return ":".join(rule.split(":")[:2])
    if rule.startswith(c.RULE_MISSING_COLUMN):
        return c.RULE_MISSING_COLUMN
    return rule


def level_of(rule: str, table: str | None = None) -> Level:
    """The effective level of a rule id as recorded by the loader.

    Unknown ids are errors (the safe side: a rule nobody classified rejects).
    """
    base = _base_rule(rule)
    if table is not None and (table, base) in OVERRIDES:
        return OVERRIDES[(table, base)].level
    if base in CROSS_LOAD_CHECKS or base.startswith("warn:"):
        return WARNING
    return ERROR


def is_warning(rule: str, table: str | None = None) -> bool:
    return level_of(rule, table) == WARNING
