"""The report package on disk: PDF, HTML, the chart and table files and a ZIP of them all."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass




# --- reporting periods ---------------------------------------------------------------


@dataclass(frozen=True)
class ReportingPeriod:
    """An inclusive date range with the label the user typed (normalised)."""

    label: str
    start: dt.date
    end: dt.date
    description: str


_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_HALF = re.compile(r"^(\d{4})H([12])$")
_FISCAL = re.compile(r"^FY(\d{4})(?:(Q)([1-4])|(H)([12]))?$")
_CUSTOM = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?::|\.\.)\s*(\d{4}-\d{2}-\d{2})$")

PERIOD_FORMS = (
    "2025Q1 (calendar quarter), 2025H1 (calendar half year), FY2025 (fiscal year), "
    "FY2025Q1 / FY2025H1 (fiscal quarter / half), or 2025-01-01:2025-03-31 (custom, inclusive)"
)


def _month_span(year: int, month: int, months: int) -> tuple[dt.date, dt.date]:
    """First day of ``year-month`` and the last day ``months`` calendar months later."""
    start = dt.date(year, month, 1)
    total = year * 12 + (month - 1) + months - 1
    end_year, end_month0 = divmod(total, 12)
    end = dt.date(end_year, end_month0 + 1, calendar.monthrange(end_year, end_month0 + 1)[1])
    return start, end


def fiscal_year_bounds(fiscal_year: int, start_month: int) -> tuple[dt.date, dt.date]:
    """FY ``fiscal_year`` is named by the calendar year in which it ends.

    Start month 1: FY2025 = 2025-01-01..2025-12-31. Start month 7 (a July
    state fiscal year): FY2025 = 2024-07-01..2025-06-30. Start month 10 (the
    US federal year): FY2025 = 2024-10-01..2025-09-30.
    """
    check_start_month(start_month)
    first_year = fiscal_year if start_month == 1 else fiscal_year - 1
    return _month_span(first_year, start_month, 12)


def check_start_month(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise ValueError(f"the fiscal year start month must be 1 to 12, not {start_month}")


def parse_period(text: str, *, fiscal_year_start_month: int = 7) -> ReportingPeriod:
    """Parse a reporting period; see :data:`PERIOD_FORMS`.

    Quarters and halves without ``FY`` are calendar ones (2025Q1 = January to
    March 2025). Fiscal quarters count from the fiscal year's first month
    (with a July start, FY2025Q1 = July to September 2024).
    """
    check_start_month(fiscal_year_start_month)
    raw = text.strip()
    norm = raw.upper().replace(" ", "")
    if m := _QUARTER.match(norm):
        year, q = int(m.group(1)), int(m.group(2))
        start, end = _month_span(year, 3 * (q - 1) + 1, 3)
        return ReportingPeriod(norm, start, end, f"Calendar quarter {q} of {year}")
    if m := _HALF.match(norm):
        year, h = int(m.group(1)), int(m.group(2))
        start, end = _month_span(year, 6 * (h - 1) + 1, 6)
        return ReportingPeriod(norm, start, end, f"Calendar half {h} of {year}")
    if m := _FISCAL.match(norm):
        fy = int(m.group(1))
        fy_start, fy_end = fiscal_year_bounds(fy, fiscal_year_start_month)
        month_name = calendar.month_name[fiscal_year_start_month]
        if m.group(2):
            q = int(m.group(3))
            start, end = _month_span(*_shift(fy_start, 3 * (q - 1)), 3)
            return ReportingPeriod(
                norm, start, end, f"Quarter {q} of fiscal year {fy} (fiscal years start in {month_name})"
            )
        if m.group(4):
            h = int(m.group(5))
            start, end = _month_span(*_shift(fy_start, 6 * (h - 1)), 6)
            return ReportingPeriod(
                norm, start, end, f"Half {h} of fiscal year {fy} (fiscal years start in {month_name})"
            )
        return ReportingPeriod(norm, fy_start, fy_end, f"Fiscal year {fy} (starts in {month_name})")
    if m := _CUSTOM.match(raw):
        try:
            start, end = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
        except ValueError as exc:
            raise ValueError(f"period {text!r}: {exc}; write dates as YYYY-MM-DD") from None
        if start > end:
            raise ValueError(f"period {text!r} starts after it ends; write START:END")
        return ReportingPeriod(f"{start.isoformat()}:{end.isoformat()}", start, end, "Custom period")
    raise ValueError(f"cannot read the period {text!r}; write one of: {PERIOD_FORMS}")


def _shift(day: dt.date, months: int) -> tuple[int, int]:
    total = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(total, 12)
    return year, month0 + 1


