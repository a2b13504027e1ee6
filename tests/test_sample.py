"""The sample generator: contract-clean, realistic, with a real pilot effect, deterministic.

The contract checks here are written independently of the loader
(dashboard/ingest/) so the two can cross-check each other: they read the
rules straight from dashboard.contract and apply them to the generated frames
and to the committed CSV text.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from dashboard.contract import (
    DATE_PATTERN,
    DECIMAL_PATTERN,
    INT_PATTERN,
    TABLES,
    TABLES_BY_NAME,
    AtLeastOne,
    DateOrder,
    FirstOfMonth,
    NullUnless,
    NullWhen,
    RequiredWhen,
    Table,
)
from dashboard.commands.sample import cli_sample
from dashboard.sample import (
    DEFAULT_AS_OF,
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
        if c.type == "int" and c.min_value is not None:
            count(f"range:{c.name}", (pl.col(c.name) < c.min_value) | (pl.col(c.name) > c.max_value))
        if c.type == "decimal":
            # exact two-place decimals, never below 0 (the lexical rule admits no sign)
            assert frame.schema[c.name] == pl.Decimal(18, 2), (name, c.name)
            count(f"decimal_format:{c.name}", pl.col(c.name) < 0)
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
        elif isinstance(r, FirstOfMonth):
            count(r.id, pl.col(r.column).dt.day() != 1)
        elif isinstance(r, AtLeastOne):
            count(r.id, pl.all_horizontal([pl.col(c).is_null() for c in r.columns]))
        else:  # pragma: no cover - a new rule kind must be added here
            raise AssertionError(f"unknown row rule {r!r}")
    dup = frame.height - frame.select(table.key_columns).n_unique()
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
    assert manifest["contract_version"] == 2
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
            pattern = {"date": DATE_PATTERN, "int": INT_PATTERN, "bool": r"^(true|false)$",
                       "decimal": DECIMAL_PATTERN}.get(c.type)
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


# SHA-256 of the nine version 1 files as committed before contract version 2:
# adding the new tables (each on its own random stream) must not move a byte.
V1_SAMPLE_SHA256 = {
    "agencies": "9a15d8fb9ba8ba8d268a48d7d76f2b5b56b229a86160c925f72bef5692645f30",
    "programs": "5b3538ddb6071ffcde2ef8e78c28740bd73568a61d0ca7f52e22d2001d9fc2e7",
    "agreements": "eafdffa43ecbaba9554bfe6da531522f3c669bc467d12777dc93581fd993cc68",
    "participants": "43a957bc6d5df7ac633be52e1c9085474cc3c00b1f278c9c13642a1549dd88b6",
    "referrals": "b4a14ca334d3a961c1fec488529f7f878bce95d0c790568292355cb44ec99603",
    "supervision_events": "dc6cba8a55bbaf9a40705c78dd861907f51299994b25f125b3cd35676f728655",
    "violations": "68e12f4faa5c316bcf30d0d8295cfa0c7ac164b815ef9d6527af803de4fd1d1a",
    "recidivism_events": "a05fb7283da8c09c615ce62214f10fd0a359d346191cfdb1b2ef6ef468954b4e",
    "police_contacts": "073e14cdedda620183edce0e2ba2008f181bb62e8dbaef61d3badecb5db7afde",
}


def test_the_version_1_tables_of_the_sample_are_unchanged_by_contract_version_2(tmp_path: Path) -> None:
    import hashlib

    generate_extract(tmp_path, participants=3000, seed=42, as_of=AS_OF)
    for name, digest in V1_SAMPLE_SHA256.items():
        assert hashlib.sha256((tmp_path / f"{name}.csv").read_bytes()).hexdigest() == digest, name
    assert {t.name for t in TABLES if t.since == 1} == set(V1_SAMPLE_SHA256)


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


def test_reintegration_checks_look_like_case_managers_records(tables: dict[str, pl.DataFrame]) -> None:
    """Several checks per person at irregular dates, some people never checked, employment
    rising with time since the index date (the pilot a little ahead), housing worse after prison."""
    people = tables["participants"].with_columns(pl.coalesce("release_date", "enrollment_date").alias("index_date"))
    checks = tables["reintegration_checks"].join(
        people.select("participant_id", "cohort", "index_date", "release_date"), on="participant_id"
    )
    per_person = checks.group_by("participant_id").len()["len"]
    assert per_person.mean() > 2 and per_person.max() > 5  # type: ignore[operator]
    never = 1 - per_person.len() / people.height
    assert 0.1 < never < 0.35
    gaps = checks.sort("participant_id", "check_date").select(
        pl.col("check_date").diff().over("participant_id").dt.total_days()
    ).to_series().drop_nulls()
    assert gaps.n_unique() > 100  # irregular, not a fixed schedule
    worked = checks.filter(pl.col("employment").is_in(["full_time", "part_time", "unemployed"])).with_columns(
        ((pl.col("check_date") - pl.col("index_date")).dt.total_days() > 182).alias("late"),
        pl.col("employment").is_in(["full_time", "part_time"]).alias("employed"),
    )
    rate = {(c, late): v for c, late, v in worked.group_by("cohort", "late").agg(pl.col("employed").mean()).rows()}
    assert rate[("pilot", True)] > rate[("pilot", False)] + 0.15
    assert rate[("comparison", True)] > rate[("comparison", False)] + 0.15
    assert 0 < rate[("pilot", True)] - rate[("comparison", True)] < 0.12
    housed = checks.filter(pl.col("housing").is_not_null()).group_by(pl.col("release_date").is_not_null()).agg(
        (pl.col("housing") == "stable").mean()
    )
    stable = dict(housed.rows())
    assert stable[True] < stable[False] - 0.15
    both = checks.filter(pl.col("employment").is_not_null() & pl.col("housing").is_not_null()).height
    assert 0.5 < both / checks.height < 0.9  # some checks record one domain only


def test_costs_staffing_and_surveys_look_like_operations(tables: dict[str, pl.DataFrame]) -> None:
    costs = tables["program_costs"]
    assert set(costs["program_id"]) == set(tables["programs"]["program_id"])
    quarterly = costs.filter(pl.col("category").is_in(["personnel", "services"]))
    starts = quarterly["period_start"]
    assert set(starts.dt.day()) == {1} and set(starts.dt.month()) >= {1, 4, 7, 10}
    assert (costs["period_end"] > AS_OF).any(), "a period runs past the as-of date"
    assert (costs["amount"] > 0).all() and costs["amount"].sum() > 1_000_000
    staffing = tables["staffing"]
    assert staffing.select("agency_id", "month").is_unique().all()
    assert (staffing["month"].dt.day() == 1).all()
    assert (staffing["officers_fte"] == 0).sum() >= 1, "a vacancy month"
    assert staffing.group_by("agency_id").agg(pl.col("officers_fte").n_unique())["officers_fte"].min() >= 3  # type: ignore[operator]
    surveys = tables["surveys"]
    assert set(surveys["respondent_type"]) == {"participant", "resident", "staff", "partner"}
    assert surveys.filter(pl.col("respondent_type") != "participant")["participant_id"].null_count() == (
        surveys.filter(pl.col("respondent_type") != "participant").height
    )
    co_response_start = tables["programs"].filter(pl.col("program_id") == "P05")["start_date"][0]
    trust = surveys.filter((pl.col("respondent_type") == "resident") & (pl.col("question") == "trust"))
    favourable = {
        (agency, after): share
        for agency, after, share in trust.group_by(
            "agency_id", (pl.col("survey_date") >= co_response_start + dt.timedelta(days=365)).alias("after")
        ).agg((pl.col("score") >= 4).mean()).rows()
    }
    assert favourable[("A01", True)] > favourable[("A01", False)] + 0.1, "trust rises where co-response started"
    assert abs(favourable[("A02", True)] - favourable[("A02", False)]) < 0.1


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
    from dashboard.sample.common import contract_weights as _weights

    with pytest.raises(ValueError, match="missing"):
        _weights("participants", "cohort", {"pilot": 1.0})
    with pytest.raises(ValueError, match="unknown"):
        _weights("participants", "cohort", {"pilot": 1.0, "comparison": 1.0, "control": 1.0})
    assert re.sub(r"\s", "", str(_weights("participants", "cohort", {"pilot": 1, "comparison": 3}))) == "[0.250.75]"


# --- the messy extract: a second, independent reading of the planted rows ------------

MESSY_DIR = SAMPLE_DIR / "messy"


def _read_delivered(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows as delivered text (XLSX date cells as YYYY-MM-DD)."""
    import csv

    if path.suffix == ".xlsx":
        import openpyxl

        sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        cells = [list(r) for r in sheet.iter_rows(values_only=True)]
        header = [str(h) for h in cells[0]]

        def text(v: object) -> str:
            if v is None:
                return ""
            if isinstance(v, dt.datetime):
                assert v.time() == dt.time(0), "the messy XLSX has no times in date cells"
                return v.date().isoformat()
            return str(v)

        return header, [dict(zip(header, (text(v) for v in r))) for r in cells[1:]]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [dict(zip(header, r)) for r in reader]


