"""The report package on disk: PDF, HTML, the chart and table files and a ZIP of them all."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any


from dashboard.export import (
    chart_to_bytes,
    download_filename,
    table_to_csv,
    table_to_xlsx,
)
from dashboard.settings import DEFAULT_MIN_CELL_SIZE
from dashboard.report.periods import ReportingPeriod
from dashboard.report.measures import OPERATIONS_NOTE, ReportContent, ReportResult, suppression_note
from dashboard.report.content import ParticipantFilters, build_content
from dashboard.report.html_page import render_html
from dashboard.report.pdf import render_pdf


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
