"""The database schema, derived from the contract (``docs/data-contract.md``, ``docs/database.md``).

Two variants of one set of tables: the full one (foreign keys, secondary
indexes, byte-order collation of codes) for PostgreSQL, and the one for
DuckDB with primary keys only (see :func:`build_metadata`). Which one a
database uses is a fact of its backend (:mod:`dashboard.db`). Also here: the
polars types every table is read as. The store and the migrations both read
this module; it imports only the contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
import sqlalchemy as sa

from dashboard.contract import DECIMAL_PRECISION, DECIMAL_SCALE, TABLES, Column, Table

_SQL_TYPES: Mapping[str, Any] = {
    "str": sa.String,
    "enum": lambda: sa.String(40),
    "date": sa.Date,
    "bool": sa.Boolean,
    "int": sa.Integer,
    # money and full-time equivalents: stored exactly, never as binary floating point
    "decimal": lambda: sa.Numeric(DECIMAL_PRECISION, DECIMAL_SCALE),
}


# Codes (identifiers and enum values) compare byte by byte on PostgreSQL,
# whatever the server's locale: the same order as polars and DuckDB, and
# key and index builds about a third faster than with a locale's rules
# (migration 0003). Free text (names) keeps the database's collation.
CODE_COLLATION = "C"


def is_code(table: Table, col: Column) -> bool:
    """An identifier (a key or a reference) or an enum value: compared, never read as prose."""
    return col.type == "enum" or (col.type == "str" and (table.is_key_column(col.name) or col.references is not None))


def _sql_column(table: Table, col: Column, *, for_duckdb: bool) -> sa.Column[Any]:
    """One contract column; on DuckDB without foreign keys, indexes and collations
    (see :func:`build_metadata`; DuckDB compares strings byte by byte anyway)."""
    sql_type = _SQL_TYPES[col.type]()
    if not for_duckdb and is_code(table, col):
        sql_type = sa.String(sql_type.length, collation=CODE_COLLATION)
    args: list[Any] = [sql_type]
    if col.references and not for_duckdb:
        parent = next(t for t in TABLES if t.name == col.references)
        args.append(sa.ForeignKey(f"{parent.name}.{parent.key}"))
    return sa.Column(
        col.name,
        *args,
        primary_key=table.is_key_column(col.name),
        nullable=not col.required,
        # the first column of a primary key is served by the key's own index
        index=not for_duckdb
        and col.name != table.key_columns[0]
        and (bool(col.references) or col.type in ("date", "enum") and col.name in _INDEXED),
        comment=col.description,
    )


# Filter columns worth an index beyond the foreign keys.
_INDEXED = frozenset(
    {"cohort", "enrollment_date", "referral_date", "event_date", "contact_date", "check_date", "survey_date"}
)


def build_metadata(*, for_duckdb: bool = False) -> sa.MetaData:
    """The contract tables plus the audit tables.

    On DuckDB the contract tables have their primary keys only:

    - DuckDB implements an upsert as delete-and-insert, which a declared
      foreign key forbids on a parent that has children; there the ingest
      layer is the only enforcer of foreign keys (it always is the first one
      anyway);
    - secondary (ART) indexes serve nothing the dashboard does on DuckDB (it
      reads whole tables; range filters use DuckDB's per-block min/max) and
      tripled the commit time of a large load (migration 0002 drops them).
    """
    md = sa.MetaData()
    for table in TABLES:
        sa.Table(table.name, md, *[_sql_column(table, c, for_duckdb=for_duckdb) for c in table.columns])
    _audit_tables(md)
    _access_log_table(md)
    return md


def _audit_tables(md: sa.MetaData) -> None:
    sa.Table(
        "load_runs",
        md,
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False, comment="load, check or reprocess"),
        sa.Column("started_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=False)),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("source", sa.String, nullable=False, comment="extract directory or database"),
        sa.Column("status", sa.String(20), nullable=False, comment="succeeded, rejected_rows, failed"),
        sa.Column("exit_code", sa.Integer),
        sa.Column("validation_success", sa.Boolean),
        sa.Column("rows_read", sa.Integer, nullable=False, default=0),
        sa.Column("rows_loaded", sa.Integer, nullable=False, default=0),
        sa.Column("rows_rejected", sa.Integer, nullable=False, default=0),
        sa.Column("duplicates_dropped", sa.Integer, nullable=False, default=0),
        sa.Column("warnings", sa.Integer, nullable=False, default=0),
        sa.Column("summary_json", sa.Text, comment="the load report as printed by load --format json"),
    )
    sa.Table(
        "load_files",
        md,
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("table_name", sa.String(40), primary_key=True),
        sa.Column("file_name", sa.String, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("rows_loaded", sa.Integer, nullable=False),
        sa.Column("rows_rejected", sa.Integer, nullable=False),
        sa.Column("duplicates_dropped", sa.Integer, nullable=False),
        sa.Column("warnings", sa.Integer, nullable=False),
        sa.Column("file_rejected", sa.Boolean, nullable=False),
        sa.Column("missing_columns", sa.String),
        sa.Column("validation_success", sa.Boolean),
    )
    sa.Table(
        "quarantine",
        md,
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("table_name", sa.String(40), primary_key=True),
        sa.Column("source_file", sa.String, primary_key=True),
        sa.Column("line_number", sa.Integer, primary_key=True, comment="line in the file; header is line 1"),
        sa.Column("record_key", sa.String, index=True),
        sa.Column("submitting_agency_id", sa.String, index=True),
        sa.Column("raw_values", sa.Text, nullable=False, comment="JSON object of the row as delivered"),
        sa.Column("rules", sa.Text, nullable=False, comment="JSON list of rule ids broken"),
        sa.Column("reasons", sa.Text, nullable=False, comment="the rules in words, one per line"),
        sa.Column("resolved_run_id", sa.String(36), comment="the later load run that loaded this key"),
    )
    sa.Table(
        "load_issues",
        md,
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("table_name", sa.String(40), primary_key=True),
        sa.Column("source_file", sa.String, primary_key=True),
        sa.Column("line_number", sa.Integer, primary_key=True),
        sa.Column("rule", sa.String, primary_key=True, comment="warn:* or duplicate_dropped"),
        sa.Column("record_key", sa.String, index=True),
        sa.Column("message", sa.Text, nullable=False),
    )


def _access_log_table(md: sa.MetaData) -> None:
    """The append-only, hash-chained access log (dashboard.access_log; migration 0005)."""
    sa.Table(
        "access_log",
        md,
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False, comment="1, 2, 3 ... in order"),
        sa.Column("logged_at", sa.DateTime(timezone=False), nullable=False, comment="UTC"),
        sa.Column("user_name", sa.String, nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("object", sa.String, nullable=False, comment="page, file kind or table"),
        sa.Column("filters", sa.Text, nullable=False, comment="JSON object"),
        sa.Column("rows_returned", sa.BigInteger),
        sa.Column("interface", sa.String(10), nullable=False, comment="dashboard or cli"),
        sa.Column("detail", sa.Text, comment="a refusal's reason, an error"),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False, comment="SHA-256 of prev_hash and this row"),
    )


METADATA = build_metadata()
DUCKDB_METADATA = build_metadata(for_duckdb=True)


def polars_schema(table: str) -> dict[str, pl.DataType]:
    """The polars types of ``table``'s columns (the contract's types)."""
    md_table = METADATA.tables[table]
    return {c.name: polars_type(c.type) for c in md_table.columns}


def polars_type(sql_type: Any) -> pl.DataType:
    """The polars type a column of ``sql_type`` is read as."""
    if isinstance(sql_type, sa.DateTime):
        return pl.Datetime("us")
    if isinstance(sql_type, sa.Date):
        return pl.Date()
    if isinstance(sql_type, sa.Boolean):
        return pl.Boolean()
    if isinstance(sql_type, sa.Integer):
        return pl.Int64()
    if isinstance(sql_type, sa.Numeric):
        return pl.Decimal(DECIMAL_PRECISION, DECIMAL_SCALE)
    return pl.String()


def cast_to_schema(frame: pl.DataFrame, sql_table: sa.Table) -> pl.DataFrame:
    """``frame`` with the contract types of ``sql_table``'s columns (an empty frame keeps the schema)."""
    want = {c.name: polars_type(c.type) for c in sql_table.columns if c.name in frame.columns}
    if frame.height == 0:
        return pl.DataFrame(schema=want)
    return frame.cast(want, strict=False)  # type: ignore[arg-type]
