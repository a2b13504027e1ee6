"""``serve`` runs unattended: no terminal, no display, a fresh home; it answers its health
check and SIGTERM leaves no process behind. Real subprocesses, bounded in time."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard import serve, store

STARTUP_SECONDS = 120
STOP_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bare_environment(home: Path) -> dict[str, str]:
    """What a service manager gives: no DISPLAY, no terminal variables, a home never used before."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")}
    return {**keep, "HOME": str(home), "GX_ANALYTICS_ENABLED": "false"}


def _session_processes(session_id: int) -> list[int]:
    """Every process whose session is ``session_id`` (the server and anything it started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id and fields[0] != "Z":  # field 6 of stat: session id
            found.append(int(entry.name))
    return found


def _health(port: int) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return response.status, response.read().decode()
    except OSError:
        return None


def _console_script() -> str:
    return str(Path(sys.executable).with_name("partnership-dashboard"))


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc to find leftover processes")
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_serve_with_no_terminal_and_a_fresh_home_answers_health_and_stops_on_sigterm(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    db = tmp_path / "dash.duckdb"
    engine = store.make_engine(f"duckdb:///{db}")
    store.create_schema(engine)  # an empty, migrated database: enough to serve
    engine.dispose()
    home = tmp_path / "fresh-home"
    home.mkdir()
    port = _free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [_console_script(), "serve", "--db", str(db), "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
            env=_bare_environment(home), start_new_session=True,  # no controlling terminal
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        answer = None
        while time.monotonic() < deadline and proc.poll() is None:
            answer = _health(port)
            if answer:
                break
            time.sleep(0.5)
        assert answer == (200, "ok"), f"no health answer; exit={proc.poll()}; log:\n{log.read_text()}"
        text = log.read_text()
        assert "email" not in text.lower()  # no first-run prompt
        # bound to this machine only
        listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
        local_addresses = {line.split()[3] for line in listening.splitlines() if line.strip()}
        if local_addresses:  # ss is installed
            assert local_addresses == {f"127.0.0.1:{port}"}
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=STOP_SECONDS) == 0
        deadline = time.monotonic() + STOP_SECONDS
        while _session_processes(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _session_processes(proc.pid) == []  # nothing left of the process tree
        assert _health(port) is None
        with socket.socket() as s:  # the port is free again (as a server binds: TIME_WAIT allowed)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_a_missing_embedded_database_file_is_an_error_not_a_new_empty_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo.duckdb"
    done = subprocess.run(
        [_console_script(), "serve", "--db", str(missing), "--port", str(_free_port())],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=tmp_path,
        env=_bare_environment(tmp_path), timeout=60,
    )
    assert done.returncode == 2
    assert "does not exist" in done.stderr and str(missing) in done.stderr
    assert not missing.exists()


def test_a_browser_opens_only_with_a_display_and_a_terminal_or_when_asked() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Terminal(), io.StringIO()
    x11 = {"DISPLAY": ":0"}
    assert serve.wants_browser(None, env=x11, stdin=tty, platform="linux") is True
    assert serve.wants_browser(None, env={}, stdin=tty, platform="linux") is False  # no display
    assert serve.wants_browser(None, env=x11, stdin=pipe, platform="linux") is False  # no terminal
    assert serve.wants_browser(True, env={}, stdin=pipe, platform="linux") is True  # --browser
    assert serve.wants_browser(False, env=x11, stdin=tty, platform="linux") is False  # --no-browser
    assert serve.wants_browser(None, env={}, stdin=tty, platform="darwin") is True


def test_streamlit_always_runs_headless_with_the_developer_menu_hidden() -> None:
    flags = serve.streamlit_flags("127.0.0.1", 8600)
    options = dict(zip(flags[::2], flags[1::2]))
    assert options["--server.headless"] == "true"
    assert options["--server.address"] == "127.0.0.1" and options["--server.port"] == "8600"
    assert options["--client.toolbarMode"] == "viewer"
    assert options["--browser.gatherUsageStats"] == "false"
    assert serve.health_url("0.0.0.0", 8600) == "http://127.0.0.1:8600/_stcore/health"
