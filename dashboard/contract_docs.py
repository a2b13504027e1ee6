"""Renders ``docs/data-contract.md`` from :mod:`dashboard.contract`.

The document is committed so people can read it on the web; a test renders it
again and fails when the committed copy differs, so the document can never
drift from the code that enforces it. Regenerate with
``python -m dashboard.contract_docs > docs/data-contract.md``.
"""

from __future__ import annotations

from dashboard.contract import (
    CONTRACT_VERSION,
    ENROLLMENT_WINDOW_WARNINGS,
    SUPPORTED_CONTRACT_VERSIONS,
    TABLES,
    AtLeastOne,
    KEY_PART_SEPARATOR,
    Column,
    DateOrder,
    FirstOfMonth,
    NullUnless,
    NullWhen,
    RequiredWhen,
    Table,
    describe_rule,
    rule_id,
)
from dashboard.contract import MAX_CODE_LENGTH, MAX_TEXT_LENGTH, max_length

_TYPE_WORDS = {
    "str": "text",
    "date": "date (YYYY-MM-DD)",
    "bool": "true / false",
    "int": "whole number",
    "enum": "one of a list",
    "decimal": "decimal (at most 2 places)",
}


def _column_rule_text(table: Table, col: Column) -> str:
    parts: list[str] = ["**required**" if col.required else "optional"]
    if table.has_composite_key and table.is_key_column(col.name):
        parts.append("part of the key (" + ", ".join(f"`{c}`" for c in table.key_columns) + ")")
    elif col.name == table.key:
        parts.append("unique key")
    if col.enum:
        parts.append("one of: " + ", ".join(f"`{v}`" for v in col.enum))
    if col.type == "decimal":
        parts.append("0 or more")
    elif col.min_value is not None or col.max_value is not None:
        parts.append(f"{col.min_value} to {col.max_value}")
    if col.references:
        parts.append(f"must match a row of `{col.references}`")
    limit = max_length(table, col)
    if limit is not None:
        parts.append(f"at most {limit:,} characters")
    if col.type == "date" and col.may_follow_as_of:
        parts.append("may be after the as-of date")
    elif col.type == "date":
        parts.append("not after the as-of date")
    return "; ".join(parts)


def _column_rule_ids(table: Table, col: Column) -> list[str]:
    ids: list[str] = []
    if col.required:
        ids.append(rule_id("required", col.name))
    ids.append(rule_id("nul_character", col.name))
    if max_length(table, col) is not None:
        ids.append(rule_id("too_long", col.name))
    kind = {
        "date": "date_format", "bool": "bool_format", "int": "int_format", "enum": "enum", "decimal": "decimal_format"
    }.get(col.type)
    if kind:
        ids.append(rule_id(kind, col.name))
    if col.type == "int" and (col.min_value is not None or col.max_value is not None):
        ids.append(rule_id("range", col.name))
    if col.type == "date" and not col.may_follow_as_of:
        ids.append(rule_id("after_as_of", col.name))
    if col.references:
        ids.append(rule_id("fk", col.name))
        ids.append(rule_id("parent_rejected", col.name))
    return ids


def _row_rule_kind(rule: object) -> str:
    if isinstance(rule, DateOrder):
        return "date order"
    if isinstance(rule, RequiredWhen):
        return "required when"
    if isinstance(rule, (NullUnless, NullWhen)):
        return "must be empty"
    if isinstance(rule, FirstOfMonth):
        return "first day of a month"
    if isinstance(rule, AtLeastOne):
        return "at least one set"
    return "rule"


def _key_text(table: Table) -> str:
    if table.has_composite_key:
        cols = ", ".join(f"`{c}`" for c in table.key_columns)
        return (
            f"Key: ({cols}) together: each combination at most once. In load reports and the "
            f"quarantine the key is shown as its parts joined by `{KEY_PART_SEPARATOR.strip()}`."
        )
    return f"Key: `{table.key}`."


def _versions_text() -> str:
    return " or ".join(str(v) for v in SUPPORTED_CONTRACT_VERSIONS)


