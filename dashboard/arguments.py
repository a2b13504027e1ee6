"""Command-line value types shared by every sub-command (``cli`` and ``export``).

Dates are read as strictly as the data contract reads them: ``YYYY-MM-DD``
only (``date.fromisoformat`` alone would also take ``20250101`` or
``2025-W01-1``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re

from dashboard.contract import DATE_PATTERN


def date_argument(value: str) -> dt.date:
    if re.fullmatch(DATE_PATTERN, value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"{value!r} is not a date written YYYY-MM-DD")


def nonnegative_argument(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 (no suppression) or more")
    return number


def month_argument(value: str) -> int:
    number = nonnegative_argument(value)
    if not 1 <= number <= 12:
        raise argparse.ArgumentTypeError("must be a month number, 1 (January) to 12 (December)")
    return number
