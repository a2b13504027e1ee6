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

import csv
import hashlib
import os
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dashboard.contract import TABLES, TABLES_BY_NAME, Table

LINE = "__line"
FORMATS = ("csv", "parquet", "xlsx")  # the formats a table file may come in


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
    #: contract column -> the delivered headers (as written) that all read as it, when more than one does
    duplicate_columns: dict[str, list[str]] = field(default_factory=dict)
    #: the file has no header row at all (0 bytes, or nothing but blank lines)
    empty: bool = False
    #: why required columns may look missing when they are there (another separator, line ending)
    hint: str | None = None
    #: a value may hold a NUL character (False only for a CSV without a zero byte: no value to scan)
    may_hold_nul: bool = True

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


def shown_name(path: Path | str) -> str:
    """A file or folder name as it can be printed and stored: bytes that are not
    UTF-8 (a name written on another system) shown as U+FFFD, control characters escaped."""
    text = os.fsencode(path).decode("utf-8", errors="replace")
    return "".join(repr(ch)[1:-1] if ch < " " or ch == "\x7f" else ch for ch in text)


def find_files(directory: Path) -> dict[str, Path]:
    """The contract files in ``directory``, by table, in contract order.

    File names are matched case-insensitively (``Agencies.CSV`` is the agencies
    file). Raises :class:`ExtractError` when two files are for one table
    (``agencies.csv`` beside ``Agencies.CSV`` or ``agencies.parquet``): the
    loader never guesses which one the partner meant. Raises it too for a
    symbolic link that leads outside the extract folder: such a file is
    refused, never opened (docs/stewardship.md, "Files the loader refuses").
    """
    found, _ = _scan(directory)
    return found


def unused_files(directory: Path) -> list[str]:
    """Why files that look like contract files were not read (for the report's notes).

    A name that matches a table only after trimming spaces (``agencies .csv``),
    or a contract name that is not a regular file (a folder, a pipe), is
    mentioned rather than silently passed over.
    """
    _, notes = _scan(directory)
    return notes


def _scan(directory: Path) -> tuple[dict[str, Path], list[str]]:
    candidates: dict[str, list[Path]] = {}
    notes: list[str] = []
    root = directory.resolve()
    for path in sorted(directory.iterdir()):
        stem, _, ext = path.name.lower().rpartition(".")
        near_stem, _, near_ext = "".join(path.name.lower().split()).rpartition(".")
        if not (stem in TABLES_BY_NAME and ext in FORMATS):
            if near_stem in TABLES_BY_NAME and near_ext in FORMATS and not path.name.startswith((".", "~$")):
                notes.append(
                    f"'{shown_name(path.name)}' was not read: its name is not exactly "
                    f"{near_stem}.{near_ext}; rename it if it holds the {near_stem} table"
                )
            continue
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root):
                raise ExtractError(
                    f"{shown_name(path)}: this file is a symbolic link to {shown_name(target)}, outside the "
                    "extract folder; it was not opened. Copy the file itself into the extract folder "
                    "(or remove the link) and load again. Nothing was loaded."
                )
        if not path.is_file():
            notes.append(f"{shown_name(path.name)} was not read: it is not a regular file")
            continue
        candidates.setdefault(stem, []).append(path)
    found: dict[str, Path] = {}
    for table in TABLES:
        options = candidates.get(table.name, [])
        if len(options) > 1:
            names = " and ".join(shown_name(p.name) for p in options)
            raise ExtractError(
                f"{shown_name(directory)}: {names} are both files for the {table.name} table; keep exactly "
                "one of them in the extract folder and load again. Nothing was loaded."
            )
        if options:
            found[table.name] = options[0]
    return found, notes


def file_digest(path: Path) -> tuple[str, int, int]:
    """SHA-256 (hex) of the file's bytes and its counts of newline and zero bytes, read in chunks."""
    digest = hashlib.sha256()
    newlines = 0
    zeros = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
            zeros += chunk.count(b"\x00")
    return digest.hexdigest(), newlines, zeros


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


