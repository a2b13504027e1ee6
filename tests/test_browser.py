"""The dashboard in a real browser: Debian's chromium driven by Playwright.

Starts ``streamlit run streamlit_app.py`` on a free port against the sample
database, opens every page, applies filters through the URL, follows a page
link and checks the filters are kept, and saves a screenshot of each page's
main block under ``test-artifacts/screenshots/`` (look at them).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "test-artifacts" / "screenshots"
PAGES = {
    "overview": "",
    "pilot_evaluation": "pilot_evaluation",
    "recidivism": "recidivism",
    "referrals": "referrals",
    "compliance": "compliance",
    "partnerships": "partnerships",
    "community_policing": "community_policing",
    "equity": "equity",
    "data_status": "data_status",
    "operations": "operations",
    "community_voice": "community_voice",
}

# Pages other parts of the product add to the navigation: opened and photographed too.
OTHER_PAGES = {name: name for name in ("data_quality", "report") if (REPO / "pages" / f"{name}.py").exists()}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from test_pages import build_sample_database

    url = build_sample_database(tmp_path_factory.mktemp("browser") / "sample.duckdb")
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=url, GX_ANALYTICS_ENABLED="false")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "streamlit_app.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.serverAddress", "localhost", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://localhost:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("streamlit did not start within 60 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield instance
        instance.close()


def _wait_for_app(page) -> None:  # type: ignore[no-untyped-def]
    app = page.get_by_test_id("stApp")
    app.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=120_000,
    )
    page.wait_for_timeout(1500)  # let Vega finish drawing the charts


def _shoot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    block = page.get_by_test_id("stMainBlockContainer")
    # The app scrolls inside its main block: grow the window to the content so nothing is cut off.
    height = int(block.evaluate("el => el.scrollHeight")) + 200
    page.set_viewport_size({"width": 1400, "height": max(1000, height)})
    page.wait_for_timeout(800)
    block.screenshot(path=str(path))
    return path


def _text(page) -> str:  # type: ignore[no-untyped-def]
    return page.get_by_test_id("stMain").inner_text()


def test_every_page_in_a_real_browser(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    for name, path in {**PAGES, **OTHER_PAGES}.items():
        page.goto(f"{server}/{path}")
        _wait_for_app(page)
        text = _text(page)
        assert "Traceback" not in text and "Error" not in text.split("Data as of")[0], name
        if name in PAGES:
            assert "Data as of" in text, name
        assert page.get_by_test_id("stException").count() == 0, name
        if name in PAGES and name not in ("partnerships", "data_status"):
            assert page.locator("[data-testid=stVegaLiteChart]").count() > 0, name
        shot = _shoot(page, name)
        assert shot.stat().st_size > 10_000
    assert not errors, errors


def test_filters_from_the_url_are_applied_and_kept_across_a_link(server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/?program=P01&cohort=pilot&start=2025-01-01")
    _wait_for_app(page)
    text = _text(page)
    assert "Showing: program" in text and "cohort Pilot" in text and "period 2025-01-01" in text
    _shoot(page, "overview_filtered")
    page.get_by_test_id("stMain").get_by_role("link", name="Data status →").click()
    page.wait_for_url("**/data_status**", timeout=30_000)
    _wait_for_app(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["program"] == ["P01"] and query["cohort"] == ["pilot"] and query["start"] == ["2025-01-01"]
    assert "cohort Pilot" in _text(page)
    page.get_by_test_id("stMain").get_by_role("link", name="Full pilot evaluation", exact=False).count()
    page.goto(f"{server}/compliance?program=P01&cohort=pilot&start=2025-01-01")
    _wait_for_app(page)
    assert "cohort Pilot" in _text(page)
    _shoot(page, "compliance_filtered")
