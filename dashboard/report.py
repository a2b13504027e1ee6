"""The report package for a reporting period: PDF, self-contained HTML and a ZIP of every file.

A grant reporter picks a period (quarter, half year, fiscal year or custom
dates) and one program or all, and gets what a funder's performance report
asks for: a cover (program, grant id, period, as-of date, validation status of
the data), the measures table with N and 95% intervals, key charts, the
definition of every measure taken from the metric registry, the suppression
note, the limitations, and the command that reproduces the package.

Every number comes from :func:`dashboard.metrics.engine.compute_metrics`
(suppression with complementary suppression at ``min_cell_size``, default
11) and the engine's counts; this module selects rows and formats them.
Text from the data (program and agency names) is neutralised against
spreadsheet formulas everywhere and HTML-escaped in the HTML report.

PDF fonts: DejaVu Sans from the Debian package ``fonts-dejavu-core``
(``/usr/share/fonts/truetype/dejavu``) or matplotlib's bundled copy when
either is installed, so any Unicode text prints; otherwise fpdf2's built-in
Helvetica, with text folded to Latin-1 (typographic dashes and quotes
replaced by their ASCII forms, anything else by ``?``). Nothing is fetched.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import html
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from dashboard import charts
from dashboard.cells import SUPPRESSED_TEXT, cell_text, neutralise_text
from dashboard.export import (
    XLSX_CREATED,
    chart_to_bytes,
    display_table,
    download_filename,
    metric_registry,
    png_size,
    table_to_csv,
    table_to_xlsx,
)
from dashboard.metrics.engine import compute_metrics, participant_counts, referral_counts
from dashboard.metrics.table_families import family_of
from dashboard.metrics.tables import Filters, resolve_as_of
from dashboard.settings import DEFAULT_MIN_CELL_SIZE

# --- reporting periods ---------------------------------------------------------------


@dataclass(frozen=True)
class ReportingPeriod:
    """An inclusive date range with the label the user typed (normalised)."""

    label: str
    start: dt.date
    end: dt.date
    description: str


_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_HALF = re.compile(r"^(\d{4})H([12])$")
_FISCAL = re.compile(r"^FY(\d{4})(?:(Q)([1-4])|(H)([12]))?$")
_CUSTOM = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?::|\.\.)\s*(\d{4}-\d{2}-\d{2})$")

PERIOD_FORMS = (
    "2025Q1 (calendar quarter), 2025H1 (calendar half year), FY2025 (fiscal year), "
    "FY2025Q1 / FY2025H1 (fiscal quarter / half), or 2025-01-01:2025-03-31 (custom, inclusive)"
)


def _month_span(year: int, month: int, months: int) -> tuple[dt.date, dt.date]:
    """First day of ``year-month`` and the last day ``months`` calendar months later."""
    start = dt.date(year, month, 1)
    total = year * 12 + (month - 1) + months - 1
    end_year, end_month0 = divmod(total, 12)
    end = dt.date(end_year, end_month0 + 1, calendar.monthrange(end_year, end_month0 + 1)[1])
    return start, end


def fiscal_year_bounds(fiscal_year: int, start_month: int) -> tuple[dt.date, dt.date]:
    """FY ``fiscal_year`` is named by the calendar year in which it ends.

    Start month 1: FY2025 = 2025-01-01..2025-12-31. Start month 7 (a July
    state fiscal year): FY2025 = 2024-07-01..2025-06-30. Start month 10 (the
    US federal year): FY2025 = 2024-10-01..2025-09-30.
    """
    check_start_month(start_month)
    first_year = fiscal_year if start_month == 1 else fiscal_year - 1
    return _month_span(first_year, start_month, 12)


def check_start_month(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise ValueError(f"the fiscal year start month must be 1 to 12, not {start_month}")


def parse_period(text: str, *, fiscal_year_start_month: int = 7) -> ReportingPeriod:
    """Parse a reporting period; see :data:`PERIOD_FORMS`.

    Quarters and halves without ``FY`` are calendar ones (2025Q1 = January to
    March 2025). Fiscal quarters count from the fiscal year's first month
    (with a July start, FY2025Q1 = July to September 2024).
    """
    check_start_month(fiscal_year_start_month)
    raw = text.strip()
    norm = raw.upper().replace(" ", "")
    if m := _QUARTER.match(norm):
        year, q = int(m.group(1)), int(m.group(2))
        start, end = _month_span(year, 3 * (q - 1) + 1, 3)
        return ReportingPeriod(norm, start, end, f"Calendar quarter {q} of {year}")
    if m := _HALF.match(norm):
        year, h = int(m.group(1)), int(m.group(2))
        start, end = _month_span(year, 6 * (h - 1) + 1, 6)
        return ReportingPeriod(norm, start, end, f"Calendar half {h} of {year}")
    if m := _FISCAL.match(norm):
        fy = int(m.group(1))
        fy_start, fy_end = fiscal_year_bounds(fy, fiscal_year_start_month)
        month_name = calendar.month_name[fiscal_year_start_month]
        if m.group(2):
            q = int(m.group(3))
            start, end = _month_span(*_shift(fy_start, 3 * (q - 1)), 3)
            return ReportingPeriod(
                norm, start, end, f"Quarter {q} of fiscal year {fy} (fiscal years start in {month_name})"
            )
        if m.group(4):
            h = int(m.group(5))
            start, end = _month_span(*_shift(fy_start, 6 * (h - 1)), 6)
            return ReportingPeriod(
                norm, start, end, f"Half {h} of fiscal year {fy} (fiscal years start in {month_name})"
            )
        return ReportingPeriod(norm, fy_start, fy_end, f"Fiscal year {fy} (starts in {month_name})")
    if m := _CUSTOM.match(raw):
        try:
            start, end = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
        except ValueError as exc:
            raise ValueError(f"period {text!r}: {exc}; write dates as YYYY-MM-DD") from None
        if start > end:
            raise ValueError(f"period {text!r} starts after it ends; write START:END")
        return ReportingPeriod(f"{start.isoformat()}:{end.isoformat()}", start, end, "Custom period")
    raise ValueError(f"cannot read the period {text!r}; write one of: {PERIOD_FORMS}")


def _shift(day: dt.date, months: int) -> tuple[int, int]:
    total = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(total, 12)
    return year, month0 + 1


# --- what the report shows --------------------------------------------------------------


@dataclass(frozen=True)
class ReportMeasure:
    """One line of the measures table: a registry metric or an engine count."""

    key: str
    label: str | None = None  # counts only; metrics take the registry label
    count: bool = False
    table: str | None = None  # a contract version 2 table: shown only when it holds rows


REPORT_MEASURES: tuple[ReportMeasure, ...] = (
    ReportMeasure("participants_enrolled", "Participants enrolled in the period", count=True),
    ReportMeasure("reentry_plan_rate"),
    ReportMeasure("referrals_made", "Referrals made in the period", count=True),
    ReportMeasure("referral_acceptance_rate"),
    ReportMeasure("referral_completion_rate"),
    ReportMeasure("compliance_rate"),
    ReportMeasure("program_completion_rate"),
    ReportMeasure("recidivism_rearrest_6m"),
    ReportMeasure("recidivism_rearrest_12m"),
    ReportMeasure("police_diversion_rate"),
    # Employment and housing beside their coverage (docs/metrics.md, reintegration outcomes).
    ReportMeasure("employment_rate_12m", table="reintegration_checks"),
    ReportMeasure("stable_housing_rate_12m", table="reintegration_checks"),
    ReportMeasure("reintegration_check_coverage_12m", table="reintegration_checks"),
)
"""The measures a funder's quarterly form asks for, in the order of the table. A measure
of a table that holds no rows is left out, as ``metrics`` leaves it out."""

REPORT_METRIC_IDS: tuple[str, ...] = tuple(m.key for m in REPORT_MEASURES if not m.count)

OPERATIONS_MEASURES: tuple[str, ...] = (
    "cost_per_participant",
    "cost_per_completion",
    "survey_favourable_trust",
    "survey_favourable_safety",
    "survey_favourable_satisfaction",
    "survey_favourable_coordination",
)
"""Cost and community-voice measures (contract version 2): in the package when their table holds rows."""

OPERATIONS_COLUMNS: tuple[str, ...] = (
    "Measure", "Metric ID", "N", "Numerator", "Value", "Unit", "95% CI low", "95% CI high", "Suppressed", "Note",
)
OPERATIONS_NOTE = (
    "Costs and survey answers describe the programs, not a group of participants: the participant filters do "
    "not apply to them. Cost = program costs prorated by days to the period and the as-of date (numerator, in "
    "currency units), over the pilot participants served in the period or who completed the program in it (N); "
    "a cost row is withheld when N is below the minimum cell size. Survey value = share of answers scored 4 or 5 "
    "of 5 (numerator: favourable answers; N: answers)."
)

MEASURES_COLUMNS: tuple[str, ...] = (
    "Measure", "Metric ID", "N", "Numerator", "Rate", "95% CI low", "95% CI high", "Suppressed", "Note",
)

LIMITATIONS_DIFFERENCING = (
    "Suppression protects each table on its own: no suppressed number can be recovered by subtraction "
    "within one set of filters. Numbers published under different filters (another program, agency, "
    "period or reporting package) can still be differenced against each other to narrow down a "
    "suppressed cell. This is a known limit of cell suppression; do not publish overlapping breakdowns "
    "of the same small population side by side."
)


def suppression_note(min_cell_size: int) -> str:
    """The note printed under every table of the package."""
    if min_cell_size <= 0:
        return (
            "Suppression is OFF (minimum cell size 0): small cells are shown. Do not publish this package; "
            "it is meant for data stewards checking the numbers."
        )
    k = min_cell_size
    return (
        f"Small-cell suppression (minimum cell size {k}): a number is withheld and marked "
        f"\"{SUPPRESSED_TEXT}\" when its denominator is below {k} or its numerator is between 1 and {k - 1}. "
        "Complementary suppression withholds a further cell wherever a single suppressed cell could be "
        "recovered by subtracting published cells from a published total, or a suppressed total by "
        "adding up its published cells (groups against the overall row, cohorts against their program, "
        "programs against their cohort). Small complements are not "
        f"suppressed: for example 16 of 22 is published even though it reveals 6. Counts from 1 to {k - 1} "
        "are withheld too."
    )


@dataclass(frozen=True)
class ReportChart:
    name: str
    title: str
    chart: Any  # altair chart


@dataclass(frozen=True)
class ReportContent:
    """Everything the renderers need, computed once."""

    title: str
    scope: str
    program_id: str | None
    cover: tuple[tuple[str, str], ...]
    period: ReportingPeriod
    as_of: dt.date
    min_cell_size: int
    measures: pl.DataFrame
    measures_by_cohort: pl.DataFrame
    all_metrics: pl.DataFrame
    charts: tuple[ReportChart, ...]
    definitions: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]
    notes: tuple[str, ...]
    limitations: tuple[str, ...]
    command: str
    operations: pl.DataFrame = field(default_factory=pl.DataFrame)
    """Cost and survey measures (empty when their tables hold no rows)."""
    paper: str = "a4"
    """PDF page size: ``a4`` (default) or ``letter``."""


@dataclass(frozen=True)
class ReportResult:
    """Paths of the written package and the measures table it shows."""

    pdf: Path
    html: Path
    zip: Path
    files: tuple[Path, ...]
    measures: pl.DataFrame
    period: ReportingPeriod
    as_of: dt.date
    content: ReportContent = field(repr=False)


# --- building the content -----------------------------------------------------------------

PAPER_SIZES: dict[str, str] = {"a4": "A4", "letter": "Letter"}
"""``--paper`` / the Report page's choice -> fpdf2 page format."""


