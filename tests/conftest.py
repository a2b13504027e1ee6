"""Shared fixtures: one test body runs on the embedded database and on PostgreSQL.

The PostgreSQL tier runs when ``PARTNERSHIP_TEST_POSTGRES_URL`` names a server
(CI sets it to postgresql://postgres@127.0.0.1:5432/test); each test session
works in a database of its own, created and dropped here. With
``PARTNERSHIP_REQUIRE_POSTGRES=1`` a missing server fails instead of skipping,
so CI cannot pass with the tier silently off.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard import store

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO_ROOT / "sample_data"
MESSY_DIR = SAMPLE_DIR / "messy"
POSTGRES_URL = os.environ.get("PARTNERSHIP_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("PARTNERSHIP_REQUIRE_POSTGRES") == "1"


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_POSTGRES:
        pytest.fail(f"PostgreSQL tier required but unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session (and xdist worker)."""
    if not POSTGRES_URL:
        _skip_or_fail("set PARTNERSHIP_TEST_POSTGRES_URL to run the PostgreSQL tier")
    admin = sa.create_engine(store.normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"pd_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        _skip_or_fail(f"cannot reach PostgreSQL at {POSTGRES_URL}: {exc}")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate_all(engine: sa.engine.Engine) -> None:
    names = ", ".join(t.name for t in store.METADATA.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(scope="session")
def _postgres_engine(postgres_url: str) -> Iterator[sa.engine.Engine]:
    engine = store.make_engine(postgres_url)
    store.create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def duckdb_engine(tmp_path: Path) -> Iterator[sa.engine.Engine]:
    """A fresh embedded database file with the current schema."""
    engine = store.make_engine(f"duckdb:///{tmp_path / 'test.duckdb'}")
    store.create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine(request: pytest.FixtureRequest) -> sa.engine.Engine:
    """The session's PostgreSQL database, emptied for this test."""
    engine: sa.engine.Engine = request.getfixturevalue("_postgres_engine")
    _truncate_all(engine)
    return engine


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> sa.engine.Engine:
    """Parametrized over both stores: one test body, embedded and PostgreSQL."""
    if request.param == "duckdb":
        return request.getfixturevalue("duckdb_engine")
    return request.getfixturevalue("postgres_engine")
