"""Data status: when the data was loaded, whether it passed validation, and what is in the database.

Thin page: the tables come from ``dashboard.steward_views`` (table names in words
from the contract, counts with thousands separators).
"""

from __future__ import annotations

import streamlit as st

from dashboard import app_page, app_state, page_downloads, page_style
from dashboard import steward_views as sv
from dashboard.contract import TABLE_NAMES

ctx = app_page.page_context(
    "Data status", "Can these numbers be trusted: when was the data loaded, and did it pass validation?",
    status_link=False,  # no link to this page from itself
)
runs = ctx.tables.load_runs
st.subheader("Load runs")
if runs.height:
    page_downloads.show_table(sv.load_runs_table(runs), key="data_status_runs", title="Load runs")
else:
    st.warning("No load run is recorded: the tables were filled outside `partnership-dashboard load`, so they "
               "were not validated. Load the extract with `partnership-dashboard load DIR`.")

run = ctx.status.last_run
files = app_state.load_files(ctx.url, ctx.status.run_key)
if run and files.height:
    st.subheader("Files of the latest load")
    page_downloads.show_table(sv.latest_files_table(files, run["run_id"]), key="data_status_files",
                              title="Files of the latest load")

st.subheader("Rows in the database")
counts = sv.row_counts_table({name: getattr(ctx.tables, name).height for name in TABLE_NAMES})
page_style.table(counts, key="data_status_counts", height=36 * (counts.height + 1) + 4)  # every table visible
st.subheader("Data quality")
app_page.page_link(st, "pages/data_quality.py", "Data quality: what each partner must fix, checks, quarantine →")
st.markdown(
    "- Rejected rows are kept in quarantine with the file, line and every rule they broke; run "
    "`partnership-dashboard check DIR` to validate an extract without loading it and write the data docs.\n"
    "- Metric definitions: see each chart's **Definition** button, or `docs/metrics.md`."
)
