"""The dashboard's shared state: database status, shared filters in the URL,
cached data access, and the few Streamlit widgets every page repeats.

Pages stay thin: they call :func:`page_context` (which stops the page with an
explanation when there is no data), ask for engine output through the cached
accessors here, hand it to ``dashboard.views`` / ``dashboard.charts`` and draw
it with :func:`show_chart` / :func:`show_table`.

Caching (see ../shared/STACK-NOTES.md):

- the tables are read once per load run: ``st.cache_resource`` keyed on the
  database URL and the latest load run (id and finish time);
- engine output is cached per filter set: ``st.cache_resource`` keyed on the
  URL, the load run, ``repr(Filters)`` and k — small values, never frames —
  so a filter change recomputes only what that filter set needs, once;
- the load-run status is re-read every few seconds so a new load shows up.

Filters live in the URL (``?program=P01&cohort=pilot&start=2025-01-01``):
a copied link reopens exactly the same view; page links carry them. A list
is written as repeated keys (``?program=P01&program=P02``), so an id that
contains a comma survives; a link is untrusted input, so its dates are kept
inside the calendar the dashboard can draw (:data:`EARLIEST_LINK_DATE` to
today plus :data:`AS_OF_MARGIN_DAYS` for the as-of date), its size is capped
(:data:`MAX_LINK_VALUES`, :data:`MAX_LINK_CHARS`) and everything ignored is
listed in one message.

Text from the extract (names, ids) reaches Streamlit's Markdown only through
``dashboard.text`` (see that module for which helper fits which element).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa
import streamlit as st

from dashboard import settings as _settings
from dashboard import arguments, store, views
from dashboard import text as safe_text
from dashboard.contract import COHORTS, RISK_LEVELS, SUPERVISION_TYPES
from dashboard.metrics.partnerships import VIEW_DEFINITIONS
from dashboard.metrics.tables import Filters, Tables, load_tables, resolve_as_of

MIN_CELL_SIZE = _settings.min_cell_size()  # k: 11 unless the configuration file says otherwise
STATUS_TTL_SECONDS = 5

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
"""Set by the browser (see :data:`_LINK_TOO_LONG_SCRIPT`) when Streamlit dropped the whole query string."""

# Streamlit drops a query string of more than 1,000 parameters or 512 Ki characters before any
# script sees it (streamlit.runtime.state.query_params.sanitize_query_string): the page would
# silently show no filters. This script, sent only when the page received no parameter at all,
# looks at the address in the browser; when it is over those limits it reopens the page with
# one short parameter saying so, which :func:`link_problems` turns into a message.
_LINK_TOO_LONG_SCRIPT = """<script>
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


def _shown(value: str) -> str:
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
                problems.append(f"{param}={_shown(value)} is not one of {', '.join(allowed)}")
                continue
            kept.append(value)
        values[field_name] = tuple(dict.fromkeys(kept))
    for param, field_name in DATE_PARAMS.items():
        items = list(params.get(param, ()))
        text = items[-1] if items else None
        parsed = _parse_date(text)
        if text and parsed is None:
            problems.append(f"{param}={_shown(text)} is not a date written YYYY-MM-DD")
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


# --- database status ---------------------------------------------------------------------


@dataclass(frozen=True)
class DataStatus:
    """What the database holds, in a form every page can show.

    ``state``: ``ok``, ``unreachable``, ``no_schema`` or ``empty``.
    """

    state: str
    url: str
    message: str = ""
    run_key: str = "none"
    last_run: Mapping[str, Any] | None = None


def database_url() -> str:
    return store.normalise_url(None)


