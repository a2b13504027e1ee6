"""Seeded synthetic extracts: the demo data, benchmark input and test fixtures.

``generate_extract`` writes one file per contract table plus ``manifest.json``.
Everything is derived from :mod:`dashboard.contract`: the column lists, their
order, and the enum values (every weight table below is checked against the
contract's enum, so a value added to the contract without a weight here fails
loudly instead of silently never appearing).

The data are fictional but shaped like a real multi-agency pilot:

* a dozen agencies covering every ``agency_type``; seven programs covering
  every ``program_model``, some grant-funded, each with a lead agency;
  agreements in force, expiring within 90 days of the as-of date, expired and
  open-ended;
* participants in pilot and comparison cohorts at three risk levels with
  different base rates, and a **planted pilot effect**: the pilot cohort's
  re-arrest hazard is ``PILOT_HAZARD_RATIO`` times the comparison's, its
  referrals complete more often and its required supervision events are more
  often compliant;
* ``release_date`` only for parole and post-release supervision (people under
  probation or no supervision were never released from custody in this
  enrollment), reentry plans mostly completed before release;
* every referral status with the dates its status requires, every supervision
  outcome, violation type and response, all four recidivism event types
  (mostly after the index date, a few on or before it), and police contacts
  with and without a co-responder.

Every generated row satisfies every contract rule, so the clean extract loads
with zero rejections. The only warnings are a rare, seeded handful of
supervision events dated a few days after the participant's exit (a final
court appearance), as real extracts have.

All dates are placed relative to the as-of date, so any as-of date gives a
valid extract. Generation is vectorised (numpy draws, polars frames): a
million participants take about a minute on two cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dashboard.contract import CONTRACT_VERSION, TABLES, TABLES_BY_NAME

GENERATOR_NAME = "dashboard.sample"
# Bump when the same seed would produce different rows.
GENERATOR_VERSION = 1
DEFAULT_AS_OF = dt.date(2026, 6, 30)
DEFAULT_SEED = 42
DEFAULT_PARTICIPANTS = 3000
FORMATS = ("csv", "parquet")

# The planted effect: pilot re-arrest hazard relative to the comparison cohort.
PILOT_HAZARD_RATIO = 0.70
# Probability of a first arrest within 12 months of the index date, by risk level.
REARREST_12M = {"low": 0.12, "moderate": 0.25, "high": 0.40}

_EPOCH = dt.date(1970, 1, 1)
_NULL = np.iinfo(np.int64).min  # "no date" / "no value" in the integer arrays below
_DAYS_PER_MONTH = 30.4375


# --- contract-derived helpers -------------------------------------------------------


def _enum(table: str, column: str) -> tuple[str, ...]:
    values = TABLES_BY_NAME[table].column(column).enum
    if not values:
        raise ValueError(f"{table}.{column} is not an enum column in the contract")
    return values


def _weights(table: str, column: str, weights: Mapping[str, float]) -> np.ndarray:
    """Probabilities over the contract's enum values, in contract order.

    Every key must be an allowed value; every allowed value must have a weight
    (zero is allowed where a value is produced by another path, e.g. the
    ``revoked`` response comes only with a revocation exit).
    """
    allowed = _enum(table, column)
    unknown = set(weights) - set(allowed)
    missing = set(allowed) - set(weights)
    if unknown or missing:
        raise ValueError(
            f"sample weights for {table}.{column} do not match the contract: "
            f"unknown {sorted(unknown)}, missing {sorted(missing)}"
        )
    p = np.array([weights[v] for v in allowed], dtype=float)
    return p / p.sum()


def _code(table: str, column: str, value: str) -> int:
    return _enum(table, column).index(value)


def _choose(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """``n`` category codes drawn with probabilities ``p`` (inverse CDF, vectorised)."""
    cdf = np.cumsum(p)
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int64)


def _choose_rows(rng: np.random.Generator, p_rows: np.ndarray) -> np.ndarray:
    """One category per row, each row with its own probability vector (rows of ``p_rows``)."""
    cdf = np.cumsum(p_rows, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(p_rows))[:, None]
    return np.minimum((u >= cdf).sum(axis=1), p_rows.shape[1] - 1).astype(np.int64)


def _uniform_days(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, n: int) -> np.ndarray:
    """Whole days uniformly in ``[lo, hi]`` (both included; requires hi >= lo)."""
    lo_a = np.broadcast_to(np.asarray(lo, dtype=np.int64), (n,))
    hi_a = np.broadcast_to(np.asarray(hi, dtype=np.int64), (n,))
    return lo_a + np.floor(rng.random(n) * (hi_a - lo_a + 1)).astype(np.int64)


def _day(d: dt.date) -> int:
    return (d - _EPOCH).days


def _months_before(as_of: dt.date, months: int) -> int:
    """First day of the month ``months`` calendar months before ``as_of``, as a day number."""
    total = as_of.year * 12 + (as_of.month - 1) - months
    return _day(dt.date(total // 12, total % 12 + 1, 1))


# --- series builders (numpy → polars, with nulls) ----------------------------------


def _dates(name: str, days: np.ndarray) -> pl.Series:
    valid = days != _NULL
    s = pl.Series(name, np.where(valid, days, 0).astype(np.int32)).cast(pl.Date)
    if valid.all():
        return s
    return pl.select(pl.when(pl.Series(valid)).then(s).alias(name)).to_series()


def _labels(name: str, values: Sequence[str | None], codes: np.ndarray) -> pl.Series:
    """Strings from a small list by code; code -1 means null."""
    lookup = pl.Series(name, list(values), dtype=pl.String)
    idx = pl.Series(np.where(codes < 0, 0, codes).astype(np.uint32))
    s = lookup.gather(idx).alias(name)
    if (codes >= 0).all():
        return s
    return pl.select(pl.when(pl.Series(codes >= 0)).then(s).alias(name)).to_series()


def _ids(name: str, prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """``prefix`` + zero-padded number, e.g. ``PT0000042``."""
    return pl.select(
        (pl.lit(prefix) + pl.Series(numbers.astype(np.int64)).cast(pl.String).str.zfill(width)).alias(name)
    ).to_series()


def _frame(table: str, columns: Mapping[str, pl.Series]) -> pl.DataFrame:
    """The table's frame with exactly the contract's columns, in contract order."""
    names = TABLES_BY_NAME[table].column_names
    missing = [c for c in names if c not in columns]
    extra = [c for c in columns if c not in names]
    if missing or extra:
        raise ValueError(f"sample {table}: missing columns {missing}, unknown columns {extra}")
    return pl.DataFrame([columns[c].alias(c) for c in names])


def _rng(seed: int, stream: int) -> np.random.Generator:
    """An independent generator per table, so changing one table never shifts another."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream])))


