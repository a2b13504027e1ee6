"""The dashboard records what people look at, limits a steward to their agencies, and shows
admins the access log (AppTest, on test_stewardship's hand-made world in an embedded file).

The world's open quarantine: F9 (agency A1), F11 (no agency), E9 and a keyless
supervision event (both A2). A steward limited to A2 therefore sees 2 rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard import access_log, store
from test_stewardship import write_world

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")


@pytest.fixture
def world_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"duckdb:///{tmp_path / 'world.duckdb'}"
    engine = store.make_engine(url)
    store.create_schema(engine)
    write_world(engine)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PARTNERSHIP_DATA_DOCS", str(tmp_path / "no_docs"))
    monkeypatch.chdir(tmp_path)  # no configuration file, no secrets: a single-user install
    for name in ("PARTNERSHIP_ROLE", "PARTNERSHIP_AGENCIES", "PARTNERSHIP_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return url


def _log(url: str) -> list[dict[str, object]]:
    access_log.writer_for(url).flush()  # page views are written in the background
    engine = store.make_engine(url)
    try:
        with store.connect(engine) as conn:
            rows = conn.execute(sa.text("SELECT user_name, role, action, object, filters, rows_returned "
                                        "FROM access_log ORDER BY seq")).mappings().all()
        assert access_log.verify(engine).intact
        return [dict(r) for r in rows]
    finally:
        engine.dispose()


def _open(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_page_view_is_recorded_with_its_filters(world_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERSHIP_USER", "director@county.gov")
    at = _open(program="P1")
    at.run()  # a rerun with the same page and filters is not a new view
    views = [r for r in _log(world_url) if r["action"] == "page_view"]
    assert len(views) == 1
    assert (views[0]["user_name"], views[0]["role"], views[0]["object"]) == ("director@county.gov", "viewer", "Overview")
    assert json.loads(str(views[0]["filters"])) == {"program": ["P1"]}


def test_a_steward_limited_to_an_agency_sees_only_its_rows_and_the_view_is_recorded(
    world_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERSHIP_ROLE", "steward")
    monkeypatch.setenv("PARTNERSHIP_AGENCIES", "A2")
    monkeypatch.setenv("PARTNERSHIP_USER", "lee@city.gov")
    at = _open("pages/data_quality.py")
    quarantine = next(f.value for f in at.dataframe if "Delivered values" in f.value.columns)
    assert len(quarantine) == 2 and all(p.endswith("(A2)") or p == "A2" for p in quarantine["Partner agency"])
    assert any("limited to the rows of agencies A2" in c.value for c in at.caption)
    # the data docs span every agency: refused to a limited steward, and the refusal is recorded
    assert any("may see only their own agencies' rows" in i.value for i in at.info)
    log = _log(world_url)
    viewed = [r for r in log if r["action"] == "quarantine_view" and r["object"] == "quarantine"]
    assert len(viewed) == 1 and viewed[0]["rows_returned"] == 2 and viewed[0]["user_name"] == "lee@city.gov"
    assert any(r["action"] == "refused" and r["object"] == "The data docs" for r in log)


def test_an_admin_sees_the_access_log_page_and_a_viewer_does_not(
    world_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERSHIP_USER", "sam@county.gov")
    viewer = _open()
    with pytest.raises(Exception):  # the page is not even in a viewer's navigation
        viewer.switch_page("pages/access_log.py").run()
        assert not viewer.exception
    monkeypatch.setenv("PARTNERSHIP_ROLE", "admin")
    monkeypatch.setenv("PARTNERSHIP_USER", "it@state.gov")
    at = _open("pages/access_log.py")
    assert any("intact" in s.value for s in at.success)
    frame = at.dataframe[0].value
    assert {"sam@county.gov", "it@state.gov"} <= set(frame["user_name"].to_list())
    assert any(r["action"] == "access_log_view" and r["user_name"] == "it@state.gov" for r in _log(world_url))


def test_a_broken_log_refuses_row_level_views_but_not_aggregates(
    world_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = store.make_engine(world_url)
    with engine.begin() as conn:  # the log is gone (a database not migrated, a dropped table)
        conn.execute(sa.text("DROP TABLE access_log"))
    engine.dispose()
    monkeypatch.setenv("PARTNERSHIP_ROLE", "admin")
    at = _open("pages/data_quality.py")
    assert any("could not be written" in e.value for e in at.error)  # the quarantine rows are refused
    assert not any({"raw_values", "Delivered values"} & set(f.value.columns) for f in at.dataframe)
    assert any(m.label == "Rows held in quarantine" for m in at.metric)  # aggregates still shown
    at.switch_page("pages/overview.py").run()
    assert not at.exception
    assert any("access log is not being written" in w.value for w in at.warning)  # told to the admin
