"""Sample rows for the tables of contract version 2 (see :mod:`dashboard.sample`).

Each table draws from a random stream of its own (streams 20 to 23), and
reads the participants' arrays without changing them, so adding these tables
left every row of the nine version 1 tables exactly as it was.

The rows are fictional but shaped like what the partnerships report:

* **reintegration checks**: most participants are checked a few times at
  irregular dates between their index date and their exit (or the as-of
  date); about one in five is never checked. Employment improves with time
  since the index date, the pilot cohort a little ahead of the comparison;
  housing is worse for people released from prison. A few people who
  completed the program have a follow-up check after their exit (an
  enrollment-window warning, as real extracts have).
* **program costs**: one row per program, calendar quarter and category
  (personnel and services every quarter, technology, training and other
  now and then), sized by the program's enrollment; the current quarter's
  rows end after the as-of date, and each program has an annual software
  licence that straddles quarters.
* **staffing**: one row per month for each supervising agency, the
  full-time equivalents following its caseload with hires and departures,
  and an occasional vacancy month with no officer at all (0 FTE).
* **surveys**: residents (trust and safety, about the police agencies),
  participants (satisfaction and trust, about their program), staff
  (coordination and satisfaction) and partner agencies (coordination), in
  quarterly waves; residents' trust in the police rises after the crisis
  co-response program starts.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from dashboard.contract import DECIMAL_PRECISION, DECIMAL_SCALE
from dashboard.sample.common import (
    DAYS_PER_MONTH,
    EPOCH,
    NO_VALUE,
    choose,
    date_series,
    day_number,
    enum_code,
    enum_values,
    id_series,
    label_series,
    months_before,
    stream_rng,
    table_frame,
    uniform_days,
)
from dashboard.sample.people import People, expand
from dashboard.sample.reference import AGENCY_IDS, PROGRAM_IDS, PROGRAMS, agency_index, program_dates

_DECIMAL = pl.Decimal(DECIMAL_PRECISION, DECIMAL_SCALE)

# Agencies that record reintegration checks besides the supervising agency.
_CHECK_PROVIDERS = ("A07", "A10", "A11")
# Agencies whose officers supervise participants (staffing rows).
_SUPERVISING_AGENCIES = ("A03", "A04", "A05")
# Participants per officer the supervising agencies aim for.
_TARGET_CASELOAD = {"A03": 42.0, "A04": 34.0, "A05": 38.0}
# The program whose start brings crisis co-response to the police agency that leads it.
_CO_RESPONSE_PROGRAM = "P05"


def _money(name: str, cents: np.ndarray) -> pl.Series:
    """Whole cents as exact decimals with two places (never through binary floats)."""
    text = [f"{c // 100}.{c % 100:02d}" for c in cents.astype(np.int64).tolist()]
    return pl.Series(name, text, dtype=pl.String).cast(_DECIMAL)


def reintegration_checks_frame(people: People, seed: int) -> pl.DataFrame:
    rng = stream_rng(seed, 20)
    asof = people.asof
    n = people.n
    start = np.maximum(people.index, people.enrollment) + 14
    end = np.minimum(people.window_end, people.alive_until)
    span = end - start
    checked = ~people.in_custody & (span > 0) & (rng.random(n) < np.where(people.pilot, 0.84, 0.76))
    # about one check every four months, at least one for those checked at all
    counts = np.where(checked, 1 + np.minimum(rng.poisson(np.maximum(span, 0) / 125.0), 9), 0)
    # a follow-up some months after a completed exit, for a few
    completed = people.exit_reason == enum_code("participants", "exit_reason", "completed")
    follow_day = people.exit + uniform_days(rng, 20, 150, n)
    follow = checked & completed & (rng.random(n) < 0.02) & (follow_day <= asof)
    owner = expand(counts + follow.astype(np.int64))
    m = len(owner)
    first_row = np.cumsum(counts + follow) - (counts + follow)
    position = np.arange(m) - first_row[owner]
    is_follow = position == counts[owner]
    day = np.where(
        is_follow,
        follow_day[owner],
        uniform_days(rng, start[owner], np.maximum(end[owner], start[owner]), m),
    )
    order = np.lexsort((position, day, owner))
    owner, day = owner[order], day[order]

    months_since = (day - people.index[owner]) / DAYS_PER_MONTH
    # Employment: a person's standing plus time since release; the pilot a little ahead.
    risk_shift = np.array([0.06, 0.0, -0.09])[people.risk[owner]]
    p_work = (
        0.22
        + 0.34 * (1 - np.exp(-np.maximum(months_since, 0) / 7.0))
        + np.where(people.pilot[owner], 0.03, 0.0)
        + risk_shift
    )
    standing = rng.random(n)[owner]
    draw = 0.55 * standing + 0.45 * rng.random(m)
    # the mix of two uniforms bunches around the middle: spread it back to uniform-ish
    works = draw < 0.5 + (p_work - 0.5) * 1.25
    full = rng.random(m) < 0.62
    out_of_labor_force = rng.random(m) < np.where(people.age[owner] >= 60, 0.55, 0.14)
    employment = np.where(
        works,
        np.where(full, 0, 1),  # full_time, part_time
        np.where(out_of_labor_force, 3, 2),  # not_in_labor_force, unemployed
    )
    # Housing: worse after prison (a release date), improving with time.
    released = people.release[owner] != NO_VALUE
    p_stable = (
        0.58
        - np.where(released, 0.17, 0.0)
        + 0.16 * (1 - np.exp(-np.maximum(months_since, 0) / 6.0))
        + np.where(people.pilot[owner], 0.03, 0.0)
    )
    stable = (0.5 * standing + 0.5 * rng.random(m)) < 0.5 + (p_stable - 0.5) * 1.25
    unstable = choose(rng, np.array([0.55, 0.33, 0.12]), m) + 1  # transitional, homeless, institutional
    housing = np.where(stable, 0, unstable)
    # Most checks record both domains; some only one.
    recorded = choose(rng, np.array([0.72, 0.16, 0.12]), m)  # both, employment only, housing only
    employment = np.where(recorded == 2, -1, employment)
    housing = np.where(recorded == 1, -1, housing)

    supervisor = people.supervising_agency[owner]
    provider = np.array([agency_index(a) for a in _CHECK_PROVIDERS])[rng.integers(0, len(_CHECK_PROVIDERS), m)]
    agency = np.where((supervisor >= 0) & (rng.random(m) < 0.6), supervisor, provider)
    width = max(7, len(str(m)))
    return table_frame(
        "reintegration_checks",
        {
            "check_id": id_series("check_id", "RC", np.arange(1, m + 1), width),
            "participant_id": people.ids(owner),
            "agency_id": label_series("agency_id", AGENCY_IDS, agency),
            "check_date": date_series("check_date", day),
            "employment": label_series("employment", enum_values("reintegration_checks", "employment"), employment),
            "housing": label_series("housing", enum_values("reintegration_checks", "housing"), housing),
        },
    )


def _quarter_start(day: int) -> int:
    d = EPOCH + dt.timedelta(days=int(day))
    return day_number(dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1))


def _next_quarter(day: int) -> int:
    d = EPOCH + dt.timedelta(days=int(day))
    month = 3 * ((d.month - 1) // 3) + 4
    return day_number(dt.date(d.year + (month - 1) // 12, (month - 1) % 12 + 1, 1))


def program_costs_frame(people: People, seed: int, as_of: dt.date) -> pl.DataFrame:
    rng = stream_rng(seed, 21)
    asof = people.asof
    starts, ends = program_dates(as_of)
    enrolled = np.bincount(people.program, minlength=len(PROGRAMS))
    categories = enum_values("program_costs", "category")
    share = {"personnel": 0.58, "services": 0.27, "technology": 0.05, "training": 0.04, "other": 0.06}
    every_quarter = {"personnel", "services"}
    program: list[int] = []
    period_start: list[int] = []
    period_end: list[int] = []
    cents: list[int] = []
    category: list[int] = []
    for p in range(len(PROGRAMS)):
        last = asof if ends[p] == NO_VALUE else min(int(ends[p]), asof)
        months = max(1.0, (last - int(starts[p])) / DAYS_PER_MONTH)
        # about 1,400 a participant-year of the program's running time, half of it fixed
        quarterly = 1400.0 * enrolled[p] * 12 / months / 4 * 1.6
        q = _quarter_start(int(starts[p]))
        licence_year = -1
        while q <= last:
            q_end = _next_quarter(q) - 1
            lo = max(q, int(starts[p]))
            hi = q_end if ends[p] == NO_VALUE else min(q_end, int(ends[p]))
            part = (hi - lo + 1) / (q_end - q + 1)
            for c, name in enumerate(categories):
                if name == "technology":
                    continue  # an annual licence, below
                if name not in every_quarter and rng.random() < 0.45:
                    continue
                amount = quarterly * share[name] * part * rng.normal(1.0, 0.07)
                program.append(p)
                period_start.append(lo)
                period_end.append(hi)
                cents.append(max(0, int(round(amount * 100))))
                category.append(c if not (name == "other" and rng.random() < 0.3) else -1)
            year = (EPOCH + dt.timedelta(days=q)).year
            if year != licence_year:  # a year's licence, bought in the year's first quarter of running
                licence_year = year
                begin = lo
                stop = begin + 364
                if ends[p] != NO_VALUE:
                    stop = min(stop, int(ends[p]))
                program.append(p)
                period_start.append(begin)
                period_end.append(stop)
                cents.append(int(round(quarterly * 4 * share["technology"] * rng.normal(1.0, 0.05) * 100)))
                category.append(categories.index("technology"))
            q = _next_quarter(q)
    m = len(program)
    return table_frame(
        "program_costs",
        {
            "cost_id": id_series("cost_id", "CO", np.arange(1, m + 1), 5),
            "program_id": label_series("program_id", PROGRAM_IDS, np.array(program, dtype=np.int64)),
            "period_start": date_series("period_start", np.array(period_start, dtype=np.int64)),
            "period_end": date_series("period_end", np.array(period_end, dtype=np.int64)),
            "amount": _money("amount", np.array(cents, dtype=np.int64)),
            "category": label_series("category", categories, np.array(category, dtype=np.int64)),
        },
    )


def staffing_frame(people: People, seed: int, as_of: dt.date) -> pl.DataFrame:
    rng = stream_rng(seed, 22)
    asof = people.asof
    supervised = ~people.unsupervised
    agency_ids: list[str] = []
    months: list[int] = []
    fte_hundredths: list[int] = []
    for agency_id in _SUPERVISING_AGENCIES:
        mine = supervised & (people.supervising_agency == agency_index(agency_id))
        enrolled, exited = people.enrollment[mine], people.exit[mine]
        fte = -1.0
        for k in range(37):
            month = months_before(as_of, 36 - k)
            if month > asof:
                break
            nxt = months_before(as_of, 35 - k)
            last_day = min(nxt - 1, asof)
            active = int(np.sum((enrolled <= last_day) & ((exited == NO_VALUE) | (exited > last_day))))
            wanted = max(0.5, active / _TARGET_CASELOAD[agency_id])
            if fte < 0:
                fte = round(wanted * 2) / 2
            else:
                # hires and departures come in steps, and trail the caseload
                step = rng.random()
                if step < 0.12:
                    fte = max(0.0, fte - rng.choice([0.5, 1.0]))
                elif step < 0.30 or wanted > fte + 1.0:
                    fte = fte + rng.choice([0.5, 1.0])
                elif wanted < fte - 1.5:
                    fte = fte - 0.5
            value = fte
            if k == 20 and agency_id == "A05":
                value = 0.0  # the unit's only officers left together: a vacancy month
            elif rng.random() < 0.15:
                value = max(0.0, fte - rng.choice([0.2, 0.4, 0.6]))  # part-time cover, leave, training
            agency_ids.append(agency_id)
            months.append(month)
            fte_hundredths.append(int(round(value * 100)))
    return table_frame(
        "staffing",
        {
            "agency_id": pl.Series("agency_id", agency_ids, dtype=pl.String),
            "month": date_series("month", np.array(months, dtype=np.int64)),
            "officers_fte": _money("officers_fte", np.array(fte_hundredths, dtype=np.int64)),
        },
    )


# Over 80 lines on purpose: seeded generator: one random stream drawn in a fixed order; splitting it risks
# changing the bytes of the pinned sample.
def surveys_frame(people: People, seed: int, as_of: dt.date) -> pl.DataFrame:
    rng = stream_rng(seed, 23)
    asof = people.asof
    starts, ends = program_dates(as_of)
    co_response_start = int(starts[PROGRAM_IDS.index(_CO_RESPONSE_PROGRAM)])
    co_response_agency = agency_index(next(p[3] for p in PROGRAMS if p[0] == _CO_RESPONSE_PROGRAM))
    questions = enum_values("surveys", "question")
    respondents = enum_values("surveys", "respondent_type")
    rows_day: list[np.ndarray] = []
    rows_type: list[np.ndarray] = []
    rows_question: list[np.ndarray] = []
    rows_mean: list[np.ndarray] = []
    rows_program: list[np.ndarray] = []
    rows_agency: list[np.ndarray] = []
    rows_participant: list[np.ndarray] = []

    def add(day: np.ndarray, rtype: str, question: str, mean: np.ndarray, program: np.ndarray,
            agency: np.ndarray, participant: np.ndarray) -> None:
        k = len(day)
        rows_day.append(day)
        rows_type.append(np.full(k, respondents.index(rtype)))
        rows_question.append(np.full(k, questions.index(question)))
        rows_mean.append(np.broadcast_to(mean, (k,)).astype(float))
        rows_program.append(np.broadcast_to(program, (k,)).astype(np.int64))
        rows_agency.append(np.broadcast_to(agency, (k,)).astype(np.int64))
        rows_participant.append(np.broadcast_to(participant, (k,)).astype(np.int64))

    # Residents, in quarterly community waves over four years, about each police agency.
    waves = [months_before(as_of, 48 - 3 * w) for w in range(17)]
    for wave in waves:
        if wave > asof:
            continue
        for police in ("A01", "A02"):
            a = agency_index(police)
            k = int(rng.integers(35, 55))
            day = np.minimum(wave + rng.integers(0, 28, k), asof)
            months_in = (day - co_response_start) / DAYS_PER_MONTH
            rise = np.where((a == co_response_agency) & (months_in > 0), 0.75 * np.minimum(months_in / 24.0, 1.0), 0.0)
            program = np.where(
                (a == co_response_agency) & (day >= co_response_start) & (rng.random(k) < 0.5),
                PROGRAM_IDS.index(_CO_RESPONSE_PROGRAM),
                -1,
            )
            add(day, "resident", "trust", 2.85 + rise, program, np.full(k, a), np.full(k, -1))
            add(day, "resident", "safety", 3.05 + 0.3 * rise, program, np.full(k, a), np.full(k, -1))
    # Participants: about a third answer once while enrolled.
    asked = (rng.random(people.n) < 0.33) & ~people.in_custody
    who = np.flatnonzero(asked)
    lo = people.enrollment[who] + 30
    hi = np.minimum(people.window_end[who], people.alive_until[who])
    keep = hi >= lo
    who, lo, hi = who[keep], lo[keep], hi[keep]
    day = uniform_days(rng, lo, hi, len(who))
    pilot = people.pilot[who]
    named = np.where(rng.random(len(who)) < 0.7, people.program[who], -1)  # else known through the participant
    agency = np.where(rng.random(len(who)) < 0.6, people.supervising_agency[who], -1)
    add(day, "participant", "satisfaction", np.where(pilot, 3.75, 3.35), named, agency, who)
    add(day, "participant", "trust", np.where(pilot, 3.3, 3.0), named, agency, who)
    # Staff and partners, per program, in the waves while the program runs.
    for p, program_row in enumerate(PROGRAMS):
        lead = agency_index(program_row[3])
        for wave in waves:
            if wave < starts[p] or wave > asof or (ends[p] != NO_VALUE and wave > ends[p]):
                continue
            k = int(rng.integers(4, 9))
            day = np.minimum(wave + rng.integers(0, 28, k), asof)
            months_running = (wave - starts[p]) / DAYS_PER_MONTH
            settle = 0.4 * min(months_running / 18.0, 1.0)  # coordination improves as the partnership settles
            add(day, "staff", "coordination", np.full(k, 3.1 + settle), np.full(k, p), np.full(k, lead),
                np.full(k, -1))
            add(day, "staff", "satisfaction", np.full(k, 3.4), np.full(k, p), np.full(k, lead), np.full(k, -1))
            j = int(rng.integers(2, 5))
            partner_day = np.minimum(wave + rng.integers(0, 28, j), asof)
            partner = np.array([agency_index(a) for a in ("A07", "A09", "A10", "A12")])[rng.integers(0, 4, j)]
            partner = np.where(rng.random(j) < 0.2, -1, partner)
            add(partner_day, "partner", "coordination", np.full(j, 3.0 + settle), np.full(j, p), partner,
                np.full(j, -1))
    day = np.concatenate(rows_day)
    mean = np.concatenate(rows_mean)
    score = np.clip(np.rint(rng.normal(mean, 1.0)), 1, 5).astype(np.int64)
    order = np.argsort(day, kind="stable")
    m = len(day)
    participant = np.concatenate(rows_participant)[order]
    part_ids = people.ids(np.maximum(participant, 0))
    part_ids = pl.select(pl.when(pl.Series(participant >= 0)).then(part_ids).alias("participant_id")).to_series()
    width = max(7, len(str(m)))
    return table_frame(
        "surveys",
        {
            "response_id": id_series("response_id", "SR", np.arange(1, m + 1), width),
            "survey_date": date_series("survey_date", day[order]),
            "respondent_type": label_series("respondent_type", respondents, np.concatenate(rows_type)[order]),
            "question": label_series("question", questions, np.concatenate(rows_question)[order]),
            "score": pl.Series("score", score[order], dtype=pl.Int64),
            "program_id": label_series("program_id", PROGRAM_IDS, np.concatenate(rows_program)[order]),
            "agency_id": label_series("agency_id", AGENCY_IDS, np.concatenate(rows_agency)[order]),
            "participant_id": part_ids,
        },
    )
