"""Pilot evaluation: does the pilot cohort do better than the comparison group, and how sure are we?"""

from __future__ import annotations

import streamlit as st

from dashboard import (
    app_page,
    charts,
    charts_evaluation,
    export_page_tables,
    page_downloads,
    url_state,
    views,
    views_evaluation,
    views_trends,
)
from dashboard import text as safe_text

charts.set_theme(st.context.theme.type, st.get_option("theme.base"))  # legible in light and dark themes
ctx = app_page.page_context(
    "Pilot evaluation",
    "For each program: pilot against comparison on every recidivism measure, with intervals, tests, "
    "risk adjustment and baseline equivalence.",
)
k = ctx.min_cell_size
MEASURES = {"rearrest": "Rearrest", "reconviction": "Reconviction", "reincarceration": "Reincarceration"}

programs = list(ctx.filters.program_ids or sorted(ctx.program_names))
# Each program is evaluated under its own filter; a cell the page's own metrics withhold stays withheld.
# The page's own metrics rows are those the pooled evaluation checks its suppression against.
view_metrics = ctx.evaluation_metrics(None)
st.subheader("All programs at a glance: 12-month rearrest")
# The summary shows 12-month rearrest only: each program is evaluated for that measure's windows alone.
per_program = [(ctx.program_label(p),
                views_evaluation.evaluation_within_view(ctx.evaluation(p, ("rearrest",), ("windows",)), view_metrics, p))
               for p in programs]
summary = views_evaluation.programs_summary_table(per_program, measure="rearrest", window_months=12, min_cell_size=k)
differences = views_evaluation.programs_difference_frame(per_program, measure="rearrest", window_months=12)
chart = charts_evaluation.difference_chart(
    differences, title=views_evaluation.programs_difference_title(summary),
    subtitle="Pilot minus comparison, each program against its own comparison cohort; whiskers: 95% interval. "
    "Left of 0: pilot lower.", category_title="Program", width=420,
)
page_downloads.show_chart(chart, differences, key="evaluation_programs_difference", metric_ids=["recidivism_rearrest_12m"])
page_downloads.show_table(
    summary, export_page_tables.programs_summary_table(per_program, summary.get_column("Reading").to_list(),
                                                   measure="rearrest", window_months=12),
    key="evaluation_programs_summary", title="12-month rearrest by program: pilot against comparison",
    metric_ids=["recidivism_rearrest_12m"],
)
st.caption("Each program's pilot cohort against its own comparison cohort. 'Significant' only when the two-sided "
           "z-test gives p < 0.05 and the 95% interval of the difference excludes 0.")

POOLED = ""  # every selected program pooled (the default: no parameter); never a program id, which is required
options = [POOLED, *programs]
chosen = url_state.choice(
    st.selectbox, "Program evaluated", options, param="evaluated", key="evaluation_program",
    format_func=lambda p: "All selected programs, pooled" if p == POOLED
    else f"{safe_text.label_text(ctx.program_label(p))} ({safe_text.label_text(p, 40)})",
)
url_state.show_problems()
program: str | None = None if chosen in (None, POOLED) else chosen
evaluation = views_evaluation.evaluation_within_view(ctx.evaluation(program), view_metrics, program)
scope = "all selected programs pooled" if program is None else ctx.program_label(program)
st.caption(f"Evaluated: {safe_text.markdown_text(scope)}; as of {evaluation['as_of']}.")

for measure, label in MEASURES.items():
    st.subheader(label)
    twelve = next((w for w in evaluation["windows"] if w["measure"] == measure and w["window_months"] == 12), None)
    reading = views.evaluation_reading(
        twelve or {"window_months": 12}, measure_label=label, min_cell_size=k, baseline=evaluation["baseline"]
    )
    st.markdown("\n".join(f"- {safe_text.markdown_full(sentence)}" for sentence in reading))
    left, right = st.columns(2)
    with left:
        rates = views_evaluation.evaluation_rate_frame(evaluation, measure)
        p12 = twelve["pilot"] if twelve else None
        c12 = twelve["comparison"] if twelve else None
        title = views.cohort_comparison_title(
            f"12-month {label.lower()}",
            None if not p12 else {"value": p12.get("rate"), "suppressed": p12.get("suppressed")},
            None if not c12 else {"value": c12.get("rate"), "suppressed": c12.get("suppressed")},
        )
        chart = charts.rate_bars(
            rates, title=title, subtitle="Eligible people only: follow-up window ended by the as-of date",
            category_title="Follow-up window", value_title=f"{label} rate", min_cell_size=k, width=380,
        )
        page_downloads.show_chart(chart, rates, key=f"evaluation_{measure}_rates", width="stretch",
                                  metric_ids=[f"recidivism_{measure}_{w}m" for w in (6, 12, 24, 36)])
    with right:
        diffs = views_evaluation.evaluation_difference_frame(evaluation, measure)
        chart = charts_evaluation.difference_chart(
            diffs, title=views.difference_title(label, twelve),
            subtitle="Pilot minus comparison. Dot: difference; whiskers: 95% interval (Newcombe). Left of 0: pilot lower.",
            width=360,
        )
        page_downloads.show_chart(chart, diffs, key=f"evaluation_{measure}_difference", width="stretch",
                                  metric_ids=[f"recidivism_{measure}_12m"])

