"""The sample's violations, recidivism events (with the planted pilot effect) and police
contacts (see :mod:`dashboard.sample`)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from dashboard.sample.common import (
    DAYS_PER_MONTH,
    PILOT_HAZARD_RATIO,
    REARREST_12M,
    choose,
    choose_rows,
    contract_weights,
    date_series,
    enum_code,
    enum_values,
    id_series,
    label_series,
    stream_rng,
    table_frame,
    uniform_days,
)
from dashboard.sample.people import People, expand
from dashboard.sample.reference import AGENCY_IDS, POLICE, PROGRAM_IDS, PROGRAMS, agency_index, program_dates


def violations_frame(people: People, seed: int) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Violations during supervision, plus one ``revoked`` violation per revocation exit.

    Returns the frame and, for the revocation exits, the owners and days (the
    recidivism table adds a ``revocation`` event on the exit date).
    """
    rng = stream_rng(seed, 6)
    supervised = ~people.unsupervised & ~people.in_custody
    start = np.maximum(people.index, people.enrollment)
    end = np.minimum(people.window_end, people.alive_until)
    months = np.maximum(end - start + 1, 0) / DAYS_PER_MONTH
    rate = np.array([0.03, 0.06, 0.10])[people.risk] * np.where(people.pilot, 0.75, 1.0)
    counts = np.where(supervised, rng.poisson(rate * months), 0)
    owner = expand(counts)
    m = len(owner)
    day = uniform_days(rng, start[owner], end[owner], m)
    vtype = choose(rng, contract_weights("violations", "violation_type", {"technical": 0.78, "new_offense": 0.22}), m)
    response = choose(
        rng,
        contract_weights(
            "violations",
            "response",
            {"warning": 0.50, "graduated_sanction": 0.36, "revocation_filed": 0.14, "revoked": 0.0},
        ),
        m,
    )
    # Revocation exits: a violation answered by revocation shortly before the exit date.
    rev_owner = np.flatnonzero(people.revoked & supervised)
    r = len(rev_owner)
    rev_day = np.maximum(people.exit[rev_owner] - uniform_days(rng, 0, 20, r), start[rev_owner])
    rev_type = choose(rng, contract_weights("violations", "violation_type", {"technical": 0.7, "new_offense": 0.3}), r)

    all_owner = np.concatenate([owner, rev_owner])
    order = np.argsort(all_owner, kind="stable")
    all_owner = all_owner[order]
    all_day = np.concatenate([day, rev_day])[order]
    all_type = np.concatenate([vtype, rev_type])[order]
    all_response = np.concatenate([response, np.full(r, enum_code("violations", "response", "revoked"))])[order]
    sup = people.supervising_agency[all_owner]
    agency = np.where(sup >= 0, sup, people.lead[all_owner])
    total = len(all_owner)
    width = max(7, len(str(total)))
    frame = table_frame(
        "violations",
        {
            "violation_id": id_series("violation_id", "VL", np.arange(1, total + 1), width),
            "participant_id": people.ids(all_owner),
            "agency_id": label_series("agency_id", AGENCY_IDS, agency),
            "violation_date": date_series("violation_date", all_day),
            "violation_type": label_series("violation_type", enum_values("violations", "violation_type"), all_type),
            "response": label_series("response", enum_values("violations", "response"), all_response),
        },
    )
    return frame, rev_owner, people.exit[rev_owner]


# Over 80 lines on purpose: seeded generator: one random stream drawn in a fixed order; splitting it risks
# changing the bytes of the pinned sample.
def recidivism_frame(people: People, seed: int, rev_owner: np.ndarray, rev_day: np.ndarray) -> pl.DataFrame:
    """Arrests, convictions, incarcerations and revocations.

    First arrest after the index date: exponential with the risk level's
    12-month probability, hazard times ``PILOT_HAZARD_RATIO`` for the pilot. A
    second arrest follows at the same hazard. Arrests lead to a conviction
    (55%) 30–270 days later, a conviction to incarceration (35%) within 45
    days. Revocation exits add a revocation on the exit date. About 3% of
    people have an arrest before their index date and 0.5% one on it (these
    are not recidivism under the metric's strict "after" rule).
    """
    rng = stream_rng(seed, 7)
    n = people.n
    p12 = np.array([REARREST_12M[r] for r in people.risk_names])[people.risk]
    hazard = -np.log1p(-p12) / 365.0 * np.where(people.pilot, PILOT_HAZARD_RATIO, 1.0)
    # Nothing happens after death, nor to people still in custody.
    limit = np.where(people.in_custody, people.index, people.alive_until)
    first = people.index + np.maximum(1, np.ceil(rng.exponential(1.0, n) / hazard)).astype(np.int64)
    second = first + np.maximum(1, np.ceil(rng.exponential(1.0, n) / hazard)).astype(np.int64)
    prior = people.index - uniform_days(rng, 1, 365, n)
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
    conviction_day = arrest_day + uniform_days(rng, 30, 270, a)
    convicted &= conviction_day <= limit[arrest_owner]
    conv_owner = arrest_owner[convicted]
    conv_day = conviction_day[convicted]
    c = len(conv_owner)
    jailed = rng.random(c) < 0.35
    jail_day = conv_day + uniform_days(rng, 0, 45, c)
    jailed &= jail_day <= limit[conv_owner]
    inc_owner = conv_owner[jailed]
    inc_day = jail_day[jailed]

    type_names = enum_values("recidivism_events", "event_type")
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

    cat_names = enum_values("recidivism_events", "offense_category")
    category = choose(
        rng,
        contract_weights(
            "recidivism_events",
            "offense_category",
            {"violent": 0.17, "property": 0.30, "drug": 0.25, "public_order": 0.20, "technical": 0.0, "other": 0.08},
        ),
        m,
    )
    category = np.where(etype == type_names.index("revocation"), cat_names.index("technical"), category)
    category = np.where(rng.random(m) < 0.05, -1, category)

    police = np.array([agency_index(a) for a in POLICE])[rng.integers(0, len(POLICE), m)]
    sup = people.supervising_agency[owners]
    source = np.select(
        [etype == type_names.index("arrest"), etype == type_names.index("conviction"),
         etype == type_names.index("incarceration")],
        [police, agency_index("A06"), agency_index("A05")],
        sup,
    )
    source = np.where(rng.random(m) < 0.05, -1, source)
    width = max(7, len(str(m)))
    return table_frame(
        "recidivism_events",
        {
            "event_id": id_series("event_id", "RE", np.arange(1, m + 1), width),
            "participant_id": people.ids(owners),
            "event_date": date_series("event_date", days),
            "event_type": label_series("event_type", type_names, etype),
            "offense_category": label_series("offense_category", cat_names, category),
            "source_agency_id": label_series("source_agency_id", AGENCY_IDS, source),
        },
    )


