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
million participants (about 10.5 million rows) are written in well under a
minute on two cores with under 2 GB of memory (``bench/bench_generate.py``).

``write_messy_extract`` writes ``sample_data/messy/``: a small extract with
every defect the contract forbids planted on purpose, its expected load
result (``planted.json``) and a README listing every planted row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
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


def _iter_tables(participants: int, seed: int, as_of: dt.date) -> Iterator[tuple[str, pl.DataFrame]]:
    """(table name, frame) in contract order, built one at a time so a writer can free each."""
    if participants < 1:
        raise ValueError(f"participants must be at least 1 (got {participants})")
    people = _People(participants, seed, as_of)
    builders: dict[str, Any] = {
        "agencies": _agencies_frame,
        "programs": lambda: _programs_frame(as_of),
        "agreements": lambda: _agreements_frame(as_of, seed),
        "participants": people.frame,
        "referrals": lambda: _referrals_frame(people, seed),
        "supervision_events": lambda: _supervision_frame(people, seed),
        "police_contacts": lambda: _police_contacts_frame(people, seed, as_of),
    }
    from dashboard import sample_v2  # contract version 2 tables, each on a random stream of its own

    builders |= {
        "reintegration_checks": lambda: sample_v2.reintegration_checks_frame(people, seed),
        "program_costs": lambda: sample_v2.program_costs_frame(people, seed, as_of),
        "staffing": lambda: sample_v2.staffing_frame(people, seed, as_of),
        "surveys": lambda: sample_v2.surveys_frame(people, seed, as_of),
    }
    revocations: tuple[np.ndarray, np.ndarray] | None = None
    for table in TABLES:
        if table.name == "violations":
            frame, rev_owner, rev_day = _violations_frame(people, seed)
            revocations = (rev_owner, rev_day)
        elif table.name == "recidivism_events":
            if revocations is None:  # contract order puts violations first; keep the dependency explicit
                _, *rest = _violations_frame(people, seed)
                revocations = (rest[0], rest[1])
            frame = _recidivism_frame(people, seed, *revocations)
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


# --- the messy extract: a test oracle with every defect the contract forbids ----------

_NBSP = "\u00a0"


class _Row:
    """One line of a messy file: the cells as delivered and what loading it must do.

    ``rejects`` lists every rule id the row breaks (empty: it loads);
    ``dropped`` marks an identical copy of an earlier row (a dropped
    duplicate); ``warns`` lists the warnings the loaded row draws; ``what``
    explains the plant for the README (empty for clean background rows).
    """

    __slots__ = ("values", "rejects", "warns", "dropped", "what")

    def __init__(
        self,
        values: Mapping[str, str],
        *,
        rejects: Sequence[str] = (),
        warns: Sequence[str] = (),
        dropped: bool = False,
        what: str = "",
    ) -> None:
        self.values = dict(values)
        self.rejects = tuple(rejects)
        self.warns = tuple(warns)
        self.dropped = dropped
        self.what = what


