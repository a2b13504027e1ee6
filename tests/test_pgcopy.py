"""PostgreSQL's binary COPY format, written column by column (dashboard/pgcopy.py).

Checked three ways: against a row-by-row encoder written here with
``struct`` (any frame hypothesis makes), byte for byte against what the
server itself sends for the same rows, and through the loader's COPY,
where the binary and the CSV path must store the same table.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import pgcopy
from dashboard.db import postgres as postgres_backend

_TYPES = {
    "text": (sa.String(40), pl.String),
    "date": (sa.Date(), pl.Date),
    "bool": (sa.Boolean(), pl.Boolean),
    "int4": (sa.Integer(), pl.Int64),
    "int8": (sa.BigInteger(), pl.Int64),
    "int2": (sa.SmallInteger(), pl.Int32),
}
_INT_FORMATS = {"int4": ">i", "int8": ">q", "int2": ">h"}


def _reference(rows: list[tuple[Any, ...]], kinds: list[str]) -> bytes:
    """The format as the PostgreSQL manual describes it, one value at a time."""
    out = bytearray()
    for row in rows:
        out += struct.pack(">h", len(row))
        for value, kind in zip(row, kinds, strict=True):
            if value is None:
                out += struct.pack(">i", -1)
                continue
            if kind == "text":
                data = value.encode("utf-8")
            elif kind == "date":
                data = struct.pack(">i", (value - dt.date(2000, 1, 1)).days)
            elif kind == "bool":
                data = b"\x01" if value else b"\x00"
            else:
                data = struct.pack(_INT_FORMATS[kind], value)
            out += struct.pack(">i", len(data)) + data
    return bytes(out)


def _frame(rows: list[tuple[Any, ...]], kinds: list[str]) -> pl.DataFrame:
    schema = {f"c{i}": _TYPES[k][1] for i, k in enumerate(kinds)}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _encoded(frame: pl.DataFrame, kinds: list[str]) -> bytes:
    how = pgcopy.plan([_TYPES[k][0] for k in kinds], frame)
    assert how is not None
    return bytes(pgcopy.encode(frame, how))


_AWKWARD = [
    "",
    " ",
    "a,b",
    'say "hi"',
    "line\nbreak",
    "back\\slash",
    "tab\there",
    "\\N",
    "NULL",
    "Zoë Ñúñez",
    "李小龍",
    "🙂 emoji",
    "=cmd()",
    "x" * 40,
]
_VALUES = {
    "text": st.one_of(
        st.sampled_from(_AWKWARD),
        st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
    ),
    "date": st.dates(),
    "bool": st.booleans(),
    "int4": st.integers(-(2**31), 2**31 - 1),
    "int8": st.integers(-(2**63), 2**63 - 1),
    "int2": st.integers(-(2**15), 2**15 - 1),
}


@st.composite
def _tables(draw: st.DrawFn) -> tuple[list[str], list[tuple[Any, ...]]]:
    kinds = draw(st.lists(st.sampled_from(sorted(_TYPES)), min_size=1, max_size=6))
    cells = [st.one_of(st.none(), _VALUES[k]) for k in kinds]
    rows = draw(st.lists(st.tuples(*cells), min_size=1, max_size=30))
    return kinds, rows


@settings(max_examples=150, deadline=None)
@given(_tables())
def test_encoding_equals_a_row_by_row_encoder(table: tuple[list[str], list[tuple[Any, ...]]]) -> None:
    kinds, rows = table
    assert _encoded(_frame(rows, kinds), kinds) == _reference(rows, kinds)


def test_a_slice_of_a_frame_encodes_only_its_rows() -> None:
    kinds = ["text", "date", "int4"]
    rows = [(f"r{i}", dt.date(2024, 1, i + 1), i) for i in range(9)]
    frame = _frame(rows, kinds)
    how = pgcopy.plan([_TYPES[k][0] for k in kinds], frame)
    assert how is not None
    assert bytes(pgcopy.encode(frame.slice(3, 4), how)) == _reference(rows[3:7], kinds)
    assert bytes(pgcopy.encode(frame.slice(9, 4), how)) == b""


def test_the_header_and_trailer_are_the_manuals() -> None:
    assert pgcopy.SIGNATURE == b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    assert pgcopy.TRAILER == b"\xff\xff"


@pytest.mark.parametrize(
    ("sql_type", "series"),
    [
        (sa.DateTime(), pl.Series([dt.datetime(2024, 1, 1)])),  # a type not written in binary
        (sa.Date(), pl.Series(["2024-01-01"])),  # text where the table has a date
        (sa.Boolean(), pl.Series([1])),
        (sa.Integer(), pl.Series([2**31])),  # does not fit: the server must refuse it
        (sa.Integer(), pl.Series([-(2**31) - 1])),
        (sa.SmallInteger(), pl.Series([40_000])),
        (sa.Date(), pl.Series([-(2**31) + 10_957], dtype=pl.Int32).cast(pl.Date)),  # would read as -infinity
        (sa.Date(), pl.Series([-719_163], dtype=pl.Int32).cast(pl.Date)),  # year 0: PostgreSQL's 1 BC
        (sa.Date(), pl.Series([2_932_897], dtype=pl.Int32).cast(pl.Date)),  # year 10000
    ],
)
def test_what_the_binary_writer_leaves_to_csv(sql_type: Any, series: pl.Series) -> None:
    assert pgcopy.plan([sql_type], series.to_frame("c")) is None


def test_the_extreme_values_that_fit_are_written_in_binary() -> None:
    frame = pl.DataFrame(
        {
            "i": pl.Series([-(2**31), 2**31 - 1, None], dtype=pl.Int64),
            "d": pl.Series([dt.date(1, 1, 1), dt.date(9999, 12, 31), None], dtype=pl.Date),
        }
    )
    assert pgcopy.plan([sa.Integer(), sa.Date()], frame) == pgcopy.Plan((">i4", "date"))
    assert pgcopy.plan([sa.Integer()], frame) is None  # a column missing


# --- against the server -------------------------------------------------------

_SQL_TYPES = {
    "text": "varchar(40)",
    "date": "date",
    "bool": "boolean",
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
}


@pytest.fixture
def pg(postgres_engine: sa.engine.Engine) -> Iterator[Any]:
    """A psycopg cursor inside a transaction that is rolled back afterwards."""
    with postgres_engine.connect() as conn:
        driver = conn.connection.driver_connection
        with driver.cursor() as cur:
            yield cur
        conn.rollback()


def _server_rows(cur: Any, kinds: list[str], rows: list[tuple[Any, ...]]) -> bytes:
    """What PostgreSQL sends for ``rows`` stored through ordinary parameters."""
    cols = [f"c{i}" for i in range(len(kinds))]
    cur.execute(
        "CREATE TEMP TABLE sent (seq integer, "
        + ", ".join(f"{c} {_SQL_TYPES[k]}" for c, k in zip(cols, kinds, strict=True))
        + ")"
    )
    cur.executemany(
        f"INSERT INTO sent VALUES (%s, {', '.join(['%s'] * len(cols))})",
        [(i, *row) for i, row in enumerate(rows)],
    )
    out = bytearray()
    with cur.copy(
        f"COPY (SELECT {', '.join(cols)} FROM sent ORDER BY seq) TO STDOUT (FORMAT binary)"
    ) as copy:
        for block in copy:
            out += block
    return bytes(out)


@pytest.mark.postgres
def test_encoding_is_byte_for_byte_what_the_server_sends(pg: Any) -> None:
    kinds = ["text", "date", "bool", "int4", "int8", "int2"]
    rows: list[tuple[Any, ...]] = [
        *[(text, dt.date(1999, 12, 31), True, 0, 0, 0) for text in _AWKWARD],
        (None, dt.date(2000, 1, 1), False, -(2**31), -(2**63), -(2**15)),
        ("plain", dt.date(2000, 1, 2), None, 2**31 - 1, 2**63 - 1, 2**15 - 1),
        ("old", dt.date(1, 1, 1), True, None, None, None),
        ("late", dt.date(9999, 12, 31), False, -1, -1, -1),
        ("epoch", dt.date(1970, 1, 1), None, 1, 1, 1),
        (None, None, None, None, None, None),
    ]
    expected = pgcopy.SIGNATURE + _encoded(_frame(rows, kinds), kinds) + pgcopy.TRAILER
    assert _server_rows(pg, kinds, rows) == expected


def _stored(cur: Any, table: str) -> list[tuple[Any, ...]]:
    cur.execute(f"SELECT * FROM {table} ORDER BY 1")
    return cur.fetchall()


@pytest.mark.postgres
def test_binary_and_csv_copies_store_the_same_rows(pg: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    kinds = ["int4", "text", "date", "bool", "int8"]
    rows = [
        (
            i,
            text,
            dt.date(1999, 12, 25) + dt.timedelta(days=3 * i),
            [True, False, None][i % 3],
            (i - 7) * 10**12,
        )
        for i, text in enumerate([*_AWKWARD, None, None])
    ]
    frame = _frame(rows, kinds)
    sql_types = [_TYPES[k][0] for k in kinds]
    columns = ", ".join(f"c{i} {_SQL_TYPES[k]}" for i, k in enumerate(kinds))
    col_list = ", ".join(frame.columns)
    monkeypatch.setattr(postgres_backend, "_COPY_SLICE", 4)  # several slices, the last one short
    encoded: list[int] = []
    real_encode = pgcopy.encode
    monkeypatch.setattr(
        pgcopy, "encode", lambda part, how: encoded.append(part.height) or real_encode(part, how)
    )

    pg.execute(f"CREATE TEMP TABLE by_binary ({columns})")
    postgres_backend._copy_in(pg, "by_binary", col_list, frame, sql_types)
    assert encoded == [4, 4, 4, 4]

    monkeypatch.setattr(pgcopy, "plan", lambda *_: None)
    pg.execute(f"CREATE TEMP TABLE by_csv ({columns})")
    postgres_backend._copy_in(pg, "by_csv", col_list, frame, sql_types)
    assert encoded == [4, 4, 4, 4]  # the CSV path did not encode

    assert _stored(pg, "by_binary") == _stored(pg, "by_csv") == rows


@pytest.mark.postgres
def test_a_frame_left_to_csv_still_loads(pg: Any) -> None:
    frame = pl.DataFrame({"d": ["2024-02-29", None], "n": ["x", ""]})  # dates as text
    pg.execute("CREATE TEMP TABLE dates_as_text (d date, n varchar(4))")
    postgres_backend._copy_in(pg, "dates_as_text", "d, n", frame, [sa.Date(), sa.String(4)])
    assert _stored(pg, "dates_as_text") == [(dt.date(2024, 2, 29), "x"), (None, "")]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("varchar(4)", "toolong", "value too long"),
        ("varchar(8)", "nul\x00here", "0x00"),
        ("integer", 2**31, "out of range"),  # left to CSV by the plan
    ],
)
def test_the_server_still_refuses_what_does_not_fit(pg: Any, column: str, value: Any, message: str) -> None:
    import psycopg

    sql_type = sa.Integer() if column == "integer" else sa.String(int(column[8:-1]))
    pg.execute(f"CREATE TEMP TABLE narrow (v {column})")
    with pytest.raises(psycopg.Error, match=message):
        postgres_backend._copy_in(pg, "narrow", "v", pl.DataFrame({"v": [value]}), [sql_type])


@pytest.mark.postgres
def test_the_widest_dates_keep_their_values_and_year_zero_is_refused(pg: Any) -> None:
    import psycopg

    pg.execute("CREATE TEMP TABLE wide (d date)")
    postgres_backend._copy_in(
        pg, "wide", "d", pl.DataFrame({"d": [dt.date(9999, 12, 31), dt.date(1, 1, 1)]}), [sa.Date()]
    )
    pg.execute("SELECT d::text FROM wide ORDER BY d")
    assert [r[0] for r in pg.fetchall()] == ["0001-01-01", "9999-12-31"]
    year_zero = pl.Series("d", ["0000-06-24"]).str.to_date().to_frame()  # polars reads it; no calendar has it
    with pytest.raises(psycopg.Error, match="out of range"):
        postgres_backend._copy_in(pg, "wide", "d", year_zero, [sa.Date()])


@pytest.mark.postgres
def test_a_client_encoding_other_than_utf8_sends_csv_declared_utf8(
    pg: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgcopy, "encode", lambda *_: pytest.fail("binary text would be read as LATIN1"))
    pg.execute("SET client_encoding TO 'LATIN1'")
    try:
        pg.execute("CREATE TEMP TABLE names (n varchar(20))")
        postgres_backend._copy_in(pg, "names", "n", pl.DataFrame({"n": ["Zoë", "李小龍"]}), [sa.String(20)])
        pg.execute("SELECT encode(convert_to(n, 'UTF8'), 'hex') FROM names ORDER BY n")
        assert [bytes.fromhex(r[0]).decode() for r in pg.fetchall()] == ["Zoë", "李小龍"]
    finally:
        pg.execute("RESET client_encoding")


@settings(max_examples=100, deadline=None)
@given(_tables(), st.data())
def test_a_slice_of_a_frame_in_several_chunks_encodes_its_rows(
    table: tuple[list[str], list[tuple[Any, ...]]], data: st.DataObject
) -> None:
    kinds, rows = table
    cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), max_size=3)))
    pieces = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True) if b > a]
    frame = pl.concat([_frame(p, kinds) for p in pieces], rechunk=False)
    start = data.draw(st.integers(0, len(rows)))
    length = data.draw(st.integers(0, len(rows)))
    how = pgcopy.plan([_TYPES[k][0] for k in kinds], frame)
    assert how is not None
    assert bytes(pgcopy.encode(frame.slice(start, length), how)) == _reference(
        rows[start : start + length], kinds
    )


@pytest.mark.parametrize(
    ("sql_type", "kind", "dtype"),
    [
        (sa.SmallInteger(), "int2", pl.Int8),
        (sa.SmallInteger(), "int2", pl.UInt8),
        (sa.Integer(), "int4", pl.Int16),
        (sa.Integer(), "int4", pl.UInt16),
        (sa.Integer(), "int4", pl.Int32),
        (sa.BigInteger(), "int8", pl.UInt32),
        (sa.BigInteger(), "int8", pl.Int64),
    ],
)
def test_every_integer_dtype_that_fits_is_written_at_the_columns_width(
    sql_type: Any, kind: str, dtype: Any
) -> None:
    info = np.iinfo(pl.Series([], dtype=dtype).to_numpy().dtype)
    values = [int(info.min), 0, None, int(info.max)]
    frame = pl.DataFrame({"c0": pl.Series(values, dtype=dtype)})
    how = pgcopy.plan([sql_type], frame)
    assert how is not None
    assert bytes(pgcopy.encode(frame, how)) == _reference([(v,) for v in values], [kind])
