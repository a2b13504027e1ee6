"""Partnership Pilot Dashboard — the entry script.

Run with ``partnership-dashboard demo`` / ``serve`` (or ``streamlit run
streamlit_app.py`` with ``DATABASE_URL`` set). This script owns what every
page shares: the navigation, the database status and the shared filters,
which live in the sidebar and in the URL so a copied link reopens the same
view. Each page in ``pages/`` only draws its own question.
"""

from __future__ import annotations

import streamlit as st

from dashboard import app_access, app_links, app_page, page_list, page_style

st.set_page_config(page_title="Partnership Pilot Dashboard", page_icon=":material/monitoring:", layout="wide")

principal = app_access.current_principal()
PAGES = [st.Page(p.path, title=p.title, icon=p.icon, default=p.default) for p in page_list.visible_pages(principal.role)]

navigation = st.navigation(PAGES)
page_style.inject()  # print and narrow-screen rules, once for every page
app_access.login_gate(principal)
context = app_page.prepare()
app_access.record_page_view(navigation.title, app_links.params_from_filters(context.filters) if context else {})
app_access.show_log_problem()
try:
    navigation.run()
except BaseException as exc:  # noqa: BLE001 - polars panics are BaseExceptions too
    app_page.page_failed(exc)  # re-raises st.stop / st.rerun; explains anything else
