"""Report: the one-click package for a funder's periodic performance report."""

from __future__ import annotations

import calendar
import datetime as dt
import tempfile

import streamlit as st

from dashboard import access_log, app_access, app_links, app_page
from dashboard import text as safe_text
from dashboard.export import MIME_TYPES
from dashboard.report import ParticipantFilters, build_report, parse_period, readable_table

ctx = app_page.page_context(
    "Report package",
    "The funder's quarterly or annual report in one click: measures with N and intervals, charts, "
    "definitions, suppression and limitations, as PDF, HTML and a ZIP of every chart and table.",
)

KINDS = ("Quarter", "Half year", "Fiscal year", "Custom dates")
# Default: the latest calendar quarter complete by the as-of date.
_current = (ctx.as_of.month - 1) // 3 + 1
_complete = ctx.as_of == parse_period(f"{ctx.as_of.year:04d}Q{_current}").end
_latest = ctx.as_of.year * 4 + _current - (1 if _complete else 2)  # quarters since year 0, zero-based
default_year, default_quarter = _latest // 4, _latest % 4 + 1
if default_year < dt.MINYEAR:  # an as-of in the calendar's first quarter: nothing complete before it
    default_year, default_quarter = dt.MINYEAR, 1
# Years a period may be chosen in, kept inside the calendar (an as-of near year 1 or 9999 must not crash).
years = [y for y in range(ctx.as_of.year + 1, ctx.as_of.year - 10, -1) if dt.MINYEAR <= y <= dt.MAXYEAR]

left, right = st.columns(2)
kind = left.radio("Reporting period", KINDS, horizontal=True, key="report_kind")
programs = ["All programs", *sorted(ctx.program_names)]
program_choice = right.selectbox(
    "Program",
    programs,
    index=programs.index(ctx.filters.program_ids[0]) if len(ctx.filters.program_ids) == 1
    and ctx.filters.program_ids[0] in programs else 0,
    format_func=lambda p: p if p == "All programs"
    else f"{safe_text.label_text(ctx.program_label(p))} ({safe_text.label_text(p, 40)})",
    key="report_program",
)

fy_start = 7
c1, c2, c3 = st.columns(3)
if kind == "Quarter":
    year = c1.selectbox("Year", years, index=years.index(default_year), key="report_year")
    quarter = c2.selectbox("Quarter", (1, 2, 3, 4), index=default_quarter - 1, format_func=lambda q: f"Q{q}",
                           key="report_quarter")
    period_text = f"{year:04d}Q{quarter}"
elif kind == "Half year":
    year = c1.selectbox("Year", years, index=years.index(default_year), key="report_half_year")
    half = c2.selectbox("Half", (1, 2), index=0 if ctx.as_of.month > 6 else 1, format_func=lambda h: f"H{h}",
                        key="report_half")
    period_text = f"{year:04d}H{half}"
elif kind == "Fiscal year":
    fy_start = c2.selectbox("Fiscal year starts in", range(1, 13), index=6,
                            format_func=lambda m: calendar.month_name[m], key="report_fy_start")
    fy_years = years
    fiscal_year = c1.selectbox("Fiscal year (named by the year it ends)", fy_years,
                               index=fy_years.index(ctx.as_of.year), key="report_fy")
    period_text = f"FY{fiscal_year:04d}"
else:
    first_day = dt.date(default_year, 3 * default_quarter - 2, 1)
    # Explicit bounds: Streamlit's default (ten years around today) refuses an older or later as-of date.
    lowest = min(app_links.EARLIEST_LINK_DATE, first_day, ctx.as_of)
    highest = max(app_links.latest_period_date(), ctx.as_of)
    start = c1.date_input("From", value=first_day, key="report_from", min_value=lowest, max_value=highest)
    end = c2.date_input("To (inclusive)", value=ctx.as_of, key="report_to", min_value=lowest, max_value=highest)
    period_text = f"{start}:{end}"

try:
    period = parse_period(period_text, fiscal_year_start_month=fy_start)
except ValueError as exc:
    st.error(safe_text.markdown_full(exc), icon=":material/block:")
    st.stop()

