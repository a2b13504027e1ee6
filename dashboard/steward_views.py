"""Display tables of the Data quality and Data status pages: friendly headers, words, percentages.

The engine (``dashboard.stewardship``) returns frames with column names and
codes a program reads (``open_rejections``, ``0.8416``, ``A03``). The pages
show people the same numbers under headers in words, shares as percentages,
counts with thousands separators, table names in words (from the contract's
table list, see docs/data-contract.md) and partner names from the agencies
table. Numbers are copied, never recomputed. Status words carry a symbol too
(✖ / ▲ / ✔), so a status never depends on colour alone.

Also here: who the page is talking to (:func:`steward_scope`), so the page
itself decides nothing about access.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from dashboard.contract import TABLE_NAMES
from dashboard.roles import STEWARD, VIEWER, Principal
from dashboard.worklist import partner_label, table_label

STATUS_LABEL = {"pass": "✔ Pass", "warn": "▲ Warn", "fail": "✖ Fail", "not_loaded": "– Not loaded"}
STATUS_WORD = {"pass": "Pass", "warn": "Warn", "fail": "Fail", "not_loaded": "Not loaded"}
#: Colour-blind-safe categorical colours (Okabe and Ito, 2008), used by the page's charts.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def count_text(value: object) -> str:
    """A count with thousands separators; an em dash for none."""
    if value is None:
        return "—"
    return f"{int(value):,}"  # type: ignore[call-overload]


def percent_text(value: object, digits: int = 1) -> str:
    """A share (0..1) as a percentage: ``0.8416`` -> ``84.2%``; an em dash for none."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.{digits}f}%"  # type: ignore[arg-type]


def _counts(frame: pl.DataFrame, columns: Mapping[str, str]) -> list[pl.Expr]:
    return [pl.col(c).map_elements(count_text, return_dtype=pl.String, skip_nulls=False).alias(h)
            for c, h in columns.items() if c in frame.columns]


@dataclass(frozen=True)
class StewardScope:
    """The role the page works in, and the sentence that tells the user what they may see."""

    role: str
    caption: str


def steward_scope(principal: Principal) -> StewardScope:
    """Steward (row-level, perhaps limited to agencies) or viewer (aggregates only)."""
    if principal.row_level:
        scope = ("" if principal.all_agencies
                 else f", limited to the rows of agencies {', '.join(sorted(principal.agencies or ()))}")
        return StewardScope(STEWARD, f"Role: **{principal.role}** — row-level quarantine with the rejected "
                                     f"values is shown{scope}.")
    return StewardScope(VIEWER, "Role: **viewer** — aggregates only. Rejected rows and their values need the "
                                "steward role (see docs/stewardship.md).")


def worklist_table(worklist: pl.DataFrame, *, with_lines: bool) -> pl.DataFrame:
    """The worklist under headers in words; the decisive columns (what to fix, rows) come first."""
    out = worklist.select(
        pl.col("partner").alias("Partner agency"),
        pl.col("what_to_fix").alias("What to fix"),
        pl.col("rows").map_elements(count_text, return_dtype=pl.String).alias("Rows"),
        pl.col("share_of_partner").map_elements(percent_text, return_dtype=pl.String)
        .alias("Share of the partner's rejected rows"),
        pl.col("table").alias("Table"),
        *([pl.col("example_lines").alias("Example lines (file and line)")] if with_lines else []),
        pl.col("rule").alias("Rule id"),
    )
    return out


def table_status_table(tables: pl.DataFrame) -> pl.DataFrame:
    """``table_status`` in words, worst first (fail, warn, pass, not loaded), then by open rows."""
    order = {"fail": 0, "warn": 1, "pass": 2, "not_loaded": 3}
    ranked = tables.with_columns(
        pl.col("status").replace_strict(order, default=4, return_dtype=pl.Int64).alias("_rank"),
        pl.col("table_name").replace_strict({t: i for i, t in enumerate(TABLE_NAMES)}, default=99,
                                            return_dtype=pl.Int64).alias("_order"),
    ).sort(["_rank", "open_rejections", "_order"], descending=[False, True, False])
    return ranked.select(
        pl.col("table_name").map_elements(table_label, return_dtype=pl.String).alias("Table"),
        pl.col("status").replace_strict(STATUS_LABEL, default=pl.col("status")).alias("Status"),
        *_counts(ranked, {"open_rejections": "Rows held in quarantine", "warnings": "Warnings",
                          "cross_load_warnings": "Checks across loads fired", "rows_read": "Rows read (last load)",
                          "rows_loaded": "Rows loaded", "rows_rejected": "Rows rejected",
                          "duplicates_dropped": "Duplicates dropped"}),
        pl.col("started_at").dt.strftime("%Y-%m-%d %H:%M").alias("Last loaded"),
    )


