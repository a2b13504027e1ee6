"""The Data quality page under AppTest, on the messy sample, as viewer and as steward."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("dashboard.ingest")
from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard import store  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")
MESSY = REPO / "sample_data" / "messy"
PAGE = "pages/data_quality.py"
ROW_LEVEL = {"raw_values", "record_key", "reasons", "line_number", "source_file"}


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


def open_page(url: str, role: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PARTNERSHIP_DATA_DOCS", str(tmp_path / "no_docs"))
    if role is None:
        monkeypatch.delenv("PARTNERSHIP_ROLE", raising=False)
    else:
        monkeypatch.setenv("PARTNERSHIP_ROLE", role)
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page(PAGE)
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
    counts = next(f.value for f in at.dataframe if {"table_name", "agency_id", "rule", "rows"} <= set(f.value.columns))
    assert counts["rows"].sum() >= planted_rejected()


def test_a_steward_sees_the_rejected_rows(messy_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = open_page(messy_url, "steward", monkeypatch, tmp_path)
    assert "steward" in " ".join(c.value for c in at.caption)
    quarantine = next(f.value for f in at.dataframe if "raw_values" in f.value.columns)
    assert len(quarantine) == planted_rejected()
    # example rows of the selected rule, values spread into contract columns
    assert at.selectbox(key="dq_example_rule").value
    # filter the browser to one table: its values come as contract columns
    at.multiselect(key="dq_q_tables").set_value(["agencies"])
    at.run()
    assert not at.exception
    agencies = next(f.value for f in at.dataframe if "agency_type" in f.value.columns and "rules" in f.value.columns)
    assert sorted(agencies["line_number"].tolist()) == [14, 15, 18, 19, 20, 22]
    assert at.selectbox(key="dq_reprocess_table").value == "agencies"
