"""Reading partner files (`<table>.csv|.parquet|.xlsx`) into string frames.

Every format is brought to the same shape before any rule runs: one polars
column of *delivered strings* per delivered column, plus the line number of
each row. CSV is read as text so that nothing is guessed; Parquet and XLSX
cells are turned into the text a CSV would carry (a date cell becomes
``YYYY-MM-DD``, a boolean ``true``/``false``, a whole number ``34``), so the
strict lexical rules of the contract (``dashboard.validation``) apply to all
three formats through one code path.

Line numbers follow the file: the header is line 1, so the first data row is
line 2. In CSV a quoted value may span several lines; the line kept is the one
the row starts on. For Parquet and XLSX the "line" is the row number (XLSX:
the spreadsheet row).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dashboard.contract import TABLES, TABLES_BY_NAME, Table

LINE = "__line"
FORMATS = ("csv", "parquet", "xlsx")  # preference order when a table comes in several formats


class ExtractError(Exception):
    """The extract (or one of its files) cannot be read at all; the message says what to do."""


@dataclass
class DeliveredFile:
    """One contract file as delivered, every value a string (or null)."""

    table: Table
    path: Path
    file_format: str
    sha256: str
    #: delivered columns under their delivered header names, all ``pl.String``, plus :data:`LINE`
    raw: pl.DataFrame
    #: contract column name -> delivered header name, for the contract columns present
    column_map: dict[str, str]
    unknown_columns: list[str] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)

    @property
    def height(self) -> int:
        return self.raw.height

    def contract_frame(self) -> pl.DataFrame:
        """The contract columns (missing optional ones as all-null) plus :data:`LINE`, untrimmed."""
        exprs = [
            pl.col(self.column_map[c]).alias(c) if c in self.column_map else pl.lit(None, pl.String).alias(c)
            for c in self.table.column_names
        ]
        return self.raw.select(*exprs, pl.col(LINE))


def find_files(directory: Path) -> dict[str, Path]:
    """The contract files in ``directory``, by table, in contract order.

    File names are matched case-insensitively (``Agencies.CSV`` is the agencies
    file). When one table comes in several formats the first of csv, parquet,
    xlsx is used; :func:`ignored_files` lists the others so the report can say so.
    """
    found, _ = _scan(directory)
    return found


def ignored_files(directory: Path) -> list[Path]:
    """Files for a contract table that were not used because another format came first."""
    _, ignored = _scan(directory)
    return ignored


def _scan(directory: Path) -> tuple[dict[str, Path], list[Path]]:
    candidates: dict[str, dict[str, Path]] = {}
    for path in sorted(directory.iterdir()):
        if not path.is_file():
            continue
        stem, _, ext = path.name.lower().rpartition(".")
        if stem in TABLES_BY_NAME and ext in FORMATS:
            candidates.setdefault(stem, {})[ext] = path
    found: dict[str, Path] = {}
    ignored: list[Path] = []
    for table in TABLES:
        options = candidates.get(table.name, {})
        chosen = next((options[f] for f in FORMATS if f in options), None)
        if chosen is not None:
            found[table.name] = chosen
            ignored.extend(p for p in options.values() if p != chosen)
    return found, ignored


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) of the file's bytes and its count of newline bytes, read in chunks."""
    digest = hashlib.sha256()
    newlines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
    return digest.hexdigest(), newlines


def normalise_header(name: str) -> str:
    """Header names match case-insensitively after trimming (Unicode whitespace included)."""
    return name.strip().lower()


def read_file(table_name: str, path: Path) -> DeliveredFile:
    """Read one contract file into a :class:`DeliveredFile`.

    Raises :class:`ExtractError` when the file cannot be parsed at all (not
    UTF-8, ragged CSV lines, corrupt Parquet/XLSX).
    """
    table = TABLES_BY_NAME[table_name]
    file_format = path.suffix.lower().lstrip(".")
    # hashing (about 1.4 s per 700 MB) runs beside the parse: hashlib releases the interpreter
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as pool:
        digest = pool.submit(file_digest, path)
        return _read_file(table, path, file_format, digest)


def _read_file(table: Table, path: Path, file_format: str, digest: Future[tuple[str, int]]) -> DeliveredFile:
    try:
        if file_format == "csv":
            raw = _read_csv(path, lambda: digest.result()[1])
        elif file_format == "parquet":
            raw = _with_row_lines(_cells_to_text(pl.read_parquet(path), table, excel=False))
        elif file_format == "xlsx":
            raw = _with_row_lines(_cells_to_text(_read_xlsx(path), table, excel=True))
        else:  # pragma: no cover - find_files only returns the three formats
            raise ExtractError(f"{path}: unsupported file type {file_format!r}; use csv, parquet or xlsx")
    except ExtractError:
        raise
    except Exception as exc:  # polars/fastexcel raise many types for unreadable input
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise ExtractError(
            f"{path}: the file cannot be read as {file_format.upper()} ({first}). "
            "Check that it is a UTF-8 CSV with a header row and the same number of fields on every "
            "line (or a valid Parquet/XLSX file), then load again."
        ) from exc
    column_map: dict[str, str] = {}
    unknown: list[str] = []
    for delivered in raw.columns:
        if delivered == LINE:
            continue
        name = normalise_header(delivered)
        if name in table.column_names and name not in column_map:
            column_map[name] = delivered
        else:
            unknown.append(delivered)
    missing_required = [c for c in table.required_columns if c not in column_map]
    missing_optional = [c for c in table.column_names if c not in column_map and c not in missing_required]
    return DeliveredFile(
        table=table,
        path=path,
        file_format=file_format,
        sha256=digest.result()[0],
        raw=raw,
        column_map=column_map,
        unknown_columns=unknown,
        missing_required=missing_required,
        missing_optional=missing_optional,
    )


