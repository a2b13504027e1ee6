"""The dashboard pages under Streamlit's AppTest, on the sample extract.

For every page, without and with filters (set through the URL, as a shared
link would): no exception, no error box, and the numbers shown equal the
metric engine's for the same filters — tiles and tables compared as text
(formatted by the same ``views`` helpers), chart data compared number by
number. Also: filters survive page switches, and the empty, schema-less
and unreachable databases give a page that says what to do.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import app_links, app_state, page_list, page_style, store, views, views_evaluation, views_trends, worklist
from dashboard.contract import TABLE_NAMES
from dashboard.evaluation import evaluate
from dashboard.metrics.breakdowns import metric_breakdown
from dashboard.metrics.engine import compute_metrics, participant_counts, published
from dashboard.metrics.tables import Filters, Tables, load_tables

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "streamlit_app.py")
SAMPLE = REPO / "sample_data"
# The director pages whose numbers are checked against the engine here (dashboard/page_list.py declares
# every page once; operations pages are checked in test_operations_pages.py, data quality in
# test_stewardship_page.py).
PAGES = page_list.paths("outcomes")
OVERVIEW = "pages/overview.py"
COMPLIANCE = "pages/compliance.py"
URL_FILTERS = {"program": "P01", "cohort": "pilot", "start": "2025-01-01"}
FILTERS = Filters(program_ids=("P01",), cohorts=("pilot",), start=dt.date(2025, 1, 1))
K = 11


def build_sample_database(path: Path) -> str:
    """The sample extract loaded the way users load it (validated, audited)."""
    url = f"duckdb:///{path}"
    engine = store.make_engine(url)
    try:
        from dashboard.ingest import load_extract

        load_extract(SAMPLE, engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def sample_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_sample_database(tmp_path_factory.mktemp("dash") / "sample.duckdb")


@pytest.fixture(scope="session")
def tables(sample_url: str) -> Tables:
    engine = store.make_engine(sample_url)
    try:
        return load_tables(engine)
    finally:
        engine.dispose()


@pytest.fixture
def use_db(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    def point(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)

    yield point


def run_page(page: str, params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    if page != OVERVIEW:
        at.switch_page(page)
        at.run()
    return at


def _blocks(node: object) -> Iterator[object]:
    for child in getattr(node, "children", {}).values():
        yield child
        yield from _blocks(child)


def table_by_key(at: AppTest, key: str) -> pl.DataFrame:
    """The table a page drew under ``key`` (``page_downloads.show_table`` / ``page_style.table``), found by its key.

    Tables sit in a container keyed ``table_<key>``; its first dataframe is the table.
    """
    element = _keyed(at, f"{page_style.TABLE_KEY_PREFIX}{key}", "dataframe")
    return pl.from_pandas(element.value)  # type: ignore[attr-defined]


def _keyed(at: AppTest, key: str, element_type: str) -> object:
    for node in [*_blocks(at.main), *_blocks(at.sidebar)]:
        if str(getattr(getattr(node, "proto", None), "id", "")).endswith(f"-{key}"):
            found = [n for n in _blocks(node) if getattr(n, "type", "") == element_type]
            assert found, f"the container {key!r} holds no {element_type}"
            return found[0]
    raise AssertionError(f"no {element_type} keyed {key!r} on the page")


def chart_by_key(at: AppTest, key: str) -> list[pl.DataFrame]:
    """The datasets of the chart a page drew with ``page_downloads.show_chart(..., key=key)``."""
    return _element_frames(_keyed(at, f"chart_{key}", "vega_lite_chart"))


def _element_frames(element: object) -> list[pl.DataFrame]:
    spec = json.loads(element.proto.spec)  # type: ignore[attr-defined]
    frames = [pl.from_arrow(pa.ipc.open_stream(d.data.data).read_all())
              for d in element.proto.datasets]  # type: ignore[attr-defined]
    frames += [pl.DataFrame(rows, infer_schema_length=None) for rows in spec.get("datasets", {}).values() if rows]
    return frames  # type: ignore[return-value]


def chart_frames(at: AppTest) -> list[tuple[str, list[pl.DataFrame]]]:
    """(title, datasets) of every Vega-Lite chart on the page."""
    out = []
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        title = spec.get("title", {}).get("text", "") if isinstance(spec.get("title"), dict) else ""
        if isinstance(title, list):  # a long title wrapped into lines: the reader sees them joined
            title = " ".join(title)
        frames = [pl.from_arrow(pa.ipc.open_stream(d.data.data).read_all()) for d in element.proto.datasets]
        # Specs sent with their data inline (st.vega_lite_chart of a dict) carry it in "datasets".
        frames += [pl.DataFrame(rows, infer_schema_length=None) for rows in spec.get("datasets", {}).values()
                   if rows]
        out.append((title, frames))
    return out


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert_no_participant_rows(at)


def assert_no_participant_rows(at: AppTest) -> None:
    """Aggregates only: no table or chart carries a participant (or any record) identifier."""
    record_ids = {"participant_id", "referral_id", "event_id", "violation_id", "contact_id"}
    for table in at.dataframe:
        assert not record_ids & {str(c) for c in table.value.columns}, list(table.value.columns)
    for title, frames in chart_frames(at):
        for frame in frames:
            assert not record_ids & set(frame.columns), (title, frame.columns)


def assert_suppressed_rows_carry_no_numbers(at: AppTest) -> None:
    for title, frames in chart_frames(at):
        for frame in frames:
            if "suppressed" not in frame.columns:
                continue
            hidden = frame.filter(pl.col("suppressed"))
            for column in ("value", "ci_low", "ci_high", "numerator", "denominator", "count"):
                if column in hidden.columns:
                    assert hidden[column].null_count() == hidden.height, (title, column)


def engine_metrics(tables: Tables, filters: Filters) -> pl.DataFrame:
    return published(compute_metrics(tables, filters, min_cell_size=K))


def published_pairs(rows: pl.DataFrame) -> list[tuple[float, int]]:
    """(value, denominator) of each published row, rounded, for order-free comparison."""
    return sorted(
        (round(r["value"], 9), int(r["denominator"]))
        for r in rows.iter_rows(named=True)
        if not r["suppressed"] and r["value"] is not None
    )


def chart_pairs(frame: pl.DataFrame) -> list[tuple[float, int]]:
    return sorted(
        (round(r["value"], 9), int(r["denominator"]))
        for r in frame.iter_rows(named=True)
        if not r["suppressed"] and r["value"] is not None
    )


def chart_with(at: AppTest, title_part: str) -> pl.DataFrame:
    for title, frames in chart_frames(at):
        if title_part in title:
            return frames[0]
    raise AssertionError(f"no chart titled with {title_part!r}: {[t for t, _ in chart_frames(at)]}")


# --- pure filter helpers -------------------------------------------------------------


def test_filters_round_trip_through_url_parameters() -> None:
    filters, problems = app_links.filters_from_params(
        {"program": ["P01", "P02"], "cohort": ["pilot"], "risk": ["high,low"], "start": ["2025-01-01"],
         "as_of": ["2026-03-31"]}
    )
    assert problems == []
    assert filters == Filters(program_ids=("P01", "P02"), cohorts=("pilot",), risk_levels=("high", "low"),
                              start=dt.date(2025, 1, 1), as_of=dt.date(2026, 3, 31))
    assert app_links.filters_from_params(app_links.params_from_filters(filters))[0] == filters


def test_bad_url_values_are_reported_not_raised() -> None:
    filters, problems = app_links.filters_from_params(
        {"cohort": ["pilot", "control"], "start": ["2025/01/01"], "end": ["2024-01-01"]}
    )
    assert filters.cohorts == ("pilot",) and filters.start is None and filters.end == dt.date(2024, 1, 1)
    assert any("control" in p for p in problems) and any("2025/01/01" in p for p in problems)
    _, problems = app_links.filters_from_params({"start": ["2025-06-01"], "end": ["2025-01-01"]})
    assert any("period ignored" in p for p in problems)


# --- every page, with and without filters ------------------------------------------------


@pytest.mark.parametrize("with_filters", [False, True], ids=["all", "filtered"])
@pytest.mark.parametrize("page", PAGES)
def test_page_runs_and_shows_engine_numbers(
    page: str, with_filters: bool, sample_url: str, tables: Tables, use_db
) -> None:
    use_db(sample_url)
    at = run_page(page, URL_FILTERS if with_filters else None)
    assert_clean(at)
    assert_suppressed_rows_carry_no_numbers(at)
    filters = FILTERS if with_filters else Filters()
    # filters stay in the URL on every page
    if with_filters:
        assert {k: at.query_params[k] for k in URL_FILTERS} == URL_FILTERS
    # data status line on every page
    assert any("Data as of" in m.value for m in at.markdown)
    frame = engine_metrics(tables, filters)
    check = CHECKS[page]
    check(at, tables, filters, frame)


def _check_overview(at: AppTest, tables: Tables, filters: Filters, frame: pl.DataFrame) -> None:
    shown = {m.label: m.value for m in at.metric}
    counts = published(participant_counts(tables, filters, min_cell_size=K))
    assert shown["Enrolled"] == views.tile_value(views.overall_row(counts, "participants_enrolled"), "count", K)
    assert shown["Active"] == views.tile_value(views.overall_row(counts, "participants_active"), "count", K)
    for metric_id, label in (
        ("referral_completion_rate", "Referral completion"),
        ("compliance_rate", "Compliance"),
        ("program_completion_rate", "Program completion"),
        ("recidivism_rearrest_12m", "Rearrest (12 mo)"),
    ):
        assert shown[label] == views.tile_value(views.overall_row(frame, metric_id), "rate", K)
    # Unfiltered, every tile shows a change: the sample publishes every measure in recent quarters (under
    # filters a quarter may be suppressed, and then no change is shown).
    deltas = {m.label: m.proto.delta for m in at.metric}
    assert filters != Filters() or all(deltas[label] for label in ("Enrolled", "Active", "Referral completion", "Compliance",
                                           "Program completion", "Rearrest (12 mo)")), deltas
    by_program = table_by_key(at, "overview_by_program")
    expected = views_evaluation.wide_metric_table(
        frame, [("referral_completion_rate", "Referral completion", "rate"), ("compliance_rate", "Supervision compliance", "rate"),
                ("program_completion_rate", "Program completion", "rate"), ("recidivism_rearrest_12m", "12-month rearrest", "rate")],
        key="program_id", key_title="Program", names=_program_names(tables), min_cell_size=K,
    )
    assert by_program.equals(expected)
    # The sample has reintegration checks: employment and housing at 12 months beside the rest.
    for metric_id, label in (("employment_rate_12m", "Employed at 12 months"),
                             ("stable_housing_rate_12m", "Stably housed at 12 months"),
                             ("reintegration_check_coverage_12m", "Check coverage at 12 months")):
        assert shown[label] == views.tile_value(views.overall_row(frame, metric_id), "rate", K)
    pilot_vs = chart_with(at, "Employed at 12 months")
    expected_rows = pl.concat([views.metric_rows(frame, m, ("cohort",)) for m in (
        "employment_rate_12m", "stable_housing_rate_12m", "reintegration_check_coverage_12m")])
    assert chart_pairs(pilot_vs) == published_pairs(expected_rows)


def _program_names(tables: Tables) -> dict[str, str]:
    return dict(tables.programs.select("program_id", "program_name").iter_rows())


def _agency_names(tables: Tables) -> dict[str, str]:
    return dict(tables.agencies.select("agency_id", "agency_name").iter_rows())


def _check_evaluation(at: AppTest, tables: Tables, filters: Filters, frame: pl.DataFrame) -> None:
    evaluation = views_evaluation.evaluation_within_view(evaluate(tables, filters, min_cell_size=K), frame, None)
    rates = _with_column(chart_by_key(at, "evaluation_rearrest_rates"), "series")  # rearrest by window and cohort
    expected = views_evaluation.evaluation_rate_frame(evaluation, "rearrest")
    assert chart_pairs(rates) == chart_pairs(expected)
    programs = list(filters.program_ids) or sorted(tables.programs["program_id"].to_list())
    names = _program_names(tables)
    per_program = [
        (names[p], views_evaluation.evaluation_within_view(
            evaluate(tables, Filters(**{**filters.__dict__, "program_ids": ()}), program_id=p, min_cell_size=K),
            frame, p))
        for p in programs
    ]
    forest = _with_column(chart_by_key(at, "evaluation_programs_difference"), "value")
    assert forest["value"].to_list() == views_evaluation.programs_difference_frame(per_program)["value"].to_list()
    summary = table_by_key(at, "evaluation_programs_summary")
    assert summary.equals(views_evaluation.programs_summary_table(per_program))
    windows = table_by_key(at, "evaluation_windows")
    assert windows.equals(views_evaluation.evaluation_windows_table(
        evaluation, {"rearrest": "Rearrest", "reconviction": "Reconviction", "reincarceration": "Reincarceration",
                     "employment": "Employed", "stable_housing": "Stably housed"}, K))
    # Employment and stable housing (the sample has reintegration checks): rates by window and cohort.
    employed = chart_with(at, "Employed at 12 months")
    assert chart_pairs(employed) == chart_pairs(views_evaluation.evaluation_rate_frame(evaluation, "employment"))
    baseline = table_by_key(at, "evaluation_baseline")
    from dashboard.evaluation import baseline_share_counts

    counts = baseline_share_counts(tables, filters)
    assert baseline.equals(views_evaluation.baseline_table(evaluation, K, counts))
    # No share beside the cohort's N gives back a count of 1 to K - 1 (a suppressed entry shows none).
    entire = {b["covariate"] for b in evaluation["baseline"] if b["suppressed"]}
    for covariate, by_cohort in counts.items():
        for cohort, (count, _) in by_cohort.items():
            if 1 <= count <= K - 1 and covariate not in entire:
                row = baseline.filter(pl.col("Covariate") == views_evaluation.COVARIATE_WORDS[covariate]).row(0, named=True)
                assert row[cohort.capitalize()] == views_evaluation.share_withheld_text(K)


def _with_column(frames: list[pl.DataFrame], column: str) -> pl.DataFrame:
    return next(f for f in frames if column in f.columns)


def _check_recidivism(at: AppTest, tables: Tables, filters: Filters, frame: pl.DataFrame) -> None:
    expected = pl.concat([views.metric_rows(frame, f"recidivism_rearrest_{w}m", ("cohort",)) for w in (6, 12, 24, 36)])
    rates = chart_by_key(at, "recidivism_rearrest_by_window")[0]
    assert chart_pairs(rates) == published_pairs(expected)


def _check_referrals(at: AppTest, tables: Tables, filters: Filters, frame: pl.DataFrame) -> None:
    from dashboard.metrics.engine import referral_counts

    made = views.overall_row(published(referral_counts(tables, filters, min_cell_size=K)), "referrals_made")
    funnel = {r["stage"]: r for r in _with_column(chart_by_key(at, "referrals_funnel"), "stage").iter_rows(named=True)}
    assert funnel["Referrals made"]["count"] == (None if made["suppressed"] else int(made["denominator"]))
    completed = views.overall_row(frame, "referral_completion_rate")
    assert funnel["Completed"]["count"] == (None if completed["suppressed"] else completed["numerator"])
    rows = views.metric_rows(frame, "referral_completion_rate", ("agency_id",))
    assert chart_pairs(chart_with(at, "Referral completion")) == published_pairs(rows)
    by_service = views.metric_rows(
        published(metric_breakdown(tables, filters, "referral_completion_rate", ["service_type"], min_cell_size=K)),
        "referral_completion_rate", ("service_type",),
    )
    if by_service.height:
        assert chart_pairs(chart_with(at, "Completion")) == published_pairs(by_service)
    from dashboard.metrics import partnerships as P

    ages = P.published_counts(P.open_referrals_by_age(tables, filters, min_cell_size=K))
    total = ages.filter(pl.col("level") == "total").row(0, named=True)
    title, frames = _chart_titled(at, "referrals still open")
    assert title.startswith(views_trends.count_text(total["count"], total["suppressed"], K) + " referrals still open")
    names = _agency_names(tables)
    assert _count_cells(_with_column(frames, "series"), ("category", "series")) == {
        (names[r["provider_agency_id"]], f"{r['age_band']} days"): r["count"]
        for r in ages.filter(pl.col("level") == "provider_band").iter_rows(named=True) if not r["suppressed"]
    }


def _check_compliance(at: AppTest, tables: Tables, filters: Filters, frame: pl.DataFrame) -> None:
    rows = views.metric_rows(frame, "compliance_rate", ("agency_id",))
    assert chart_pairs(chart_by_key(at, "compliance_by_agency")[0]) == published_pairs(rows)
    violations = views.metric_rows(frame, "violation_rate_per_100_pm", ("agency_id",))
    shown = chart_with(at, "overall")
    assert [round(v, 9) for v in sorted(shown.filter(~pl.col("suppressed"))["value"].drop_nulls())] == [
        round(v, 9) for v in sorted(violations.filter(~pl.col("suppressed"))["value"].drop_nulls())
    ]


def _check_partnerships(at: AppTest, tables: Tables, filters: Filters, frame: pl.DataFrame) -> None:
    agreements = tables.agreements
    if filters.program_ids:
        agreements = agreements.filter(pl.col("program_id").is_in(list(filters.program_ids)))
    as_of = dt.date(2026, 6, 30)  # manifest.json of the sample extract
    status = views_trends.agreement_status(agreements, as_of)["status"].to_list()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Expired"] == str(status.count("Expired"))
    assert shown["Expiring within 90 days"] == str(status.count("Expiring within 90 days"))
    assert shown["In force"] == str(status.count("In force") + status.count("Expiring within 90 days"))
    # The partnership views shown equal the engine's (dashboard.metrics.partnerships) for the same filters.
    from dashboard.metrics import partnerships as P

    counts = P.agreement_status_counts(tables, filters)
    totals = {r["status"]: r["count"] for r in counts.filter(pl.col("level") == "total").iter_rows(named=True)}
    assert shown["Expired"] == f"{totals[P.EXPIRED]:,}" and shown["Expiring within 90 days"] == f"{totals[P.EXPIRING]:,}"
    by_program = _with_column(_chart_titled(at, "agreements in force")[1], "series")
    expected_programs = counts.filter(pl.col("level") == "program")
    assert _count_cells(by_program, ("category", "series")) == {
        (_program_names(tables)[r["program_id"]], r["status"]): r["count"] for r in expected_programs.iter_rows(named=True)
    }
    names = _agency_names(tables)
    flow = P.published_counts(P.referral_flow(tables, filters, min_cell_size=K))
    heat = next(f for _, frames in chart_frames(at) for f in frames if "detail" in f.columns)
    pairs = flow.filter(pl.col("level") == "pair")
    assert heat.height == pairs.height
    assert _count_cells(heat, ("row", "column")) == {
        (names[r["referring_agency_id"]], names[r["provider_agency_id"]]): r["count"]
        for r in pairs.iter_rows(named=True) if not r["suppressed"]
    }
    assert heat.filter(pl.col("suppressed")).height == pairs.filter(pl.col("suppressed")).height
    uncovered = P.published_counts(P.referrals_without_agreement(tables, filters, min_cell_size=K))
    providers = uncovered.filter(pl.col("level") == "provider")
    listing = next(pl.from_pandas(d.value) for d in at.dataframe
                   if "Referrals without an agreement in force" in d.value.columns)
    assert sorted(zip(listing["Provider agency"].to_list(), listing["Referrals without an agreement in force"].to_list())) \
        == sorted((names[r["provider_agency_id"]], views_trends.count_text(r["count"], r["suppressed"], K))
                  for r in providers.iter_rows(named=True))
    grid = _chart_titled(at, "no agreement in force")
    cells = uncovered.filter(pl.col("level") == "program_provider")
    assert _count_cells(_with_column(grid[1], "row"), ("row", "column")) == {
        (names[r["provider_agency_id"]], _program_names(tables)[r["program_id"]]): r["count"]
        for r in cells.iter_rows(named=True) if not r["suppressed"]
    }


def _count_cells(frame: pl.DataFrame, keys: tuple[str, ...]) -> dict[tuple[str, ...], int]:
    """Published (key, count) cells of a count chart's data."""
    return {tuple(r[k] for k in keys): r["count"] for r in frame.iter_rows(named=True)
            if not r["suppressed"] and r["count"] is not None}


