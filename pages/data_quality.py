"""Data quality: can the numbers be trusted, and if not, which partner must fix what?

Thin page: it resolves the role, asks ``dashboard.stewardship`` for the
summary and (for a steward) the quarantined rows, and draws them. The engine
refuses row-level data to a viewer, so nothing here decides access by hiding.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
import streamlit as st
import streamlit.components.v1 as components

from dashboard import access_log, app_access, app_state, store
from dashboard import stewardship as stew
from dashboard.contract import TABLE_NAMES, describe_rule
from dashboard.roles import STEWARD, VIEWER, AccessRefused, require_all_agencies

STATUS_LABEL = {"pass": "Pass", "warn": "Warn", "fail": "Fail", "not_loaded": "Not loaded"}
MAX_ROWS_SHOWN = 1000


def _engine(url: str) -> Any:
    return store.make_reader_engine(url)


@st.cache_resource(max_entries=4, show_spinner="Checking data quality…")
def _summary(url: str, run_key: str, _tables: Any) -> stew.QualitySummary:
    audit = _audit(url, run_key, VIEWER)
    return stew.summarize(audit, {name: getattr(_tables, name) for name in TABLE_NAMES})


@st.cache_resource(max_entries=4, show_spinner=False)
def _audit(url: str, run_key: str, role: str) -> stew.Audit:
    """The audit as ``role`` may see it (a viewer's copy holds no row values)."""
    engine = _engine(url)
    try:
        return stew.read_audit(engine, STEWARD if role == STEWARD else VIEWER)
    finally:
        engine.dispose()


def _status_frame(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("status").replace_strict(STATUS_LABEL, default=pl.col("status")))


ctx = app_state.page_context(
    "Data quality", "Can the numbers be trusted, and if not, which partner must fix what?"
)
principal = app_access.current_principal()  # the engine calls below take it and refuse beyond its role
role = STEWARD if principal.row_level else VIEWER
summary = _summary(ctx.url, ctx.status.run_key, ctx.tables)
if role == STEWARD:
    scope = ("" if principal.all_agencies
             else f", limited to the rows of agencies {', '.join(sorted(principal.agencies or ()))}")
    st.caption(f"Role: **{principal.role}** — row-level quarantine with the rejected values is shown{scope}.")
else:
    st.caption(
        "Role: **viewer** — aggregates only. Rejected rows and their values need the steward role "
        "(see docs/stewardship.md)."
    )

overall = summary.status
open_total = int(summary.tables["open_rejections"].sum())
warn_total = int(summary.warnings.height)
cross_findings = summary.cross.findings() if summary.cross is not None else pl.DataFrame()
cols = st.columns(4)
cols[0].metric("Data status", STATUS_LABEL.get(overall, overall))
cols[1].metric("Rows held in quarantine", f"{open_total:,}")
cols[2].metric("Warnings on loaded rows", f"{warn_total:,}")
cols[3].metric("Checks across loads fired", f"{cross_findings.height:,}")

tabs = st.tabs(["Status", "Rules broken", "Quarantine", "Partner scorecard", "Across loads", "Load history", "Data docs"])

with tabs[0]:
    st.subheader("Latest validation per table")
    st.dataframe(_status_frame(summary.tables).drop("run_id"), hide_index=True, width="stretch")
    st.subheader("Per submitting agency")
    st.dataframe(_status_frame(summary.agencies), hide_index=True, width="stretch")

with tabs[1]:
    st.subheader("Each rule broken, in plain words")
    if summary.findings.height == 0:
        st.success("No rule is broken by any row held in quarantine, and no warning holds.")
    else:
        st.dataframe(summary.findings, hide_index=True, width="stretch")
        if role == STEWARD:
            errors = summary.findings.filter(pl.col("level") == "error")
            if errors.height:
                options = [f"{t} · {r}" for t, r in zip(errors["table"], errors["rule"])]
                choice = st.selectbox("Example rejected rows for", options, key="dq_example_rule")
                table, rule = choice.split(" · ", 1)
                st.caption(describe_rule(rule, table))
                try:
                    app_access.record_view_once(access_log.QUARANTINE_VIEW, f"examples:{table}",
                                          filters={"table": table, "rule": rule})
                    examples = stew.example_rows(_audit(ctx.url, ctx.status.run_key, role), principal, table, rule)
                    st.dataframe(examples, hide_index=True, width="stretch")
                except access_log.AccessLogUnavailable as exc:
                    st.error(f"Example rows are refused: the access log could not be written ({exc})",
                             icon=":material/block:")

with tabs[2]:
    st.subheader("Quarantine")
    audit_q = _audit(ctx.url, ctx.status.run_key, role) if role == STEWARD else None
    c = st.columns(5)
    f_tables = c[0].multiselect("Table", list(TABLE_NAMES), key="dq_q_tables")
    f_rules = c[1].multiselect("Rule", sorted(set(summary.findings.filter(pl.col("level") == "error")["rule"])),
                               key="dq_q_rules")
    f_agencies = c[2].multiselect("Agency", sorted(summary.agencies["agency_id"].to_list()), key="dq_q_agencies")
    f_runs = c[3].multiselect("Load run", summary.history["run_id"].to_list(), key="dq_q_runs")
    f_state = c[4].selectbox("State", ["open", "unresolved", "resolved", "all"], key="dq_q_state")
    qfilter = stew.QuarantineFilter(tuple(f_tables), tuple(f_rules), tuple(f_agencies), tuple(f_runs), f_state)
    if audit_q is None:
        st.info("Rejected rows and their values are for stewards; here are the counts.", icon=":material/lock:")
        viewer_audit = _audit(ctx.url, ctx.status.run_key, VIEWER)
        st.dataframe(stew.quarantine_counts(viewer_audit, qfilter), hide_index=True, width="stretch")
    else:
        q_filters = {"tables": f_tables, "rules": f_rules, "agencies": f_agencies, "runs": f_runs, "state": f_state}
        rows = stew.quarantine_rows(audit_q, principal, qfilter)
        try:  # row-level data: recorded first, refused when the access log cannot be written
            app_access.record_view_once(access_log.QUARANTINE_VIEW, "quarantine", filters=q_filters,
                                        rows=rows.height)
        except access_log.AccessLogUnavailable as exc:
            st.error(f"The quarantine rows are refused: the access log could not be written ({exc})",
                     icon=":material/block:")
        else:
            st.caption(f"{rows.height:,} quarantined row(s) match" + (
                f"; the first {MAX_ROWS_SHOWN:,} are shown, the CSV has all" if rows.height > MAX_ROWS_SHOWN else ""))
            shown = rows.head(MAX_ROWS_SHOWN)
            if len(f_tables) == 1:
                shown = stew.expand_raw_values(shown, f_tables[0])
            st.dataframe(shown, hide_index=True, width="stretch")
            st.download_button(
                "Download these rows (CSV)",
                app_access.logged_download(lambda: stew.quarantine_csv(audit_q, principal, qfilter),
                                           obj="quarantine.csv", filters=q_filters, rows=rows.height),
                file_name="quarantine.csv", mime="text/csv", on_click="ignore", key="dq_q_csv", icon="⬇️")
            st.markdown("**Reprocess**: download a table's open rows as a contract file, fix the cells named in "
                        "`reasons`, put the file in a folder with an `AS_OF` file holding "
                        f"`{summary.as_of}`, and load it with `partnership-dashboard load FOLDER`. Fixed rows "
                        "leave quarantine (marked resolved by that run) and reach the dashboard.")
            open_tables = [t for t in TABLE_NAMES if t in set(summary.tables.filter(
                pl.col("open_rejections") > 0)["table_name"].to_list())]
            if open_tables:
                rt = st.selectbox("Table to reprocess", open_tables, key="dq_reprocess_table")
                st.download_button(
                    f"Download {rt}.csv for fixing",
                    app_access.logged_download(lambda: stew.reprocessing_csv(audit_q, principal, rt).encode("utf-8"),
                                               obj=f"reprocess:{rt}.csv", filters={"table": rt}),
                    file_name=f"{rt}.csv", mime="text/csv", on_click="ignore", key="dq_reprocess_csv", icon=":material/build:")

with tabs[3]:
    st.subheader("Partner scorecard")
    st.caption("Completeness = optional fields filled; validity = rows accepted / (accepted + held in "
               "quarantine); load lag = days from the extract's as-of date to its load; data lag = days "
               "from the agency's latest record to the as-of date.")
    st.dataframe(summary.scorecard, hide_index=True, width="stretch")
    st.download_button("Download the scorecard (CSV)",
                       app_access.logged_download(lambda: stew.scorecard_csv(summary.scorecard),
                                                  obj="partner_scorecard.csv", rows=summary.scorecard.height),
                       file_name="partner_scorecard.csv", mime="text/csv", on_click="ignore",
                       key="dq_scorecard_csv", icon="⬇️")

with tabs[4]:
    st.subheader("Checks across loads")
    if summary.cross is None:
        st.info("No load run is recorded, so there is no as-of date to check against.")
    else:
        if cross_findings.height:
            st.dataframe(cross_findings, hide_index=True, width="stretch")
        else:
            st.success("Freshness, volume, distribution and consistency checks found nothing.")
        st.caption(f"Grouping totals: {summary.cross.groupings_note}.")
        with st.expander("Freshness per agency"):
            st.dataframe(summary.cross.freshness, hide_index=True, width="stretch")
        st.caption(
            "Volume and distribution drift raise an alarm only when the change is unlikely to be chance "
            "(q-value after false-discovery control over every comparison of this check) and at least "
            "the minimum change; see docs/stewardship.md for the tests and the measured false-alarm rate."
        )
        with st.expander("Volume per agency and table (recent month against its baseline rate)"):
            st.dataframe(summary.cross.volume, hide_index=True, width="stretch")
        with st.expander("Distribution of key categories (recent window against history)"):
            st.dataframe(summary.cross.distribution, hide_index=True, width="stretch")

with tabs[5]:
    st.subheader("Load runs")
    st.dataframe(summary.history, hide_index=True, width="stretch")
    trend = summary.table_history.filter(pl.col("rejection_rate").is_not_null())
    if trend.height:
        chart = (
            alt.Chart(trend.select("started_at", "table_name", "rejection_rate"))
            .mark_line(point=True)
            .encode(
                x=alt.X("started_at:T", title="Load run"),
                y=alt.Y("rejection_rate:Q", title="Rows rejected", axis=alt.Axis(format="%")),
                color=alt.Color("table_name:N", title="Table"),
                tooltip=["table_name", "started_at", alt.Tooltip("rejection_rate:Q", format=".1%")],
            )
        )
        st.altair_chart(chart, width="stretch")

with tabs[6]:
    st.subheader("Great Expectations data docs")
    docs = Path(os.environ.get("PARTNERSHIP_DATA_DOCS", stew.DEFAULT_DOCS_DIR)) / "index.html"
    docs_refusal: AccessRefused | None = None
    if role == STEWARD:
        try:  # the docs hold every agency's rejected values: not for a steward limited to agencies
            require_all_agencies(principal, "The data docs")
        except AccessRefused as exc:
            docs_refusal = exc
    if role != STEWARD:
        # The docs list unexpected values as delivered (row-level data): stewards only.
        st.info("The data docs show rejected values as delivered, so they are for the steward role.",
                icon=":material/lock:")
    elif docs_refusal is not None:
        app_access.refused(docs_refusal)
    elif docs.exists():
        try:
            app_access.record_view_once(access_log.QUARANTINE_VIEW, "data_docs")
        except access_log.AccessLogUnavailable as exc:
            st.error(f"The data docs are refused: the access log could not be written ({exc})", icon=":material/block:")
            st.stop()
        st.caption(f"Written by the last `check` at {dt.datetime.fromtimestamp(docs.stat().st_mtime):%Y-%m-%d %H:%M}: "
                   f"`{docs.resolve()}` (open it in a browser for the full site).")
        components.html(docs.read_text(encoding="utf-8"), height=600, scrolling=True)
    else:
        st.info("No data docs yet. Write them with `partnership-dashboard check --db URL` (or `check DIR` for an "
                f"extract); they go to `{stew.DEFAULT_DOCS_DIR}/` (or `--docs-dir`).")
