"""The fixed reference tables of the sample: agencies, programs and their agreements
(see :mod:`dashboard.sample`)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from dashboard.sample.common import (
    NO_VALUE,
    date_series,
    day_number,
    enum_values,
    id_series,
    months_before,
    stream_rng,
    table_frame,
)

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
AGENCY_IDS = tuple(a[0] for a in _AGENCIES)
POLICE = ("A01", "A02")


def agency_index(agency_id: str) -> int:
    return AGENCY_IDS.index(agency_id)


# (program_id, name, model, lead agency, start: months before as-of, length in months or None, grant)
PROGRAMS: tuple[tuple[str, str, str, str, int, int | None, str | None], ...] = (
    ("P01", "Safe Return: Reentry with Riverside PD", "reentry_law_enforcement", "A01", 60, None, "BJA-2021-RE-0147"),
    ("P02", "Bridges Release Planning", "release_planning", "A05", 57, 72, "BJA-2021-RP-0233"),
    ("P03", "Probation Plus Community Resources", "probation_community_resources", "A03", 54, None, None),
    ("P04", "Joint Probation-Parole Case Management", "probation_parole_coordination", "A04", 50, 54, "SMART-2022-0412"),
    ("P05", "Crisis Co-Response Diversion", "community_policing_social_services", "A01", 48, None, "JMHCP-2022-0088"),
    ("P06", "Homeless Outreach Partnership", "community_policing_social_services", "A02", 42, 48, None),
    ("P07", "Reentry Housing First Pilot", "release_planning", "A11", 39, None, None),
)
PROGRAM_IDS = tuple(p[0] for p in PROGRAMS)
# Share of participants enrolled in each program.
PROGRAM_SHARE = np.array([0.15, 0.17, 0.22, 0.16, 0.12, 0.08, 0.10])

# Supervision type mix by program model (weights over the contract's supervision types).
SUPERVISION_BY_MODEL: dict[str, dict[str, float]] = {
    "reentry_law_enforcement": {"probation": 0, "parole": 0.55, "post_release": 0.45, "none": 0},
    "release_planning": {"probation": 0, "parole": 0.4, "post_release": 0.6, "none": 0},
    "probation_community_resources": {"probation": 1, "parole": 0, "post_release": 0, "none": 0},
    "probation_parole_coordination": {"probation": 0.5, "parole": 0.5, "post_release": 0, "none": 0},
    "community_policing_social_services": {"probation": 0.15, "parole": 0, "post_release": 0, "none": 0.85},
}
# Agency that supervises each supervision type (``none``: the program's lead agency).
SUPERVISOR_BY_TYPE = {"probation": "A03", "parole": "A04", "post_release": "A05"}
# Provider agencies by service type.
PROVIDER_BY_SERVICE = {
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
RACE_ETHNICITY = (
    "Black",
    "White",
    "Hispanic or Latino",
    "Asian",
    "American Indian or Alaska Native",
    "Native Hawaiian or Pacific Islander",
    "Two or more races",
)
RACE_SHARE = np.array([0.36, 0.33, 0.20, 0.03, 0.03, 0.01, 0.04])


def agencies_frame() -> pl.DataFrame:
    types = {a[2] for a in _AGENCIES}
    missing = set(enum_values("agencies", "agency_type")) - types
    if missing or not types <= set(enum_values("agencies", "agency_type")):
        raise ValueError(f"sample agencies must cover every agency_type; missing {sorted(missing)}")
    return table_frame(
        "agencies",
        {
            "agency_id": pl.Series([a[0] for a in _AGENCIES], dtype=pl.String),
            "agency_name": pl.Series([a[1] for a in _AGENCIES], dtype=pl.String),
            "agency_type": pl.Series([a[2] for a in _AGENCIES], dtype=pl.String),
            "jurisdiction": pl.Series([a[3] for a in _AGENCIES], dtype=pl.String),
        },
    )


def program_dates(as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
    starts = np.array([months_before(as_of, p[4]) for p in PROGRAMS], dtype=np.int64)
    ends = np.array(
        [months_before(as_of, p[4] - p[5]) - 1 if p[5] is not None else NO_VALUE for p in PROGRAMS],
        dtype=np.int64,
    )
    return starts, ends


def programs_frame(as_of: dt.date) -> pl.DataFrame:
    models = {p[2] for p in PROGRAMS}
    if models != set(enum_values("programs", "program_model")):
        raise ValueError("sample programs must cover every program_model")
    starts, ends = program_dates(as_of)
    return table_frame(
        "programs",
        {
            "program_id": pl.Series(list(PROGRAM_IDS), dtype=pl.String),
            "program_name": pl.Series([p[1] for p in PROGRAMS], dtype=pl.String),
            "program_model": pl.Series([p[2] for p in PROGRAMS], dtype=pl.String),
            "lead_agency_id": pl.Series([p[3] for p in PROGRAMS], dtype=pl.String),
            "start_date": date_series("start_date", starts),
            "end_date": date_series("end_date", ends),
            "grant_id": pl.Series([p[6] for p in PROGRAMS], dtype=pl.String),
        },
    )


def agreements_frame(as_of: dt.date, seed: int) -> pl.DataFrame:
    """Three or four agreements per program, with every expiry situation.

    Expiry states cycle so each appears: in force (more than 90 days left),
    expiring within 90 days of the as-of date, expired, and open-ended.
    """
    rng = stream_rng(seed, 2)
    starts, _ = program_dates(as_of)
    asof = day_number(as_of)
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
    for p_index, program in enumerate(PROGRAMS):
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
                exp = NO_VALUE
            program_ids.append(program[0])
            agency_ids.append(partner)
            types.append(agreement_type)
            signed.append(sign_day)
            expires.append(exp)
    n = len(program_ids)
    return table_frame(
        "agreements",
        {
            "agreement_id": id_series("agreement_id", "AG", np.arange(1, n + 1), 3),
            "program_id": pl.Series(program_ids, dtype=pl.String),
            "agency_id": pl.Series(agency_ids, dtype=pl.String),
            "agreement_type": pl.Series(types, dtype=pl.String),
            "signed_date": date_series("signed_date", np.array(signed, dtype=np.int64)),
            "expires_date": date_series("expires_date", np.array(expires, dtype=np.int64)),
        },
    )
