"""Checks across loads: each fires on a planted defect with the numbers by hand,
stays quiet on the clean sample, and levels carry reasons."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import polars as pl
import pytest

from dashboard import quality_checks as qc
from dashboard import sample
from dashboard import stewardship as st
from dashboard.contract import TABLE_NAMES
from dashboard.metrics.tables import conform as conform_tables
from data_checks import levels


def conform(table: str, rows: object) -> pl.DataFrame:
    """A contract table as the steward's checks get it: plain strings (stewardship.read_tables),
    not the categoricals of the metric engine's shared tables."""
    return conform_tables(table, rows, categorical=False)  # type: ignore[arg-type]


D = dt.date
AS_OF = D(2026, 6, 30)


def events(rows: list[tuple[str, str, dt.date, str]]) -> pl.DataFrame:
    """(event_id, agency_id, event_date, outcome) -> supervision_events."""
    return conform("supervision_events", [
        {"event_id": e, "participant_id": "N1", "agency_id": a, "event_date": d, "event_type": "drug_test",
         "required": True, "outcome": o} for e, a, d, o in rows])


def monthly(agency: str, counts: dict[dt.date, int], outcome: str = "compliant") -> list[tuple[str, str, dt.date, str]]:
    out = []
    for month, n in counts.items():
        for i in range(n):
            out.append((f"{agency}-{month:%Y%m}-{i}", agency, month + dt.timedelta(days=i % 28), outcome))
    return out


def test_reference_month_is_the_last_complete_month() -> None:
    assert qc.reference_month(D(2026, 6, 30)) == D(2026, 6, 1)
    assert qc.reference_month(D(2026, 6, 29)) == D(2026, 5, 1)
    assert qc.reference_month(D(2026, 1, 15)) == D(2025, 12, 1)
    assert qc.add_months(D(2026, 1, 1), -1) == D(2025, 12, 1)


def test_freshness_flags_an_agency_past_its_cadence() -> None:
    agencies = conform("agencies", [
        {"agency_id": "A1", "agency_name": "a", "agency_type": "probation"},
        {"agency_id": "A2", "agency_name": "b", "agency_type": "law_enforcement"},
        {"agency_id": "A3", "agency_name": "c", "agency_type": "court"},
        {"agency_id": "A4", "agency_name": "d", "agency_type": "community_org"},
    ])
    tables = {"agencies": agencies, "supervision_events": events([
        ("E1", "A1", D(2026, 6, 20), "compliant"),   # 10 days before as-of: ok under 31
        ("E2", "A2", D(2026, 4, 30), "compliant"),   # 61 days: stale under 31
        ("E3", "A3", D(2026, 5, 1), "compliant"),    # 60 days: court cadence 90 -> ok
        ("E4", "A1", D(2026, 7, 5), "compliant"),    # after as-of: ignored
    ])}
    t = qc.Thresholds(cadence_days_by_agency_type={"court": 90})
    f = {r["agency_id"]: r for r in qc.freshness(tables, AS_OF, t).iter_rows(named=True)}
    assert (f["A1"]["days_since_latest"], f["A1"]["status"]) == (10, "ok")
    assert (f["A2"]["days_since_latest"], f["A2"]["cadence_days"], f["A2"]["status"]) == (61, 31, "stale")
    assert (f["A3"]["cadence_days"], f["A3"]["status"]) == (90, "ok")
    assert f["A4"]["status"] == "no_activity"
    # a per-agency cadence wins over the type and the default
    t2 = qc.Thresholds(cadence_days_by_agency={"A2": 61})
    assert qc.freshness(tables, AS_OF, t2).filter(pl.col("agency_id") == "A2")["status"][0] == "ok"


