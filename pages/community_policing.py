"""Community policing: how contacts are handled, and how often they are diverted from arrest."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import app_page, charts, page_downloads, views, views_trends
from dashboard.metrics.partnerships import CO_RESPONDER_SHARE

charts.set_theme(st.context.theme.type, st.get_option("theme.base"))  # legible in light and dark themes
ctx = app_page.page_context(
    "Community policing", "How often do police contacts end in diversion rather than arrest, and where?"
)
k = ctx.min_cell_size
METRIC = "police_diversion_rate"
frame = ctx.metrics([METRIC])

overall = views.overall_row(frame, METRIC)
cols = st.columns(3)
cols[0].metric("Police contacts", "—" if overall is None or overall["suppressed"] else views.format_count(overall["denominator"]))
cols[1].metric("Diverted from arrest", views.display_value(overall, "rate", k),
               help="Resolved on scene, referred to services or transported to treatment.")
co_overall = views.overall_row(ctx.partnership_view("co_responder_share"), CO_RESPONDER_SHARE)
cols[2].metric("Co-responder share", views.display_value(co_overall, "rate", k),
               help="Contacts a clinician or social worker attended. " + (
                   "" if co_overall is None or co_overall["suppressed"] else
                   f"{views.format_count(co_overall['numerator'])} of {views.format_count(co_overall['denominator'])} "
                   f"contacts; 95% interval {views.format_interval(co_overall['ci_low'], co_overall['ci_high'])}."))
if co_overall is not None and not co_overall["suppressed"]:
    st.caption(
        f"Co-responder share: {views.format_count(co_overall['numerator'])} of "
        f"{views.format_count(co_overall['denominator'])} contacts had a clinician or social worker attend "
        f"(95% interval {views.format_interval(co_overall['ci_low'], co_overall['ci_high'])})."
    )

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
page_downloads.show_chart(chart, data, key="policing_diversion_by_agency", metric_ids=[METRIC])

st.subheader("Diversion over time")
trend = views_trends.quarter_trend(views.metric_rows(ctx.breakdown(METRIC, ("quarter",)), METRIC, ("quarter",)), series=None)
chart = charts.trend_chart(
    trend, title=views_trends.trend_title("Diversion (all agencies)", trend),
    subtitle="Band: 95% interval; N per quarter in the tooltip.", value_title="Diversion rate", series_title="",
    min_cell_size=k,
)
page_downloads.show_chart(chart, trend, key="policing_diversion_trend", metric_ids=[METRIC])
agency_trend = views_trends.quarter_trend(
    views.metric_rows(ctx.breakdown(METRIC, ("quarter", "agency_id")), METRIC, ("quarter", "agency_id")),
    series="agency_id", series_labels=dict(ctx.agency_names), last=8,
)
if agency_trend.height:
    chart = charts.trend_chart(agency_trend, title="Diversion by agency and quarter",
                               subtitle="Band: 95% interval; N per quarter in the tooltip.",
                               value_title="Diversion rate", series_title="Agency", min_cell_size=k)
    page_downloads.show_chart(chart, agency_trend, key="policing_diversion_trend_by_agency", metric_ids=[METRIC])

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
    page_downloads.show_chart(chart, counts, key="policing_contacts_by_type", metric_ids=[METRIC])
st.subheader("Co-responder share")
co_rows = views.metric_rows(ctx.partnership_view("co_responder_share", ("agency_id",)), CO_RESPONDER_SHARE, ("agency_id",))
if co_rows.height:
    data = views.chart_frame(co_rows, category="agency_id", labels=ctx.agency_names)
    chart = charts.rate_bars(
        data, title=views.range_title("Co-responder share", co_rows.iter_rows(named=True), ctx.agency_names, "agency_id"),
        subtitle=f"Share of contacts a clinician or social worker attended; dashed line: all agencies "
        f"({views.display_value(co_overall, 'rate', k)}). n = contacts.",
        category_title="Police agency", value_title="Co-responder share",
        reference=None if co_overall is None else co_overall.get("value"), reference_label="All agencies",
        min_cell_size=k,
    )
    page_downloads.show_chart(chart, data, key="policing_co_responder_by_agency", metric_ids=[CO_RESPONDER_SHARE])
    co_trend = views_trends.quarter_trend(
        views.metric_rows(ctx.partnership_view("co_responder_share", ("quarter",)), CO_RESPONDER_SHARE, ("quarter",)),
        series=None,
    )
    chart = charts.trend_chart(
        co_trend, title=views_trends.trend_title("Co-responder share (all agencies)", co_trend),
        subtitle="Band: 95% interval; N per quarter in the tooltip.",
        value_title="Co-responder share", series_title="", min_cell_size=k,
    )
    page_downloads.show_chart(chart, co_trend, key="policing_co_responder_trend", metric_ids=[CO_RESPONDER_SHARE])
    co_agency_trend = views_trends.quarter_trend(
        views.metric_rows(ctx.partnership_view("co_responder_share", ("quarter", "agency_id")), CO_RESPONDER_SHARE,
                          ("quarter", "agency_id")),
        series="agency_id", series_labels=dict(ctx.agency_names), last=8,
    )
    if co_agency_trend.height:
        chart = charts.trend_chart(
            co_agency_trend, title="Co-responder share by agency and quarter",
            subtitle="Band: 95% interval; N per quarter in the tooltip.",
            value_title="Co-responder share", series_title="Agency", min_cell_size=k,
        )
        page_downloads.show_chart(chart, co_agency_trend, key="policing_co_responder_trend_by_agency",
                             metric_ids=[CO_RESPONDER_SHARE])
else:
    st.info("No police contacts are loaded for these filters.")
