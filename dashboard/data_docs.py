"""Great Expectations data docs, shown inside the dashboard without a network and without framing it.

``partnership-dashboard check`` writes GX's HTML data docs (docs/stewardship.md).
Opened as they are, inside the dashboard, they fail twice: their styles and
scripts come from public CDNs (unstyled when offline), and their links are
relative, so following one inside the frame loads the dashboard itself in it.

Here each page of the docs becomes a static, self-contained copy:

* every ``<script>`` and every stylesheet link is removed; GX's own style
  sheet shipped with the ``great_expectations`` package (found without
  importing it, which is slow) and a small local style sheet are inlined;
* every link loses its target (``href``), so nothing inside the frame can
  navigate; the page offers the docs' pages in a list instead
  (:func:`docs_pages`);
* a Content-Security-Policy forbids the copy any script, network request or
  form, should anything be missed.

The index page of the data docs builds its table with a script, so without
scripts it is empty: :func:`docs_pages` lists the validation result pages
themselves, newest first.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

#: Inlined into every copy: no script, no request, no form, no navigation of the frame.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
       "form-action 'none'; base-uri 'none'")
LOCAL_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0.5rem 1rem;
       color: #1f2933; background: #ffffff; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.5rem 0; max-width: 100%; }
th, td { border: 1px solid #c9ced6; padding: 0.25rem 0.5rem; vertical-align: top; text-align: left; }
th { background: #eef1f5; }
.card { border: 1px solid #c9ced6; border-radius: 4px; margin: 0.75rem 0; padding: 0.5rem; }
.card-header { font-weight: 600; margin-bottom: 0.25rem; }
.text-danger { color: #b3261e; } .text-success { color: #0b6b3a; }
.collapse:not(.show) { display: block; }
nav, .navbar, .sticky, #ge-sidebar, .ge-sidebar, footer { display: none !important; }
a { color: inherit; text-decoration: none; }
code, pre { white-space: pre-wrap; word-break: break-word; }
"""
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>|<script\b[^>]*/?>", re.IGNORECASE | re.DOTALL)
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"""\s(?:href|src|action|formaction|srcset|ping)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_EVENT = re.compile(r"""\son[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_BASE_META = re.compile(r"<(?:base|meta\s+http-equiv)\b[^>]*>", re.IGNORECASE)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)


def gx_stylesheet() -> str:
    """GX's default data-docs style sheet from the installed package, or empty when it is not installed."""
    spec = importlib.util.find_spec("great_expectations")
    if spec is None or not spec.submodule_search_locations:
        return ""
    for location in spec.submodule_search_locations:
        css = Path(location) / "render" / "view" / "static" / "styles" / "data_docs_default_styles.css"
        if css.is_file():
            text = css.read_text(encoding="utf-8", errors="replace")
            return re.sub(r"@import[^;]*;|url\([^)]*\)", "", text)  # nothing fetched from elsewhere
    return ""


def offline_copy(html: str, gx_css: str | None = None) -> str:
    """``html`` (one data-docs page) without scripts, external styles, links or handlers, styles inlined."""
    css = gx_stylesheet() if gx_css is None else gx_css
    text = _SCRIPT.sub("", html)
    text = _LINK_TAG.sub("", text)
    text = _BASE_META.sub("", text)
    text = _EVENT.sub("", text)
    text = _HREF.sub("", text)
    head = (f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<style>{css}</style><style>{LOCAL_CSS}</style>")
    if _HEAD.search(text):
        return _HEAD.sub(lambda m: m.group(0) + head, text, count=1)
    return f"<!DOCTYPE html><html><head>{head}</head><body>{text}</body></html>"


def docs_pages(docs_dir: Path) -> list[str]:
    """The data docs' pages as paths relative to ``docs_dir``: validation results newest first, then
    the index. Only regular files inside ``docs_dir`` (no link out of it) are listed."""
    root = docs_dir.resolve()
    if not root.is_dir():
        return []
    found = []
    for path in root.rglob("*.html"):
        try:
            resolved = path.resolve()
            resolved.relative_to(root)
        except (OSError, ValueError):
            continue
        if path.is_symlink() or not resolved.is_file():
            continue
        found.append(path.relative_to(root).as_posix())
    validations = sorted((p for p in found if p.startswith("validations/")), reverse=True)
    return validations + [p for p in found if p == "index.html"]


def page_label(relative: str) -> str:
    """A docs page in words: ``validations/suite/run/20261202T1400Z/batch.html`` -> ``suite · 20261202T1400Z``."""
    if relative == "index.html":
        return "Index (its table needs scripts: pick a validation result instead)"
    parts = relative.removesuffix(".html").split("/")
    if parts and parts[0] == "validations" and len(parts) >= 2:
        suite = parts[1]
        stamp = next((p for p in parts[2:] if re.match(r"^\d{8}T\d{6}", p)), parts[-1])
        return f"{suite} · {stamp}"
    return relative


def read_page(docs_dir: Path, relative: str) -> str:
    """The offline copy of one listed page; ``ValueError`` for a path :func:`docs_pages` does not list."""
    if relative not in docs_pages(docs_dir):
        raise ValueError(f"{relative!r} is not a page of the data docs in {docs_dir}")
    return offline_copy((docs_dir.resolve() / relative).read_text(encoding="utf-8", errors="replace"))