def test_volume_drift_needs_a_significant_test_and_a_change_outside_the_band() -> None:
    months = [D(2025, 12, 1), D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1)]
    # History Dec..May = 31+31+28+31+30+31 = 182 days; June has 30. At 40 rows a month
    # (240 rows) the expected June count is 240 * 30 / 182 = 39.56, band 19.78..118.68.
    rows = (
        monthly("A1", {**{m: 40 for m in months}, D(2026, 6, 1): 12})     # below 19.78, p tiny -> low
        + monthly("A2", {**{m: 40 for m in months}, D(2026, 6, 1): 121})  # above 118.68 -> high
        + monthly("A3", {**{m: 40 for m in months}, D(2026, 6, 1): 20})   # significant, but inside the band -> ok
        + monthly("A4", {D(2026, 4, 1): 50, D(2026, 5, 1): 50, D(2026, 6, 1): 1})  # 2 months of history: skipped
        # 15 a month, none in June: expected 90 * 30 / 182 = 14.84; P(0 of 90 at 30/212) = (182/212)^90 ≈ 1.1e-6
        + monthly("A5", {m: 15 for m in months})
        # 2 a month, none in June: below its band too, but P(0 of 12) = (182/212)^12 = 0.16 (two-sided
        # p = 0.40) is chance -> ok
        + monthly("A6", {m: 2 for m in months})
    )
    v = {r["agency_id"]: r for r in qc.volume_drift({"supervision_events": events(rows)}, AS_OF).iter_rows(named=True)}
    assert set(v) == {"A1", "A2", "A3", "A5", "A6"}
    r = v["A1"]
    assert (r["rows"], r["history_rows"], r["history_months"]) == (12, 240, 6)
    assert r["expected_rows"] == pytest.approx(240 * 30 / 182)
    assert r["band_low"] == pytest.approx(240 * 30 / 182 * 0.5)
    assert r["band_high"] == pytest.approx(240 * 30 / 182 * 3)
    assert (r["test"], r["status"]) == ("exact binomial test", "low")
    assert v["A2"]["status"] == "high"
    assert v["A3"]["q_value"] <= 0.01 and v["A3"]["status"] == "ok"  # significant, too small a drop
    assert v["A5"]["expected_rows"] == pytest.approx(90 * 30 / 182) and v["A5"]["status"] == "low"
    assert (182 / 212) ** 90 <= v["A5"]["p_value"] < 1e-5
    assert v["A6"]["p_value"] > 0.1 and v["A6"]["status"] == "ok"
    assert {r["comparisons"] for r in v.values()} == {5}  # one family: the five comparisons made
    # a lower band makes A3's drop to 20 (49% fewer) worth an alarm
    assert qc.volume_drift({"supervision_events": events(rows)}, AS_OF, qc.Thresholds(volume_band_low=0.4)).filter(
        pl.col("agency_id") == "A3")["status"][0] == "low"
    # months without rows count as zero in the history: A7 delivered 50 a month, then nothing for 2 months
    gap = monthly("A7", {D(2026, 1, 1): 50, D(2026, 2, 1): 50, D(2026, 3, 1): 50, D(2026, 6, 1): 50})
    r = qc.volume_drift({"supervision_events": events(gap)}, AS_OF).row(0, named=True)
    # history Jan..May = 151 days, 150 rows -> expected 150 * 30 / 151 = 29.8; June 50 is inside 14.9..89.4
    assert (r["history_months"], r["history_rows"], r["status"]) == (5, 150, "ok")
    assert r["expected_rows"] == pytest.approx(150 * 30 / 151)


