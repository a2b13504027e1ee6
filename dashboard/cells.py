"""What one exported or displayed cell reads as: a leaf module every output shares.

The CSV, XLSX, HTML and PDF writers (:mod:`dashboard.export`,
:mod:`dashboard.report`), the ``metrics --format csv`` output of the engine and
the charts all agree on three things, kept here so none of them has to import
another to learn them (see ``docs/exports.md`` and ``docs/architecture.md``):

- **Spreadsheets cannot execute the data.** A text cell that begins with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a
  single quote (:func:`neutralise_text`). Numbers are not text: ``-0.08``
  stays a number.
- **Suppressed cells say so.** A withheld number reads ``suppressed`` in the
  files (:data:`SUPPRESSED_TEXT`) and ``Suppressed (n<11)`` on the dashboard
  and in chart notes (:func:`suppression_label`).
- **One plain text per value** (:func:`cell_text`): dates as ISO, booleans
  ``true``/``false``, integers without ``.0``.

This module imports nothing from the project, so anything may import it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection)."""

SUPPRESSED_TEXT = "suppressed"
"""What a withheld number reads as, in every format."""

SUPPRESSED_FLAG_COLUMNS: tuple[str, ...] = ("suppressed", "Suppressed")
"""Columns that mark a row as suppressed (engine output, display table)."""

DEFAULT_MIN_CELL_SIZE = 11
"""The default minimum cell size k (see ``docs/metrics.md``)."""


def suppression_label(min_cell_size: int = DEFAULT_MIN_CELL_SIZE) -> str:
    """The mark shown in place of a withheld number, e.g. ``Suppressed (n<11)``."""
    return f"Suppressed (n<{min_cell_size})"


def neutralise_text(value: str) -> str:
    """``value`` with a leading single quote when a spreadsheet would run it as a formula.

    Only text is neutralised; callers never pass numbers here, so a negative
    difference stays a number in every format.
    """
    if value and value[0] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def format_number_text(value: float | int) -> str:
    """Plain, locale-free text of a number: integers without ``.0``, floats by ``repr``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return ""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def cell_text(value: Any, *, suppressed_row: bool = False) -> str:
    """The text of one cell in CSV (and in HTML/PDF before escaping).

    Null is empty, except in a suppressed row where it reads "suppressed".
    Text is neutralised against formula execution; numbers are left alone.
    """
    if value is None:
        return SUPPRESSED_TEXT if suppressed_row else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        # Safety net: a number in a suppressed row is withheld even if the
        # caller passed the engine's unblanked output.
        return SUPPRESSED_TEXT if suppressed_row else format_number_text(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return neutralise_text(", ".join("" if v is None else str(v) for v in value))
    if isinstance(value, dict):
        return neutralise_text(", ".join(f"{k}={v}" for k, v in value.items()))
    return neutralise_text(str(value))