@dataclass(frozen=True)
class ParticipantFilters:
    """The dashboard's filters besides program and period that the package applies, as the
    engine's ``Filters`` fields: the sidebar on the Report page, ``--agency``, ``--cohort``,
    ``--risk`` and ``--supervision`` on the command line (docs/exports.md)."""

    agency_ids: tuple[str, ...] = ()
    cohorts: tuple[str | None, ...] = ()
    risk_levels: tuple[str | None, ...] = ()
    supervision_types: tuple[str | None, ...] = ()

    def flags(self) -> list[tuple[str, list[str]]]:
        return [(flag, [str(v) for v in values if v is not None]) for flag, values in (
            ("--agency", self.agency_ids), ("--cohort", self.cohorts), ("--risk", self.risk_levels),
            ("--supervision", self.supervision_types)) if values]

    def describe(self) -> str:
        from dashboard.views import humanise

        parts = [f"{name} {', '.join(humanise(v) for v in values)}" for name, values in (
            ("agency", self.agency_ids), ("cohort", self.cohorts), ("risk", self.risk_levels),
            ("supervision", self.supervision_types)) if values]
        return "; ".join(parts)



def report_command(
    period: ReportingPeriod,
    program_id: str | None,
    *,
    fiscal_year_start_month: int,
    min_cell_size: int,
    as_of: dt.date,
    out_dir: str = "DIR",
    participants: ParticipantFilters | None = None,
    paper: str = "a4",
) -> str:
    """The CLI line that rebuilds this package (add ``--db URL`` for a non-default database)."""
    parts = ["partnership-dashboard", "export", "report", "--period", period.label]
    if program_id:
        parts += ["--program", _shell_quote(program_id)]
    for flag, values in (participants or ParticipantFilters()).flags():
        parts += [p for v in values for p in (flag, _shell_quote(v))]
    if paper != "a4":
        parts += ["--paper", paper]
    parts += ["--as-of", as_of.isoformat()]
    if period.label.startswith("FY"):
        parts += ["--fiscal-year-start-month", str(fiscal_year_start_month)]
    parts += ["--min-cell-size", str(min_cell_size), "--out", out_dir]
    return " ".join(parts)