def test_distribution_drift_flags_a_jump_in_missed_events() -> None:
    # history window Apr 2025..Mar 2026: 100 events, 10 missed (10%);
    # recent window Apr..Jun 2026: 50 events, 15 missed (30%) -> +20 points.
    # Chi-square of [[15, 35], [10, 90]]: 150 * (15*90 - 35*10)^2 / (50*100*25*125) = 9.6,
    # p = erfc(sqrt(9.6 / 2)) = 0.0019457; the smallest expected count is 50*25/150 = 8.3 >= 5.
    history = monthly("A1", {D(2025, 6, 1): 90}) + monthly("A1", {D(2025, 7, 1): 10}, "missed")
    recent = monthly("A1", {D(2026, 5, 1): 35}) + monthly("A1", {D(2026, 6, 1): 15}, "missed")
    too_old = monthly("A1", {D(2025, 3, 1): 40}, "missed")  # before the history window: ignored
    d = qc.distribution_drift({"supervision_events": events(history + recent + too_old)}, AS_OF)
    missed = {r["agency_id"]: r for r in d.filter(pl.col("value") == "missed").iter_rows(named=True)}
    assert set(missed) == {"A1", "*"}
    r = missed["A1"]
    assert (r["recent_count"], r["recent_rows"], r["history_count"], r["history_rows"]) == (15, 50, 10, 100)
    assert (r["recent_window"], r["history_window"]) == ("2026-04..2026-06", "2025-04..2026-03")
    assert (r["recent_share"], r["history_share"], r["status"]) == (pytest.approx(0.3), pytest.approx(0.1), "drift")
    assert r["change"] == pytest.approx(0.2)
    assert (r["test"], r["p_value"]) == ("chi-square test", pytest.approx(0.0019457736937, rel=1e-9))
    # two values (compliant, missed) are one comparison per agency: A1 and "*" make 2,
    # both with p = 0.0019457, so BH gives q = p
    assert (r["comparisons"], r["q_value"]) == (2, pytest.approx(r["p_value"]))
    compliant = d.filter((pl.col("value") == "compliant") & (pl.col("agency_id") == "A1")).row(0, named=True)
    assert (compliant["p_value"], compliant["status"]) == (pytest.approx(r["p_value"]), "drift")
    # 20 points is below a minimum effect of 25 points: no alarm; too few rows: not judged
    assert set(qc.distribution_drift({"supervision_events": events(history + recent)}, AS_OF,
                                     qc.Thresholds(drift_min_share_change=0.25))["status"]) == {"ok"}
    assert qc.distribution_drift({"supervision_events": events(history + recent)}, AS_OF,
                                 qc.Thresholds(drift_min_rows=51)).height == 0


def test_distribution_drift_small_counts_use_fishers_exact_test() -> None:
    # 30 events in each window; 5 missed recently, none before: +16.7 points (the old
    # 10-point rule fired). Expected missed count 30 * 5 / 60 = 2.5 < 5 -> Fisher's exact test:
    # P(5 of the 5 missed in the recent 30) = C(30,5) / C(60,5) = 142506 / 5461512 = 0.0260928,
    # the same for 0 of 5, so p = 2 * 142506 / 5461512 = 0.0521855: chance, no alarm.
    history = monthly("A1", {D(2025, 9, 1): 30})
    recent = monthly("A1", {D(2026, 5, 1): 25}) + monthly("A1", {D(2026, 6, 1): 5}, "missed")
    d = qc.distribution_drift({"supervision_events": events(history + recent)}, AS_OF)
    r = d.filter((pl.col("agency_id") == "A1") & (pl.col("value") == "missed")).row(0, named=True)
    assert r["change"] == pytest.approx(5 / 30)
    assert (r["test"], r["status"]) == ("Fisher's exact test", "ok")
    assert r["p_value"] == pytest.approx(2 * 142506 / 5461512, rel=1e-9)


def test_a_significant_change_smaller_than_the_minimum_effect_raises_no_alarm() -> None:
    # history 8000 events, 10% missed; recent 2000 events, 12% missed: +2 points.
    # Chi-square: 10000 * (240*7200 - 1760*800)^2 / (2000*8000*1040*8960) = 6.868, p = 0.00877;
    # A1 and "*" are two comparisons with that p -> q = 0.00877 <= 0.01: significant.
    history = [(f"H{i}", "A1", D(2025, 4, 1) + dt.timedelta(days=i % 360), "missed" if i % 10 == 0 else "compliant")
               for i in range(8000)]
    recent = [(f"R{i}", "A1", D(2026, 4, 1) + dt.timedelta(days=i % 91), "missed" if i % 50 < 6 else "compliant")
              for i in range(2000)]
    frame = events(history + recent)
    r = qc.distribution_drift({"supervision_events": frame}, AS_OF).filter(
        (pl.col("agency_id") == "A1") & (pl.col("value") == "missed")).row(0, named=True)
    assert (r["recent_count"], r["history_count"]) == (240, 800)
    assert r["p_value"] == pytest.approx(math.erfc(math.sqrt(6.868132 / 2)), rel=1e-5)
    assert r["q_value"] <= 0.01 and r["status"] == "ok"  # 2 points < the default 5
    lowered = qc.distribution_drift({"supervision_events": frame}, AS_OF, qc.Thresholds(drift_min_share_change=0.02))
    assert lowered.filter((pl.col("agency_id") == "A1") & (pl.col("value") == "missed"))["status"][0] == "drift"