def agency_status_table(agencies: pl.DataFrame) -> pl.DataFrame:
    """``agency_status`` in words, worst first, partners named."""
    order = {"fail": 0, "warn": 1, "pass": 2, "not_loaded": 3}
    names = {a: n for a, n in agencies.select("agency_id", "agency_name").iter_rows() if n}
    ranked = agencies.with_columns(
        pl.col("status").replace_strict(order, default=4, return_dtype=pl.Int64).alias("_rank")
    ).sort(["_rank", "open_rejections", "agency_id"], descending=[False, True, False])
    return ranked.select(
        pl.col("agency_id").map_elements(lambda a: partner_label(a, names), return_dtype=pl.String)
        .alias("Partner agency"),
        pl.col("status").replace_strict(STATUS_LABEL, default=pl.col("status")).alias("Status"),
        *_counts(ranked, {"open_rejections": "Rows held in quarantine", "warnings": "Warnings",
                          "cross_load_warnings": "Checks across loads fired"}),
    )


def findings_table(findings: pl.DataFrame) -> pl.DataFrame:
    """Each rule broken, in words, most rows first within errors, then warnings."""
    return findings.select(
        pl.col("description").alias("What is wrong"),
        pl.col("rows").map_elements(count_text, return_dtype=pl.String).alias("Rows"),
        pl.col("level").replace_strict({"error": "Rejected", "warning": "Warning (loaded)"}, default=pl.col("level"))
        .alias("Effect"),
        pl.col("table").map_elements(table_label, return_dtype=pl.String).alias("Table"),
        pl.col("agencies").map_elements(count_text, return_dtype=pl.String).alias("Partners affected"),
        pl.col("rule").alias("Rule id"),
    )


def quarantine_counts_table(counts: pl.DataFrame, names: Mapping[str, str]) -> pl.DataFrame:
    """The viewer's quarantine counts (per table, partner and rule) in words."""
    from dashboard.contract import describe_rule

    return counts.select(
        pl.col("agency_id").map_elements(lambda a: partner_label(a, names), return_dtype=pl.String)
        .alias("Partner agency"),
        pl.struct("rule", "table_name").map_elements(lambda s: describe_rule(s["rule"], s["table_name"]),
                                                     return_dtype=pl.String).alias("What is wrong"),
        pl.col("rows").alias("Rows"),
        pl.col("table_name").map_elements(table_label, return_dtype=pl.String).alias("Table"),
        pl.col("rule").alias("Rule id"),
    )


QUARANTINE_HEADERS = {
    "table_name": "Table", "source_file": "File", "line_number": "Line", "record_key": "Record key",
    "agency_id": "Partner agency", "rules": "Rules broken", "reasons": "Reasons", "open": "Open",
    "resolved_run_id": "Resolved by load run", "started_at": "Loaded at", "run_id": "Load run",
    "raw_values": "Delivered values",
}


def quarantine_rows_table(rows: pl.DataFrame, names: Mapping[str, str]) -> pl.DataFrame:
    """The steward's quarantine rows: reasons first after the place in the file, headers in words."""
    first = [c for c in ("table_name", "source_file", "line_number", "reasons", "rules", "agency_id") if c in rows.columns]
    rest = [c for c in rows.columns if c not in first]
    out = rows.select(first + rest).with_columns(
        pl.col("table_name").map_elements(table_label, return_dtype=pl.String),
        pl.col("agency_id").map_elements(lambda a: partner_label(a, names), return_dtype=pl.String),
    )
    if "started_at" in out.columns:
        out = out.with_columns(pl.col("started_at").dt.strftime("%Y-%m-%d %H:%M"))
    return out.rename({c: h for c, h in QUARANTINE_HEADERS.items() if c in out.columns})


def scorecard_table(scorecard: pl.DataFrame) -> pl.DataFrame:
    """The partner scorecard in words: least valid partners first, shares as percentages."""
    names = {a: n for a, n in scorecard.select("agency_id", "agency_name").iter_rows() if n}
    ranked = scorecard.sort(["open_rejections", "agency_id"], descending=[True, False])
    return ranked.select(
        pl.col("agency_id").map_elements(lambda a: partner_label(a, names), return_dtype=pl.String)
        .alias("Partner agency"),
        pl.col("top_rules").alias("Most frequent problems (rows)"),
        pl.col("validity").map_elements(percent_text, return_dtype=pl.String, skip_nulls=False).alias("Validity"),
        pl.col("completeness").map_elements(percent_text, return_dtype=pl.String, skip_nulls=False)
        .alias("Completeness"),
        *_counts(ranked, {"accepted": "Rows accepted", "open_rejections": "Rows held in quarantine",
                          "load_lag_days": "Load lag (days)", "data_lag_days": "Data lag (days)"}),
        pl.col("latest_record_date").cast(pl.String).alias("Latest record"),
    )


def history_table(history: pl.DataFrame) -> pl.DataFrame:
    """Load runs, newest first, in words."""
    ranked = history.sort("started_at", descending=True)
    return ranked.select(
        pl.col("started_at").dt.strftime("%Y-%m-%d %H:%M:%S").alias("Started"),
        pl.col("kind").str.replace_all("_", " ").str.to_titlecase().alias("Kind"),
        pl.col("as_of").cast(pl.String).alias("As of"),
        pl.col("status").str.replace_all("_", " ").alias("Outcome"),
        *_counts(ranked, {"rows_read": "Rows read", "rows_loaded": "Rows loaded", "rows_rejected": "Rows rejected",
                          "resolved_rows": "Quarantined rows resolved"}),
        pl.col("rejection_rate").map_elements(percent_text, return_dtype=pl.String, skip_nulls=False)
        .alias("Rejected"),
        pl.col("run_id").alias("Load run"),
    )