def _read_file(table: Table, path: Path, file_format: str, digest: Future[tuple[str, int, int]]) -> DeliveredFile:
    headers: list[str] | None = None  # the header names as written, where the reader renames repeats
    empty = path.stat().st_size == 0
    try:
        if empty:
            raw = pl.DataFrame({LINE: pl.Series([], dtype=pl.Int64)})
        elif file_format == "csv":
            _refuse_other_encodings(path)
            raw = _read_csv(path, lambda: digest.result()[1])
            headers = _csv_header(path)
        elif file_format == "parquet":
            parquet, headers = _read_parquet(path)
            raw = _with_row_lines(_cells_to_text(parquet, table, excel=False, path=path))
        elif file_format == "xlsx":
            raw = _with_row_lines(_cells_to_text(_read_xlsx(path), table, excel=True, path=path))
            headers = _xlsx_header(path)
        else:  # pragma: no cover - find_files only returns the three formats
            raise ExtractError(f"{path}: unsupported file type {file_format!r}; use csv, parquet or xlsx")
    except ExtractError:
        raise
    except Exception as exc:  # polars/fastexcel raise many types for unreadable input
        raise ExtractError(_unreadable_message(path, file_format, exc)) from exc
    delivered_columns = [c for c in raw.columns if c != LINE]
    if headers is None or len(headers) != len(delivered_columns):
        headers = delivered_columns
    empty = empty or not delivered_columns
    column_map: dict[str, str] = {}
    unknown: list[str] = []
    written: dict[str, list[str]] = {}
    for delivered, as_written in zip(delivered_columns, headers):
        name = normalise_header(as_written)
        if name in table.column_names:
            written.setdefault(name, []).append(as_written)
            column_map.setdefault(name, delivered)
        else:
            unknown.append(as_written)
    # Two headers that read as one contract column (` Risk_Level ` and `risk_level`):
    # taking either would silently drop the other, so the file is rejected as a whole.
    duplicates = {name: names for name, names in written.items() if len(names) > 1}
    missing_required = [c for c in table.required_columns if c not in column_map]
    missing_optional = [c for c in table.column_names if c not in column_map and c not in missing_required]
    hint = _header_hint(headers) if missing_required and file_format == "csv" else None
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
        duplicate_columns=duplicates,
        empty=empty,
        hint=hint,
        may_hold_nul=file_format != "csv" or digest.result()[2] > 0,
    )


def _header_hint(headers: list[str]) -> str | None:
    """Why a CSV's required columns may look missing although the partner sent them."""
    header = ",".join(headers)
    if "\r" in header:
        return (
            "its lines end in a carriage return only (an old Mac format); save it again as a CSV with "
            "ordinary line ends"
        )
    for separator, word in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
        if len(headers) <= 2 and header.count(separator) >= 2:
            return f"its header is separated by {word}, not commas; save it again as comma-separated CSV"
    return None


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


def _xlsx_header(path: Path) -> list[str] | None:
    """Row 1 of the first sheet as written (the reader renames a repeated header ``x_1``)."""
    import fastexcel

    try:
        first = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, n_rows=1).to_polars()
    except Exception:  # the data were read; only the names as written are unavailable
        return None
    if first.height == 0:
        return None
    return ["" if cell is None else str(cell) for cell in first.row(0)]


def _read_parquet(path: Path) -> tuple[pl.DataFrame, list[str] | None]:
    """The file's columns; with the names as written when two columns share one name
    (which polars refuses to read), the repeats renamed so the file can still be
    quarantined as a whole."""
    try:
        return pl.read_parquet(path), None
    except pl.exceptions.DuplicateError:
        import pyarrow.parquet as pq

        arrow = pq.ParquetFile(path).read()
        names = list(arrow.column_names)
        unique = [f"{name}_duplicated_{i}" if name in names[:i] else name for i, name in enumerate(names)]
        frame = pl.from_arrow(arrow.rename_columns(unique))
        assert isinstance(frame, pl.DataFrame)
        return frame, names


def _csv_header(path: Path) -> list[str] | None:
    """The header row as written (polars renames a repeated name ``x_duplicated_0``)."""
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(sys.maxsize)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), None)
    except (csv.Error, UnicodeDecodeError, OSError):
        return None
    finally:
        csv.field_size_limit(limit)


# --- files that cannot be read: say which file, where and what to do ------------------------

_SAVE_AS_UTF8 = (
    'Open it and save it as UTF-8 text (in Excel: "CSV UTF-8 (Comma delimited)"), then load again.'
)