def _chart_titled(at: AppTest, title_part: str) -> tuple[str, list[pl.DataFrame]]:
    for title, frames in chart_frames(at):
        if title_part in title:
            return title, frames
    raise AssertionError(f"no chart titled with {title_part!r}: {[t for t, _ in chart_frames(at)]}")


def _check_policing(at: AppTest, tables: Tables, filters: Filters, frame: pl.DataFrame) -> None:
    overall = views.overall_row(frame, "police_diversion_rate")
    shown = {m.label: m.value for m in at.metric}
    assert shown["Diverted from arrest"] == views.display_value(overall, "rate", K)
    rows = views.metric_rows(frame, "police_diversion_rate", ("agency_id",))
    assert chart_pairs(chart_by_key(at, "policing_diversion_by_agency")[0]) == published_pairs(rows)
    from dashboard.metrics import partnerships as P

    co_overall = views.overall_row(published(P.co_responder_share(tables, filters, min_cell_size=K)), P.CO_RESPONDER_SHARE)
    assert shown["Co-responder share"] == views.display_value(co_overall, "rate", K)
    co_rows = views.metric_rows(published(P.co_responder_share(tables, filters, ["agency_id"], min_cell_size=K)),
                                P.CO_RESPONDER_SHARE, ("agency_id",))
    assert chart_pairs(_with_column(_chart_titled(at, "Co-responder share")[1], "value")) == published_pairs(co_rows)
    by_quarter = views_trends.quarter_trend(views.metric_rows(
        published(P.co_responder_share(tables, filters, ["quarter"], min_cell_size=K)), P.CO_RESPONDER_SHARE, ("quarter",)
    ), series=None)
    trend = _with_column(_chart_titled(at, "Co-responder share (all agencies)")[1], "period")
    assert sorted(zip(trend["period"].to_list(), trend["value"].to_list())) == sorted(
        zip(by_quarter["period"].to_list(), by_quarter["value"].to_list())
    )