# Over 80 lines on purpose: seeded generator: one random stream drawn in a fixed order; splitting it risks
# changing the bytes of the pinned sample.
def police_contacts_frame(people: People, seed: int, as_of: dt.date) -> pl.DataFrame:
    """Police contacts: with participants of the policing programs, and with the public.

    Participants of community-policing programs have about 1.5 contacts each
    (from 60 days before enrollment, since a contact often leads to
    enrollment); other participants occasionally meet the police (0.1 each);
    and there are 0.3 contacts per participant with people not enrolled,
    60% recorded under a policing program. Co-responders attend most program
    contacts and fewer others; arrests are rarer when a co-responder attends.
    """
    rng = stream_rng(seed, 8)
    asof = people.asof
    n = people.n
    models = enum_values("programs", "program_model")
    policing = people.model == models.index("community_policing_social_services")
    counts = rng.poisson(np.where(policing, 1.5, np.where(people.in_custody, 0.0, 0.1)))
    owner = expand(counts)
    k = len(owner)
    lo = np.maximum(people.enrollment[owner] - 60, program_dates(as_of)[0].min())
    hi = people.alive_until[owner]
    linked_day = uniform_days(rng, lo, hi, k)
    linked_program = np.where(policing[owner] & (rng.random(k) < 0.9), people.program[owner], -1)

    u = int(round(0.3 * n))
    policing_programs = np.array([i for i, p in enumerate(PROGRAMS) if p[2] == "community_policing_social_services"])
    starts, _ = program_dates(as_of)
    open_program = np.where(rng.random(u) < 0.6, policing_programs[rng.integers(0, len(policing_programs), u)], -1)
    open_lo = np.where(open_program >= 0, starts[np.maximum(open_program, 0)], asof - 3 * 365)
    open_day = uniform_days(rng, open_lo, asof, u)

    program = np.concatenate([linked_program, open_program])
    participant = np.concatenate([owner, np.full(u, -1)])
    day = np.concatenate([linked_day, open_day])
    order = np.lexsort((participant, day))
    program, participant, day = program[order], participant[order], day[order]
    m = len(day)

    lead = np.array([agency_index(p[3]) for p in PROGRAMS])
    police = np.array([agency_index(a) for a in POLICE])[rng.integers(0, len(POLICE), m)]
    lead_of = lead[np.maximum(program, 0)]
    lead_is_police = np.isin(lead_of, [agency_index(a) for a in POLICE])
    agency = np.where((program >= 0) & lead_is_police, lead_of, police)

    ctype = choose(
        rng,
        contract_weights(
            "police_contacts",
            "contact_type",
            {"crisis_call": 0.32, "welfare_check": 0.25, "outreach": 0.25, "warrant_service": 0.06, "other": 0.12},
        ),
        m,
    )
    co_responder = rng.random(m) < np.where(program >= 0, 0.7, 0.15)
    out_names = enum_values("police_contacts", "outcome")
    p_with = contract_weights(
        "police_contacts",
        "outcome",
        {"resolved_on_scene": 0.38, "referred_to_services": 0.32, "transported_to_treatment": 0.14,
         "arrest": 0.04, "no_action": 0.12},
    )
    p_without = contract_weights(
        "police_contacts",
        "outcome",
        {"resolved_on_scene": 0.40, "referred_to_services": 0.12, "transported_to_treatment": 0.06,
         "arrest": 0.17, "no_action": 0.25},
    )
    outcome = choose_rows(rng, np.where(co_responder[:, None], p_with[None, :], p_without[None, :]))
    width = max(7, len(str(m)))
    part_ids = people.ids(np.maximum(participant, 0))
    part_ids = pl.select(pl.when(pl.Series(participant >= 0)).then(part_ids).alias("participant_id")).to_series()
    return table_frame(
        "police_contacts",
        {
            "contact_id": id_series("contact_id", "PC", np.arange(1, m + 1), width),
            "agency_id": label_series("agency_id", AGENCY_IDS, agency),
            "program_id": label_series("program_id", PROGRAM_IDS, program),
            "participant_id": part_ids,
            "contact_date": date_series("contact_date", day),
            "contact_type": label_series("contact_type", enum_values("police_contacts", "contact_type"), ctype),
            "co_responder": pl.Series("co_responder", co_responder, dtype=pl.Boolean),
            "outcome": label_series("outcome", out_names, outcome),
        },
    )
