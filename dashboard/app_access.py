"""The dashboard's side of access and audit: who is looking, and the access log.

Streamlit-bound (the engine side is ``dashboard.roles`` and
``dashboard.access_log``). Pages call:

* :func:`current_principal` — the user, role and agency limit of this
  session, from the configuration file, ``.streamlit/secrets.toml`` and the
  login (``st.user``);
* :func:`record_page_view` (the entry script does it for every page) — queued
  and written in the background, so a page never waits for the log;
* :func:`record_now` — before row-level data or an export leaves the server;
  it raises :class:`~dashboard.access_log.AccessLogUnavailable` when the row
  cannot be written, and the caller refuses;
* :func:`logged_download` — a download button's producer that records the
  download (user, file kind, filters, rows) when it is clicked and refuses
  if that fails;
* :func:`refused` — record a refusal and say why, in words.

A failure to write the log never stops an aggregate view; it is shown to an
admin (:func:`show_log_problem`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from dashboard import access_log, store
from dashboard.settings import ConfigError, load_settings
from dashboard.roles import ADMIN, VIEWER, AccessRefused, Principal, RoleConfigError, resolve_principal

_PRINCIPAL_KEY = "_access_principal"
_LAST_VIEW_KEY = "_access_last_page_view"


def _database_url() -> str:
    # The same URL the pages read (app_state.database_url): DATABASE_URL, the configuration file, or the
    # embedded default.
    return store.normalise_url(None)


def current_principal() -> Principal:
    """Who is asking, resolved once per script run (docs/deployment.md, "Roles")."""
    secrets = _secrets()
    email: str | None = None
    try:
        if st.user.is_logged_in:
            value = st.user.get("email")
            email = value if isinstance(value, str) else None
    except Exception:  # noqa: BLE001 - no login configured
        email = None
    try:
        principal = resolve_principal(settings=load_settings(), secrets=secrets, user_email=email)
    except (RoleConfigError, ConfigError) as exc:
        st.error(f"Role configuration error: {exc} Showing the viewer role until it is fixed.",
                 icon=":material/lock:")
        principal = Principal(user=email or "(configuration error)", role=VIEWER)
    st.session_state[_PRINCIPAL_KEY] = principal
    return principal


def _secrets() -> dict[str, Any]:
    try:
        return st.secrets.to_dict()
    except Exception:  # noqa: BLE001 - no secrets.toml at all
        return {}


def login_gate(principal: Principal) -> None:
    """With a login configured, nobody sees data before signing in; signed-in users see who they are.

    Streamlit's OIDC login (``st.login``) is configured by ``[auth]`` in
    ``.streamlit/secrets.toml`` (docs/deployment.md, "Login").
    """
    from dashboard.roles import login_configured

    if not login_configured(_secrets()):
        return
    if st.user.is_logged_in:
        st.sidebar.caption(f"Signed in as {principal.describe()}.")
        st.sidebar.button("Log out", on_click=st.logout, key="access_logout", icon=":material/logout:")
        return
    st.title("Partnership Pilot Dashboard")
    st.info("Sign in to see the dashboard. Your role (viewer, steward or admin) comes from the dashboard's "
            "configuration; ask its administrator if you need access.", icon=":material/lock:")
    st.button("Log in", on_click=st.login, type="primary", key="access_login", icon=":material/login:")
    st.stop()


def _principal() -> Principal:
    principal = st.session_state.get(_PRINCIPAL_KEY)
    return principal if isinstance(principal, Principal) else current_principal()


def _entry(principal: Principal, action: str, obj: str, filters: Mapping[str, Any] | None,
           rows: int | None, detail: str | None) -> access_log.Entry:
    return access_log.Entry(user_name=principal.user, role=principal.role, action=action, object=obj,
                            filters=dict(filters or {}), rows_returned=rows, interface="dashboard", detail=detail)


def record_page_view(page: str, filters: Mapping[str, Any]) -> None:
    """Queue a page view (once per page and filter set in a session)."""
    principal = _principal()
    key = (page, access_log.canonical_filters(filters), principal)
    if st.session_state.get(_LAST_VIEW_KEY) == key:
        return
    st.session_state[_LAST_VIEW_KEY] = key
    url = _database_url()
    try:
        access_log.writer_for(url).submit(_entry(principal, access_log.PAGE_VIEW, page, filters, None, None))
    except Exception:  # noqa: BLE001 - the log never blocks a page view; the writer keeps the error
        return


def record_now(action: str, obj: str, *, filters: Mapping[str, Any] | None = None, rows: int | None = None,
               detail: str | None = None, principal: Principal | None = None, url: str | None = None) -> None:
    """Write one row now (after the queued ones); raises AccessLogUnavailable when it cannot."""
    principal = principal or _principal()
    access_log.writer_for(url or _database_url()).write_now(_entry(principal, action, obj, filters, rows, detail))


def record_view_once(action: str, obj: str, *, filters: Mapping[str, Any] | None = None,
                     rows: int | None = None) -> None:
    """:func:`record_now` for a row-level view, once per session for the same object, filters and rows
    (a page's other widgets rerun it without a new view)."""
    key = f"_access_view:{action}:{obj}:{access_log.canonical_filters(dict(filters or {}))}:{rows}"
    if st.session_state.get(key):
        return
    record_now(action, obj, filters=filters, rows=rows)
    st.session_state[key] = True


def log_problem() -> access_log.AccessLogUnavailable | None:
    """The last failure to write the log from this server, or None once a write succeeds again."""
    try:
        return access_log.writer_for(_database_url()).error()
    except Exception:  # noqa: BLE001 - no database configured: nothing to show here
        return None


def show_log_problem() -> None:
    """Tell an admin that the access log cannot be written (viewers are not troubled with it)."""
    problem = log_problem()
    if problem is not None and _principal().role == ADMIN:
        st.warning(f"The access log is not being written: {problem} Page views wait in memory and are "
                   "retried; downloads, exports and row-level views are refused until it works again.",
                   icon=":material/report:")


def downloads_allowed() -> bool:
    """False while the access log cannot be written: exports are then refused."""
    return log_problem() is None


def logged_download(producer: Callable[[], bytes], *, obj: str, filters: Mapping[str, Any] | None = None,
                    rows: int | None = None, action: str = access_log.DOWNLOAD) -> Callable[[], bytes]:
    """``producer``, recording the download first; the file is refused when that record cannot be written.

    Streamlit calls a download's producer on the click, outside the page's
    script run: the user and database are taken now.
    """
    principal = _principal()
    url = _database_url()
    filters = dict(filters or {})

    def produce() -> bytes:
        try:
            record_now(action, obj, filters=filters, rows=rows, principal=principal, url=url)
        except access_log.AccessLogUnavailable as exc:
            access_log.require_log(exc, f"The download of {obj}")
        return producer()

    return produce


def refused(exc: AccessRefused, *, filters: Mapping[str, Any] | None = None) -> None:
    """Record a refusal (best effort: a refusal stands even when the log is down) and explain it."""
    try:
        record_now(access_log.REFUSED, exc.what, filters=filters, detail=str(exc), principal=exc.principal)
    except access_log.AccessLogUnavailable:
        pass
    st.info(str(exc), icon=":material/lock:")
