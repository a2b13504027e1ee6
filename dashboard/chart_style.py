"""How the charts look: colours for Streamlit's light and dark themes, title wrapping,
the suppression legend, and the WCAG contrast arithmetic the tests use to prove that
every text colour is legible on the background it is drawn on.

No Streamlit import: the page tells :func:`set_theme` which theme the viewer uses
(``st.context.theme.type``) and every builder in :mod:`dashboard.charts` reads it through
:func:`active_theme`. The choice lives in a context variable, so two viewers served by
two script threads never see each other's theme.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from dashboard.views import suppression_label


@dataclass(frozen=True)
class ChartTheme:
    """The colours a chart uses on one background. Text colours reach 4.5:1 against
    ``background`` (WCAG AA for normal text); ``rule`` (whiskers, zero and reference lines)
    and ``grid`` are graphics and reach 3:1 and stay subtle respectively."""

    name: str
    background: str
    text: str  # titles, axis and legend labels, value labels
    muted: str  # subtitles, suppressed-cell labels, withheld notes
    rule: str  # whiskers, zero line, reference line
    grid: str
    suppressed: str  # grey marks of a withheld cell (a graphic, 3:1)
    last_series: str  # the palette's eighth colour (black on light, near-white on dark)


# Backgrounds: Streamlit's default light and dark themes.
LIGHT = ChartTheme("light", "#FFFFFF", "#262730", "#4E5260", "#262730", "#E1E3E8", "#808080", "#000000")
DARK = ChartTheme("dark", "#0E1117", "#FAFAFA", "#B9BDC9", "#E6E8EE", "#3A3F4B", "#8C8C8C", "#F0F0F0")
THEMES: dict[str, ChartTheme] = {"light": LIGHT, "dark": DARK}

_ACTIVE: ContextVar[ChartTheme] = ContextVar("chart_theme", default=LIGHT)


def set_theme(name: str | None) -> ChartTheme:
    """Draw the charts of this script run for the ``"light"`` or ``"dark"`` theme (anything
    else, including None when the browser has not said yet, means light)."""
    theme = THEMES.get(str(name or "light").lower(), LIGHT)
    _ACTIVE.set(theme)
    return theme


def active_theme() -> ChartTheme:
    return _ACTIVE.get()


@contextmanager
def using_theme(name: str) -> Iterator[ChartTheme]:
    """Charts built inside the block use ``name``; the theme before it comes back after (the report
    package is always printed on white, whatever theme the page is viewed in)."""
    token = _ACTIVE.set(THEMES.get(name, LIGHT))
    try:
        yield _ACTIVE.get()
    finally:
        _ACTIVE.reset(token)


def theme_config(theme: ChartTheme) -> dict[str, Any]:
    """Vega-Lite ``config`` colouring every piece of text and furniture for ``theme``."""
    axis = {"labelColor": theme.text, "titleColor": theme.text, "gridColor": theme.grid,
            "domainColor": theme.muted, "tickColor": theme.muted}
    return {
        "background": theme.background,
        "title": {"color": theme.text, "subtitleColor": theme.muted},
        "axis": axis,
        "legend": {"labelColor": theme.text, "titleColor": theme.text},
        "header": {"labelColor": theme.text, "titleColor": theme.text},
        "text": {"color": theme.text},
        "view": {"stroke": None},
    }


# --- titles -------------------------------------------------------------------------------

TITLE_WRAP = 72
"""Characters per line of a chart title or subtitle line before it wraps onto the next line."""


def wrap_lines(text: str, width: int = TITLE_WRAP) -> list[str]:
    """``text`` broken at spaces into lines of at most ``width`` characters (a longer word stays whole)."""
    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False) or [text]


def wrap_title(text: str, width: int = TITLE_WRAP) -> str | list[str]:
    """A title that fits on one line stays a string; a longer one becomes a list of lines
    (Vega-Lite draws each on its own line), so it never runs past the chart's width."""
    lines = wrap_lines(text, width)
    return lines[0] if len(lines) == 1 else lines


# --- suppression legend ------------------------------------------------------------------------


def suppression_legend(min_cell_size: int) -> str:
    """The one sentence that explains every suppression mark a chart can carry.

    Rate and count bars write "Suppressed (n<k)" and shade the row grey, trend charts put a
    grey × (a cross) on the axis, the heatmap writes "<k" in a grey cell."""
    return (f"× / + or grey \"{suppression_label(min_cell_size)}\" = suppressed: fewer than "
            f"{min_cell_size}, withheld to protect privacy.")


def all_withheld_message(min_cell_size: int) -> str:
    """What a chart says instead of drawing an empty axis when every cell is withheld."""
    return (f"Nothing to draw: every cell is suppressed (fewer than {min_cell_size}) "
            "to protect privacy. Widen the filters to see more.")


# --- WCAG 2.x contrast ---------------------------------------------------------------------------


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of a ``#RRGGBB`` or ``#RGB`` colour."""
    hex_ = colour.lstrip("#")
    if len(hex_) == 3:
        hex_ = "".join(ch * 2 for ch in hex_)
    if len(hex_) != 6:
        raise ValueError(f"not a #RRGGBB colour: {colour!r}")
    r, g, b = (int(hex_[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    """(L1 + 0.05) / (L2 + 0.05), lighter over darker: 1 (none) to 21 (black on white)."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)
