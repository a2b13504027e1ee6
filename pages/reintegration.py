"""Reintegration: employment and stable housing 6 and 12 months after release or enrollment,
pilot against comparison, with the check coverage beside every rate."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import app_page, charts, export_page_tables, page_downloads, url_state, views, views_trends

charts.set_theme(st.context.theme.type, st.get_option("theme.base"))  # legible in light and dark themes
ctx = app_page.page_context(
    "Reintegration",
    "Do participants find work and a stable place to live after release or enrollment, and how complete "
    "is the record?",
)
k = ctx.min_cell_size
WINDOWS = (6, 12)
MEASURES = {"employment_rate": "Employed", "stable_housing_rate": "Stably housed"}
COVERAGE = "reintegration_check_coverage"

if ctx.tables.reintegration_checks.height == 0:
    st.info(
        "No reintegration checks are loaded yet. Partners record where a participant stands on "
        "employment and housing in the `reintegration_checks` file (data contract version 2); load an "
        "extract with that file to see these measures.",
        icon=":material/info:",
    )
    st.stop()

# Only what this page shows (docs/performance.md): both rates and the coverage at 6 and 12 months.
frame = ctx.metrics([f"{m}_{w}m" for m in (*MEASURES, COVERAGE) for w in WINDOWS])

# --- headline tiles and the coverage warning ---------------------------------------------------
tiles = st.columns(3)
for column, (metric_id, label) in zip(tiles, (
    ("employment_rate_12m", "Employed at 12 months"),
    ("stable_housing_rate_12m", "Stably housed at 12 months"),
    (f"{COVERAGE}_12m", "Check coverage at 12 months"),
)):
    row = views.overall_row(frame, metric_id)
    interval = "" if row is None or row.get("suppressed") else views.format_interval(row.get("ci_low"), row.get("ci_high"))
    column.metric(label, views.tile_value(row, "rate", k),
                  help=f"95% CI {interval}; {views.display_n(row)} (numerator / N).")
    column.caption(
        f"Withheld: fewer than {k} people" if row is not None and row.get("suppressed")
        else f"N = {views.display_n(row)}"
    )
for window in WINDOWS:
    note = views_trends.low_coverage_note(views.overall_row(frame, f"{COVERAGE}_{window}m"), window)
    if note:
        st.warning(note, icon=":material/warning:")

# --- pilot against comparison, by window --------------------------------------------------------
st.subheader("Pilot against comparison at 6 and 12 months")
tabs = url_state.tabs(list(MEASURES.values()), param="measure", key="reintegration_measure_tab")
for tab, (measure, label) in zip(tabs, MEASURES.items()):
    records = []
    for window in WINDOWS:
        for row in views.metric_rows(frame, f"{measure}_{window}m", ("cohort",)).iter_rows(named=True):
            records.append({**row, "window": f"{window} months"})
    with tab:
        if not records:
            st.info("Nobody eligible has a status recorded under these filters yet.")
            continue
        data = views.chart_frame(pl.DataFrame(records), category="window", series="cohort")
        cohorts = views.cohort_rows(frame, f"{measure}_12m")
        title = views.cohort_comparison_title(f"{label} at 12 months", cohorts.get("pilot"), cohorts.get("comparison"))
        chart = charts.rate_bars(
            data, title=title,
            subtitle=[
                ("Status at the latest check in the window; only people whose window ended by the as-of date. "
                 "n = people with a status (employment: in the labour force)."),
                *(f"{w} months — " + views_trends.coverage_by_cohort_text(frame, f"{COVERAGE}_{w}m", k) for w in WINDOWS),
            ],
            category_title="Months after release or enrollment", value_title=f"{label} (rate)", min_cell_size=k,
        )
        ids = [f"{measure}_{w}m" for w in WINDOWS] + [f"{COVERAGE}_{w}m" for w in WINDOWS]
        page_downloads.show_chart(chart, data, key=f"reintegration_{measure}_by_window", metric_ids=ids)

RATES = {w: [(f"{m}_{w}m", f"{label} at {w} months") for m, label in MEASURES.items()] for w in WINDOWS}


def coverage_table(by: tuple[str, ...], key_titles: dict[str, str], key_labels: dict, window: int) -> pl.DataFrame:
    return views_trends.rates_with_coverage_table(
        frame, RATES[window], (f"{COVERAGE}_{window}m", f"Check coverage at {window} months"), by=by,
        key_titles=key_titles, key_labels=key_labels, min_cell_size=k,
    )


def coverage_download(by: tuple[str, ...], key_titles: dict[str, str], key_labels: dict, window: int,
                      everyone: bool = False) -> pl.DataFrame:
    """The numbers of ``coverage_table``: one row per group and measure (each rate, then the coverage)."""
    labels = {"cohort": views.COHORT_LABELS, **key_labels}
    parts = [
        export_page_tables.rows_table(views.metric_rows(frame, metric_id, by), key_titles=key_titles, key_labels=labels,
                                  unit="rate", measure=label)
        for metric_id, label in [*RATES[window], (f"{COVERAGE}_{window}m", f"Check coverage at {window} months")]
    ]
    out = pl.concat(parts)
    return out.with_columns(pl.lit("Everyone").alias("Cohort")).select("Cohort", pl.exclude("Cohort")) if everyone else out


def all_ids(window: int) -> list[str]:
    return [m for m, _ in RATES[window]] + [f"{COVERAGE}_{window}m"]


st.subheader("Everyone and by cohort")
for window in WINDOWS:
    table = pl.concat([
        coverage_table((), {}, {}, window).with_columns(pl.lit("Everyone").alias("Cohort")).select(
            "Cohort", pl.exclude("Cohort")),
        coverage_table(("cohort",), {"cohort": "Cohort"}, {}, window),
    ])
    download = pl.concat([coverage_download((), {}, {}, window, everyone=True),
                          coverage_download(("cohort",), {"cohort": "Cohort"}, {}, window)])
    st.markdown(f"**{window} months**")
    page_downloads.show_table(table, download, key=f"reintegration_cohorts_{window}m",
                              title=f"Employment and housing at {window} months, everyone and by cohort",
                              metric_ids=all_ids(window))

# --- by program ------------------------------------------------------------------------------------
st.subheader("By program")
program_labels = {"program_id": dict(ctx.program_names)}
measure = url_state.choice(st.radio, "Measure", list(MEASURES), param="program_measure", key="reintegration_measure",
                           format_func=MEASURES.get, horizontal=True) or "employment_rate"
url_state.show_problems()
rows = views.metric_rows(frame, f"{measure}_12m", ("program_id", "cohort"))
if rows.height:
    data = views.chart_frame(rows, category="program_id", labels=dict(ctx.program_names), series="cohort")
    chart = charts.rate_bars(
        data, title=views.range_title(f"{MEASURES[measure]} at 12 months", views.metric_rows(
            frame, f"{measure}_12m", ("program_id",)).iter_rows(named=True), dict(ctx.program_names), "program_id"),
        subtitle="Pilot and comparison cohort of each program; whiskers: 95% interval; n = people with a status.",
        category_title="Program", value_title=f"{MEASURES[measure]} (rate)", min_cell_size=k,
    )
    page_downloads.show_chart(chart, data, key=f"reintegration_{measure}_by_program",
                         metric_ids=[f"{measure}_12m", f"{COVERAGE}_12m"])
else:
    st.info("No program has anyone eligible with a status at 12 months under these filters.")
for window in WINDOWS:
    table = coverage_table(("program_id", "cohort"), {"program_id": "Program", "cohort": "Cohort"},
                           program_labels, window)
    with st.expander(f"Table: every program and cohort at {window} months", expanded=window == 12):
        download = coverage_download(("program_id", "cohort"), {"program_id": "Program", "cohort": "Cohort"},
                                     program_labels, window)
        page_downloads.show_table(table, download, key=f"reintegration_programs_{window}m",
                                  title=f"Employment and housing at {window} months by program and cohort",
                                  metric_ids=all_ids(window))

# --- by agency -------------------------------------------------------------------------------------
st.subheader("By supervising agency")
st.caption("Participants are counted with their supervising agency, not the agency that recorded the check.")
for window in WINDOWS:
    table = coverage_table(("agency_id",), {"agency_id": "Agency"}, {"agency_id": dict(ctx.agency_names)}, window)
    with st.expander(f"Table: every agency at {window} months", expanded=window == 12):
        download = coverage_download(("agency_id",), {"agency_id": "Agency"}, {"agency_id": dict(ctx.agency_names)},
                                     window)
        page_downloads.show_table(table, download, key=f"reintegration_agencies_{window}m",
                                  title=f"Employment and housing at {window} months by supervising agency",
                                  metric_ids=all_ids(window))
low = [
    name for name, row in (
        (ctx.agency_label(r["agency_id"]), r) for r in views.metric_rows(frame, f"{COVERAGE}_12m", ("agency_id",))
        .iter_rows(named=True)
    ) if views_trends.is_low_coverage(row)
]
if low:
    st.caption(f"Check coverage at 12 months is below {views_trends.LOW_COVERAGE:.0%} for: " + ", ".join(low) + ".")
st.caption(
    "Employed: full or part time among people in the labour force (not_in_labor_force is left out). Stably "
    "housed: stable among people with a housing status. Check coverage: eligible people with at least one "
    "check in the window. A rate resting on low coverage describes the people checked, not everyone."
)