def _read_csv(path: Path, newlines_in_file: Callable[[], int]) -> pl.DataFrame:
    """Every field as text; empty fields as empty strings (the raw value), BOM dropped."""
    frame = pl.read_csv(
        path,
        infer_schema=False,
        empty_string_is_null=False,
        encoding="utf8",
        raise_if_empty=False,
    )
    # polars names header-less columns itself; an empty header is still a (blank) name to us
    n = frame.height
    index = pl.int_range(0, n, dtype=pl.Int64, eager=False)
    # One physical line per record unless a quoted value contains a newline; then
    # shift each row by the newlines inside the rows before it.
    if newlines_in_file() <= n + 1:
        return frame.with_columns((index + 2).alias(LINE))
    inner = pl.sum_horizontal(
        [pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in frame.columns]
    ) if frame.width else pl.lit(0)
    return frame.with_columns((index + 2 + inner.cum_sum().shift(1, fill_value=0)).cast(pl.Int64).alias(LINE))


def _with_row_lines(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias(LINE))


def _read_xlsx(path: Path) -> pl.DataFrame:
    """The first sheet, header on row 1, column types inferred from every row."""
    return pl.read_excel(path, engine="calamine", infer_schema_length=None, raise_if_empty=False)


def _cells_to_text(frame: pl.DataFrame, table: Table, *, excel: bool) -> pl.DataFrame:
    """Typed cells to the text a CSV would carry, so the lexical rules apply unchanged.

    - date cells -> ``YYYY-MM-DD``; datetime cells at midnight -> ``YYYY-MM-DD``,
      with a time of day -> the full timestamp (then rejected as not a date);
    - booleans -> ``true``/``false``; whole floats -> digits (``34.0`` -> ``34``),
      NaN -> null (how spreadsheets and pandas write "missing");
    - XLSX text columns holding date cells show them as ``YYYY-MM-DD 00:00:00``;
      in contract date columns that exact midnight suffix is dropped;
    - in contract decimal columns (amounts, full-time equivalents) a number is
      taken as a number: binary floating point cannot hold 12.34 exactly, so
      a float within a rounding error of two decimal places (a spreadsheet's
      ``=0.1+0.2``) is written with those places, and any other keeps all its
      digits (``12.505``, then rejected: at most two decimal places);
    - Parquet decimal columns lose trailing zeros of the fraction
      (``12.500`` -> ``12.5``): the number, not its declared scale, counts.
    """
    date_columns = {c.name for c in table.columns if c.type == "date"}
    decimal_columns = {c.name for c in table.columns if c.type == "decimal"}
    exprs: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            expr = col.dt.strftime("%Y-%m-%d")
        elif isinstance(dtype, pl.Datetime):
            midnight = col.dt.time() == pl.time(0, 0, 0)
            expr = pl.when(midnight).then(col.dt.strftime("%Y-%m-%d")).otherwise(col.cast(pl.String))
        elif dtype == pl.Boolean:
            expr = pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false"))
        elif dtype.is_float():
            whole = col.is_finite() & (col == col.floor()) & (col.abs() < 2**53)
            text = col.cast(pl.String)
            if normalise_header(name) in decimal_columns:
                cents = (col * 100).round(0)
                near = (col * 100 - cents).abs() <= 1e-9 * pl.max_horizontal(cents.abs(), pl.lit(1.0))
                # written from whole cents: polars' own float text may show 1234567.8900000001
                whole_cents = pl.when(col.abs() < 1e15).then(cents).cast(pl.Int64)
                digits = whole_cents.abs().cast(pl.String).str.zfill(3)
                written = (
                    pl.when(whole_cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
                    + digits.str.slice(0, digits.str.len_chars() - 2)
                    + pl.lit(".")
                    + digits.str.slice(-2)
                )
                text = pl.when(col.is_finite() & near & whole_cents.is_not_null()).then(written).otherwise(text)
            expr = (
                pl.when(col.is_nan())
                .then(pl.lit(None, pl.String))
                .when(whole)
                .then(col.cast(pl.Int64).cast(pl.String))
                .otherwise(text)
            )
        elif dtype == pl.String:
            expr = col
            if excel and normalise_header(name) in date_columns:
                expr = col.str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "${1}")
        elif isinstance(dtype, pl.Decimal):
            expr = col.cast(pl.String).str.replace(r"(\.[0-9]*?)0+$", "${1}").str.replace(r"\.$", "")
        elif dtype == pl.Null:
            expr = col.cast(pl.String)
        else:
            expr = col.cast(pl.String)
        exprs.append(expr.cast(pl.String).alias(name))
    return frame.select(exprs) if exprs else frame
