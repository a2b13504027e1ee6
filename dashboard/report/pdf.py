"""The report package on disk: PDF, HTML, the chart and table files and a ZIP of them all."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from pathlib import Path


from dashboard.cells import neutralise_text
from dashboard.export import (
    XLSX_CREATED,
    png_size,
)
from dashboard.report.measures import OPERATIONS_NOTE, ReportContent
from dashboard.report.content import COUNT_DEFINITIONS, PAPER_SIZES
from dashboard.report.formatting import COHORT_HEADERS, MEASURE_HEADERS, OPERATIONS_HEADERS, cohort_cells, measure_cells, operations_cells


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
    writer.table(MEASURE_HEADERS, [measure_cells(r) for r in content.measures.iter_rows(named=True)],
                 widths=(44, 20, 21, 20, 31, 44), numeric=(1, 2, 3, 4))
    writer.paragraph(content.notes[0], 8)
    writer.heading("Measures by cohort", 11)
    writer.table(COHORT_HEADERS, [cohort_cells(r) for r in content.measures_by_cohort.iter_rows(named=True)],
                 widths=(50, 25, 20, 21, 20, 44), numeric=(2, 3, 4, 5))
    if content.operations.height:
        writer.heading("Costs and community voice", 11)
        writer.table(OPERATIONS_HEADERS, [operations_cells(r) for r in content.operations.iter_rows(named=True)],
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


