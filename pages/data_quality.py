"""Data quality: can the numbers be trusted, and if not, which partner must fix what?

Thin page: it asks ``dashboard.steward_views`` who is looking, ``dashboard.stewardship``
for the summary and the audit, ``dashboard.worklist`` for the steward's worklist and
fix lists, ``dashboard.data_docs`` for the offline data docs, and draws them. The
engine refuses row-level data to a viewer, so nothing here decides access by hiding.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import altair as alt
import streamlit as st
import streamlit.components.v1 as components

from dashboard import access_log, app_access, app_page, data_docs, page_style, store, url_state, worklist
from dashboard import steward_views as sv
from dashboard import stewardship as stew
from dashboard import text as safe_text
from dashboard.contract import TABLE_NAMES, describe_rule
from dashboard.roles import STEWARD, VIEWER, AccessRefused, require_all_agencies

MAX_ROWS_SHOWN = 1000
MAX_PARTNERS_SHOWN = 25
TABS = ["Worklist", "Status", "Rules broken", "Quarantine", "Partner scorecard", "Across loads", "Load history",
        "Data docs"]


def _engine(url: str) -> Any:
    return store.make_reader_engine(url)


@st.cache_resource(max_entries=4, show_spinner="Checking data quality…")
def _summary(url: str, run_key: str) -> stew.QualitySummary:
    """The quality summary of one load run. Its checks name rows by their identifiers, which the
    tables the metric pages share leave out (docs/performance.md, "Tables in memory"), so the
    tables are read here with every column; only the summary is kept."""
    audit = _audit(url, run_key, VIEWER)
    engine = _engine(url)
    try:
        tables = stew.read_tables(engine)
    finally:
        engine.dispose()
    return stew.summarize(audit, tables)


@st.cache_resource(max_entries=4, show_spinner=False)
def _audit(url: str, run_key: str, role: str) -> stew.Audit:
    """The audit as ``role`` may see it (a viewer's copy holds no row values)."""
    engine = _engine(url)
    try:
        return stew.read_audit(engine, STEWARD if role == STEWARD else VIEWER)
    finally:
        engine.dispose()


def _log_row_view(obj: str, what: str, **kw: Any) -> bool:
    """Record a row-level view first; False (and an error shown) when the access log cannot be written."""
    try:
        app_access.record_view_once(access_log.QUARANTINE_VIEW, obj, **kw)
    except access_log.AccessLogUnavailable as exc:
        st.error(f"{what} are refused: the access log could not be written ({exc})", icon=":material/block:")
        return False
    return True


ctx = app_page.page_context(
    "Data quality", "Can the numbers be trusted, and if not, which partner must fix what?"
)
principal = app_access.current_principal()  # the engine calls below take it and refuse beyond its role
scope = sv.steward_scope(principal)
role = scope.role
summary = _summary(ctx.url, ctx.status.run_key)
names = dict(ctx.agency_names)
st.caption(scope.caption)

open_total = int(summary.tables["open_rejections"].sum())
cross_findings = summary.cross.findings() if summary.cross is not None else None
cols = st.columns(4)
cols[0].metric("Data status", sv.STATUS_WORD.get(summary.status, summary.status))
cols[1].metric("Rows held in quarantine", f"{open_total:,}")
cols[2].metric("Warnings on loaded rows", f"{summary.warnings.height:,}")
cols[3].metric("Checks across loads fired", f"{0 if cross_findings is None else cross_findings.height:,}")

tabs = url_state.tabs(TABS, param="tab", key="dq_tab")
url_state.show_problems()

with tabs[0]:
    st.subheader("What each partner must fix, biggest first")
    audit_w = _audit(ctx.url, ctx.status.run_key, role)
    row_level = role == STEWARD and _log_row_view("worklist", "The worklist's line numbers")
    plan = worklist.worklist(audit_w if row_level else _audit(ctx.url, ctx.status.run_key, VIEWER),
                             principal if row_level else VIEWER, names)
    if plan.height == 0:
        st.success("No partner has rows held in quarantine" + (" among your agencies." if not principal.all_agencies
                                                               else "."))
    else:
        st.caption("One line per partner, table and rule: rows = open rejected rows that broke the rule (a row "
                   "breaking two rules counts under each); share = of the partner's rejected rows. "
                   + ("Example lines are line numbers of the delivered file."
                      if row_level else "Line numbers and fix lists are for the steward role."))
        for agency_id, label, breaks in worklist.partners(plan)[:MAX_PARTNERS_SHOWN]:
            mine = plan.filter(plan["agency_id"] == agency_id)
            head, button = st.columns([4, 1.3])
            head.markdown(f"**{safe_text.markdown_text(label)}** · {breaks:,} rule break"
                          f"{'s' if breaks != 1 else ''} to fix")
            if row_level:
                button.download_button(
                    "Fix list (CSV)",
                    app_access.logged_download(
                        lambda a=agency_id: worklist.fix_list_csv(audit_w, principal, a),
                        obj=f"fix_list:{agency_id}", filters={"agency": agency_id}),
                    file_name=worklist.fix_list_file_name(agency_id, summary.as_of), mime="text/csv",
                    on_click="ignore", key=f"dq_fix_list_{agency_id}", icon=":material/download:")
            page_style.table(sv.worklist_table(mine, with_lines=row_level).drop("Partner agency"),
                             key=f"dq_worklist_{agency_id}")
        more = len(worklist.partners(plan)) - MAX_PARTNERS_SHOWN
        if more > 0:
            st.caption(f"… and {more:,} more partners; the Quarantine tab filters by partner.")

with tabs[1]:
    st.subheader("Latest validation per table")
    st.caption("Worst first. ✖ Fail: rows held in quarantine or a file rejected; ▲ Warn: warnings or checks "
               "across loads; ✔ Pass.")
    page_style.table(sv.table_status_table(summary.tables), key="dq_status_tables")
    st.subheader("Per partner agency")
    page_style.table(sv.agency_status_table(summary.agencies), key="dq_status_agencies")

with tabs[2]:
    st.subheader("Each rule broken, in plain words")
    if summary.findings.height == 0:
        st.success("No rule is broken by any row held in quarantine, and no warning holds.")
    else:
        page_style.table(sv.findings_table(summary.findings), key="dq_findings")
        errors = summary.findings.filter(summary.findings["level"] == "error")
        if role == STEWARD and errors.height:
            options = [f"{t} · {r}" for t, r in zip(errors["table"], errors["rule"])]
            choice = st.selectbox("Example rejected rows for", options, key="dq_example_rule",
                                  format_func=lambda o: f"{worklist.table_label(o.split(' · ')[0])}: "
                                  f"{describe_rule(o.split(' · ', 1)[1], o.split(' · ')[0])}")
            table, rule = choice.split(" · ", 1)
            if _log_row_view(f"examples:{table}", "Example rows", filters={"table": table, "rule": rule}):
                examples = stew.example_rows(_audit(ctx.url, ctx.status.run_key, role), principal, table, rule)
                page_style.table(sv.quarantine_rows_table(examples, names), key="dq_examples")

with tabs[3]:
    st.subheader("Quarantine")
    c = st.columns(5)
    f_tables = c[0].multiselect("Table", list(TABLE_NAMES), key="dq_q_tables", format_func=worklist.table_label)
    f_rules = c[1].multiselect("Rule", sorted(set(summary.findings.filter(summary.findings["level"] == "error")["rule"])),
                               key="dq_q_rules")
    f_agencies = c[2].multiselect("Partner agency", sorted(summary.agencies["agency_id"].to_list()),
                                  key="dq_q_agencies", format_func=lambda a: worklist.partner_label(a, names))
    f_runs = c[3].multiselect("Load run", summary.history["run_id"].to_list(), key="dq_q_runs")
    f_state = c[4].selectbox("State", ["open", "unresolved", "resolved", "all"], key="dq_q_state")
    qfilter = stew.QuarantineFilter(tuple(f_tables), tuple(f_rules), tuple(f_agencies), tuple(f_runs), f_state)
    if role != STEWARD:
        st.info("Rejected rows and their values are for stewards; here are the counts.", icon=":material/lock:")
        counts = stew.quarantine_counts(_audit(ctx.url, ctx.status.run_key, VIEWER), qfilter)
        page_style.table(sv.quarantine_counts_table(counts, names), key="dq_q_counts")
    else:
        audit_q = _audit(ctx.url, ctx.status.run_key, role)
        q_filters = {"tables": f_tables, "rules": f_rules, "agencies": f_agencies, "runs": f_runs, "state": f_state}
        rows = stew.quarantine_rows(audit_q, principal, qfilter)
        if _log_row_view("quarantine", "The quarantine rows", filters=q_filters, rows=rows.height):
            st.caption(f"{rows.height:,} quarantined row(s) match" + (
                f"; the first {MAX_ROWS_SHOWN:,} are shown, the CSV has all" if rows.height > MAX_ROWS_SHOWN else ""))
            shown = rows.head(MAX_ROWS_SHOWN)
            if len(f_tables) == 1:
                shown = stew.expand_raw_values(shown, f_tables[0])
            page_style.table(sv.quarantine_rows_table(shown, names), key="dq_q_rows")
            st.download_button(
                "Download these rows (CSV)",
                app_access.logged_download(lambda: stew.quarantine_csv(audit_q, principal, qfilter),
                                           obj="quarantine.csv", filters=q_filters, rows=rows.height),
                file_name="quarantine.csv", mime="text/csv", on_click="ignore", key="dq_q_csv", icon="⬇️")
            st.markdown("**Reprocess**: download a table's open rows as a contract file, fix the cells named in "
                        "the reasons, put the file in a folder with an `AS_OF` file holding "
                        f"`{summary.as_of}`, and load it with `partnership-dashboard load FOLDER`. Fixed rows "
                        "leave quarantine (marked resolved by that run) and reach the dashboard.")
            open_names = set(summary.tables.filter(summary.tables["open_rejections"] > 0)["table_name"].to_list())
            open_tables = [t for t in TABLE_NAMES if t in open_names]
            if open_tables:
                rt = st.selectbox("Table to reprocess", open_tables, key="dq_reprocess_table",
                                  format_func=worklist.table_label)
                st.download_button(
                    f"Download {rt}.csv for fixing",
                    app_access.logged_download(lambda: stew.reprocessing_csv(audit_q, principal, rt).encode("utf-8"),
                                               obj=f"reprocess:{rt}.csv", filters={"table": rt}),
                    file_name=f"{rt}.csv", mime="text/csv", on_click="ignore", key="dq_reprocess_csv",
                    icon=":material/build:")

with tabs[4]:
    st.subheader("Partner scorecard")
    st.caption("Most rows held in quarantine first. Validity = rows accepted / (accepted + held in quarantine); "
               "completeness = optional fields filled; load lag = days from the extract's as-of date to its "
               "load; data lag = days from the partner's latest record to the as-of date.")
    page_style.table(sv.scorecard_table(summary.scorecard), key="dq_scorecard")
    st.download_button("Download the scorecard (CSV)",
                       app_access.logged_download(lambda: stew.scorecard_csv(summary.scorecard),
                                                  obj="partner_scorecard.csv", rows=summary.scorecard.height),
                       file_name="partner_scorecard.csv", mime="text/csv", on_click="ignore",
                       key="dq_scorecard_csv", icon="⬇️")

with tabs[5]:
    st.subheader("Checks across loads")
    if summary.cross is None or cross_findings is None:
        st.info("No load run is recorded, so there is no as-of date to check against.")
    else:
        if cross_findings.height:
            page_style.table(sv.readable(cross_findings, names), key="dq_cross")
        else:
            st.success("Freshness, volume, distribution and consistency checks found nothing.")
        st.caption(f"Grouping totals: {summary.cross.groupings_note}.")
        with st.expander("Freshness per agency"):
            page_style.table(sv.readable(summary.cross.freshness, names), key="dq_freshness")
        st.caption(
            "Volume and distribution drift raise an alarm only when the change is unlikely to be chance "
            "(q-value after false-discovery control over every comparison of this check) and at least "
            "the minimum change; see docs/stewardship.md for the tests and the measured false-alarm rate."
        )
        with st.expander("Volume per agency and table (recent month against its baseline rate)"):
            page_style.table(sv.readable(summary.cross.volume, names), key="dq_volume")
        with st.expander("Distribution of key categories (recent window against history)"):
            page_style.table(sv.readable(summary.cross.distribution, names), key="dq_distribution")

with tabs[6]:
    st.subheader("Load runs")
    page_style.table(sv.history_table(summary.history), key="dq_history")
    trend = sv.rejection_trend(summary.table_history)
    if trend.height:
        chart = (
            alt.Chart(trend, title="Share of rows rejected per load run and table")
            .mark_line(point=alt.OverlayMarkDef(filled=True, size=60))
            .encode(
                x=alt.X("load_run:O", title="Load run (start time)", axis=alt.Axis(labelAngle=-30)),
                y=alt.Y("rejection_rate:Q", title="Rows rejected", axis=alt.Axis(format=".0%", tickMinStep=0.01)),
                color=alt.Color("table:N", title="Table", scale=alt.Scale(range=sv.OKABE_ITO)),
                shape=alt.Shape("table:N", title="Table"),
                tooltip=["table", "load_run", alt.Tooltip("rejection_rate:Q", title="Rejected", format=".1%"),
                         alt.Tooltip("rows_rejected:Q", title="Rows rejected", format=","),
                         alt.Tooltip("rows_read:Q", title="Rows read", format=",")],
            )
        )
        st.altair_chart(chart, width="stretch", key="dq_trend")

with tabs[7]:
    st.subheader("Great Expectations data docs")
    docs_dir = Path(os.environ.get("PARTNERSHIP_DATA_DOCS", stew.DEFAULT_DOCS_DIR))
    docs_refusal: AccessRefused | None = None
    if role == STEWARD:
        try:  # the docs hold every agency's rejected values: not for a steward limited to agencies
            require_all_agencies(principal, "The data docs")
        except AccessRefused as exc:
            docs_refusal = exc
    pages = data_docs.docs_pages(docs_dir)
    if role != STEWARD:
        # The docs list unexpected values as delivered (row-level data): stewards only.
        st.info("The data docs show rejected values as delivered, so they are for the steward role.",
                icon=":material/lock:")
    elif docs_refusal is not None:
        app_access.refused(docs_refusal)
    elif pages:
        if _log_row_view("data_docs", "The data docs"):
            index = docs_dir / "index.html"
            written = index if index.exists() else docs_dir / pages[0]
            st.caption(f"Written by the last `check` at {dt.datetime.fromtimestamp(written.stat().st_mtime):%Y-%m-%d %H:%M}"
                       f": `{docs_dir.resolve()}`. Shown here as a static copy that works offline; its links are "
                       "inactive — pick a page below.")
            page = st.selectbox("Data docs page", pages, format_func=data_docs.page_label, key="dq_docs_page")
            components.html(data_docs.read_page(docs_dir, page), height=700, scrolling=True)
    else:
        st.info("No data docs yet. Write them with `partnership-dashboard check --db URL` (or `check DIR` for an "
                f"extract); they go to `{stew.DEFAULT_DOCS_DIR}/` (or `--docs-dir`).")
