"""Alembic environment: runs on the connection handed over by dashboard.migrate."""

from __future__ import annotations

from alembic import context
from alembic.ddl.impl import DefaultImpl


class DuckDBImpl(DefaultImpl):
    """Lets Alembic drive DuckDB (through duckdb-engine) like any other dialect."""

    __dialect__ = "duckdb"
    transactional_ddl = True


connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=context.config.attributes.get("target_metadata"))
with context.begin_transaction():
    context.run_migrations()
