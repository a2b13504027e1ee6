"""Compliance: are supervision conditions met, and how often do violations happen?"""

from __future__ import annotations

import streamlit as st

from dashboard import app_page, charts, page_downloads, views, views_trends

charts.set_theme(st.context.theme.type, st.get_option("theme.base"))  # legible in light and dark themes
ctx = app_page.page_context(
    "Compliance", "Are participants meeting their supervision conditions, and how often are violations recorded?"
)
k = ctx.min_cell_size
# Both measures' rows and views (trend, event, violation type, response) computed together (docs/performance.md).
page = ctx.page_metrics(["compliance_rate", "violation_rate_per_100_pm"],
                        views=["compliance_rate", "violation_rate_per_100_pm"])
frame = page.frame

st.subheader("Compliance rate by agency")
rows = views.metric_rows(frame, "compliance_rate", ("agency_id",))
overall = views.overall_row(frame, "compliance_rate")
data = views.chart_frame(rows, category="agency_id", labels=ctx.agency_names)
chart = charts.rate_bars(
    data, title=views.range_title("Compliance", rows.iter_rows(named=True), ctx.agency_names, "agency_id"),
    subtitle=f"Required checks with a known outcome that were compliant; dashed line: all agencies "
    f"({views.display_value(overall, 'rate', k)}). n = required checks.",
    category_title="Recording agency", value_title="Compliance rate",
    reference=None if overall is None else overall.get("value"), reference_label="All agencies", min_cell_size=k,
)
page_downloads.show_chart(chart, data, key="compliance_by_agency", metric_ids=["compliance_rate"])

st.subheader("Compliance over time")
trend = views_trends.quarter_trend(
    views.metric_rows(page.breakdown("compliance_rate", ("quarter", "cohort")), "compliance_rate", ("quarter", "cohort"))
)
cohorts = views.cohort_rows(frame, "compliance_rate")
chart = charts.trend_chart(
    trend, title=views.cohort_comparison_title("Compliance", cohorts.get("pilot"), cohorts.get("comparison")),
    subtitle="By quarter of the check; band: 95% interval; N per quarter in the tooltip.",
    value_title="Compliance rate", min_cell_size=k,
)
page_downloads.show_chart(chart, trend, key="compliance_trend", metric_ids=["compliance_rate"])

st.subheader("Compliance by event type")
rows = views.metric_rows(page.breakdown("compliance_rate", ("event_type",)), "compliance_rate", ("event_type",))
if rows.height:
    names = {v: views.humanise(v) for v in rows["event_type"].to_list()}
    data = views.chart_frame(rows, category="event_type", labels=names)
    chart = charts.rate_bars(data, title=views.range_title("Compliance", rows.iter_rows(named=True), names, "event_type"),
                             category_title="Event type", value_title="Compliance rate", min_cell_size=k)
    page_downloads.show_chart(chart, data, key="compliance_by_event_type", metric_ids=["compliance_rate"])

st.subheader("Violations per 100 participant-months")
rows = views.metric_rows(frame, "violation_rate_per_100_pm", ("agency_id",))
overall = views.overall_row(frame, "violation_rate_per_100_pm")
data = views.chart_frame(rows, category="agency_id", labels=ctx.agency_names)
chart = charts.rate_bars(
    data, title=f"{views.display_value(overall, 'per_100_pm', k)} overall",
    subtitle="By supervising agency; no interval (a rate per exposure). Dashed line: all agencies.",
    category_title="Supervising agency", value_title="Violations per 100 participant-months", unit="per_100_pm",
    reference=None if overall is None else overall.get("value"), reference_label="All agencies", min_cell_size=k,
)
page_downloads.show_chart(chart, data, key="violations_by_agency", metric_ids=["violation_rate_per_100_pm"])
for by, label in (("violation_type", "violation type"), ("response", "agency response")):
    rows = views.metric_rows(page.breakdown("violation_rate_per_100_pm", (by,)), "violation_rate_per_100_pm", (by,))
    names = {v: views.humanise(v) for v in rows[by].to_list()}
    data = views.chart_frame(rows, category=by, labels=names)
    chart = charts.rate_bars(data, title=views.range_title(f"Violations per 100 participant-months by {label}",
                                                          rows.iter_rows(named=True), names, by, "per_100_pm"),
                             subtitle="No interval (a rate per exposure).",
                             category_title=label.capitalize(), value_title="Per 100 participant-months",
                             unit="per_100_pm", min_cell_size=k)
    page_downloads.show_chart(chart, data, key=f"violations_by_{by}", metric_ids=["violation_rate_per_100_pm"])
