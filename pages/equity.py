"""Equity: does each headline measure differ across groups of participants?"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import app_page, charts, export_page_tables, page_downloads, url_state, views, views_trends
from dashboard.contract import RISK_LEVELS, SEXES, SUPERVISION_TYPES
from dashboard.metrics.tables import AGE_BAND_LABELS

charts.set_theme(st.context.theme.type, st.get_option("theme.base"))  # legible in light and dark themes
ctx = app_page.page_context(
    "Equity", "Do outcomes differ by sex, race/ethnicity, age, risk level or supervision type?"
)
k = ctx.min_cell_size
HEADLINE = [
    ("referral_completion_rate", "Referral completion"),
    ("compliance_rate", "Supervision compliance"),
    ("program_completion_rate", "Program completion"),
    ("recidivism_rearrest_12m", "12-month rearrest"),
]
if ctx.tables.reintegration_checks.height:  # contract version 2: employment and housing when recorded
    HEADLINE += [("employment_rate_12m", "Employed at 12 months"),
                 ("stable_housing_rate_12m", "Stably housed at 12 months")]
# Each measure's rows and view (every dimension below) computed together (docs/performance.md).
page = ctx.page_metrics([m for m, _ in HEADLINE], views=[m for m, _ in HEADLINE])
frame = page.frame
# dimension -> (label, Filters field, values)
races = sorted(ctx.tables.participants.get_column("race_ethnicity").drop_nulls().unique().to_list())
DIMENSIONS: dict[str, tuple[str, list[str | None]]] = {
    "sex": ("Sex", [*SEXES, None]),
    "race_ethnicity": ("Race/ethnicity", [*races, None]),
    "age_band": ("Age band", [*AGE_BAND_LABELS, None]),
    "risk_level": ("Risk level", list(RISK_LEVELS)),
    "supervision_type": ("Supervision type", list(SUPERVISION_TYPES)),
}
dimension = url_state.choice(  # in the link as ?by=...
    st.segmented_control, "Break down by", list(DIMENSIONS), param="by", key="equity_dimension", default="sex",
    format_func=lambda d: DIMENSIONS[d][0],
) or "sex"
label, values = DIMENSIONS[dimension]


def rows_for(metric_id: str) -> pl.DataFrame:
    """One row per value of the dimension, from the engine's breakdown (participant filters already applied)."""
    return views.metric_rows(page.breakdown(metric_id, (dimension,)), metric_id, (dimension,))


names: dict[str | None, str] = {v: ("Not recorded" if v is None else views.humanise(v) if dimension != "race_ethnicity" else v) for v in values}
tabs = url_state.tabs([m_label for _, m_label in HEADLINE], param="measure", key="equity_measure")
url_state.show_problems()
for tab, (metric_id, m_label) in zip(tabs, HEADLINE):
    with tab:
        overall = views.overall_row(frame, metric_id)
        rows = views_trends.ratio_rows(rows_for(metric_id), overall)
        if rows.height == 0:
            st.info("No group has data for this measure under these filters.")
            continue
        data = views.chart_frame(rows, category=dimension, labels=names)
        chart = charts.rate_bars(
            data, title=views.range_title(m_label, rows.iter_rows(named=True), names, dimension),
            subtitle=f"By {label.lower()}; dashed line: everyone ({views.display_value(overall, 'rate', k)}). "
            "n = denominator of each group.",
            category_title=label, value_title=f"{m_label} rate",
            reference=None if overall is None else overall.get("value"), reference_label="Everyone", min_cell_size=k,
        )
        table = views.metric_table(rows, key_titles={dimension: label}, key_labels={dimension: names},
                                   unit="rate", min_cell_size=k).with_columns(
            pl.Series("Ratio to overall", [
                views.suppression_label(k) if r["suppressed"] else ("—" if r["ratio"] is None else f"{r['ratio']:.2f}")
                for r in rows.iter_rows(named=True)
            ], dtype=pl.String)
        )
        page_downloads.show_chart(chart, data, key=f"equity_{metric_id}_{dimension}", metric_ids=[metric_id])
        download = export_page_tables.rows_table(
            rows, key_titles={dimension: label}, key_labels={dimension: names}, unit="rate",
            extra={"Ratio to overall": rows.get_column("ratio").to_list()},
        )
        page_downloads.show_table(table, download, key=f"equity_{metric_id}_{dimension}_table",
                                  title=f"{m_label} by {label.lower()}", metric_ids=[metric_id])
st.caption("A ratio above 1 means the group's rate is higher than everyone's; for rearrest, higher is worse. "
           "Groups are compared descriptively: differences may reflect risk mix, not treatment.")