def _mini_load(as_of: dt.date) -> dict[str, dict[str, object]]:
    """SPEC §2 applied row by row in plain Python, to cross-check planted.json.

    Deliberately simple and slow: trim (Python's str.strip covers non-breaking
    spaces), empty -> null, strict formats, enums lowercased, then row rules on
    well-formed values, foreign keys against the valid parents (rejected
    parent -> parent_rejected), duplicates, warnings.
    """
    valid_keys: dict[str, set[str]] = {}
    seen_keys: dict[str, set[object]] = {}
    row_key: dict[int, tuple[object, ...]] = {}
    loaded_rows: dict[str, list[dict[str, object]]] = {}
    results: dict[str, dict[str, object]] = {}
    for table in TABLES:
        path = next(MESSY_DIR.glob(f"{table.name}.*"))
        header, raw_rows = _read_delivered(path)
        by_name = {h.strip().lower(): h for h in header}
        unknown = [h for h in header if h.strip().lower() not in table.column_names]
        missing = [c for c in table.required_columns if c not in by_name]
        reasons: dict[str, int] = {}
        rejected_lines: dict[str, list[str]] = {}
        seen_keys[table.name] = set()
        if missing:
            results[table.name] = {
                "rows_read": len(raw_rows), "loaded": 0, "rejected": len(raw_rows), "duplicates_dropped": 0,
                "warnings": 0, "file_rejected": True, "missing_columns": missing,
                "reasons": {"missing_column": len(raw_rows)},
                "rejected_lines": {str(i + 2): ["missing_column"] for i in range(len(raw_rows))},
            }
            valid_keys[table.name] = set()
            loaded_rows[table.name] = []
            continue
        candidates: list[tuple[int, dict[str, object]]] = []
        for i, raw in enumerate(raw_rows):
            line = i + 2
            row: dict[str, object] = {}
            broken: list[str] = []
            bad_format: set[str] = set()
            for c in table.columns:
                text = raw.get(by_name[c.name], "") if c.name in by_name else ""
                text = text.strip()
                value: object = None if text == "" else text
                if value is None:
                    if c.required:
                        broken.append(f"required:{c.name}")
                elif c.type == "date":
                    try:
                        assert re.fullmatch(DATE_PATTERN, text)
                        value = dt.date.fromisoformat(text)
                    except (AssertionError, ValueError):
                        broken.append(f"date_format:{c.name}")
                        bad_format.add(c.name)
                    else:
                        if value > as_of and not c.may_follow_as_of:  # type: ignore[operator]
                            broken.append(f"after_as_of:{c.name}")
                elif c.type == "bool":
                    if text.lower() in ("true", "1", "false", "0"):
                        value = text.lower() in ("true", "1")
                    else:
                        broken.append(f"bool_format:{c.name}")
                        bad_format.add(c.name)
                elif c.type == "int":
                    if re.fullmatch(INT_PATTERN, text):
                        value = int(text.split(".")[0])
                        if not c.min_value <= value <= c.max_value:  # type: ignore[operator]
                            broken.append(f"range:{c.name}")
                    else:
                        broken.append(f"int_format:{c.name}")
                        bad_format.add(c.name)
                elif c.type == "enum":
                    value = text.lower()
                    if value not in c.enum:
                        broken.append(f"enum:{c.name}")
                        bad_format.add(c.name)
                elif c.type == "decimal":
                    if re.fullmatch(DECIMAL_PATTERN, text):
                        value = Decimal(text)
                    else:
                        broken.append(f"decimal_format:{c.name}")
                        bad_format.add(c.name)
                row[c.name] = value
            for r in table.row_rules:
                cols = {getattr(r, "later", None), getattr(r, "earlier", None), getattr(r, "column", None),
                        getattr(r, "when_column", None)} - {None}
                if isinstance(r, AtLeastOne):
                    # "set" is asked of the text: a badly written value is still a value
                    if all(row[c] is None and c not in bad_format for c in r.columns):
                        broken.append(r.id)
                    continue
                if cols & bad_format:
                    continue
                if isinstance(r, FirstOfMonth):
                    bad = row[r.column] is not None and row[r.column].day != 1  # type: ignore[attr-defined]
                elif isinstance(r, DateOrder):
                    bad = row[r.later] is not None and row[r.earlier] is not None and row[r.later] < row[r.earlier]  # type: ignore[operator]
                else:
                    when = row[r.when_column] is not None if not r.values else row[r.when_column] in r.values
                    if isinstance(r, RequiredWhen):
                        bad = when and row[r.column] is None
                    elif isinstance(r, NullUnless):
                        bad = not when and row[r.column] is not None
                    else:
                        bad = when and row[r.column] is not None
                if bad:
                    broken.append(r.id)
            for c in table.foreign_keys:
                v = row[c.name]
                if v is None or c.name in bad_format:
                    continue
                if v not in valid_keys[c.references]:  # type: ignore[index]
                    broken.append(("parent_rejected:" if v in seen_keys[c.references] else "fk:") + c.name)  # type: ignore[index]
            key = tuple(row[c] for c in table.key_columns)
            row_key[id(row)] = key
            if None not in key:
                seen_keys[table.name].add(key[0] if len(key) == 1 else key)
            if broken:
                rejected_lines[str(line)] = sorted(broken)
            else:
                candidates.append((line, row))
        by_key: dict[object, list[tuple[int, dict[str, object]]]] = {}
        for line, row in candidates:
            by_key.setdefault(row_key[id(row)], []).append((line, row))
        kept: list[dict[str, object]] = []
        dropped = 0
        for copies in by_key.values():
            if all(r == copies[0][1] for _, r in copies):
                kept.append(copies[0][1])
                dropped += len(copies) - 1
            else:
                for line, _ in copies:
                    rejected_lines[str(line)] = ["duplicate_key_conflict"]
        for rules in rejected_lines.values():
            for rule in rules:
                reasons[rule] = reasons.get(rule, 0) + 1
        valid_keys[table.name] = {row_key[id(r)][0] for r in kept}  # type: ignore[misc]
        loaded_rows[table.name] = kept
        results[table.name] = {
            "rows_read": len(raw_rows), "loaded": len(kept), "rejected": len(rejected_lines),
            "duplicates_dropped": dropped, "warnings": len(unknown), "file_rejected": False,
            "missing_columns": [], "reasons": dict(sorted(reasons.items())),
            "rejected_lines": dict(sorted(rejected_lines.items(), key=lambda kv: int(kv[0]))),
        }
    people = {p["participant_id"]: p for p in loaded_rows["participants"]}
    for name, col in (("supervision_events", "event_date"), ("violations", "violation_date"),
                      ("referrals", "referral_date"), ("reintegration_checks", "check_date")):
        for row in loaded_rows[name]:
            p = people[row["participant_id"]]
            if row[col] < p["enrollment_date"] or (p["exit_date"] is not None and row[col] > p["exit_date"]):  # type: ignore[operator]
                results[name]["warnings"] += 1  # type: ignore[operator]
    with_events = {r["participant_id"] for r in loaded_rows["supervision_events"]}
    results["participants"]["warnings"] += len(set(people) - with_events)  # type: ignore[operator]
    return results


