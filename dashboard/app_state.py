"""The dashboard's shared state: database status and cached data access.

Pages stay thin: they call ``app_page.page_context`` (which stops the page with
an explanation when there is no data), ask for engine output through the cached
accessors here, hand it to ``dashboard.views`` / ``dashboard.charts`` and draw
it with ``page_downloads.show_chart`` / ``show_table``. The shared filters in
the link are parsed in ``dashboard.app_links``.

Caching (docs/performance.md):

- the tables are read once per load run: ``st.cache_resource`` keyed on the
  database URL and the latest load run (id and finish time);
- engine output is cached per filter set: ``st.cache_resource`` keyed on the
  URL, the load run, ``repr(Filters)`` and k — small values, never frames —
  so a filter change recomputes only what that filter set needs, once;
- each participant's evaluation facts (index date, first matching event per
  measure, employment and housing status at 6 and 12 months) are found once per
  load run and as-of date (``st.cache_resource`` keyed on the URL, the load run
  and the as-of date) and shared by every session and filter set; those at the
  default as-of date are found in a background thread started as soon as the
  tables are read, so no page waits for them from the start;
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
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
import sqlalchemy as sa
import streamlit as st

from dashboard import settings as _settings
from dashboard import store, views
from dashboard import text as safe_text
from dashboard.app_links import describe_filters
from dashboard.compute_slots import compute_slot
from dashboard.memory import return_freed_memory
from dashboard.metrics.tables import Filters, Tables, load_tables, resolve_as_of

if TYPE_CHECKING:
    from dashboard.evaluation import ParticipantFacts

return_freed_memory()  # the server's freed blocks go back to the system (dashboard/memory.py)
MIN_CELL_SIZE = _settings.min_cell_size()  # k: 11 unless the configuration file says otherwise
STATUS_TTL_SECONDS = 5


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
        tables = load_tables(engine)
    finally:
        engine.dispose()
    _start_participant_facts(tables)
    return tables


@st.cache_resource(max_entries=64, show_spinner=False)
def _metrics(url: str, run_key: str, filters_key: str, k: int, _filters: Filters) -> pl.DataFrame:
    from dashboard.metrics.engine import compute_metrics, published

    tables = _tables(url, run_key)
    with compute_slot():  # each engine computation below takes one of the server's slots (compute_slots.py)
        return published(compute_metrics(tables, _filters, min_cell_size=k))


@st.cache_resource(max_entries=256, show_spinner=False)
def _metrics_subset(
    url: str, run_key: str, filters_key: str, k: int, metric_ids: tuple[str, ...], _filters: Filters
) -> pl.DataFrame:
    from dashboard.metrics.engine import compute_metrics, published

    tables = _tables(url, run_key)
    with compute_slot():
        return published(compute_metrics(tables, _filters, min_cell_size=k, metric_ids=list(metric_ids)))


@st.cache_resource(max_entries=64, show_spinner=False)
def _participant_counts(url: str, run_key: str, filters_key: str, k: int, _filters: Filters) -> pl.DataFrame:
    from dashboard.metrics.engine import participant_counts, published

    tables = _tables(url, run_key)
    with compute_slot():
        return published(participant_counts(tables, _filters, min_cell_size=k))


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

    tables = _tables(url, run_key)
    with compute_slot():
        return published(referral_counts(tables, _filters, min_cell_size=k))


@st.cache_resource(max_entries=64, show_spinner=False)
def _metric_view(
    url: str, run_key: str, filters_key: str, k: int, metric_id: str, _filters: Filters
) -> dict[tuple[str, ...], pl.DataFrame]:
    """Every breakdown of one metric under these filters, protected together (breakdowns.metric_view)."""
    from dashboard.metrics.breakdowns import metric_view
    from dashboard.metrics.engine import published

    tables = _tables(url, run_key)
    with compute_slot():
        view = metric_view(tables, _filters, metric_id, min_cell_size=k)
        return {by: published(frame) for by, frame in view.items()}


@st.cache_resource(max_entries=32, show_spinner=False)
def _metric_views(
    url: str, run_key: str, filters_key: str, k: int, metric_ids: tuple[str, ...], _filters: Filters
) -> dict[str, dict[tuple[str, ...], pl.DataFrame]]:
    """The views of several metrics computed together (breakdowns.metric_views): metrics of one
    family, such as the windows of one recidivism measure, share their records."""
    from dashboard.metrics.breakdowns import metric_views
    from dashboard.metrics.engine import published

    tables = _tables(url, run_key)
    with compute_slot():
        views_ = metric_views(tables, _filters, list(metric_ids), min_cell_size=k)
        return {m: {by: published(frame) for by, frame in view.items()} for m, view in views_.items()}


@dataclass(frozen=True)
class PageMetrics:
    """A page's ``metrics`` rows and breakdown views under one filter setting, computed together
    (:meth:`PageContext.page_metrics`), suppressed numbers blanked."""

    frame: pl.DataFrame
    """``compute_metrics`` of every metric asked for (rows and views), as :meth:`PageContext.metrics` gives it."""
    views: Mapping[str, Mapping[tuple[str, ...], pl.DataFrame]]
    """metric -> breakdown -> frame, as :meth:`PageContext.breakdown` gives it."""

    def breakdown(self, metric_id: str, by: Sequence[str]) -> pl.DataFrame:
        """One breakdown of a metric's view (overall row first, then the cells)."""
        view = self.views[metric_id]
        if tuple(by) not in view:
            raise KeyError(f"{metric_id} has no breakdown by {list(by)} in its view: {list(view)}")
        return view[tuple(by)]


