"""Every page's frame: the sidebar filters, the entry script's ``prepare``, the page
header and the pages without data, and the definition and download row under every chart and
table (``dashboard.page_downloads`` draws the charts and tables themselves).

Split from :mod:`dashboard.app_state` (which still offers every name here). The tables are
read through ``app_state._tables`` (looked up on the module at call time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
import streamlit as st

from dashboard import app_state, views
from dashboard import text as safe_text
from dashboard.app_links import (
    DATE_PARAMS,
    EARLIEST_LINK_DATE,
    FILTER_PARAMS,
    LINK_TOO_LONG_PARAM,
    LIST_PARAMS,
    WIDGET_PREFIX,
    LINK_TOO_LONG_SCRIPT,
    shown_value,
    filters_from_params,
    latest_as_of,
    latest_period_date,
    link_problems,
    params_from_filters,
    problems_markdown,
    resolve_ids,
)
from dashboard.app_state import (
    MIN_CELL_SIZE,
    DataStatus,
    PageContext,
    CONTEXT_KEY,
    PREPARED_KEY,
    STATUS_KEY,
    database_url,
    read_status,
)
from dashboard.contract import COHORTS, RISK_LEVELS, SUPERVISION_TYPES
from dashboard.metrics.partnerships import VIEW_DEFINITIONS
from dashboard.metrics.tables import Filters, Tables, resolve_as_of


def _names(frame: pl.DataFrame, key: str, name: str) -> dict[str, str]:
    return {row[key]: row[name] or row[key] for row in frame.select(key, name).iter_rows(named=True)}


_MIRROR_KEY = "_shared_filter_values"


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
            problems.extend(f"{param}={shown_value(v)} is not in the loaded data" for v in unknown)
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
            st.html(LINK_TOO_LONG_SCRIPT, unsafe_allow_javascript=True)

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
    st.session_state[PREPARED_KEY] = True
    status = read_status(url)
    st.session_state[STATUS_KEY] = status
    st.session_state[CONTEXT_KEY] = None
    if status.state != "ok":
        return None
    try:
        tables = app_state._tables(url, status.run_key)
    except Exception as exc:  # noqa: BLE001 - the database went away between probe and read
        st.session_state[STATUS_KEY] = DataStatus(
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
    st.session_state[CONTEXT_KEY] = context
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


def page_context(title: str, question: str, *, status_link: bool = True) -> PageContext:
    """Start a page: its title and question, the data status line; stop when no data.

    ``status_link=False`` leaves out the link to the Data status page (on that page itself)."""
    if not st.session_state.pop(PREPARED_KEY, False):
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
        st.session_state.pop(PREPARED_KEY, None)
        app_access.record_page_view(title, params_from_filters(prepared.filters) if prepared else {})
        app_access.show_log_problem()
    context: PageContext | None = st.session_state.get(CONTEXT_KEY)
    if context is None:
        no_data_page(st.session_state.get(STATUS_KEY) or read_status(database_url()))
        st.stop()
    assert context is not None
    st.title(title)
    st.caption(question)
    data_status_line(context, status_link=status_link)
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


def data_status_line(context: PageContext, *, status_link: bool = True) -> None:
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
    if status_link:
        cols = st.columns([5, 1.4])
        cols[0].markdown(text)
        page_link(cols[1], "pages/data_status.py", "Data status →")
    else:
        st.markdown(text)
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


def download_controls(metric_ids: Sequence[str], downloads: Sequence[tuple[str, Callable[[], bytes], str, str]],
              note: str | None = None, rows: int | None = None) -> None:
    """The row under a chart or table: its definition and its downloads, each one click away.

    Each download is recorded in the access log when clicked (docs/deployment.md); while the log
    cannot be written, downloads are not offered."""
    from dashboard import app_access

    row = st.container(horizontal=True, vertical_alignment="center")
    if metric_ids:
        definition_popover(row, metric_ids)
    context: PageContext | None = st.session_state.get(CONTEXT_KEY)
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
