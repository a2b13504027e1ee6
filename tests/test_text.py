"""dashboard.text: partner text shown as text in Markdown, charts, HTML and file names."""

from __future__ import annotations

import re

import pytest

from dashboard import text


def live_pieces(source: str, pieces: list[str] | tuple[str, ...]) -> list[str]:
    """The pieces found in ``source`` whose first character is not backslash-escaped."""
    return [p for p in pieces if any(m.start() == 0 or source[m.start() - 1] != "\\"
                                     for m in re.finditer(re.escape(p), source))]


def unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown).replace(text.WORD_JOINER, "")


@pytest.mark.parametrize("raw, live", [
    ("![p](http://host/pixel.png)", ["![", "]("]),
    ("[Re-login here](http://host/login)", ["](", "http://"]),
    ("**bold** __also__", ["**", "__"]),
    (":red[x] :material/home: :smile:", [":red[", ":material/"]),
    ("$x^2$", ["$x"]),
    ("<img src=x onerror=alert(1)>", ["<img"]),
    ("www.example.org and a@b.org", ["www.", "a@b"]),
    ("# heading", ["# "]),
    ("`code`", ["`c"]),
])
def test_markdown_text_escapes_every_construct_and_reads_the_same(raw: str, live: list[str]) -> None:
    escaped = text.markdown_text(raw)
    assert not live_pieces(escaped, live), escaped
    assert live_pieces(raw, live) == live  # the check itself sees the raw constructs
    assert unescaped(escaped) == raw


def test_autolinks_are_broken_by_an_invisible_word_joiner() -> None:
    # GitHub autolinks are found after escapes are resolved, so escaping alone leaves them live.
    assert text.escape_markdown("http://h.org") == "http\\:" + text.WORD_JOINER + "\\/\\/h\\.org"
    assert text.escape_markdown("WWW.h.org") == "WWW" + text.WORD_JOINER + "\\.h\\.org"
    assert text.escape_markdown("a@h.org") == "a" + text.WORD_JOINER + "\\@h\\.org"


def test_clean_text_makes_one_line_without_controls() -> None:
    assert text.clean_text("a\nb\r\n\tc  d\u202eE\x00f ") == "a b c dE f"
    assert text.clean_text(None) == ""
    assert text.clean_text(12) == "12"


def test_shorten_keeps_the_start_and_marks_the_cut() -> None:
    name = "x" * 2000
    short = text.shorten(name, 80)
    assert len(short) == 80 and short == "x" * 79 + "…"
    assert text.shorten("short", 80) == "short"
    # Never separates a letter from its combining accent: "e" + U+0301 at the cut moves the cut back.
    assert text.shorten("abcde\u0301fgh", 6) == "abcd…"
    assert text.markdown_text(name).endswith("…") and len(text.markdown_text(name)) == 80


def test_label_and_chart_text_are_plain_and_short() -> None:
    assert text.label_text("**b** [x](y)") == "**b** [x](y)"
    assert text.chart_text("a" * 500, 200) == "a" * 199 + "…"


def test_html_text() -> None:
    assert text.html_text('<img src="x" onerror=alert(1)>') == "&lt;img src=&quot;x&quot; onerror=alert(1)&gt;"


def test_file_name_part_is_safe_and_distinct() -> None:
    assert text.file_name_part("../../etc/passwd") == "etc_passwd"
    assert text.file_name_part("Safe Return: Reentry") == "Safe_Return_Reentry"
    assert text.file_name_part("***") == "export"
    assert text.file_name_part("Zürich-Ost") == "Z_rich-Ost"
    a, b = text.file_name_part("P" * 300 + "1", 60), text.file_name_part("P" * 300 + "2", 60)
    assert a != b and len(a) == 60 and re.fullmatch(r"P+_[0-9a-f]{8}", a)