def test_referrals_after_exit_and_grouping_totals() -> None:
    participants = conform("participants", [
        {"participant_id": "N1", "exit_date": D(2026, 3, 1)}, {"participant_id": "N2", "exit_date": None}])
    referrals = conform("referrals", [
        {"referral_id": "F1", "participant_id": "N1", "referring_agency_id": "A1", "referral_date": D(2026, 3, 2)},
        {"referral_id": "F2", "participant_id": "N1", "referring_agency_id": "A1", "referral_date": D(2026, 3, 1)},
        {"referral_id": "F3", "participant_id": "N2", "referring_agency_id": "A1", "referral_date": D(2026, 5, 1)},
    ])
    late = qc.referrals_after_exit({"participants": participants, "referrals": referrals})
    assert late["referral_id"].to_list() == ["F1"]  # on the exit day is not after it
    rows = pl.DataFrame({
        "metric": ["m"] * 5, "group_by": ["", "program_id", "program_id", "cohort", "cohort"],
        "numerator": [10, 4, 6, 4, 5], "denominator": [20.0, 8.0, 12.0, 10.0, 10.0]})
    bad = qc.grouping_consistency(rows)
    assert bad.select("group_by", "numerator").rows() == [("cohort", 9)]


def test_cross_load_findings_on_planted_defects_through_the_loader(tmp_path: Path) -> None:
    """A generated extract with three planted delivery problems, loaded and checked."""
    ingest = pytest.importorskip("dashboard.ingest")
    tables = sample.generate_tables(participants=1200, seed=7, as_of=AS_OF)
    ev = tables["supervision_events"]
    june = pl.col("event_date") >= D(2026, 6, 1)
    # 1. A04 stopped delivering supervision events in June (volume drop)
    ev = ev.filter(~(june & (pl.col("agency_id") == "A04")))
    # 2. A03's recent events are all "missed" (distribution drift)
    recent = pl.col("event_date") >= D(2026, 4, 1)
    ev = ev.with_columns(
        pl.when(recent & (pl.col("agency_id") == "A03")).then(pl.lit("missed")).otherwise(pl.col("outcome")).alias("outcome"))
    tables["supervision_events"] = ev
    # 3. A05 recorded nothing since February in any table (stale)
    for name, col in qc.ACTIVITY_DATE_COLUMN.items():
        agency_col = qc.SUBMITTING_AGENCY_COLUMN[name]
        tables[name] = tables[name].filter(~((pl.col(agency_col) == "A05") & (pl.col(col) > D(2026, 2, 28))))
    extract = tmp_path / "extract"
    extract.mkdir()
    for name, frame in tables.items():
        frame.with_columns(pl.col(pl.Date).dt.strftime("%Y-%m-%d")).write_csv(extract / f"{name}.csv")
    (extract / "AS_OF").write_text("2026-06-30\n")

    from dashboard import store

    engine = store.make_engine(f"duckdb:///{tmp_path / 'db.duckdb'}")
    ingest.load_extract(extract, engine)
    summary = st.quality_summary(engine)
    assert summary.cross is not None
    found = summary.cross.findings()
    by_check = {c: sorted(zip(g["table"], g["agency_id"])) for (c,), g in found.group_by("check")}
    assert ("supervision_events", "A04") in by_check["volume_drift"]
    v = summary.cross.volume.filter((pl.col("agency_id") == "A04") & (pl.col("table") == "supervision_events"))
    assert (v["rows"][0], v["status"][0]) == (0, "low")
    assert ("supervision_events", "A03") in by_check["distribution_drift"]
    drift = summary.cross.distribution.filter((pl.col("agency_id") == "A03") & (pl.col("value") == "missed"))
    assert drift["recent_share"][0] == 1.0 and drift["status"][0] == "drift"
    assert by_check["freshness"] == [("*", "A05")]
    fresh = summary.cross.freshness.filter(pl.col("agency_id") == "A05").row(0, named=True)
    assert fresh["latest_record_date"] <= D(2026, 2, 28) and fresh["status"] == "stale"
    # the metric engine's groupings add up on the loaded data
    assert summary.cross.groupings is not None and summary.cross.groupings.height == 0
    # (removing A05's recent participants also orphans their children, which are rejected)
    by_agency = {r["agency_id"]: r for r in summary.agencies.iter_rows(named=True)}
    for agency in ("A03", "A04", "A05"):
        assert by_agency[agency]["cross_load_warnings"] >= 1 and by_agency[agency]["status"] != "pass"


