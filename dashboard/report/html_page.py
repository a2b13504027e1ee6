"""The report package on disk: PDF, HTML, the chart and table files and a ZIP of them all."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


from dashboard.cells import SUPPRESSED_TEXT, neutralise_text
from dashboard.report.measures import OPERATIONS_NOTE, ReportContent
from dashboard.report.content import COUNT_DEFINITIONS
from dashboard.report.formatting import COHORT_HEADERS, MEASURE_HEADERS, OPERATIONS_HEADERS, cohort_cells, measure_cells, operations_cells


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
    parts.append(_html_table(MEASURE_HEADERS, (measure_cells(r) for r in content.measures.iter_rows(named=True)),
                             numeric=(1, 2, 3, 4)))
    parts.append(f'<p class="note">{_e(content.notes[0])}</p>')
    parts.append("<h3>By cohort</h3>")
    parts.append(_html_table(COHORT_HEADERS,
                             (cohort_cells(r) for r in content.measures_by_cohort.iter_rows(named=True)),
                             numeric=(2, 3, 4, 5)))
    parts.append("</section>")
    if content.operations.height:
        parts.append('<section id="operations"><h2>Costs and community voice</h2>')
        parts.append(_html_table(OPERATIONS_HEADERS,
                                 (operations_cells(r) for r in content.operations.iter_rows(named=True)),
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


