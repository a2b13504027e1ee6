"""Partnerships: which agreements are in force, which expire soon, and how agencies refer to each other."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import app_page, charts, charts_flow, export_page_tables, page_downloads, views_trends
from dashboard import text as safe_text
from dashboard.metrics.partnerships import AGREEMENT_STATUSES, EXPIRED, EXPIRING, IN_FORCE

charts.set_theme(st.context.theme.type, st.get_option("theme.base"))  # legible in light and dark themes
ctx = app_page.page_context(
    "Partnerships", "Are the partnership agreements in force, and are referrals flowing between the partners?"
)
k = ctx.min_cell_size

st.subheader("Agreements")
status_counts = ctx.partnership_view("agreement_status_counts")
totals = {r["status"]: r["count"] for r in views_trends.count_rows(status_counts, "total").iter_rows(named=True)}
in_force_total = totals.get(IN_FORCE, 0) + totals.get(EXPIRING, 0)
cols = st.columns(3)
cols[0].metric("In force", f"{in_force_total:,}", help="In force on the as-of date, including those expiring soon.")
cols[1].metric("Expiring within 90 days", f"{totals.get(EXPIRING, 0):,}")
cols[2].metric("Expired", f"{totals.get(EXPIRED, 0):,}")
by_program = views_trends.count_rows(status_counts, "program")
if by_program.height:
    data = views_trends.count_chart_frame(by_program, category="program_id", labels=ctx.program_names, series="status",
                                   series_labels={s: s for s in AGREEMENT_STATUSES})
    data = data.with_columns(pl.col("series").cast(pl.Enum(list(AGREEMENT_STATUSES)))).sort("category", "series") \
        .with_columns(pl.col("series").cast(pl.String))
    chart = charts.count_bars(
        data, title=f"{in_force_total} agreements in force on {ctx.as_of}, {totals.get(EXPIRING, 0)} expiring "
        f"within 90 days, {totals.get(EXPIRED, 0)} expired",
        subtitle=f"Agreements (MOU, MOA, data sharing) between each program and its partner agencies, by status "
        f"on {ctx.as_of}.",
        category_title="Program", value_title="Agreements", series_title="Status on the as-of date",
    )
    page_downloads.show_chart(chart, data, key="partnership_agreements", metric_ids=["agreement_status"])
    agreements = ctx.partnership_view("agreements")
    order = {s: i for i, s in enumerate(AGREEMENT_STATUSES)}
    table = (
        agreements.with_columns(pl.col("status").replace_strict(order, return_dtype=pl.Int64).alias("_order"))
        .sort("_order", "expires_date", "program_id", nulls_last=True)
        .with_columns(
            pl.col("program_id").replace_strict(dict(ctx.program_names), default=pl.col("program_id")).alias("Program"),
            pl.col("agency_id").replace_strict(dict(ctx.agency_names), default=pl.col("agency_id")).alias("Partner agency"),
            pl.col("agreement_type").str.to_uppercase().str.replace("DATA_SHARING", "Data sharing").alias("Type"),
            pl.col("signed_date").cast(pl.String).alias("Signed"),
            pl.col("expires_date").cast(pl.String).fill_null("no expiry").alias("Expires"),
            pl.col("status").alias("Status"),
        )
        .select("Status", "Program", "Partner agency", "Type", "Signed", "Expires")
    )
    with st.expander("All agreements, soonest to expire first"):
        page_downloads.show_table(table, key="partnership_agreement_list", title="Partnership agreements",
                                  metric_ids=["agreement_status"])
else:
    st.info("No agreements are loaded for these programs and agencies.")

st.subheader("Referral flow between agencies")
flow = ctx.partnership_view("referral_flow")
total = views_trends.count_rows(flow, "total")
total_row = total.row(0, named=True) if total.height else None
heat, flow_table = views_trends.flow_frames(flow, ctx.agency_names, k)
if heat.height:
    busiest = heat.filter(~pl.col("suppressed") & pl.col("count").is_not_null()).sort("count", descending=True)
    total_text = views_trends.count_text(total_row["count"], bool(total_row["suppressed"]), k) if total_row else "0"
    title = (
        f"{safe_text.chart_text(busiest['row'][0])} → {safe_text.chart_text(busiest['column'][0])} is the busiest "
        f"route: {busiest['count'][0]:,} of "
        f"{total_text} referrals" if busiest.height else f"{total_text} referrals between agencies"
    )
    chart = charts_flow.flow_heatmap(
        heat, title=title,
        subtitle=[f"Referrals made in the period by the agency on the left to the provider below (N = {total_text}).",
                  "Hover a cell for how they ended; the table below gives completed / unsuccessful / open."],
        min_cell_size=k,
    )
    page_downloads.show_chart(chart, heat, key="partnership_referral_flow", metric_ids=["referral_flow"])
    with st.expander("How the referrals of each route ended"):
        page_downloads.show_table(flow_table, export_page_tables.flow_table(flow, ctx.agency_names),
                                  key="partnership_referral_flow_table",
                                  title="How the referrals of each route ended", metric_ids=["referral_flow"])
else:
    st.info("No referrals were made in this period for these filters.")

st.subheader("Referrals to a provider without an agreement in force")
uncovered = ctx.partnership_view("referrals_without_agreement")
un_total = views_trends.count_rows(uncovered, "total")
un_row = un_total.row(0, named=True) if un_total.height else None
pairs = views_trends.count_rows(uncovered, "program_provider")
if un_row is None:
    st.success("Every referral in this period went to a provider with an agreement in force on the referral date.",
               icon=":material/check_circle:")
else:
    un_text = views_trends.count_text(un_row["count"], bool(un_row["suppressed"]), k)
    total_text = views_trends.count_text(total_row["count"], bool(total_row["suppressed"]), k) if total_row else "0"
    grid = pl.DataFrame(
        {
            "row": [ctx.agency_names.get(a, a) for a in pairs["provider_agency_id"].to_list()],
            "column": [ctx.program_label(p) for p in pairs["program_id"].to_list()],
            "count": pairs["count"].to_list(),
            "suppressed": pairs["suppressed"].to_list(),
            "detail": ["No agreement with this program in force on the referral date"] * pairs.height,
        },
        schema={"row": pl.String, "column": pl.String, "count": pl.Int64, "suppressed": pl.Boolean, "detail": pl.String},
    )
    chart = charts_flow.flow_heatmap(
        grid, title=f"{un_text} of {total_text} referrals went to a provider with no agreement in force",
        subtitle=["Referrals made in the period, by provider and the participant's program: each filled cell is an "
                  "agreement that was missing on the referral date.", "Empty cell: no such referral."],
        row_title="Provider agency", column_title="Participant's program", value_title="Referrals without an agreement",
        detail_title="Why counted", min_cell_size=k,
    )
    page_downloads.show_chart(chart, grid, key="partnership_referrals_without_agreement",
                         metric_ids=["referrals_without_agreement"])
    providers = views_trends.count_rows(uncovered, "provider").sort("count", descending=True, nulls_last=True)
    listing = pl.DataFrame(
        {
            "Provider agency": [ctx.agency_names.get(a, a) for a in providers["provider_agency_id"].to_list()],
            "Referrals without an agreement in force": [
                views_trends.count_text(c, s, k) for c, s in zip(providers["count"].to_list(), providers["suppressed"].to_list())
            ],
        },
        schema={"Provider agency": pl.String, "Referrals without an agreement in force": pl.String},
    )
    page_downloads.show_table(
        listing, export_page_tables.labelled_rows(
            listing.get_column("Provider agency").to_list(), "Provider agency", list(providers.iter_rows(named=True)),
            {"Referrals without an agreement in force": ("count", 0)}),
        key="partnership_providers_without_agreement", title="Providers with referrals without an agreement in force",
        metric_ids=["referrals_without_agreement"],
    )
