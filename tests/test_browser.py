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
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from dashboard import page_list

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
# Screenshots go to a temporary folder (printed by the tests; PARTNERSHIP_SCREENSHOTS overrides it).
SHOTS = Path(os.environ.get("PARTNERSHIP_SCREENSHOTS") or Path(tempfile.gettempdir()) / "partnership-screenshots")
PHONE = {"width": 390, "height": 844}
# Every page of the one page list (dashboard/page_list.py) but the admin's access log: name -> URL path.
PAGES = {Path(p.path).stem: p.url_path for p in page_list.PAGES if p.group in ("outcomes", "operations")}
OTHER_PAGES = {Path(p.path).stem: p.url_path for p in page_list.PAGES if p.group in ("steward", "report")}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium (/usr/bin/chromium) is not installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(url: str, extra: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=url, GX_ANALYTICS_ENABLED="false")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "streamlit_app.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.serverAddress", "localhost", "--browser.gatherUsageStats", "false",
         *extra],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://localhost:{port}"
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.5)
    _stop(proc)
    raise AssertionError("streamlit did not start within 120 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from test_pages import build_sample_database

    return build_sample_database(tmp_path_factory.mktemp("browser") / "sample.duckdb")


@pytest.fixture(scope="module")
def server(sample_db: str) -> Iterator[str]:
    proc, base = _start(sample_db, [])
    try:
        yield base
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def dark_server(sample_db: str) -> Iterator[str]:
    """A second server with Streamlit's dark theme (``theme.base = "dark"``)."""
    proc, base = _start(sample_db, ["--theme.base", "dark"])
    try:
        yield base
    finally:
        _stop(proc)


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


def _shoot(page, name: str, width: int = 1400) -> Path:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    block = page.get_by_test_id("stMainBlockContainer")
    # The app scrolls inside its main block: grow the window to the content so nothing is cut off.
    height = int(block.evaluate("el => el.scrollHeight")) + 200
    page.set_viewport_size({"width": width, "height": max(844 if width < 800 else 1000, height)})
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


def _key_numbers(sample_db: str) -> dict[str, list[str]]:
    """Numbers each page must show, from the engine (formatted as the pages format them)."""
    from dashboard import store, views
    from dashboard.metrics.engine import participant_counts, published
    from dashboard.metrics.tables import Filters, load_tables

    engine = store.make_engine(sample_db)
    try:
        tables = load_tables(engine)
    finally:
        engine.dispose()
    counts = published(participant_counts(tables, Filters(), min_cell_size=11))
    enrolled = views.tile_value(views.overall_row(counts, "participants_enrolled"), "count", 11)
    return {
        "overview": [enrolled],
        "data_status": [f"{tables.participants.height:,}", f"{tables.referrals.height:,}"],
        "data_quality": ["Rows held in quarantine"],
    }


def _check_page(page, name: str, numbers: dict[str, list[str]]) -> str:  # type: ignore[no-untyped-def]
    text = _text(page)
    assert page.get_by_test_id("stException").count() == 0, name
    assert page.get_by_test_id("stAlertContentError").count() == 0, (name, text[:500])
    assert "Traceback" not in text, name
    # Interactive tables draw on a canvas: their numbers are read from the tables' print copies.
    tables = " ".join(page.locator(".pp-print-only").all_text_contents())
    for number in numbers.get(name, []):
        assert number in text or number in tables, (name, number)
    return text


@pytest.mark.parametrize("variant", ["light", "dark", "phone"])
def test_screenshots_of_every_page_in_light_dark_and_phone_width(  # type: ignore[no-untyped-def]
    variant: str, sample_db: str, request: pytest.FixtureRequest, browser
) -> None:
    base = request.getfixturevalue("dark_server" if variant == "dark" else "server")
    width = PHONE["width"] if variant == "phone" else 1400
    page = browser.new_page(viewport=PHONE if variant == "phone" else {"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    numbers = _key_numbers(sample_db)
    for name, path in {**PAGES, **OTHER_PAGES}.items():
        page.goto(f"{base}/{path}")
        _wait_for_app(page)
        text = _check_page(page, name, numbers)
        if name in PAGES:
            assert "Data as of 2026-06-30" in text, (variant, name)
        shot = _shoot(page, f"{variant}_{name}", width=width)
        assert shot.stat().st_size > 5_000
        if variant == "dark":  # the theme really is dark: the app's background is not white
            background = page.get_by_test_id("stApp").evaluate("el => getComputedStyle(el).backgroundColor")
            assert background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), background
        page.set_viewport_size(PHONE if variant == "phone" else {"width": 1400, "height": 1000})
    print(f"screenshots ({variant}): {SHOTS}")
    assert not errors, errors


def test_print_hides_the_sidebar_and_prints_every_column(server: str, sample_db: str, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/data_status")
    _wait_for_app(page)
    page.emulate_media(media="print")
    page.wait_for_timeout(500)
    assert not page.get_by_test_id("stSidebar").is_visible()
    copies = page.locator(".pp-print-only")
    assert copies.count() >= 3 and copies.first.is_visible()
    printed = " ".join(copies.all_inner_texts())
    for number in _key_numbers(sample_db)["data_status"]:
        assert number in printed
    assert "Rejected (quarantined)" in printed and "Duplicates dropped" in printed  # every column
    _shoot(page, "print_data_status")
    page.emulate_media(media="screen")
    assert not copies.first.is_visible()  # on screen only the interactive table
