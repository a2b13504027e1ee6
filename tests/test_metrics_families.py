"""The metric families own their metrics: declarations, units, and no metric id anywhere else.

See docs/architecture.md, "Adding a metric".
"""

from __future__ import annotations

import ast
from pathlib import Path

import polars as pl
import pytest

from dashboard.metrics import families
from dashboard.metrics.engine import build_units, compute_metrics, participant_counts, referral_counts
from dashboard.metrics.prepared import prepare
from dashboard.metrics.registry import DASHBOARD_METRICS, METRIC_IDS, METRICS, METRICS_BY_ID
from dashboard.metrics.tables import Filters, Tables

ROOT = Path(__file__).resolve().parents[1]
FAMILIES_DIR = ROOT / "dashboard" / "metrics" / "families"
REGISTRY_IDS = frozenset(METRIC_IDS) | {m.id for m in DASHBOARD_METRICS}

PENDING_PAGES = ROOT / "pages"
"""The pages still name metrics (another change moves them to the families); listed, not checked."""
PENDING: dict[str, frozenset[str]] = {
    "dashboard/report/measures.py": frozenset({
        "reentry_plan_rate", "referral_acceptance_rate", "referral_completion_rate", "compliance_rate",
        "program_completion_rate", "recidivism_rearrest_6m", "recidivism_rearrest_12m",
        "police_diversion_rate",
        "employment_rate_12m", "stable_housing_rate_12m", "reintegration_check_coverage_12m",
        "cost_per_participant", "cost_per_completion", "survey_favourable_trust", "survey_favourable_safety",
        "survey_favourable_satisfaction", "survey_favourable_coordination",
    }),
    "dashboard/operations_views.py": frozenset(
        {"cost_per_participant", "cost_per_completion", "caseload_per_officer"}
    ),
    "dashboard/export_page_tables.py": frozenset(
        {"cost_per_participant", "cost_per_completion", "caseload_per_officer"}
    ),
}
"""Modules outside the metric package that still name these metrics (their owners move them); any other
id there, or any id in another module, fails the test."""


def _id_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in REGISTRY_IDS
    }


def _python_modules() -> list[Path]:
    out = [p for p in (ROOT / "dashboard").rglob("*.py")]
    out += [p for p in (ROOT / "streamlit_app.py",) if p.exists()]
    out += list(PENDING_PAGES.rglob("*.py"))
    return sorted(out)


def test_no_metric_id_literal_outside_the_families() -> None:
    offenders: dict[str, set[str]] = {}
    for path in _python_modules():
        if FAMILIES_DIR in path.parents or PENDING_PAGES in path.parents:
            continue
        rel = path.relative_to(ROOT).as_posix()
        found = _id_literals(path) - PENDING.get(rel, frozenset())
        if found:
            offenders[rel] = found
    assert offenders == {}, "metric ids belong in dashboard/metrics/families/: " + repr(offenders)


def test_the_scan_sees_ids_where_they_are() -> None:
    # The check above finds what it looks for: every family module that declares rates by literal is seen.
    seen = set().union(*(_id_literals(p) for p in FAMILIES_DIR.glob("*.py")))
    assert {"referral_completion_rate", "median_days_to_service", "compliance_rate",
            "violation_rate_per_100_pm", "police_diversion_rate", "police_co_responder_share"} <= seen


def test_registry_is_the_families_in_order() -> None:
    assert METRICS == tuple(m for f in families.FAMILIES for m in f.metrics)
    assert len(set(METRIC_IDS)) == len(METRIC_IDS)
    for family in families.FAMILIES:
        for definition in family.metrics:
            assert families.family_of(definition.id) is family
            assert definition.family == family.name or family.name == "partnerships"
    assert families.family_of("no_such_metric") is None
    with pytest.raises(KeyError, match="known"):
        families.family_named("no_such_family")


@pytest.fixture(scope="module")
def sample_tables() -> Tables:
    from dashboard.sample import generate_tables

    return Tables.from_frames(**generate_tables(participants=150, seed=11))


def test_each_family_builds_units_only_for_the_metrics_wanted(sample_tables: Tables) -> None:
    prep = prepare(sample_tables, Filters())
    for metric in METRIC_IDS:
        built = build_units(prep, {metric})
        assert len(built) <= 1, metric
        queries = [q for u in built for q in u.queries()]
        collected = pl.collect_all(queries)
        rows = [r for u in built for r in u.rows(collected, lambda m: METRICS_BY_ID[m].has_interval)]
        assert {r.metric for r in rows} <= {metric}
    assert build_units(prep, set()) == []


def test_one_metric_alone_gives_its_rows_of_all_metrics(sample_tables: Tables) -> None:
    everything = compute_metrics(sample_tables, Filters(), min_cell_size=0)
    for metric in ("median_days_to_service", "violation_rate_per_100_pm", "recidivism_reconviction_24m",
                   "cost_per_completion", "survey_favourable_trust"):
        alone = compute_metrics(sample_tables, Filters(), min_cell_size=0, metric_ids=[metric])
        assert alone.height > 0
        assert alone.equals(everything.filter(pl.col("metric") == metric))


def test_head_counts_are_declared_by_their_families(sample_tables: Tables) -> None:
    counts = families.family_named("participants").counts
    assert counts is not None
    assert {name for name, _ in counts(prepare(sample_tables, Filters()))} == {
        "participants_enrolled", "participants_active"
    }
    people = participant_counts(sample_tables, Filters(), min_cell_size=0)
    referrals = referral_counts(sample_tables, Filters(), min_cell_size=0)
    assert people["metric"].unique(maintain_order=True).to_list() == [
        "participants_enrolled", "participants_active"
    ]
    assert referrals["metric"].unique().to_list() == ["referrals_made"]
    overall = referrals.filter(pl.col("group_by").list.len() == 0).row(0, named=True)
    assert overall["value"] > 0


def test_a_new_family_needs_no_engine_change(sample_tables: Tables) -> None:
    """A metric declared by a family of its own is computed by the kinds alone (no engine code names it)."""
    import dataclasses

    from dashboard.metrics.kinds import Family, RateUnits
    from dashboard.metrics.prepared import referral_base

    template = METRICS_BY_ID["referral_acceptance_rate"]
    definition = dataclasses.replace(template, id="demo_started_share", family="demo")

    def units(prep, wanted):  # type: ignore[no-untyped-def]
        started = pl.col("service_start_date").is_not_null()
        # Flags are per record: a literal (pl.lit(True)) would count once per cell, not once per record.
        counted = pl.col("referral_id").is_not_null()
        return [RateUnits(referral_base(prep), {"demo_started_share": (started, counted)})]

    demo = Family("demo", (definition,), units=units)
    prep = prepare(sample_tables, Filters())
    (built,) = demo.build(prep, {"demo_started_share", "referral_completion_rate"})
    rows = built.rows(pl.collect_all(built.queries()), lambda m: True)
    overall = next(r for r in rows if r.key == ((), ()))
    counted = referral_base(prep).select(
        pl.col("service_start_date").is_not_null().sum().alias("num"), pl.len().alias("den")
    ).collect().row(0)
    assert (overall.numerator, overall.denominator) == (counted[0], float(counted[1]))
    assert overall.ci is not None and overall.value is not None
    assert overall.ci[0] <= overall.value <= overall.ci[1]
    assert demo.build(prep, {"referral_completion_rate"}) == []