# --- fixed reference tables ----------------------------------------------------------

# (agency_id, agency_name, agency_type, jurisdiction)
_AGENCIES: tuple[tuple[str, str, str, str | None], ...] = (
    ("A01", "Riverside City Police Department", "law_enforcement", "City of Riverside"),
    ("A02", "Marlow County Sheriff's Office", "law_enforcement", "Marlow County"),
    ("A03", "Marlow County Adult Probation", "probation", "Marlow County"),
    ("A04", "State Board of Parole, Region 4", "parole", "State Region 4"),
    ("A05", "State Department of Corrections", "corrections", "State"),
    ("A06", "Marlow County Superior Court", "court", "Marlow County"),
    ("A07", "Second Chance Reentry Center", "reentry_provider", "City of Riverside"),
    ("A08", "Northside Neighbors Alliance", "community_org", "City of Riverside"),
    ("A09", "Marlow County Behavioral Health", "social_services", "Marlow County"),
    ("A10", "Pathways Workforce Partnership", "community_org", None),
    ("A11", "Harbor House Supportive Housing", "reentry_provider", "City of Riverside"),
    ("A12", "Marlow County Human Services", "social_services", "Marlow County"),
)
_AGENCY_IDS = tuple(a[0] for a in _AGENCIES)
_POLICE = ("A01", "A02")


def _agency(agency_id: str) -> int:
    return _AGENCY_IDS.index(agency_id)


# (program_id, name, model, lead agency, start: months before as-of, length in months or None, grant)
_PROGRAMS: tuple[tuple[str, str, str, str, int, int | None, str | None], ...] = (
    ("P01", "Safe Return: Reentry with Riverside PD", "reentry_law_enforcement", "A01", 60, None, "BJA-2021-RE-0147"),
    ("P02", "Bridges Release Planning", "release_planning", "A05", 57, 72, "BJA-2021-RP-0233"),
    ("P03", "Probation Plus Community Resources", "probation_community_resources", "A03", 54, None, None),
    ("P04", "Joint Probation-Parole Case Management", "probation_parole_coordination", "A04", 50, 54, "SMART-2022-0412"),
    ("P05", "Crisis Co-Response Diversion", "community_policing_social_services", "A01", 48, None, "JMHCP-2022-0088"),
    ("P06", "Homeless Outreach Partnership", "community_policing_social_services", "A02", 42, 48, None),
    ("P07", "Reentry Housing First Pilot", "release_planning", "A11", 39, None, None),
)
_PROGRAM_IDS = tuple(p[0] for p in _PROGRAMS)
# Share of participants enrolled in each program.
_PROGRAM_SHARE = np.array([0.15, 0.17, 0.22, 0.16, 0.12, 0.08, 0.10])

# Supervision type mix by program model (weights over the contract's supervision types).
_SUPERVISION_BY_MODEL: dict[str, dict[str, float]] = {
    "reentry_law_enforcement": {"probation": 0, "parole": 0.55, "post_release": 0.45, "none": 0},
    "release_planning": {"probation": 0, "parole": 0.4, "post_release": 0.6, "none": 0},
    "probation_community_resources": {"probation": 1, "parole": 0, "post_release": 0, "none": 0},
    "probation_parole_coordination": {"probation": 0.5, "parole": 0.5, "post_release": 0, "none": 0},
    "community_policing_social_services": {"probation": 0.15, "parole": 0, "post_release": 0, "none": 0.85},
}
# Agency that supervises each supervision type (``none``: the program's lead agency).
_SUPERVISOR_BY_TYPE = {"probation": "A03", "parole": "A04", "post_release": "A05"}
# Provider agencies by service type.
_PROVIDER_BY_SERVICE = {
    "housing": ("A11", "A07"),
    "employment": ("A10",),
    "mental_health": ("A09",),
    "substance_use": ("A09",),
    "education": ("A08",),
    "benefits": ("A12",),
    "identification": ("A07",),
    "mentoring": ("A08", "A07"),
    "family": ("A12",),
    "other": ("A08",),
}
_RACE_ETHNICITY = (
    "Black",
    "White",
    "Hispanic or Latino",
    "Asian",
    "American Indian or Alaska Native",
    "Native Hawaiian or Pacific Islander",
    "Two or more races",
)
_RACE_SHARE = np.array([0.36, 0.33, 0.20, 0.03, 0.03, 0.01, 0.04])


def _agencies_frame() -> pl.DataFrame:
    types = {a[2] for a in _AGENCIES}
    missing = set(_enum("agencies", "agency_type")) - types
    if missing or not types <= set(_enum("agencies", "agency_type")):
        raise ValueError(f"sample agencies must cover every agency_type; missing {sorted(missing)}")
    return _frame(
        "agencies",
        {
            "agency_id": pl.Series([a[0] for a in _AGENCIES], dtype=pl.String),
            "agency_name": pl.Series([a[1] for a in _AGENCIES], dtype=pl.String),
            "agency_type": pl.Series([a[2] for a in _AGENCIES], dtype=pl.String),
            "jurisdiction": pl.Series([a[3] for a in _AGENCIES], dtype=pl.String),
        },
    )