def _check_equity(at: AppTest, tables: Tables, filters: Filters, frame: pl.DataFrame) -> None:
    rows = views.metric_rows(
        published(metric_breakdown(tables, filters, "referral_completion_rate", ["sex"], min_cell_size=K)),
        "referral_completion_rate", ("sex",),
    )
    assert chart_pairs(chart_by_key(at, "equity_referral_completion_rate_sex")[0]) == published_pairs(rows)
    table = table_by_key(at, "equity_referral_completion_rate_sex_table")
    assert table["Rate"].to_list() == [views.display_value(r, "rate", K) for r in rows.iter_rows(named=True)]


def _check_status(at: AppTest, tables: Tables, filters: Filters, frame: pl.DataFrame) -> None:
    runs = table_by_key(at, "data_status_runs")
    assert runs.height == tables.load_runs.height
    # Table names in words (from the contract), counts with thousands separators.
    counts = table_by_key(at, "data_status_counts")
    assert counts.columns == ["Table", "Rows"]
    assert dict(counts.iter_rows()) == {
        worklist.table_label(name): f"{getattr(tables, name).height:,}" for name in TABLE_NAMES
    }
    files = table_by_key(at, "data_status_files")
    # One load of the sample extract: every file's loaded rows are the table's rows.
    assert {r["Table"]: r["Loaded"] for r in files.iter_rows(named=True)} == {
        worklist.table_label(name): f"{getattr(tables, name).height:,}" for name in TABLE_NAMES
        if worklist.table_label(name) in files["Table"].to_list()
    }
    assert any("," in v for v in counts["Rows"].to_list())  # the sample's larger tables: separators shown
    # no link from the page to itself
    assert not [link for link in at.get("page_link") if "data_status" in str(link.proto.page)]


