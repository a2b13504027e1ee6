"""The Report page in a real browser: one click builds the package and the PDF downloads.

Runs the dashboard with ``streamlit run`` on an embedded database filled with
the hand-counted fixture of test_report.py and drives Debian's chromium
through Playwright (marker ``browser``; skipped when chromium is missing).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard import store
from dashboard.contract import TABLE_NAMES
from test_report import report_tables

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(duckdb_engine: sa.engine.Engine) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    pytest.importorskip("playwright")
    tables = report_tables()
    with duckdb_engine.begin() as conn:
        for name in (*TABLE_NAMES, "load_runs"):
            store.bulk_upsert(conn, name, getattr(tables, name))
    url = duckdb_engine.url.render_as_string(hide_password=False)
    duckdb_engine.dispose()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "GX_ANALYTICS_ENABLED": "false"}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "streamlit_app.py"),
         "--server.port", str(port), "--server.headless", "true", "--browser.serverAddress", "localhost",
         "--browser.gatherUsageStats", "false"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        yield f"http://localhost:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_idle(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stApp").wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)


def test_report_button_produces_the_package(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(accept_downloads=True, viewport={"width": 1300, "height": 1000})
            page.goto(f"{server}/report?program=P01")
            _wait_idle(page)
            page.get_by_text("Report package", exact=True).first.wait_for(timeout=60_000)
            page.get_by_role("button", name="Build report package").click()
            page.get_by_text("Report package ready", exact=False).wait_for(timeout=180_000)
            _wait_idle(page)
            with page.expect_download(timeout=60_000) as download_info:
                page.get_by_role("button", name="PDF report").click()
            target = tmp_path / download_info.value.suggested_filename
            download_info.value.save_as(target)
        finally:
            browser.close()
    assert target.name.startswith("report_") and target.suffix == ".pdf"
    assert target.read_bytes().startswith(b"%PDF")