def _shell_quote(text: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.:/-]+", text):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _latest_load(tables: Any) -> dict[str, Any] | None:
    runs = getattr(tables, "load_runs", None)
    if runs is None or runs.height == 0:
        return None
    loads = runs.filter(pl.col("kind") == "load") if "kind" in runs.columns else runs
    if loads.height == 0:
        return None
    return loads.sort("started_at", descending=True, nulls_last=True).row(0, named=True)


def validation_status(tables: Any) -> str:
    """The cover's sentence on the data: latest load, rows quarantined, data checks."""
    run = _latest_load(tables)
    if run is None:
        return "No load run is recorded in this database: the data's validation status is unknown."
    when = run.get("finished_at") or run.get("started_at")
    when_text = when.strftime("%Y-%m-%d %H:%M") if isinstance(when, dt.datetime) else str(when)
    loaded = run.get("rows_loaded") or 0
    rejected = run.get("rows_rejected") or 0
    checks = run.get("validation_success")
    checks_text = (
        "data-quality checks passed" if checks is True
        else "data-quality checks FAILED (see the data docs)" if checks is False
        else "data-quality check results not recorded"
    )
    as_of = run.get("as_of")
    return (
        f"Latest load {when_text} (extract as of {as_of}), status {run.get('status')}: "
        f"{loaded:,} rows loaded, {rejected:,} rejected and kept in quarantine; {checks_text}."
    )


def _program_info(tables: Any, program_id: str | None) -> tuple[str, str, str]:
    """(scope text, grant id text, lead agency text)."""
    programs: pl.DataFrame = tables.programs
    agencies: pl.DataFrame = tables.agencies
    names = {r["agency_id"]: r["agency_name"] for r in agencies.iter_rows(named=True)}
    if program_id is None:
        grants = sorted({g for g in programs["grant_id"].to_list() if g}) if programs.height else []
        return (
            "All programs",
            "; ".join(grants) if grants else "not recorded",
            "—",
        )
    rows = programs.filter(pl.col("program_id") == program_id)
    if rows.height == 0:
        known = ", ".join(sorted(programs["program_id"].to_list())) or "none loaded"
        raise ValueError(f"unknown program {program_id!r}; programs in the database: {known}")
    row = rows.row(0, named=True)
    lead = row.get("lead_agency_id")
    lead_text = f"{names.get(lead, lead)} ({lead})" if lead else "—"
    return f"{row['program_name']} ({program_id})", row.get("grant_id") or "not recorded", lead_text


def _partners(tables: Any, program_id: str | None, as_of: dt.date) -> str:
    agreements: pl.DataFrame = tables.agreements
    if agreements.height == 0:
        return "none recorded"
    if program_id is not None:
        agreements = agreements.filter(pl.col("program_id") == program_id)
    agreements = agreements.filter(pl.col("signed_date") <= as_of)
    names = {r["agency_id"]: r["agency_name"] for r in tables.agencies.iter_rows(named=True)}
    ids = sorted({a for a in agreements["agency_id"].to_list() if a})
    return "; ".join(f"{names.get(a, a)} ({a})" for a in ids) or "none recorded"


def _rows_for(metrics: pl.DataFrame, group_by: Sequence[str]) -> pl.DataFrame:
    wanted = list(group_by)
    return metrics.filter(pl.col("group_by").list.len() == len(wanted)).filter(
        pl.col("group_by").list.join("+") == "+".join(wanted)
    )


def _count_rows(tables: Any, filters: Any, min_cell_size: int) -> dict[str, dict[str, Any]]:
    """The engine's overall counts under the report's filters, by name.

    ``participant_counts`` gives ``participants_enrolled`` (enrollment date in
    the period) and ``participants_active`` (on the as-of date);
    ``referral_counts`` gives ``referrals_made`` (referral date in the period).
    The count is in ``value``, with suppression (1..k-1, and complementary)
    applied.
    """
    frame = pl.concat(
        [
            participant_counts(tables, filters, min_cell_size=min_cell_size),
            referral_counts(tables, filters, min_cell_size=min_cell_size),
        ]
    )
    return {rec["metric"]: rec for rec in _rows_for(frame, ()).iter_rows(named=True)}


def reported_measures(tables_with_rows: Iterable[str] = ()) -> tuple[ReportMeasure, ...]:
    """:data:`REPORT_MEASURES` without those of a table that holds no rows."""
    present = set(tables_with_rows)
    return tuple(m for m in REPORT_MEASURES if m.table is None or m.table in present)


def _tables_with_rows(tables: Any) -> set[str]:
    names = {m.table for m in REPORT_MEASURES if m.table is not None}
    return {name for name in names if getattr(tables, name).height > 0}


