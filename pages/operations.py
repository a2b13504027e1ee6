"""Operations: what the pilot costs per participant and per completion, and how many people each officer carries."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import app_page, charts, export_page_tables, page_downloads, views, views_trends
from dashboard import operations_views as ov

charts.set_theme(st.context.theme.type, st.get_option("theme.base"))  # legible in light and dark themes
ctx = app_page.page_context(
    "Operations",
    "What does the pilot cost per participant served and per completion, and how stretched are the officers?",
)
k = ctx.min_cell_size
st.info(ov.PARTICIPANT_FILTERS_NOTE, icon=":material/filter_alt_off:")
if not (ctx.has_rows("program_costs") or ctx.has_rows("staffing")):
    st.info("No program costs or staffing months are loaded. They come from the optional files "
            "`program_costs` and `staffing` of an extract (data contract version 2).")
    st.stop()
COSTS = {"cost_per_participant": "Cost per participant served", "cost_per_completion": "Cost per completion"}
METRIC = "caseload_per_officer"
frame = ctx.metrics([*COSTS, METRIC])  # only what this page shows (docs/performance.md)

st.subheader("Cost per participant and per completion")
if not ctx.has_rows("program_costs"):
    st.info("No program costs are loaded.")
else:
    cols = st.columns(2)
    for col, (metric, label) in zip(cols, COSTS.items()):
        overall = views.overall_row(frame, metric)
        col.metric(label, views.tile_value(overall, "currency", k),
                   help=ov.cost_tile_help(overall, metric, k))
    trend = ctx.operations_view("cost_trend")
    whole = trend.filter(pl.col("period").is_null())
    table = ov.cost_table(whole, ctx.program_names, k)
    for metric, label in COSTS.items():
        rows = ov.cost_rows(whole, metric)
        by_program = rows.filter(pl.col("program_id").is_not_null())
        if by_program.height:
            data = views.chart_frame(by_program, category="program_id", labels=ctx.program_names)
            overall = views.overall_row(frame, metric)
            chart = charts.rate_bars(
                data, title=views.range_title(label, by_program.iter_rows(named=True), ctx.program_names,
                                              "program_id", unit="currency"),
                subtitle=[f"Cost in the period over {ov.COST_DENOMINATORS[metric]}; dashed line: all programs "
                          f"({views.display_value(overall, 'currency', k)}).",
                          "Pilot cohort only; n = people in the denominator (in the tooltip)."],
                category_title="Program", value_title=label, unit="money",
                reference=None if overall is None or overall["suppressed"] else overall.get("value"),
                reference_label="All programs", min_cell_size=k,
            )
            page_downloads.show_chart(chart, data, key=f"operations_{metric}_by_program", metric_ids=[metric])
        series = ov.cost_trend_frame(trend, metric, ctx.program_names)
        if series.height:
            chart = charts.trend_chart(
                series, title=views_trends.trend_title(f"{label} (all programs)", series.filter(pl.col("series") == "All programs"),
                                                unit="currency"),
                subtitle=["Each quarter on its own: cost prorated to the quarter's days over the pilot participants "
                          "in its denominator.", "N per quarter in the tooltip."],
                value_title=label, unit="money", series_title="Program", min_cell_size=k,
            )
            page_downloads.show_chart(chart, series, key=f"operations_{metric}_trend", metric_ids=[metric])
    with st.expander("Costs by program for the period"):
        page_downloads.show_table(table, export_page_tables.cost_table(whole, ctx.program_names, ov.ALL_PROGRAMS),
                                  key="operations_costs_by_program", title="Costs by program for the period",
                                  metric_ids=list(COSTS))

st.subheader("Caseload per officer")
if not ctx.has_rows("staffing"):
    st.info("No staffing months are loaded.")
else:
    overall = views.overall_row(frame, METRIC)
    st.metric("Participants per full-time officer", views.tile_value(overall, "participants_per_officer", k),
              help="Σ active caseload over the staffing months / Σ officer FTE over the same months "
              "(participant-months per officer-month). Not suppressed: it describes staff.")
    rows = views.metric_rows(frame, METRIC, ("agency_id",))
    if rows.height:
        data = views.chart_frame(rows, category="agency_id", labels=ctx.agency_names)
        chart = charts.rate_bars(
            data, title=views.range_title("Caseload per officer", rows.iter_rows(named=True), ctx.agency_names,
                                          "agency_id", unit="participants_per_officer"),
            subtitle=[f"Participants under supervision per full-time officer; dashed line: all agencies "
                      f"({views.display_value(overall, 'participants_per_officer', k)}).",
                      "An agency with no officer time in the period has no bar (its caseload is in the total)."],
            category_title="Supervising agency", value_title="Participants per officer", unit="ratio",
            reference=None if overall is None else overall.get("value"), reference_label="All agencies",
            min_cell_size=k,
        )
        page_downloads.show_chart(chart, data, key="operations_caseload_by_agency", metric_ids=[METRIC])
    monthly = ctx.operations_view("caseload_by_month")
    if monthly.height:
        left, right = st.columns(2)
        with left:
            series = ov.caseload_trend_frame(monthly, ctx.agency_names, "caseload_per_officer")
            chart = charts.trend_chart(
                series, title="Caseload per officer, month by month",
                subtitle=["Active caseload on the month's last day (or the as-of date) / the month's officer FTE.",
                          "A gap: a vacancy month with no officer time."],
                x_title="Month", value_title="Participants per officer", unit="ratio", series_title="Agency",
                min_cell_size=k, width=420,
            )
            page_downloads.show_chart(chart, series, key="operations_caseload_trend", metric_ids=[METRIC],
                                      width="stretch")
        with right:
            fte = ov.caseload_trend_frame(monthly, ctx.agency_names, "officers_fte")
            chart = charts.trend_chart(
                fte, title="Officer FTE, month by month",
                subtitle=["Supervising officers in full-time equivalents, as reported per month.",
                          "0 = a vacancy month."],
                x_title="Month", value_title="Officer FTE", unit="ratio", series_title="Agency",
                min_cell_size=k, width=420,
            )
            page_downloads.show_chart(chart, fte, key="operations_fte_trend", metric_ids=[METRIC], width="stretch")
        with st.expander("Caseload and officer FTE by month"):
            page_downloads.show_table(
                ov.caseload_table(monthly, ctx.agency_names),
                export_page_tables.caseload_table(monthly, ctx.agency_names, ov.ALL_AGENCIES),
                key="operations_caseload_by_month", title="Caseload and officer FTE by month", metric_ids=[METRIC],
            )
