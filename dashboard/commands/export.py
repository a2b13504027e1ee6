"""``partnership-dashboard export chart|table|report``: options, output and exit codes.

The files themselves come from :mod:`dashboard.export` (charts, tables) and
:mod:`dashboard.report` (the report package); this module reads the options,
loads the tables, writes the bytes and chooses the exit code (0 written,
2 a request to change). See ``docs/exports.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dashboard import store
from dashboard.export import (
    ExportError,
    chart_to_bytes,
    metric_chart,
    metrics_display_table,
    table_to_csv,
    table_to_xlsx,
)
from dashboard.formats import CHART_FORMATS, TABLE_FORMATS
from dashboard.metrics.engine import unknown_filter_ids
from dashboard.metrics.registry import get_metric
from dashboard.metrics.tables import Filters, load_tables
from dashboard.report import ParticipantFilters, build_report, parse_period

EXIT_OK = 0
EXIT_USAGE = 2


def _format_from(args: argparse.Namespace, allowed: Sequence[str]) -> str:
    fmt = args.format or args.out.suffix.lstrip(".").lower()
    if fmt not in allowed:
        raise ExportError(
            f"cannot tell the format of {args.out}: pass --format ({' or '.join(allowed)}) "
            "or end the file name with one of those suffixes"
        )
    return fmt


def filters_from_export_args(args: argparse.Namespace) -> Any:
    """Filters from ``export chart|table`` options (``--period`` or ``--start``/``--end``)."""
    start, end = args.start, args.end
    if args.period:
        if start or end:
            raise ExportError("give either --period or --start/--end, not both")
        period = parse_period(args.period, fiscal_year_start_month=args.fiscal_year_start_month)
        start, end = period.start, period.end
    return Filters(
        as_of=args.as_of, start=start, end=end,
        program_ids=(args.program,) if args.program else (),
        agency_ids=(args.agency,) if args.agency else (),
    )


def _load_tables(db: str | None) -> Any:
    missing = store.missing_file_message(db)
    if missing:
        raise ExportError(missing)
    engine = store.make_engine(db)
    try:
        if not store.schema_exists(engine):
            raise ExportError(
                "the database has no dashboard tables yet; load an extract first "
                "(partnership-dashboard load DIR) or pass --db with the right URL"
            )
        return load_tables(engine)
    finally:
        engine.dispose()


def cli_export(args: argparse.Namespace) -> int:
    """Run ``partnership-dashboard export chart|table|report``; returns the exit code."""
    try:
        return _cli_export(args)
    except (ExportError, ValueError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USAGE


def _cli_export(args: argparse.Namespace) -> int:
    kind = args.export_kind
    db = getattr(args, "db", None)
    if kind == "report":
        period = parse_period(args.period, fiscal_year_start_month=args.fiscal_year_start_month)
        participants = ParticipantFilters(
            agency_ids=tuple(dict.fromkeys(args.agency)), cohorts=tuple(dict.fromkeys(args.cohort)),
            risk_levels=tuple(dict.fromkeys(args.risk)), supervision_types=tuple(dict.fromkeys(args.supervision)),
        )
        tables = _load_tables(db)
        _check_known_ids(tables, Filters(program_ids=(args.program,) if args.program else (),
                                         agency_ids=participants.agency_ids))
        result = build_report(
            tables, period=period, program_id=args.program,
            fiscal_year_start_month=args.fiscal_year_start_month, min_cell_size=args.min_cell_size,
            out_dir=args.out, as_of=args.as_of, participants=participants, paper=args.paper,
        )
        print(f"Report for {result.period.label} (as of {result.as_of}) written to {args.out}:")
        for path in (result.pdf, result.html, result.zip):
            print(f"  {path}")
        print(f"  plus {len(result.files)} chart and table files (all inside the ZIP)")
        return EXIT_OK
    if kind == "table":
        fmt = _format_from(args, TABLE_FORMATS)
        metric_ids = None if args.all else list(dict.fromkeys(args.metric))
        for metric in metric_ids or ():
            get_metric(metric)
        filters = filters_from_export_args(args)
        tables = _load_tables(db)
        _check_known_ids(tables, filters)
        table = metrics_display_table(tables, filters, metric_ids=metric_ids, min_cell_size=args.min_cell_size)
        data = table_to_csv(table) if fmt == "csv" else table_to_xlsx(table, sheet_name="Metrics")
        _write(args.out, data)
        print(f"{table.height} rows written to {args.out} ({fmt}, minimum cell size {args.min_cell_size})")
        return EXIT_OK
    if kind == "chart":
        fmt = _format_from(args, CHART_FORMATS)
        get_metric(args.metric)
        filters = filters_from_export_args(args)
        tables = _load_tables(db)
        _check_known_ids(tables, filters)
        chart = metric_chart(tables, filters, args.metric, by=args.by, min_cell_size=args.min_cell_size)
        _write(args.out, chart_to_bytes(chart, fmt))
        print(f"Chart of {args.metric} written to {args.out} ({fmt})")
        return EXIT_OK
    raise ExportError(f"unknown export kind {kind!r}; choose chart, table or report")


def _check_known_ids(tables: Any, filters: Any) -> None:
    """Refuse a --program / --agency the database does not know, listing the known ids (as
    ``metrics`` does): a typo must not write an empty file and exit 0."""
    unknown = unknown_filter_ids(tables, filters)
    if unknown:
        raise ExportError(unknown)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