def _check_reintegration(at: AppTest, tables: Tables, filters: Filters, frame: pl.DataFrame) -> None:
    assert tables.reintegration_checks.height > 0
    shown = {m.label: m.value for m in at.metric}
    for metric_id, label in (
        ("employment_rate_12m", "Employed at 12 months"),
        ("stable_housing_rate_12m", "Stably housed at 12 months"),
        ("reintegration_check_coverage_12m", "Check coverage at 12 months"),
    ):
        assert shown[label] == views.tile_value(views.overall_row(frame, metric_id), "rate", K)
    # First tab: employment by window and cohort, the engine's rows.
    expected = pl.concat([views.metric_rows(frame, f"employment_rate_{w}m", ("cohort",)) for w in (6, 12)])
    assert chart_pairs(chart_by_key(at, "reintegration_employment_rate_by_window")[0]) == published_pairs(expected)
    # Coverage beside every rate: the everyone-and-cohort table at 6 months.
    table = table_by_key(at, "reintegration_cohorts_6m")
    rates = [("employment_rate_6m", "Employed at 6 months"), ("stable_housing_rate_6m", "Stably housed at 6 months")]
    coverage = ("reintegration_check_coverage_6m", "Check coverage at 6 months")
    cohorts = views_trends.rates_with_coverage_table(frame, rates, coverage, by=("cohort",), key_titles={"cohort": "Cohort"},
                                              min_cell_size=K)
    everyone = views_trends.rates_with_coverage_table(frame, rates, coverage, by=(), key_titles={}, min_cell_size=K)
    assert table.columns == ["Cohort", *everyone.columns]
    assert table.row(0)[1:] == everyone.row(0)
    assert table.slice(1).equals(cohorts)
    # By program and agency at 12 months (expanded): every group the engine lists, coverage included.
    programs = views_trends.rates_with_coverage_table(
        frame, [("employment_rate_12m", "Employed at 12 months"), ("stable_housing_rate_12m",
                                                                   "Stably housed at 12 months")],
        ("reintegration_check_coverage_12m", "Check coverage at 12 months"), by=("program_id", "cohort"),
        key_titles={"program_id": "Program", "cohort": "Cohort"}, key_labels={"program_id": _program_names(tables)},
        min_cell_size=K,
    )
    assert any(pl.from_pandas(d.value).equals(programs) for d in at.dataframe)


