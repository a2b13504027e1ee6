"""The data steward's worklist: per partner agency, what to fix, how many rows, and where.

The quarantine (docs/stewardship.md) keeps every rejected row with its file,
line and every rule it broke. A steward's job is to send each partner a short
list of fixes, biggest first. This module turns the open quarantine entries
into that list:

* :func:`worklist` — one row per partner agency, table and rule: the rule in
  plain words (:func:`dashboard.contract.describe_rule`), the rows that broke
  it, example line numbers of the delivered file (steward only) and the
  share of the partner's open rows, sorted by impact (partners with the most
  open rows first, then their most frequent rule);
* :func:`fix_list` / :func:`fix_list_csv` — every open row of one partner,
  one line per rule broken, with the delivered value of the column the rule
  names, as a CSV whose text is neutralised against spreadsheet formulas and
  whose file name carries the agency and the load's as-of date
  (:func:`fix_list_file_name`).

Row-level detail (line numbers, record keys, delivered values) is for the
steward role only, and a steward limited to some agencies sees and exports
only those agencies' rows (docs/stewardship.md, "Roles"). Counts per rule are
aggregates and stay visible to a viewer, as on the rest of the page.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping

import polars as pl

from dashboard.contract import TABLES_BY_NAME, describe_rule
from dashboard.quality_checks import UNASSIGNED as UNASSIGNED_KEY
from dashboard.roles import AccessRefused, Principal, agency_limit, as_principal, require_steward
from dashboard.stewardship import Audit

#: How many example line numbers the worklist names per rule.
EXAMPLE_LINES = 5
#: The partner label of rows whose submitting agency is unknown.
UNASSIGNED_PARTNER = "Unassigned (no submitting agency on the row)"

WORKLIST_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "agency_id": pl.String, "partner": pl.String, "table_name": pl.String, "table": pl.String,
    "rule": pl.String, "what_to_fix": pl.String, "rows": pl.Int64, "share_of_partner": pl.Float64,
    "example_lines": pl.String,
}


def table_label(table: str) -> str:
    """A contract table's name in words: ``supervision_events`` -> ``Supervision events``."""
    if table in TABLES_BY_NAME:
        return table.replace("_", " ").capitalize()
    return table


def table_help(table: str) -> str:
    """The contract's one-line description of ``table`` (empty for a name outside the contract)."""
    spec = TABLES_BY_NAME.get(table)
    return spec.description if spec else ""


def partner_label(agency_id: str | None, names: Mapping[str, str]) -> str:
    """The partner's name from the agencies table (its id when the table does not name it)."""
    if agency_id is None or agency_id == UNASSIGNED_KEY:
        return UNASSIGNED_PARTNER
    name = names.get(agency_id)
    return f"{name} ({agency_id})" if name and name != agency_id else agency_id


def visible_agencies(audit: Audit, principal: Principal | str) -> pl.DataFrame:
    """The open quarantine entries ``principal`` may count: all for a viewer or an unlimited steward,
    only their agencies' entries for a steward limited to some."""
    open_rows = audit.quarantine.filter(pl.col("open"))
    limit = agency_limit(as_principal(principal))
    if limit is not None and as_principal(principal).row_level:
        open_rows = open_rows.filter(pl.col("agency_id").is_in(sorted(limit)))
    return open_rows


def _line_text(lines: list[int | None], files: list[str | None]) -> str:
    """``file line 4, 9, 12 …`` for the first :data:`EXAMPLE_LINES` lines (sorted, per file)."""
    by_file: dict[str, list[int]] = {}
    for line, name in zip(lines, files, strict=True):
        if line is not None:
            by_file.setdefault(name or "file", []).append(int(line))
    parts = []
    for name, numbers in sorted(by_file.items()):
        numbers = sorted(set(numbers))
        more = len(numbers) - EXAMPLE_LINES
        shown = ", ".join(str(n) for n in numbers[:EXAMPLE_LINES]) + (f" and {more:,} more" if more > 0 else "")
        parts.append(f"{name} line{'s' if len(numbers) > 1 else ''} {shown}")
    return "; ".join(parts)


