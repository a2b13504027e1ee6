"""``partnership-dashboard demo`` and ``serve``: build the demo database if needed, then serve.

Serving itself (headless, one process, a health check) is :mod:`dashboard.serve`;
see ``docs/deployment.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sqlalchemy as sa

from dashboard import store
from dashboard.ingest import load_extract
from dashboard.serve import serve

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_SCRIPT = REPO_ROOT / "streamlit_app.py"
SAMPLE_DIR = REPO_ROOT / "sample_data"


def _run_streamlit(db: str | None, args: argparse.Namespace) -> int:
    """Serve the dashboard unattended (dashboard.serve): never a prompt, one process to stop."""
    return serve(db, address=args.address, port=args.port, browser=args.browser, app_script=APP_SCRIPT)


def cli_serve(args: argparse.Namespace) -> int:
    """``serve``: the dashboard on an existing database."""
    return _run_streamlit(args.db, args)


def cli_demo(args: argparse.Namespace) -> int:
    """``demo``: load ``sample_data/`` into an absent or empty database, then serve."""
    url = store.normalise_url(args.db)
    engine = store.make_engine(url)
    if not store.schema_exists(engine) or _is_empty(engine):
        print(f"Creating the demo database from {SAMPLE_DIR} ...", flush=True)
        report = load_extract(SAMPLE_DIR, engine)
        print(f"Loaded {report.total_loaded} rows ({report.total_rejected} rejected).", flush=True)
    engine.dispose()
    return _run_streamlit(url, args)


def _is_empty(engine: sa.engine.Engine) -> bool:
    with store.connect(engine) as conn:
        return not conn.execute(sa.text("SELECT 1 FROM participants LIMIT 1")).first()
