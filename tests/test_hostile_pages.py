"""Hostile partner text and hand-edited links, on every page (AppTest) and in the exports.

The extract is the sample one with its names replaced by what a hostile or
careless partner could send: Markdown links and images (a tracking pixel, a
fake "log in again" link), bold, colours, icons, KaTeX, HTML, bare URLs and
e-mail addresses (GitHub autolinks), a line break, and a 2,000-character name.
A program with a comma in its id is added. Every page must show all of it as
text: the Markdown source of every element Streamlit renders as Markdown
holds only escaped forms, chart titles stay short, and the full name is kept
in tables. Links with a far-future as-of, thousands of values or a huge query
string give one message and a page that still draws.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest
from test_pages import PAGES, SAMPLE, assert_clean, run_page
from test_text import live_pieces

from dashboard import app_links, app_state, store, text
from dashboard.charts import TITLE_LIMIT

PIXEL = "![p](http://127.0.0.1:9/pixel.png) [Re-login here](http://127.0.0.1:9/login)"
STYLED = "**bold** :red[x] $x^2$ :material/home:"
HTML = "<img src=x onerror=alert(1)> <b>b</b>"
LONG = ("Very long program name with words " * 70)[:1999] + "."  # 2,000 characters
COMMA_NAME = "Comma program www.example.org a@b.org"
AGENCY = "[Agency](javascript:alert(1)) __u__ ~~s~~"
AGENCY_LINES = "# Heading\n- list item"
RACE = ":blue[Race] <i>x</i>"
COMMA_ID = "P,08"
NAMES = {"P01": PIXEL, "P02": STYLED, "P03": HTML, "P04": LONG}

# Raw pieces that must never reach Streamlit's Markdown unescaped (each escaped form differs).
LIVE_MARKUP = (
    "](", "![", "**bold**", ":red[", "$x^2$", ":material/home:", "<img", "<b>", "<i>", "http://",
    "www.example", "a@b", "javascript:", "__u__", "~~s~~", ":blue[", "# Heading",
)
ALL_PAGES = [*PAGES, "pages/data_quality.py", "pages/report.py"]


def hostile_extract(out: Path) -> Path:
    """The sample extract with hostile names (see the module docstring)."""
    shutil.copytree(SAMPLE, out)
    programs = pl.read_csv(out / "programs.csv", infer_schema_length=0)
    programs = programs.with_columns(
        pl.col("program_id").replace_strict(NAMES, default=pl.col("program_name")).alias("program_name")
    )
    extra = programs.filter(pl.col("program_id") == "P07").with_columns(
        pl.lit(COMMA_ID).alias("program_id"), pl.lit(COMMA_NAME).alias("program_name")
    )
    pl.concat([programs, extra]).write_csv(out / "programs.csv")
    agencies = pl.read_csv(out / "agencies.csv", infer_schema_length=0)
    agencies = agencies.with_columns(
        pl.col("agency_id").replace_strict({"A01": AGENCY, "A02": AGENCY_LINES}, default=pl.col("agency_name"))
        .alias("agency_name"),
        pl.when(pl.col("agency_id") == "A01").then(pl.lit(PIXEL)).otherwise(pl.col("jurisdiction"))
        .alias("jurisdiction"),
    )
    agencies.write_csv(out / "agencies.csv")
    participants = pl.read_csv(out / "participants.csv", infer_schema_length=0)
    participants = participants.with_columns(
        pl.when(pl.col("race_ethnicity") == "White").then(pl.lit(RACE)).otherwise(pl.col("race_ethnicity"))
        .alias("race_ethnicity")
    )
    participants.write_csv(out / "participants.csv")
    return out


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("hostile")
    extract = hostile_extract(root / "extract")
    url = f"duckdb:///{root / 'hostile.duckdb'}"
    engine = store.make_engine(url)
    try:
        from dashboard.ingest import load_extract

        load_extract(extract, engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def use_db(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    def point(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)

    yield point


def markdown_sources(at: AppTest) -> list[str]:
    """The text of every element Streamlit renders as Markdown (main area and sidebar)."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "info", "warning", "error", "success"):
        out += [str(e.value) for e in at.get(kind)]
    out += [str(m.label) for m in at.metric] + [str(m.proto.help) for m in at.metric]
    out += [str(t.label) for t in at.tabs] + [str(e.label) for e in at.expander]
    return out