program_id = None if program_choice == "All programs" else program_choice
paper = st.radio("PDF paper size", ("a4", "letter"), horizontal=True, key="report_paper",
                 format_func=lambda p: {"a4": "A4", "letter": "US Letter"}[p])
# The sidebar's participant filters apply to the package exactly as on the other pages; its period
# does not: the package reports the period chosen above (the CLI's --period).
sidebar = ctx.filters
participants = ParticipantFilters(agency_ids=tuple(sidebar.agency_ids), cohorts=tuple(sidebar.cohorts),
                                  risk_levels=tuple(sidebar.risk_levels),
                                  supervision_types=tuple(sidebar.supervision_types))
applied = participants.describe()
st.caption(
    "Sidebar filters applied to the package: "
    + (safe_text.markdown_text(applied) if applied else "none (all agencies, cohorts, risk levels and supervision)")
    + ". The sidebar's program is only the default of the Program choice above, and its period is not used: "
    "the package reports the period chosen here."
)
st.caption(
    f"{period.description}: {period.start} to {period.end} · data as of {ctx.as_of} · "
    f"cells under {ctx.min_cell_size} suppressed"
)
if period.start > ctx.as_of:
    st.warning("The period starts after the data's as-of date: there is nothing to report yet.", icon=":material/inbox:")

report_filters = {"period": period_text, "program": program_id, "fiscal_year_start_month": fy_start,
                  "as_of": ctx.as_of.isoformat(), "min_cell_size": ctx.min_cell_size, "paper": paper,
                  **{flag.lstrip("-"): values for flag, values in participants.flags()}}
if st.button("Build report package", type="primary", icon=":material/description:", key="report_build"):
    try:  # an export: recorded in the access log first, refused when it cannot be
        app_access.record_now(access_log.REPORT_BUILD, "report", filters=report_filters)
    except access_log.AccessLogUnavailable as exc:
        st.error(f"The report package is refused: the access log could not be written ({exc})",
                 icon=":material/block:")
        st.stop()
    with st.spinner("Computing the measures and drawing the charts…"), tempfile.TemporaryDirectory() as out:
        try:
            result = build_report(
                ctx.tables, period=period, program_id=program_id, fiscal_year_start_month=fy_start,
                min_cell_size=ctx.min_cell_size, out_dir=out, as_of=ctx.as_of, participants=participants,
                paper=paper,
            )
        except ValueError as exc:
            st.error(f"The report could not be built: {safe_text.markdown_full(exc)}", icon=":material/block:")
            st.stop()
        st.session_state["report_package"] = {
            "key": (period.label, period.start, period.end, program_id, ctx.as_of, participants, paper),
            "pdf": (result.pdf.name, result.pdf.read_bytes()),
            "html": (result.html.name, result.html.read_bytes()),
            "zip": (result.zip.name, result.zip.read_bytes()),
            "measures": result.measures,
            "operations": result.content.operations,
            "command": result.content.command,
        }

package = st.session_state.get("report_package")
if package and package["key"] == (period.label, period.start, period.end, program_id, ctx.as_of, participants, paper):
    st.success(f"Report package ready for {safe_text.markdown_text(period.label)}.", icon=":material/check_circle:")
    cols = st.columns(3)
    for col, fmt, label in zip(cols, ("pdf", "html", "zip"), ("PDF report", "HTML report", "ZIP (all files)")):
        name, data = package[fmt]
        logged = app_access.logged_download(lambda data=data: data, obj=f"report.{fmt}", filters=report_filters)
        col.download_button(label, logged, file_name=name, mime=MIME_TYPES[fmt], on_click="ignore",
                            key=f"report_download_{fmt}", icon="⬇️")
    st.subheader("Measures in the package")
    st.dataframe(readable_table(package["measures"]), hide_index=True, width="stretch")
    operations = package.get("operations")
    if operations is not None and operations.height:
        st.subheader("Costs and community voice in the package")
        st.caption("Participant filters do not apply to these measures. Value: currency per person for the costs, "
                   "the favourable share for the survey questions.")
        st.dataframe(readable_table(operations, operations=True), hide_index=True, width="stretch")
    st.caption("Reproduce from the command line (add --db URL for a non-default database):")
    st.code(package["command"], language="bash")
