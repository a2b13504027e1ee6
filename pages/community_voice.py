"""Community voice: how residents, participants, staff and partners rate trust, safety, satisfaction and coordination."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import app_page, charts, export_page_tables, page_downloads, url_state, views, views_trends
from dashboard import operations_views as ov

charts.set_theme(st.context.theme.type, st.get_option("theme.base"))  # legible in light and dark themes
ctx = app_page.page_context(
    "Community voice",
    "Do residents, participants, staff and partners trust the partnership, feel safe and see it working together?",
)
k = ctx.min_cell_size
st.info(ov.PARTICIPANT_FILTERS_NOTE, icon=":material/filter_alt_off:")
if not ctx.has_rows("surveys"):
    st.info("No survey answers are loaded. They come from the optional file `surveys` of an extract "
            "(data contract version 2).")
    st.stop()
METRICS = [f"survey_favourable_{q}" for q in ov.QUESTION_LABELS]
frame = ctx.metrics(METRICS)  # only what this page shows (docs/performance.md)

cols = st.columns(len(METRICS))
for col, metric in zip(cols, METRICS):
    overall = views.overall_row(frame, metric)
    col.metric(f"{ov.QUESTION_LABELS[ov.question_of(metric)]}: favourable", views.tile_value(overall, "rate", k),
               help=f"Answers scored 4 or 5 of 5. {views.display_n(overall)} answers (favourable / N); "
               "95% interval " + ("—" if overall is None or overall["suppressed"] else
                                  views.format_interval(overall["ci_low"], overall["ci_high"])) + ".")

st.subheader("Favourable answers by question")
questions = ov.survey_question_frame(frame, METRICS)
if questions.height:
    chart = charts.rate_bars(
        questions, title=views.range_title("Favourable answers", questions.rename({"category": "question"})
                                           .iter_rows(named=True), {}, "question"),
        subtitle="Share of answers scored 4 or 5 on the 1–5 scale (top-two box); whiskers: 95% interval; n = answers.",
        category_title="Question", value_title="Favourable share", min_cell_size=k,
    )
    page_downloads.show_chart(chart, questions, key="voice_by_question", metric_ids=METRICS)
else:
    st.info("No survey answers fall in this period for these filters.")

st.subheader("Who answers how, and over time")
left, right = st.columns(2)
question = url_state.choice(left.selectbox, "Question", list(ov.QUESTION_LABELS), param="question",
                            key="voice_question", format_func=lambda q: ov.QUESTION_LABELS[q])
by = url_state.choice(right.radio, "Break down by", list(ov.BREAKDOWN_TITLES), param="by", key="voice_by",
                      format_func=lambda b: ov.BREAKDOWN_TITLES[b], horizontal=True)
url_state.show_problems()
metric = f"survey_favourable_{question}"
names = ov.group_labels(by, ctx.program_names, ctx.agency_names)
trend = ctx.operations_view("survey_trend", by)
groups = ov.survey_group_frame(trend, metric, by, names)
overall = views.overall_row(frame, metric)
label = f"{ov.QUESTION_LABELS[question]}: favourable"
if groups.height:
    chart = charts.rate_bars(
        groups, title=views.range_title(label, groups.rename({"category": "group"}).iter_rows(named=True), {}, "group"),
        subtitle=f"By {ov.BREAKDOWN_TITLES[by].lower()}; dashed line: all answers "
        f"({views.display_value(overall, 'rate', k)}). n = answers.",
        category_title=ov.BREAKDOWN_TITLES[by], value_title="Favourable share",
        reference=None if overall is None or overall["suppressed"] else overall.get("value"),
        reference_label="All answers", min_cell_size=k,
    )
    page_downloads.show_chart(chart, groups, key=f"voice_{question}_by_{by}", metric_ids=[metric])
series = ov.survey_trend_frame(trend, metric, by, names)
if series.height:
    chart = charts.trend_chart(
        series, title=views_trends.trend_title(f"{label} (all answers)", series.filter(series["series"] == ov.ALL_RESPONSES)),
        subtitle=["Each quarter's answers on their own; band: 95% interval.",
                  "N per quarter in the tooltip."],
        value_title="Favourable share", series_title=ov.BREAKDOWN_TITLES[by], min_cell_size=k,
    )
    page_downloads.show_chart(chart, series, key=f"voice_{question}_trend_by_{by}", metric_ids=[metric])
with st.expander(f"{label} by {ov.BREAKDOWN_TITLES[by].lower()}, with N"):
    shown = ov.survey_table(trend, metric, by, names, k)
    whole_period = trend.filter((pl.col("metric") == metric) & pl.col("period").is_null())
    download = export_page_tables.labelled_rows(
        shown.get_column(ov.BREAKDOWN_TITLES[by]).to_list(), ov.BREAKDOWN_TITLES[by],
        list(whole_period.iter_rows(named=True)),
        {"Favourable share": ("value", 4), "95% CI low": ("ci_low", 4), "95% CI high": ("ci_high", 4),
         "Favourable answers": ("numerator", 0), "Answers (N)": ("denominator", 0)},
    )
    page_downloads.show_table(shown, download, key=f"voice_{question}_table_by_{by}", title=f"{label} by "
                              f"{ov.BREAKDOWN_TITLES[by].lower()}", metric_ids=[metric])
