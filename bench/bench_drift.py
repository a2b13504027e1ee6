"""Measure the drift alarms: false-alarm rate without drift, power to find a planted shift.

Usage (from the repository root)::

    python bench/bench_drift.py [--extracts 200] [--participants 3000] [--seed 1000] [--json]

For each of ``--extracts`` generated extracts (seeds ``--seed``, ``--seed`` + 1, …,
as-of 2026-06-30):

1. **No drift by construction** (``dashboard.drift_fixtures.without_drift``):
   every activity row's date redrawn uniformly over its agency's span and the
   watched categories shuffled among the agency's rows. Any volume or
   distribution alarm is false. Counted: runs with at least one alarm under
   the defaults; under Benjamini–Hochberg alone (no minimum effect); with
   every comparison at p ≤ ``false_discovery_rate`` unadjusted; and under the
   old rule (a share moved by more than 10 points with 30 rows per window).
2. **A planted shift** (``with_missed_shift``) on that null extract: a share
   (``--shifts``, default 0.1, 0.2, 0.4) of one agency's compliant supervision
   events in its last three months turned ``missed``, in the agency with the
   most supervision events and in the one with the fewest that still has
   ``drift_min_rows`` events in the recent window. Power: runs where that
   agency's supervision outcome raises a distribution alarm. Other alarms in
   these runs (not that agency, not all agencies together) are counted as false.
3. **As generated**: the extract unchanged (the generator's own patterns,
   such as a rise of referrals in the last month, are real differences, not chance).

Rates carry Wilson 95% intervals. The numbers go into docs/stewardship.md by
hand; nothing here asserts a result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from collections import Counter
from typing import Any

import polars as pl

from dashboard import drift_fixtures as fx
from dashboard import sample
from dashboard.quality_checks import (
    ALL_AGENCIES,
    Thresholds,
    add_months,
    drift_checks,
    load_thresholds,
    reference_month,
)
from dashboard.stats import wilson_interval

AS_OF = dt.date(2026, 6, 30)
OLD_RULE_CHANGE = 0.10  # the rule this replaced: |change| > 10 points, both windows >= 30 rows


def _alarms(volume: pl.DataFrame, distribution: pl.DataFrame) -> pl.DataFrame:
    """Every alarm of one run: check, table, agency_id."""
    return pl.concat(
        [
            volume.filter(pl.col("status") != "ok").select(
                pl.lit("volume").alias("check"), "table", "agency_id"
            ),
            distribution.filter(pl.col("status") == "drift").select(
                pl.lit("distribution").alias("check"), "table", "agency_id"
            ),
        ]
    )


def _quietest_judged_agency(tables: dict[str, pl.DataFrame], thresholds: Thresholds) -> str | None:
    """The agency with the fewest supervision events whose recent window still has enough rows to be judged."""
    end = add_months(reference_month(AS_OF), 1)
    start = add_months(end, -thresholds.drift_recent_months)
    recent = (
        tables["supervision_events"]
        .filter(
            (pl.col("event_date") >= start) & (pl.col("event_date") < end) & pl.col("agency_id").is_not_null()
        )
        .group_by("agency_id")
        .len("n")
        .filter(pl.col("n") >= thresholds.drift_min_rows)
        .sort(["n", "agency_id"])
    )
    return str(recent["agency_id"][0]) if recent.height else None


def _rate(hits: int, runs: int) -> dict[str, Any]:
    ci = wilson_interval(hits, runs) if runs else None
    return {
        "hits": hits,
        "runs": runs,
        "rate": hits / runs if runs else None,
        "ci_low": ci[0] if ci else None,
        "ci_high": ci[1] if ci else None,
    }


def _fmt(r: dict[str, Any]) -> str:
    if not r["runs"]:
        return "n/a"
    return f"{r['hits']}/{r['runs']} = {r['rate']:.1%} (95% CI {r['ci_low']:.1%}–{r['ci_high']:.1%})"


def run(
    extracts: int, participants: int, seed: int, shifts: list[float], thresholds: Thresholds
) -> dict[str, Any]:
    alpha = thresholds.false_discovery_rate
    counts: Counter[str] = Counter()
    comparisons: list[int] = []
    sizes: dict[str, list[int]] = {"busiest": [], "quietest": []}
    false_alarm_checks: Counter[str] = Counter()
    false_alarms: list[dict[str, Any]] = []
    started = time.perf_counter()
    for i in range(extracts):
        s = seed + i
        tables = sample.generate_tables(participants=participants, seed=s, as_of=AS_OF)
        null = fx.without_drift(tables, AS_OF, s)
        volume, distribution = drift_checks(null, AS_OF, thresholds)
        comparisons.append(
            int(volume["comparisons"][0]) if volume.height else int(distribution["comparisons"][0])
        )
        alarms = _alarms(volume, distribution)
        counts["null_default"] += alarms.height > 0
        false_alarms.extend(
            {
                "seed": s,
                "check": "volume",
                "table": r["table"],
                "agency_id": r["agency_id"],
                "what": f"{r['rows']} rows against {r['expected_rows']:.1f} expected",
                "test": r["test"],
                "p_value": r["p_value"],
                "q_value": r["q_value"],
            }
            for r in volume.filter(pl.col("status") != "ok").iter_rows(named=True)
        )
        false_alarms.extend(
            {
                "seed": s,
                "check": "distribution",
                "table": r["table"],
                "agency_id": r["agency_id"],
                "what": f"{r['value']}: {r['history_share']:.1%} -> {r['recent_share']:.1%} "
                f"({r['recent_count']} of {r['recent_rows']})",
                "test": r["test"],
                "p_value": r["p_value"],
                "q_value": r["q_value"],
            }
            for r in distribution.filter(pl.col("status") == "drift").iter_rows(named=True)
        )
        for check in set(alarms["check"]):
            false_alarm_checks[check] += 1
        counts["null_bh_only"] += bool(
            (volume["q_value"] <= alpha).any() or (distribution["q_value"] <= alpha).any()
        )
        counts["null_unadjusted"] += bool(
            (volume["p_value"] <= alpha).any() or (distribution["p_value"] <= alpha).any()
        )
        counts["null_old_rule"] += bool((distribution["change"].abs() > OLD_RULE_CHANGE).any())

        generated = _alarms(*drift_checks(tables, AS_OF, thresholds))
        counts["as_generated"] += generated.height > 0
        for check in set(generated["check"]):
            counts[f"as_generated_{check}"] += 1

        targets = {"busiest": fx.busiest_agency(null), "quietest": _quietest_judged_agency(null, thresholds)}
        for label, agency in targets.items():
            if agency is None:
                continue
            end = add_months(reference_month(AS_OF), 1)
            start = add_months(end, -thresholds.drift_recent_months)
            sizes[label].append(
                null["supervision_events"]
                .filter(
                    (pl.col("agency_id") == agency)
                    & (pl.col("event_date") >= start)
                    & (pl.col("event_date") < end)
                )
                .height
            )
            for share in shifts:
                planted = fx.with_missed_shift(null, AS_OF, agency, share, s)
                found = _alarms(*drift_checks(planted, AS_OF, thresholds))
                hit = (
                    found.filter(
                        (pl.col("check") == "distribution")
                        & (pl.col("table") == "supervision_events")
                        & (pl.col("agency_id") == agency)
                    ).height
                    > 0
                )
                counts[f"runs_{label}_{share}"] += 1
                counts[f"power_{label}_{share}"] += hit
                counts[f"other_{label}_{share}"] += (
                    found.filter(~pl.col("agency_id").is_in([agency, ALL_AGENCIES])).height > 0
                )
        if (i + 1) % 20 == 0:
            print(f"  {i + 1}/{extracts} extracts, {time.perf_counter() - started:.0f} s", file=sys.stderr)

    result: dict[str, Any] = {
        "extracts": extracts,
        "participants": participants,
        "seeds": [seed, seed + extracts - 1],
        "thresholds": {
            "false_discovery_rate": alpha,
            "drift_min_share_change": thresholds.drift_min_share_change,
            "volume_band_low": thresholds.volume_band_low,
            "volume_band_high": thresholds.volume_band_high,
            "drift_min_rows": thresholds.drift_min_rows,
        },
        "comparisons_per_run": {
            "min": min(comparisons),
            "max": max(comparisons),
            "mean": sum(comparisons) / len(comparisons),
        },
        "no_drift": {
            "default": _rate(counts["null_default"], extracts),
            "bh_without_minimum_effect": _rate(counts["null_bh_only"], extracts),
            "unadjusted_p": _rate(counts["null_unadjusted"], extracts),
            "old_rule": _rate(counts["null_old_rule"], extracts),
            "runs_with_false_alarm_by_check": dict(false_alarm_checks),
            "false_alarms": false_alarms,
        },
        "as_generated": {
            "default": _rate(counts["as_generated"], extracts),
            "volume": _rate(counts["as_generated_volume"], extracts),
            "distribution": _rate(counts["as_generated_distribution"], extracts),
        },
        "planted": {
            label: {
                "recent_events_of_agency": {"min": min(sizes[label]), "max": max(sizes[label])}
                if sizes[label]
                else None,
                **{
                    str(share): {
                        "power": _rate(counts[f"power_{label}_{share}"], counts[f"runs_{label}_{share}"]),
                        "other_false_alarms": _rate(
                            counts[f"other_{label}_{share}"], counts[f"runs_{label}_{share}"]
                        ),
                    }
                    for share in shifts
                },
            }
            for label in ("busiest", "quietest")
        },
        "seconds": time.perf_counter() - started,
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extracts", type=int, default=200)
    parser.add_argument("--participants", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--shifts", type=float, nargs="+", default=[0.1, 0.2, 0.4])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    thresholds = load_thresholds()
    r = run(args.extracts, args.participants, args.seed, args.shifts, thresholds)
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(
        f"{r['extracts']} extracts of {r['participants']} participants (seeds {r['seeds'][0]}–{r['seeds'][1]}), "
        f"{r['comparisons_per_run']['mean']:.0f} comparisons per run "
        f"({r['comparisons_per_run']['min']}–{r['comparisons_per_run']['max']}); thresholds {r['thresholds']}"
    )
    print("No drift by construction — runs with at least one alarm:")
    for key, label in [
        ("default", "defaults (BH + minimum effect)"),
        ("bh_without_minimum_effect", "BH alone"),
        ("unadjusted_p", "unadjusted p <= level"),
        ("old_rule", "old rule (> 10 points)"),
    ]:
        print(f"  {label:32} {_fmt(r['no_drift'][key])}")
    print(f"  false alarms by check: {r['no_drift']['runs_with_false_alarm_by_check'] or 'none'}")
    for a in r["no_drift"]["false_alarms"]:
        print(
            f"    seed {a['seed']} {a['check']} {a['table']} {a['agency_id']}: {a['what']}; "
            f"{a['test']} p = {a['p_value']:.2g}, q = {a['q_value']:.2g}"
        )
    print("As generated (real patterns of the generator, not chance):")
    for key in ("default", "volume", "distribution"):
        print(f"  {key:32} {_fmt(r['as_generated'][key])}")
    for label, planted in r["planted"].items():
        print(f"Planted shift, {label} agency (recent-window events {planted['recent_events_of_agency']}):")
        for share in args.shifts:
            p = planted[str(share)]
            print(
                f"  {share:.0%} of compliant -> missed: power {_fmt(p['power'])}; "
                f"other alarms {_fmt(p['other_false_alarms'])}"
            )
    print(f"{r['seconds']:.0f} s on {r['machine']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
