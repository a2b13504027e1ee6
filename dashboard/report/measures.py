"""The report package on disk: PDF, HTML, the chart and table files and a ZIP of them all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from dashboard.cells import SUPPRESSED_TEXT
from dashboard.report.periods import ReportingPeriod


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


