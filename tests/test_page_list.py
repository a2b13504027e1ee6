"""The page list is declared once (dashboard/page_list.py); the one suppression default and "Unassigned"."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard import page_list, settings, views
from dashboard.metrics import registry

REPO = Path(__file__).resolve().parent.parent


def test_every_page_file_is_in_the_list_once_and_exists() -> None:
    listed = [p.path for p in page_list.PAGES]
    assert len(listed) == len(set(listed))
    on_disk = sorted(f"pages/{p.name}" for p in (REPO / "pages").glob("*.py"))
    assert sorted(listed) == on_disk
    assert [p.path for p in page_list.PAGES if p.default] == ["pages/overview.py"]
    assert "pages/access_log.py" not in [p.path for p in page_list.visible_pages("steward")]
    assert "pages/access_log.py" in [p.path for p in page_list.visible_pages("admin")]


def test_the_entry_script_reads_the_list() -> None:
    entry = (REPO / "streamlit_app.py").read_text()
    assert "page_list.visible_pages" in entry and "st.Page(\"pages/" not in entry


def test_one_default_threshold_and_one_unassigned_label() -> None:
    assert views.DEFAULT_MIN_CELL_SIZE is settings.DEFAULT_MIN_CELL_SIZE
    assert views.UNASSIGNED is registry.UNASSIGNED_LABEL
    offenders = []
    for path in [REPO / "streamlit_app.py", *(REPO / "pages").glob("*.py"), *(REPO / "dashboard").glob("*.py")]:
        text = path.read_text()
        if re.search(r"min_cell_size: int = 11\b|default=11\b|= \"Unassigned\"", text):
            offenders.append(path.name)
    assert offenders == []
