"""``partnership-dashboard sample``: write a seeded synthetic extract and say what was written."""

from __future__ import annotations

import argparse
import sys

from dashboard.sample import DEFAULT_AS_OF, generate_extract


def cli_sample(args: argparse.Namespace) -> int:
    """``partnership-dashboard sample``: write a seeded synthetic extract and say what was written."""
    as_of = args.as_of or DEFAULT_AS_OF
    fmt = getattr(args, "format", "csv") or "csv"
    try:
        manifest = generate_extract(args.out, participants=args.participants, seed=args.seed, as_of=as_of, fmt=fmt)
    except ValueError as exc:
        print(f"sample: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"sample: cannot write to {args.out}: {exc}. Choose a writable --out folder.", file=sys.stderr)
        return 2
    rows = manifest["generator"]["rows"]
    print(f"Wrote a synthetic extract to {args.out} (seed {args.seed}, as of {as_of.isoformat()}, {fmt}):")
    for name, count in rows.items():
        print(f"  {name:<20} {count:>10,} rows")
    return 0
