"""The Data quality page under AppTest, on the messy sample, as viewer and as steward.

Tables are found by their key (``page_style.table``), never by position.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("dashboard.ingest")
from streamlit.testing.v1 import AppTest
from test_pages import table_by_key

from dashboard import store, worklist
from dashboard.roles import Principal

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")
MESSY = REPO / "sample_data" / "messy"
PAGE = "pages/data_quality.py"
# Row-level columns, as the engine names them and as the page titles them.
ROW_LEVEL = {"raw_values", "record_key", "reasons", "line_number", "source_file",
             "Delivered values", "Record key", "Reasons", "Line", "File", "Example lines (file and line)"}


@pytest.fixture(scope="module")
def messy_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from dashboard.ingest import load_extract

    url = f"duckdb:///{tmp_path_factory.mktemp('dq') / 'messy.duckdb'}"
    engine = store.make_engine(url)
    try:
        load_extract(MESSY, engine)
    finally:
        engine.dispose()
    return url


def open_page(url: str, role: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
              params: dict[str, str] | None = None) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PARTNERSHIP_DATA_DOCS", str(tmp_path / "no_docs"))
    if role is None:
        monkeypatch.delenv("PARTNERSHIP_ROLE", raising=False)
    else:
        monkeypatch.setenv("PARTNERSHIP_ROLE", role)
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page(PAGE)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def planted_rejected() -> int:
    planted = json.loads((MESSY / "planted.json").read_text())["tables"]
    return sum(t["rejected"] for t in planted.values())


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_a_viewer_sees_aggregates_only(messy_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(messy_url, None, monkeypatch, tmp_path)
    assert "viewer" in " ".join(c.value for c in at.caption)
    assert metric(at, "Data status") == "Fail"
    assert metric(at, "Rows held in quarantine") == f"{planted_rejected():,}"
    for frame in at.dataframe:
        assert not ROW_LEVEL & set(frame.value.columns), frame.value.columns
    assert any("for stewards" in i.value for i in at.info)
    # the viewer's quarantine counts cover every open entry (a row counted once per rule broken)
    counts = table_by_key(at, "dq_q_counts")
    assert {"Partner agency", "What is wrong", "Rows", "Rule id"} <= set(counts.columns)
    assert counts["Rows"].sum() >= planted_rejected()
    # the viewer's worklist: the same rule breaks, in words, without line numbers and without fix lists
    partners = worklist.partners(worklist.worklist(_viewer_audit(messy_url), "viewer", {}))
    assert sum(n for _, _, n in partners) == counts["Rows"].sum()
    assert not [b for b in at.get("download_button") if "Fix list" in str(b.proto.label)]


def _viewer_audit(url: str):  # type: ignore[no-untyped-def]
    from dashboard import stewardship

    engine = store.make_engine(url)
    try:
        return stewardship.read_audit(engine, "viewer")
    finally:
        engine.dispose()


def test_a_steward_sees_the_rejected_rows(messy_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(messy_url, "steward", monkeypatch, tmp_path)
    assert "steward" in " ".join(c.value for c in at.caption)
    quarantine = table_by_key(at, "dq_q_rows")
    assert "Delivered values" in quarantine.columns
    assert quarantine.height == planted_rejected()
    # example rows of the selected rule, values spread into contract columns
    assert at.selectbox(key="dq_example_rule").value
    # filter the browser to one table: its values come as contract columns
    at.multiselect(key="dq_q_tables").set_value(["agencies"])
    at.run()
    assert not at.exception
    agencies = table_by_key(at, "dq_q_rows")
    assert "agency_type" in agencies.columns and "Rules broken" in agencies.columns
    assert sorted(agencies["Line"].to_list()) == [14, 15, 18, 19, 20, 22]
    assert at.selectbox(key="dq_reprocess_table").value == "agencies"


def test_the_worklist_names_partners_rules_in_words_and_lines(
    messy_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = open_page(messy_url, "steward", monkeypatch, tmp_path)
    buttons = [b for b in at.get("download_button") if "Fix list" in str(b.proto.label)]
    audit = _steward_audit(messy_url)
    plan = worklist.worklist(audit, Principal("t", "steward"), {})
    assert len(buttons) == min(len(worklist.partners(plan)), 25) > 0
    first_agency = worklist.partners(plan)[0][0]
    shown = table_by_key(at, f"dq_worklist_{first_agency}")
    assert list(shown.columns[:3]) == ["What to fix", "Rows", "Share of the partner's rejected rows"]
    rows = [int(r.replace(",", "")) for r in shown["Rows"].to_list()]
    assert rows == sorted(rows, reverse=True)  # biggest fix first
    assert all(s.endswith("%") for s in shown["Share of the partner's rejected rows"].to_list())
    assert any("line" in lines for lines in shown["Example lines (file and line)"].to_list())


def _steward_audit(url: str):  # type: ignore[no-untyped-def]
    from dashboard import stewardship

    engine = store.make_engine(url)
    try:
        return stewardship.read_audit(engine, "steward")
    finally:
        engine.dispose()


def test_the_tab_is_in_the_link_and_an_unknown_tab_gives_one_message(
    messy_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = open_page(messy_url, None, monkeypatch, tmp_path, {"tab": "Load history"})
    assert at.session_state["dq_tab"] == "Load history"
    assert at.query_params["tab"] == "Load history"
    at = open_page(messy_url, None, monkeypatch, tmp_path, {"tab": "<b>nope</b>"})
    warnings = [w.value for w in at.warning if "tab\\=" in w.value]
    assert len(warnings) == 1 and "is not one of" in warnings[0]
    assert "<b>" not in warnings[0] and "tab=<b>nope</b>" in re.sub(r"\\(.)", r"\1", warnings[0])  # shown as text
    assert "tab" not in at.query_params  # the default tab: no parameter


def test_the_load_history_chart_is_colour_blind_safe_and_reads_runs_not_milliseconds(
    messy_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dashboard import steward_views as sv

    at = open_page(messy_url, None, monkeypatch, tmp_path)
    spec = next(json.loads(c.proto.spec) for c in at.get("vega_lite_chart")
                if "rejected per load run" in json.dumps(json.loads(c.proto.spec).get("title", "")))
    assert spec["encoding"]["x"]["type"] == "ordinal"
    assert spec["encoding"]["color"]["scale"]["range"] == sv.OKABE_ITO
    assert spec["encoding"]["y"]["axis"]["format"] == ".0%"
    history = table_by_key(at, "dq_history")
    assert all(v == "—" or v.endswith("%") for v in history["Rejected"].to_list())
    assert pl.Series(history["Started"]).str.contains(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$").all()


def test_the_data_docs_are_an_offline_copy_that_cannot_frame_the_dashboard(
    messy_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from test_data_docs import PAGE as DOCS_PAGE

    docs = tmp_path / "docs"
    page = docs / "validations" / "referrals" / "run" / "20261202T140000.000000Z" / "batch.html"
    page.parent.mkdir(parents=True)
    page.write_text(DOCS_PAGE)
    (docs / "index.html").write_text(DOCS_PAGE)
    monkeypatch.setenv("DATABASE_URL", messy_url)
    monkeypatch.setenv("PARTNERSHIP_DATA_DOCS", str(docs))
    monkeypatch.setenv("PARTNERSHIP_ROLE", "steward")
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page(PAGE)
    at.query_params["tab"] = "Data docs"
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="dq_docs_page").value == page.relative_to(docs).as_posix()
    frames = [e for e in at.get("iframe")]
    assert len(frames) == 1
    html = frames[0].proto.srcdoc
    assert "Content-Security-Policy" in html and "<script" not in html.lower() and "href=" not in html.lower()
