"""The steward's worklist and fix lists (dashboard/worklist.py) on a small hand-made audit.

The audit is test_stewardship's world: open entries after load r2 are
referral F9 of A1 (enum:status, line 4), event E9 of A2 (required:outcome and
after_as_of:event_date, line 7), a keyless event of A2 (required:event_id,
line 9) and referral F11 with no submitting agency (fk:referring_agency_id,
line 6). The check run r3 and the resolved participant N9 are not open.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import polars as pl
import pytest
from test_stewardship import REFERRAL_F9, _q, world_audit, world_audit_frames

from dashboard import steward_views as sv
from dashboard import stewardship, worklist
from dashboard.roles import AccessRefused, Principal

STEWARD = Principal("s@x", "steward")
NAMES = {"A1": "Police Dept", "A2": "Probation"}


def test_the_worklist_is_per_partner_and_rule_biggest_first_with_lines() -> None:
    plan = worklist.worklist(world_audit("steward"), STEWARD, NAMES)
    assert plan.select("agency_id", "rule", "rows").rows() == [
        # A2 has two open rows (three rule breaks): first; then A1 and the unassigned row, one each.
        ("A2", "after_as_of:event_date", 1), ("A2", "required:event_id", 1), ("A2", "required:outcome", 1),
        ("(unassigned)", "fk:referring_agency_id", 1), ("A1", "enum:status", 1),
    ]
    a2 = plan.filter(pl.col("agency_id") == "A2")
    assert a2["partner"].unique().to_list() == ["Probation (A2)"]
    assert a2["share_of_partner"].to_list() == [0.5, 0.5, 0.5]  # one of A2's two rejected rows each
    assert a2.filter(pl.col("rule") == "required:outcome")["example_lines"].item() == "supervision_events.csv line 7"
    assert a2.filter(pl.col("rule") == "required:outcome")["what_to_fix"].item() == "outcome is required but empty"
    assert a2["table"].unique().to_list() == ["Supervision events"]
    assert plan.filter(pl.col("agency_id") == "(unassigned)")["partner"].item() == worklist.UNASSIGNED_PARTNER
    assert worklist.partners(plan)[0] == ("A2", "Probation (A2)", 3)


def test_a_viewer_gets_the_counts_without_lines() -> None:
    plan = worklist.worklist(world_audit("viewer"), "viewer", NAMES)
    assert plan["rows"].sum() == 5
    assert set(plan["example_lines"].to_list()) == {""}
    table = sv.worklist_table(plan, with_lines=False)
    assert "Example lines (file and line)" not in table.columns
    assert table["Share of the partner's rejected rows"].to_list()[0] == "50.0%"


def test_a_steward_limited_to_an_agency_sees_and_exports_only_theirs() -> None:
    limited = Principal("lee@x", "steward", frozenset({"A1"}))
    audit = world_audit("steward")
    plan = worklist.worklist(audit, limited, NAMES)
    assert plan["agency_id"].unique().to_list() == ["A1"]
    assert worklist.fix_list(audit, limited, "A1").height == 1
    with pytest.raises(AccessRefused, match="only their own agencies"):
        worklist.fix_list(audit, limited, "A2")
    with pytest.raises(PermissionError):
        worklist.fix_list(audit, Principal("v@x", "viewer"), "A1")


def test_the_fix_list_walks_the_file_with_the_delivered_values() -> None:
    rows = worklist.fix_list(world_audit("steward"), STEWARD, "A2")
    assert rows.select("Line", "Rule", "Column", "Value delivered").rows() == [
        (7, "after_as_of:event_date", "event_date", "2026-05-01"),
        (7, "required:outcome", "outcome", ""),
        (9, "required:event_id", "event_id", ""),
    ]
    assert set(rows["File"].to_list()) == {"supervision_events.csv"}
    assert set(rows["Table"].to_list()) == {"Supervision events"}


def test_the_fix_list_csv_neutralises_formulas_and_names_agency_and_date() -> None:
    frames = world_audit_frames()
    hostile = {**REFERRAL_F9, "referral_id": "F12", "status": "=HYPERLINK(\"http://x\")"}
    extra = pl.DataFrame([_q("r2", "referrals", 8, "@F12", "A1", hostile, ["enum:status"])],
                         schema=frames["quarantine"].schema)
    audit = stewardship.build_audit(frames["load_runs"], frames["load_files"],
                                    pl.concat([frames["quarantine"], extra]), frames["load_issues"], role="steward")
    data = worklist.fix_list_csv(audit, STEWARD, "A1")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    f12 = next(r for r in rows if r["Line"] == "8")
    assert f12["Value delivered"] == "'=HYPERLINK(\"http://x\")" and f12["Record key"] == "'@F12"
    assert worklist.fix_list_file_name("A1", dt.date(2026, 3, 31)) == "fix_list_A1_2026-03-31.csv"
    assert worklist.fix_list_file_name("../A 1;=x", None) == "fix_list_A-1-x_no-load.csv"


def test_status_tables_use_words_percentages_and_worst_first() -> None:
    audit = world_audit("viewer")
    summary = stewardship.summarize(audit, {})
    status = sv.table_status_table(summary.tables)
    # two open rows each: failing tables first, ties in contract order
    assert status.head(2).select("Table", "Status", "Rows held in quarantine").rows() == [
        ("Referrals", "✖ Fail", "2"), ("Supervision events", "✖ Fail", "2")]
    assert "open_rejections" not in status.columns and "Rows held in quarantine" in status.columns
    assert sv.percent_text(0.8416) == "84.2%" and sv.count_text(1234567) == "1,234,567"
    history = sv.history_table(summary.history)
    assert history["Rejected"].to_list()[-1] == "25.0%"  # r1: 4 of 16 rows
    assert sv.row_counts_table({"participants": 3000})["Rows"].to_list()[3] == "3,000"


def test_check_tables_read_in_words() -> None:
    frame = pl.DataFrame({"check": ["volume_drift", "freshness"], "table": ["referrals", "*"],
                          "agency_id": ["A1", "*"], "change": [0.125, None], "q_value": [0.01, None]})
    shown = sv.readable(frame, NAMES)
    assert shown.columns == ["Check", "Table", "Partner agency", "Change", "q-value"]
    assert shown.row(0) == ("Volume drift", "Referrals", "Police Dept (A1)", "12.5%", 0.01)
    assert shown.row(1)[:3] == ("Freshness", "All tables", "All partners")
