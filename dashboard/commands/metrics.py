"""``partnership-dashboard metrics``: every metric for every grouping, as JSON or CSV
(see docs/metrics.md)."""

from __future__ import annotations

import argparse
import json
import sys

from dashboard.metrics.engine import metrics_csv, metrics_json, unknown_filter_ids
from dashboard.metrics.tables import Filters


def filters_from_args(args: argparse.Namespace) -> Filters:
    """Filters from the ``metrics`` command line."""
    return Filters(
        as_of=getattr(args, "as_of", None),
        start=getattr(args, "start", None),
        end=getattr(args, "end", None),
        program_ids=(args.program,) if getattr(args, "program", None) else (),
        agency_ids=(args.agency,) if getattr(args, "agency", None) else (),
    )


def cli_metrics(args: argparse.Namespace) -> int:
    """``partnership-dashboard metrics``: print every metric for every grouping."""
    from dashboard import store
    from dashboard.metrics.tables import load_tables

    try:
        filters = filters_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    missing = store.missing_file_message(args.db)
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    engine = store.make_engine(args.db)
    try:
        if not store.schema_exists(engine):
            print(
                "error: the database has no dashboard tables yet; load an extract first "
                "(partnership-dashboard load DIR) or pass --db with the right URL.",
                file=sys.stderr,
            )
            return 2
        tables = load_tables(engine)
    finally:
        engine.dispose()
    unknown = unknown_filter_ids(tables, filters)
    if unknown:
        print(f"error: {unknown}", file=sys.stderr)
        return 2
    if args.format == "csv":
        sys.stdout.write(metrics_csv(tables, filters, args.min_cell_size))
    else:
        json.dump(metrics_json(tables, filters, args.min_cell_size), sys.stdout)
        sys.stdout.write("\n")
    return 0