def _safe_url(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is shown as given
        return url


@st.cache_data(ttl=STATUS_TTL_SECONDS, show_spinner=False)
def read_status(url: str) -> DataStatus:
    """Probe the database: reachable? schema? rows? latest load run?"""
    shown = _safe_url(url)
    path = store.named_file(url)
    if path is not None and not path.exists():
        return DataStatus("no_schema", shown, f"the database file {path} does not exist yet")
    try:
        engine = store.make_reader_engine(url)
    except Exception as exc:  # noqa: BLE001 - bad URL, missing driver...
        return DataStatus("unreachable", shown, f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    try:
        with store.connect(engine) as conn:
            inspector = sa.inspect(conn)
            if not inspector.has_table("participants"):
                return DataStatus("no_schema", shown)
            if conn.execute(sa.text("SELECT 1 FROM participants LIMIT 1")).first() is None:
                return DataStatus("empty", shown)
            last_run: dict[str, Any] | None = None
            if inspector.has_table("load_runs"):
                row = conn.execute(
                    sa.text(
                        "SELECT run_id, kind, started_at, finished_at, as_of, source, status, "
                        "validation_success, rows_loaded, rows_rejected, warnings FROM load_runs "
                        "WHERE kind = 'load' ORDER BY started_at DESC LIMIT 1"
                    )
                ).mappings().first()
                last_run = dict(row) if row else None
            key = f"{last_run['run_id']}@{last_run['finished_at']}" if last_run else "no-load-run"
            return DataStatus("ok", shown, run_key=key, last_run=last_run)
    except store.DatabaseUnavailable as exc:
        return DataStatus("unreachable", shown, str(exc))
    except Exception as exc:  # noqa: BLE001 - any driver error becomes a message for people
        return DataStatus("unreachable", shown, f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    finally:
        engine.dispose()


@st.cache_resource(max_entries=2, show_spinner="Reading the loaded tables…")
def _tables(url: str, run_key: str) -> Tables:
    """The tables, read once per load run (``run_key`` changes with every load)."""
    engine = store.make_reader_engine(url)
    try:
        return load_tables(engine)
    finally:
        engine.dispose()


@st.cache_resource(max_entries=64, show_spinner=False)
def _metrics(url: str, run_key: str, filters_key: str, k: int, _filters: Filters) -> pl.DataFrame:
    from dashboard.metrics.engine import compute_metrics, published

    return published(compute_metrics(_tables(url, run_key), _filters, min_cell_size=k))


@st.cache_resource(max_entries=256, show_spinner=False)
def _metrics_subset(
    url: str, run_key: str, filters_key: str, k: int, metric_ids: tuple[str, ...], _filters: Filters
) -> pl.DataFrame:
    from dashboard.metrics.engine import compute_metrics, published

    return published(compute_metrics(_tables(url, run_key), _filters, min_cell_size=k, metric_ids=list(metric_ids)))


@st.cache_resource(max_entries=64, show_spinner=False)
def _participant_counts(url: str, run_key: str, filters_key: str, k: int, _filters: Filters) -> pl.DataFrame:
    from dashboard.metrics.engine import participant_counts, published

    return published(participant_counts(_tables(url, run_key), _filters, min_cell_size=k))


@st.cache_resource(max_entries=4, show_spinner=False)
def load_files(url: str, run_key: str) -> pl.DataFrame:
    """The per-file audit rows (counts, checksums) of every load run; empty when none are recorded."""
    engine = store.make_reader_engine(url)
    try:
        with store.connect(engine) as conn:
            has = sa.inspect(conn).has_table("load_files")
        if not has:
            return pl.DataFrame()
        with store.connect(engine) as conn:
            return store.read_table(conn, "load_files")
    finally:
        engine.dispose()


@st.cache_resource(max_entries=64, show_spinner=False)
def _referral_counts(url: str, run_key: str, filters_key: str, k: int, _filters: Filters) -> pl.DataFrame:
    from dashboard.metrics.engine import published, referral_counts

    return published(referral_counts(_tables(url, run_key), _filters, min_cell_size=k))


@st.cache_resource(max_entries=64, show_spinner=False)
def _metric_view(
    url: str, run_key: str, filters_key: str, k: int, metric_id: str, _filters: Filters
) -> dict[tuple[str, ...], pl.DataFrame]:
    """Every breakdown of one metric under these filters, protected together (engine.metric_view)."""
    from dashboard.metrics.engine import metric_view, published

    view = metric_view(_tables(url, run_key), _filters, metric_id, min_cell_size=k)
    return {by: published(frame) for by, frame in view.items()}


@st.cache_resource(max_entries=128, show_spinner=False)
def _breakdown(
    url: str, run_key: str, filters_key: str, k: int, metric_id: str, by: tuple[str, ...], _filters: Filters
) -> pl.DataFrame:
    from dashboard.metrics.engine import metric_breakdown, published

    view = _metric_view(url, run_key, filters_key, k, metric_id, _filters)
    if by in view:
        return view[by]
    return published(metric_breakdown(_tables(url, run_key), _filters, metric_id, list(by), min_cell_size=k))


@st.cache_resource(max_entries=128, show_spinner=False)
def _partnership_view(
    url: str, run_key: str, filters_key: str, k: int, view: str, by: tuple[str, ...], _filters: Filters
) -> pl.DataFrame:
    """One view of ``dashboard.metrics.partnerships`` (suppressed numbers blanked)."""
    from dashboard.metrics import partnerships as views_engine

    tables = _tables(url, run_key)
    if view == "co_responder_share":
        return views_engine.published(views_engine.co_responder_share(tables, _filters, by, min_cell_size=k))
    if view == "agreement_status_counts":
        return views_engine.agreement_status_counts(tables, _filters)
    if view == "agreements":
        return views_engine.filtered_agreements(tables, _filters)
    compute = {
        "referral_flow": views_engine.referral_flow,
        "referrals_without_agreement": views_engine.referrals_without_agreement,
        "open_referrals_by_age": views_engine.open_referrals_by_age,
    }[view]
    return views_engine.published_counts(compute(tables, _filters, min_cell_size=k))


@st.cache_resource(max_entries=64, show_spinner=False)
def _operations_view(
    url: str, run_key: str, filters_key: str, k: int, view: str, by: str | None,
    periods: tuple[tuple[str, dt.date, dt.date], ...], _filters: Filters,
) -> pl.DataFrame:
    """Costs, caseload and survey series over time (``dashboard.metrics.operations`` / ``surveys``).

    Suppression flags are computed there; the numbers of suppressed rows are blanked here.
    """
    from dashboard.metrics import operations, surveys

    tables = _tables(url, run_key)
    as_of = resolve_as_of(tables, _filters.as_of)
    if view == "caseload_by_month":
        return operations.caseload_by_month(tables, _filters, as_of)
    if view == "cost_trend":
        frame = operations.cost_trend(tables, _filters, as_of, periods, min_cell_size=k)
    elif view == "survey_trend":
        frame = surveys.survey_trend(tables, _filters, as_of, periods, by, min_cell_size=k)
    else:
        raise ValueError(f"unknown operations view {view!r}")
    numbers = [c for c in ("numerator", "denominator", "value", "ci_low", "ci_high") if c in frame.columns]
    return frame.with_columns(pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in numbers)


@st.cache_resource(max_entries=32, show_spinner=False)
def _evaluation(
    url: str, run_key: str, filters_key: str, k: int, program_id: str | None, _filters: Filters
) -> dict[str, Any]:
    from dashboard.evaluation import evaluate

    filters = _filters
    if program_id is not None and filters.program_ids:
        filters = dataclasses.replace(filters, program_ids=())
    return evaluate(_tables(url, run_key), filters, program_id=program_id, min_cell_size=k)


@st.cache_resource(max_entries=32, show_spinner=False)
def _baseline_counts(
    url: str, run_key: str, filters_key: str, program_id: str | None, _filters: Filters
) -> dict[str, dict[str, tuple[int, int]]]:
    """The counts behind the evaluation's baseline shares (never shown; they decide which share is withheld)."""
    from dashboard.evaluation import baseline_share_counts

    filters = _filters
    if program_id is not None and filters.program_ids:
        filters = dataclasses.replace(filters, program_ids=())
    return baseline_share_counts(_tables(url, run_key), filters, program_id=program_id)


# --- the page context ------------------------------------------------------------------


@dataclass(frozen=True)
class PageContext:
    """Everything a page needs; engine calls are cached on (URL, load run, filters, k)."""

    url: str
    status: DataStatus
    tables: Tables
    filters: Filters
    as_of: dt.date
    min_cell_size: int
    program_names: Mapping[str, str]
    agency_names: Mapping[str, str]

    @property
    def _key(self) -> tuple[str, str, str, int]:
        return self.url, self.status.run_key, repr(self.filters), self.min_cell_size

    def metrics(self) -> pl.DataFrame:
        """``compute_metrics`` for the shared filters, suppressed numbers blanked."""
        url, run, fkey, k = self._key
        return _metrics(url, run, fkey, k, self.filters)

    def breakdown(self, metric_id: str, by: Sequence[str]) -> pl.DataFrame:
        """``metric_breakdown(metric_id, by)`` (overall row first, then the cells), suppressed numbers blanked."""
        url, run, fkey, k = self._key
        return _breakdown(url, run, fkey, k, metric_id, tuple(by), self.filters)

    def metrics_subset(self, metric_ids: Sequence[str]) -> pl.DataFrame:
        """``compute_metrics`` for a few metrics only (used per quarter / per year)."""
        url, run, fkey, k = self._key
        return _metrics_subset(url, run, fkey, k, tuple(metric_ids), self.filters)

    def participant_counts(self) -> pl.DataFrame:
        """``participant_counts``: participants enrolled / active, suppressed numbers blanked."""
        url, run, fkey, k = self._key
        return _participant_counts(url, run, fkey, k, self.filters)

    def referral_counts(self) -> pl.DataFrame:
        """``referral_counts``: referrals made (any status), suppressed numbers blanked."""
        url, run, fkey, k = self._key
        return _referral_counts(url, run, fkey, k, self.filters)

    def partnership_view(self, view: str, by: Sequence[str] = ()) -> pl.DataFrame:
        """A view of ``dashboard.metrics.partnerships`` by name (``referral_flow``,
        ``referrals_without_agreement``, ``open_referrals_by_age``, ``co_responder_share`` with ``by``,
        ``agreement_status_counts``, ``agreements``), suppressed numbers blanked."""
        url, run, fkey, k = self._key
        return _partnership_view(url, run, fkey, k, view, tuple(by), self.filters)

    def periods(self, kind: str = "quarter", limit: int = 12) -> list[tuple[str, dt.date, dt.date]]:
        """The last ``limit`` calendar quarters (or years) up to the as-of date, inside the user's period.

        Each is ``(label, start, end)``; the engine is then asked for each
        period separately (its period filter applies each metric to its own date).
        """
        out: list[tuple[str, dt.date, dt.date]] = []
        year, month = self.as_of.year, self.as_of.month
        if kind == "year":
            first_year = self.filters.start.year if self.filters.start else year - limit + 1
            years = range(max(first_year, year - limit + 1, dt.MINYEAR), year + 1)
            for y in years:
                out.append((str(y), dt.date(y, 1, 1), dt.date(y, 12, 31)))
        else:
            q = (month - 1) // 3
            for i in range(limit - 1, -1, -1):
                qi = year * 4 + q - i
                y, qq = divmod(qi, 4)
                if y < dt.MINYEAR:  # an as-of in the first years of the calendar: no earlier quarters
                    continue
                start = dt.date(y, qq * 3 + 1, 1)
                end = dt.date(y, 12, 31) if qq == 3 else dt.date(y, qq * 3 + 4, 1) - dt.timedelta(days=1)
                out.append((f"{y} Q{qq + 1}", start, end))
        lo, hi = self.filters.start, self.filters.end
        kept = []
        for label, start, end in out:
            if (lo and end < lo) or (hi and start > hi):
                continue
            kept.append((label, max(start, lo) if lo else start, min(end, hi) if hi else end))
        return kept

    def per_period(self, metric_ids: Sequence[str], kind: str = "quarter", limit: int = 12) -> list[tuple[str, pl.DataFrame]]:
        """The engine's output for each period (see :meth:`periods`)."""
        return [
            (label, self.with_filters(start=start, end=end).metrics_subset(metric_ids))
            for label, start, end in self.periods(kind, limit)
        ]

    def operations_view(self, view: str, by: str | None = None, *, limit: int = 12) -> pl.DataFrame:
        """``cost_trend`` / ``survey_trend`` (by ``by``) over the last ``limit`` quarters of the
        period, or ``caseload_by_month``; suppressed numbers blanked (caseload is never suppressed)."""
        url, run, fkey, k = self._key
        periods = tuple(self.periods("quarter", limit)) if view != "caseload_by_month" else ()
        return _operations_view(url, run, fkey, k, view, by, periods, self.filters)

    def has_rows(self, table: str) -> bool:
        """Whether ``table`` holds rows as stored (optional tables of contract version 2)."""
        frame = getattr(self.tables, table, None)
        return frame is not None and frame.height > 0

    def evaluation(self, program_id: str | None) -> dict[str, Any]:
        url, run, fkey, k = self._key
        return _evaluation(url, run, fkey, k, program_id, self.filters)

    def baseline_counts(self, program_id: str | None) -> dict[str, dict[str, tuple[int, int]]]:
        """The counts behind :meth:`evaluation`'s baseline shares, for ``views.baseline_table``."""
        url, run, fkey, _ = self._key
        return _baseline_counts(url, run, fkey, program_id, self.filters)

    def with_filters(self, **changes: Any) -> PageContext:
        """The same context under other filters (e.g. the previous quarter)."""
        return dataclasses.replace(self, filters=dataclasses.replace(self.filters, **changes))

    def program_label(self, program_id: str | None) -> str:
        return views.UNASSIGNED if program_id is None else self.program_names.get(program_id, program_id)

    def agency_label(self, agency_id: str | None) -> str:
        return views.UNASSIGNED if agency_id is None else self.agency_names.get(agency_id, agency_id)

    def describe(self, name_text: Callable[[object], str] = safe_text.shorten) -> str:
        """The filters in words (see :func:`describe_filters`)."""
        return describe_filters(self.filters, self.program_names, self.agency_names, name_text)


_CONTEXT_KEY = "_page_context"
_PREPARED_KEY = "_prepared_this_run"
_STATUS_KEY = "_data_status"


def _names(frame: pl.DataFrame, key: str, name: str) -> dict[str, str]:
    return {row[key]: row[name] or row[key] for row in frame.select(key, name).iter_rows(named=True)}


_MIRROR_KEY = "_shared_filter_values"


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


def _init_widgets_from_url(tables: Tables) -> None:
    """First run of a session: copy the URL's filters into the widget state.

    Later runs restore any widget state Streamlit dropped (it forgets widget
    values when the page changes) from a plain session-state mirror.
    """
    mirror = st.session_state.get(_MIRROR_KEY)
    if mirror is not None:
        for param, value in mirror.items():
            key = WIDGET_PREFIX + param
            # Re-assigning the current value makes the widget drawn by this
            # run (possibly on another page) start from it.
            st.session_state[key] = st.session_state[key] if key in st.session_state else value
    if st.session_state.get("_filters_initialised"):
        return
    st.session_state["_filters_initialised"] = True
    params = {key: st.query_params.get_all(key) for key in FILTER_PARAMS}
    filters, problems = filters_from_params(params)
    problems = link_problems(st.query_params.get(LINK_TOO_LONG_PARAM)) + problems
    if LINK_TOO_LONG_PARAM in st.query_params:
        del st.query_params[LINK_TOO_LONG_PARAM]
    known_programs = set(tables.programs.get_column("program_id").to_list())
    known_agencies = set(tables.agencies.get_column("agency_id").to_list())
    for param, field_name in LIST_PARAMS.items():
        values = list(getattr(filters, field_name))
        known = {"program": known_programs, "agency": known_agencies}.get(param)
        if known is not None:
            values, unknown = resolve_ids(values, known)
            problems.extend(f"{param}={_shown(v)} is not in the loaded data" for v in unknown)
        st.session_state[WIDGET_PREFIX + param] = values
    for param, field_name in DATE_PARAMS.items():
        st.session_state[WIDGET_PREFIX + param] = getattr(filters, field_name)
    st.session_state["_url_problems"] = problems


def filter_sidebar(tables: Tables) -> Filters:
    """The shared filters (sidebar widgets), mirrored into the URL on every run."""
    _init_widgets_from_url(tables)
    program_names = _names(tables.programs, "program_id", "program_name")
    agency_names = _names(tables.agencies, "agency_id", "agency_name")
    sidebar = st.sidebar
    sidebar.header("Filters")
    sidebar.multiselect(
        "Program", sorted(program_names), key=WIDGET_PREFIX + "program",
        format_func=lambda p: f"{safe_text.label_text(program_names.get(p, p))} ({safe_text.label_text(p, 40)})",
        placeholder="All programs",
    )
    sidebar.multiselect(
        "Agency", sorted(agency_names), key=WIDGET_PREFIX + "agency",
        format_func=lambda a: safe_text.label_text(agency_names.get(a, a)), placeholder="All agencies",
        help="Each measure's own agency: the provider for referrals, the recording agency for supervision "
        "events, the supervising agency for participant measures, the police agency for contacts.",
    )
    sidebar.multiselect("Cohort", list(COHORTS), key=WIDGET_PREFIX + "cohort", format_func=views.cohort_label,
                        placeholder="Pilot and comparison")
    sidebar.multiselect("Risk level", list(RISK_LEVELS), key=WIDGET_PREFIX + "risk", format_func=views.humanise,
                        placeholder="All risk levels")
    sidebar.multiselect("Supervision type", list(SUPERVISION_TYPES), key=WIDGET_PREFIX + "supervision",
                        format_func=views.humanise, placeholder="All supervision types")
    # Explicit ranges: Streamlit's default (ten years either side of today) silently drops
    # older or later dates; the as-of date may not be in the future (today plus a small margin).
    last_period_day = latest_period_date()
    sidebar.date_input("Period from", key=WIDGET_PREFIX + "start", value=None, format="YYYY-MM-DD",
                       min_value=EARLIEST_LINK_DATE, max_value=last_period_day,
                       help="Each measure applies the period to its own date (see its definition).")
    sidebar.date_input("Period to", key=WIDGET_PREFIX + "end", value=None, format="YYYY-MM-DD",
                       min_value=EARLIEST_LINK_DATE, max_value=last_period_day)
    sidebar.date_input("As of", key=WIDGET_PREFIX + "as_of", value=None, format="YYYY-MM-DD",
                       min_value=EARLIEST_LINK_DATE, max_value=latest_as_of(),
                       help="Empty: the as-of date of the latest load.")
    problems = st.session_state.get("_url_problems", [])
    if problems:
        sidebar.warning(problems_markdown(problems), icon=":material/link_off:")
    if not st.query_params:  # perhaps a link Streamlit dropped as too long: let the browser tell
        with sidebar:
            st.html(_LINK_TOO_LONG_SCRIPT, unsafe_allow_javascript=True)

    state = st.session_state
    start, end = state.get(WIDGET_PREFIX + "start"), state.get(WIDGET_PREFIX + "end")
    if start and end and start > end:
        sidebar.error(f"The period starts ({start}) after it ends ({end}); the period is ignored until fixed.")
        start = end = None
    filters = Filters(
        as_of=state.get(WIDGET_PREFIX + "as_of"),
        start=start,
        end=end,
        program_ids=tuple(state.get(WIDGET_PREFIX + "program") or ()),
        agency_ids=tuple(state.get(WIDGET_PREFIX + "agency") or ()),
        cohorts=tuple(state.get(WIDGET_PREFIX + "cohort") or ()),
        risk_levels=tuple(state.get(WIDGET_PREFIX + "risk") or ()),
        supervision_types=tuple(state.get(WIDGET_PREFIX + "supervision") or ()),
    )
    st.session_state[_MIRROR_KEY] = {param: state.get(WIDGET_PREFIX + param) for param in FILTER_PARAMS}
    wanted = params_from_filters(filters)
    for key in FILTER_PARAMS:  # only the filter keys: a page may keep its own parameters
        want, have = wanted.get(key), st.query_params.get_all(key)
        if want and want != have:
            st.query_params[key] = want
        elif not want and have:
            del st.query_params[key]
    sidebar.caption(
        f"Small cells are suppressed: no number is shown for fewer than {MIN_CELL_SIZE} people or events."
    )
    return filters


def current_params() -> dict[str, list[str]]:
    """The filter parameters to carry on page links."""
    return {key: st.query_params.get_all(key) for key in FILTER_PARAMS if key in st.query_params}


def prepare(url: str | None = None) -> PageContext | None:
    """Entry-script step: probe the database, read tables, draw the filters.

    Stores the context (or None, after drawing the error page) for the
    pages of this run.
    """
    url = url or database_url()
    st.session_state[_PREPARED_KEY] = True
    status = read_status(url)
    st.session_state[_STATUS_KEY] = status
    st.session_state[_CONTEXT_KEY] = None
    if status.state != "ok":
        return None
    try:
        tables = _tables(url, status.run_key)
    except Exception as exc:  # noqa: BLE001 - the database went away between probe and read
        st.session_state[_STATUS_KEY] = DataStatus(
            "unreachable", status.url, f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"
        )
        return None
    filters = filter_sidebar(tables)
    context = PageContext(
        url=url,
        status=status,
        tables=tables,
        filters=filters,
        as_of=resolve_as_of(tables, filters.as_of),
        min_cell_size=MIN_CELL_SIZE,
        program_names=_names(tables.programs, "program_id", "program_name"),
        agency_names=_names(tables.agencies, "agency_id", "agency_name"),
    )
    st.session_state[_CONTEXT_KEY] = context
    return context


def no_data_page(status: DataStatus) -> None:
    """What happened and what to do, instead of a traceback."""
    st.title("Partnership Pilot Dashboard")
    if status.state == "unreachable":
        st.error(f"The dashboard cannot open its database ({safe_text.markdown_full(status.url)}).",
                 icon=":material/block:")
        st.markdown(
            f"**What happened:** {safe_text.markdown_full(status.message)}\n\n"
            "**What to do:**\n"
            "- Check `DATABASE_URL` (or `--db` for `partnership-dashboard serve`): is the address right, "
            "is the server running, may this user connect?\n"
            "- For the embedded database, check that the file exists and that no `load` is writing to it "
            "right now, then reload this page.\n"
            "- To try the dashboard on sample data: `partnership-dashboard demo`."
        )
    else:
        what = (
            "has no dashboard tables yet" if status.state == "no_schema" else "has its tables but no participants loaded"
        )
        st.warning(f"The database {safe_text.markdown_full(status.url)} {what}, so there is nothing to show.",
                   icon=":material/inbox:")
        st.markdown(
            "**What to do:** load a partner extract (one file per table, see the data contract):\n\n"
            "```\npartnership-dashboard load DIR\n```\n\n"
            "then reload this page. To see the dashboard on the sample data: `partnership-dashboard demo`. "
            "If you expected data here, check that `DATABASE_URL` points at the right database."
        )


def page_failed(exc: BaseException) -> None:
    """A page raised: say so in words, keep the details folded, never leave a bare traceback.

    Streamlit's own control flow (``st.stop``, ``st.rerun``) and interrupts pass through.
    """
    from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

    if isinstance(exc, (ScriptControlException, KeyboardInterrupt, SystemExit)):
        raise exc
    from dashboard.roles import AccessRefused

    if isinstance(exc, AccessRefused):  # the engine refused: record it and say why, no traceback
        from dashboard import app_access

        app_access.refused(exc)
        return
    import traceback

    first_line = safe_text.markdown_text((str(exc).splitlines() or [""])[0], 300)
    st.error(
        "This page could not be computed for the current filters "
        f"({exc.__class__.__name__}: {first_line}). Try other filters or reload the page; if it keeps "
        "happening, send the details below to whoever maintains the dashboard.",
        icon=":material/error:",
    )
    with st.expander("Technical details"):
        st.code("".join(traceback.format_exception(exc)), language="text")


def page_context(title: str, question: str) -> PageContext:
    """Start a page: its title and question, the data status line; stop when no data."""
    if not st.session_state.pop(_PREPARED_KEY, False):
        # The page ran without the entry script. Streamlit does that in its
        # legacy "pages/ folder" mode, which it assumes until the entry calls
        # st.navigation: on a fresh server whose first request names a page,
        # and on every AppTest run. Leave that mode and rerun, so the entry
        # draws the navigation and the filters; if that is not possible, do
        # the entry's work here so the page never shows stale data.
        _leave_legacy_pages_mode()
        from dashboard import app_access  # the entry's access steps, here too: login, page view, log status

        app_access.login_gate(app_access.current_principal())
        prepared = prepare()
        st.session_state.pop(_PREPARED_KEY, None)
        app_access.record_page_view(title, params_from_filters(prepared.filters) if prepared else {})
        app_access.show_log_problem()
    context: PageContext | None = st.session_state.get(_CONTEXT_KEY)
    if context is None:
        no_data_page(st.session_state.get(_STATUS_KEY) or read_status(database_url()))
        st.stop()
    assert context is not None
    st.title(title)
    st.caption(question)
    data_status_line(context)
    return context


def _leave_legacy_pages_mode() -> None:
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - Streamlit moved it; the fallback below still works
        return
    if PagesManager.uses_pages_directory and not st.session_state.get("_left_legacy_mode"):
        st.session_state["_left_legacy_mode"] = True  # once per session: never loop
        PagesManager.uses_pages_directory = False
        st.rerun()


def data_status_line(context: PageContext) -> None:
    """As-of date, last load time and validation status, with a link to data status."""
    run = context.status.last_run
    as_of = context.as_of.isoformat()
    if run:
        finished: Any = run.get("finished_at") or run.get("started_at")  # not None: started_at is NOT NULL
        when = finished.strftime("%Y-%m-%d %H:%M") if hasattr(finished, "strftime") else str(finished)
        validation = run.get("validation_success")
        status = run.get("status")
        warnings = int(run.get("warnings") or 0)
        if validation is True and status == "succeeded":
            badge = ":material/check_circle: validated, all rows loaded" + (
                f", {warnings:,} warnings" if warnings else ""
            )
        elif validation is False or status == "rejected_rows":
            badge = f":material/warning: validated; {run.get('rows_rejected') or 0:,} rows rejected and quarantined"
        elif status == "failed":
            badge = ":material/error: last load failed"
        else:
            badge = f"status: {safe_text.markdown_text(status or 'unknown')}"
        text = f"**Data as of {as_of}** · last loaded {when} · {badge}"
    else:
        text = f"**Data as of {as_of}** · no load run recorded (tables were filled outside `load`) · not validated"
    cols = st.columns([5, 1.4])
    cols[0].markdown(text)
    page_link(cols[1], "pages/data_status.py", "Data status →")
    st.caption(f"Showing: {context.describe(safe_text.markdown_text)}.")


def page_link(container: Any, page: str, label: str, icon: str | None = None) -> None:
    """A link to another page that keeps the shared filters in its URL."""
    container.page_link(page, label=label, icon=icon, query_params=current_params())


# --- drawing helpers ------------------------------------------------------------------


# Head counts the engine gives beside the registry's metrics (engine.participant_counts / referral_counts).
COUNT_DEFINITIONS: dict[str, str] = {
    "referrals_made": "**Referrals made** (`referrals_made`): referrals dated (referral_date) in the period and on "
    "or before the as-of date, whatever their status; agency = the provider. A count of 1 to k − 1 is suppressed.",
    "participants_enrolled": "**Enrolled** (`participants_enrolled`): participants enrolled on or before the as-of "
    "date with the enrollment date in the period; agency = the supervising agency.",
    "participants_active": "**Active** (`participants_active`): enrolled on or before the as-of date and not exited "
    "on or before it (a head count on the as-of date; the period does not apply).",
    **VIEW_DEFINITIONS,  # the partnership views (dashboard.metrics.partnerships)
}


def definition_popover(container: Any, metric_ids: Sequence[str]) -> None:
    """The registry's definition of each metric, one click away."""
    from dashboard.metrics.registry import find_definition

    with container.popover("Definition", icon=":material/info:"):
        for metric_id in metric_ids:
            m = find_definition(metric_id)
            if m is None:
                st.markdown(COUNT_DEFINITIONS.get(metric_id, f"**{metric_id}**: see the page notes."))
                continue
            st.markdown(
                f"**{m.label}** (`{m.id}`)\n\n{m.definition}\n\n"
                f"- **Numerator:** {m.numerator}\n- **Denominator:** {m.denominator}\n"
                f"- **Includes:** {m.includes}\n- **Excludes:** {m.excludes}\n"
                f"- **Period applies to:** {m.period_date}\n- **Agency:** {m.agency_attribution}"
            )
        st.caption(views.suppression_label(MIN_CELL_SIZE) + " marks a cell withheld to protect privacy.")


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _controls(metric_ids: Sequence[str], downloads: Sequence[tuple[str, Callable[[], bytes], str, str]],
              note: str | None = None, rows: int | None = None) -> None:
    """The row under a chart or table: its definition and its downloads, each one click away.

    Each download is recorded in the access log when clicked (docs/deployment.md); while the log
    cannot be written, downloads are not offered."""
    from dashboard import app_access

    row = st.container(horizontal=True, vertical_alignment="center")
    if metric_ids:
        definition_popover(row, metric_ids)
    context: PageContext | None = st.session_state.get(_CONTEXT_KEY)
    filters = params_from_filters(context.filters) if context is not None else {}
    with row.popover("Download", icon=":material/download:"):
        if not app_access.downloads_allowed():
            st.caption("Downloads are paused: the access log cannot be written just now.")
        else:
            for label, producer, file_name, mime in downloads:
                logged = app_access.logged_download(producer, obj=file_name, filters=filters, rows=rows)
                st.download_button(label, logged, file_name=file_name, mime=mime, on_click="ignore",
                                   key=f"download_{file_name}", icon=":material/download:", width="stretch")
    if note:
        row.caption(note)


def show_chart(
    chart: Any,
    data: pl.DataFrame,
    *,
    key: str,
    metric_ids: Sequence[str] = (),
    note: str | None = None,
) -> None:
    """The chart, its definition, and downloads (PNG, SVG, PDF; its data as CSV, XLSX) built on click.

    The chart goes to the page as its Vega-Lite spec without re-validating
    it against the schema: validation is most of the time of a redraw
    (~40 ms a chart) and the builders' specs are validated by the unit tests.
    """
    from dashboard.export import chart_producer, table_producer

    st.vega_lite_chart(chart.to_dict(validate=False), width="content")
    _controls(
        metric_ids,
        [
            ("Chart as PNG", chart_producer(chart, "png"), f"{key}.png", "image/png"),
            ("Chart as SVG", chart_producer(chart, "svg"), f"{key}.svg", "image/svg+xml"),
            ("Chart as PDF", chart_producer(chart, "pdf"), f"{key}.pdf", "application/pdf"),
            ("Chart data as CSV", table_producer(data, "csv"), f"{key}.csv", "text/csv"),
            ("Chart data as XLSX", table_producer(data, "xlsx"), f"{key}.xlsx", XLSX_MIME),
        ],
        note,
        rows=data.height,
    )


def show_table(frame: pl.DataFrame, *, key: str, metric_ids: Sequence[str] = ()) -> None:
    """An aggregated table (every row visible) with CSV and XLSX downloads — never participant rows."""
    from dashboard.export import table_producer

    st.dataframe(frame, hide_index=True, width="stretch", height=min(36 * (frame.height + 1) + 4, 720))
    _controls(metric_ids, [
        ("Table as CSV", table_producer(frame, "csv"), f"{key}.csv", "text/csv"),
        ("Table as XLSX", table_producer(frame, "xlsx"), f"{key}.xlsx", XLSX_MIME),
    ], rows=frame.height)


def show_survival_tabs(
    evaluation: dict[str, Any],
    measures: dict[str, str],
    *,
    key_prefix: str,
    title: Callable[[str], str],
    note: Callable[[str], str],
    empty: Callable[[str], str],
) -> None:
    """One tab per recidivism measure: its Kaplan–Meier chart from the evaluation (withheld
    cohorts named), or a message when no estimate can be shown. ``title``, ``note`` and
    ``empty`` word the chart for the page (they take the measure id)."""
    from dashboard import charts

    for tab, (measure, label) in zip(st.tabs(list(measures.values())), measures.items()):
        with tab:
            points, withheld = views.survival_frame(evaluation, measure)
            subtitle = [views.survival_n_text(evaluation, measure) + ".", note(measure)]
            if withheld:
                subtitle.append("Withheld (small cells): " + ", ".join(withheld))
            if points.height:
                chart = charts.survival_chart(points, title=title(measure), subtitle=subtitle,
                                              value_title=f"Share without {label.lower()}")
                show_chart(chart, points, key=f"{key_prefix}_{measure}_survival",
                           metric_ids=[f"recidivism_{measure}_12m"])
            else:
                st.info(empty(measure))