def chart_titles(at: AppTest) -> list[str]:
    titles = []
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        title = spec.get("title")
        if isinstance(title, dict):
            text_ = title.get("text", "")
            # A long title is wrapped into a list of lines: the reader sees them joined.
            titles.append(" ".join(text_) if isinstance(text_, list) else str(text_))
            sub = title.get("subtitle", [])
            titles += [str(s) for s in ([sub] if isinstance(sub, str) else sub)]
    return titles


def assert_text_only(at: AppTest) -> None:
    for source in markdown_sources(at):
        live = live_pieces(source, LIVE_MARKUP)
        assert not live, (live, source[:300])
        assert LONG not in source, "a 2,000-character name reached a caption or label unshortened"
    for title in chart_titles(at):
        assert len(title) <= TITLE_LIMIT, title[:120]


def shown(markdown: str) -> str:
    """What a reader sees of escaped Markdown text: backslash escapes and word joiners removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(text.WORD_JOINER, "")


@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_shows_hostile_names_as_text(page: str, hostile_url: str, use_db) -> None:
    use_db(hostile_url)
    at = run_page(page, {"program": ["P01", "P02", "P03", "P04", COMMA_ID], "agency": ["A01", "A02"]})
    assert_clean(at)
    assert_text_only(at)
    caption = next(c.value for c in at.caption if c.value.startswith("Showing:"))
    # Each name is in the caption escaped, shortened where long, and reads as the original.
    for name in (PIXEL, STYLED, HTML, COMMA_NAME, AGENCY):
        assert text.markdown_text(name) in caption
        assert name in shown(caption)
    assert text.markdown_text(LONG) in caption and shown(text.markdown_text(LONG)).endswith("…")
    assert " ".join(AGENCY_LINES.split()) in shown(caption)  # the line break became a space
    # The link keeps every id, the comma id whole, as repeated keys.
    assert at.query_params["program"] == ["P01", "P02", "P03", "P04", COMMA_ID]


def test_tables_keep_the_full_long_name(hostile_url: str, use_db) -> None:
    use_db(hostile_url)
    at = run_page(PAGES[0])
    assert_clean(at)
    assert_text_only(at)
    cells = {str(v) for table in at.dataframe for column in table.value.columns for v in table.value[column]}
    assert LONG in cells and PIXEL in cells


def test_equity_race_values_are_text(hostile_url: str, use_db) -> None:
    use_db(hostile_url)
    at = run_page("pages/equity.py")
    at.segmented_control(key="equity_dimension").set_value("race_ethnicity").run()
    assert_clean(at)
    assert_text_only(at)
    cells = {str(v) for table in at.dataframe for column in table.value.columns for v in table.value[column]}
    assert RACE in cells


def test_selectbox_labels_are_shortened_plain_text(hostile_url: str, use_db) -> None:
    use_db(hostile_url)
    at = run_page("pages/pilot_evaluation.py")
    assert_clean(at)
    box = at.selectbox(key="evaluation_program")
    labels = box.options
    assert f"{PIXEL} (P01)" in labels  # plain text there: shown as typed, never rendered
    long_label = next(label for label in labels if label.endswith("(P04)"))
    assert len(long_label) <= text.DISPLAY_LIMIT + 6 and "…" in long_label
    box.set_value("P04").run()
    assert_clean(at)
    assert_text_only(at)
    assert any(c.value.startswith("Evaluated: ") and text.markdown_text(LONG) in c.value for c in at.caption)


def test_report_page_builds_with_hostile_names(hostile_url: str, use_db) -> None:
    use_db(hostile_url)
    at = run_page("pages/report.py")
    at.selectbox(key="report_program").set_value("P04").run()
    at.button(key="report_build").click().run()
    assert_clean(at)
    assert_text_only(at)
    assert at.success and "ready" in at.success[0].value


def test_report_with_a_2000_character_name_and_hostile_text(hostile_url: str, tmp_path: Path) -> None:
    from dashboard.cli import main
    from dashboard.export import png_size

    for program in ("P04", "P01", "P03"):
        out = tmp_path / program
        assert main(["export", "--db", hostile_url, "report", "--period", "2025Q4", "--program", program,
                     "--out", str(out)]) == 0
        pdf = next(out.glob("*.pdf"))
        assert pdf.read_bytes().startswith(b"%PDF") and re.fullmatch(r"[A-Za-z0-9_-]+\.pdf", pdf.name)
        html_page = next(out.glob("*.html")).read_text(encoding="utf-8")
        assert "<img src=x" not in html_page and "<b>b</b>" not in html_page
        if program == "P03":
            assert "&lt;img src=x onerror=alert(1)&gt;" in html_page
        for png in (out / "charts").glob("*.png"):
            width, height = png_size(png.read_bytes())
            # 300 dpi: a chart a few hundred points wide is a few thousand pixels, never a 2 GB bitmap.
            assert width * height < 40_000_000, (png.name, width, height)


# --- links ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["pages/recidivism.py", "pages/partnerships.py", "pages/data_quality.py"])
def test_a_far_future_as_of_in_a_link_is_refused_with_one_message(page: str, hostile_url: str, use_db) -> None:
    use_db(hostile_url)
    at = run_page(page, {"as_of": "9999-12-31"})
    assert_clean(at)
    assert len(at.sidebar.warning) == 1
    assert "as_of=9999-12-31 is in the future" in shown(at.sidebar.warning[0].value)
    assert any("**Data as of 2026-06-30**" in m.value for m in at.markdown)  # the latest load's as-of
    assert "as_of" not in at.query_params


def test_an_old_as_of_in_a_link_is_kept(hostile_url: str, use_db) -> None:
    # Streamlit's date widget silently dropped dates more than ten years from today.
    use_db(hostile_url)
    at = run_page(PAGES[0], {"as_of": "2012-06-30"})
    assert_clean(at)
    assert not at.sidebar.warning
    assert any("**Data as of 2012-06-30**" in m.value for m in at.markdown)


def test_hundreds_of_link_values_give_one_message(hostile_url: str, use_db) -> None:
    use_db(hostile_url)
    at = run_page(PAGES[0], {"program": [f"X{i}" for i in range(999)]})
    assert_clean(at)
    assert len(at.sidebar.warning) == 1
    message = shown(at.sidebar.warning[0].value)
    # 999 values: 200 read, 799 ignored; problems: 1 (the cap) + 200 unknown programs = 201,
    # of which 8 are listed and 193 counted.
    assert "the link holds 999 filter values; 200 read, 799 ignored" in message
    assert "and 193 more" in message
    assert at.get("vega_lite_chart")  # the page still draws


def test_thousands_of_values_in_one_parameter_give_one_message(hostile_url: str, use_db) -> None:
    use_db(hostile_url)
    # 3,901 values in 7,805 characters (under the 8,000-character cap).
    at = run_page(PAGES[0], {"cohort": ",".join(["x"] * 3900 + ["pilot"])})
    assert_clean(at)
    assert len(at.sidebar.warning) == 1
    # 3,900 problems: 8 listed, 3,892 counted; the valid value is kept.
    assert shown(at.sidebar.warning[0].value).endswith("… and 3,892 more")
    assert at.multiselect(key="filter_cohort").value == ["pilot"]
    assert at.get("vega_lite_chart")


def test_a_link_streamlit_dropped_as_too_long_gives_one_message(hostile_url: str, use_db) -> None:
    # Streamlit drops a query string of more than 1,000 parameters before the script runs; the
    # browser then reopens the page with this one parameter (checked in the browser test).
    use_db(hostile_url)
    at = run_page(PAGES[0], {app_links.LINK_TOO_LONG_PARAM: "1500-20999"})
    assert_clean(at)
    assert len(at.sidebar.warning) == 1
    assert "the link was too long to read (1,500 parameters, 20,999 characters)" in shown(
        at.sidebar.warning[0].value)
    assert app_links.LINK_TOO_LONG_PARAM not in at.query_params


def test_a_13_kb_query_string_gives_one_message(hostile_url: str, use_db) -> None:
    use_db(hostile_url)
    at = run_page(PAGES[0], {"program": ["P01", "Z" * 13_000]})
    assert_clean(at)
    assert len(at.sidebar.warning) == 1
    message = shown(at.sidebar.warning[0].value)
    assert "the link holds 2 filter values; 1 read, 1 ignored" in message
    assert at.multiselect(key="filter_program").value == ["P01"]
    assert at.get("vega_lite_chart")


def test_far_future_and_year_one_load_as_of_every_page_draws(hostile_url: str, use_db, tmp_path: Path) -> None:
    """A database loaded before as-of dates were range-checked may hold 9999-12-31 (or year 1):
    date arithmetic near the ends of the calendar must not take a page down."""
    import sqlalchemy as sa

    for as_of in ("9999-12-31", "0001-01-01"):
        path = tmp_path / f"{as_of}.duckdb"
        shutil.copy(hostile_url.split(":///", 1)[1], path)
        url = f"duckdb:///{path}"
        engine = store.make_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE load_runs SET as_of = :d"), {"d": dt.date.fromisoformat(as_of)})
        finally:
            engine.dispose()
        use_db(url)
        for page in ALL_PAGES:
            at = run_page(page)
            assert not at.error, (page, as_of, [e.value for e in at.error])
            assert_clean(at)
            assert any(f"**Data as of {as_of}**" in m.value for m in at.markdown), page


# --- pure URL helpers -------------------------------------------------------------------------


def test_a_comma_in_an_id_round_trips_through_the_link() -> None:
    filters = app_state.Filters(program_ids=(COMMA_ID, "P01"), agency_ids=("A,1",), cohorts=("pilot",))
    params = app_links.params_from_filters(filters)
    assert params["program"] == [COMMA_ID, "P01"]  # repeated keys, each id whole
    back, problems = app_links.filters_from_params(params)
    assert back == filters and problems == []


def test_old_comma_joined_links_still_resolve_to_known_ids() -> None:
    known = {"P01", "P02", COMMA_ID}
    # Whole value first (the comma id), then a legacy comma list of known ids, then unknown.
    assert app_links.resolve_ids([COMMA_ID, "P01,P02", "P01,NOPE"], known) == ([COMMA_ID, "P01", "P02"], ["P01,NOPE"])


def test_link_dates_outside_the_accepted_range_are_ignored() -> None:
    today = dt.date(2026, 12, 2)
    # Latest as-of: today + 1 day = 2026-12-03 (as on the command line); latest period date: end of
    # today's year + 10 = 2036-12-31.
    filters, problems = app_links.filters_from_params(
        {"as_of": ["2026-12-04"], "start": ["1899-12-31"], "end": ["2037-01-01"]}, today=today
    )
    assert filters == app_state.Filters()
    assert len(problems) == 3 and "2026-12-03" in problems[2] and "2036-12-31" in problems[1]
    filters, problems = app_links.filters_from_params(
        {"as_of": ["2026-12-03"], "start": ["1900-01-01"], "end": ["2036-12-31"]}, today=today
    )
    assert problems == []
    assert (filters.as_of, filters.start, filters.end) == (dt.date(2026, 12, 3), dt.date(1900, 1, 1),
                                                           dt.date(2036, 12, 31))


def test_problems_become_one_escaped_message() -> None:
    problems = [f"program={PIXEL} is not in the loaded data"] + [f"program=X{i} is not in the loaded data"
                                                                   for i in range(20)]
    message = app_links.problems_markdown(problems)
    assert not live_pieces(message, LIVE_MARKUP)
    # 21 problems: 8 listed, 13 counted.
    assert message.count("\n- ") == 9 and message.endswith("- … and 13 more")


# --- export filters ------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["table", "--all", "--agency", "NOPE"],
    ["table", "--metric", "compliance_rate", "--program", "NOPE"],
    ["chart", "--metric", "compliance_rate", "--agency", "NOPE"],
    ["report", "--period", "2025Q1", "--program", "NOPE"],
])
def test_export_with_an_unknown_id_exits_2_listing_the_known_ids(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], hostile_url: str
) -> None:
    from dashboard.cli import main

    out = tmp_path / ("out.csv" if argv[0] == "table" else "out.png" if argv[0] == "chart" else "report")
    assert main(["export", "--db", hostile_url, *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    flag = "--agency" if "--agency" in argv else "--program"
    assert f"{flag} 'NOPE': not in the database" in err
    assert ("A01, A02" in err) if flag == "--agency" else ("P01, P02" in err)
    assert not out.exists()
