"""Community policing: how contacts are handled, and how often they are diverted from arrest."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import app_state, charts, views

ctx = app_state.page_context(
    "Community policing", "How often do police contacts end in diversion rather than arrest, and where?"
)
k = ctx.min_cell_size
frame = ctx.metrics()
METRIC = "police_diversion_rate"

overall = views.overall_row(frame, METRIC)
cols = st.columns(3)
cols[0].metric("Police contacts", "—" if overall is None or overall["suppressed"] else views.format_count(overall["denominator"]))
cols[1].metric("Diverted from arrest", views.display_value(overall, "rate", k),
               help="Resolved on scene, referred to services or transported to treatment.")
cols[2].metric("Co-responder share", "—", help="Not provided by the metric engine yet.")

st.subheader("Diversion rate by agency")
rows = views.metric_rows(frame, METRIC, ("agency_id",))
data = views.chart_frame(rows, category="agency_id", labels=ctx.agency_names)
chart = charts.rate_bars(
    data, title=views.range_title("Diversion", rows.iter_rows(named=True), ctx.agency_names, "agency_id"),
    subtitle=f"Share of contacts not ending in arrest or no action; dashed line: all agencies "
    f"({views.display_value(overall, 'rate', k)}). n = contacts.",
    category_title="Police agency", value_title="Diversion rate",
    reference=None if overall is None else overall.get("value"), reference_label="All agencies", min_cell_size=k,
)
app_state.show_chart(chart, data, key="policing_diversion_by_agency", metric_ids=[METRIC])

st.subheader("Diversion over time")
trend = views.quarter_trend(views.metric_rows(ctx.breakdown(METRIC, ("quarter",)), METRIC, ("quarter",)), series=None)
chart = charts.trend_chart(
    trend, title=views.trend_title("Diversion (all agencies)", trend),
    subtitle="Band: 95% interval; × = suppressed quarter; N per quarter in the tooltip.", value_title="Diversion rate", series_title="",
    min_cell_size=k,
)
app_state.show_chart(chart, trend, key="policing_diversion_trend", metric_ids=[METRIC])
agency_trend = views.quarter_trend(
    views.metric_rows(ctx.breakdown(METRIC, ("quarter", "agency_id")), METRIC, ("quarter", "agency_id")),
    series="agency_id", series_labels=dict(ctx.agency_names), last=8,
)
if agency_trend.height:
    chart = charts.trend_chart(agency_trend, title="Diversion by agency and quarter",
                               subtitle="Band: 95% interval; × = suppressed quarter; N per quarter in the tooltip.",
                               value_title="Diversion rate", series_title="Agency", min_cell_size=k)
    app_state.show_chart(chart, agency_trend, key="policing_diversion_trend_by_agency", metric_ids=[METRIC])

st.subheader("Contacts by type")
rows = views.metric_rows(ctx.breakdown(METRIC, ("contact_type",)), METRIC, ("contact_type",))
if rows.height:
    names = {v: views.humanise(v) for v in rows["contact_type"].to_list()}
    counts = pl.DataFrame({"category": [names[v] for v in rows["contact_type"].to_list()],
                           "count": rows["denominator"].cast(pl.Int64), "suppressed": rows["suppressed"]})
    published_counts = counts.filter(~pl.col("suppressed") & pl.col("count").is_not_null()).sort("count", descending=True)
    title = (
        f"{published_counts['category'][0]} is the most common contact ({published_counts['count'][0]:,} contacts)"
        if published_counts.height else "Police contacts by type"
    )
    chart = charts.count_bars(counts, title=title, category_title="Contact type",
                              value_title="Contacts", min_cell_size=k)
    app_state.show_chart(chart, counts, key="policing_contacts_by_type", metric_ids=[METRIC])
app_state.missing_from_engine("co-responder share of police contacts (overall, by agency, by quarter)")
