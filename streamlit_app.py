"""Partnership Pilot Dashboard — the entry script.

Run with ``partnership-dashboard demo`` / ``serve`` (or ``streamlit run
streamlit_app.py`` with ``DATABASE_URL`` set). This script owns what every
page shares: the navigation, the database status and the shared filters,
which live in the sidebar and in the URL so a copied link reopens the same
view. Each page in ``pages/`` only draws its own question.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import app_access, app_state

st.set_page_config(page_title="Partnership Pilot Dashboard", page_icon=":material/monitoring:", layout="wide")

HERE = Path(__file__).resolve().parent
PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/pilot_evaluation.py", title="Pilot evaluation", icon=":material/balance:"),
    st.Page("pages/recidivism.py", title="Recidivism", icon=":material/replay:"),
    st.Page("pages/reintegration.py", title="Reintegration", icon=":material/work:"),
    st.Page("pages/referrals.py", title="Referrals", icon=":material/send:"),
    st.Page("pages/compliance.py", title="Compliance", icon=":material/task_alt:"),
    st.Page("pages/partnerships.py", title="Partnerships", icon=":material/handshake:"),
    st.Page("pages/community_policing.py", title="Community policing", icon=":material/local_police:"),
    st.Page("pages/operations.py", title="Operations", icon=":material/payments:"),
    st.Page("pages/community_voice.py", title="Community voice", icon=":material/forum:"),
    st.Page("pages/equity.py", title="Equity", icon=":material/diversity_3:"),
    st.Page("pages/data_status.py", title="Data status", icon=":material/database:"),
]
# Pages other parts of the product may add (data quality for stewards, reports).
for optional, title, icon in (
    ("pages/data_quality.py", "Data quality", ":material/fact_check:"),
    ("pages/report.py", "Report", ":material/description:"),
):
    if (HERE / optional).exists():
        PAGES.append(st.Page(optional, title=title, icon=icon))
principal = app_access.current_principal()
if principal.role == "admin":  # the engine refuses the log to anyone else; the page is not even listed
    PAGES.append(st.Page("pages/access_log.py", title="Access log", icon=":material/policy:"))

navigation = st.navigation(PAGES)
app_access.login_gate(principal)
context = app_state.prepare()
app_access.record_page_view(navigation.title, app_state.params_from_filters(context.filters) if context else {})
app_access.show_log_problem()
try:
    navigation.run()
except BaseException as exc:  # noqa: BLE001 - polars panics are BaseExceptions too
    app_state.page_failed(exc)  # re-raises st.stop / st.rerun; explains anything else