def _refuse_other_encodings(path: Path) -> None:
    """UTF-16 and UTF-32 text is refused before parsing: read as UTF-8 it would not
    fail but turn into headers and values with a zero byte between every letter."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    encoding = None
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        encoding = "UTF-32"
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "UTF-16"
    else:
        # no byte-order mark: mostly-ASCII UTF-16 has a zero in every other byte
        sample = head[:4096]
        half = len(sample) // 2
        if half >= 2 and max(sample[0::2].count(0), sample[1::2].count(0)) >= 0.4 * half:
            encoding = "UTF-16 (a zero byte between the letters)"
    if encoding is not None:
        raise ExtractError(f"{shown_name(path)}: the file is encoded as {encoding}, not UTF-8. {_SAVE_AS_UTF8}")


def _unreadable_message(path: Path, file_format: str, exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else exc.__class__.__name__
    if isinstance(exc, PermissionError):
        return f"{shown_name(path)}: the file cannot be opened (permission denied); make it readable and load again."
    if file_format == "csv":
        found = _csv_problem(path)
        if found is not None:
            return f"{shown_name(path)}: {found}"
        return (
            f"{shown_name(path)}: the file cannot be read as CSV ({first}). Check that it is a UTF-8 CSV with a "
            "header row and the same number of fields on every line, then load again."
        )
    if file_format == "parquet":
        return (
            f"{shown_name(path)}: the file is not a readable Parquet file ({first}). Export the table again as "
            "Parquet (or deliver it as a UTF-8 CSV) and load again."
        )
    return (
        f"{shown_name(path)}: the file is not a readable Excel workbook ({first}). Open it in Excel and save it "
        "again as .xlsx (or deliver the table as a UTF-8 CSV), then load again."
    )


def _csv_problem(path: Path) -> str | None:
    """What makes a CSV unreadable, with its line: bytes that are not UTF-8 (Latin-1
    text, binary data), a quoted value never closed, or a line with more fields
    than the header. Runs only after the fast parser has failed."""
    bad = _first_non_utf8(path)
    if bad is not None:
        line, byte_values, binary = bad
        shown = " ".join(f"0x{b:02X}" for b in byte_values)
        if binary:
            return (
                f"line {line}: the file is not text (binary data, bytes {shown}); deliver the table as a "
                "UTF-8 CSV, Parquet or XLSX file."
            )
        return (
            f"line {line}: bytes {shown} are not UTF-8; the file is probably in Latin-1 or Windows-1252. "
            + _SAVE_AS_UTF8
        )
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            width = None
            record_start = 1
            try:
                for row in reader:
                    if width is None:
                        width = len(row)
                    elif len(row) > width:
                        return (
                            f"line {record_start}: {len(row)} fields where the header has {width}. Put double "
                            "quotes around values that contain a comma, or remove the extra fields, and load again."
                        )
                    record_start = reader.line_num + 1
            except csv.Error as exc:
                if "end of data" in str(exc) or "EOF" in str(exc):
                    return (
                        f"line {record_start}: a quoted value that starts on this line is never closed (a double "
                        'quote " is missing). Close the quotes, or double a quote inside a value (""), and load again.'
                    )
                return (
                    f"line {reader.line_num}: the line cannot be read as CSV ({exc}). Put double quotes around "
                    'values that contain commas, quotes or line breaks (a quote inside a value is doubled: "") '
                    "and load again."
                )
    except (OSError, UnicodeDecodeError):
        return None
    finally:
        csv.field_size_limit(limit)
    return None


def _first_non_utf8(path: Path) -> tuple[int, bytes, bool] | None:
    """(line, the offending bytes, whether the file looks binary) of the first byte
    sequence that is not UTF-8, or None when the whole file is UTF-8."""
    newlines = 0
    pending = b""
    with path.open("rb") as handle:
        head = handle.read(4096)
        handle.seek(0)
        controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
        binary = len(head) > 0 and controls > 0.1 * len(head)
        while True:
            chunk = handle.read(1 << 22)
            data = pending + chunk
            if not data:
                return None
            try:
                data.decode("utf-8")
                good = len(data)
            except UnicodeDecodeError as exc:
                if chunk and exc.reason == "unexpected end of data":
                    good = exc.start  # a character cut by the chunk's end: finish it with the next chunk
                else:
                    line = newlines + data[: exc.start].count(b"\n") + 1
                    return line, data[exc.start : min(exc.end, exc.start + 4)], binary
            newlines += data[:good].count(b"\n")
            pending = data[good:]
            if not chunk:
                return None


# Over 80 lines on purpose: one pass over a spreadsheet's cell types, each branch a documented conversion.
def _cells_to_text(frame: pl.DataFrame, table: Table, *, excel: bool, path: Path | None = None) -> pl.DataFrame:
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
    for name, dtype in frame.schema.items():
        if dtype.is_nested() or dtype == pl.Object:
            raise ExtractError(
                f"{shown_name(path or table.name)}: column {name!r} holds {dtype} values (lists or records), not one "
                "value per cell; write it as a text, number or date column and load again."
            )
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
    if not exprs:
        return frame
    try:
        return frame.select(exprs)
    except Exception as exc:  # a column of a type with no text form (durations, bytes that are not UTF-8)
        for name, expr in zip(frame.columns, exprs):
            try:
                frame.select(expr)
            except Exception:
                raise ExtractError(
                    f"{shown_name(path or table.name)}: column {name!r} holds {frame.schema[name]} values, which "
                    "have no text form the contract reads; write it as a text, number or date column (text "
                    "as UTF-8) and load again."
                ) from exc
        raise
