"""Overview: the headline measures, pilot against comparison, and who is behind the numbers."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import app_page, charts, export_numeric, page_downloads, views, views_evaluation, views_trends

charts.set_theme(st.context.theme.type, st.get_option("theme.base"))  # legible in light and dark themes
ctx = app_page.page_context(
    "Overview", "How are the partnership pilots doing, and is the pilot cohort ahead of the comparison group?"
)
k = ctx.min_cell_size

HEADLINE = [
    ("referral_completion_rate", "Referral completion", "rate", "normal"),
    ("compliance_rate", "Supervision compliance", "rate", "normal"),
    ("program_completion_rate", "Program completion", "rate", "normal"),
    ("recidivism_rearrest_12m", "12-month rearrest", "rate", "inverse"),
]
IDS = [m for m, _, _, _ in HEADLINE]
# Only the metrics this page shows are computed (docs/performance.md, "Dashboard redraws"), with the
# headline measures' views (their quarterly trends give the tile deltas) from the same units.
page = ctx.page_metrics([*IDS, "employment_rate_12m", "stable_housing_rate_12m", "reintegration_check_coverage_12m"],
                        views=IDS)
frame = page.frame

def _quarter_before(label: str) -> str:
    """``2026-Q1`` -> ``2025-Q4`` (the engine's quarter labels)."""
    year, _, quarter = label.partition("-Q")
    index = int(year) * 4 + int(quarter) - 2
    return f"{index // 4}-Q{index % 4 + 1}"


# --- tiles ------------------------------------------------------------------------------
# Short tile labels (they must fit a sixth of the page); the full name is in each tile's help.
TILE_LABEL = {
    "referral_completion_rate": "Referral completion",
    "compliance_rate": "Compliance",
    "program_completion_rate": "Program completion",
    "recidivism_rearrest_12m": "Rearrest (12 mo)",
}
current_q, previous_q = views_trends.quarter_label(ctx.as_of), views_trends.previous_quarter_label(ctx.as_of)
tiles = st.columns(6)
counts = ctx.participant_counts()
quarters = ctx.periods("quarter", 2)
# Enrolled: how many enrolled in the as-of date's quarter; Active: the head count against the last day
# of the quarter before (the engine's counts for those dates, never arithmetic on other numbers).
enrolled_delta = active_delta = None
if quarters and quarters[-1][0].replace(" ", "-") == current_q:
    _, q_start, q_end = quarters[-1]
    in_quarter = views.overall_row(ctx.with_filters(start=q_start, end=q_end).participant_counts(),
                                   "participants_enrolled")
    if in_quarter is not None and not in_quarter.get("suppressed") and in_quarter.get("value") is not None:
        enrolled_delta = f"{int(in_quarter['value']):+,} in {current_q}"
    if q_start > dt.date.min:  # the first quarter of year 1 has no day before it
        day_before = q_start - dt.timedelta(days=1)
        before = views.overall_row(ctx.with_filters(as_of=day_before).participant_counts(), "participants_active")
        active_delta = views.tile_delta(views.overall_row(counts, "participants_active"), before, "count")
        if active_delta:
            active_delta = active_delta.replace("vs previous quarter", f"vs {day_before}")
for column, metric_id, label, words, delta in (
    (tiles[0], "participants_enrolled", "Enrolled",
     ("Participants enrolled on or before the as-of date (in the period). Change: enrolled in the as-of "
      "date's quarter."), enrolled_delta),
    (tiles[1], "participants_active", "Active",
     ("Enrolled and not exited on the as-of date. Change: against the head count on the last day of the "
      "quarter before."), active_delta),
):
    row = views.overall_row(counts, metric_id)
    column.metric(label, views.tile_value(row, "count", k), delta=delta, delta_color="off", help=words)
    if row is not None and row.get("suppressed"):
        column.caption(f"Fewer than {k}: withheld")
for column, (metric_id, label, unit, colour) in zip(tiles[2:], HEADLINE):
    row = views.overall_row(frame, metric_id)
    by_quarter = {r["quarter"]: r for r in views.metric_rows(page.breakdown(metric_id, ("quarter",)), metric_id,
                                                             ("quarter",)).iter_rows(named=True)}
    # The latest quarter with a published value whose quarter before has one too: 12-month rearrest and
    # program completion need time to be observed, and the as-of quarter's referrals are mostly still open
    # (the closed ones are the quick declines), so referral completion starts one quarter earlier.
    later = earlier = None
    candidate = previous_q if metric_id == "referral_completion_rate" else current_q
    for _ in range(8):
        before = _quarter_before(candidate)
        if views.tile_delta(by_quarter.get(candidate), by_quarter.get(before), unit):
            later, earlier = candidate, before
            break
        candidate = before
    delta = views.tile_delta(by_quarter.get(later), by_quarter.get(earlier), unit) if later else None
    change = f"{later} against {earlier}" if later else "no two recent quarters with published values"
    if delta:
        delta = delta.replace(" vs previous quarter", f" vs {earlier}" + (f" ({later})" if later != current_q else ""))
    interval = "" if row is None or row.get("suppressed") else views.format_interval(row.get("ci_low"), row.get("ci_high"))
    column.metric(
        TILE_LABEL[metric_id],
        views.tile_value(row, unit, k),
        delta=delta,
        delta_color=colour,  # type: ignore[arg-type]
        help=f"**{label}**. 95% CI {interval}; {views.display_n(row)} (numerator / N). Change: {change} "
        "(no change shown when either quarter is suppressed or has no data).",
    )
    column.caption(
        f"Withheld: fewer than {k} people or events" if row is not None and row.get("suppressed")
        else f"N = {views.display_n(row)}"
    )

# --- pilot vs comparison ------------------------------------------------------------------
st.subheader("Pilot against comparison")
records = []
better = 0
compared = 0
for metric_id, label, unit, colour in HEADLINE:
    cohorts = views.cohort_rows(frame, metric_id)
    for cohort in ("pilot", "comparison"):
        row = cohorts.get(cohort)
        if row is None:
            continue
        records.append({**row, "metric_label": label})
    p, c = cohorts.get("pilot"), cohorts.get("comparison")
    if p and c and not p["suppressed"] and not c["suppressed"] and p["value"] is not None and c["value"] is not None:
        compared += 1
        better += (p["value"] < c["value"]) if colour == "inverse" else (p["value"] > c["value"])


rows = pl.DataFrame(records) if records else pl.DataFrame(schema={"metric_label": pl.String, "cohort": pl.String,
                                                                   "value": pl.Float64, "suppressed": pl.Boolean})
data = views.chart_frame(rows, category="metric_label", series="cohort") if records else rows
if compared:
    title = f"Pilot ahead on {better} of {compared} headline measures (point estimates; check the intervals)"
elif len(ctx.filters.cohorts) == 1:
    title = f"Only the {views.cohort_label(ctx.filters.cohorts[0]).lower()} cohort is selected: clear the cohort filter to compare"
else:
    title = "Pilot and comparison cannot be compared under these filters (too few published numbers)"
chart = charts.rate_bars(
    data, title=title, subtitle="Bars: rate; whiskers: 95% interval; n = people or records in the denominator. "
    "Lower is better for rearrest.", category_title="Measure", value_title="Rate", min_cell_size=k,
) if records else None
if chart is not None:
    page_downloads.show_chart(chart, data, key="overview_pilot_vs_comparison", metric_ids=IDS)
else:
    st.info("No pilot or comparison rows under these filters.")
app_page.page_link(st, "pages/pilot_evaluation.py", "Full pilot evaluation with tests and baseline equivalence →")

# --- by program and agency ---------------------------------------------------------------
table_metrics = [(m, label, unit) for m, label, unit, _ in HEADLINE]
st.subheader("By program")
by_program = views_evaluation.wide_metric_table(frame, table_metrics, key="program_id", key_title="Program",
                                     names=ctx.program_names, min_cell_size=k)
page_downloads.show_table(
    by_program, export_numeric.metric_table(frame, table_metrics, key="program_id", key_title="Program",
                                            names=ctx.program_names),
    key="overview_by_program", title="Headline measures by program", metric_ids=IDS,
)
st.subheader("By agency")
st.caption("Each measure's own agency: provider (referrals), recording agency (compliance), "
           "supervising agency (completion, rearrest).")
by_agency = views_evaluation.wide_metric_table(frame, table_metrics, key="agency_id", key_title="Agency",
                                    names=ctx.agency_names, min_cell_size=k)
page_downloads.show_table(
    by_agency, export_numeric.metric_table(frame, table_metrics, key="agency_id", key_title="Agency",
                                           names=ctx.agency_names),
    key="overview_by_agency", title="Headline measures by agency", metric_ids=IDS,
)
st.caption("n: the denominator of each rate. —: the agency has no records for that measure.")

# --- employment and housing (reintegration checks, data contract version 2) ----------------------
if ctx.tables.reintegration_checks.height:
    st.subheader("Employment and housing at 12 months")
    REINTEGRATION = [
        ("employment_rate_12m", "Employed at 12 months"),
        ("stable_housing_rate_12m", "Stably housed at 12 months"),
        ("reintegration_check_coverage_12m", "Check coverage at 12 months"),
    ]
    columns = st.columns(3)
    for column, (metric_id, label) in zip(columns, REINTEGRATION):
        row = views.overall_row(frame, metric_id)
        cohorts = views.cohort_rows(frame, metric_id)
        column.metric(label, views.tile_value(row, "rate", k),
                      help=f"{views.display_n(row)} (numerator / N). Pilot "
                      f"{views.display_value(cohorts.get('pilot'), 'rate', k)}, comparison "
                      f"{views.display_value(cohorts.get('comparison'), 'rate', k)}.")
        column.caption(
            f"Withheld: fewer than {k} people" if row is not None and row.get("suppressed")
            else f"N = {views.display_n(row)}"
        )
    records = []
    for metric_id, label in REINTEGRATION:
        for cohort, row in views.cohort_rows(frame, metric_id).items():
            records.append({**row, "metric_label": label})
    if records:
        data = views.chart_frame(pl.DataFrame(records), category="metric_label", series="cohort")
        employed = views.cohort_rows(frame, "employment_rate_12m")
        chart = charts.rate_bars(
            data, title=views.cohort_comparison_title("Employed at 12 months", employed.get("pilot"),
                                                      employed.get("comparison")),
            subtitle="Status at the latest reintegration check in the 12 months after release or enrollment; "
            "coverage: the share of eligible people checked at all. Whiskers: 95% interval.",
            category_title="Measure", value_title="Rate", min_cell_size=k,
        )
        page_downloads.show_chart(chart, data, key="overview_reintegration", metric_ids=[m for m, _ in REINTEGRATION])
    note = views_trends.low_coverage_note(views.overall_row(frame, "reintegration_check_coverage_12m"), 12)
    if note:
        st.warning(note, icon=":material/warning:")
    app_page.page_link(st, "pages/reintegration.py", "Employment and housing by program, cohort and agency →")