def _program_dates(as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
    starts = np.array([_months_before(as_of, p[4]) for p in _PROGRAMS], dtype=np.int64)
    ends = np.array(
        [_months_before(as_of, p[4] - p[5]) - 1 if p[5] is not None else _NULL for p in _PROGRAMS],
        dtype=np.int64,
    )
    return starts, ends


def _programs_frame(as_of: dt.date) -> pl.DataFrame:
    models = {p[2] for p in _PROGRAMS}
    if models != set(_enum("programs", "program_model")):
        raise ValueError("sample programs must cover every program_model")
    starts, ends = _program_dates(as_of)
    return _frame(
        "programs",
        {
            "program_id": pl.Series(list(_PROGRAM_IDS), dtype=pl.String),
            "program_name": pl.Series([p[1] for p in _PROGRAMS], dtype=pl.String),
            "program_model": pl.Series([p[2] for p in _PROGRAMS], dtype=pl.String),
            "lead_agency_id": pl.Series([p[3] for p in _PROGRAMS], dtype=pl.String),
            "start_date": _dates("start_date", starts),
            "end_date": _dates("end_date", ends),
            "grant_id": pl.Series([p[6] for p in _PROGRAMS], dtype=pl.String),
        },
    )


def _agreements_frame(as_of: dt.date, seed: int) -> pl.DataFrame:
    """Three or four agreements per program, with every expiry situation.

    Expiry states cycle so each appears: in force (more than 90 days left),
    expiring within 90 days of the as-of date, expired, and open-ended.
    """
    rng = _rng(seed, 2)
    starts, _ = _program_dates(as_of)
    asof = _day(as_of)
    partners = {
        "reentry_law_enforcement": ("A07", "A04", "A05", "A09"),
        "release_planning": ("A07", "A04", "A12"),
        "probation_community_resources": ("A09", "A10", "A11", "A12"),
        "probation_parole_coordination": ("A03", "A07", "A10"),
        "community_policing_social_services": ("A09", "A08", "A12"),
    }
    program_ids: list[str] = []
    agency_ids: list[str] = []
    types: list[str] = []
    signed: list[int] = []
    expires: list[int] = []
    state = 0
    for p_index, program in enumerate(_PROGRAMS):
        model = program[2]
        for k, partner in enumerate(partners[model]):
            agreement_type = "data_sharing" if k == len(partners[model]) - 1 else ("mou" if k % 2 == 0 else "moa")
            sign_day = int(starts[p_index]) - 60 + int(rng.integers(0, 45))
            kind = state % 4
            state += 1
            if kind == 0:  # in force, more than 90 days left
                exp = asof + 120 + int(rng.integers(0, 600))
            elif kind == 1:  # expiring within 90 days of the as-of date
                exp = asof + 1 + int(rng.integers(0, 89))
            elif kind == 2:  # expired (renewed by a later agreement or lapsed)
                exp = max(sign_day + 365, asof - 30 - int(rng.integers(0, 300)))
                exp = min(exp, asof - 1)
            else:  # open-ended
                exp = _NULL
            program_ids.append(program[0])
            agency_ids.append(partner)
            types.append(agreement_type)
            signed.append(sign_day)
            expires.append(exp)
    n = len(program_ids)
    return _frame(
        "agreements",
        {
            "agreement_id": _ids("agreement_id", "AG", np.arange(1, n + 1), 3),
            "program_id": pl.Series(program_ids, dtype=pl.String),
            "agency_id": pl.Series(agency_ids, dtype=pl.String),
            "agreement_type": pl.Series(types, dtype=pl.String),
            "signed_date": _dates("signed_date", np.array(signed, dtype=np.int64)),
            "expires_date": _dates("expires_date", np.array(expires, dtype=np.int64)),
        },
    )


# --- participants and their events ---------------------------------------------------


class _People:
    """Per-participant arrays (codes and day numbers) shared by the child tables."""

    def __init__(self, n: int, seed: int, as_of: dt.date) -> None:
        rng = _rng(seed, 3)
        asof = _day(as_of)
        self.n = n
        self.asof = asof
        self.program = _choose(rng, _PROGRAM_SHARE / _PROGRAM_SHARE.sum(), n)
        model_of_program = np.array([_enum("programs", "program_model").index(p[2]) for p in _PROGRAMS])
        self.model = model_of_program[self.program]
        starts, ends = _program_dates(as_of)
        last_enrol = np.where(ends[self.program] == _NULL, asof, np.minimum(ends[self.program], asof))
        self.enrollment = _uniform_days(rng, starts[self.program], last_enrol, n)

        c_pilot = _code("participants", "cohort", "pilot")
        self.cohort = _choose(rng, _weights("participants", "cohort", {"pilot": 0.5, "comparison": 0.5}), n)
        self.pilot = self.cohort == c_pilot

        # Risk: the pilot enrolled slightly more high-risk people (so risk adjustment matters).
        p_risk = np.where(
            self.pilot[:, None],
            _weights("participants", "risk_level", {"low": 0.27, "moderate": 0.40, "high": 0.33})[None, :],
            _weights("participants", "risk_level", {"low": 0.32, "moderate": 0.40, "high": 0.28})[None, :],
        )
        self.risk = _choose_rows(rng, p_risk)
        risk_names = _enum("participants", "risk_level")

        # Supervision type by program model.
        models = _enum("programs", "program_model")
        p_sup = np.stack([_weights("participants", "supervision_type", _SUPERVISION_BY_MODEL[m]) for m in models])
        self.supervision = _choose_rows(rng, p_sup[self.model])
        sup_names = _enum("participants", "supervision_type")
        self.released_type = np.isin(
            self.supervision, [sup_names.index("parole"), sup_names.index("post_release")]
        )
        self.unsupervised = self.supervision == sup_names.index("none")

        # Supervising agency: by supervision type; "none" → the program's lead; 2% unrecorded.
        lead = np.array([_agency(p[3]) for p in _PROGRAMS])[self.program]
        sup_agency = np.array([_agency(_SUPERVISOR_BY_TYPE.get(t, "A01")) for t in sup_names])[self.supervision]
        sup_agency = np.where(self.unsupervised, lead, sup_agency)
        self.supervising_agency = np.where(rng.random(n) < 0.02, -1, sup_agency)

        # Release: release-planning programs enrol people before release; others shortly after it.
        release_planning = self.model == models.index("release_planning")
        before = _uniform_days(rng, 14, 180, n)
        after = _uniform_days(rng, 0, 60, n)
        release = np.where(release_planning, self.enrollment + before, self.enrollment - after)
        release = np.where(self.released_type & (release <= asof), release, _NULL)
        self.release = release
        self.in_custody = self.released_type & (release == _NULL)  # still inside at the as-of date

        # Reentry plan: mostly before release (85%), sometimes after (8%) or missing (7%).
        has_release = release != _NULL
        plan_kind = _choose(rng, np.array([0.85, 0.08, 0.07]), n)
        plan_before = release - _uniform_days(rng, 1, 60, n)
        plan_after = release + _uniform_days(rng, 1, 30, n)
        plan = np.select([plan_kind == 0, plan_kind == 1], [plan_before, plan_after], _NULL)
        # Still in custody: some plans are already written.
        plan_inside = self.enrollment + _uniform_days(rng, 0, np.maximum(asof - self.enrollment, 0), n)
        plan = np.where(has_release, plan, np.where(self.in_custody & (rng.random(n) < 0.6), plan_inside, _NULL))
        self.reentry_plan = np.where((plan != _NULL) & (plan <= asof), plan, _NULL)

        self.index = np.where(has_release, release, self.enrollment)

        # Demographics.
        self.sex = _choose(
            rng, _weights("participants", "sex", {"female": 0.22, "male": 0.755, "other": 0.01, "unknown": 0.015}), n
        )
        self.sex = np.where(rng.random(n) < 0.01, -1, self.sex)
        self.race = _choose(rng, _RACE_SHARE / _RACE_SHARE.sum(), n)
        self.race = np.where(rng.random(n) < 0.04, -1, self.race)
        age = np.rint(rng.normal(34, 10, n)).astype(np.int64)
        youth = self.unsupervised & (rng.random(n) < 0.08)  # diversion sees some teenagers
        age = np.where(youth, _uniform_days(rng, 14, 17, n), np.clip(age, 18, 79))
        self.age = np.where(rng.random(n) < 0.02, _NULL, age)

        # Exit: reason first (pilot completes more, high risk less), then the date.
        reason_names = _enum("participants", "exit_reason")
        base = {
            "completed": 0.56,
            "revoked": 0.18,
            "absconded": 0.08,
            "transferred": 0.08,
            "deceased": 0.01,
            "other": 0.09,
        }
        pw = np.tile(_weights("participants", "exit_reason", base), (n, 1))
        i_completed = reason_names.index("completed")
        i_revoked = reason_names.index("revoked")
        i_absconded = reason_names.index("absconded")
        shift = np.where(self.pilot, 0.10, -0.04) - np.array([0.0, 0.05, 0.12])[self.risk]
        pw[:, i_completed] = np.clip(pw[:, i_completed] + shift, 0.05, None)
        pw[:, i_revoked] *= np.where(self.pilot, 0.75, 1.0) * np.array([0.7, 1.0, 1.4])[self.risk]
        pw[:, i_absconded] *= np.array([0.7, 1.0, 1.3])[self.risk]
        reason = _choose_rows(rng, pw)
        # Nobody is "revoked" from a program without supervision: record those as "other".
        reason = np.where(self.unsupervised & (reason == i_revoked), reason_names.index("other"), reason)
        completed = reason == i_completed
        span = np.where(
            self.unsupervised,
            _uniform_days(rng, 60, 300, n),
            np.where(completed, _uniform_days(rng, 270, 540, n), _uniform_days(rng, 30, 420, n)),
        )
        exit_day = np.maximum(self.enrollment, self.index) + span
        exits = (exit_day <= asof) & ~self.in_custody
        self.exit = np.where(exits, exit_day, _NULL)
        self.exit_reason = np.where(exits, reason, -1)
        self.revoked = self.exit_reason == i_revoked
        self.deceased = self.exit_reason == reason_names.index("deceased")
        # Last day of the enrollment window (exit, else the as-of date).
        self.window_end = np.where(exits, exit_day, asof)
        # Last day anything can happen to the person (deceased: their exit).
        self.alive_until = np.where(self.deceased, exit_day, asof)
        self.risk_names = risk_names
        self.lead = lead

    def frame(self) -> pl.DataFrame:
        width = max(7, len(str(self.n)))
        return _frame(
            "participants",
            {
                "participant_id": _ids("participant_id", "PT", np.arange(1, self.n + 1), width),
                "program_id": _labels("program_id", _PROGRAM_IDS, self.program),
                "supervising_agency_id": _labels("supervising_agency_id", _AGENCY_IDS, self.supervising_agency),
                "cohort": _labels("cohort", _enum("participants", "cohort"), self.cohort),
                "enrollment_date": _dates("enrollment_date", self.enrollment),
                "release_date": _dates("release_date", self.release),
                "reentry_plan_date": _dates("reentry_plan_date", self.reentry_plan),
                "supervision_type": _labels("supervision_type", _enum("participants", "supervision_type"), self.supervision),
                "risk_level": _labels("risk_level", self.risk_names, self.risk),
                "sex": _labels("sex", _enum("participants", "sex"), self.sex),
                "race_ethnicity": _labels("race_ethnicity", _RACE_ETHNICITY, self.race),
                "age_at_enrollment": pl.select(
                    pl.when(pl.Series(self.age != _NULL)).then(pl.Series(np.where(self.age == _NULL, 0, self.age)))
                    .alias("age_at_enrollment")
                ).to_series().cast(pl.Int64),
                "exit_date": _dates("exit_date", self.exit),
                "exit_reason": _labels("exit_reason", _enum("participants", "exit_reason"), self.exit_reason),
            },
        )

    def ids(self, rows: np.ndarray) -> pl.Series:
        width = max(7, len(str(self.n)))
        return _ids("participant_id", "PT", rows + 1, width)


def _expand(counts: np.ndarray) -> np.ndarray:
    """Participant row index repeated ``counts`` times (the owner of each child row)."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def _referrals_frame(people: _People, seed: int) -> pl.DataFrame:
    """Referrals with statuses as they stand at the as-of date.

    Each referral has an intended path (complete, decline, no-show, close
    unsuccessfully) and delays; its status is where that path stands at the
    as-of date, so every date the status requires is set and none is later
    than the as-of date.
    """
    rng = _rng(seed, 4)
    asof = people.asof
    rate = np.where(people.pilot, 2.0, 1.1) * np.where(people.unsupervised, 0.8, 1.0)
    counts = rng.poisson(rate)
    owner = _expand(counts)
    m = len(owner)
    start = people.enrollment[owner]
    end = np.minimum(people.window_end[owner], people.alive_until[owner])
    referral = _uniform_days(rng, start, end, m)

    service_names = _enum("referrals", "service_type")
    service = _choose(
        rng,
        _weights(
            "referrals",
            "service_type",
            {
                "housing": 0.16,
                "employment": 0.17,
                "mental_health": 0.13,
                "substance_use": 0.15,
                "education": 0.07,
                "benefits": 0.08,
                "identification": 0.07,
                "mentoring": 0.06,
                "family": 0.05,
                "other": 0.06,
            },
        ),
        m,
    )
    # Provider: one of the agencies serving that service type.
    provider_choice = rng.random(m)
    providers = np.empty(m, dtype=np.int64)
    for k, name in enumerate(service_names):
        options = np.array([_agency(a) for a in _PROVIDER_BY_SERVICE.get(name, ("A08",))])
        sel = service == k
        providers[sel] = options[np.floor(provider_choice[sel] * len(options)).astype(np.int64)]
    # Referring agency: the supervising agency (60%) or the program's lead.
    sup = people.supervising_agency[owner]
    referring = np.where((rng.random(m) < 0.6) & (sup >= 0), sup, people.lead[owner])

    # Intended path: 0 complete, 1 decline, 2 no-show, 3 close unsuccessfully.
    pilot = people.pilot[owner]
    p_path = np.where(
        pilot[:, None],
        np.array([0.64, 0.09, 0.12, 0.15])[None, :],
        np.array([0.46, 0.13, 0.20, 0.21])[None, :],
    )
    path = _choose_rows(rng, p_path)
    accepted = referral + _uniform_days(rng, 0, 14, m)
    decided = referral + _uniform_days(rng, 1, 21, m)  # declined on this day
    service_start = accepted + _uniform_days(rng, 0, 30, m)
    completed = service_start + _uniform_days(rng, 30, 150, m)
    no_show_known = accepted + 14
    closed = service_start + _uniform_days(rng, 10, 120, m)

    st = {s: _code("referrals", "status", s) for s in _enum("referrals", "status")}
    status = np.full(m, st["pending"], dtype=np.int64)
    status = np.where((path == 1) & (decided <= asof), st["declined"], status)
    for p in (0, 2, 3):
        on = path == p
        status = np.where(on & (accepted <= asof), st["accepted"], status)
    status = np.where(((path == 0) | (path == 3)) & (service_start <= asof), st["in_service"], status)
    status = np.where((path == 0) & (completed <= asof), st["completed"], status)
    status = np.where((path == 2) & (no_show_known <= asof), st["no_show"], status)
    status = np.where((path == 3) & (closed <= asof), st["closed_unsuccessful"], status)

    has_accepted = np.isin(status, [st["accepted"], st["in_service"], st["completed"], st["no_show"],
                                    st["closed_unsuccessful"]])
    has_start = np.isin(status, [st["in_service"], st["completed"], st["closed_unsuccessful"]])
    has_completed = status == st["completed"]
    width = max(7, len(str(m)))
    return _frame(
        "referrals",
        {
            "referral_id": _ids("referral_id", "RF", np.arange(1, m + 1), width),
            "participant_id": people.ids(owner),
            "referring_agency_id": _labels("referring_agency_id", _AGENCY_IDS, referring),
            "provider_agency_id": _labels("provider_agency_id", _AGENCY_IDS, providers),
            "service_type": _labels("service_type", service_names, service),
            "referral_date": _dates("referral_date", referral),
            "accepted_date": _dates("accepted_date", np.where(has_accepted, accepted, _NULL)),
            "service_start_date": _dates("service_start_date", np.where(has_start, service_start, _NULL)),
            "completed_date": _dates("completed_date", np.where(has_completed, completed, _NULL)),
            "status": _labels("status", _enum("referrals", "status"), status),
        },
    )


def _supervision_frame(people: _People, seed: int) -> pl.DataFrame:
    """Supervision contacts over each person's window under supervision.

    Supervised people have an intake check-in on their index date and about
    0.6 further events a month until exit (or the as-of date); people with no
    supervision (diversion) have one to three voluntary events recorded by the
    program's lead agency; people still in custody have one in-custody
    treatment session, so nobody draws the "no supervision events" warning.
    A rare 0.3% of exited people have one court appearance a few days after
    exit (an enrollment-window warning, as real extracts have).
    """
    rng = _rng(seed, 5)
    asof = people.asof
    n = people.n
    start = np.where(people.in_custody, people.enrollment, np.maximum(people.index, people.enrollment))
    end = np.minimum(people.window_end, people.alive_until)
    months = (end - start + 1) / _DAYS_PER_MONTH
    supervised = ~people.unsupervised & ~people.in_custody
    extra = np.where(supervised, np.minimum(rng.poisson(0.6 * months), 24), 0)
    extra = np.where(people.unsupervised, rng.integers(0, 3, n), extra)
    late = (people.exit != _NULL) & ~people.deceased & (rng.random(n) < 0.003)
    late_day = people.exit + _uniform_days(rng, 1, 20, n)
    late &= late_day <= asof
    counts = 1 + extra + late.astype(np.int64)
    owner = _expand(counts)
    m = len(owner)
    # Position of each row within its owner's events: 0 = intake, last = late event if any.
    first_row = np.cumsum(counts) - counts
    pos = np.arange(m, dtype=np.int64) - first_row[owner]
    is_intake = pos == 0
    is_late = late[owner] & (pos == counts[owner] - 1)

    day = _uniform_days(rng, start[owner], end[owner], m)
    day = np.where(is_intake, start[owner], day)
    day = np.where(is_late, late_day[owner], day)

    type_names = _enum("supervision_events", "event_type")
    etype = _choose(
        rng,
        _weights(
            "supervision_events",
            "event_type",
            {
                "office_check_in": 0.36,
                "home_visit": 0.16,
                "drug_test": 0.20,
                "electronic_monitoring": 0.06,
                "treatment_session": 0.12,
                "curfew_check": 0.06,
                "court_appearance": 0.04,
            },
        ),
        m,
    )
    unsup = people.unsupervised[owner]
    custody = people.in_custody[owner]
    t_voluntary = np.array([type_names.index("treatment_session"), type_names.index("court_appearance"),
                            type_names.index("office_check_in")])
    etype = np.where(unsup, t_voluntary[rng.integers(0, 3, m)], etype)
    etype = np.where(custody, type_names.index("treatment_session"), etype)
    etype = np.where(is_intake & ~unsup & ~custody, type_names.index("office_check_in"), etype)
    etype = np.where(is_late, type_names.index("court_appearance"), etype)

    required = np.where(unsup | custody, rng.random(m) < 0.3, rng.random(m) < 0.87)
    required = np.where(is_intake & ~unsup & ~custody, True, required)

    # Outcomes: pilot more compliant, high risk less; non-required events mostly compliant.
    out_names = _enum("supervision_events", "outcome")
    pilot = people.pilot[owner]
    risk = people.risk[owner]
    p_comp = np.where(pilot, 0.86, 0.77) - np.array([0.0, 0.04, 0.09])[risk]
    p_comp = np.where(required, p_comp, 0.90)
    p_excused = np.full(m, 0.03)
    rest = 1.0 - p_comp - p_excused
    p = np.zeros((m, len(out_names)))
    p[:, out_names.index("compliant")] = p_comp
    p[:, out_names.index("excused")] = p_excused
    p[:, out_names.index("non_compliant")] = rest * 0.55
    p[:, out_names.index("missed")] = rest * 0.45
    outcome = _choose_rows(rng, p)

    # Agency: the supervising agency; unrecorded supervisor or no supervision → the program lead;
    # in custody → corrections.
    sup = people.supervising_agency[owner]
    agency = np.where(sup >= 0, sup, people.lead[owner])
    agency = np.where(custody, _agency("A05"), agency)
    agency = np.where(is_late, _agency("A06"), agency)
    width = max(8, len(str(m)))
    return _frame(
        "supervision_events",
        {
            "event_id": _ids("event_id", "SE", np.arange(1, m + 1), width),
            "participant_id": people.ids(owner),
            "agency_id": _labels("agency_id", _AGENCY_IDS, agency),
            "event_date": _dates("event_date", day),
            "event_type": _labels("event_type", type_names, etype),
            "required": pl.Series("required", required, dtype=pl.Boolean),
            "outcome": _labels("outcome", out_names, outcome),
        },
    )


def _violations_frame(people: _People, seed: int) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Violations during supervision, plus one ``revoked`` violation per revocation exit.

    Returns the frame and, for the revocation exits, the owners and days (the
    recidivism table adds a ``revocation`` event on the exit date).
    """
    rng = _rng(seed, 6)
    supervised = ~people.unsupervised & ~people.in_custody
    start = np.maximum(people.index, people.enrollment)
    end = np.minimum(people.window_end, people.alive_until)
    months = np.maximum(end - start + 1, 0) / _DAYS_PER_MONTH
    rate = np.array([0.03, 0.06, 0.10])[people.risk] * np.where(people.pilot, 0.75, 1.0)
    counts = np.where(supervised, rng.poisson(rate * months), 0)
    owner = _expand(counts)
    m = len(owner)
    day = _uniform_days(rng, start[owner], end[owner], m)
    vtype = _choose(rng, _weights("violations", "violation_type", {"technical": 0.78, "new_offense": 0.22}), m)
    response = _choose(
        rng,
        _weights(
            "violations",
            "response",
            {"warning": 0.50, "graduated_sanction": 0.36, "revocation_filed": 0.14, "revoked": 0.0},
        ),
        m,
    )
    # Revocation exits: a violation answered by revocation shortly before the exit date.
    rev_owner = np.flatnonzero(people.revoked & supervised)
    r = len(rev_owner)
    rev_day = np.maximum(people.exit[rev_owner] - _uniform_days(rng, 0, 20, r), start[rev_owner])
    rev_type = _choose(rng, _weights("violations", "violation_type", {"technical": 0.7, "new_offense": 0.3}), r)

    all_owner = np.concatenate([owner, rev_owner])
    order = np.argsort(all_owner, kind="stable")
    all_owner = all_owner[order]
    all_day = np.concatenate([day, rev_day])[order]
    all_type = np.concatenate([vtype, rev_type])[order]
    all_response = np.concatenate([response, np.full(r, _code("violations", "response", "revoked"))])[order]
    sup = people.supervising_agency[all_owner]
    agency = np.where(sup >= 0, sup, people.lead[all_owner])
    total = len(all_owner)
    width = max(7, len(str(total)))
    frame = _frame(
        "violations",
        {
            "violation_id": _ids("violation_id", "VL", np.arange(1, total + 1), width),
            "participant_id": people.ids(all_owner),
            "agency_id": _labels("agency_id", _AGENCY_IDS, agency),
            "violation_date": _dates("violation_date", all_day),
            "violation_type": _labels("violation_type", _enum("violations", "violation_type"), all_type),
            "response": _labels("response", _enum("violations", "response"), all_response),
        },
    )
    return frame, rev_owner, people.exit[rev_owner]


def _recidivism_frame(people: _People, seed: int, rev_owner: np.ndarray, rev_day: np.ndarray) -> pl.DataFrame:
    """Arrests, convictions, incarcerations and revocations.

    First arrest after the index date: exponential with the risk level's
    12-month probability, hazard times ``PILOT_HAZARD_RATIO`` for the pilot. A
    second arrest follows at the same hazard. Arrests lead to a conviction
    (55%) 30–270 days later, a conviction to incarceration (35%) within 45
    days. Revocation exits add a revocation on the exit date. About 3% of
    people have an arrest before their index date and 0.5% one on it (these
    are not recidivism under the metric's strict "after" rule).
    """
    rng = _rng(seed, 7)
    asof = people.asof
    n = people.n
    p12 = np.array([REARREST_12M[r] for r in people.risk_names])[people.risk]
    hazard = -np.log1p(-p12) / 365.0 * np.where(people.pilot, PILOT_HAZARD_RATIO, 1.0)
    # Nothing happens after death, nor to people still in custody.
    limit = np.where(people.in_custody, people.index, people.alive_until)
    first = people.index + np.maximum(1, np.ceil(rng.exponential(1.0, n) / hazard)).astype(np.int64)
    second = first + np.maximum(1, np.ceil(rng.exponential(1.0, n) / hazard)).astype(np.int64)
    prior = people.index - _uniform_days(rng, 1, 365, n)
    prior_mask = rng.random(n) < 0.03
    on_index_mask = rng.random(n) < 0.005

    arrest_owner = np.concatenate([
        np.flatnonzero(first <= limit),
        np.flatnonzero(second <= limit),
        np.flatnonzero(prior_mask),
        np.flatnonzero(on_index_mask),
    ])
    arrest_day = np.concatenate([
        first[first <= limit],
        second[second <= limit],
        prior[prior_mask],
        people.index[on_index_mask],
    ])
    a = len(arrest_owner)
    convicted = rng.random(a) < 0.55
    conviction_day = arrest_day + _uniform_days(rng, 30, 270, a)
    convicted &= conviction_day <= limit[arrest_owner]
    conv_owner = arrest_owner[convicted]
    conv_day = conviction_day[convicted]
    c = len(conv_owner)
    jailed = rng.random(c) < 0.35
    jail_day = conv_day + _uniform_days(rng, 0, 45, c)
    jailed &= jail_day <= limit[conv_owner]
    inc_owner = conv_owner[jailed]
    inc_day = jail_day[jailed]

    type_names = _enum("recidivism_events", "event_type")
    owners = np.concatenate([arrest_owner, conv_owner, inc_owner, rev_owner])
    days = np.concatenate([arrest_day, conv_day, inc_day, rev_day])
    etype = np.concatenate([
        np.full(a, type_names.index("arrest")),
        np.full(c, type_names.index("conviction")),
        np.full(len(inc_owner), type_names.index("incarceration")),
        np.full(len(rev_owner), type_names.index("revocation")),
    ])
    order = np.lexsort((etype, days, owners))
    owners, days, etype = owners[order], days[order], etype[order]
    m = len(owners)

    cat_names = _enum("recidivism_events", "offense_category")
    category = _choose(
        rng,
        _weights(
            "recidivism_events",
            "offense_category",
            {"violent": 0.17, "property": 0.30, "drug": 0.25, "public_order": 0.20, "technical": 0.0, "other": 0.08},
        ),
        m,
    )
    category = np.where(etype == type_names.index("revocation"), cat_names.index("technical"), category)
    category = np.where(rng.random(m) < 0.05, -1, category)

    police = np.array([_agency(a) for a in _POLICE])[rng.integers(0, len(_POLICE), m)]
    sup = people.supervising_agency[owners]
    source = np.select(
        [etype == type_names.index("arrest"), etype == type_names.index("conviction"),
         etype == type_names.index("incarceration")],
        [police, _agency("A06"), _agency("A05")],
        sup,
    )
    source = np.where(rng.random(m) < 0.05, -1, source)
    width = max(7, len(str(m)))
    return _frame(
        "recidivism_events",
        {
            "event_id": _ids("event_id", "RE", np.arange(1, m + 1), width),
            "participant_id": people.ids(owners),
            "event_date": _dates("event_date", days),
            "event_type": _labels("event_type", type_names, etype),
            "offense_category": _labels("offense_category", cat_names, category),
            "source_agency_id": _labels("source_agency_id", _AGENCY_IDS, source),
        },
    )


def _police_contacts_frame(people: _People, seed: int, as_of: dt.date) -> pl.DataFrame:
    """Police contacts: with participants of the policing programs, and with the public.

    Participants of community-policing programs have about 1.5 contacts each
    (from 60 days before enrollment, since a contact often leads to
    enrollment); other participants occasionally meet the police (0.1 each);
    and there are 0.3 contacts per participant with people not enrolled,
    60% recorded under a policing program. Co-responders attend most program
    contacts and fewer others; arrests are rarer when a co-responder attends.
    """
    rng = _rng(seed, 8)
    asof = people.asof
    n = people.n
    models = _enum("programs", "program_model")
    policing = people.model == models.index("community_policing_social_services")
    counts = rng.poisson(np.where(policing, 1.5, np.where(people.in_custody, 0.0, 0.1)))
    owner = _expand(counts)
    k = len(owner)
    lo = np.maximum(people.enrollment[owner] - 60, _program_dates(as_of)[0].min())
    hi = people.alive_until[owner]
    linked_day = _uniform_days(rng, lo, hi, k)
    linked_program = np.where(policing[owner] & (rng.random(k) < 0.9), people.program[owner], -1)

    u = int(round(0.3 * n))
    policing_programs = np.array([i for i, p in enumerate(_PROGRAMS) if p[2] == "community_policing_social_services"])
    starts, _ = _program_dates(as_of)
    open_program = np.where(rng.random(u) < 0.6, policing_programs[rng.integers(0, len(policing_programs), u)], -1)
    open_lo = np.where(open_program >= 0, starts[np.maximum(open_program, 0)], asof - 3 * 365)
    open_day = _uniform_days(rng, open_lo, asof, u)

    program = np.concatenate([linked_program, open_program])
    participant = np.concatenate([owner, np.full(u, -1)])
    day = np.concatenate([linked_day, open_day])
    order = np.lexsort((participant, day))
    program, participant, day = program[order], participant[order], day[order]
    m = len(day)

    lead = np.array([_agency(p[3]) for p in _PROGRAMS])
    police = np.array([_agency(a) for a in _POLICE])[rng.integers(0, len(_POLICE), m)]
    lead_of = lead[np.maximum(program, 0)]
    lead_is_police = np.isin(lead_of, [_agency(a) for a in _POLICE])
    agency = np.where((program >= 0) & lead_is_police, lead_of, police)

    ctype = _choose(
        rng,
        _weights(
            "police_contacts",
            "contact_type",
            {"crisis_call": 0.32, "welfare_check": 0.25, "outreach": 0.25, "warrant_service": 0.06, "other": 0.12},
        ),
        m,
    )
    co_responder = rng.random(m) < np.where(program >= 0, 0.7, 0.15)
    out_names = _enum("police_contacts", "outcome")
    p_with = _weights(
        "police_contacts",
        "outcome",
        {"resolved_on_scene": 0.38, "referred_to_services": 0.32, "transported_to_treatment": 0.14,
         "arrest": 0.04, "no_action": 0.12},
    )
    p_without = _weights(
        "police_contacts",
        "outcome",
        {"resolved_on_scene": 0.40, "referred_to_services": 0.12, "transported_to_treatment": 0.06,
         "arrest": 0.17, "no_action": 0.25},
    )
    outcome = _choose_rows(rng, np.where(co_responder[:, None], p_with[None, :], p_without[None, :]))
    width = max(7, len(str(m)))
    part_ids = people.ids(np.maximum(participant, 0))
    part_ids = pl.select(pl.when(pl.Series(participant >= 0)).then(part_ids).alias("participant_id")).to_series()
    return _frame(
        "police_contacts",
        {
            "contact_id": _ids("contact_id", "PC", np.arange(1, m + 1), width),
            "agency_id": _labels("agency_id", _AGENCY_IDS, agency),
            "program_id": _labels("program_id", _PROGRAM_IDS, program),
            "participant_id": part_ids,
            "contact_date": _dates("contact_date", day),
            "contact_type": _labels("contact_type", _enum("police_contacts", "contact_type"), ctype),
            "co_responder": pl.Series("co_responder", co_responder, dtype=pl.Boolean),
            "outcome": _labels("outcome", out_names, outcome),
        },
    )


# --- public API --------------------------------------------------------------------


def generate_tables(*, participants: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> dict[str, pl.DataFrame]:
    """Every contract table as a polars frame (contract column order, typed dates/booleans).

    Same arguments, same rows: each table draws from its own seeded stream.
    """
    if participants < 1:
        raise ValueError(f"participants must be at least 1 (got {participants})")
    people = _People(participants, seed, as_of)
    violations, rev_owner, rev_day = _violations_frame(people, seed)
    tables = {
        "agencies": _agencies_frame(),
        "programs": _programs_frame(as_of),
        "agreements": _agreements_frame(as_of, seed),
        "participants": people.frame(),
        "referrals": _referrals_frame(people, seed),
        "supervision_events": _supervision_frame(people, seed),
        "violations": violations,
        "recidivism_events": _recidivism_frame(people, seed, rev_owner, rev_day),
        "police_contacts": _police_contacts_frame(people, seed, as_of),
    }
    return {t.name: tables[t.name] for t in TABLES}


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
    tables = generate_tables(participants=participants, seed=seed, as_of=as_of)
    for name, frame in tables.items():
        for other in FORMATS:
            stale = out / f"{name}.{other}"
            if other != fmt and stale.exists():
                stale.unlink()
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            frame.write_csv(path, date_format="%Y-%m-%d", null_value="")
        else:
            frame.write_parquet(path, statistics=False)
    manifest: dict[str, Any] = {
        "contract_version": CONTRACT_VERSION,
        "as_of": as_of.isoformat(),
        "generator": {
            "name": GENERATOR_NAME,
            "version": GENERATOR_VERSION,
            "seed": seed,
            "participants": participants,
            "format": fmt,
            "rows": {name: frame.height for name, frame in tables.items()},
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


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
