"""The sample generator: contract-clean, realistic, with a real pilot effect, deterministic.

The contract checks here are written independently of the loader
(dashboard/ingest.py) so the two can cross-check each other: they read the
rules straight from dashboard.contract and apply them to the generated frames
and to the committed CSV text.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest

from dashboard.contract import (
    DATE_PATTERN,
    INT_PATTERN,
    TABLES,
    TABLES_BY_NAME,
    DateOrder,
    NullUnless,
    NullWhen,
    RequiredWhen,
    Table,
)
from dashboard.sample import (
    DEFAULT_AS_OF,
    cli_sample,
    generate_extract,
    generate_tables,
)

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO / "sample_data"
AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    """The demo extract's frames (same arguments as the committed sample_data/)."""
    return generate_tables(participants=3000, seed=42, as_of=AS_OF)


# --- an independent contract checker -------------------------------------------------


def _is_set(col: str) -> pl.Expr:
    return pl.col(col).is_not_null()


def _condition(when_column: str, values: tuple[str, ...]) -> pl.Expr:
    return _is_set(when_column) if not values else pl.col(when_column).is_in(list(values))


def contract_violations(name: str, frame: pl.DataFrame, parents: dict[str, pl.DataFrame], as_of: dt.date) -> dict[str, int]:
    """{rule id: rows breaking it} for one typed frame; empty when the frame is clean."""
    table: Table = TABLES_BY_NAME[name]
    broken: dict[str, int] = {}

    def count(rule: str, bad: pl.Expr) -> None:
        n = frame.select(bad.fill_null(False).sum()).item()
        if n:
            broken[rule] = n

    assert list(frame.columns) == list(table.column_names)
    for c in table.columns:
        if c.required:
            count(f"required:{c.name}", pl.col(c.name).is_null())
        if c.enum:
            count(f"enum:{c.name}", _is_set(c.name) & ~pl.col(c.name).is_in(list(c.enum)))
        if c.min_value is not None:
            count(f"range:{c.name}", (pl.col(c.name) < c.min_value) | (pl.col(c.name) > c.max_value))
        if c.type == "date":
            assert frame.schema[c.name] == pl.Date, (name, c.name)
            if not c.may_follow_as_of:
                count(f"after_as_of:{c.name}", pl.col(c.name) > as_of)
        if c.type == "bool":
            assert frame.schema[c.name] == pl.Boolean
        if c.references:
            parent = TABLES_BY_NAME[c.references]
            keys = parents[c.references][parent.key]
            count(f"fk:{c.name}", _is_set(c.name) & ~pl.col(c.name).is_in(keys.implode()))
    for r in table.row_rules:
        if isinstance(r, DateOrder):
            count(r.id, pl.col(r.later) < pl.col(r.earlier))
        elif isinstance(r, RequiredWhen):
            count(r.id, _condition(r.when_column, r.values) & pl.col(r.column).is_null())
        elif isinstance(r, NullUnless):
            count(r.id, ~_condition(r.when_column, r.values).fill_null(False) & _is_set(r.column))
        elif isinstance(r, NullWhen):
            count(r.id, pl.col(r.when_column).is_in(list(r.values)) & _is_set(r.column))
        else:  # pragma: no cover - a new rule kind must be added here
            raise AssertionError(f"unknown row rule {r!r}")
    dup = frame.height - frame[table.key].n_unique()
    if dup:
        broken["duplicate_key"] = dup
    return broken


def test_every_table_satisfies_every_contract_rule(tables: dict[str, pl.DataFrame]) -> None:
    assert list(tables) == [t.name for t in TABLES]
    for name, frame in tables.items():
        assert frame.height > 0, name
        assert contract_violations(name, frame, tables, AS_OF) == {}, name


