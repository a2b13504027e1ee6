"""Hostile partner names and an over-long link in a real browser (Debian chromium, Playwright).

AppTest reads the Markdown a page sends; this checks what the browser makes of
it: no link, image, KaTeX or bold from partner text, no request to the
addresses the names hold, and a link Streamlit drops as too long (more than
1,000 parameters) answered by one message. Screenshot under
``test-artifacts/screenshots/hostile_overview.png`` (look at it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
from test_browser import CHROMIUM, REPO, _free_port, _shoot, _text, _wait_for_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed"),
]


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from test_hostile_pages import hostile_extract

    from dashboard import store
    from dashboard.ingest import load_extract

    root = tmp_path_factory.mktemp("browser_hostile")
    url = f"duckdb:///{root / 'hostile.duckdb'}"
    engine = store.make_engine(url)
    try:
        load_extract(hostile_extract(root / "extract"), engine)
    finally:
        engine.dispose()
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=url, GX_ANALYTICS_ENABLED="false")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "streamlit_app.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.serverAddress", "localhost", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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


MARKUP_IN_PAGE = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return {
    links: [...app.querySelectorAll('a')].map(a => a.href).filter(h => !h.startsWith(location.origin)),
    images: [...app.querySelectorAll('img')].map(i => i.src),
    katex: app.querySelectorAll('.katex').length,
    bold: [...app.querySelectorAll('strong, b')].map(s => s.innerText).filter(t => !t.startsWith('Data as of')),
  };
}"""


def test_hostile_names_show_as_text_in_the_browser(hostile_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    from test_hostile_pages import AGENCY, COMMA_ID, PIXEL, STYLED

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    query = "&".join(f"program={p}" for p in ("P01", "P02", "P03", "P04", COMMA_ID.replace(",", "%2C")))
    for path in (f"?{query}&agency=A01&agency=A02", "pilot_evaluation", "partnerships", "equity"):
        page.goto(f"{hostile_server}/{path}")
        _wait_for_app(page)
        found = page.evaluate(MARKUP_IN_PAGE)
        assert found == {"links": [], "images": [], "katex": 0, "bold": []}, (path, found)
        assert page.get_by_test_id("stException").count() == 0, path
        if path.startswith("?"):
            text = _text(page)
            for name in (PIXEL, STYLED, AGENCY, "Comma program www.example.org a@b.org"):
                assert name in text.replace("\u2060", ""), name
            shot = _shoot(page, "hostile_overview")
            assert shot.stat().st_size > 10_000
    assert not [r for r in requests if "127.0.0.1:9" in r or "example.org" in r]


def test_a_link_over_streamlits_limits_gives_one_message(hostile_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    query = "&".join(f"program=P{i:04d}" for i in range(1500))  # 1,500 parameters, 20,999 characters
    page.goto(f"{hostile_server}/?{query}")
    page.wait_for_url("**link_too_long**", timeout=60_000)
    _wait_for_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_by_test_id("stAlert").count() == 1
    assert "the link was too long to read (1,500 parameters, 20,999 characters)" in sidebar.inner_text()
    page.locator("[data-testid=stVegaLiteChart]").first.wait_for(timeout=60_000)  # the page still draws
    _shoot(page, "link_too_long")
