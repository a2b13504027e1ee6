"""Chart exports: PNG at print resolution, deterministic SVG, PDF; hostile labels stay text."""

from __future__ import annotations

import altair as alt
import polars as pl
import pypdf
import pytest

from dashboard.export import chart_to_bytes, png_size
from test_export_tables import HOSTILE_FORMULA, HOSTILE_SCRIPT


def small_chart(label: str = "Pilot") -> alt.Chart:
    data = pl.DataFrame({"group": [label, "Comparison"], "rate": [0.5, 0.25]})
    return alt.Chart(data).mark_bar().encode(x="group:N", y="rate:Q").properties(width=200, height=100)


def test_png_is_print_resolution() -> None:
    chart = small_chart()
    svg = chart_to_bytes(chart, "svg").decode("utf-8")
    # The SVG's own size is the chart's size in points (1/72 inch).
    width_pt = int(svg.split('width="', 1)[1].split('"', 1)[0])
    height_pt = int(svg.split('height="', 1)[1].split('"', 1)[0])
    png = chart_to_bytes(chart, "png")
    width, height = png_size(png)
    # 300 dpi: pixels = points * 300 / 72 (vl-convert rounds to whole pixels).
    assert width == pytest.approx(width_pt * 300 / 72, abs=2)
    assert height == pytest.approx(height_pt * 300 / 72, abs=2)
    # The pHYs chunk says 300 dpi = 11811 pixels per metre, so printers size it right.
    phys = png.index(b"pHYs") + 4
    assert int.from_bytes(png[phys:phys + 4], "big") == 11811
    assert png[phys + 8] == 1  # unit: metre


def test_svg_is_deterministic_and_escapes_labels() -> None:
    first = chart_to_bytes(small_chart(HOSTILE_SCRIPT), "svg")
    second = chart_to_bytes(small_chart(HOSTILE_SCRIPT), "svg")
    assert first == second
    text = first.decode("utf-8")
    assert "<script" not in text
    assert "&lt;script&gt;" in text


def test_pdf_is_one_page_with_the_labels() -> None:
    import io

    pdf = chart_to_bytes(small_chart("'" + HOSTILE_FORMULA), "pdf")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="png, svg, pdf"):
        chart_to_bytes(small_chart(), "gif")
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a" + bytes(30))