def _after_as_of_text() -> str:
    allowed = [f"`{t.name}.{c.name}`" for t in TABLES for c in t.columns if c.type == "date" and c.may_follow_as_of]
    return ", ".join(allowed[:-1]) + " and " + allowed[-1] if len(allowed) > 1 else allowed[0]


# Over 80 lines on purpose: a straight-line document template: the page's sections in reading order.
def render_contract_markdown() -> str:
    out: list[str] = [
        f"# Data contract, version {CONTRACT_VERSION}",
        "",
        "<!-- Generated from dashboard/contract.py by `python -m dashboard.contract_docs`; do not edit by hand. -->",
        "",
        "Partners deliver one file per table in one directory (an *extract*), named "
        "`<table>.csv`, `<table>.parquet` or `<table>.xlsx`. This page lists every table, "
        "column and rule the loader enforces, with the rule id you will see in load reports "
        "and in the quarantine.",
        "",
        "## How values are read",
        "",
        "- CSV files are UTF-8 (a byte-order mark is fine) with a header row. Column order does "
        "not matter; header names are matched ignoring letter case and surrounding spaces. "
        "Columns the contract does not know are ignored with a warning (`warn:unknown_column`).",
        "- Every value is trimmed of surrounding whitespace, non-breaking spaces included. An "
        "empty or blank value counts as missing.",
        "- Dates in CSV are written exactly `YYYY-MM-DD` and name a real calendar day. "
        "`2024/03/05`, `2024-1-5`, `20240305`, values with a time, `2024-02-30` and year `0000` "
        "are rejected. Parquet date columns and Excel date cells are taken as dates.",
        "- True/false columns accept `true`, `false`, `1`, `0` in any letter case.",
        "- Listed values (enums) are matched ignoring case and stored in lower case; anything "
        "else is rejected and the reason lists the allowed values. A wrong value in an optional "
        "listed column rejects the row too.",
        "- Whole numbers are digits, optionally followed by `.0` (as spreadsheets export them): "
        "`34` and `34.0` load; `34.5`, `+34`, `3.4e1` and `41y` are rejected.",
        "- Decimals (amounts, full-time equivalents) are digits with an optional fraction of one or "
        "two digits: `12`, `12.5` and `12.50` load; `-3`, `+3`, `1e3`, `1,200`, `$12` and `12.505` "
        "are rejected (`decimal_format:<column>`). They are never below 0. Parquet and Excel "
        "numbers are taken as numbers and must have at most two decimal places. Decimals are "
        "stored exactly, never rounded.",
        "- Identifiers are case-sensitive text. Participant ids must be pseudonymous.",
        "- Both databases must store exactly the same rows, so two limits hold for every value: no "
        "NUL character (byte 0) anywhere (`nul_character:<column>`; PostgreSQL cannot store it), and "
        f"text of at most {MAX_CODE_LENGTH} characters for an identifier (a key or a reference; "
        f"indexed) and {MAX_TEXT_LENGTH:,} characters for other text (`too_long:<column>`). A row "
        "breaking either is quarantined with its values as delivered; its key and agency are then "
        "left out of the quarantine's indexed columns.",
        "- Two headers that read as the same contract column (` Risk_Level ` and `risk_level`) "
        "reject the file as a whole (`duplicate_column`: the reason names both headers as written), "
        "since taking either would silently drop the other. Repeated headers the contract does not "
        "know are only ignored.",
        "- A file that is not UTF-8 (UTF-16, UTF-32, Latin-1 or Windows-1252 text, binary data), "
        "a quoted value never closed, a line with more fields than the header, a damaged workbook "
        "or a Parquet column of lists or records stops the load with a message naming the file, "
        "the line where there is one, and what to do; nothing is loaded and the database is "
        "unchanged.",
        "",
        "## Files",
        "",
        "- One file per table: two files for one table (`agencies.csv` beside `Agencies.CSV`, or "
        "beside `agencies.parquet`) stop the load with an error naming both.",
        "- A symbolic link that leads outside the extract folder is refused without being opened. "
        "A file whose name matches a table only once spaces are removed (`agencies .csv`), or a "
        "folder with a table's name, is not read and the report says so.",
        "- An empty file (0 bytes, or blank lines only) is rejected as a whole, like a file without "
        "its required columns, and the load exits 1. A file with a header row and no rows is a "
        "table with nothing to add.",
        "",
        "## The as-of date",
        "",
        "The extract's as-of date is `--as-of` when given, else `as_of` in a `manifest.json` in "
        "the extract directory, else the one line of an `AS_OF` file there, else today. A "
        f"`manifest.json` whose `contract_version` is not {_versions_text()} stops the load. No date "
        f"may be later than the as-of date, except {_after_as_of_text()}.",
        "",
        "## Contract versions",
        "",
        f"This program reads contract versions {_versions_text().replace(' or ', ' and ')}. Version 2 adds "
        "four optional "
        "tables: "
        + ", ".join(f"`{t.name}`" for t in TABLES if t.since == 2)
        + ". They may appear in any extract, and the rules below apply to them as to the others; "
        "every version 1 extract stays valid and loads exactly as before.",
        "",
        "The as-of date itself must lie between 1900-01-01 and tomorrow (today plus one day, for an "
        "extract taken in a time zone ahead of the server's); any other date, from the manifest, "
        "the `AS_OF` file or `--as-of` (on `load`, `check`, `metrics`, `evaluate` and `export`), "
        "stops the command with exit 2 and a message saying why. Historical data, such as a study "
        "from the 1970s, loads as any other.",
        "",
        "## Tables",
        "",
    ]
    for table in TABLES:
        optional = " (optional table)" if table.optional_table else ""
        out += [f"### `{table.name}`{optional}", "", table.description, "", _key_text(table), ""]
        out += ["| column | type | rule | rule ids | meaning |", "|---|---|---|---|---|"]
        for col in table.columns:
            ids = ", ".join(f"`{i}`" for i in _column_rule_ids(table, col))
            out.append(
                f"| `{col.name}` | {_TYPE_WORDS[col.type]} | {_column_rule_text(table, col)} | {ids} | {col.description} |"
            )
        out.append("")
        if table.row_rules:
            out += ["Rules across columns:", "", "| rule id | kind | rejected when |", "|---|---|---|"]
            for rule in table.row_rules:
                # a | inside a table cell, even in code, would split the cell
                out.append(f"| `{rule.id.replace('|', chr(92) + '|')}` | {_row_rule_kind(rule)} | {rule.message} |")
            out.append("")
        if table.name in ENROLLMENT_WINDOW_WARNINGS:
            date_col = ENROLLMENT_WINDOW_WARNINGS[table.name]
            out += [
                f"Warnings (the row loads): `{date_col}` before the participant's enrollment "
                "(`warn:before_enrollment`) or after their exit (`warn:after_exit`).",
                "",
            ]
        if table.name == "participants":
            out += ["Warning (the row loads): a participant with no supervision events (`warn:no_supervision_events`).", ""]
    out += [
        "## Rules across rows and files",
        "",
        "- **Duplicate keys.** (For `staffing` the key is the agency and month together.) Each "
        "copy of a repeated key is first checked on its own; an invalid "
        "copy is rejected for its own rules. Valid copies identical in every column (after "
        "trimming and lower-casing) collapse to one, and each extra copy is recorded as a dropped "
        "duplicate. Valid copies that differ are all rejected "
        f"(`duplicate_key_conflict`: {describe_rule('duplicate_key_conflict')}).",
        "- **Foreign keys** are checked against the parent rows that are valid in this extract or "
        "already in the database (`fk:<column>`). A child of a rejected parent is rejected in "
        "turn (`parent_rejected:<column>`).",
        "- **A file without a required column** is rejected as a whole (`missing_column`); all of "
        "its rows count as rejected and their children are rejected in turn. A table missing from "
        "the extract is simply not loaded.",
        "- **Reloading.** A key already in the database is updated; loading the same extract twice "
        "changes nothing.",
        "",
        "Every rejected row is kept in the quarantine with its file, line (the header is line 1), "
        "the values as delivered and every rule it broke. Nothing is dropped without a record.",
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(render_contract_markdown(), end="")
