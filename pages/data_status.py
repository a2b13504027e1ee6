"""Data status: when the data was loaded, whether it passed validation, and what is in the database."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import app_state
from dashboard.contract import TABLE_NAMES

ctx = app_state.page_context(
    "Data status", "Can these numbers be trusted: when was the data loaded, and did it pass validation?"
)
runs = ctx.tables.load_runs
st.subheader("Load runs")
if runs.height:
    table = (
        runs.sort("started_at", descending=True)
        .head(20)
        .select(
            pl.col("kind").alias("Kind"),
            pl.col("started_at").dt.strftime("%Y-%m-%d %H:%M").alias("Started"),
            pl.col("finished_at").dt.strftime("%Y-%m-%d %H:%M").alias("Finished"),
            pl.col("as_of").cast(pl.String).alias("As of"),
            pl.col("status").alias("Status"),
            pl.col("validation_success").cast(pl.String).replace({"true": "passed", "false": "rows rejected"})
            .fill_null("not run").alias("Validation"),
            pl.col("rows_loaded").alias("Rows loaded"),
            pl.col("rows_rejected").alias("Rows rejected"),
            pl.col("warnings").alias("Warnings"),
            pl.col("source").alias("Source"),
        )
    )
    app_state.show_table(table, key="data_status_runs")
else:
    st.warning("No load run is recorded: the tables were filled outside `partnership-dashboard load`, so they "
               "were not validated. Load the extract with `partnership-dashboard load DIR`.")

run = ctx.status.last_run
files = app_state.load_files(ctx.url, ctx.status.run_key)
if run and files.height:
    st.subheader("Files of the latest load")
    latest = (
        files.filter(pl.col("run_id") == run["run_id"])
        .sort("table_name")
        .select(
            pl.col("table_name").alias("Table"),
            pl.col("file_name").alias("File"),
            pl.col("rows_read").alias("Rows read"),
            pl.col("rows_loaded").alias("Loaded"),
            pl.col("rows_rejected").alias("Rejected (quarantined)"),
            pl.col("duplicates_dropped").alias("Duplicates dropped"),
            pl.col("warnings").alias("Warnings"),
            pl.when(pl.col("file_rejected")).then(pl.lit("file rejected: ") + pl.col("missing_columns").fill_null(""))
            .when(pl.col("validation_success").eq(False)).then(pl.lit("rows rejected"))
            .when(pl.col("validation_success").eq(True)).then(pl.lit("passed"))
            .otherwise(pl.lit("not validated")).alias("Validation"),
        )
    )
    app_state.show_table(latest, key="data_status_files")

st.subheader("Rows in the database")
counts = pl.DataFrame(
    {"Table": list(TABLE_NAMES), "Rows": [getattr(ctx.tables, name).height for name in TABLE_NAMES]}
)
st.dataframe(counts, hide_index=True)
st.subheader("Data quality")
if (Path(__file__).resolve().parent / "data_quality.py").exists():
    app_state.page_link(st, "pages/data_quality.py", "Data quality: checks per table and agency, quarantine, scorecards →")
st.markdown(
    "- Rejected rows are kept in quarantine with the file, line and every rule they broke; run "
    "`partnership-dashboard check DIR` to validate an extract without loading it and write the data docs.\n"
    "- Metric definitions: see each chart's **Definition** button, or `docs/metrics.md`."
)
