"""The database boundary: the one place that knows DuckDB from PostgreSQL.

:func:`backend_for` gives the :class:`~dashboard.db.base.Backend` of a URL or
an engine; :mod:`dashboard.store` and the migrations ask it for engine
options, the schema variant, bulk reads and writes and dialect facts.
Layering inside the package: ``schema`` (tables from the contract) <- ``base``
(the interface and portable path) <- ``duckdb``, ``postgres`` <- this module.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from dashboard.db.base import Backend
from dashboard.db.duckdb import DuckDB, file_url
from dashboard.db.postgres import PostgreSQL

BACKENDS: tuple[Backend, ...] = (DuckDB(), PostgreSQL())
PORTABLE = Backend()
"""Any other SQLAlchemy database: plain Core, slow but correct."""


def normalise_url(url: str) -> str:
    """A bare file path is an embedded database; ``postgres[ql]://`` uses the psycopg 3 driver."""
    if "://" not in url:
        return file_url(Path(url).resolve())
    for backend in BACKENDS:
        url = backend.normalise_url(url)
    return url


def backend_for(where: str | sa.engine.Engine | sa.engine.Connection) -> Backend:
    """The backend of a (normalised) URL, an engine or a connection."""
    if isinstance(where, str):
        return next((b for b in BACKENDS if b.handles(where)), PORTABLE)
    name = where.dialect.name
    return next((b for b in BACKENDS if b.name == name), PORTABLE)


def metadata_for(engine: sa.engine.Engine) -> sa.MetaData:
    """The schema variant of ``engine``'s database (:mod:`dashboard.db.schema`)."""
    return backend_for(engine).metadata


def embedded_file_url(path: Path) -> str:
    """The URL of an embedded database file (the default database)."""
    return file_url(path)