def test_the_clean_sample_raises_no_check_across_loads() -> None:
    tables = sample.generate_tables(participants=3000, seed=42, as_of=AS_OF)
    result = st.cross_load_checks(tables, AS_OF, with_groupings=False)
    assert result.findings().filter(pl.col("check") != "consistency:referral_after_exit").height == 0


# --- levels ------------------------------------------------------------------------------------


def test_every_contract_rule_has_a_level_and_overrides_carry_reasons() -> None:
    checks = levels.all_checks()
    keys = [(c.table, c.rule) for c in checks]
    assert len(keys) == len(set(keys))
    assert ("participants", "range:age_at_enrollment") in keys
    assert ("referrals", "null_when:accepted_date:status=pending") in keys
    assert ("programs", "after_as_of:end_date") not in keys  # may follow the as-of date
    warnings = {(c.table, c.rule) for c in checks if c.level == "warning" and c.table != "*"}
    assert warnings == {
        *((t, r) for t in ("supervision_events", "violations", "referrals", "reintegration_checks")
          for r in ("warn:before_enrollment", "warn:after_exit")),
        ("participants", "warn:no_supervision_events"),
        *((t, "warn:unknown_column") for t in TABLE_NAMES),
    }
    for (table, rule), override in levels.OVERRIDES.items():
        assert override.reason.strip(), (table, rule)
        assert (table, rule) in keys, f"override for an unknown check {table} {rule}"


def test_an_override_changes_the_level_and_excluded_warnings_disappear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(levels.OVERRIDES, ("participants", "warn:no_supervision_events"),
                        levels.Override("excluded", "test: enrolment precedes supervision in program X"))
    assert levels.level_of("warn:no_supervision_events", "participants") == "excluded"
    participants = conform("participants", [{"participant_id": "N1", "enrollment_date": D(2026, 1, 1)}])
    assert st.current_warnings({"participants": participants}).height == 0
    check = next(c for c in levels.all_checks() if c.rule == "warn:no_supervision_events")
    assert check.level == "excluded" and check.reason


def test_thresholds_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "quality.toml"
    path.write_text('[quality]\ncadence_days = 45\nvolume_band_low = 0.3\n[quality.cadence_days_by_agency]\nA9 = 7\n')
    t = qc.Thresholds.from_toml(path)
    assert (t.cadence_days, t.volume_band_low, t.cadence_for("A9", None), t.cadence_for("A1", None)) == (45, 0.3, 7, 45)
    path.write_text("[quality]\ncadense_days = 45\n")
    with pytest.raises(ValueError, match="cadense_days"):
        qc.Thresholds.from_toml(path)


def test_retired_and_invalid_thresholds_are_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "quality.toml"
    path.write_text("[quality]\ndrift_max_share_change = 0.10\n")
    with pytest.raises(ValueError, match="replaced by drift_min_share_change"):
        qc.Thresholds.from_toml(path)
    path.write_text("[quality]\nvolume_min_median_rows = 20\n")
    with pytest.raises(ValueError, match="remove it"):
        qc.Thresholds.from_toml(path)
    path.write_text("[quality]\nfalse_discovery_rate = 5\n")
    with pytest.raises(ValueError, match="false_discovery_rate must lie between 0 and 1"):
        qc.Thresholds.from_toml(path)
    path.write_text("[quality]\nfalse_discovery_rate = 0.05\ndrift_min_share_change = 0.08\n")
    t = qc.Thresholds.from_toml(path)
    assert (t.false_discovery_rate, t.drift_min_share_change, t.exact_test_below_expected) == (0.05, 0.08, 5.0)
