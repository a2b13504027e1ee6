"""The registry declares every SPEC §3 metric once, and docs/metrics.md is generated from it."""

from __future__ import annotations

from pathlib import Path

from dashboard.metrics.recidivism import MEASURES, WINDOWS_MONTHS
from dashboard.metrics.registry import GROUPINGS, METRIC_IDS, METRICS, get_metric, render_metrics_markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"


def test_every_spec_metric_is_declared_once() -> None:
    expected = {
        "referral_completion_rate", "referral_acceptance_rate", "median_days_to_service", "compliance_rate",
        "violation_rate_per_100_pm", "program_completion_rate", "reentry_plan_rate", "police_diversion_rate",
        *(f"recidivism_{m}_{w}m" for m in MEASURES for w in WINDOWS_MONTHS),
        *(f"{name}_{w}m" for name in ("employment_rate", "stable_housing_rate", "reintegration_check_coverage")
          for w in (6, 12)),
        "cost_per_participant", "cost_per_completion", "caseload_per_officer",
        *(f"survey_favourable_{q}" for q in ("trust", "safety", "satisfaction", "coordination")),
    }
    assert len(METRIC_IDS) == len(set(METRIC_IDS)) == 33
    assert set(METRIC_IDS) == expected


def test_units_intervals_and_groupings() -> None:
    assert get_metric("median_days_to_service").unit == "days"
    assert get_metric("violation_rate_per_100_pm").unit == "per_100_participant_months"
    own = {
        "cost_per_participant": ((), ("program_id",)),
        "cost_per_completion": ((), ("program_id",)),
        "caseload_per_officer": ((), ("agency_id",)),
        **{f"survey_favourable_{q}": ((), ("program_id",), ("agency_id",), ("respondent_type",))
           for q in ("trust", "safety", "satisfaction", "coordination")},
    }
    assert get_metric("cost_per_participant").unit == "currency"
    assert get_metric("caseload_per_officer").unit == "participants_per_officer"
    for m in METRICS:
        assert m.has_interval == (m.unit == "rate")
        assert m.groupings == own.get(m.id, GROUPINGS)
        assert m.definition and m.numerator and m.denominator and m.agency_attribution and m.period_date


def test_unknown_metric_names_the_known_ones() -> None:
    try:
        get_metric("recidivism_rearrest_7m")
    except KeyError as exc:
        assert "recidivism_rearrest_12m" in str(exc)
    else:
        raise AssertionError("expected KeyError")


def test_docs_metrics_md_is_generated_from_the_registry() -> None:
    # Regenerate with: python -c "from dashboard.metrics.registry import render_metrics_markdown as r; open('docs/metrics.md','w').write(r())"
    assert DOC.read_text(encoding="utf-8") == render_metrics_markdown(), "docs/metrics.md drifted from the registry"
    for m in METRICS:
        assert f"`{m.id}`" in DOC.read_text(encoding="utf-8")
