"""Data docs shown offline and without framing the dashboard (dashboard/data_docs.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dashboard import data_docs

PAGE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css">
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<base href="https://example.org/">
</head><body>
<a href="../../../../index.html">Validation Results</a>
<a HREF='/' onclick="location='/'">Home</a>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo.png">
<table><tr><td>referrals.status</td><td>&lt;b&gt;done&lt;/b&gt;</td></tr></table>
<script>window.top.location = '/';</script>
<form action="/x"><button formaction="/y">go</button></form>
</body></html>"""


def test_the_copy_has_no_script_no_network_and_no_link(tmp_path: Path) -> None:
    copy = data_docs.offline_copy(PAGE, gx_css=".ge { color: red }")
    lowered = copy.lower()
    for gone in ("<script", "https://", "href=", "src=", "onclick", "<base", "action="):
        assert gone not in lowered, gone
    assert "Content-Security-Policy" in copy and "default-src 'none'" in copy
    assert ".ge { color: red }" in copy  # the package's style sheet, inlined
    assert "&lt;b&gt;done&lt;/b&gt;" in copy  # delivered values stay escaped text
    assert "Validation Results" in copy  # the link's text stays, without a target


def test_the_package_style_sheet_is_found_without_importing_great_expectations() -> None:
    import sys

    pytest.importorskip("importlib.util")
    before = "great_expectations" in sys.modules
    css = data_docs.gx_stylesheet()
    if not before:
        assert "great_expectations" not in sys.modules  # found on disk, not imported (slow)
    if css:
        assert "url(" not in css and "@import" not in css


def test_pages_are_listed_newest_first_and_nothing_outside_the_folder(tmp_path: Path) -> None:
    docs = tmp_path / "data_docs"
    old = docs / "validations" / "referrals" / "run" / "20260101T090000.000000Z" / "b.html"
    new = docs / "validations" / "referrals" / "run" / "20261202T140000.000000Z" / "b.html"
    for path in (old, new, docs / "index.html"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PAGE)
    secret = tmp_path / "secret.html"
    secret.write_text("<p>not docs</p>")
    os.symlink(secret, docs / "validations" / "leak.html")
    pages = data_docs.docs_pages(docs)
    assert pages == [new.relative_to(docs).as_posix(), old.relative_to(docs).as_posix(), "index.html"]
    assert data_docs.page_label(pages[0]) == "referrals · 20261202T140000.000000Z"
    assert "Content-Security-Policy" in data_docs.read_page(docs, pages[0])
    for outside in ("validations/leak.html", "../secret.html", "/etc/passwd"):
        with pytest.raises(ValueError):
            data_docs.read_page(docs, outside)
    assert data_docs.docs_pages(tmp_path / "missing") == []