REINTEGRATION = {"employment": "Employed", "stable_housing": "Stably housed"}
for measure, label in REINTEGRATION.items():
    if not any(w["measure"] == measure for w in evaluation["windows"]):
        continue  # no reintegration checks loaded
    st.subheader(f"{label} (reintegration checks)")
    metric = "employment_rate" if measure == "employment" else "stable_housing_rate"
    twelve = next((w for w in evaluation["windows"] if w["measure"] == measure and w["window_months"] == 12), None)
    reading = views.evaluation_reading(
        twelve or {"window_months": 12}, measure_label=label, min_cell_size=k, baseline=evaluation["baseline"]
    )
    st.markdown("\n".join(f"- {sentence}" for sentence in reading))
    coverage_frame = ctx.evaluation_metrics(program)  # computed with the evaluation's own metrics rows
    coverage_rows = views.metric_rows(coverage_frame, "reintegration_check_coverage_12m",
                                      ("cohort",) if program is None else ("program_id", "cohort"))
    coverage = {r["cohort"]: r for r in coverage_rows.iter_rows(named=True) if r["cohort"] is not None}
    coverage_words = ", ".join(
        f"{views.cohort_label(c).lower()} {views.display_value(coverage.get(c), 'rate', k)}"
        for c in ("pilot", "comparison")
    )
    left, right = st.columns(2)
    with left:
        rates = views_evaluation.evaluation_rate_frame(evaluation, measure)
        p12 = twelve["pilot"] if twelve else None
        c12 = twelve["comparison"] if twelve else None
        title = views.cohort_comparison_title(
            f"{label} at 12 months",
            None if not p12 else {"value": p12.get("rate"), "suppressed": p12.get("suppressed")},
            None if not c12 else {"value": c12.get("rate"), "suppressed": c12.get("suppressed")},
        )
        chart = charts.rate_bars(
            rates, title=title,
            subtitle=["People whose window ended by the as-of date and who have a status at its end.",
                      f"Check coverage at 12 months: {coverage_words}."],
            category_title="Months after release or enrollment", value_title=f"{label} (rate)",
            min_cell_size=k, width=380,
        )
        page_downloads.show_chart(chart, rates, key=f"evaluation_{measure}_rates", width="stretch",
                                  metric_ids=[f"{metric}_6m", f"{metric}_12m", "reintegration_check_coverage_12m"])
    with right:
        diffs = views_evaluation.evaluation_difference_frame(evaluation, measure)
        chart = charts_evaluation.difference_chart(
            diffs, title=views.difference_title(label, twelve),
            subtitle="Pilot minus comparison. Dot: difference; whiskers: 95% interval (Newcombe). Right of 0: "
            "pilot higher (better).",
            width=360,
        )
        page_downloads.show_chart(chart, diffs, key=f"evaluation_{measure}_difference", width="stretch",
                                  metric_ids=[f"{metric}_12m"])
    note = views_trends.low_coverage_note(views.overall_row(coverage_frame, "reintegration_check_coverage_12m"), 12)
    if note:
        st.warning(note, icon=":material/warning:")

st.subheader("Every measure and window")
table = views_evaluation.evaluation_windows_table(evaluation, MEASURES | REINTEGRATION, k)
page_downloads.show_table(
    table, export_page_tables.evaluation_windows_table(evaluation, MEASURES | REINTEGRATION),
    key="evaluation_windows", title="Pilot against comparison: every measure and window",
)
st.caption("p-value: two-sided pooled two-proportion z-test. Risk-adjusted: both cohorts standardised to the "
           "risk-level mix of the eligible people of both cohorts (no interval).")

def _logrank(measure: str) -> dict:
    return next((t for t in evaluation["logrank"] if t["measure"] == measure), {})


st.subheader("Time to first event (Kaplan–Meier)")
page_downloads.show_survival_tabs(
    evaluation, MEASURES, key_prefix="evaluation",
    title=lambda m: f"Share without {MEASURES[m].lower()} over time, by cohort",
    note=lambda m: f"Log-rank test {views.p_text(_logrank(m).get('p_value'))}. Read at 90, 180, 365 and "
                   "730 days; whiskers: 95% interval.",
    empty=lambda m: f"No survival estimate can be shown for {MEASURES[m].lower()} under these filters.",
)

st.subheader("Baseline equivalence (What Works Clearinghouse)")
baseline_counts = ctx.baseline_counts(program)
page_downloads.show_table(
    views_evaluation.baseline_table(evaluation, k, baseline_counts),
    export_page_tables.baseline_table(evaluation, k, baseline_counts),
    key="evaluation_baseline", title="Baseline equivalence of the pilot and comparison cohorts",
)
st.caption("Computed over the same people as the survival analysis. Equivalent: |effect| ≤ 0.05; adjustment "
           "needed: ≤ 0.25; not equivalent: above. A share that, beside the cohort's N, would give back a count of "
           f"fewer than {k} people is withheld, with its effect size.")
st.info(views.LIMITATIONS_NOTE, icon=":material/info:")