def measures_table(
    metrics: pl.DataFrame,
    counts: Mapping[str, Mapping[str, Any]],
    *,
    min_cell_size: int,
    registry: Mapping[str, Any] | None = None,
    tables_with_rows: Iterable[str] = (),
) -> pl.DataFrame:
    """The report's measures table from the engine's overall rows (under the report's filters).

    A measure with no row (no denominator in the period, e.g. no participant
    yet eligible for 12-month rearrest) has empty numbers and says why.
    Measures of a contract version 2 table appear only when that table is in
    ``tables_with_rows``.
    """
    registry = registry if registry is not None else metric_registry()
    overall = _rows_for(metrics, ())
    by_metric = {r["metric"]: r for r in overall.iter_rows(named=True)}
    shown = display_table(overall, registry=registry)
    shown_by_metric = {r["Metric ID"]: r for r in shown.iter_rows(named=True)}
    rows: list[dict[str, Any]] = []
    for m in reported_measures(tables_with_rows):
        if m.count:
            rec = counts.get(m.key)
            suppressed = bool(rec and rec.get("suppressed"))
            value = None if rec is None or suppressed else rec.get("value")
            note = f"suppressed (count 1 to {min_cell_size - 1}, or its complement)" if suppressed else ""
            if rec is None:
                value = 0  # the engine gives a count a row only when it is above zero
            rows.append({
                "Measure": m.label, "Metric ID": m.key, "N": None if value is None else int(value),
                "Numerator": None, "Rate": None, "95% CI low": None, "95% CI high": None,
                "Suppressed": suppressed, "Note": note,
            })
            continue
        info = registry.get(m.key)
        label = getattr(info, "label", m.key) if info is not None else m.key
        shown_row = shown_by_metric.get(m.key)
        if shown_row is None:
            rows.append({
                "Measure": label, "Metric ID": m.key, "N": None, "Numerator": None, "Rate": None,
                "95% CI low": None, "95% CI high": None, "Suppressed": False,
                "Note": _no_row_note(m.key),
            })
            continue
        suppressed = bool(by_metric[m.key]["suppressed"])
        rows.append({
            "Measure": label, "Metric ID": m.key, "N": shown_row["N"], "Numerator": shown_row["Numerator"],
            "Rate": shown_row["Rate"], "95% CI low": shown_row["95% CI low"],
            "95% CI high": shown_row["95% CI high"], "Suppressed": suppressed,
            "Note": f"suppressed (cell below {min_cell_size} or its complement)" if suppressed else "",
        })
    schema = {
        "Measure": pl.String(), "Metric ID": pl.String(), "N": pl.Int64(), "Numerator": pl.Int64(),
        "Rate": pl.Float64(), "95% CI low": pl.Float64(), "95% CI high": pl.Float64(),
        "Suppressed": pl.Boolean(), "Note": pl.String(),
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def operations_table(
    metrics: pl.DataFrame, tables: Any, *, min_cell_size: int, registry: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """The cost and survey measures (overall rows under the report's filters), one line each, for the
    measures whose table holds rows; empty otherwise, so a version-1 package is unchanged."""
    registry = registry if registry is not None else metric_registry()
    overall = {r["metric"]: r for r in _rows_for(metrics, ()).iter_rows(named=True)}
    rows: list[dict[str, Any]] = []
    for metric_id in OPERATIONS_MEASURES:
        family = family_of(metric_id)
        if family is None or not family.has_rows(tables):
            continue
        info = registry.get(metric_id)
        unit = str(getattr(info, "unit", ""))
        rec = overall.get(metric_id)
        suppressed = bool(rec and rec["suppressed"])
        shown = rec is not None and not suppressed
        is_money = unit == "currency"
        rows.append({
            "Measure": getattr(info, "label", metric_id), "Metric ID": metric_id,
            "N": int(rec["denominator"]) if shown and rec else None,
            "Numerator": (round(float(rec["numerator"]), 2) if is_money else float(rec["numerator"]))
            if shown and rec else None,
            "Value": round(float(rec["value"]), 2 if is_money else 4) if shown and rec else None,
            "Unit": unit,
            "95% CI low": round(float(rec["ci_low"]), 4) if shown and rec and rec["ci_low"] is not None else None,
            "95% CI high": round(float(rec["ci_high"]), 4) if shown and rec and rec["ci_high"] is not None else None,
            "Suppressed": suppressed,
            "Note": f"suppressed (fewer than {min_cell_size} people, or its complement)" if suppressed
            else "" if rec is not None else "no one in the denominator in the period",
        })
    schema = {
        "Measure": pl.String(), "Metric ID": pl.String(), "N": pl.Int64(), "Numerator": pl.Float64(),
        "Value": pl.Float64(), "Unit": pl.String(), "95% CI low": pl.Float64(), "95% CI high": pl.Float64(),
        "Suppressed": pl.Boolean(), "Note": pl.String(),
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _no_row_note(metric_id: str) -> str:
    if metric_id.startswith(("recidivism_", "reintegration_check_coverage_")):
        return "no participant indexed in the period has completed the window by the as-of date"
    if metric_id.startswith(("employment_rate_", "stable_housing_rate_")):
        return ("no participant indexed in the period has completed the window by the as-of date "
                "with a status recorded in it")
    return "no records in the period"


def _cohort_table(metrics: pl.DataFrame, registry: Mapping[str, Any]) -> pl.DataFrame:
    rows = _rows_for(metrics, ("cohort",)).filter(pl.col("metric").is_in(list(REPORT_METRIC_IDS)))
    order = {m: i for i, m in enumerate(REPORT_METRIC_IDS)}
    rows = rows.with_columns(
        pl.col("metric").replace_strict(order, default=len(order)).alias("_order"),
        pl.col("group").struct.field("cohort").fill_null("~").alias("_cohort"),
    ).sort("_order", "_cohort").drop("_order", "_cohort")
    table = display_table(rows, registry=registry)
    return table.drop("Grouping", "Value", "Unit").rename({"Group": "Cohort"})


def _charts(
    measures_by_cohort: pl.DataFrame, measures: pl.DataFrame, *, scope: str, period: ReportingPeriod,
    min_cell_size: int,
) -> tuple[ReportChart, ...]:
    from dashboard import chart_style

    def frame(table: pl.DataFrame, category: str, series: str | None) -> pl.DataFrame:
        rate_rows = table.filter(pl.col("Metric ID").is_in(list(REPORT_METRIC_IDS)))
        data = {
            "category": rate_rows[category].cast(pl.String),
            "value": rate_rows["Rate"],
            "ci_low": rate_rows["95% CI low"],
            "ci_high": rate_rows["95% CI high"],
            "numerator": rate_rows["Numerator"].cast(pl.Int64),
            "denominator": rate_rows["N"].cast(pl.Int64, strict=False),
            "suppressed": rate_rows["Suppressed"],
        }
        if series:
            data["series"] = rate_rows[series].cast(pl.String)
        out = pl.DataFrame(data)
        # A measure with no row at all has nothing to draw.
        return out.filter(pl.col("suppressed") | pl.col("value").is_not_null())

    # Printed on white whatever theme the page that asked for the package is viewed in.
    with chart_style.using_theme("light"):
        out = []
        overall = frame(measures, "Measure", None)
        if overall.height:
            out.append(ReportChart(
                "measures",
                "Measures with 95% intervals",
                charts.rate_bars(
                    overall, title=f"Measures, {scope}, {period.label}",
                    subtitle="Bars: rate; whiskers: 95% interval; n = denominator",
                    category_title="Measure", value_title="Rate", min_cell_size=min_cell_size,
                ),
            ))
        cohorts = frame(measures_by_cohort, "Measure", "Cohort")
        if cohorts.height:
            out.append(ReportChart(
                "measures_by_cohort",
                "Pilot and comparison cohorts",
                charts.rate_bars(
                    cohorts, title=f"Pilot vs comparison, {scope}, {period.label}",
                    subtitle="Bars: rate; whiskers: 95% interval; n = denominator",
                    category_title="Measure", value_title="Rate", min_cell_size=min_cell_size,
                ),
            ))
    return tuple(out)


def _definitions(
    registry: Mapping[str, Any], tables_with_rows: Iterable[str] = (), extra: Sequence[str] = ()
) -> tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]:
    out: list[tuple[str, str, tuple[tuple[str, str], ...]]] = []
    for m in (*reported_measures(tables_with_rows), *(ReportMeasure(key) for key in extra)):
        if m.count:
            continue
        info = registry.get(m.key)
        if info is None:
            out.append((m.key, m.key, (("Definition", "not in the metric registry"),)))
            continue
        fields_ = tuple(
            (title, str(getattr(info, attr)))
            for title, attr in (
                ("Definition", "definition"), ("Numerator", "numerator"), ("Denominator", "denominator"),
                ("Includes", "includes"), ("Excludes", "excludes"), ("Period applies to", "period_date"),
            )
            if getattr(info, attr, None)
        )
        out.append((info.label, info.id, fields_))
    return tuple(out)


COUNT_DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("Participants enrolled in the period", "participants whose enrollment_date is in the period (and on or "
     "before the as-of date), counted by the metric engine under the same filters."),
    ("Referrals made in the period", "referrals whose referral_date is in the period (and on or before the "
     "as-of date), whatever their status, counted by the metric engine under the same filters."),
)


def build_content(
    tables: Any,
    *,
    period: str | ReportingPeriod,
    program_id: str | None = None,
    fiscal_year_start_month: int = 7,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    as_of: dt.date | None = None,
    participants: ParticipantFilters | None = None,
    paper: str = "a4",
) -> ReportContent:
    """Compute (through the engine) and assemble everything the package shows.

    ``participants`` narrows every measure exactly as the same dashboard filters do; ``paper``
    chooses the PDF page size (``a4`` or ``letter``)."""
    reporting = period if isinstance(period, ReportingPeriod) else parse_period(
        period, fiscal_year_start_month=fiscal_year_start_month
    )
    scope, grant, lead = _program_info(tables, program_id)
    as_of_date = resolve_as_of(tables, as_of)
    if paper not in PAPER_SIZES:
        raise ValueError(f"unknown paper size {paper!r}; choose {' or '.join(PAPER_SIZES)}")
    chosen = participants or ParticipantFilters()
    filters = Filters(
        as_of=as_of_date, start=reporting.start, end=reporting.end,
        program_ids=(program_id,) if program_id else (), agency_ids=chosen.agency_ids, cohorts=chosen.cohorts,
        risk_levels=chosen.risk_levels, supervision_types=chosen.supervision_types,
    )
    registry = metric_registry()
    metrics = compute_metrics(tables, filters, min_cell_size=min_cell_size)
    counts = _count_rows(tables, filters, min_cell_size)
    with_rows = _tables_with_rows(tables)
    measures = measures_table(metrics, counts, min_cell_size=min_cell_size, registry=registry,
                              tables_with_rows=with_rows)
    by_cohort = _cohort_table(metrics, registry)
    operations = operations_table(metrics, tables, min_cell_size=min_cell_size, registry=registry)
    all_metrics = display_table(metrics, tables=tables, registry=registry)
    notes = [suppression_note(min_cell_size)]
    period_note = f"{reporting.description}: {reporting.start.isoformat()} to {reporting.end.isoformat()}"
    if reporting.end > as_of_date:
        notes.append(
            f"The period ends after the as-of date ({as_of_date.isoformat()}): records dated after the "
            "as-of date are not in the data yet, so the last part of the period is incomplete."
        )
    cover = (
        ("Program", scope),
        ("Grant id", grant),
        ("Lead agency", lead),
        ("Partner agencies", _partners(tables, program_id, as_of_date)),
        ("Reporting period", f"{reporting.label} ({period_note})"),
        ("Data as of", as_of_date.isoformat()),
        ("Data validation", validation_status(tables)),
        ("Minimum cell size", str(min_cell_size)),
    ) + ((("Filters", chosen.describe()),) if chosen.describe() else ())
    limitations: tuple[str, ...] = (
        LIMITATIONS_DIFFERENCING,
        "Each measure applies the period to its own date (referral date, event date, exit date, release "
        "date, index date, contact date: see the definitions), so the measures describe different groups "
        "of people and records within the same period.",
        "Recidivism within W months counts only participants whose index date plus W months is on or "
        "before the as-of date; for a recent period few or none are eligible yet, and the rates will "
        "change as the data catch up.",
        "Pilot and comparison cohorts are assigned by the programs, not at random; differences between "
        "them are descriptive and may reflect who was enrolled rather than the effect of the pilot. "
        "See the pilot evaluation for risk-adjusted comparisons and baseline equivalence.",
        "Numbers are as reported by partner agencies in their extracts; rows that failed the data "
        "contract are quarantined and not counted (see the validation status on the cover).",
    )
    if "reintegration_checks" in with_rows:
        limitations += (
            "Employment and stable housing at 12 months describe only the participants whose status was "
            "recorded in a reintegration check in their window; read them beside the check coverage. "
            "People outside the labour force are left out of the employment rate.",
        )
    command = report_command(
        reporting, program_id, fiscal_year_start_month=fiscal_year_start_month,
        min_cell_size=min_cell_size, as_of=as_of_date, participants=chosen, paper=paper,
    )
    charts_ = _charts(by_cohort, measures, scope=scope, period=reporting, min_cell_size=min_cell_size)
    return ReportContent(
        title="Partnership pilot performance report",
        scope=scope,
        program_id=program_id,
        cover=cover,
        period=reporting,
        as_of=as_of_date,
        min_cell_size=min_cell_size,
        measures=measures,
        measures_by_cohort=by_cohort,
        all_metrics=all_metrics,
        charts=charts_,
        definitions=_definitions(registry, with_rows, operations["Metric ID"].to_list()),
        notes=tuple(notes),
        limitations=limitations,
        command=command,
        operations=operations,
        paper=paper,
    )


# --- formatting shared by HTML and PDF --------------------------------------------------------


def _pct(value: Any) -> str:
    return "" if value is None else f"{float(value) * 100:.1f}%"


def _count(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return f"{int(number):,}" if number.is_integer() else f"{number:,.1f}"


def _measure_cells(row: Mapping[str, Any], *, label_key: str = "Measure") -> list[str]:
    """Measure, N, numerator, rate, interval, note as text; suppressed rows say so."""
    label = cell_text(row[label_key])
    if row.get("Suppressed"):
        return [label, SUPPRESSED_TEXT, SUPPRESSED_TEXT, SUPPRESSED_TEXT, SUPPRESSED_TEXT,
                cell_text(row.get("Note") or SUPPRESSED_TEXT)]
    interval = ""
    if row.get("95% CI low") is not None and row.get("95% CI high") is not None:
        interval = f"{_pct(row['95% CI low'])} to {_pct(row['95% CI high'])}"
    return [label, _count(row.get("N")), _count(row.get("Numerator")), _pct(row.get("Rate")), interval,
            cell_text(row.get("Note") or "")]


MEASURE_HEADERS = ("Measure", "N", "Numerator", "Rate", "95% CI", "Note")
OPERATIONS_HEADERS = ("Measure", "N", "Numerator", "Value", "95% CI", "Note")


def readable_table(frame: pl.DataFrame, *, operations: bool = False) -> pl.DataFrame:
    """The measures (or costs and surveys) table as the PDF prints it, for the Report page: readable
    labels, "suppressed" in a withheld row's cells, percentages with their interval, no id column."""
    headers, cells = (OPERATIONS_HEADERS, _operations_cells) if operations else (MEASURE_HEADERS, _measure_cells)
    rows = [cells(r) for r in frame.iter_rows(named=True)]
    return pl.DataFrame(rows, schema={h: pl.String for h in headers}, orient="row")


def _operations_cells(row: Mapping[str, Any]) -> list[str]:
    """Measure, N, numerator (cost or favourable answers), value, interval, note as text."""
    label = cell_text(row["Measure"])
    if row.get("Suppressed"):
        return [label, SUPPRESSED_TEXT, SUPPRESSED_TEXT, SUPPRESSED_TEXT, SUPPRESSED_TEXT,
                cell_text(row.get("Note") or SUPPRESSED_TEXT)]
    money = row.get("Unit") == "currency"
    numerator, value = row.get("Numerator"), row.get("Value")
    interval = ""
    if row.get("95% CI low") is not None and row.get("95% CI high") is not None:
        interval = f"{_pct(row['95% CI low'])} to {_pct(row['95% CI high'])}"
    return [
        label, _count(row.get("N")),
        "" if numerator is None else f"{numerator:,.2f}" if money else _count(numerator),
        "" if value is None else f"{value:,.2f}" if money else _pct(value),
        interval, cell_text(row.get("Note") or ""),
    ]


def _cohort_cells(row: Mapping[str, Any]) -> list[str]:
    cells = _measure_cells({**row, "Note": ""})
    return [cells[0], cell_text(row["Cohort"]), *cells[1:5]]


COHORT_HEADERS = ("Measure", "Cohort", "N", "Numerator", "Rate", "95% CI")


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#1a1a1a;max-width:960px;margin:2em auto;
padding:0 1em;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:2px solid #0072B2;padding-bottom:.2em;
margin-top:1.8em}h3{font-size:1.05em;margin-bottom:.2em}
table{border-collapse:collapse;width:100%;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#eef3f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.suppressed{color:#595959;font-style:italic;text-align:right}
dl.cover{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em}dl.cover dt{font-weight:bold}
dl.cover dd{margin:0}code,pre{font-family:"DejaVu Sans Mono",monospace;background:#f4f4f4}
pre{padding:.6em;white-space:pre-wrap;word-break:break-all}figure{margin:1em 0}
figure img{max-width:100%;height:auto}figcaption{font-size:.9em;color:#444}
.note{font-size:.92em;color:#333}
"""


def _e(text: Any) -> str:
    """HTML-escape text (quotes included)."""
    return html.escape("" if text is None else str(text), quote=True)


def _html_table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int]) -> str:
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in headers), "</tr></thead><tbody>"]
    for cells in rows:
        out.append("<tr>")
        for i, cell in enumerate(cells):
            cls = ' class="suppressed"' if cell == SUPPRESSED_TEXT else ' class="num"' if i in numeric else ""
            out.append(f"<td{cls}>{_e(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render_html(content: ReportContent, chart_svgs: Mapping[str, bytes]) -> str:
    """The self-contained HTML report: inline CSS, charts as base64 SVG images, all data escaped.

    Charts are embedded as ``<img src="data:image/svg+xml;base64,...">`` so
    that nothing inside them can run as script in the page.
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(content.title)} — {_e(neutralise_text(content.scope))} — {_e(content.period.label)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(content.title)}</h1>",
        f"<p>{_e(neutralise_text(content.scope))} · {_e(content.period.label)} · data as of "
        f"{_e(content.as_of.isoformat())}</p>",
        '<section id="cover"><h2>Cover</h2><dl class="cover">',
    ]
    for label, value in content.cover:
        parts.append(f"<dt>{_e(label)}</dt><dd>{_e(neutralise_text(value))}</dd>")
    parts.append("</dl></section>")
    parts.append('<section id="measures"><h2>Measures</h2>')
    parts.append(_html_table(MEASURE_HEADERS, (_measure_cells(r) for r in content.measures.iter_rows(named=True)),
                             numeric=(1, 2, 3, 4)))
    parts.append(f'<p class="note">{_e(content.notes[0])}</p>')
    parts.append("<h3>By cohort</h3>")
    parts.append(_html_table(COHORT_HEADERS,
                             (_cohort_cells(r) for r in content.measures_by_cohort.iter_rows(named=True)),
                             numeric=(2, 3, 4, 5)))
    parts.append("</section>")
    if content.operations.height:
        parts.append('<section id="operations"><h2>Costs and community voice</h2>')
        parts.append(_html_table(OPERATIONS_HEADERS,
                                 (_operations_cells(r) for r in content.operations.iter_rows(named=True)),
                                 numeric=(1, 2, 3, 4)))
        parts.append(f'<p class="note">{_e(OPERATIONS_NOTE)}</p></section>')
    parts.append('<section id="charts"><h2>Charts</h2>')
    if not content.charts:
        parts.append("<p>No rate could be charted for this period.</p>")
    for chart in content.charts:
        svg = chart_svgs.get(chart.name)
        if svg is None:
            continue
        data = base64.b64encode(svg).decode("ascii")
        parts.append(
            f'<figure><img alt="{_e(chart.title)}" src="data:image/svg+xml;base64,{data}">'
            f"<figcaption>{_e(chart.title)}</figcaption></figure>"
        )
    parts.append("</section>")
    parts.append('<section id="definitions"><h2>Definitions</h2>')
    for label, definition in COUNT_DEFINITIONS:
        parts.append(f"<h3>{_e(label)}</h3><p>{_e(definition)}</p>")
    for label, metric_id, fields_ in content.definitions:
        parts.append(f"<h3>{_e(label)} <code>{_e(metric_id)}</code></h3><dl>")
        for title, text in fields_:
            parts.append(f"<dt><strong>{_e(title)}</strong></dt><dd>{_e(text)}</dd>")
        parts.append("</dl>")
    parts.append("</section>")
    parts.append('<section id="suppression"><h2>Suppression</h2>')
    parts.extend(f"<p>{_e(n)}</p>" for n in content.notes)
    parts.append("</section>")
    parts.append('<section id="limitations"><h2>Limitations</h2><ul>')
    parts.extend(f"<li>{_e(text)}</li>" for text in content.limitations)
    parts.append("</ul></section>")
    parts.append('<section id="reproduce"><h2>Reproduce this report</h2>')
    parts.append(f"<pre>{_e(content.command)}</pre>")
    parts.append("<p>Run it against the same database (add <code>--db URL</code> when it is not the default).</p>")
    parts.append("</section></body></html>\n")
    return "\n".join(parts)


# --- PDF --------------------------------------------------------------------------------------

FONT_DIRS: tuple[Path, ...] = (Path("/usr/share/fonts/truetype/dejavu"),)
_LATIN1_FOLD = str.maketrans({
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2026": "...", "\u00a0": " ", "\u2264": "<=", "\u2265": ">=", "\u2192": "->", "\u2260": "!=",
})


def find_dejavu() -> tuple[Path, Path] | None:
    """Regular and bold DejaVu Sans from the system or matplotlib, or None."""
    dirs = list(FONT_DIRS)
    try:
        import matplotlib

        dirs.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except ImportError:
        pass
    for folder in dirs:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def to_latin1(text: str) -> str:
    """Text fpdf2's core fonts can print: typographic marks folded to ASCII, the rest ``?``."""
    folded = text.translate(_LATIN1_FOLD).replace("×", "x")
    return folded.encode("latin-1", errors="replace").decode("latin-1")


class _PdfWriter:
    def __init__(self, content: ReportContent, *, fonts: tuple[Path, Path] | None) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(orientation="portrait", unit="mm", format=PAPER_SIZES.get(content.paper, "A4"))
        self.pdf.set_creation_date(XLSX_CREATED.replace(tzinfo=dt.UTC))
        self.pdf.set_title(f"{content.title} - {content.period.label}")
        self.pdf.set_author("partnership-dashboard")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_margins(15, 15, 15)
        if fonts is not None:
            self.pdf.add_font("DejaVu", "", str(fonts[0]))
            self.pdf.add_font("DejaVu", "B", str(fonts[1]))
            self.family = "DejaVu"
            self.unicode = True
        else:
            self.family = "Helvetica"
            self.unicode = False
        footer_text = self.t(f"{content.scope} · {content.period.label} · as of {content.as_of.isoformat()}")
        pdf = self.pdf
        family = self.family

        def footer() -> None:
            pdf.set_y(-12)
            pdf.set_font(family, "", 7)
            pdf.cell(0, 5, f"{footer_text}   page {pdf.page_no()}/{{nb}}", align="C")

        pdf.footer = footer  # type: ignore[method-assign]
        self.pdf.add_page()

    def t(self, text: str) -> str:
        return text if self.unicode else to_latin1(text)

    def heading(self, text: str, size: int = 13) -> None:
        self.pdf.ln(2)
        self.pdf.set_font(self.family, "B", size)
        self.pdf.multi_cell(0, size * 0.5, self.t(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def paragraph(self, text: str, size: float = 9.5, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.multi_cell(0, size * 0.48, self.t(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def key_values(self, pairs: Sequence[tuple[str, str]]) -> None:
        width = self.pdf.epw
        for key, value in pairs:
            self.pdf.set_font(self.family, "B", 9.5)
            self.pdf.multi_cell(42, 5, self.t(key), align="L", new_x="RIGHT", new_y="TOP")
            self.pdf.set_font(self.family, "", 9.5)
            self.pdf.multi_cell(width - 42, 5, self.t(value), align="L", new_x="LMARGIN", new_y="NEXT")
            self.pdf.ln(0.8)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int],
              numeric: Sequence[int]) -> None:
        from fpdf.fonts import FontFace

        self.pdf.set_font(self.family, "", 8)
        aligns = tuple("RIGHT" if i in numeric else "LEFT" for i in range(len(headers)))
        heading_style = FontFace(family=self.family, emphasis="BOLD", fill_color=(238, 243, 248))
        with self.pdf.table(col_widths=tuple(widths), text_align=aligns, line_height=4.2,
                            headings_style=heading_style, first_row_as_headings=True,
                            padding=(0.8, 1.0)) as table:
            head = table.row()
            for h in headers:
                head.cell(self.t(h))
            for cells in rows:
                row = table.row()
                for cell in cells:
                    row.cell(self.t(cell))
        self.pdf.set_font(self.family, "", 8)
        self.pdf.ln(2)

    def image(self, png: bytes, title: str) -> None:
        width_px, height_px = png_size(png)
        width = min(self.pdf.epw, width_px / 300 * 25.4)
        height = width * height_px / width_px
        if self.pdf.get_y() + height + 14 > self.pdf.h - 15:
            self.pdf.add_page()
        self.paragraph(title, 9.5, bold=True)
        self.pdf.image(io.BytesIO(png), w=width, h=height, alt_text=self.t(title))
        self.pdf.ln(2)


def render_pdf(content: ReportContent, chart_pngs: Mapping[str, bytes]) -> bytes:
    """The PDF report (A4): cover, measures, charts, definitions, suppression, limitations, command."""
    writer = _PdfWriter(content, fonts=find_dejavu())
    pdf = writer.pdf
    writer.heading(content.title, 18)
    writer.paragraph(neutralise_text(content.scope) + " - " + content.period.label, 11, bold=True)
    writer.key_values([(k, neutralise_text(v)) for k, v in content.cover])

    writer.heading("Measures")
    writer.table(MEASURE_HEADERS, [_measure_cells(r) for r in content.measures.iter_rows(named=True)],
                 widths=(44, 20, 21, 20, 31, 44), numeric=(1, 2, 3, 4))
    writer.paragraph(content.notes[0], 8)
    writer.heading("Measures by cohort", 11)
    writer.table(COHORT_HEADERS, [_cohort_cells(r) for r in content.measures_by_cohort.iter_rows(named=True)],
                 widths=(50, 25, 20, 21, 20, 44), numeric=(2, 3, 4, 5))
    if content.operations.height:
        writer.heading("Costs and community voice", 11)
        writer.table(OPERATIONS_HEADERS, [_operations_cells(r) for r in content.operations.iter_rows(named=True)],
                     widths=(44, 18, 25, 22, 31, 40), numeric=(1, 2, 3, 4))
        writer.paragraph(OPERATIONS_NOTE, 8)

    writer.heading("Charts")
    if not content.charts:
        writer.paragraph("No rate could be charted for this period.")
    for chart in content.charts:
        png = chart_pngs.get(chart.name)
        if png is not None:
            writer.image(png, chart.title)

    pdf.add_page()
    writer.heading("Definitions")
    for label, definition in COUNT_DEFINITIONS:
        writer.paragraph(label, 9.5, bold=True)
        writer.paragraph(definition, 8.5)
    for label, metric_id, fields_ in content.definitions:
        writer.paragraph(f"{label} ({metric_id})", 9.5, bold=True)
        for title, text in fields_:
            writer.paragraph(f"{title}: {text}", 8.5)
    writer.heading("Suppression")
    for note in content.notes:
        writer.paragraph(note, 9)
    writer.heading("Limitations")
    for text in content.limitations:
        writer.paragraph("- " + text, 9)
    writer.heading("Reproduce this report")
    writer.paragraph(content.command, 9)
    writer.paragraph("Run it against the same database (add --db URL when it is not the default).", 8.5)
    pdf.alias_nb_pages()
    return bytes(pdf.output())


# --- the package -----------------------------------------------------------------------------

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _zip_bytes(files: Sequence[tuple[str, bytes]]) -> bytes:
    """A ZIP with fixed timestamps and sorted entries, so equal files give equal archives."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buf.getvalue()


def package_files(content: ReportContent) -> tuple[dict[str, bytes], bytes, str]:
    """Every chart (png, svg, pdf) and table (csv, xlsx) file, the PDF and the HTML report."""
    files: dict[str, bytes] = {}
    svgs: dict[str, bytes] = {}
    pngs: dict[str, bytes] = {}
    for chart in content.charts:
        for fmt in ("png", "svg", "pdf"):
            data = chart_to_bytes(chart.chart, fmt)
            files[f"charts/{chart.name}.{fmt}"] = data
            if fmt == "svg":
                svgs[chart.name] = data
            elif fmt == "png":
                pngs[chart.name] = data
    note = suppression_note(content.min_cell_size)
    for name, frame, sheet in (
        ("measures", content.measures, "Measures"),
        ("measures_by_cohort", content.measures_by_cohort, "By cohort"),
        ("all_metrics", content.all_metrics, "All metrics"),
    ):
        files[f"tables/{name}.csv"] = table_to_csv(frame)
        files[f"tables/{name}.xlsx"] = table_to_xlsx(frame, sheet_name=sheet, notes=(note,))
    if content.operations.height:
        files["tables/costs_and_surveys.csv"] = table_to_csv(content.operations)
        files["tables/costs_and_surveys.xlsx"] = table_to_xlsx(
            content.operations, sheet_name="Costs and surveys", notes=(note, OPERATIONS_NOTE)
        )
    pdf = render_pdf(content, pngs)
    page = render_html(content, svgs)
    return files, pdf, page


def report_stem(content: ReportContent) -> str:
    scope = content.program_id or "all_programs"
    return download_filename(f"report_{scope}_{content.period.label.replace(':', '_to_')}", "x")[:-2]


def build_report(
    tables: Any,
    *,
    period: str | ReportingPeriod,
    program_id: str | None = None,
    fiscal_year_start_month: int = 7,
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE,
    out_dir: str | Path,
    as_of: dt.date | None = None,
    participants: ParticipantFilters | None = None,
    paper: str = "a4",
) -> ReportResult:
    """Write the report package for ``period`` (and one program, or all) into ``out_dir``.

    Writes ``<stem>.pdf``, ``<stem>.html``, ``<stem>.zip`` and the chart and
    table files under ``charts/`` and ``tables/``; the ZIP holds all of them.
    """
    content = build_content(
        tables, period=period, program_id=program_id, fiscal_year_start_month=fiscal_year_start_month,
        min_cell_size=min_cell_size, as_of=as_of, participants=participants, paper=paper,
    )
    files, pdf, page = package_files(content)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = report_stem(content)
    written: list[Path] = []
    for name, data in sorted(files.items()):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    pdf_path, html_path, zip_path = out / f"{stem}.pdf", out / f"{stem}.html", out / f"{stem}.zip"
    pdf_path.write_bytes(pdf)
    html_bytes = page.encode("utf-8")
    html_path.write_bytes(html_bytes)
    archive = _zip_bytes([*files.items(), (f"{stem}.pdf", pdf), (f"{stem}.html", html_bytes)])
    zip_path.write_bytes(archive)
    return ReportResult(
        pdf=pdf_path, html=html_path, zip=zip_path, files=tuple(written), measures=content.measures,
        period=content.period, as_of=content.as_of, content=content,
    )
