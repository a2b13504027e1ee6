"""The shared filters in the URL, both ways (pure: no Streamlit).

Split from :mod:`dashboard.app_state` (which still offers every name here); see its
docstring for how links are read and capped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from dashboard import arguments, views
from dashboard import text as safe_text
from dashboard.contract import COHORTS, RISK_LEVELS, SUPERVISION_TYPES
from dashboard.metrics.tables import Filters


# URL parameter -> Filters field (list-valued; repeated keys in the URL).
LIST_PARAMS: dict[str, str] = {
    "program": "program_ids",
    "agency": "agency_ids",
    "cohort": "cohorts",
    "risk": "risk_levels",
    "supervision": "supervision_types",
}
DATE_PARAMS: dict[str, str] = {"start": "start", "end": "end", "as_of": "as_of"}
FILTER_PARAMS: tuple[str, ...] = (*LIST_PARAMS, *DATE_PARAMS)
WIDGET_PREFIX = "filter_"
ID_PARAMS: frozenset[str] = frozenset({"program", "agency"})
"""List parameters holding partner ids: read only as repeated keys, never split on commas."""

EARLIEST_LINK_DATE = arguments.EARLIEST_AS_OF
"""The earliest date a link (or a date widget) may set: old studies stay reachable. The same bound as
the command line's ``--as-of`` and the extract's manifest."""
AS_OF_MARGIN_DAYS = arguments.AS_OF_MARGIN.days
"""A link's as-of date may be at most this many days after today, as on the command line."""
PERIOD_YEARS_AHEAD = 10
"""A period may end at most this many years after today (planned fiscal years)."""
MAX_LINK_VALUES = 200
"""Filter values read from one link; the rest are ignored with one message."""
MAX_LINK_CHARS = 8_000
"""Characters of filter values read from one link; the rest are ignored with one message."""
MAX_PROBLEMS_SHOWN = 8
"""Problems with a link listed one by one; more are counted."""
LINK_TOO_LONG_PARAM = "link_too_long"
"""Set by the browser (see :data:`LINK_TOO_LONG_SCRIPT`) when Streamlit dropped the whole query string."""

# Streamlit drops a query string of more than 1,000 parameters or 512 Ki characters before any
# script sees it (streamlit.runtime.state.query_params.sanitize_query_string): the page would
# silently show no filters. This script, sent only when the page received no parameter at all,
# looks at the address in the browser; when it is over those limits it reopens the page with
# one short parameter saying so, which :func:`link_problems` turns into a message.
LINK_TOO_LONG_SCRIPT = """<script>
(() => {
  const query = window.location.search.replace(/^\\?/, "");
  if (!query) return;
  const fields = query.split("&").length;
  if (fields <= 1000 && query.length <= 512 * 1024) return;
  const url = new URL(window.location.href);
  url.search = "?link_too_long=" + fields + "-" + query.length;
  window.location.replace(url.toString());
})();
</script>"""

ENUM_OPTIONS: dict[str, tuple[str, ...]] = {
    "cohort": COHORTS,
    "risk": RISK_LEVELS,
    "supervision": SUPERVISION_TYPES,
}


# --- filters <-> URL (pure) -------------------------------------------------------------


def _parse_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def latest_as_of(today: dt.date | None = None) -> dt.date:
    """The latest as-of date a link or the as-of widget accepts: today plus a small margin."""
    return arguments.latest_as_of(today)


def latest_period_date(today: dt.date | None = None) -> dt.date:
    """The latest period end a link or the period widgets accept (the end of a year ahead)."""
    return dt.date((today or dt.date.today()).year + PERIOD_YEARS_AHEAD, 12, 31)


def shown_value(value: str) -> str:
    """A link value as quoted in a message (one line, shortened)."""
    return safe_text.shorten(value, 40)


def _capped(params: Mapping[str, Sequence[str]]) -> tuple[dict[str, list[str]], list[str]]:
    """The filter values of a link up to :data:`MAX_LINK_VALUES` values and :data:`MAX_LINK_CHARS`
    characters, and one problem naming what was left out."""
    kept: dict[str, list[str]] = {}
    count = chars = dropped = 0
    for param in FILTER_PARAMS:
        for value in params.get(param, ()):
            value = str(value)
            if count < MAX_LINK_VALUES and chars + len(value) <= MAX_LINK_CHARS:
                kept.setdefault(param, []).append(value)
                count += 1
                chars += len(value)
            else:
                dropped += 1
    if not dropped:
        return kept, []
    total = sum(len(params.get(p, ())) for p in FILTER_PARAMS)
    message = (
        f"the link holds {total:,} filter value{'s' if total != 1 else ''}; {count:,} read, {dropped:,} ignored "
        f"(a link may hold at most {MAX_LINK_VALUES:,} values and {MAX_LINK_CHARS:,} characters of them)"
    )
    return kept, [message]