@st.cache_resource(max_entries=64, show_spinner=False)
def _page_metrics(
    url: str, run_key: str, filters_key: str, k: int, metric_ids: tuple[str, ...], view_ids: tuple[str, ...],
    _filters: Filters,
) -> PageMetrics:
    """A page's rows and views, one :class:`Prepared` and one pass (breakdowns.metrics_and_views)."""
    from dashboard.metrics.breakdowns import metrics_and_views
    from dashboard.metrics.engine import published

    tables = _tables(url, run_key)
    with compute_slot():
        frame, views_ = metrics_and_views(tables, _filters, list(metric_ids), list(view_ids), min_cell_size=k)
        return PageMetrics(published(frame), {m: {by: published(f) for by, f in v.items()} for m, v in views_.items()})


@st.cache_resource(max_entries=128, show_spinner=False)
def _breakdown(
    url: str, run_key: str, filters_key: str, k: int, metric_id: str, by: tuple[str, ...], _filters: Filters
) -> pl.DataFrame:
    from dashboard.metrics.breakdowns import metric_breakdown
    from dashboard.metrics.engine import published

    view = _metric_view(url, run_key, filters_key, k, metric_id, _filters)
    if by in view:
        return view[by]
    tables = _tables(url, run_key)
    with compute_slot():
        return published(metric_breakdown(tables, _filters, metric_id, list(by), min_cell_size=k))


@st.cache_resource(max_entries=128, show_spinner=False)
def _partnership_view(
    url: str, run_key: str, filters_key: str, k: int, view: str, by: tuple[str, ...], _filters: Filters
) -> pl.DataFrame:
    """One view of ``dashboard.metrics.partnerships`` (suppressed numbers blanked)."""
    from dashboard.metrics import partnerships as views_engine

    tables = _tables(url, run_key)
    if view == "co_responder_share":
        return views_engine.co_responder_breakdown(_co_responder_view(url, run_key, filters_key, k, _filters), by)
    if view == "agreement_status_counts":
        return views_engine.agreement_status_counts(tables, _filters)
    if view == "agreements":
        return views_engine.filtered_agreements(tables, _filters)
    compute = {
        "referral_flow": views_engine.referral_flow,
        "referrals_without_agreement": views_engine.referrals_without_agreement,
        "open_referrals_by_age": views_engine.open_referrals_by_age,
    }[view]
    with compute_slot():
        return views_engine.published_counts(compute(tables, _filters, min_cell_size=k))


@st.cache_resource(max_entries=64, show_spinner=False)
def _co_responder_view(
    url: str, run_key: str, filters_key: str, k: int, _filters: Filters
) -> dict[tuple[str, ...], pl.DataFrame]:
    """Every co-responder breakdown under these filters, protected together and computed once
    (the community-policing page draws four of them), suppressed numbers blanked."""
    from dashboard.metrics import partnerships as views_engine

    tables = _tables(url, run_key)
    with compute_slot():
        view = views_engine.co_responder_view(tables, _filters, min_cell_size=k)
        return {by: views_engine.published(frame) for by, frame in view.items()}


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


_EARLY_FACTS: weakref.WeakKeyDictionary[Tables, tuple[dt.date, Future[ParticipantFacts]]] = (
    weakref.WeakKeyDictionary()
)
"""The participant facts at each table set's default as-of date, being found or found in the
background since the tables were read (they live as long as their tables)."""
_EARLY_FACTS_LOCK = threading.Lock()