def _text_rows(frame: pl.DataFrame) -> list[dict[str, str]]:
    """A typed frame as the strings a CSV would carry (nulls as empty strings)."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:
            expr = col.dt.strftime("%Y-%m-%d")
        elif dtype == pl.Boolean:
            expr = pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false"))
        else:
            expr = col.cast(pl.String)
        exprs.append(expr.fill_null("").alias(name))
    return frame.select(exprs).to_dicts()


def _messy_rows(as_of: dt.date) -> dict[str, list[_Row]]:
    """Clean background rows (60 generated participants) followed by the planted ones."""
    base = generate_tables(participants=60, seed=11, as_of=as_of)
    # The background must be clean and warning-free; check rather than assume.
    parts = base["participants"].select("participant_id", "enrollment_date", "exit_date")
    for name, col in (("supervision_events", "event_date"), ("referrals", "referral_date"),
                      ("violations", "violation_date")):
        outside = base[name].join(parts, on="participant_id").filter(
            (pl.col(col) < pl.col("enrollment_date")) | (pl.col(col) > pl.col("exit_date")).fill_null(False)
        )
        if outside.height:
            raise AssertionError(f"messy background {name} has rows outside the enrollment window")
    if not parts["participant_id"].is_in(base["supervision_events"]["participant_id"].implode()).all():
        raise AssertionError("messy background has a participant without supervision events")
    # Version 2 background: a few rows of each kind, kept inside the enrollment windows.
    checks = base["reintegration_checks"].join(parts, on="participant_id").filter(
        (pl.col("check_date") >= pl.col("enrollment_date"))
        & ((pl.col("check_date") <= pl.col("exit_date")) | pl.col("exit_date").is_null())
    )
    base["reintegration_checks"] = checks.select(base["reintegration_checks"].columns).head(60)
    base["program_costs"] = base["program_costs"].head(30)
    base["staffing"] = base["staffing"].head(24)
    base["surveys"] = base["surveys"].head(60)
    rows: dict[str, list[_Row]] = {name: [_Row(v) for v in _text_rows(frame)] for name, frame in base.items()}

    def add(table: str, defaults: Mapping[str, str], **kw: Any) -> None:
        overrides = kw.pop("set", {})
        rows[table].append(_Row({**defaults, **overrides}, **kw))

    # agencies ----------------------------------------------------------------------
    ag = {"agency_id": "", "agency_name": "Planted Agency", "agency_type": "community_org", "jurisdiction": ""}
    add("agencies", ag, set={"agency_id": "A13", "agency_name": "Eastside Outreach Squad", "agency_type": "police"},
        rejects=["enum:agency_type"], what="agency_type 'police' is not an allowed value (its program P09 cascades)")
    add("agencies", ag, set={"agency_id": "A14", "agency_name": "   "},
        rejects=["required:agency_name"], what="agency_name is only spaces (= empty)")
    add("agencies", ag, set={"agency_id": "A15", "agency_name": "Valley Crisis Line",
                             "agency_type": " Social_Services "},
        what="LOADS: enum in mixed case with spaces, stored as social_services")
    a16 = {"agency_id": "A16", "agency_name": "Lakeside Mentoring Network", "agency_type": "community_org",
           "jurisdiction": "Lakeside"}
    add("agencies", a16, what="LOADS: first copy of A16")
    add("agencies", ag, set={"agency_id": "A17", "agency_name": "County Drug Court", "agency_type": "court"},
        rejects=["duplicate_key_conflict"], what="A17 copy 1 of 2; the copies differ (court vs probation)")
    add("agencies", ag, set={"agency_id": "", "agency_name": "Nameless Agency", "agency_type": "court"},
        rejects=["required:agency_id"], what="agency_id (the key) is empty")
    add("agencies", ag, set={"agency_id": "A18", "agency_name": "Unknown-kind Agency", "agency_type": ""},
        rejects=["required:agency_type"], what="agency_type is empty")
    add("agencies", a16, set={"agency_type": "COMMUNITY_ORG", "jurisdiction": f" Lakeside{_NBSP}"}, dropped=True,
        what="A16 copy 2: identical after trimming/lowercasing → dropped duplicate")
    add("agencies", ag, set={"agency_id": "A17", "agency_name": "County Drug Court", "agency_type": "probation"},
        rejects=["duplicate_key_conflict"], what="A17 copy 2 of 2 (differs from copy 1)")

    # programs ----------------------------------------------------------------------
    pg = {"program_id": "", "program_name": "Planted Program", "program_model": "probation_community_resources",
          "lead_agency_id": "A03", "start_date": "2023-01-01", "end_date": "", "grant_id": ""}
    add("programs", pg, set={"program_id": "P09", "program_name": "Eastside Diversion",
                             "program_model": "community_policing_social_services", "lead_agency_id": "A13"},
        rejects=["parent_rejected:lead_agency_id"], what="lead agency A13 was rejected → cascade")
    add("programs", pg, set={"program_id": "P10", "start_date": "2024-06-01", "end_date": "2024-05-31"},
        rejects=["date_order:end_date>=start_date"], what="end_date before start_date")
    add("programs", pg, set={"program_id": "P11", "start_date": "2024/03/05"},
        rejects=["date_format:start_date"], what="date written 2024/03/05")
    add("programs", pg, set={"program_id": "P12", "start_date": "2024-1-5"},
        rejects=["date_format:start_date"], what="date written 2024-1-5")
    add("programs", pg, set={"program_id": "P13", "start_date": "20240305"},
        rejects=["date_format:start_date"], what="date written 20240305")
    add("programs", pg, set={"program_id": "P14", "start_date": "2024-03-05 10:30:00"},
        rejects=["date_format:start_date"], what="date with a time of day")
    add("programs", pg, set={"program_id": "P15", "program_model": "Reentry"},
        rejects=["enum:program_model"], what="program_model 'Reentry' is not an allowed value")
    add("programs", pg, set={"program_id": "P16", "lead_agency_id": "A99"},
        rejects=["fk:lead_agency_id"], what="lead agency A99 does not exist (its agreement AG909 cascades)")
    add("programs", pg, set={"program_id": "P17", "program_name": "Planted Probation Pilot",
                             "lead_agency_id": " A03 ", "end_date": "2027-12-31", "grant_id": "G-2023-017"},
        what="LOADS: id with spaces (trimmed), end_date after the as-of date is allowed")
    add("programs", pg, set={"program_id": "P18", "start_date": "2026-07-01"},
        rejects=["after_as_of:start_date"], what="start_date after the as-of date 2026-06-30")
    add("programs", pg, set={"program_id": "P19", "start_date": "2024-02-30"},
        rejects=["date_format:start_date"], what="2024-02-30 is not a calendar date")
    add("programs", pg, set={"program_id": "P20", "program_name": ""},
        rejects=["required:program_name"], what="program_name empty")
    add("programs", pg, set={"program_id": "P21", "lead_agency_id": "a03"},
        rejects=["fk:lead_agency_id"], what="'a03' ≠ 'A03': identifiers are case-sensitive")

    # agreements (XLSX: date cells are dates; a text cell in a date column is text) --
    gr = {"agreement_id": "", "program_id": "P17", "agency_id": "A09", "agreement_type": "mou",
          "signed_date": "2023-01-10", "expires_date": "2027-01-10"}
    add("agreements", gr, set={"agreement_id": "AG901", "program_id": "P09"},
        rejects=["parent_rejected:program_id"], what="program P09 was rejected → cascade")
    add("agreements", gr, set={"agreement_id": "AG902", "signed_date": "2024-01-01", "expires_date": "2023-12-31"},
        rejects=["date_order:expires_date>=signed_date"], what="expires before it was signed")
    add("agreements", gr, set={"agreement_id": "AG903", "agency_id": "A98"},
        rejects=["fk:agency_id"], what="agency A98 does not exist")
    add("agreements", gr, set={"agreement_id": "AG904", "agreement_type": "contract"},
        rejects=["enum:agreement_type"], what="agreement_type 'contract' is not allowed")
    add("agreements", gr, set={"agreement_id": "AG905", "signed_date": "2026-08-01", "expires_date": "2028-08-01"},
        rejects=["after_as_of:signed_date"], what="signed after the as-of date (date cell)")
    add("agreements", gr, set={"agreement_id": "AG906", "agreement_type": "MOA", "expires_date": "2028-01-01"},
        what="LOADS: 'MOA' stored as moa; expires after the as-of date is allowed")
    add("agreements", gr, set={"agreement_id": "AG907", "signed_date": "text:2024/03/05"},
        rejects=["date_format:signed_date"], what="a text cell '2024/03/05' in a date column")
    add("agreements", gr, set={"agreement_id": "AG908", "agreement_type": ""},
        rejects=["required:agreement_type"], what="agreement_type cell empty")
    add("agreements", gr, set={"agreement_id": "AG909", "program_id": "P16"},
        rejects=["parent_rejected:program_id"], what="program P16 was rejected (bad lead agency) → cascade")

    # participants ------------------------------------------------------------------
    pt = {"participant_id": "", "program_id": "P17", "supervising_agency_id": "A03", "cohort": "pilot",
          "enrollment_date": "2024-06-01", "release_date": "", "reentry_plan_date": "",
          "supervision_type": "probation", "risk_level": "moderate", "sex": "male", "race_ethnicity": "White",
          "age_at_enrollment": "35", "exit_date": "", "exit_reason": ""}
    P = "participants"
    add(P, pt, set={"participant_id": "PT-M01", "enrollment_date": "2024-01-15", "age_at_enrollment": "30"},
        what="LOADS: anchor for the planted referrals and events")
    add(P, pt, set={"participant_id": "PT-M02", "cohort": "comparison", "enrollment_date": "2024-02-01",
                    "risk_level": "low", "sex": "female", "race_ethnicity": "Black", "age_at_enrollment": "45",
                    "exit_date": "2025-02-01", "exit_reason": "completed"},
        what="LOADS: anchor with an exit on 2025-02-01")
    add(P, pt, set={"participant_id": f"{_NBSP}PT-N01{_NBSP}", "program_id": " P17", "cohort": " PILOT ",
                    "enrollment_date": "2024-04-10", "supervision_type": "Probation", "risk_level": "High",
                    "sex": "FEMALE", "race_ethnicity": "Hispanic or Latino", "age_at_enrollment": "34.0"},
        what="LOADS: non-breaking spaces around the id, ' PILOT ', 'High', 'FEMALE', age '34.0'")
    add(P, pt, set={"participant_id": "PT-N02", "cohort": f"Comparison{_NBSP}", "enrollment_date": "2024-05-20",
                    "risk_level": "LOW", "sex": "Unknown", "race_ethnicity": "", "age_at_enrollment": "41.00"},
        what="LOADS: 'Comparison' + non-breaking space, 'LOW', age '41.00'")
    add(P, pt, set={"participant_id": "PT-W01", "enrollment_date": "2025-06-01", "risk_level": "low",
                    "race_ethnicity": "", "age_at_enrollment": "28"},
        warns=["warn:no_supervision_events"], what="LOADS with a warning: no supervision events")
    d1 = {**pt, "participant_id": "PT-D1", "enrollment_date": "2024-03-01", "risk_level": "low",
          "age_at_enrollment": "33"}
    add(P, d1, rejects=["duplicate_key_conflict"], what="PT-D1 copy 1 of 2; the copies differ in risk_level")
    d2 = {**pt, "participant_id": "PT-D2", "enrollment_date": "2024-03-02", "age_at_enrollment": "34"}
    add(P, d2, what="LOADS: PT-D2 copy 1")
    d3 = {**pt, "participant_id": "PT-D3", "cohort": "comparison", "enrollment_date": "2024-03-03"}
    add(P, d3, what="LOADS: PT-D3 valid copy (the other copy is invalid)")
    x = [
        ("PT-X01", {"cohort": ""}, ["required:cohort"], "cohort empty"),
        ("PT-X02", {"enrollment_date": "2024/03/05"}, ["date_format:enrollment_date"], "date written 2024/03/05"),
        ("PT-X03", {"enrollment_date": "2024-1-5"}, ["date_format:enrollment_date"], "date written 2024-1-5"),
        ("PT-X04", {"enrollment_date": "20240305"}, ["date_format:enrollment_date"], "date written 20240305"),
        ("PT-X05", {"enrollment_date": "2024-03-05T09:30:00"}, ["date_format:enrollment_date"],
         "date with a time of day"),
        ("PT-X06", {"supervision_type": "probatoin"}, ["enum:supervision_type"], "supervision_type misspelt"),
        ("PT-X07", {"sex": "F"}, ["enum:sex"], "optional enum sex = 'F' (not allowed)"),
        ("PT-X08", {"age_at_enrollment": "34.5"}, ["int_format:age_at_enrollment"], "age '34.5'"),
        ("PT-X09", {"age_at_enrollment": "+34"}, ["int_format:age_at_enrollment"], "age '+34'"),
        ("PT-X10", {"age_at_enrollment": "3.4e1"}, ["int_format:age_at_enrollment"], "age '3.4e1'"),
        ("PT-X11", {"age_at_enrollment": "41y"}, ["int_format:age_at_enrollment"], "age '41y'"),
        ("PT-X12", {"age_at_enrollment": "9"}, ["range:age_at_enrollment"], "age 9 (allowed 10..100)"),
        ("PT-X13", {"age_at_enrollment": "101"}, ["range:age_at_enrollment"], "age 101 (allowed 10..100)"),
        ("PT-X14", {"enrollment_date": "2026-07-01"}, ["after_as_of:enrollment_date"],
         "enrolled after the as-of date"),
        ("PT-X15", {"enrollment_date": "2024-02-01", "exit_date": "2024-01-01", "exit_reason": "completed"},
         ["date_order:exit_date>=enrollment_date"], "exit before enrollment"),
        ("PT-X16", {"exit_date": "2025-01-15"}, ["required_when:exit_reason:exit_date=set"],
         "exit_date set, exit_reason empty"),
        ("PT-X17", {"exit_reason": "completed"}, ["null_unless:exit_reason:exit_date=set"],
         "exit_reason without exit_date"),
        ("PT-X18", {"program_id": "P99"}, ["fk:program_id"], "program P99 does not exist"),
        ("PT-X19", {"supervising_agency_id": "A99"}, ["fk:supervising_agency_id"],
         "optional FK: agency A99 does not exist"),
        ("PT-X20", {"program_id": "P09"}, ["parent_rejected:program_id"], "program P09 was rejected → cascade"),
        ("PT-X21", {"program_id": "P09", "supervising_agency_id": "A13"},
         ["parent_rejected:program_id", "parent_rejected:supervising_agency_id"],
         "both parents rejected (P09, A13): counted under each"),
        ("PT-X22", {"program_id": ""}, ["required:program_id"], "program_id empty"),
        ("PT-X23", {"risk_level": "extreme", "age_at_enrollment": "41y"},
         ["enum:risk_level", "int_format:age_at_enrollment"], "two bad values: counted under each"),
        ("PT-X25", {"supervision_type": "parole", "release_date": "2026-12-01"}, ["after_as_of:release_date"],
         "released after the as-of date"),
        ("PT-X26", {"supervising_agency_id": "a03"}, ["fk:supervising_agency_id"],
         "'a03' ≠ 'A03': identifiers are case-sensitive"),
        ("PT-X27", {"cohort": "treatment"}, ["enum:cohort"], "cohort 'treatment' is not allowed"),
        ("PT-X28", {"supervision_type": "post_release", "release_date": "2024-05-20",
                    "reentry_plan_date": "2024-3-05"}, ["date_format:reentry_plan_date"],
         "date written 2024-3-05"),
        ("PT-X29", {"exit_date": "2025-01-15", "exit_reason": "graduated"}, ["enum:exit_reason"],
         "exit_reason 'graduated' is not allowed"),
    ]
    for pid, over, rejects, what in x:
        add(P, pt, set={"participant_id": pid, **over}, rejects=rejects, what=what)
    add(P, d1, set={"risk_level": "high"}, rejects=["duplicate_key_conflict"],
        what="PT-D1 copy 2 of 2 (risk_level high vs low)")
    add(P, d2, set={"cohort": " PILOT ", "risk_level": "Moderate", "age_at_enrollment": "34.0"}, dropped=True,
        what="PT-D2 copy 2: identical after normalisation → dropped duplicate")
    add(P, d3, set={"enrollment_date": "2024/03/03"}, rejects=["date_format:enrollment_date"],
        what="PT-D3 invalid copy: rejected for its own rule; the valid copy loads")

    # referrals (with an unknown extra column 'notes') --------------------------------
    rf = {"referral_id": "", "participant_id": "PT-M01", "referring_agency_id": "A03",
          "provider_agency_id": "A09", "service_type": "mental_health", "referral_date": "2025-03-10",
          "accepted_date": "", "service_start_date": "", "completed_date": "", "status": "pending", "notes": ""}
    R = "referrals"
    pend = "null_when:accepted_date:status=pending"
    refs = [
        ("RF-M01", {"accepted_date": "2025-03-01", "status": "accepted"},
         ["date_order:accepted_date>=referral_date"], "accepted before referred"),
        ("RF-M02", {"service_start_date": "2025-03-05", "status": "declined"},
         ["date_order:service_start_date>=referral_date"], "service started before referral"),
        ("RF-M03", {"accepted_date": "2025-03-20", "service_start_date": "2025-03-15", "status": "in_service"},
         ["date_order:service_start_date>=accepted_date"], "service started before acceptance"),
        ("RF-M04", {"accepted_date": "2025-03-11", "service_start_date": "2025-03-20",
                    "completed_date": "2025-03-18", "status": "completed"},
         ["date_order:completed_date>=service_start_date"], "completed before service start"),
        ("RF-M05", {"status": "accepted"}, ["required_when:accepted_date:status=accepted|in_service|completed"],
         "status accepted without accepted_date"),
        ("RF-M06", {"accepted_date": "2025-03-12", "status": "in_service"},
         ["required_when:service_start_date:status=in_service|completed"], "in_service without start date"),
        ("RF-M07", {"accepted_date": "2025-03-12", "service_start_date": "2025-03-20", "status": "completed"},
         ["required_when:completed_date:status=completed"], "completed without completed_date"),
        ("RF-M08", {"accepted_date": "2025-03-12", "completed_date": "2025-04-01", "status": "no_show"},
         ["null_unless:completed_date:status=completed"], "no_show with a completed_date"),
        ("RF-M09", {"accepted_date": "2025-03-12"}, [pend], "pending with an accepted_date"),
        ("RF-M10", {"service_start_date": "2025-03-20"}, ["null_when:service_start_date:status=pending"],
         "pending with a service_start_date"),
        ("RF-M11", {"accepted_date": "2025-03-12", "service_start_date": "2025-03-20",
                    "completed_date": "2025-05-01"},
         [pend, "null_when:service_start_date:status=pending", "null_unless:completed_date:status=completed"],
         "pending with all three dates: three rules"),
        ("RF-M12", {"provider_agency_id": "A77"}, ["fk:provider_agency_id"], "provider A77 does not exist"),
        ("RF-M13", {"provider_agency_id": "A17"}, ["parent_rejected:provider_agency_id"],
         "provider A17 was rejected (conflicting duplicates) → cascade"),
        ("RF-M14", {"participant_id": "PT-X06"}, ["parent_rejected:participant_id"],
         "participant PT-X06 was rejected → cascade"),
        ("RF-M15", {"participant_id": "PT-D1"}, ["parent_rejected:participant_id"],
         "participant PT-D1 was rejected (conflicting duplicates) → cascade"),
        ("RF-M16", {"service_type": ""}, ["required:service_type"], "service_type empty"),
        ("RF-M17", {"status": "done"}, ["enum:status"], "status 'done' is not allowed"),
        ("RF-M18", {"service_type": "Housing", "provider_agency_id": "A11", "accepted_date": "2025-03-11",
                    "service_start_date": "2025-03-20", "completed_date": "2025-06-30", "status": "COMPLETED",
                    "notes": "moved in"},
         [], "LOADS: 'COMPLETED', 'Housing' in capitals; a note in the unknown column"),
        ("RF-M20", {"referral_date": "2026-07-15"}, ["after_as_of:referral_date"],
         "referred after the as-of date"),
        ("RF-M21", {"participant_id": "PT-X20", "referring_agency_id": "A13"},
         ["parent_rejected:participant_id", "parent_rejected:referring_agency_id"],
         "participant and referring agency both rejected: counted under each"),
        ("RF-M22", {"participant_id": "PT-D3"}, [],
         "LOADS: its participant PT-D3 loaded (only the other copy was invalid)"),
        ("RF-M23", {"referral_date": "2026-05-01", "accepted_date": "2026-05-02",
                    "service_start_date": "2026-05-10", "completed_date": "2026-07-02", "status": "completed"},
         ["after_as_of:completed_date"], "completed after the as-of date"),
        ("RF-M24", {"accepted_date": "2025-3-12", "status": "declined"}, ["date_format:accepted_date"],
         "date written 2025-3-12"),
        ("RF-M25", {"participant_id": " PT-N01 ", "referral_date": "2024-04-20", "accepted_date": "2024-05-01",
                    "service_start_date": "2024-05-10", "status": " in_service "},
         [], "LOADS: participant id and status with spaces"),
        ("RF-M26", {"provider_agency_id": "A16", "service_type": "mentoring", "accepted_date": "2025-03-12",
                    "status": "accepted"},
         [], "LOADS: provider A16 (its duplicate copies collapsed)"),
    ]
    for rid, over, rejects, what in refs:
        add(R, rf, set={"referral_id": rid, **over}, rejects=rejects, what=what)
    add(R, rf, set={"referral_id": "RF-M19", "participant_id": "PT-M02", "referral_date": "2025-03-01"},
        warns=["warn:after_exit"], what="LOADS with a warning: referred after the participant's exit (2025-02-01)")
    add(R, rf, set={"referral_id": "RF-D3"}, what="LOADS: RF-D3 valid copy")
    add(R, rf, set={"referral_id": "RF-D3", "referral_date": "2025/03/05"}, rejects=["date_format:referral_date"],
        what="RF-D3 invalid copy: rejected for its own rule; the valid copy loads")

    # supervision_events --------------------------------------------------------------
    se = {"event_id": "", "participant_id": "PT-M01", "agency_id": "A03", "event_date": "2025-01-10",
          "event_type": "office_check_in", "required": "true", "outcome": "compliant"}
    S = "supervision_events"
    events = [
        ("SE-M01", {}, [], "LOADS: anchor PT-M01's event"),
        ("SE-M02", {"participant_id": "PT-M02", "event_date": "2024-06-01"}, [], "LOADS: PT-M02's event"),
        ("SE-M03", {"participant_id": " PT-N01 ", "event_date": "2024-05-01", "event_type": "Drug_Test",
                    "required": "True", "outcome": " Compliant"}, [],
         "LOADS: 'True', ' Compliant', 'Drug_Test' normalised"),
        ("SE-M04", {"participant_id": "PT-N02", "event_date": "2024-06-01", "required": "0",
                    "outcome": "EXCUSED"}, [], "LOADS: boolean '0', 'EXCUSED'"),
        ("SE-M05", {"participant_id": "PT-D2", "event_date": "2024-04-01"}, [], "LOADS: PT-D2's event"),
        ("SE-M06", {"participant_id": "PT-D3", "event_date": "2024-04-01"}, [], "LOADS: PT-D3's event"),
        ("SE-M07", {"required": "yes"}, ["bool_format:required"], "boolean 'yes'"),
        ("SE-M08", {"required": "Y"}, ["bool_format:required"], "boolean 'Y'"),
        ("SE-M09", {"required": "2"}, ["bool_format:required"], "boolean '2'"),
        ("SE-M10", {"outcome": ""}, ["required:outcome"], "outcome empty"),
        ("", {}, ["required:event_id"], "event_id (the key) empty"),
        ("SE-M11", {"event_date": "2024/03/05"}, ["date_format:event_date"], "date written 2024/03/05"),
        ("SE-M12", {"event_date": "2026-07-01"}, ["after_as_of:event_date"], "dated after the as-of date"),
        ("SE-M13", {"event_type": "phone_call"}, ["enum:event_type"], "event_type 'phone_call' not allowed"),
        ("SE-M14", {"participant_id": "PT-NOPE"}, ["fk:participant_id"], "participant PT-NOPE does not exist"),
        ("SE-M15", {"agency_id": "A13"}, ["parent_rejected:agency_id"], "agency A13 was rejected → cascade"),
        ("SE-M16", {"participant_id": "PT-D1"}, ["parent_rejected:participant_id"],
         "participant PT-D1 rejected (conflicting duplicates) → cascade"),
        ("SE-M17", {"participant_id": "PT-X01", "event_date": "2024-07-01"}, ["parent_rejected:participant_id"],
         "participant PT-X01 rejected → cascade"),
        ("SE-M18", {"participant_id": "PT-X06", "event_date": "2024-07-01"}, ["parent_rejected:participant_id"],
         "participant PT-X06 rejected → cascade"),
        ("SE-M19", {"participant_id": "PT-X15", "event_date": "2024-07-01"}, ["parent_rejected:participant_id"],
         "participant PT-X15 rejected → cascade"),
        ("SE-M20", {"participant_id": "PT-X20", "event_date": "2024-07-01"}, ["parent_rejected:participant_id"],
         "participant PT-X20 rejected (itself by cascade) → cascade, third level"),
        ("SE-M21", {"participant_id": "PT-X21", "event_date": "2024-07-01"}, ["parent_rejected:participant_id"],
         "participant PT-X21 rejected → cascade"),
        ("SE-M24", {"event_date": "2024-02-30"}, ["date_format:event_date"], "2024-02-30 is not a calendar date"),
        ("SE-M25", {"agency_id": "a01"}, ["fk:agency_id"], "'a01' ≠ 'A01': identifiers are case-sensitive"),
        ("SE-M26", {"participant_id": " PT-M01 ", "event_date": "2025-02-10"}, [],
         "LOADS: participant id with spaces"),
    ]
    for eid, over, rejects, what in events:
        add(S, se, set={"event_id": eid, **over}, rejects=rejects, what=what)
    add(S, se, set={"event_id": "SE-M22", "event_date": "2024-01-10"}, warns=["warn:before_enrollment"],
        what="LOADS with a warning: before PT-M01's enrollment (2024-01-15)")
    add(S, se, set={"event_id": "SE-M23", "participant_id": "PT-M02", "event_date": "2025-03-01"},
        warns=["warn:after_exit"], what="LOADS with a warning: after PT-M02's exit (2025-02-01)")
    t1 = {**se, "event_id": "SE-T1", "event_date": "2025-04-01", "event_type": "home_visit"}
    add(S, t1, what="LOADS: SE-T1 copy 1 of 3")
    add(S, {**se, "event_id": "SE-C1", "event_date": "2025-04-02"}, rejects=["duplicate_key_conflict"],
        what="SE-C1 copy 1 of 2 (outcome compliant)")
    add(S, t1, dropped=True, what="SE-T1 copy 2: byte-identical → dropped duplicate")
    add(S, {**se, "event_id": "SE-C1", "event_date": "2025-04-02", "outcome": "missed"},
        rejects=["duplicate_key_conflict"], what="SE-C1 copy 2 of 2 (outcome missed)")
    add(S, t1, set={"event_type": "Home_Visit", "required": "TRUE", "outcome": "COMPLIANT"}, dropped=True,
        what="SE-T1 copy 3: identical after normalisation → dropped duplicate")

    # violations: the file lacks the required column violation_type (whole file rejected)
    # recidivism_events (header names in other cases, with spaces) -----------------------
    re_ = {"event_id": "", "participant_id": "PT-M01", "event_date": "2025-05-01", "event_type": "arrest",
           "offense_category": "property", "source_agency_id": "A01"}
    E = "recidivism_events"
    recid = [
        ("RE-M01", {"offense_category": "felony"}, ["enum:offense_category"],
         "optional enum offense_category 'felony'"),
        ("RE-M02", {"participant_id": ""}, ["required:participant_id"], "participant_id empty"),
        ("RE-M03", {"participant_id": "PT-D1"}, ["parent_rejected:participant_id"],
         "participant PT-D1 rejected → cascade"),
        ("RE-M04", {"event_type": "ARREST", "offense_category": "Drug"}, [], "LOADS: 'ARREST', 'Drug'"),
        ("RE-M05", {"event_date": "20250101"}, ["date_format:event_date"], "date written 20250101"),
        ("RE-M06", {"source_agency_id": "A55"}, ["fk:source_agency_id"], "optional FK: agency A55 does not exist"),
        ("RE-M07", {"event_date": "2026-07-04"}, ["after_as_of:event_date"], "dated after the as-of date"),
        ("RE-M08", {"source_agency_id": "A14"}, ["parent_rejected:source_agency_id"],
         "agency A14 was rejected (empty name) → cascade"),
        ("RE-M09", {"event_type": "citation"}, ["enum:event_type"], "event_type 'citation' not allowed"),
        ("RE-M10", {"offense_category": "", "source_agency_id": "  "}, [],
         "LOADS: optional columns empty / spaces only"),
    ]
    for eid, over, rejects, what in recid:
        add(E, re_, set={"event_id": eid, **over}, rejects=rejects, what=what)

    # police_contacts -----------------------------------------------------------------
    pc = {"contact_id": "", "agency_id": "A01", "program_id": "P05", "participant_id": "",
          "contact_date": "2025-02-01", "contact_type": "outreach", "co_responder": "true",
          "outcome": "referred_to_services"}
    C = "police_contacts"
    contacts = [
        ("PC-M01", {"co_responder": "t"}, ["bool_format:co_responder"], "boolean 't'"),
        ("PC-M02", {"co_responder": ""}, ["required:co_responder"], "co_responder empty"),
        ("PC-M03", {"program_id": "P99"}, ["fk:program_id"], "optional FK: program P99 does not exist"),
        ("PC-M04", {"agency_id": "A13"}, ["parent_rejected:agency_id"], "agency A13 was rejected → cascade"),
        ("PC-M05", {"program_id": "P09"}, ["parent_rejected:program_id"], "program P09 was rejected → cascade"),
        ("PC-M06", {"participant_id": "PT-X18"}, ["parent_rejected:participant_id"],
         "participant PT-X18 was rejected → cascade"),
        ("PC-M07", {"co_responder": "FALSE", "contact_type": "Crisis_Call", "outcome": "Arrest"}, [],
         "LOADS: 'FALSE', 'Crisis_Call', 'Arrest'"),
        ("PC-M08", {"co_responder": "1"}, [], "LOADS: boolean '1'"),
        ("PC-M09", {"co_responder": "0", "program_id": "", "participant_id": "PT-M01"}, [],
         "LOADS: boolean '0', no program, a participant"),
        ("PC-M10", {"contact_type": "traffic_stop"}, ["enum:contact_type"], "contact_type 'traffic_stop'"),
        ("PC-M11", {"contact_date": "2024-3-5"}, ["date_format:contact_date"], "date written 2024-3-5"),
        ("PC-M12", {"participant_id": "PT-GONE"}, ["fk:participant_id"], "participant PT-GONE does not exist"),
        ("PC-M13", {"outcome": "citation"}, ["enum:outcome"], "outcome 'citation' not allowed"),
        ("PC-M14", {"contact_date": "2026-07-02"}, ["after_as_of:contact_date"], "dated after the as-of date"),
    ]
    for cid, over, rejects, what in contacts:
        add(C, pc, set={"contact_id": cid, **over}, rejects=rejects, what=what)
    _plant_version_2(add)
    return rows


def _plant_version_2(add: Any) -> None:
    """The planted rows of the contract version 2 tables (see :func:`_messy_rows`)."""
    # reintegration_checks ---------------------------------------------------------------
    rc = {"check_id": "", "participant_id": "PT-M01", "agency_id": "A03", "check_date": "2025-01-15",
          "employment": "full_time", "housing": "stable"}
    K = "reintegration_checks"
    checks = [
        ("RC-M01", {"employment": "", "housing": " "}, ["at_least_one:employment|housing"],
         "neither employment nor housing is set"),
        ("RC-M02", {"employment": "Full_Time ", "housing": "STABLE"}, [], "LOADS: enums in other cases, spaces"),
        ("RC-M03", {"employment": "employed"}, ["enum:employment"], "employment 'employed' is not an allowed value"),
        ("RC-M04", {"housing": "couch_surfing"}, ["enum:housing"], "housing 'couch_surfing' is not an allowed value"),
        ("RC-M05", {"employment": "", "housing": "homeless"}, [], "LOADS: housing only"),
        ("RC-M06", {"employment": "not_in_labor_force", "housing": ""}, [], "LOADS: employment only"),
        ("RC-M07", {"check_date": "2026-07-15"}, ["after_as_of:check_date"], "dated after the as-of date"),
        ("RC-M08", {"check_date": "2025/01/15"}, ["date_format:check_date"], "date written 2025/01/15"),
        ("RC-M09", {"participant_id": "PT-GONE"}, ["fk:participant_id"], "participant PT-GONE does not exist"),
        ("RC-M10", {"participant_id": "PT-D1"}, ["parent_rejected:participant_id"],
         "participant PT-D1 was rejected → cascade"),
        ("RC-M11", {"agency_id": "A13"}, ["parent_rejected:agency_id"], "agency A13 was rejected → cascade"),
        ("RC-M12", {"agency_id": ""}, ["required:agency_id"], "agency_id empty"),
        ("RC-M13", {"check_date": "15/01/2025", "employment": "", "housing": ""},
         ["at_least_one:employment|housing", "date_format:check_date"], "bad date and no status at all"),
    ]
    for cid, over, rejects, what in checks:
        add(K, rc, set={"check_id": cid, **over}, rejects=rejects, what=what)
    add(K, rc, set={"check_id": "RC-M14", "check_date": "2024-01-10"}, warns=["warn:before_enrollment"],
        what="LOADS with a warning: before PT-M01's enrollment (2024-01-15)")
    add(K, rc, set={"check_id": "RC-M15", "participant_id": "PT-M02", "check_date": "2025-04-01"},
        warns=["warn:after_exit"], what="LOADS with a warning: after PT-M02's exit (2025-02-01); a follow-up")
    add(K, rc, set={"check_id": "RC-M16", "employment": "part_time"}, rejects=["duplicate_key_conflict"],
        what="RC-M16 copy 1 of 2 (part_time)")
    add(K, rc, set={"check_id": "RC-M16", "employment": "unemployed"}, rejects=["duplicate_key_conflict"],
        what="RC-M16 copy 2 of 2 (unemployed): the copies differ")

    # program_costs: the decimal rule -----------------------------------------------------
    co = {"cost_id": "", "program_id": "P17", "period_start": "2025-01-01", "period_end": "2025-03-31",
          "amount": "12500.00", "category": "personnel"}
    O = "program_costs"
    costs = [
        ("CO-M01", {"amount": "12"}, [], "LOADS: amount 12 (no fraction)"),
        ("CO-M02", {"amount": "12.5"}, [], "LOADS: amount 12.5 (one decimal place)"),
        ("CO-M03", {"amount": f" 12.50{_NBSP}"}, [], "LOADS: amount 12.50 with spaces"),
        ("CO-M04", {"amount": "-3"}, ["decimal_format:amount"], "amount -3: a sign (amounts are never below 0)"),
        ("CO-M05", {"amount": "1e3"}, ["decimal_format:amount"], "amount 1e3: an exponent"),
        ("CO-M06", {"amount": "1,200"}, ["decimal_format:amount"], "amount 1,200: a thousands separator"),
        ("CO-M07", {"amount": "$12"}, ["decimal_format:amount"], "amount $12: a currency symbol"),
        ("CO-M08", {"amount": "12.505"}, ["decimal_format:amount"], "amount 12.505: three decimal places"),
        ("CO-M09", {"amount": "7,50"}, ["decimal_format:amount"], "amount 7,50: a decimal comma"),
        ("CO-M10", {"amount": "+12"}, ["decimal_format:amount"], "amount +12: a sign"),
        ("CO-M11", {"amount": ""}, ["required:amount"], "amount empty"),
        ("CO-M12", {"amount": "0", "category": ""}, [], "LOADS: amount 0, no category"),
        ("CO-M13", {"period_end": "2024-12-31"}, ["date_order:period_end>=period_start"],
         "period_end before period_start"),
        ("CO-M14", {"period_start": "2026-04-01", "period_end": "2027-03-31"}, [],
         "LOADS: period_end after the as-of date is allowed"),
        ("CO-M15", {"period_start": "2026-07-01", "period_end": "2026-09-30"}, ["after_as_of:period_start"],
         "period_start after the as-of date"),
        ("CO-M16", {"category": "salaries"}, ["enum:category"], "optional enum category 'salaries'"),
        ("CO-M17", {"program_id": "P09"}, ["parent_rejected:program_id"], "program P09 was rejected → cascade"),
        ("CO-M18", {"program_id": "P99"}, ["fk:program_id"], "program P99 does not exist"),
    ]
    for cid, over, rejects, what in costs:
        add(O, co, set={"cost_id": cid, **over}, rejects=rejects, what=what)

    # staffing: the (agency_id, month) key ------------------------------------------------
    st = {"agency_id": "A12", "month": "2025-01-01", "officers_fte": "3"}
    T = "staffing"
    add(T, st, what="LOADS: A12 2025-01")
    add(T, st, set={"month": "2025-02-15"}, rejects=["first_of_month:month"], what="month is not the first day")
    add(T, st, set={"month": "2025-03-01", "officers_fte": "3"}, rejects=["duplicate_key_conflict"],
        what="A12 2025-03 copy 1 of 2 (3 FTE)")
    add(T, st, set={"month": "2025-03-01", "officers_fte": "3.5"}, rejects=["duplicate_key_conflict"],
        what="A12 2025-03 copy 2 of 2 (3.5 FTE): the copies differ")
    add(T, st, set={"month": "2025-04-01", "officers_fte": "2.5"}, what="LOADS: A12 2025-04 copy 1 of 2")
    add(T, st, set={"month": " 2025-04-01", "officers_fte": "2.50"}, dropped=True,
        what="A12 2025-04 copy 2: 2.50 is 2.5 → dropped duplicate")
    add(T, st, set={"month": "2025-05-01", "officers_fte": "-1"}, rejects=["decimal_format:officers_fte"],
        what="officers_fte -1: a sign")
    add(T, st, set={"month": "2025-06-01", "officers_fte": "0"}, what="LOADS: a vacancy month (0 FTE)")
    add(T, st, set={"month": "2025-07-01", "officers_fte": "two"}, rejects=["decimal_format:officers_fte"],
        what="officers_fte 'two'")
    add(T, st, set={"month": "2025-08-01", "officers_fte": ""}, rejects=["required:officers_fte"],
        what="officers_fte empty")
    add(T, st, set={"month": "2025-09"}, rejects=["date_format:month"], what="month written 2025-09")
    add(T, st, set={"month": ""}, rejects=["required:month"], what="month empty")
    add(T, st, set={"month": "2026-07-01"}, rejects=["after_as_of:month"], what="a month after the as-of date")
    add(T, st, set={"agency_id": "A99"}, rejects=["fk:agency_id"], what="agency A99 does not exist")
    add(T, st, set={"agency_id": "A13"}, rejects=["parent_rejected:agency_id"], what="agency A13 was rejected → cascade")

    # surveys ---------------------------------------------------------------------------
    sv = {"response_id": "", "survey_date": "2025-05-01", "respondent_type": "resident", "question": "trust",
          "score": "4", "program_id": "P17", "agency_id": "A01", "participant_id": ""}
    V = "surveys"
    answers = [
        ("SV-M01", {"score": "6"}, ["range:score"], "score 6 (1 to 5)"),
        ("SV-M02", {"score": "0"}, ["range:score"], "score 0 (1 to 5)"),
        ("SV-M03", {"score": "4.5"}, ["int_format:score"], "score 4.5 is not a whole number"),
        ("SV-M04", {"score": "5.0"}, [], "LOADS: score 5.0 (spreadsheet export)"),
        ("SV-M05", {"participant_id": "PT-M01"}, ["null_unless:participant_id:respondent_type=participant"],
         "participant_id on a resident's answer"),
        ("SV-M06", {"respondent_type": "participant", "participant_id": "PT-M01", "program_id": ""}, [],
         "LOADS: a participant's answer, program known through the participant"),
        ("SV-M07", {"respondent_type": "Participant", "question": "Satisfaction"}, [],
         "LOADS: a participant's answer without participant_id"),
        ("SV-M08", {"question": "wellbeing"}, ["enum:question"], "question 'wellbeing' is not an allowed value"),
        ("SV-M09", {"respondent_type": "visitor"}, ["enum:respondent_type"], "respondent_type 'visitor'"),
        ("SV-M10", {"agency_id": "A99"}, ["fk:agency_id"], "agency A99 does not exist"),
        ("SV-M11", {"program_id": "P09"}, ["parent_rejected:program_id"], "program P09 was rejected → cascade"),
        ("SV-M12", {"respondent_type": "participant", "participant_id": "PT-X18"},
         ["parent_rejected:participant_id"], "participant PT-X18 was rejected → cascade"),
        ("SV-M13", {"survey_date": "2026-07-01"}, ["after_as_of:survey_date"], "dated after the as-of date"),
        ("SV-M14", {"score": ""}, ["required:score"], "score empty"),
        ("SV-M15", {"program_id": "", "agency_id": ""}, [], "LOADS: about no particular program or agency"),
    ]
    for rid, over, rejects, what in answers:
        add(V, sv, set={"response_id": rid, **over}, rejects=rejects, what=what)


# How each messy file is delivered.
_MESSY_FORMAT = {t.name: "csv" for t in TABLES} | {"agreements": "xlsx"}
_MESSY_BOM = {"participants"}
_MESSY_EXTRA_COLUMNS = {"referrals": ("notes",)}
_MESSY_DROPPED_COLUMNS = {"violations": ("violation_type",)}
_MESSY_HEADER = {"recidivism_events": {"event_id": "Event_ID", "event_date": " Event_Date ", "event_type": "EVENT_TYPE"}}


def _write_messy_csv(path: Path, header: list[str], lines: list[list[str]], bom: bool) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))


def _write_messy_xlsx(path: Path, table: str, header: list[str], lines: list[list[str]]) -> None:
    """XLSX with real date cells in date columns (``text:`` forces a text cell)."""
    import xlsxwriter

    dates = {c.name for c in TABLES_BY_NAME[table].columns if c.type == "date"}
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": dt.datetime(2026, 6, 30)})  # fixed, so the bytes are reproducible
    date_cell = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet(table)
    sheet.write_row(0, 0, header)
    for r, line in enumerate(lines, start=1):
        for c, (name, value) in enumerate(zip(header, line)):
            if value == "":
                continue
            if value.startswith("text:"):
                sheet.write_string(r, c, value[len("text:"):])
            elif name in dates:
                sheet.write_datetime(r, c, dt.datetime.fromisoformat(value), date_cell)
            else:
                sheet.write_string(r, c, value)
    book.close()


def write_messy_extract(out_dir: str | Path, *, as_of: dt.date = DEFAULT_AS_OF) -> dict[str, Any]:
    """Write the messy extract, ``planted.json`` (the expected load result) and ``README.md``.

    Every planted row declares the rule ids it must be rejected for (or that
    it loads, possibly with warnings, or is an identical duplicate to drop);
    the per-table expectations in ``planted.json`` are the sums of those
    declarations, so the file is a test oracle for the loader.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = _messy_rows(as_of)
    expected: dict[str, Any] = {}
    readme_rows: list[str] = []
    for table in TABLES:
        name = table.name
        fmt = _MESSY_FORMAT[name]
        dropped_cols = _MESSY_DROPPED_COLUMNS.get(name, ())
        columns = [c for c in table.column_names if c not in dropped_cols] + list(_MESSY_EXTRA_COLUMNS.get(name, ()))
        header = [_MESSY_HEADER.get(name, {}).get(c, c) for c in columns]
        lines = [[r.values.get(c, "") for c in columns] for r in rows[name]]
        file_name = f"{name}.{fmt}"
        for stale in out.glob(f"{name}.*"):
            stale.unlink()
        if fmt == "xlsx":
            _write_messy_xlsx(out / file_name, name, header, lines)
        else:
            _write_messy_csv(out / file_name, header, lines, bom=name in _MESSY_BOM)

        missing = [c for c in table.required_columns if c in dropped_cols]
        reasons: dict[str, int] = {}
        warn_reasons: dict[str, int] = {}
        rejected_lines: dict[str, list[str]] = {}
        loaded = rejected = dropped = 0
        for i, r in enumerate(rows[name]):
            line = i + 2  # header is line 1
            if missing:
                rule_ids: tuple[str, ...] = ("missing_column",)
            else:
                rule_ids = r.rejects
            if rule_ids:
                rejected += 1
                rejected_lines[str(line)] = sorted(rule_ids)
                for rule in rule_ids:
                    reasons[rule] = reasons.get(rule, 0) + 1
            elif r.dropped:
                dropped += 1
            else:
                loaded += 1
                for w in r.warns:
                    warn_reasons[w] = warn_reasons.get(w, 0) + 1
            if r.what:
                key = " | ".join(r.values.get(c, "").strip(" " + _NBSP) for c in table.key_columns).strip(" |")
                expect = ", ".join(f"`{x}`" for x in rule_ids) or (
                    "dropped duplicate" if r.dropped else ("loads, " + ", ".join(f"`{w}`" for w in r.warns)
                                                           if r.warns else "loads")
                )
                cells = (file_name, str(line), key or "(empty)", r.what, expect)
                readme_rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        if not missing:
            for extra in _MESSY_EXTRA_COLUMNS.get(name, ()):
                warn_reasons["warn:unknown_column"] = warn_reasons.get("warn:unknown_column", 0) + 1
                readme_rows.append(f"| {file_name} | 1 | (header) | unknown extra column `{extra}` | "
                                   "loads, `warn:unknown_column` (one warning for the file) |")
        else:
            readme_rows.append(f"| {file_name} | 1 | (header) | required column(s) {', '.join(missing)} missing: "
                               f"whole file rejected, all {len(rows[name])} rows | `missing_column` |")
        expected[name] = {
            "file": file_name,
            "rows_read": len(rows[name]),
            "loaded": loaded,
            "rejected": rejected,
            "duplicates_dropped": dropped,
            "warnings": sum(warn_reasons.values()),
            "file_rejected": bool(missing),
            "missing_columns": missing,
            "reasons": dict(sorted(reasons.items())),
            "warning_reasons": dict(sorted(warn_reasons.items())),
            "rejected_lines": rejected_lines,
        }
        assert expected[name]["rows_read"] == loaded + rejected + dropped
    manifest = {"contract_version": CONTRACT_VERSION, "as_of": as_of.isoformat(),
                "generator": {"name": GENERATOR_NAME, "version": GENERATOR_VERSION, "kind": "messy"}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    planted = {
        "as_of": as_of.isoformat(),
        "exit_code": 1,
        "note": "Expected result of `partnership-dashboard load` of this folder into an empty database. "
        "reasons: rule id -> rejected rows breaking it (a row breaking several rules counts under each). "
        "warning_reasons and rejected_lines (line -> rule ids; header = line 1) are extra detail.",
        "tables": expected,
    }
    (out / "planted.json").write_text(json.dumps(planted, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _write_messy_readme(out / "README.md", expected, readme_rows, as_of)
    return planted


def _write_messy_readme(path: Path, expected: Mapping[str, Any], rows: list[str], as_of: dt.date) -> None:
    summary = ["| table | file | rows read | loaded | rejected | dropped duplicates | warnings |",
               "|---|---|---:|---:|---:|---:|---:|"]
    for name, e in expected.items():
        flag = " (whole file rejected)" if e["file_rejected"] else ""
        summary.append(f"| {name} | {e['file']}{flag} | {e['rows_read']} | {e['loaded']} | {e['rejected']} | "
                       f"{e['duplicates_dropped']} | {e['warnings']} |")
    text = f"""# The messy sample extract

A small extract (60 clean generated participants with their agencies,
programs and events, plus planted rows) in which every kind of defect the data
contract forbids is planted on purpose, next to rows that look wrong but must
load (letter case, surrounding spaces and non-breaking spaces, `34.0`
integers, a byte-order mark, header names in other cases). Data stewards can
load it to see what quarantine looks like; the test suite loads it and
compares the result with `planted.json`.

```
partnership-dashboard load sample_data/messy --db /tmp/messy.duckdb
```

The as-of date is {as_of.isoformat()} (from `manifest.json`). Delivery quirks:
`participants.csv` starts with a byte-order mark; `agreements.xlsx` is a
spreadsheet (date cells are dates, one date is a text cell);
`recidivism_events.csv` spells three header names in other cases with
spaces; `referrals.csv` has an unknown extra column `notes`;
`violations.csv` lacks its required `violation_type` column, so the whole file
is rejected. The load exits with code 1 (some rows rejected).

The four tables of contract version 2 carry their own plants: amounts and
full-time equivalents written in every form the decimal rule forbids (`-3`,
`+12`, `1e3`, `1,200`, `7,50`, `$12`, `12.505`) next to forms that load (`12`,
`12.5`, `12.50`, `0`); a staffing month that is not the first of its month,
two copies of one (agency, month) key that differ and two that are the same
number written differently (`2.5` and `2.50`); a reintegration check with
neither employment nor housing; a participant_id on a resident's survey
answer; scores 0 and 6.

Lines count the header as line 1 (spreadsheet row numbers for XLSX). Rows not
listed below are clean background rows that load. A row breaking several
rules is counted under each rule in `planted.json`; a badly written value
breaks only its format rule (no order or range rule on that column).

## Expected result per table

{chr(10).join(summary)}

## Every planted row

| file | line | key | what is wrong (or why it must still load) | expected rule id(s) / result |
|---|---:|---|---|---|
{chr(10).join(rows)}

Regenerate with `python -c "from dashboard.sample import write_messy_extract; write_messy_extract('sample_data/messy')"`.
"""
    path.write_text(text, encoding="utf-8")
