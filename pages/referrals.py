"""Referrals: do referrals reach a service, how fast, and which providers complete them?"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import app_page, charts, charts_flow, export_page_tables, page_downloads, views, views_trends
from dashboard.metrics.partnerships import OPEN_AGE_BAND_LABELS

charts.set_theme(st.context.theme.type, st.get_option("theme.base"))  # legible in light and dark themes
ctx = app_page.page_context(
    "Referrals", "Do referrals turn into services: accepted, started, completed — by provider and service type?"
)
k = ctx.min_cell_size
IDS = ["referral_acceptance_rate", "median_days_to_service", "referral_completion_rate"]
frame = ctx.metrics(IDS)
STAGES = ["Referrals made", "Accepted", "Service started", "Completed"]


def funnel_rows(rows_by_metric: dict[str, dict | None], group: str | None = None) -> list[dict]:
    """Stage counts read from the engine: referrals made (referral_counts), then the numerators
    and denominators of acceptance, days to service and completion (no counting here)."""
    made, acc, days, comp = (rows_by_metric.get(m) for m in ("referrals_made", *IDS))
    stages = [
        (STAGES[0], made, "denominator"),
        (STAGES[1], acc, "numerator"),
        (STAGES[2], days, "denominator"),
        (STAGES[3], comp, "numerator"),
    ]
    first = made.get("denominator") if made and not made.get("suppressed") else None
    out = []
    for stage, row, field in stages:
        suppressed = row is not None and bool(row.get("suppressed"))
        count = None if suppressed or row is None else row.get(field)
        count = None if count is None else int(count)
        share = count / first if count is not None and first else None
        record = {"stage": stage, "count": count, "share": share, "suppressed": suppressed}
        if group is not None:
            record["group"] = group
        out.append(record)
    return out


st.subheader("Referral funnel")
counts = ctx.referral_counts()
overall = {m: views.overall_row(frame, m) for m in IDS}
overall["referrals_made"] = views.overall_row(counts, "referrals_made")
records = funnel_rows(overall)
data = pl.DataFrame(records, schema={"stage": pl.String, "count": pl.Int64, "share": pl.Float64, "suppressed": pl.Boolean})
made_row = overall["referrals_made"]
title = (
    f"{views.display_value(made_row, 'count', k)} referrals made; "
    f"{views.display_value(overall['referral_completion_rate'], 'rate', k)} of closed referrals completed"
)
completed_share = views.display_value(overall["referral_completion_rate"], "rate", k)
chart = charts_flow.funnel_chart(data, title=title, subtitle="Bar shares are of ALL referrals made, open ones included; "
                            f"the title's {completed_share} is of closed referrals only, so the two differ.",
                            stage_order=STAGES, min_cell_size=k, width=420)
page_downloads.show_chart(chart, data, key="referrals_funnel", metric_ids=["referrals_made", *IDS])
st.caption(
    "Completion rate = completed ÷ (completed + declined, no-show or closed unsuccessfully). While referrals "
    "are still open, the Completed bar's share is lower than the rate. Completed = service completed."
)

st.subheader("Funnel by provider agency")
sources = {m: frame for m in IDS} | {"referrals_made": counts}
by_agency = {
    m: {r["agency_id"]: r for r in views.metric_rows(source, m, ("agency_id",)).iter_rows(named=True)}
    for m, source in sources.items()
}
agencies = list(dict.fromkeys(a for m in sources for a in by_agency[m]))
records = [r for a in agencies for r in funnel_rows({m: by_agency[m].get(a) for m in sources}, ctx.agency_label(a))]
if records:
    data = pl.DataFrame(records, schema={"stage": pl.String, "count": pl.Int64, "share": pl.Float64,
                                         "suppressed": pl.Boolean, "group": pl.String})
    chart = charts_flow.funnel_chart(data, title="Where referrals stop, provider by provider", stage_order=STAGES,
                                group_title="Provider agency", min_cell_size=k, width=140)
    page_downloads.show_chart(chart, data, key="referrals_funnel_by_provider", metric_ids=IDS)

st.subheader("Completion by provider agency")
rows = views.metric_rows(frame, "referral_completion_rate", ("agency_id",))
data = views.chart_frame(rows, category="agency_id", labels=ctx.agency_names)
overall_row = views.overall_row(frame, "referral_completion_rate")
chart = charts.rate_bars(
    data, title=views.range_title("Referral completion", rows.iter_rows(named=True), ctx.agency_names, "agency_id"),
    subtitle=f"Dashed line: all providers ({views.display_value(overall_row, 'rate', k)}). n = closed referrals.",
    category_title="Provider agency", value_title="Completion rate (of closed referrals)",
    reference=None if overall_row is None else overall_row.get("value"), reference_label="All providers",
    min_cell_size=k,
)
page_downloads.show_chart(chart, data, key="referrals_completion_by_provider", metric_ids=["referral_completion_rate"])

st.subheader("Completion by cohort")
rows = views.metric_rows(frame, "referral_completion_rate", ("program_id", "cohort"))
data = views.chart_frame(rows, category="program_id", labels=ctx.program_names, series="cohort")
cohorts = views.cohort_rows(frame, "referral_completion_rate")
chart = charts.rate_bars(
    data, title=views.cohort_comparison_title("Referral completion", cohorts.get("pilot"), cohorts.get("comparison")),
    subtitle="By program; n = closed referrals.", category_title="Program", value_title="Completion rate",
    min_cell_size=k,
)
page_downloads.show_chart(chart, data, key="referrals_completion_by_program_cohort", metric_ids=["referral_completion_rate"])

st.subheader("Days from referral to service")
rows = views.metric_rows(frame, "median_days_to_service", ("agency_id",))
data = views.chart_frame(rows, category="agency_id", labels=ctx.agency_names)
median_overall = views.overall_row(frame, "median_days_to_service")
chart = charts.rate_bars(
    data, title=f"Median wait for service: {views.display_value(median_overall, 'days', k)} overall",
    subtitle="Median days from referral to service start, by provider; N = referrals that started (no interval).",
    category_title="Provider agency", value_title="Median days to service", unit="days",
    reference=None if median_overall is None else median_overall.get("value"), reference_label="All providers",
    min_cell_size=k,
)
page_downloads.show_chart(chart, data, key="referrals_days_to_service", metric_ids=["median_days_to_service"])

st.subheader("By service type")
rows = views.metric_rows(ctx.breakdown("referral_completion_rate", ("service_type",)), "referral_completion_rate",
                         ("service_type",))
if rows.height:
    data = views.chart_frame(rows, category="service_type", labels={v: views.humanise(v) for v in rows["service_type"]})
    chart = charts.rate_bars(
        data, title=views.range_title("Completion", rows.iter_rows(named=True),
                                      {v: views.humanise(v) for v in rows["service_type"]}, "service_type"),
        category_title="Service type", value_title="Completion rate", min_cell_size=k,
    )
    page_downloads.show_chart(chart, data, key="referrals_completion_by_service", metric_ids=["referral_completion_rate"])

st.subheader("Open referrals by age")
open_view = ctx.partnership_view("open_referrals_by_age")
open_total = views_trends.count_rows(open_view, "total")
if open_total.height:
    open_row = open_total.row(0, named=True)
    bands = {r["age_band"]: r for r in views_trends.count_rows(open_view, "band").iter_rows(named=True)}
    oldest = bands.get(">180")
    oldest_text = ("none open more than 180 days" if oldest is None
                   else f"{views_trends.count_text(oldest['count'], bool(oldest['suppressed']), k)} open more than 180 days")
    cells = views_trends.count_rows(open_view, "provider_band")
    data = views_trends.count_chart_frame(cells, category="provider_agency_id", labels=ctx.agency_names, series="age_band",
                                   series_labels={b: f"{b} days" for b in OPEN_AGE_BAND_LABELS})
    withheld = set(cells.filter(pl.col("suppressed"))["provider_agency_id"].to_list())
    provider_totals = {
        ctx.agency_label(r["provider_agency_id"]): f"{views_trends.count_text(r['count'], bool(r['suppressed']), k)} open"
        + (f" (bands under {k} withheld)" if r["provider_agency_id"] in withheld and not r["suppressed"] else "")
        for r in views_trends.count_rows(open_view, "provider").iter_rows(named=True)
    }
    chart = charts.count_bars(
        data, title=f"{views_trends.count_text(open_row['count'], bool(open_row['suppressed']), k)} referrals still open "
        f"on {ctx.as_of}; {oldest_text}",
        subtitle="Pending, accepted or in service, by days since the referral and provider; referrals made in the period.",
        category_title="Provider agency", value_title="Open referrals", series_title="Days open", min_cell_size=k,
        total_labels=provider_totals,
    )
    page_downloads.show_chart(chart, data, key="referrals_open_by_age", metric_ids=["open_referrals_by_age"])
    # Every band is listed; a band without a row had no open referral (the engine gives rows to counts above zero).
    band_labels = [f"{b} days" for b in OPEN_AGE_BAND_LABELS]
    page_downloads.show_table(
        pl.DataFrame({
            "Days open": band_labels,
            "Open referrals": [views_trends.count_text(bands[b]["count"], bool(bands[b]["suppressed"]), k) if b in bands
                               else "0" for b in OPEN_AGE_BAND_LABELS],
        }, schema={"Days open": pl.String, "Open referrals": pl.String}),
        export_page_tables.labelled_rows(
            band_labels, "Days open",
            [bands.get(b, {"count": 0, "suppressed": False}) for b in OPEN_AGE_BAND_LABELS],
            {"Open referrals": ("count", 0)}),
        key="referrals_open_by_age_table", title=f"Referrals still open on {ctx.as_of}, by days open",
        metric_ids=["open_referrals_by_age"],
    )
else:
    st.success("No referral made in this period is still open.", icon=":material/check_circle:")
