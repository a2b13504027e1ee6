"""``partnership-dashboard evaluate``: the pilot evaluation as JSON; exit 0, or 2 on a bad request.

The evaluation is :func:`dashboard.evaluation.evaluate` (see ``docs/metrics.md``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from dashboard import store
from dashboard.evaluation import evaluate
from dashboard.metrics.tables import Filters, load_tables


def _clean(value: Any) -> Any:
    """Replace NaN and infinities by None so the JSON is standard (they should never occur)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def cli_evaluate(args: argparse.Namespace) -> int:
    """``partnership-dashboard evaluate``: print the evaluation as JSON; exit 0, or 2 on a bad request."""
    missing = store.missing_file_message(args.db)
    if missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    engine = store.make_engine(args.db, read_only=False)
    try:
        if not store.schema_exists(engine):
            print(
                "error: the database has no dashboard tables yet; load an extract first "
                "(partnership-dashboard load DIR --db ...)",
                file=sys.stderr,
            )
            return 2
        tables = load_tables(engine)
    finally:
        engine.dispose()
    program = getattr(args, "program", None)
    if program is not None and program not in set(tables.programs["program_id"].to_list()) | set(
        tables.participants["program_id"].to_list()
    ):
        known = ", ".join(sorted(tables.programs["program_id"].to_list())) or "none loaded"
        print(f"error: no program {program!r} in the database (programs: {known})", file=sys.stderr)
        return 2
    try:
        result = evaluate(
            tables,
            Filters(as_of=getattr(args, "as_of", None)),
            program_id=program,
            measures=getattr(args, "measure", None),
            min_cell_size=getattr(args, "min_cell_size", 11),
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(_clean(result), indent=2, allow_nan=False))
    return 0