CHECKS = {
    "pages/overview.py": _check_overview,
    "pages/pilot_evaluation.py": _check_evaluation,
    "pages/recidivism.py": _check_recidivism,
    "pages/referrals.py": _check_referrals,
    "pages/compliance.py": _check_compliance,
    "pages/partnerships.py": _check_partnerships,
    "pages/community_policing.py": _check_policing,
    "pages/equity.py": _check_equity,
    "pages/data_status.py": _check_status,
    "pages/reintegration.py": _check_reintegration,
}


def test_filters_survive_page_switches_and_widget_changes(sample_url: str, tables: Tables, use_db) -> None:
    use_db(sample_url)
    at = run_page(OVERVIEW, {"program": "P02"})
    assert at.multiselect(key="filter_program").value == ["P02"]
    at.multiselect(key="filter_risk").set_value(["high"]).run()
    assert at.query_params["risk"] == "high"
    at.switch_page("pages/compliance.py").run()
    assert_clean(at)
    assert at.query_params["program"] == "P02" and at.query_params["risk"] == "high"
    frame = engine_metrics(tables, Filters(program_ids=("P02",), risk_levels=("high",)))
    rows = views.metric_rows(frame, "compliance_rate", ("agency_id",))
    assert chart_pairs(chart_by_key(at, "compliance_by_agency")[0]) == published_pairs(rows)


