"""What the rest of the dashboard may ask of a database: one small interface.

:class:`Backend` is the interface and, as it stands, the portable
implementation for any other SQLAlchemy dialect (plain Core, bound
parameters; correct but slow at a million rows). :mod:`dashboard.db.duckdb`
and :mod:`dashboard.db.postgres` override what each does faster or
differently (see ``docs/database.md``). Nothing outside :mod:`dashboard.db`
asks which database it talks to; it asks the backend instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from dashboard.db.schema import DUCKDB_METADATA, cast_to_schema

Connect = Callable[[sa.engine.Engine], AbstractContextManager[sa.engine.Connection]]
"""How the store opens a connection (turning connection failures into its own error)."""

Convert = Callable[[str, pl.DataFrame], pl.DataFrame]
"""Applied to each frame as soon as it is read (a table, one column of it, or one part of it),
with the table's name: the caller's compact types (categoricals) replace the raw strings before
the next read begins."""


def unchanged(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The :data:`Convert` that keeps a frame as read."""
    return frame


def driver_connection(conn: sa.engine.Connection) -> Any:
    """The DB-API connection under ``conn`` (DuckDB's or psycopg's own), for the
    paths SQLAlchemy has no fast form of."""
    driver = conn.connection.driver_connection
    if driver is None:  # SQLAlchemy's type allows it: a pool entry whose connection was closed
        raise sa.exc.InvalidRequestError("the database connection was closed")
    return driver


class Backend:
    """One kind of database: its URLs, engines, schema variant, bulk reads and writes."""

    name = "other"
    """The SQLAlchemy dialect name this backend serves."""

    readers_open_read_only = False
    """Whether a process that only reads opens the database read-only (so a writer can take it)."""

    # --- URLs and engines ---------------------------------------------------------------

    def handles(self, url: str) -> bool:
        """Whether ``url`` (normalised) names a database of this kind."""
        return False

    def normalise_url(self, url: str) -> str:
        """``url`` with the driver this project uses spelled out."""
        return url

    def embedded_path(self, url: str) -> Path | None:
        """The database file of ``url``; None for a server or an in-memory database."""
        return None

    def make_engine(self, url: str, *, read_only: bool = False) -> sa.engine.Engine:
        """An engine for ``url``; ``read_only`` where the database supports opening so."""
        return sa.create_engine(url, pool_pre_ping=True)

    def is_missing_database(self, exc: BaseException) -> bool:
        """Whether ``exc`` says the named database does not exist on its server."""
        return False

    # --- schema -------------------------------------------------------------------------

    @property
    def metadata(self) -> sa.MetaData:
        """The schema variant this database uses (:mod:`dashboard.db.schema`)."""
        return DUCKDB_METADATA

    # --- reading ------------------------------------------------------------------------

    def read_frame(
        self, conn: sa.engine.Connection, sql: str, params: Mapping[str, Any] | None = None
    ) -> pl.DataFrame:
        """Run a parameterised SELECT (``:name`` placeholders) into polars, types kept."""
        # infer_schema_length=None: a column null in its first rows must not fix its type to null
        return pl.read_database(
            sa.text(sql), connection=conn, execute_options={"parameters": dict(params or {})},
            infer_schema_length=None,
        )

    def read_table(
        self, conn: sa.engine.Connection, sql_table: sa.Table, columns: Sequence[str], convert: Convert = unchanged
    ) -> pl.DataFrame:
        """``columns`` of a whole table into polars with the contract's types, then ``convert``."""
        frame = cast_to_schema(self.read_frame(conn, self.select_sql(conn, sql_table, columns)), sql_table)
        return convert(sql_table.name, frame)

    @staticmethod
    def select_sql(conn: sa.engine.Connection, sql_table: sa.Table, columns: Sequence[str]) -> str:
        quote = conn.dialect.identifier_preparer.quote
        return f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(sql_table.name)}"

    def read_tables(
        self,
        engine: sa.engine.Engine,
        names: Sequence[str],
        connect: Connect,
        columns: Mapping[str, Sequence[str]],
        convert: Convert = unchanged,
    ) -> dict[str, pl.DataFrame]:
        """Whole tables, all from one state of the database (here: one after another on one
        connection); ``columns`` names the columns to read of some tables (others: all);
        ``convert`` is applied to each as it arrives."""
        with connect(engine) as conn:
            return {
                name: self.read_table(conn, self.metadata.tables[name], self.columns_of(name, columns), convert)
                for name in names
            }

    def columns_of(self, name: str, columns: Mapping[str, Sequence[str]]) -> list[str]:
        """The columns of table ``name`` to read: those ``columns`` names for it, else all of them."""
        chosen = columns.get(name)
        return list(chosen) if chosen else [c.name for c in self.metadata.tables[name].columns]

    # --- writing ------------------------------------------------------------------------

    def bulk_upsert(self, conn: sa.engine.Connection, sql_table: sa.Table, rows: pl.DataFrame) -> bool:
        """Insert ``rows`` (exactly the table's columns, in order), replacing rows whose key exists.

        Runs inside the caller's transaction. True when the table was empty and
        nobody else can write it before the transaction ends; here always False.
        """
        keys = [c.name for c in sql_table.primary_key.columns]
        conn.execute(
            sa.delete(sql_table).where(sa.tuple_(*[sql_table.c[k] for k in keys]).in_(rows.select(keys).rows()))
        )
        conn.execute(sa.insert(sql_table), rows.to_dicts())
        return False

    def serialise_appends(self, conn: sa.engine.Connection, key: int) -> None:
        """Make other processes' appends under ``key`` wait for this transaction (where needed)."""
