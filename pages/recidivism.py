"""Recidivism: rearrest, reconviction and reincarceration at 6–36 months, by cohort and over time."""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import app_page, charts, export_page_tables, page_downloads, url_state, views
from dashboard.metrics.recidivism import add_months

charts.set_theme(st.context.theme.type, st.get_option("theme.base"))  # legible in light and dark themes
ctx = app_page.page_context(
    "Recidivism", "How many participants are rearrested, reconvicted or reincarcerated after release or enrollment?"
)
k = ctx.min_cell_size
MEASURES = {"rearrest": "Rearrest", "reconviction": "Reconviction", "reincarceration": "Reincarceration"}
WINDOWS = (6, 12, 24, 36)
ALL_IDS = [f"recidivism_{m}_{w}m" for m in MEASURES for w in WINDOWS]

st.subheader("By follow-up window and cohort")
tabs = url_state.tabs(list(MEASURES.values()), param="measure", key="recidivism_measure_tab")
window_table = st.container()  # the table under the tabs, filled once the rows are computed (below)

st.subheader("Time to first event (Kaplan–Meier)")
# The Kaplan–Meier tabs need the survival entries only (the same as the full evaluation's).
evaluation = ctx.evaluation(None, parts=("survival",))
page_downloads.show_survival_tabs(
    evaluation, MEASURES, key_prefix="recidivism",
    title=lambda m: f"Share without {MEASURES[m].lower()} since release or enrollment",
    note=lambda m: "Everyone whose index date is on or before the as-of date; censored at the as-of date.",
    empty=lambda m: "No survival estimate can be shown under these filters.",
)

st.subheader("By release-year cohort")
measure = url_state.choice(st.radio, "Measure", list(MEASURES), param="year_measure", key="recidivism_year_measure",
                           format_func=MEASURES.get, horizontal=True) or "rearrest"
url_state.show_problems()
ids = [f"recidivism_{measure}_{w}m" for w in WINDOWS]
# Every window's rows and, for the measure chosen above, the four windows' views by year of the index
# date, computed together: they share their participants and first events (docs/performance.md, "Pages
# share their metrics and views"). The sections above are filled from them.
page = ctx.page_metrics(ALL_IDS, views=ids)
frame = page.frame

all_rows = []
for tab, (shown, label) in zip(tabs, MEASURES.items()):
    records = []
    for window in WINDOWS:
        metric_id = f"recidivism_{shown}_{window}m"
        rows = views.metric_rows(frame, metric_id, ("cohort",))
        for row in rows.iter_rows(named=True):
            records.append({**row, "window": f"{window} months"})
            all_rows.append({**row, "measure": label, "window": f"{window} months"})
    with tab:
        if not records:
            st.info("Nobody has completed a follow-up window under these filters yet.")
            continue
        data = views.chart_frame(pl.DataFrame(records), category="window", series="cohort")
        cohorts = views.cohort_rows(frame, f"recidivism_{shown}_12m")
        title = views.cohort_comparison_title(f"12-month {label.lower()}", cohorts.get("pilot"), cohorts.get("comparison"))
        chart = charts.rate_bars(
            data, title=title,
            subtitle="Only people whose whole window ended by the as-of date count; n = eligible people.",
            category_title="Follow-up window", value_title=f"{label} rate", min_cell_size=k,
        )
        page_downloads.show_chart(chart, data, key=f"recidivism_{shown}_by_window",
                             metric_ids=[f"recidivism_{shown}_{w}m" for w in WINDOWS])

if all_rows:
    table_rows = pl.DataFrame(all_rows)
    table_keys = {"measure": "Measure", "window": "Window", "cohort": "Cohort"}
    table = views.metric_table(table_rows, key_titles=table_keys, key_labels={"cohort": views.COHORT_LABELS},
                               unit="rate", min_cell_size=k)
    with window_table, st.expander("Table: every measure, window and cohort"):
        page_downloads.show_table(
            table, export_page_tables.rows_table(table_rows, key_titles=table_keys,
                                             key_labels={"cohort": views.COHORT_LABELS}, unit="rate"),
            key="recidivism_table", title="Recidivism by measure, follow-up window and cohort",
        )

# One breakdown by year of the index date, protected with everything else this view shows of each measure.
by_year = {
    metric: {r["year"]: r for r in views.metric_rows(page.breakdown(metric, ("year",)), metric, ("year",))
             .iter_rows(named=True)}
    for metric in ids
}
years = sorted({y for rows in by_year.values() for y in rows if y is not None and int(y) <= ctx.as_of.year})[-8:]


def window_complete(year_end: dt.date, window: int) -> bool:
    """Has everyone indexed by ``year_end`` been followed ``window`` months by the as-of date?"""
    try:
        return add_months(year_end, window) <= ctx.as_of
    except ValueError:  # the window ends after 9999-12-31, so after any as-of date
        return False


records = []
hidden = []
for label in years:
    year_end = dt.date(int(label), 12, 31)
    for window in WINDOWS:
        # Show a year only when every person of that year has completed the window.
        if not window_complete(year_end, window):
            hidden.append(f"{label}/{window}m")
            continue
        row = by_year[f"recidivism_{measure}_{window}m"].get(label)
        if row is None:
            continue
        records.append({"period": label, "series": f"{window} months", "value": row["value"], "ci_low": row["ci_low"],
                        "ci_high": row["ci_high"], "denominator": row["denominator"], "suppressed": row["suppressed"]})
if records:
    data = pl.DataFrame(records, schema={"period": pl.String, "series": pl.String, "value": pl.Float64,
                                         "ci_low": pl.Float64, "ci_high": pl.Float64, "denominator": pl.Float64,
                                         "suppressed": pl.Boolean})
    chart = charts.trend_chart(
        data, title=f"{MEASURES[measure]} by year of release (or enrollment), completed windows only",
        subtitle="A year appears for a window only once everyone released that year has been followed that long.",
        x_title="Year of index date", value_title=f"{MEASURES[measure]} rate", series_title="Window", min_cell_size=k,
    )
    page_downloads.show_chart(chart, data, key=f"recidivism_{measure}_by_year", metric_ids=ids)
else:
    st.info("No release-year cohort has completed a follow-up window yet.")
