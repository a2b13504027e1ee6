"""The per-row rules of the contract, computed in polars.

A delivered file becomes a *validation frame* with, for every contract column:

- ``<column>``: the *lexical* value: trimmed of Unicode whitespace (NBSP
  included), empty -> null, enums and booleans lowercased. "Is the value set"
  is asked of this column.
- ``<column>__v`` (non-string columns only): the *typed* value: a ``Date``,
  ``Int64``, ``Boolean``, ``Decimal(18, 2)`` or allowed enum value, null when the lexical value
  breaks its format. Every rule other than required/format reads this column,
  so a value that fails its format fails no other rule on that column.

The same frame (as pandas) is what the Great Expectations suites in
``data_checks.suites`` validate, expectation by expectation, with the same rule
ids; ``tests/test_data_checks.py`` proves that both give every row the same
rules. The loader takes its row masks from here because polars computes them
over millions of rows in a fraction of the time (docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from dashboard import contract
from dashboard.contract import (
    DATE_PATTERN,
    DECIMAL_PATTERN,
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    FALSE_WORDS,
    INT_PATTERN,
    TRUE_WORDS,
    AtLeastOne,
    Column,
    DateOrder,
    FirstOfMonth,
    NullUnless,
    NullWhen,
    RequiredWhen,
    Table,
)
from dashboard.readers import LINE

TYPED_SUFFIX = "__v"
RULES = "__rules"
#: ``<column>__nuls``: NUL characters in the lexical value; ``<column>__chars``
#: (text columns): its length in characters. Small numbers, so the Great
#: Expectations profile checks the two storage rules without every distinct value.
NULS_SUFFIX = "__nuls"
CHARS_SUFFIX = "__chars"

FORMAT_RULE_KIND: dict[str, str] = {
    "date": contract.RULE_DATE_FORMAT,
    "int": contract.RULE_INT_FORMAT,
    "bool": contract.RULE_BOOL_FORMAT,
    "enum": contract.RULE_ENUM,
    "decimal": contract.RULE_DECIMAL_FORMAT,
}

#: The loaded type of decimal columns (amounts, full-time equivalents): exact, two places.
DECIMAL_TYPE = pl.Decimal(DECIMAL_PRECISION, DECIMAL_SCALE)


def typed_name(column: str) -> str:
    return column + TYPED_SUFFIX


def nuls_name(column: str) -> str:
    return column + NULS_SUFFIX


def chars_name(column: str) -> str:
    return column + CHARS_SUFFIX


def has_typed(col: Column) -> bool:
    return col.type != "str"


def value_name(col: Column) -> str:
    """The frame column holding ``col``'s value as it is loaded."""
    return typed_name(col.name) if has_typed(col) else col.name


def _lexical(col: Column) -> pl.Expr:
    trimmed = pl.col(col.name).str.strip_chars()
    if col.type in ("enum", "bool"):
        trimmed = trimmed.str.to_lowercase()
    return pl.when(trimmed == "").then(pl.lit(None, pl.String)).otherwise(trimmed).alias(col.name)


def _typed(col: Column) -> pl.Expr:
    lex = pl.col(col.name)
    expr: pl.Expr
    if col.type == "date":
        # Year 0000 has the shape, and polars would read it (proleptic 1 BC), but it
        # is no calendar year: no such date can be stored or read back everywhere.
        real_day = lex.str.contains(DATE_PATTERN) & ~lex.str.starts_with("0000")
        expr = pl.when(real_day).then(lex.str.to_date("%Y-%m-%d", strict=False))
    elif col.type == "int":
        digits = lex.str.replace(r"\.0+$", "")
        expr = pl.when(lex.str.contains(INT_PATTERN)).then(digits.cast(pl.Int64, strict=False))
    elif col.type == "bool":
        expr = (
            pl.when(lex.is_in(sorted(TRUE_WORDS)))
            .then(pl.lit(True))
            .when(lex.is_in(sorted(FALSE_WORDS)))
            .then(pl.lit(False))
            .otherwise(pl.lit(None, pl.Boolean))
        )
    elif col.type == "enum":
        expr = pl.when(lex.is_in(list(col.enum))).then(lex)
    elif col.type == "decimal":
        # the pattern admits no sign, so a decimal is never below 0; a number too
        # large for NUMERIC(18, 2) does not convert and fails the format too
        expr = pl.when(lex.str.contains(DECIMAL_PATTERN)).then(lex.cast(DECIMAL_TYPE, strict=False))
    else:  # pragma: no cover - str columns have no typed twin
        raise AssertionError(col.type)
    return expr.alias(typed_name(col.name))