def test_checker_catches_broken_rows(tables: dict[str, pl.DataFrame]) -> None:
    """The checker above is not vacuous: break one row per rule kind and it notices."""
    refs = tables["referrals"]
    pending = refs.filter(pl.col("status") == "pending").head(1)
    completed = refs.filter(pl.col("status") == "completed").head(1)
    broken = pl.concat(
        [
            pending.with_columns(pl.col("accepted_date").fill_null(AS_OF), referral_id=pl.lit("X1")),
            completed.with_columns(completed_date=pl.lit(None, pl.Date), referral_id=pl.lit("X2")),
            completed.with_columns(status=pl.lit("done"), referral_id=pl.lit("X3")),
            completed.with_columns(participant_id=pl.lit("nobody"), referral_id=pl.lit("X4")),
            completed.with_columns(referral_date=pl.lit(AS_OF + dt.timedelta(days=1)), referral_id=pl.lit("X5")),
        ]
    )
    found = contract_violations("referrals", broken, tables, AS_OF)
    assert found["null_when:accepted_date:status=pending"] == 1
    assert found["required_when:completed_date:status=completed"] == 1
    assert found["enum:status"] == 1
    assert found["fk:participant_id"] == 1
    # X5's referral date moves past its accepted date too.
    assert found["after_as_of:referral_date"] == 1
    assert found["date_order:accepted_date>=referral_date"] == 1


