"""The report package on disk: PDF, HTML, the chart and table files and a ZIP of them all."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from dashboard import charts
from dashboard.export import (
    display_table,
    metric_registry,
)
from dashboard.metrics.engine import compute_metrics, participant_counts, referral_counts
from dashboard.metrics.table_families import family_of
from dashboard.metrics.tables import Filters, resolve_as_of
from dashboard.settings import DEFAULT_MIN_CELL_SIZE
from dashboard.report.periods import ReportingPeriod, parse_period
from dashboard.report.measures import LIMITATIONS_DIFFERENCING, OPERATIONS_MEASURES, REPORT_MEASURES, REPORT_METRIC_IDS, ReportChart, ReportContent, ReportMeasure, suppression_note


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


# Over 80 lines on purpose: the report's content assembled in the order of its sections (cover, measures,
# charts, definitions, notes).
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