def rejection_trend(table_history: pl.DataFrame) -> pl.DataFrame:
    """The trend chart's data: one row per load run and table, the run labelled by its start time to the
    second (runs seconds apart stay apart; a time axis would read milliseconds), tables in words."""
    trend = table_history.filter(pl.col("rejection_rate").is_not_null())
    return trend.select(
        pl.col("started_at").dt.strftime("%Y-%m-%d %H:%M:%S").alias("load_run"),
        pl.col("table_name").map_elements(table_label, return_dtype=pl.String).alias("table"),
        pl.col("rejection_rate"),
        pl.col("rows_rejected"),
        pl.col("rows_read"),
    ).sort("load_run", "table")


# --- Data status page ----------------------------------------------------------------------


def load_runs_table(runs: pl.DataFrame, limit: int = 20) -> pl.DataFrame:
    """The latest ``limit`` load runs, newest first, counts with separators."""
    recent = runs.sort("started_at", descending=True).head(limit)
    return recent.select(
        pl.col("kind").alias("Kind"),
        pl.col("started_at").dt.strftime("%Y-%m-%d %H:%M").alias("Started"),
        pl.col("finished_at").dt.strftime("%Y-%m-%d %H:%M").alias("Finished"),
        pl.col("as_of").cast(pl.String).alias("As of"),
        pl.col("status").alias("Status"),
        pl.col("validation_success").cast(pl.String).replace({"true": "passed", "false": "rows rejected"})
        .fill_null("not run").alias("Validation"),
        *_counts(recent, {"rows_loaded": "Rows loaded", "rows_rejected": "Rows rejected", "warnings": "Warnings"}),
        pl.col("source").alias("Source"),
    )


def latest_files_table(files: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """The files of one load run, in contract order, table names in words."""
    order = {t: i for i, t in enumerate(TABLE_NAMES)}
    latest = files.filter(pl.col("run_id") == run_id).with_columns(
        pl.col("table_name").replace_strict(order, default=99, return_dtype=pl.Int64).alias("_order")
    ).sort("_order", "table_name")
    return latest.select(
        pl.col("table_name").map_elements(table_label, return_dtype=pl.String).alias("Table"),
        pl.col("file_name").alias("File"),
        *_counts(latest, {"rows_read": "Rows read", "rows_loaded": "Loaded", "rows_rejected": "Rejected (quarantined)",
                          "duplicates_dropped": "Duplicates dropped", "warnings": "Warnings"}),
        pl.when(pl.col("file_rejected")).then(pl.lit("file rejected: ") + pl.col("missing_columns").fill_null(""))
        .when(pl.col("validation_success").eq(False)).then(pl.lit("rows rejected"))
        .when(pl.col("validation_success").eq(True)).then(pl.lit("passed"))
        .otherwise(pl.lit("not validated")).alias("Validation"),
    )


def row_counts_table(heights: Mapping[str, int]) -> pl.DataFrame:
    """Rows per contract table, in contract order, names in words."""
    return pl.DataFrame({
        "Table": [table_label(t) for t in TABLE_NAMES],
        "Rows": [count_text(heights.get(t, 0)) for t in TABLE_NAMES],
    })


CHECK_WORDS = {
    "freshness": "Freshness", "volume_drift": "Volume drift", "distribution_drift": "Distribution drift",
    "consistency:referral_after_exit": "Referral after exit", "consistency:groupings": "Grouping totals",
}


def readable(frame: pl.DataFrame, names: Mapping[str, str]) -> pl.DataFrame:
    """Any check table in words: agency ids as partner names, table names in words, shares as
    percentages (columns named ``share``/``rate``/``change``), headers in sentence case. Numbers are copied."""
    out = frame
    if "agency_id" in out.columns:
        out = out.with_columns(pl.col("agency_id").map_elements(
            lambda a: "All partners" if a == "*" else partner_label(a, names), return_dtype=pl.String))
    for column in ("table", "table_name"):
        if column in out.columns:
            out = out.with_columns(pl.col(column).map_elements(
                lambda t: "All tables" if t == "*" else table_label(t), return_dtype=pl.String))
    if "check" in out.columns:
        out = out.with_columns(pl.col("check").replace_strict(CHECK_WORDS, default=pl.col("check")))
    for column in out.columns:
        if out.schema[column].is_float() and any(w in column for w in ("share", "rate", "change")):
            out = out.with_columns(pl.col(column).map_elements(percent_text, return_dtype=pl.String,
                                                               skip_nulls=False))
    headers = {"agency_id": "Partner agency", "table_name": "Table", "p_value": "p-value", "q_value": "q-value"}
    return out.rename({c: headers.get(c, c.replace("_", " ").capitalize()) for c in out.columns})