def test_committed_csv_text_follows_the_lexical_rules() -> None:
    """Read sample_data/ as text: dates YYYY-MM-DD, booleans true/false, integers plain digits."""
    manifest = json.loads((SAMPLE_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["contract_version"] == 1
    assert manifest["as_of"] == AS_OF.isoformat()
    for table in TABLES:
        path = SAMPLE_DIR / f"{table.name}.csv"
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), "the clean sample has no BOM"
        text = pl.read_csv(path, infer_schema=False)
        assert text.columns == list(table.column_names)
        assert text.height == manifest["generator"]["rows"][table.name]
        for c in table.columns:
            values = text[c.name].drop_nulls()
            pattern = {"date": DATE_PATTERN, "int": INT_PATTERN, "bool": r"^(true|false)$"}.get(c.type)
            if pattern:
                assert values.str.contains(pattern).all(), (table.name, c.name)
            assert (values == values.str.strip_chars()).all(), (table.name, c.name)


def test_regenerating_with_the_same_seed_is_byte_identical(tmp_path: Path) -> None:
    """The committed demo extract is exactly what the generator writes for seed 42."""
    manifest = generate_extract(tmp_path, participants=3000, seed=42, as_of=AS_OF)
    assert manifest["generator"]["seed"] == 42
    committed = sorted(p.name for p in SAMPLE_DIR.iterdir() if p.is_file())
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted([f"{t.name}.csv" for t in TABLES] + ["manifest.json"])
    assert set(written) <= set(committed)
    for name in written:
        assert (tmp_path / name).read_bytes() == (SAMPLE_DIR / name).read_bytes(), name


def test_parquet_is_deterministic_and_typed(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate_extract(a, participants=200, seed=7, as_of=AS_OF, fmt="parquet")
    generate_extract(b, participants=200, seed=7, as_of=AS_OF, fmt="parquet")
    for table in TABLES:
        assert (a / f"{table.name}.parquet").read_bytes() == (b / f"{table.name}.parquet").read_bytes()
    participants = pl.read_parquet(a / "participants.parquet")
    assert participants.schema["enrollment_date"] == pl.Date
    assert participants.schema["age_at_enrollment"] == pl.Int64
    events = pl.read_parquet(a / "supervision_events.parquet")
    assert events.schema["required"] == pl.Boolean


def test_a_different_seed_gives_different_rows() -> None:
    one = generate_tables(participants=300, seed=1, as_of=AS_OF)["participants"]
    two = generate_tables(participants=300, seed=2, as_of=AS_OF)["participants"]
    assert not one.equals(two)


def test_other_as_of_dates_stay_valid() -> None:
    """Dates are placed relative to the as-of date, so an early as-of is as clean."""
    as_of = dt.date(2019, 2, 28)
    t = generate_tables(participants=500, seed=3, as_of=as_of)
    for name, frame in t.items():
        assert contract_violations(name, frame, t, as_of) == {}, name


# --- realism -----------------------------------------------------------------------


def test_every_enum_value_appears(tables: dict[str, pl.DataFrame]) -> None:
    for table in TABLES:
        for c in table.columns:
            if c.enum:
                seen = set(tables[table.name][c.name].drop_nulls().unique())
                assert seen == set(c.enum), (table.name, c.name, set(c.enum) - seen)


def test_reference_tables_look_like_a_partnership(tables: dict[str, pl.DataFrame]) -> None:
    agencies, programs, agreements = tables["agencies"], tables["programs"], tables["agreements"]
    assert 10 <= agencies.height <= 14
    assert 6 <= programs.height <= 8
    assert programs["grant_id"].null_count() not in (0, programs.height)
    days_left = agreements.select((pl.col("expires_date") - pl.lit(AS_OF)).dt.total_days()).to_series()
    assert (days_left > 90).any(), "some agreement in force"
    assert ((days_left > 0) & (days_left <= 90)).any(), "some agreement expiring within 90 days"
    assert (days_left < 0).any(), "some agreement expired"


def test_release_date_only_for_parole_and_post_release(tables: dict[str, pl.DataFrame]) -> None:
    p = tables["participants"]
    released = p.filter(pl.col("release_date").is_not_null())
    assert set(released["supervision_type"].unique()) == {"parole", "post_release"}
    assert p.filter(pl.col("supervision_type").is_in(["probation", "none"]))["release_date"].null_count() == (
        p.filter(pl.col("supervision_type").is_in(["probation", "none"])).height
    )
    plans = released.select(
        before=(pl.col("reentry_plan_date") <= pl.col("release_date")).sum(),
        after=(pl.col("reentry_plan_date") > pl.col("release_date")).sum(),
        missing=pl.col("reentry_plan_date").is_null().sum(),
    ).row(0, named=True)
    assert plans["before"] > 5 * plans["after"] > 0
    assert plans["missing"] > 0
    # The police-diversion programs have people under no supervision.
    assert p.filter(pl.col("supervision_type") == "none")["program_id"].unique().to_list() != []


def _rate(frame: pl.DataFrame, numerator: pl.Expr, denominator: pl.Expr) -> dict[str, float]:
    out = frame.group_by("cohort").agg(n=numerator.sum(), d=denominator.sum())
    return {r["cohort"]: r["n"] / r["d"] for r in out.iter_rows(named=True)}


def test_the_planted_pilot_effect_is_there(tables: dict[str, pl.DataFrame]) -> None:
    """Pilot: fewer re-arrests within 12 months, more completed referrals, more compliance."""
    p = tables["participants"].with_columns(index_date=pl.coalesce("release_date", "enrollment_date"))
    eligible = p.filter(pl.col("index_date").dt.offset_by("12mo") <= AS_OF)
    arrests = tables["recidivism_events"].filter(pl.col("event_type") == "arrest")
    hit = (
        arrests.join(eligible.select("participant_id", "index_date"), on="participant_id")
        .filter(
            (pl.col("event_date") > pl.col("index_date"))
            & (pl.col("event_date") <= pl.col("index_date").dt.offset_by("12mo"))
        )
        .select("participant_id")
        .unique()
    )
    rearrest = _rate(
        eligible.with_columns(hit=pl.col("participant_id").is_in(hit["participant_id"].implode())),
        pl.col("hit"),
        pl.lit(1),
    )
    assert rearrest["pilot"] < rearrest["comparison"] - 0.03, rearrest

    refs = tables["referrals"].join(p.select("participant_id", "cohort"), on="participant_id")
    closed = refs.filter(pl.col("status").is_in(["completed", "declined", "no_show", "closed_unsuccessful"]))
    completion = _rate(closed, pl.col("status") == "completed", pl.lit(1))
    assert completion["pilot"] > completion["comparison"] + 0.05, completion

    events = tables["supervision_events"].join(p.select("participant_id", "cohort"), on="participant_id")
    scored = events.filter(pl.col("required") & pl.col("outcome").is_in(["compliant", "non_compliant", "missed"]))
    compliance = _rate(scored, pl.col("outcome") == "compliant", pl.lit(1))
    assert compliance["pilot"] > compliance["comparison"] + 0.03, compliance


def test_risk_levels_have_different_base_rates(tables: dict[str, pl.DataFrame]) -> None:
    p = tables["participants"].with_columns(index_date=pl.coalesce("release_date", "enrollment_date"))
    arrested = (
        tables["recidivism_events"]
        .filter(pl.col("event_type") == "arrest")
        .join(p.select("participant_id", "index_date"), on="participant_id")
        .filter(pl.col("event_date") > pl.col("index_date"))["participant_id"]
        .unique()
    )
    by_risk = (
        p.with_columns(hit=pl.col("participant_id").is_in(arrested.implode()))
        .group_by("risk_level")
        .agg(pl.col("hit").mean())
    )
    rate = dict(by_risk.iter_rows())
    assert rate["low"] < rate["moderate"] < rate["high"]


def test_recidivism_mostly_after_the_index_date_some_on_or_before(tables: dict[str, pl.DataFrame]) -> None:
    p = tables["participants"].with_columns(index_date=pl.coalesce("release_date", "enrollment_date"))
    ev = tables["recidivism_events"].join(p.select("participant_id", "index_date"), on="participant_id")
    after = (ev["event_date"] > ev["index_date"]).sum()
    on = (ev["event_date"] == ev["index_date"]).sum()
    before = (ev["event_date"] < ev["index_date"]).sum()
    assert after > 10 * (on + before) and on > 0 and before > 0


def test_police_contacts_mix(tables: dict[str, pl.DataFrame]) -> None:
    c = tables["police_contacts"]
    assert c["co_responder"].any() and not c["co_responder"].all()
    assert 0 < c["program_id"].null_count() < c.height
    assert 0 < c["participant_id"].null_count() < c.height


def test_warnings_are_rare(tables: dict[str, pl.DataFrame]) -> None:
    """Every participant has supervision events; few events fall outside the enrollment window."""
    p = tables["participants"]
    events = tables["supervision_events"]
    assert p["participant_id"].is_in(events["participant_id"].implode()).all()
    total_outside = 0
    for name, col in (("supervision_events", "event_date"), ("violations", "violation_date"),
                      ("referrals", "referral_date")):
        j = tables[name].join(p.select("participant_id", "enrollment_date", "exit_date"), on="participant_id")
        outside = j.filter(
            (pl.col(col) < pl.col("enrollment_date")) | (pl.col(col) > pl.col("exit_date")).fill_null(False)
        ).height
        total_outside += outside
        assert outside <= 0.005 * j.height, name
    assert total_outside > 0


# --- command line ------------------------------------------------------------------


def test_cli_sample_writes_an_extract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(participants=50, seed=5, out=tmp_path / "x", as_of=None, format="parquet")
    assert cli_sample(args) == 0
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text())
    assert manifest["as_of"] == DEFAULT_AS_OF.isoformat()
    assert manifest["generator"]["format"] == "parquet"
    assert (tmp_path / "x" / "participants.parquet").exists()
    assert "participants" in capsys.readouterr().out


def test_cli_sample_refuses_zero_participants(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(participants=0, seed=5, out=tmp_path, as_of=AS_OF, format="csv")
    assert cli_sample(args) == 2
    assert "at least 1" in capsys.readouterr().err


def test_switching_format_leaves_one_extract(tmp_path: Path) -> None:
    generate_extract(tmp_path, participants=20, seed=1, as_of=AS_OF, fmt="csv")
    generate_extract(tmp_path, participants=20, seed=1, as_of=AS_OF, fmt="parquet")
    assert not list(tmp_path.glob("*.csv"))
    assert len(list(tmp_path.glob("*.parquet"))) == len(TABLES)


def test_weights_must_match_the_contract() -> None:
    from dashboard.sample import _weights

    with pytest.raises(ValueError, match="missing"):
        _weights("participants", "cohort", {"pilot": 1.0})
    with pytest.raises(ValueError, match="unknown"):
        _weights("participants", "cohort", {"pilot": 1.0, "comparison": 1.0, "control": 1.0})
    assert re.sub(r"\s", "", str(_weights("participants", "cohort", {"pilot": 1, "comparison": 3}))) == "[0.250.75]"
