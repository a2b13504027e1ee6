"""``serve`` and ``demo``: the dashboard as an unattended service (docs/deployment.md).

* **No prompt, ever.** Streamlit always runs headless here (a non-headless
  first run asks for an e-mail address, and with no terminal it exits with
  status 255). When a browser is wanted, this module opens it itself once
  the health check answers.
* **A browser only where someone sits**: with ``--browser``, or by default
  when there is a display and a terminal; ``--no-browser`` never.
* **One process.** Streamlit runs inside this process (no child), so SIGTERM
  from a service manager and Ctrl-C stop the whole server and free the port.
* **Only this machine by default**: ``--address 127.0.0.1``; listen on other
  interfaces only behind a reverse proxy with TLS.
* **The developer menu is hidden** (``client.toolbarMode = viewer``) for
  every user: Streamlit's toolbar mode is one setting per server, not per
  session, so it cannot be shown to admins only.
* **Health check**: ``GET /_stcore/health`` answers ``ok`` (HTTP 200) once
  the server accepts sessions.
* A missing embedded database file is an error (it is never created empty).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from dashboard import store

EXIT_CANNOT_SERVE = 2
HEALTH_PATH = "/_stcore/health"
TOOLBAR_MODE = "viewer"


def has_display(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """A graphical session is present (always on macOS and Windows; DISPLAY or WAYLAND_DISPLAY elsewhere)."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if platform in ("darwin", "win32"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _is_terminal(stream: IO[str] | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # a closed stream
        return False


def wants_browser(
    requested: bool | None,
    *,
    env: Mapping[str, str] | None = None,
    stdin: IO[str] | None = None,
    platform: str | None = None,
) -> bool:
    """Open a browser? As asked; by default only with a display and a terminal on stdin."""
    if requested is not None:
        return requested
    return has_display(env, platform) and _is_terminal(sys.stdin if stdin is None else stdin)


def browser_host(address: str) -> str:
    """The host name to show in links for a listening ``address``."""
    return "localhost" if address in ("", "0.0.0.0", "::", "127.0.0.1", "::1") else address


def streamlit_flags(address: str, port: int) -> list[str]:
    """The Streamlit options for an unattended server (see the module docstring)."""
    return [
        "--server.address", address,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.runOnSave", "false",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
        "--browser.serverAddress", browser_host(address),
        "--client.toolbarMode", TOOLBAR_MODE,
        "--global.developmentMode", "false",
    ]


def health_url(address: str, port: int) -> str:
    host = "127.0.0.1" if address in ("", "0.0.0.0") else "[::1]" if address == "::" else address
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}{HEALTH_PATH}"


def wait_until_healthy(url: str, timeout: float = 60.0) -> bool:
    """Poll the health check until it answers ``ok`` or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own local server
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


def _open_browser_when_ready(address: str, port: int) -> None:
    def run() -> None:
        if wait_until_healthy(health_url(address, port)):
            import webbrowser

            webbrowser.open(f"http://{browser_host(address)}:{port}")

    threading.Thread(target=run, name="open-browser", daemon=True).start()


def serve(db: str | None, *, address: str, port: int, browser: bool | None, app_script: Path) -> int:
    """Run the dashboard in this process until SIGTERM or Ctrl-C; the exit status of the server."""
    if not app_script.exists():
        print(
            f"error: the dashboard app {app_script} is missing. Install from a clone of the repository "
            "with `pip install -e .` so the app and its pages are available.",
            file=sys.stderr,
        )
        return EXIT_CANNOT_SERVE
    from dashboard.settings import load_settings

    load_settings()  # a mistake in the configuration file stops here, with its place, not on every page
    from dashboard.compute_slots import default_slots

    default_slots()  # and so does a bad PARTNERSHIP_COMPUTE_SLOTS
    url = store.normalise_url(db)
    missing = store.missing_file_message(url)
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return EXIT_CANNOT_SERVE
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if wants_browser(browser):
        _open_browser_when_ready(address, port)
    shown = f"http://{browser_host(address)}:{port}"
    print(
        f"Serving the dashboard at {shown} (listening on {address or 'every interface'}, port {port}); "
        f"health check {shown}{HEALTH_PATH}. Stop with Ctrl-C or SIGTERM.",
        file=sys.stderr, flush=True,
    )
    from streamlit.web import cli as streamlit_cli

    try:
        streamlit_cli.main(  # click: exits through SystemExit
            args=["run", str(app_script), *streamlit_flags(address, port)], prog_name="streamlit",
            standalone_mode=True,
        )
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        from dashboard.access_log import flush_all

        flush_all()  # page views still queued when the server stopped
    return 0