def _start_participant_facts(tables: Tables) -> None:
    """Start finding the evaluation's participant facts at the default as-of date in a thread
    of their own, as soon as the tables are read: the facts take seconds at state scale and
    do not depend on the filters, so the first pilot evaluation (or any session after it) finds
    them ready or partly done instead of waiting from the start (docs/performance.md,
    "Pilot evaluation")."""
    try:
        as_of = resolve_as_of(tables, None)
    except Exception:  # noqa: BLE001 - the page that needs the facts finds them itself (and reports)
        return
    future: Future[ParticipantFacts] = Future()

    def find() -> None:
        from dashboard.evaluation import participant_facts

        try:
            future.set_result(participant_facts(tables, as_of))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the facts
            future.set_exception(exc)

    with _EARLY_FACTS_LOCK:
        if tables in _EARLY_FACTS:
            return
        _EARLY_FACTS[tables] = (as_of, future)
    threading.Thread(target=find, name="evaluation-facts", daemon=True).start()


@st.cache_resource(max_entries=2, show_spinner="Finding each participant's index date and first events…")
def _participant_facts(url: str, run_key: str, as_of: dt.date) -> ParticipantFacts:
    """The evaluation's per-participant facts, once per load run and as-of date: no filter
    changes them, so every session and filter set filters the same frame (docs/performance.md,
    "Pilot evaluation"). At the default as-of date, those the background thread started when
    the tables were read (waiting for it when it is not done yet)."""
    from dashboard.evaluation import participant_facts

    tables = _tables(url, run_key)
    with _EARLY_FACTS_LOCK:
        early = _EARLY_FACTS.get(tables)
    if early is not None and early[0] == as_of:
        return early[1].result()
    return participant_facts(tables, as_of)


def _facts_for(url: str, run_key: str, filters: Filters) -> ParticipantFacts:
    return _participant_facts(url, run_key, resolve_as_of(_tables(url, run_key), filters.as_of))


def _evaluation_filters(filters: Filters, program_id: str | None) -> Filters:
    """The filters an evaluation of ``program_id`` runs under (the program's own; pooled: the page's)."""
    return filters if program_id is None else dataclasses.replace(filters, program_ids=(program_id,))


def _evaluation_metric_ids(measures: tuple[str, ...] | None) -> tuple[str, ...]:
    """The ``metrics`` rows an evaluation checks its suppression against, and the 12-month check
    coverage the page shows beside employment and housing: one ``compute_metrics`` for both."""
    from dashboard.evaluation import evaluation_metric_ids
    from dashboard.metrics import reintegration

    ids = set(evaluation_metric_ids(measures))
    if any(m in reintegration.MEASURES for m in measures or reintegration.MEASURES):
        ids.add(reintegration.coverage_metric_id(12))
    return tuple(sorted(ids))


def _evaluation_metrics(
    url: str, run_key: str, k: int, program_id: str | None, measures: tuple[str, ...] | None, filters: Filters
) -> pl.DataFrame:
    """The published ``metrics`` rows of :func:`_evaluation_metric_ids` under the evaluation's
    filters (the recidivism rates from the shared participant facts: no second search for the
    first events; docs/performance.md, "Pilot evaluation")."""
    scoped = _evaluation_filters(filters, program_id)
    return _evaluation_metric_rows(url, run_key, repr(scoped), k, _evaluation_metric_ids(measures), scoped)


@st.cache_resource(max_entries=256, show_spinner=False)
def _evaluation_metric_rows(
    url: str, run_key: str, filters_key: str, k: int, metric_ids: tuple[str, ...], _filters: Filters
) -> pl.DataFrame:
    from dashboard.evaluation import evaluation_metric_rows
    from dashboard.metrics.engine import published

    tables, facts = _tables(url, run_key), _facts_for(url, run_key, _filters)
    with compute_slot():
        return published(evaluation_metric_rows(tables, _filters, metric_ids, min_cell_size=k, facts=facts))


