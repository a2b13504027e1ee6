"""``partnership-dashboard metrics`` end to end: load the sample extract, print JSON and CSV.

Runs on both stores (embedded DuckDB and PostgreSQL) through the ``engine`` fixture:
the numbers must not depend on the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa

from dashboard.cli import main
from dashboard.ingest import load_extract
from dashboard.metrics.engine import compute_metrics, metrics_json
from dashboard.metrics.registry import METRIC_IDS
from dashboard.metrics.tables import Filters, Tables, load_tables, resolve_as_of
from dashboard.sample import generate_tables
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"


def _url(engine: sa.engine.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_metrics_json_and_csv_from_the_database(engine: sa.engine.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    load_extract(SAMPLE_DIR, engine)
    tables = load_tables(engine)
    # The as-of date defaults to the load run's (manifest.json says 2026-06-30).
    assert resolve_as_of(tables, None) == dt.date(2026, 6, 30)
    # What was loaded is exactly what the generator wrote, so the numbers equal those over the frames.
    direct = metrics_json(Tables.from_frames(**generate_tables(participants=3000, seed=42)),
                          Filters(as_of=dt.date(2026, 6, 30)), 11)

    assert main(["metrics", "--db", _url(engine), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["as_of"] == "2026-06-30" and doc["min_cell_size"] == 11
    assert doc["filters"] == {"start": None, "end": None, "program": None, "agency": None}
    assert doc["metrics"] == direct["metrics"]
    assert {r["metric"] for r in doc["metrics"]} == set(METRIC_IDS)

    assert main(["metrics", "--db", _url(engine), "--format", "csv", "--program", "P02",
                 "--start", "2025-01-01", "--min-cell-size", "0"]) == 0
    lines = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    frame = compute_metrics(tables, Filters(start=dt.date(2025, 1, 1), program_ids=("P02",)), min_cell_size=0)
    assert len(lines) == frame.height
    assert {line["program_id"] for line in lines if line["group_by"] == "program_id"} == {"P02"}
    first = lines[0]
    assert first["group_by"] == "" and int(first["denominator"]) == int(frame["denominator"][0])

    # an id the database does not know is a typo, not an empty program
    assert main(["metrics", "--db", _url(engine), "--format", "json", "--program", "P99"]) == 2
    err = capsys.readouterr().err
    assert "--program 'P99': not in the database" in err and "P02" in err
    assert main(["metrics", "--db", _url(engine), "--format", "json", "--agency", "NOPE"]) == 2
    assert "--agency 'NOPE'" in capsys.readouterr().err


def test_sample_manifest_matches_the_generator() -> None:
    manifest = json.loads((SAMPLE_DIR / "manifest.json").read_text())
    assert manifest["generator"]["seed"] == 42 and manifest["generator"]["participants"] == 3000


def test_metrics_errors_say_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.duckdb"
    assert main(["metrics", "--db", str(missing), "--format", "json"]) == 2
    assert "does not exist" in capsys.readouterr().err and not missing.exists()
    assert main(["metrics", "--db", str(missing), "--start", "2025-01-01", "--end", "2024-01-01",
                 "--format", "csv"]) == 2
    assert "swap --start and --end" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        ["metrics", "--format", "json"],
        ["evaluate", "--format", "json"],
        ["export", "--db", "{db}", "table", "--all", "--format", "csv", "--out", "{out}"],
        ["check", "--db", "{db}"],
    ],
)
def test_reading_commands_refuse_a_mistyped_database_file(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong --db path must be an error naming the file, never a new empty database."""
    missing = tmp_path / "typo.duckdb"
    args = [a.format(db=missing, out=tmp_path / "out.csv") for a in command]
    if "--db" not in args:
        args += ["--db", str(missing)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "does not exist" in err
    assert not missing.exists()


@pytest.mark.parametrize("value", ["20250101", "2025-W01-1", "2025-1-5", "2025/01/05", "2025-02-30"])
def test_command_line_dates_are_read_as_strictly_as_the_contract(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["metrics", "--format", "json", "--as-of", value],
                    ["export", "table", "--all", "--out", "x.csv", "--as-of", value]):
        with pytest.raises(SystemExit) as stop:
            main(command)
        assert stop.value.code == 2
        assert f"{value!r} is not a date written YYYY-MM-DD" in capsys.readouterr().err
