"""Partnerships: which agreements are in force, which expire soon, and how agencies refer to each other."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import app_state, charts, views

ctx = app_state.page_context(
    "Partnerships", "Are the partnership agreements in force, and are referrals flowing between the partners?"
)
agreements = ctx.tables.agreements
if ctx.filters.program_ids:
    agreements = agreements.filter(pl.col("program_id").is_in(list(ctx.filters.program_ids)))
if ctx.filters.agency_ids:
    agreements = agreements.filter(pl.col("agency_id").is_in(list(ctx.filters.agency_ids)))
status = views.agreement_status(agreements, ctx.as_of)

st.subheader("Agreements")
ORDER = ["In force", "Expiring within 90 days", "Expired", "Not yet in force"]
counts = (
    status.group_by("status", "agreement_type").len("count")
    .rename({"status": "category", "agreement_type": "series"})
    .with_columns(pl.col("series").str.to_uppercase().str.replace("DATA_SHARING", "Data sharing"),
                  pl.lit(False).alias("suppressed"))
    .sort("category", "series")
)
in_force = status.filter(pl.col("status").is_in(["In force", "Expiring within 90 days"])).height
expiring = status.filter(pl.col("status") == "Expiring within 90 days").height
expired = status.filter(pl.col("status") == "Expired").height
cols = st.columns(3)
cols[0].metric("In force", f"{in_force:,}")
cols[1].metric("Expiring within 90 days", f"{expiring:,}")
cols[2].metric("Expired", f"{expired:,}")
if counts.height:
    chart = charts.count_bars(
        counts, title=f"{in_force} agreements in force on {ctx.as_of}, {expiring} expiring within 90 days",
        subtitle=f"{status.height} agreements (MOU, MOA, data sharing) between programs and partner agencies.",
        category_title="Status on the as-of date", value_title="Agreements", series_title="Type",
        category_order=[o for o in ORDER if o in counts["category"].to_list()],
    )
    app_state.show_chart(chart, counts, key="partnership_agreements", metric_ids=["agreement_status"])
    table = (
        status.sort("status", "expires_date")
        .with_columns(
            pl.col("program_id").replace_strict(dict(ctx.program_names), default=pl.col("program_id")).alias("Program"),
            pl.col("agency_id").replace_strict(dict(ctx.agency_names), default=pl.col("agency_id")).alias("Partner agency"),
            pl.col("agreement_type").str.to_uppercase().alias("Type"),
            pl.col("signed_date").cast(pl.String).alias("Signed"),
            pl.col("expires_date").cast(pl.String).fill_null("no expiry").alias("Expires"),
            pl.col("status").alias("Status"),
        )
        .select("Status", "Program", "Partner agency", "Type", "Signed", "Expires")
    )
    with st.expander("All agreements"):
        app_state.show_table(table, key="partnership_agreement_list", metric_ids=["agreement_status"])
else:
    st.info("No agreements are loaded for these programs and agencies.")

st.subheader("Referral flow between agencies")
app_state.missing_from_engine(
    "referral counts by referring agency × provider agency and how they ended (completed, declined, no-show, open), "
    "with small-cell suppression"
)
st.subheader("Referrals to a provider without an agreement in force")
app_state.missing_from_engine(
    "referrals whose provider had no agreement in force with the participant's program on the referral date"
)
