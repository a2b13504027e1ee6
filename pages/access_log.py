"""Access log (admins): who looked at and exported what, and whether the chain is intact.

Thin page: ``dashboard.access_log`` reads the log (refusing anyone but an
admin) and verifies the chain; this page filters, draws and offers the
download an auditor needs.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import access_log, app_access, app_state, store
from dashboard.roles import AccessRefused

st.title("Access log")
st.caption("Who looked at and exported what: every page view, download, export, load, check, reprocess, "
           "quarantine view and refusal, in a hash chain that shows any later edit or deletion.")
principal = app_access.current_principal()
url = app_state.database_url()
today = dt.datetime.now(dt.UTC).date()
c = st.columns(4)
since = c[0].date_input("From (UTC)", value=today - dt.timedelta(days=30), format="YYYY-MM-DD", key="log_since")
until = c[1].date_input("To (UTC)", value=today, format="YYYY-MM-DD", key="log_until")
interfaces = c[2].multiselect("Interface", list(access_log.INTERFACES), key="log_interfaces")
actions = c[3].multiselect("Action", [
    access_log.PAGE_VIEW, access_log.DOWNLOAD, access_log.EXPORT, access_log.REPORT_BUILD,
    access_log.QUARANTINE_VIEW, access_log.REFUSED, access_log.LOAD, access_log.CHECK, access_log.METRICS,
    access_log.EVALUATE, access_log.REPROCESS, access_log.AUDIT_EXPORT, access_log.ACCESS_LOG_VIEW,
], key="log_actions")
user_text = st.text_input("User (exact, as logged)", key="log_user").strip()
filters = {"since": str(since), "until": str(until), "interfaces": interfaces, "actions": actions, "user": user_text}

engine = store.make_reader_engine(url)
try:
    rows = access_log.read_log(engine, principal, since=since, until=until, users=[user_text] if user_text else [],
                               actions=actions, interfaces=interfaces)
    check = access_log.verify(engine)
except AccessRefused as exc:
    app_access.refused(exc, filters=filters)
    st.stop()
finally:
    engine.dispose()

try:
    app_access.record_view_once(access_log.ACCESS_LOG_VIEW, "access_log", filters=filters, rows=len(rows))
except access_log.AccessLogUnavailable as exc:
    st.error(f"The access log's rows are refused: this view could not itself be recorded ({exc})",
             icon=":material/block:")
    st.stop()

if check.intact:
    st.success(check.to_text(), icon=":material/verified:")
else:
    st.error(check.to_text() + " Run `partnership-dashboard audit verify` and compare with an earlier export.",
             icon=":material/gpp_bad:")

frame = pl.DataFrame(
    [{k: r[k] for k in access_log.COLUMNS} for r in rows],
    schema={"seq": pl.Int64, "logged_at": pl.Datetime, "user_name": pl.String, "role": pl.String,
            "action": pl.String, "object": pl.String, "filters": pl.String, "rows_returned": pl.Int64,
            "interface": pl.String, "detail": pl.String, "prev_hash": pl.String, "row_hash": pl.String},
    orient="row",
)
st.caption(f"{frame.height:,} row(s) match, newest first.")
st.dataframe(frame.sort("seq", descending=True).drop("prev_hash"), hide_index=True, width="stretch")
row = st.container(horizontal=True)
for fmt, mime in (("csv", "text/csv"), ("json", "application/json")):
    row.download_button(
        f"Download as {fmt.upper()}",
        app_access.logged_download(lambda fmt=fmt: access_log.export_text(rows, fmt).encode("utf-8"),
                                   obj=f"access_log.{fmt}", filters=filters, rows=len(rows),
                                   action=access_log.AUDIT_EXPORT),
        file_name=f"access_log_{since}_{until}.{fmt}", mime=mime, on_click="ignore", key=f"log_download_{fmt}",
        icon=":material/download:",
    )
