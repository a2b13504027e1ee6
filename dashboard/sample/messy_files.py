"""Writing the messy extract: the files as a partner might deliver them (a BOM, an XLSX, odd
headers, an extra and a missing column), ``planted.json`` and the README listing every planted row."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dashboard.contract import CONTRACT_VERSION, TABLES, TABLES_BY_NAME
from dashboard.sample.common import DEFAULT_AS_OF, GENERATOR_NAME, GENERATOR_VERSION
from dashboard.sample.messy import NBSP, messy_rows

_MESSY_FORMAT = {t.name: "csv" for t in TABLES} | {"agreements": "xlsx"}
_MESSY_BOM = {"participants"}
_MESSY_EXTRA_COLUMNS = {"referrals": ("notes",)}
_MESSY_DROPPED_COLUMNS = {"violations": ("violation_type",)}
_MESSY_HEADER = {"recidivism_events": {"event_id": "Event_ID", "event_date": " Event_Date ", "event_type": "EVENT_TYPE"}}


def _write_messy_csv(path: Path, header: list[str], lines: list[list[str]], bom: bool) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))


def _write_messy_xlsx(path: Path, table: str, header: list[str], lines: list[list[str]]) -> None:
    """XLSX with real date cells in date columns (``text:`` forces a text cell)."""
    import xlsxwriter

    dates = {c.name for c in TABLES_BY_NAME[table].columns if c.type == "date"}
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": dt.datetime(2026, 6, 30)})  # fixed, so the bytes are reproducible
    date_cell = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet(table)
    sheet.write_row(0, 0, header)
    for r, line in enumerate(lines, start=1):
        for c, (name, value) in enumerate(zip(header, line)):
            if value == "":
                continue
            if value.startswith("text:"):
                sheet.write_string(r, c, value[len("text:"):])
            elif name in dates:
                sheet.write_datetime(r, c, dt.datetime.fromisoformat(value), date_cell)
            else:
                sheet.write_string(r, c, value)
    book.close()


# Over 80 lines on purpose: seeded generator: one random stream drawn in a fixed order; splitting it risks
# changing the bytes of the pinned sample.
def write_messy_extract(out_dir: str | Path, *, as_of: dt.date = DEFAULT_AS_OF) -> dict[str, Any]:
    """Write the messy extract, ``planted.json`` (the expected load result) and ``README.md``.

    Every planted row declares the rule ids it must be rejected for (or that
    it loads, possibly with warnings, or is an identical duplicate to drop);
    the per-table expectations in ``planted.json`` are the sums of those
    declarations, so the file is a test oracle for the loader.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = messy_rows(as_of)
    expected: dict[str, Any] = {}
    readme_rows: list[str] = []
    for table in TABLES:
        name = table.name
        fmt = _MESSY_FORMAT[name]
        dropped_cols = _MESSY_DROPPED_COLUMNS.get(name, ())
        columns = [c for c in table.column_names if c not in dropped_cols] + list(_MESSY_EXTRA_COLUMNS.get(name, ()))
        header = [_MESSY_HEADER.get(name, {}).get(c, c) for c in columns]
        lines = [[r.values.get(c, "") for c in columns] for r in rows[name]]
        file_name = f"{name}.{fmt}"
        for stale in out.glob(f"{name}.*"):
            stale.unlink()
        if fmt == "xlsx":
            _write_messy_xlsx(out / file_name, name, header, lines)
        else:
            _write_messy_csv(out / file_name, header, lines, bom=name in _MESSY_BOM)

        missing = [c for c in table.required_columns if c in dropped_cols]
        reasons: dict[str, int] = {}
        warn_reasons: dict[str, int] = {}
        rejected_lines: dict[str, list[str]] = {}
        loaded = rejected = dropped = 0
        for i, r in enumerate(rows[name]):
            line = i + 2  # header is line 1
            if missing:
                rule_ids: tuple[str, ...] = ("missing_column",)
            else:
                rule_ids = r.rejects
            if rule_ids:
                rejected += 1
                rejected_lines[str(line)] = sorted(rule_ids)
                for rule in rule_ids:
                    reasons[rule] = reasons.get(rule, 0) + 1
            elif r.dropped:
                dropped += 1
            else:
                loaded += 1
                for w in r.warns:
                    warn_reasons[w] = warn_reasons.get(w, 0) + 1
            if r.what:
                key = " | ".join(r.values.get(c, "").strip(" " + NBSP) for c in table.key_columns).strip(" |")
                expect = ", ".join(f"`{x}`" for x in rule_ids) or (
                    "dropped duplicate" if r.dropped else ("loads, " + ", ".join(f"`{w}`" for w in r.warns)
                                                           if r.warns else "loads")
                )
                cells = (file_name, str(line), key or "(empty)", r.what, expect)
                readme_rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        if not missing:
            for extra in _MESSY_EXTRA_COLUMNS.get(name, ()):
                warn_reasons["warn:unknown_column"] = warn_reasons.get("warn:unknown_column", 0) + 1
                readme_rows.append(f"| {file_name} | 1 | (header) | unknown extra column `{extra}` | "
                                   "loads, `warn:unknown_column` (one warning for the file) |")
        else:
            readme_rows.append(f"| {file_name} | 1 | (header) | required column(s) {', '.join(missing)} missing: "
                               f"whole file rejected, all {len(rows[name])} rows | `missing_column` |")
        expected[name] = {
            "file": file_name,
            "rows_read": len(rows[name]),
            "loaded": loaded,
            "rejected": rejected,
            "duplicates_dropped": dropped,
            "warnings": sum(warn_reasons.values()),
            "file_rejected": bool(missing),
            "missing_columns": missing,
            "reasons": dict(sorted(reasons.items())),
            "warning_reasons": dict(sorted(warn_reasons.items())),
            "rejected_lines": rejected_lines,
        }
        assert expected[name]["rows_read"] == loaded + rejected + dropped
    manifest = {"contract_version": CONTRACT_VERSION, "as_of": as_of.isoformat(),
                "generator": {"name": GENERATOR_NAME, "version": GENERATOR_VERSION, "kind": "messy"}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    planted = {
        "as_of": as_of.isoformat(),
        "exit_code": 1,
        "note": "Expected result of `partnership-dashboard load` of this folder into an empty database. "
        "reasons: rule id -> rejected rows breaking it (a row breaking several rules counts under each). "
        "warning_reasons and rejected_lines (line -> rule ids; header = line 1) are extra detail.",
        "tables": expected,
    }
    (out / "planted.json").write_text(json.dumps(planted, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _write_messy_readme(out / "README.md", expected, readme_rows, as_of)
    return planted


def _write_messy_readme(path: Path, expected: Mapping[str, Any], rows: list[str], as_of: dt.date) -> None:
    summary = ["| table | file | rows read | loaded | rejected | dropped duplicates | warnings |",
               "|---|---|---:|---:|---:|---:|---:|"]
    for name, e in expected.items():
        flag = " (whole file rejected)" if e["file_rejected"] else ""
        summary.append(f"| {name} | {e['file']}{flag} | {e['rows_read']} | {e['loaded']} | {e['rejected']} | "
                       f"{e['duplicates_dropped']} | {e['warnings']} |")
    text = f"""# The messy sample extract

A small extract (60 clean generated participants with their agencies,
programs and events, plus planted rows) in which every kind of defect the data
contract forbids is planted on purpose, next to rows that look wrong but must
load (letter case, surrounding spaces and non-breaking spaces, `34.0`
integers, a byte-order mark, header names in other cases). Data stewards can
load it to see what quarantine looks like; the test suite loads it and
compares the result with `planted.json`.

```
partnership-dashboard load sample_data/messy --db /tmp/messy.duckdb
```

The as-of date is {as_of.isoformat()} (from `manifest.json`). Delivery quirks:
`participants.csv` starts with a byte-order mark; `agreements.xlsx` is a
spreadsheet (date cells are dates, one date is a text cell);
`recidivism_events.csv` spells three header names in other cases with
spaces; `referrals.csv` has an unknown extra column `notes`;
`violations.csv` lacks its required `violation_type` column, so the whole file
is rejected. The load exits with code 1 (some rows rejected).

The four tables of contract version 2 carry their own plants: amounts and
full-time equivalents written in every form the decimal rule forbids (`-3`,
`+12`, `1e3`, `1,200`, `7,50`, `$12`, `12.505`) next to forms that load (`12`,
`12.5`, `12.50`, `0`); a staffing month that is not the first of its month,
two copies of one (agency, month) key that differ and two that are the same
number written differently (`2.5` and `2.50`); a reintegration check with
neither employment nor housing; a participant_id on a resident's survey
answer; scores 0 and 6.

Lines count the header as line 1 (spreadsheet row numbers for XLSX). Rows not
listed below are clean background rows that load. A row breaking several
rules is counted under each rule in `planted.json`; a badly written value
breaks only its format rule (no order or range rule on that column).

## Expected result per table

{chr(10).join(summary)}

## Every planted row

| file | line | key | what is wrong (or why it must still load) | expected rule id(s) / result |
|---|---:|---|---|---|
{chr(10).join(rows)}

Regenerate with `python -c "from dashboard.sample import write_messy_extract; write_messy_extract('sample_data/messy')"`.
"""
    path.write_text(text, encoding="utf-8")