def _storage_measures(table: Table, scan_nul: bool) -> list[pl.Expr]:
    """``<column>__nuls`` for every column and ``<column>__chars`` for text columns.

    Without ``scan_nul`` (the file holds no zero byte at all) every set value
    counts 0 NUL characters without being scanned."""
    if scan_nul:
        out = [pl.col(c.name).str.count_matches("\x00", literal=True).alias(nuls_name(c.name)) for c in table.columns]
    else:
        out = [
            pl.when(pl.col(c.name).is_not_null()).then(pl.lit(0, pl.UInt32)).alias(nuls_name(c.name))
            for c in table.columns
        ]
    out += [
        pl.col(c.name).str.len_chars().alias(chars_name(c.name))
        for c in table.columns
        if contract.max_length(table, c) is not None
    ]
    return out


def validation_frame(table: Table, contract_frame: pl.DataFrame, *, scan_nul: bool = True) -> pl.DataFrame:
    """Lexical and typed columns (see module doc), the storage measures and the line number;
    for a table keyed on several columns also the combined key (:func:`record_key`).

    ``scan_nul=False`` when the delivered file is known to hold no zero byte."""
    lexical = contract_frame.select([_lexical(c) for c in table.columns] + [pl.col(LINE)])
    typed = [_typed(c) for c in table.columns if has_typed(c)]
    if table.has_composite_key:
        typed.append(record_key(table))
    return lexical.with_columns(typed + _storage_measures(table, scan_nul))


def _is_set(column: str) -> pl.Expr:
    return pl.col(column).is_not_null()


def _when_holds(when_column: str, values: tuple[str, ...]) -> pl.Expr:
    """The condition of a conditional rule, on the lexical value (set / one of values)."""
    if not values:
        return _is_set(when_column)
    return pl.col(when_column).is_in(list(values)).fill_null(False)


def rule_expressions(table: Table, as_of: dt.date) -> dict[str, pl.Expr]:
    """Every single-row rule of ``table`` as ``rule id -> expression true where broken``.

    Order: per column required, NUL character, length (text), format, range,
    after-as-of; then the row rules in contract order. This order is the order
    rule ids are listed in reports.
    """
    rules: dict[str, pl.Expr] = {}
    for col in table.columns:
        if col.required:
            rules[contract.rule_id(contract.RULE_REQUIRED, col.name)] = pl.col(col.name).is_null()
        # no database column stores a NUL character (PostgreSQL refuses it in text)
        rules[contract.rule_id(contract.RULE_NUL_CHARACTER, col.name)] = (pl.col(nuls_name(col.name)) > 0).fill_null(False)
        limit = contract.max_length(table, col)
        if limit is not None:
            rules[contract.rule_id(contract.RULE_TOO_LONG, col.name)] = (pl.col(chars_name(col.name)) > limit).fill_null(False)
        if has_typed(col):
            typed = pl.col(typed_name(col.name))
            rules[contract.rule_id(FORMAT_RULE_KIND[col.type], col.name)] = _is_set(col.name) & typed.is_null()
            if col.type == "int" and (col.min_value is not None or col.max_value is not None):
                outside = pl.lit(False)
                if col.min_value is not None:
                    outside = outside | (typed < col.min_value)
                if col.max_value is not None:
                    outside = outside | (typed > col.max_value)
                rules[contract.rule_id(contract.RULE_RANGE, col.name)] = outside.fill_null(False)
            if col.type == "date" and not col.may_follow_as_of:
                rules[contract.rule_id(contract.RULE_AFTER_AS_OF, col.name)] = (typed > pl.lit(as_of)).fill_null(False)
    for rule in table.row_rules:
        rules[rule.id] = row_rule_expression(table, rule)
    return rules


def row_rule_expression(table: Table, rule: contract.RowRule) -> pl.Expr:
    """True where the row breaks ``rule`` (see :mod:`dashboard.contract` for the meanings)."""
    if isinstance(rule, DateOrder):
        later, earlier = pl.col(typed_name(rule.later)), pl.col(typed_name(rule.earlier))
        return (later < earlier).fill_null(False)
    if isinstance(rule, RequiredWhen):
        # the value is "present" lexically: a badly formatted value already fails its format
        return _when_holds(rule.when_column, rule.values) & pl.col(rule.column).is_null()
    if isinstance(rule, NullUnless):
        value = pl.col(value_name(table.column(rule.column)))
        return ~_when_holds(rule.when_column, rule.values) & value.is_not_null()
    if isinstance(rule, NullWhen):
        value = pl.col(value_name(table.column(rule.column)))
        return _when_holds(rule.when_column, rule.values) & value.is_not_null()
    if isinstance(rule, FirstOfMonth):
        return (pl.col(typed_name(rule.column)).dt.day() != 1).fill_null(False)
    if isinstance(rule, AtLeastOne):
        # "set" lexically, as for RequiredWhen: an invalid value fails its own rule
        return pl.all_horizontal([pl.col(c).is_null() for c in rule.columns])
    raise AssertionError(f"unknown row rule {rule!r}")  # pragma: no cover