def test_messy_planted_json_matches_an_independent_reading() -> None:
    planted = json.loads((MESSY_DIR / "planted.json").read_text(encoding="utf-8"))
    manifest = json.loads((MESSY_DIR / "manifest.json").read_text(encoding="utf-8"))
    as_of = dt.date.fromisoformat(manifest["as_of"])
    assert planted["as_of"] == manifest["as_of"]
    mine = _mini_load(as_of)
    for name, expected in planted["tables"].items():
        got = mine[name]
        for k in ("rows_read", "loaded", "rejected", "duplicates_dropped", "warnings", "file_rejected",
                  "missing_columns", "reasons"):
            assert got[k] == expected[k], (name, k, got[k], expected[k])
        assert got["rejected_lines"] == {k: sorted(v) for k, v in expected["rejected_lines"].items()}, name
        assert expected["rows_read"] == expected["loaded"] + expected["rejected"] + expected["duplicates_dropped"]
        assert expected["warnings"] == sum(expected["warning_reasons"].values())


def test_messy_no_supervision_warning_does_not_hinge_on_rejected_events() -> None:
    """Loaded participants without *loaded* events are exactly those without events in the file."""
    _, participants = _read_delivered(MESSY_DIR / "participants.csv")
    _, events = _read_delivered(MESSY_DIR / "supervision_events.csv")
    in_file = {e["participant_id"].strip() for e in events}
    planted = json.loads((MESSY_DIR / "planted.json").read_text(encoding="utf-8"))["tables"]["participants"]
    rejected = set(planted["rejected_lines"])
    loaded_ids = {p["participant_id"].strip() for i, p in enumerate(participants) if str(i + 2) not in rejected}
    assert len(loaded_ids - in_file) == planted["warning_reasons"]["warn:no_supervision_events"] == 1