def filters_from_params(
    params: Mapping[str, Sequence[str]], today: dt.date | None = None
) -> tuple[Filters, list[str]]:
    """Filters from URL parameters, and the problems found (ignored values).

    ``params`` maps a parameter to its values (repeated keys). Cohort, risk
    and supervision values may also be one comma-separated value (they never
    contain a comma); program and agency ids are taken whole, so an id with a
    comma round-trips (see :func:`resolve_ids` for old comma-joined links).
    Dates that are not dates, or outside :data:`EARLIEST_LINK_DATE` to
    :func:`latest_as_of` (as-of) / :func:`latest_period_date` (period), are
    ignored with a message; a period whose start is after its end is dropped.
    Values beyond :data:`MAX_LINK_VALUES` / :data:`MAX_LINK_CHARS` are ignored
    with one message.
    """
    params, problems = _capped(params)
    values: dict[str, Any] = {}
    for param, field_name in LIST_PARAMS.items():
        items = [str(item) for item in params.get(param, ())]
        raw = items if param in ID_PARAMS else [v for item in items for v in item.split(",")]
        allowed = ENUM_OPTIONS.get(param)
        kept = []
        for value in raw:
            value = value.strip() if param not in ID_PARAMS else value
            if not value.strip():
                continue
            if allowed and value not in allowed:
                problems.append(f"{param}={shown_value(value)} is not one of {', '.join(allowed)}")
                continue
            kept.append(value)
        values[field_name] = tuple(dict.fromkeys(kept))
    for param, field_name in DATE_PARAMS.items():
        items = list(params.get(param, ()))
        text = items[-1] if items else None
        parsed = _parse_date(text)
        if text and parsed is None:
            problems.append(f"{param}={shown_value(text)} is not a date written YYYY-MM-DD")
        if parsed is not None and param == "as_of" and parsed > latest_as_of(today):
            problems.append(
                f"as_of={parsed} is in the future (the latest as-of date accepted is {latest_as_of(today)}, "
                f"today plus {AS_OF_MARGIN_DAYS} day{'s' if AS_OF_MARGIN_DAYS != 1 else ''}); showing the as-of date of the latest load instead"
            )
            parsed = None
        elif parsed is not None and parsed > latest_period_date(today):
            problems.append(f"{param}={parsed} is after {latest_period_date(today)}, the latest period date "
                            "accepted; ignored")
            parsed = None
        elif parsed is not None and parsed < EARLIEST_LINK_DATE:
            problems.append(f"{param}={parsed} is before {EARLIEST_LINK_DATE}, the earliest date accepted; ignored")
            parsed = None
        values[field_name] = parsed
    if values["start"] and values["end"] and values["start"] > values["end"]:
        problems.append(f"the period starts ({values['start']}) after it ends ({values['end']}); period ignored")
        values["start"] = values["end"] = None
    return Filters(**values), problems


def params_from_filters(filters: Filters) -> dict[str, list[str]]:
    """The URL parameters of ``filters`` (only those that are set)."""
    out: dict[str, list[str]] = {}
    for param, field_name in LIST_PARAMS.items():
        values = [v for v in getattr(filters, field_name) if v is not None]
        if values:
            out[param] = list(values)
    for param, field_name in DATE_PARAMS.items():
        value = getattr(filters, field_name)
        if value is not None:
            out[param] = [value.isoformat()]
    return out


def describe_filters(
    filters: Filters,
    program_names: Mapping[str, str],
    agency_names: Mapping[str, str],
    name_text: Callable[[object], str] = safe_text.shorten,
) -> str:
    """The filters in words, for captions and chart subtitles.

    Each program or agency name goes through ``name_text``: shortened plain
    text by default; pass ``dashboard.text.markdown_text`` for a caption.
    """
    parts = []
    if filters.program_ids:
        parts.append("program " + ", ".join(name_text(program_names.get(p, p)) for p in filters.program_ids))
    if filters.agency_ids:
        parts.append("agency " + ", ".join(name_text(agency_names.get(a, a)) for a in filters.agency_ids))
    for label, values in (
        ("cohort", filters.cohorts),
        ("risk", filters.risk_levels),
        ("supervision", filters.supervision_types),
    ):
        if values:
            parts.append(f"{label} " + ", ".join(views.humanise(v) for v in values))
    if filters.start or filters.end:
        parts.append(f"period {filters.start or 'start'} to {filters.end or 'as-of'}")
    return "; ".join(parts) if parts else "all programs, agencies and participants"


def resolve_ids(values: Sequence[str], known: Collection[str]) -> tuple[list[str], list[str]]:
    """(known ids, unknown values) of a link's program or agency values.

    A value is first taken whole, so an id containing a comma is found. A
    value that is no id but whose comma-separated parts all are (a link
    written before lists became repeated keys) gives those parts.
    """
    found: list[str] = []
    unknown: list[str] = []
    for value in values:
        if value in known:
            found.append(value)
            continue
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if len(parts) > 1 and all(part in known for part in parts):
            found.extend(parts)
        else:
            unknown.append(value)
    return list(dict.fromkeys(found)), unknown


def link_problems(marker: str | None) -> list[str]:
    """The message for a link Streamlit could not read at all (see :data:`LINK_TOO_LONG_PARAM`)."""
    if marker is None:
        return []
    fields, _, chars = str(marker).partition("-")
    size = (f" ({int(fields):,} parameters, {int(chars):,} characters)"
            if fields.isdigit() and chars.isdigit() else "")
    message = (
        f"the link was too long to read{size}: at most 1,000 parameters and 524,288 characters can be "
        "read, so none of its filters were applied; share a link with fewer values"
    )
    return [message]


def problems_markdown(problems: Sequence[str]) -> str:
    """Everything ignored from a link as ONE message (Markdown, values escaped): the first
    :data:`MAX_PROBLEMS_SHOWN` listed, the rest counted."""
    shown = [f"- {safe_text.markdown_full(p)}" for p in problems[:MAX_PROBLEMS_SHOWN]]
    more = len(problems) - MAX_PROBLEMS_SHOWN
    if more > 0:
        shown.append(f"- … and {more:,} more")
    return "Ignored from the link:\n" + "\n".join(shown)
