"""Partner text is data, never markup: one place that makes extract text safe to show.

Agency and program names, ids, grant ids, jurisdictions, race/ethnicity
values and every other string that arrives in a partner extract (see
``docs/data-contract.md``) are *data*. Shown as they are, several of the
dashboard's outputs would read them as markup:

- Streamlit renders the text of ``st.title``, ``st.header``/``subheader``,
  ``st.caption``, ``st.markdown``, ``st.info``/``warning``/``error``/
  ``success``, ``st.metric`` labels and ``help`` tooltips, tab labels, radio
  and segmented-control options, button and popover labels as Markdown with
  extensions: links and images (an image is fetched by the viewer's browser,
  so a name can plant a tracking pixel or a fake "log in again" link), bold,
  ``:red[colour]``, ``:material/icons:``, KaTeX between ``$`` signs, and
  GitHub's *autolinks*, which turn any ``www.x.org``, ``http://…`` or
  ``name@host.org`` in plain text into a live link.
- HTML (the report) would run ``<img onerror=…>``.
- A file name built from an id could leave its folder or fail on a file
  system.
- A 2,000-character name makes captions unreadable, and chart images so wide
  that rendering them fails.

Which helper for which place
----------------------------

==========================================  ===============================================
Where the text goes                         Helper
==========================================  ===============================================
any Markdown-rendering Streamlit element    :func:`markdown_text` (cleaned, shortened,
(list above)                                escaped); :func:`markdown_full` when the whole
                                            text must stay (e.g. an error message)
selectbox / multiselect option labels       :func:`label_text` (plain text there; shortened)
(``format_func``)
chart titles, subtitles, axis, legend and   :func:`chart_text` (Vega draws text as text;
tooltip text, image alt text                only cleaned and shortened)
table cells, CSV, XLSX                      nothing here: full text, plain (the exports
                                            neutralise spreadsheet formulas themselves)
HTML                                        :func:`html_text`
file names (downloads, report files)        :func:`file_name_part`
==========================================  ===============================================

Shortening keeps the start of the text and ends it with ``…``
(:data:`DISPLAY_LIMIT` characters for names in sentences); tables and
downloads always keep the full text, so nothing is lost, only folded.

This module imports nothing from the project, so any page, chart, export or
report (and new pages) can use it without import cycles.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

__all__ = [
    "DISPLAY_LIMIT",
    "ELLIPSIS",
    "chart_text",
    "clean_text",
    "escape_markdown",
    "file_name_part",
    "html_text",
    "label_text",
    "markdown_full",
    "markdown_text",
    "shorten",
]

DISPLAY_LIMIT = 80
"""Characters of one name shown in a sentence, caption, chart title or option label."""

ELLIPSIS = "…"

# Every ASCII punctuation character may be backslash-escaped in CommonMark, and an escaped one
# is always literal text. Escaping them all covers Markdown, GitHub's extensions (tables,
# strikethrough), Streamlit's directives (``:red[...]``, ``:material/...:``) and KaTeX (``$``).
_MARKDOWN_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

# GitHub-flavoured Markdown finds autolinks in the text *after* escapes are resolved, so
# escaping cannot stop ``www.``, ``scheme://`` or ``user@host`` from becoming links. An
# invisible WORD JOINER (U+2060) placed inside each of those patterns breaks the match and
# shows nothing.
WORD_JOINER = "\u2060"
_AUTOLINK_BREAKS = (
    re.compile(r"(?i)(?<=www)(?=\.)"),  # www.example.org
    re.compile(r"(?<=:)(?=//)"),  # any scheme: http://, https://, ftp://
    re.compile(r"(?=@)"),  # name@example.org (also after mailto: or xmpp:)
)

# Characters that change how text around them is laid out or read but show nothing themselves:
# bidirectional overrides and isolates (which can make "gpj.exe" read as "exe.jpg") and marks.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_SPACES = re.compile(r"\s+")


def clean_text(value: object) -> str:
    """``value`` as one line of text: ``None`` becomes ``""``; line breaks, tabs and other
    control characters become spaces; bidirectional overrides are removed; runs of spaces
    are collapsed and the ends trimmed."""
    if value is None:
        return ""
    text = str(value)
    if text.isprintable() and "  " not in text and text == text.strip():
        return text  # the common case, fast
    out = []
    for ch in text:
        if ch in _BIDI_CONTROLS:
            continue
        category = unicodedata.category(ch)
        out.append(" " if category in ("Cc", "Zl", "Zp") or ch.isspace() else ch)
    return _SPACES.sub(" ", "".join(out)).strip()


def shorten(value: object, limit: int = DISPLAY_LIMIT) -> str:
    """The cleaned text, cut to at most ``limit`` characters ending in ``…`` when longer.

    The cut never splits a letter from its combining accents.
    """
    text = clean_text(value)
    if limit <= 0 or len(text) <= limit:
        return text
    cut = max(limit - len(ELLIPSIS), 0)
    while 0 < cut < len(text) and unicodedata.combining(text[cut]):
        cut -= 1
    return text[:cut].rstrip() + ELLIPSIS


def escape_markdown(text: str) -> str:
    """``text`` escaped so that Streamlit's Markdown shows it character for character.

    Does not clean or shorten (see :func:`markdown_text`); line breaks are kept, so
    callers clean one-line text first.
    """
    for pattern in _AUTOLINK_BREAKS:
        text = pattern.sub(WORD_JOINER, text)
    return "".join("\\" + ch if ch in _MARKDOWN_PUNCTUATION else ch for ch in text)


def markdown_text(value: object, limit: int = DISPLAY_LIMIT) -> str:
    """Extract text for a Markdown-rendering element: one line, at most ``limit``
    characters (``0``: no limit), every Markdown, HTML, colour, icon, KaTeX and link
    construct shown as the characters it is made of."""
    return escape_markdown(shorten(value, limit))


def markdown_full(value: object) -> str:
    """Like :func:`markdown_text` without shortening (messages that must be read whole)."""
    return escape_markdown(clean_text(value))


def label_text(value: object, limit: int = DISPLAY_LIMIT) -> str:
    """An option label for ``st.selectbox`` / ``st.multiselect`` (drawn as plain text there):
    cleaned and shortened, not escaped (escapes would show)."""
    return shorten(value, limit)


def chart_text(value: object, limit: int = DISPLAY_LIMIT) -> str:
    """Text for a chart (Vega-Lite draws text as text, not markup): cleaned and shortened so
    that titles stay on the page and chart images keep a sane size."""
    return shorten(value, limit)


def html_text(value: object) -> str:
    """``value`` escaped for HTML element content and quoted attributes (full text)."""
    return html.escape("" if value is None else str(value), quote=True)


def file_name_part(value: object, limit: int = 60) -> str:
    """A piece of a file name that is safe on every file system and in a download.

    ASCII letters, digits, ``-`` and ``_`` only (anything else becomes ``_``; runs of
    ``_`` are folded), never empty, never starting with ``-`` or ``.``, at most ``limit``
    characters. A longer value is cut and ends with 8 hexadecimal digits of its SHA-256,
    so two long ids that share a beginning still give different names.
    """
    text = clean_text(value)
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", text)
    safe = re.sub(r"_{2,}", "_", safe).strip("_-") or "export"
    if len(safe) > limit:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        safe = safe[: max(limit - 9, 1)].rstrip("_-") + "_" + digest
    return safe