def test_messy_covers_every_rule_kind_and_every_row_rule() -> None:
    planted = json.loads((MESSY_DIR / "planted.json").read_text(encoding="utf-8"))["tables"]
    kinds = {rule.split(":")[0] for t in planted.values() for rule in t["reasons"]}
    assert kinds >= {"required", "date_format", "bool_format", "int_format", "enum", "range", "after_as_of", "fk",
                     "parent_rejected", "duplicate_key_conflict", "missing_column", "decimal_format",
                     "first_of_month", "at_least_one"}
    for table in TABLES:
        reasons = planted[table.name]["reasons"]
        for r in table.row_rules:
            assert reasons.get(r.id, 0) >= 1, (table.name, r.id)
        for rule in reasons:
            kind, _, column = rule.partition(":")
            if kind in ("required", "date_format", "bool_format", "int_format", "enum", "range", "after_as_of",
                        "fk", "parent_rejected", "decimal_format"):
                assert column in table.column_names, rule
            elif kind not in ("duplicate_key_conflict", "missing_column"):
                assert rule in {r.id for r in table.row_rules}, rule
    optional_enum = {f"enum:{c.name}" for t in TABLES for c in t.columns if c.enum and not c.required}
    assert optional_enum & {rule for t in planted.values() for rule in t["reasons"]}
    warnings = {w for t in planted.values() for w in t["warning_reasons"]}
    assert warnings == {"warn:before_enrollment", "warn:after_exit", "warn:no_supervision_events",
                        "warn:unknown_column"}
    assert sum(t["duplicates_dropped"] for t in planted.values()) >= 3
    assert [t for t, e in planted.items() if e["file_rejected"]] == ["violations"]


def test_messy_extract_regenerates_identically(tmp_path: Path) -> None:
    from dashboard.sample import write_messy_extract

    write_messy_extract(tmp_path)
    for path in sorted(MESSY_DIR.iterdir()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in MESSY_DIR.iterdir())


def test_messy_delivery_quirks_are_really_there() -> None:
    assert (MESSY_DIR / "participants.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert "\u00a0" in (MESSY_DIR / "participants.csv").read_text(encoding="utf-8-sig")
    assert (MESSY_DIR / "agreements.xlsx").exists() and not (MESSY_DIR / "agreements.csv").exists()
    header, _ = _read_delivered(MESSY_DIR / "recidivism_events.csv")
    assert any(h != h.strip().lower() for h in header)