@st.cache_resource(max_entries=32, show_spinner=False)
def _evaluation(
    url: str, run_key: str, filters_key: str, k: int, program_id: str | None,
    measures: tuple[str, ...] | None, _filters: Filters, parts: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """``evaluate`` over the shared facts, checking its suppression against the cached ``metrics``
    rows of its own filters (computed once, shared with the page's own use of them)."""
    from dashboard.evaluation import evaluate

    filters = _filters
    if program_id is not None and filters.program_ids:
        filters = dataclasses.replace(filters, program_ids=())
    known = None
    if parts is None or "windows" in parts:
        known = _evaluation_metrics(url, run_key, k, program_id, measures, _filters)
    tables, facts = _tables(url, run_key), _facts_for(url, run_key, _filters)
    with compute_slot():
        return evaluate(tables, filters, program_id=program_id, measures=measures, min_cell_size=k,
                        parts=parts, facts=facts, metric_rows=known)


@st.cache_resource(max_entries=32, show_spinner=False)
def _baseline_counts(
    url: str, run_key: str, filters_key: str, program_id: str | None, _filters: Filters
) -> dict[str, dict[str, tuple[int, int]]]:
    """The counts behind the evaluation's baseline shares (never shown; they decide which share is withheld)."""
    from dashboard.evaluation import baseline_share_counts

    filters = _filters
    if program_id is not None and filters.program_ids:
        filters = dataclasses.replace(filters, program_ids=())
    tables, facts = _tables(url, run_key), _facts_for(url, run_key, _filters)
    with compute_slot():
        return baseline_share_counts(tables, filters, program_id=program_id, facts=facts)


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

    def metrics(self, metric_ids: Sequence[str] | None = None) -> pl.DataFrame:
        """``compute_metrics`` for the shared filters, suppressed numbers blanked.

        ``metric_ids``: only these metrics (a page asks for the ones it shows). Their rows are
        exactly those of the full output: each metric is computed and suppressed on its own.
        """
        url, run, fkey, k = self._key
        if metric_ids is None:
            return _metrics(url, run, fkey, k, self.filters)
        return _metrics_subset(url, run, fkey, k, tuple(sorted(set(metric_ids))), self.filters)

    def breakdown(self, metric_id: str, by: Sequence[str]) -> pl.DataFrame:
        """``metric_breakdown(metric_id, by)`` (overall row first, then the cells), suppressed numbers blanked."""
        url, run, fkey, k = self._key
        return _breakdown(url, run, fkey, k, metric_id, tuple(by), self.filters)

    def breakdowns(self, metric_ids: Sequence[str], by: Sequence[str]) -> dict[str, pl.DataFrame]:
        """:meth:`breakdown` of each of ``metric_ids`` by ``by`` (a breakdown of each metric's view),
        the views computed together: use it for metrics of one family (the windows of one
        recidivism measure), which then share their records (docs/performance.md, "Breakdown views")."""
        url, run, fkey, k = self._key
        views_ = _metric_views(url, run, fkey, k, tuple(metric_ids), self.filters)
        return {m: views_[m][tuple(by)] for m in metric_ids}

    def page_metrics(self, metric_ids: Sequence[str], views: Sequence[str] = ()) -> PageMetrics:
        """:meth:`metrics` of ``metric_ids`` and ``views``, and :meth:`breakdown`'s view of each of
        ``views``, computed together: one set of prepared frames, each metric's units built once
        for its rows and its view (docs/performance.md, "Pages share their metrics and views").
        The frames are exactly those the two methods give apart."""
        url, run, fkey, k = self._key
        ids = tuple(sorted({*metric_ids, *views}))
        return _page_metrics(url, run, fkey, k, ids, tuple(sorted(set(views))), self.filters)

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

    def evaluation(
        self, program_id: str | None, measures: Sequence[str] | None = None, parts: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """``evaluate`` for one program (None: pooled); ``measures``: only these (default all);
        ``parts``: only these of windows, survival, baseline (default all; the others empty)."""
        url, run, fkey, k = self._key
        chosen = tuple(measures) if measures else None
        return _evaluation(url, run, fkey, k, program_id, chosen, self.filters, tuple(parts) if parts else None)

    def evaluation_metrics(self, program_id: str | None, measures: Sequence[str] | None = None) -> pl.DataFrame:
        """The published ``metrics`` rows :meth:`evaluation` checks its suppression against (its
        rate metrics and the 12-month check coverage), under the evaluation's filters: the
        page's own when pooled, the program's otherwise. Computed once for both uses."""
        url, run, _, k = self._key
        chosen = tuple(measures) if measures else None
        return _evaluation_metrics(url, run, k, program_id, chosen, self.filters)

    def baseline_counts(self, program_id: str | None) -> dict[str, dict[str, tuple[int, int]]]:
        """The counts behind :meth:`evaluation`'s baseline shares, for ``views_evaluation.baseline_table``."""
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


CONTEXT_KEY = "_page_context"
PREPARED_KEY = "_prepared_this_run"
STATUS_KEY = "_data_status"
