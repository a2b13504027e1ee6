"""A page's own view choices in the URL: breakdowns, measures, tabs.

The shared filters already live in the URL (``dashboard.app_state``). This
module does the same for what each page lets the user pick — the equity
breakdown dimension, the measure tab, the question shown — so a copied link
reopens the exact view:

* :func:`choice` draws a selectbox / radio / segmented control whose value
  starts from the link's parameter and is written back to it;
* :func:`tabs` does the same for ``st.tabs`` (the tab label is the value).

A link is read as hardened as the filters are: only the listed options are
accepted (compared as whole strings, never parsed or evaluated), a value is
quoted shortened in messages, and everything that was not accepted is named
in ONE message per page (:func:`show_problems`), after which the default is
shown. Parameters equal to the default are left out of the URL to keep links
short. Page links carry only the shared filters, so a page's view choices
reset when another page is opened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from dashboard import text as safe_text

_PROBLEMS_KEY = "_view_link_problems"
#: A parameter longer than this is not compared at all (no option is this long).
MAX_VALUE_CHARS = 200


def _quoted(value: str) -> str:
    return safe_text.shorten(value, 40)


def _from_link(param: str, allowed: Sequence[str]) -> str | None:
    """The link's value of ``param`` if it is one of ``allowed``; otherwise None and a problem noted."""
    values = st.query_params.get_all(param)
    if not values:
        return None
    value = str(values[-1])
    if len(value) <= MAX_VALUE_CHARS and value in allowed:
        return value
    shown = ", ".join(allowed[:12]) + (", …" if len(allowed) > 12 else "")
    problems: list[str] = st.session_state.setdefault(_PROBLEMS_KEY, [])
    message = f"{param}={_quoted(value)} is not one of {shown}; showing the default"
    if message not in problems:
        problems.append(message)
    return None


def _write_back(param: str, value: str | None, default: str | None) -> None:
    current = st.query_params.get_all(param)
    if value is None or value == default:
        if current:
            del st.query_params[param]
    elif current != [value]:
        st.query_params[param] = value


def _seed(key: str, param: str, allowed: Sequence[str], default: str | None) -> str | None:
    """The start value of a widget drawn for the first time in this page visit (URL, else default)."""
    linked = _from_link(param, allowed)
    return linked if linked is not None else default


def choice(
    widget: Callable[..., Any],
    label: str,
    options: Sequence[str],
    *,
    param: str,
    key: str,
    default: str | None = None,
    format_func: Callable[[Any], str] = str,
    **kwargs: Any,
) -> str | None:
    """``widget(label, options, key=key, ...)`` whose value lives in the URL parameter ``param``.

    ``widget`` is ``st.selectbox``, ``st.radio`` or ``st.segmented_control``
    (or the same method of a container). ``default`` (first option when
    None) is the value when the link names none or an unknown one.
    """
    options = list(options)
    default = default if default is not None else (options[0] if options else None)
    if key not in st.session_state:
        st.session_state[key] = _seed(key, param, options, default)
    value = widget(label, options, key=key, format_func=format_func, **kwargs)
    if value is None and default is not None and getattr(widget, "__name__", "") == "segmented_control":
        value = default  # a segmented control can be clicked off: the view falls back to the default
    _write_back(param, value, default)
    return value  # type: ignore[no-any-return]


def tabs(labels: Sequence[str], *, param: str, key: str, container: Any = None) -> Sequence[Any]:
    """``st.tabs(labels)`` whose selected tab lives in the URL parameter ``param`` (the tab's label).

    Switching tabs reruns the page (Streamlit's ``on_change="rerun"``) so the
    URL follows; every tab's content is still drawn, as before.
    """
    labels = list(labels)
    target = container if container is not None else st
    kwargs: dict[str, Any] = {}
    if key not in st.session_state:
        start = _seed(key, param, labels, labels[0])
        if start != labels[0]:
            kwargs["default"] = start
    drawn = target.tabs(labels, key=key, on_change="rerun", **kwargs)
    selected = st.session_state.get(key)
    _write_back(param, selected if selected in labels else None, labels[0])
    return drawn  # type: ignore[no-any-return]


def show_problems(container: Any = None) -> None:
    """Name, in ONE message, every view choice of the link that was not accepted (then forget them)."""
    problems: list[str] = st.session_state.pop(_PROBLEMS_KEY, [])
    if problems:
        from dashboard.app_links import problems_markdown  # the filters' message format

        (container or st).warning(problems_markdown(problems), icon=":material/link_off:")