def with_rule_ids(frame: pl.DataFrame, rules: dict[str, pl.Expr]) -> pl.DataFrame:
    """Add :data:`RULES`: the list of rule ids each row breaks (empty list when none)."""
    if not rules:
        return frame.with_columns(pl.lit([], pl.List(pl.String)).alias(RULES))
    flags = [expr.alias(f"__r{i}") for i, expr in enumerate(rules.values())]
    names = list(rules)
    listed = pl.concat_list(
        [pl.when(pl.col(f"__r{i}")).then(pl.lit(name)).otherwise(pl.lit(None, pl.String)) for i, name in enumerate(names)]
    ).list.drop_nulls()
    any_broken = pl.any_horizontal([pl.col(f"__r{i}") for i in range(len(names))])
    out = frame.with_columns(flags)
    # build the lists only where something is broken: most rows break nothing
    out = out.with_columns(
        pl.when(any_broken).then(listed).otherwise(pl.lit([], pl.List(pl.String))).alias(RULES)
    )
    return out.drop([f"__r{i}" for i in range(len(names))])


def record_key(table: Table) -> pl.Expr:
    """The key of a row as one string, named ``table.key``.

    For a single-column key that is the column itself. For a composite key
    (``staffing``: agency_id and month) the parts are joined by
    :data:`dashboard.contract.KEY_PART_SEPARATOR` (``A01 | 2024-03-01``),
    null when a part is missing. Reads either the lexical columns of a
    validation frame or the typed columns of loaded rows: a date's text and
    the text of a valid date are the same ``YYYY-MM-DD``.
    """
    if not table.has_composite_key:
        return pl.col(table.key)
    parts = [pl.col(c).cast(pl.String) for c in table.key_columns]
    return pl.concat_str(parts, separator=contract.KEY_PART_SEPARATOR, ignore_nulls=False).alias(table.key)


def decimal_problem(text: str) -> str:
    """What is wrong with ``text`` as a decimal (docs/data-contract.md), in words for the quarantine.

    The rule is one (``decimal_format:<column>``); this names the form the
    partner used, so they know what to change.
    """
    if text.startswith("-"):
        return f"{text!r} has a minus sign (the value cannot be below 0)"
    if text.startswith("+"):
        return f"{text!r} has a plus sign"
    if re.search(r"[$\u00a2-\u00a5\u20a0-\u20bf]", text) or re.fullmatch(
        r"[A-Z]{3} ?[0-9][0-9.,]*|[0-9][0-9.,]* ?[A-Z]{3}", text
    ):
        return f"{text!r} has a currency symbol or code"
    if re.fullmatch(r"[0-9]*\.?[0-9]+[eE][+-]?[0-9]+", text):
        return f"{text!r} is written with an exponent"
    if re.fullmatch(r"[0-9]{1,3}(?:[,' ][0-9]{3})+(?:\.[0-9]*)?", text):
        return f"{text!r} has a thousands separator"
    if re.fullmatch(r"[0-9]+,[0-9]+", text):
        return f"{text!r} has a decimal comma (write a point)"
    if re.fullmatch(r"[0-9]*\.[0-9]{3,}", text):
        return f"{text!r} has more than two decimal places"
    if re.fullmatch(r"[0-9]+\.", text):
        return f"{text!r} ends with a point (write 12 or 12.0)"
    if re.fullmatch(r"\.[0-9]+", text):
        return f"{text!r} has no digit before the point (write 0.5)"
    if re.fullmatch(DECIMAL_PATTERN, text):
        return f"{text!r} is too large (at most {DECIMAL_PRECISION - DECIMAL_SCALE} digits before the point)"
    return f"{text!r} is not a number written with digits"


def decimal_details(table: Table, rows: pl.DataFrame) -> pl.Series:
    """Per row of ``rows`` (a validation frame with :data:`RULES`), what is wrong with each
    decimal that broke its format, as ``column: problem`` lines; null when none did."""
    columns = [c.name for c in table.columns if c.type == "decimal"]
    out: list[str | None] = []
    for record in rows.select([*columns, RULES]).iter_rows(named=True):
        broken = set(record[RULES] or ())
        lines = [
            f"{c}: {decimal_problem(record[c])}"
            for c in columns
            if contract.rule_id(contract.RULE_DECIMAL_FORMAT, c) in broken and record[c] is not None
        ]
        out.append("\n".join(lines) if lines else None)
    return pl.Series("decimal_details", out, dtype=pl.String)


def load_frame(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """The contract columns with their loaded types, named as in the database."""
    return frame.select([pl.col(value_name(c)).alias(c.name) for c in table.columns])
