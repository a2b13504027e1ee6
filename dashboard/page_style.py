"""Print and narrow-screen rules for every page, in one place.

The entry script injects :data:`PAGE_CSS` once per run (:func:`inject`), so
every page prints without the sidebar, toolbars and buttons, keeps its tile
labels whole (they wrap instead of ending in "…"), and on a phone-width
screen (390 px) lets a wide chart or table scroll sideways instead of being
cut off.

Interactive tables (``st.dataframe``) draw on a canvas and print only the
columns that fit. :func:`print_copy` adds, beside such a table, a plain HTML
copy that is hidden on screen and replaces the interactive table in print,
so every number survives printing. Cell text is HTML-escaped; the copy is
never Markdown.
"""

from __future__ import annotations

import html

import polars as pl
import streamlit as st

#: Rows of a table copied for print (a longer table prints its first rows and says so).
PRINT_ROWS = 300
PRINT_CLASS = "pp-print-only"
#: Keyed containers holding a table and its print copy carry this prefix (``st-key-...`` classes).
TABLE_KEY_PREFIX = "table_"

PAGE_CSS = f"""
<style>
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *,
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * {{
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}}
.{PRINT_CLASS} {{ display: none; }}
@media (max-width: 640px) {{
  [data-testid="stMainBlockContainer"] {{ padding-left: 0.6rem !important; padding-right: 0.6rem !important; }}
  [data-testid="stVegaLiteChart"], .vega-embed {{ max-width: 100% !important; overflow-x: auto !important; }}
  [data-testid="stDataFrame"] {{ max-width: 100% !important; overflow-x: auto !important; }}
  [data-testid="stMetricValue"] {{ font-size: 1.6rem !important; }}
}}
@media print {{
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
  [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
  [data-testid="stElementToolbar"], [data-testid="stDownloadButton"], [data-testid="stPopover"],
  [data-testid="stPageLink"], [data-testid="stBaseButton-secondary"], header, iframe {{ display: none !important; }}
  [data-testid="stAppViewContainer"], [data-testid="stMain"], [data-testid="stMainBlockContainer"] {{
    max-width: 100% !important; width: 100% !important; padding: 0 !important; margin: 0 !important;
    overflow: visible !important; position: static !important; height: auto !important;
  }}
  [class*="st-key-{TABLE_KEY_PREFIX}"] [data-testid="stDataFrame"],
  [class*="st-key-{TABLE_KEY_PREFIX}"] [data-testid="stElementContainer"]:has([data-testid="stDataFrame"]) {{
    display: none !important;
  }}
  .{PRINT_CLASS} {{ display: block !important; }}
  .{PRINT_CLASS} table {{ border-collapse: collapse; width: 100%; font-size: 9pt; }}
  .{PRINT_CLASS} th, .{PRINT_CLASS} td {{ border: 1px solid #999; padding: 2px 4px; text-align: left; }}
  [data-testid="stVegaLiteChart"] {{ break-inside: avoid; }}
  [data-testid="stTabs"] [role="tabpanel"][hidden] {{ display: block !important; }}
}}
</style>
"""


def inject() -> None:
    """Add the print and narrow-screen rules to the page (no visible element)."""
    st.html(PAGE_CSS)


def _cell(value: object) -> str:
    return "" if value is None else html.escape(str(value))


def print_html(frame: pl.DataFrame, limit: int = PRINT_ROWS) -> str:
    """``frame`` as a plain HTML table (escaped), hidden on screen and shown in print."""
    head = "".join(f"<th>{_cell(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in frame.head(limit).iter_rows()
    )
    more = frame.height - limit
    note = f"<p>… and {more:,} more rows (download the table for all of them).</p>" if more > 0 else ""
    return f'<div class="{PRINT_CLASS}"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}</div>'


def print_copy(frame: pl.DataFrame) -> None:
    """Draw the print copy of a table just drawn (call inside a container keyed ``table_...``)."""
    st.html(print_html(frame))


def table(frame: pl.DataFrame, *, key: str, height: int | None = None) -> None:
    """``st.dataframe`` in a keyed container (tests find it by ``key``), with its print copy."""
    with st.container(key=TABLE_KEY_PREFIX + key):
        if height is None:
            st.dataframe(frame, hide_index=True, width="stretch")
        else:
            st.dataframe(frame, hide_index=True, width="stretch", height=height)
        print_copy(frame)
