"""Command-line value types shared by every sub-command (``cli`` and ``export``).

Dates are read as strictly as the data contract reads them: ``YYYY-MM-DD``
only (``date.fromisoformat`` alone would also take ``20250101`` or
``2025-W01-1``).

An as-of date must also lie in the range the product accepts (:func:`as_of_problem`,
docs/data-contract.md "The as-of date"): the numbers are "as of" a day that has
happened. The loader applies the same range to a manifest's or an AS_OF file's date.
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


#: How far past today an as-of date may be: one day, so that an extract dated in
#: a time zone ahead of the server's (already tomorrow there) still loads.
AS_OF_MARGIN = dt.timedelta(days=1)
#: The earliest as-of date accepted: older than any record a justice partner keeps
#: (a 1970s study loads), late enough that every date the metrics derive from it
#: (follow-up windows, quarters, trends) exists.
EARLIEST_AS_OF = dt.date(1900, 1, 1)


def latest_as_of(today: dt.date | None = None) -> dt.date:
    """The latest as-of date accepted: today plus :data:`AS_OF_MARGIN`."""
    return (today or dt.date.today()) + AS_OF_MARGIN


def as_of_problem(as_of: dt.date, today: dt.date | None = None) -> str | None:
    """Why ``as_of`` cannot be an as-of date, in words, or None when it can."""
    latest = latest_as_of(today)
    if as_of > latest:
        return (
            f"the as-of date {as_of.isoformat()} is in the future (the latest accepted is {latest.isoformat()}, "
            "today plus one day); give the date the extract was taken"
        )
    if as_of < EARLIEST_AS_OF:
        return (
            f"the as-of date {as_of.isoformat()} is before {EARLIEST_AS_OF.isoformat()}, the earliest accepted; "
            "give the date the extract was taken"
        )
    return None


def as_of_argument(value: str) -> dt.date:
    """``--as-of``: a date written YYYY-MM-DD, from 1900-01-01 to tomorrow."""
    as_of = date_argument(value)
    problem = as_of_problem(as_of)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return as_of


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
