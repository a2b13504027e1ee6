"""The clean sample extract: every table in order, as frames or written as files with
``manifest.json`` (see :mod:`dashboard.sample`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dashboard.contract import CONTRACT_VERSION, TABLES
from dashboard.sample import version2
from dashboard.sample.common import DEFAULT_AS_OF, FORMATS, GENERATOR_NAME, GENERATOR_VERSION
from dashboard.sample.events import police_contacts_frame, recidivism_frame, violations_frame
from dashboard.sample.people import People, referrals_frame, supervision_frame
from dashboard.sample.reference import agencies_frame, agreements_frame, programs_frame

# --- public API --------------------------------------------------------------------


def _iter_tables(participants: int, seed: int, as_of: dt.date) -> Iterator[tuple[str, pl.DataFrame]]:
    """(table name, frame) in contract order, built one at a time so a writer can free each."""
    if participants < 1:
        raise ValueError(f"participants must be at least 1 (got {participants})")
    people = People(participants, seed, as_of)
    builders: dict[str, Any] = {
        "agencies": agencies_frame,
        "programs": lambda: programs_frame(as_of),
        "agreements": lambda: agreements_frame(as_of, seed),
        "participants": people.frame,
        "referrals": lambda: referrals_frame(people, seed),
        "supervision_events": lambda: supervision_frame(people, seed),
        "police_contacts": lambda: police_contacts_frame(people, seed, as_of),
    }
    # contract version 2 tables, each on a random stream of its own

    builders |= {
        "reintegration_checks": lambda: version2.reintegration_checks_frame(people, seed),
        "program_costs": lambda: version2.program_costs_frame(people, seed, as_of),
        "staffing": lambda: version2.staffing_frame(people, seed, as_of),
        "surveys": lambda: version2.surveys_frame(people, seed, as_of),
    }
    revocations: tuple[np.ndarray, np.ndarray] | None = None
    for table in TABLES:
        if table.name == "violations":
            frame, rev_owner, rev_day = violations_frame(people, seed)
            revocations = (rev_owner, rev_day)
        elif table.name == "recidivism_events":
            if revocations is None:  # contract order puts violations first; keep the dependency explicit
                _, *rest = violations_frame(people, seed)
                revocations = (rest[0], rest[1])
            frame = recidivism_frame(people, seed, *revocations)
        else:
            frame = builders[table.name]()
        yield table.name, frame


def generate_tables(*, participants: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> dict[str, pl.DataFrame]:
    """Every contract table as a polars frame (contract column order, typed dates/booleans).

    Same arguments, same rows: each table draws from its own seeded stream.
    """
    return dict(_iter_tables(participants, seed, as_of))


def generate_extract(
    out_dir: str | Path,
    *,
    participants: int,
    seed: int,
    as_of: dt.date = DEFAULT_AS_OF,
    fmt: str = "csv",
) -> dict[str, Any]:
    """Write a synthetic extract to ``out_dir``: ``<table>.csv`` (or ``.parquet``) and ``manifest.json``.

    CSV files are UTF-8 with a header, dates ``YYYY-MM-DD``, booleans
    ``true``/``false`` and nulls as empty fields. Files of the other format
    left in ``out_dir`` by an earlier run are removed, so the directory holds
    exactly one extract. Returns the manifest (its ``generator.rows`` gives
    the row count per table).
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    for name, frame in _iter_tables(participants, seed, as_of):
        rows[name] = frame.height
        for other in FORMATS:
            stale = out / f"{name}.{other}"
            if other != fmt and stale.exists():
                stale.unlink()
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            frame.write_csv(path, date_format="%Y-%m-%d", null_value="")
        else:
            frame.write_parquet(path, statistics=False)
        del frame  # keep only one table in memory at a time
    manifest: dict[str, Any] = {
        "contract_version": CONTRACT_VERSION,
        "as_of": as_of.isoformat(),
        "generator": {
            "name": GENERATOR_NAME,
            "version": GENERATOR_VERSION,
            "seed": seed,
            "participants": participants,
            "format": fmt,
            "rows": rows,
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