# --- no data ----------------------------------------------------------------------


def _no_data_text(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [w.value for w in at.warning] + [e.value for e in at.error])


@pytest.mark.parametrize("page", [OVERVIEW, COMPLIANCE])
def test_empty_database_says_how_to_load(page: str, tmp_path: Path, use_db) -> None:
    engine = store.make_engine(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    store.create_schema(engine)
    engine.dispose()
    use_db(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    at = run_page(page)
    assert not at.exception
    text = _no_data_text(at)
    assert "no participants loaded" in text and "partnership-dashboard load DIR" in text


def test_database_without_tables_says_how_to_load(tmp_path: Path, use_db) -> None:
    use_db(f"duckdb:///{tmp_path / 'bare.duckdb'}")
    at = run_page(OVERVIEW)
    assert not at.exception
    text = _no_data_text(at)
    assert "has no dashboard tables yet" in text and "partnership-dashboard load DIR" in text


def test_unreachable_database_says_what_to_check(use_db) -> None:
    use_db("postgresql://postgres@127.0.0.1:9/nowhere")  # port 9 (discard): nothing listens
    at = run_page(OVERVIEW)
    assert not at.exception
    text = _no_data_text(at)
    assert "cannot open its database" in text and "DATABASE_URL" in text


# --- the same pages on PostgreSQL ------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_sample_url(postgres_url: str) -> str:
    """The sample extract loaded into the session's PostgreSQL database."""
    from dashboard.ingest import load_extract

    engine = store.make_engine(postgres_url)
    try:
        load_extract(SAMPLE, engine)
    finally:
        engine.dispose()
    return postgres_url


@pytest.mark.postgres
@pytest.mark.parametrize("page", ["pages/overview.py", "pages/compliance.py", "pages/pilot_evaluation.py"])
def test_pages_on_postgresql_show_the_same_numbers(page: str, postgres_sample_url: str, use_db) -> None:
    use_db(postgres_sample_url)
    at = run_page(page, URL_FILTERS)
    assert_clean(at)
    engine = store.make_engine(postgres_sample_url)
    try:
        tables = load_tables(engine)
    finally:
        engine.dispose()
    CHECKS[page](at, tables, FILTERS, engine_metrics(tables, FILTERS))


def test_bad_link_values_are_ignored_with_a_message(sample_url: str, use_db) -> None:
    use_db(sample_url)
    at = run_page(OVERVIEW, {"program": "NOPE", "cohort": "control", "start": "2025/01/01"})
    assert_clean(at)
    assert len(at.sidebar.warning) == 1  # one message lists everything ignored
    # The message is Markdown with every link value escaped; read it as the viewer does.
    warnings = re.sub(r"\\(.)", r"\1", at.sidebar.warning[0].value)
    assert "program=NOPE is not in the loaded data" in warnings
    assert "cohort=control is not one of pilot, comparison" in warnings
    assert "start=2025/01/01 is not a date written YYYY-MM-DD" in warnings
    assert at.multiselect(key="filter_program").value == []
    assert "program" not in at.query_params and "cohort" not in at.query_params


def test_a_failing_computation_gives_a_message_not_a_traceback(
    sample_url: str, use_db, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.metrics import breakdowns

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("breakdown exploded")

    monkeypatch.setattr(breakdowns, "metric_breakdown", broken)
    monkeypatch.setattr(breakdowns, "metric_view", broken)  # what the pages' breakdowns come from
    monkeypatch.setattr(breakdowns, "metrics_and_views", broken)  # a page's rows and views computed together
    use_db(sample_url)
    # An as-of date no other test uses, so nothing comes from the caches.
    at = run_page("pages/compliance.py", {"as_of": "2026-05-17"})
    assert not at.exception
    assert any("could not be computed" in e.value and "breakdown exploded" in e.value for e in at.error)


def test_year_periods_and_filter_words() -> None:
    context = app_state.PageContext(
        url="", status=app_state.DataStatus("ok", ""), tables=None,  # type: ignore[arg-type]
        filters=Filters(start=dt.date(2024, 3, 1), program_ids=("P01",), cohorts=("pilot",)),
        as_of=dt.date(2026, 6, 30), min_cell_size=K, program_names={"P01": "Safe Return"}, agency_names={},
    )
    # The user's period starts 2024-03-01: years 2024..2026, the first clipped to the period.
    assert context.periods("year", 8) == [
        ("2024", dt.date(2024, 3, 1), dt.date(2024, 12, 31)),
        ("2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    ]
    # Quarters up to the as-of date's quarter (2026 Q2), the last two.
    assert context.periods("quarter", 2) == [
        ("2026 Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("2026 Q2", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
    ]
    assert context.describe() == "program Safe Return; cohort Pilot; period 2024-03-01 to as-of"


@pytest.fixture(scope="module")
def version_1_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample's nine contract version 1 files only (no reintegration checks)."""
    import shutil

    from dashboard.contract import TABLES

    extract = tmp_path_factory.mktemp("v1") / "extract"
    extract.mkdir()
    for table in TABLES:
        if table.since == 1 and (SAMPLE / f"{table.name}.csv").exists():
            shutil.copy(SAMPLE / f"{table.name}.csv", extract / f"{table.name}.csv")
    (extract / "manifest.json").write_text('{"contract_version": 1, "as_of": "2026-06-30"}', encoding="utf-8")
    url = f"duckdb:///{extract.parent / 'v1.duckdb'}"
    engine = store.make_engine(url)
    try:
        from dashboard.ingest import load_extract

        load_extract(extract, engine)
    finally:
        engine.dispose()
    return url


def test_without_reintegration_checks_the_pages_say_so(version_1_url: str, use_db) -> None:
    use_db(version_1_url)
    at = run_page("pages/reintegration.py")
    assert_clean(at)
    assert any("No reintegration checks are loaded yet" in i.value for i in at.info)
    assert not at.metric
    overview = run_page(OVERVIEW)
    assert_clean(overview)
    assert "Employment and housing at 12 months" not in [h.value for h in overview.subheader]
    assert "Employed at 12 months" not in {m.label for m in overview.metric}


# --- a page's own view choices in the link (dashboard/url_state.py) ----------------------------


def _open_with_view(page: str, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    return at


def test_a_link_reopens_the_equity_breakdown_and_measure(sample_url: str, use_db) -> None:
    use_db(sample_url)
    at = _open_with_view("pages/equity.py", {"by": "race_ethnicity", "measure": "Supervision compliance"})
    assert_clean(at)
    assert at.segmented_control(key="equity_dimension").value == "race_ethnicity"
    assert at.session_state["equity_measure"] == "Supervision compliance"
    assert at.query_params["by"] == "race_ethnicity" and at.query_params["measure"] == "Supervision compliance"
    # the breakdown shown is the linked one
    table_by_key(at, "equity_compliance_rate_race_ethnicity_table")
    # changing the breakdown writes it back; the default leaves the link
    at.segmented_control(key="equity_dimension").set_value("sex").run()
    assert "by" not in at.query_params


def test_unknown_view_choices_in_a_link_give_one_message(sample_url: str, use_db) -> None:
    use_db(sample_url)
    at = _open_with_view("pages/equity.py", {"by": "eye_colour", "measure": "](javascript:alert(1))"})
    assert_clean(at)
    messages = [w.value for w in at.warning if w.value.startswith("Ignored from the link")]
    assert len(messages) == 1
    shown = re.sub(r"\\(.)", r"\1", messages[0])
    assert "by=eye_colour is not one of" in shown and "measure=](javascript:alert(1)) is not one of" in shown
    assert "](" not in messages[0]  # escaped: the value is text, never a link
    assert at.segmented_control(key="equity_dimension").value == "sex"
    assert "by" not in at.query_params and "measure" not in at.query_params