def worklist(audit: Audit, principal: Principal | str, names: Mapping[str, str]) -> pl.DataFrame:
    """Per partner agency, table and rule: what to fix, rows, share of the partner's open rows, examples.

    ``rows`` counts open quarantine entries that broke the rule (a row that
    broke two rules counts under each, as in the findings). ``share_of_partner``
    is rows / the partner's open entries. Sorted by the partner's open entries
    (descending), then rows (descending), then table and rule, so the biggest
    fix comes first. ``example_lines`` is empty unless the audit holds line
    numbers and ``principal`` is a steward.
    """
    who = as_principal(principal)
    entries = visible_agencies(audit, who)
    if entries.height == 0:
        return pl.DataFrame(schema=WORKLIST_SCHEMA)
    with_lines = who.row_level and "line_number" in entries.columns
    totals = entries.group_by("agency_id").len("partner_open")
    cols = ["agency_id", "table_name", "rules"] + (["line_number", "source_file"] if with_lines else [])
    exploded = entries.select(cols).explode("rules").rename({"rules": "rule"})
    aggs = [pl.len().cast(pl.Int64).alias("rows")]
    if with_lines:
        aggs += [pl.col("line_number"), pl.col("source_file")]
    grouped = exploded.group_by("agency_id", "table_name", "rule").agg(aggs).join(totals, on="agency_id")
    records = []
    for row in grouped.iter_rows(named=True):
        records.append({
            "agency_id": row["agency_id"],
            "partner": partner_label(row["agency_id"], names),
            "table_name": row["table_name"],
            "table": table_label(row["table_name"]),
            "rule": row["rule"],
            "what_to_fix": describe_rule(row["rule"], row["table_name"]),
            "rows": row["rows"],
            "share_of_partner": row["rows"] / row["partner_open"] if row["partner_open"] else None,
            "example_lines": _line_text(row["line_number"], row["source_file"]) if with_lines else "",
            "_partner_open": row["partner_open"],
        })
    frame = pl.DataFrame(records, schema={**WORKLIST_SCHEMA, "_partner_open": pl.Int64})
    return frame.sort(
        ["_partner_open", "agency_id", "rows", "table_name", "rule"], descending=[True, False, True, False, False]
    ).drop("_partner_open")


def partners(worklist_frame: pl.DataFrame) -> list[tuple[str, str, int]]:
    """(agency id, label, open rule breaks) of each partner in the worklist, biggest first."""
    if worklist_frame.height == 0:
        return []
    out = worklist_frame.group_by("agency_id", "partner", maintain_order=True).agg(pl.col("rows").sum())
    return [(a, p, int(n)) for a, p, n in out.iter_rows()]


def _require_agency(principal: Principal, agency_id: str) -> None:
    limit = agency_limit(principal)
    if limit is not None and agency_id not in limit:
        raise AccessRefused(
            f"The fix list of agency {agency_id} holds that agency's rejected rows, and {principal.describe()} "
            "may see only their own agencies' rows. Ask an administrator for access to that agency.",
            principal=principal, what=f"The fix list of {agency_id}",
        )


def _delivered(raw: str | None, column: str) -> str | None:
    """The delivered text of ``column`` in a quarantined row's values (headers match case-insensitively)."""
    if not raw or not column:
        return None
    try:
        values = json.loads(raw)
    except ValueError:
        return None
    by_name = {str(k).strip().lower(): v for k, v in values.items()} if isinstance(values, dict) else {}
    value = by_name.get(column.lower())
    return None if value is None else str(value)


def fix_list(audit: Audit, principal: Principal | str, agency_id: str) -> pl.DataFrame:
    """Every open quarantined row of one partner, one line per rule broken (steward only).

    Columns: file, line, table, record key, rule, what to fix (in words), and
    the value delivered in the column the rule names (empty for rules about the
    whole row, such as a conflicting duplicate). Sorted by file and line, so
    the partner can walk down the file.
    """
    who = require_steward(principal, "The fix list")
    _require_agency(who, agency_id)
    if audit.role != "steward":
        raise PermissionError("The fix list needs the delivered values: read the audit with the steward role.")
    rows = visible_agencies(audit, who).filter(pl.col("agency_id") == agency_id)
    records = []
    for r in rows.select("source_file", "line_number", "table_name", "record_key", "rules", "raw_values").iter_rows(
        named=True
    ):
        for rule in r["rules"] or []:
            column = rule.partition(":")[2] if ":" in rule else ""
            column = column if column in TABLES_BY_NAME[r["table_name"]].column_names else ""
            records.append({
                "File": r["source_file"], "Line": r["line_number"], "Table": table_label(r["table_name"]),
                "Record key": r["record_key"], "Rule": rule,
                "What to fix": describe_rule(rule, r["table_name"]),
                "Column": column or None,
                "Value delivered": _delivered(r["raw_values"], column),
            })
    schema = {"File": pl.String, "Line": pl.Int64, "Table": pl.String, "Record key": pl.String, "Rule": pl.String,
              "What to fix": pl.String, "Column": pl.String, "Value delivered": pl.String}
    return pl.DataFrame(records, schema=schema).sort(["File", "Line", "Rule"], nulls_last=True)


def fix_list_csv(audit: Audit, principal: Principal | str, agency_id: str) -> bytes:
    """:func:`fix_list` as CSV (UTF-8 with BOM, CRLF), text neutralised against spreadsheet formulas."""
    from dashboard.export import table_to_csv  # neutralises = + - @ at the start of any text cell

    return table_to_csv(fix_list(audit, principal, agency_id))


def fix_list_file_name(agency_id: str, as_of: dt.date | None) -> str:
    """``fix_list_<agency>_<as-of>.csv``, the agency id reduced to letters, digits, ``-`` and ``_``."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", agency_id).strip("-")[:60] or "agency"
    return f"fix_list_{slug}_{as_of.isoformat() if as_of else 'no-load'}.csv"
