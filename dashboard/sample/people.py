"""The sample's participants (one array per column) and their referrals and supervision
events (see :mod:`dashboard.sample`)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from dashboard.sample.common import (
    DAYS_PER_MONTH,
    NO_VALUE,
    choose,
    choose_rows,
    contract_weights,
    date_series,
    day_number,
    enum_code,
    enum_values,
    id_series,
    label_series,
    stream_rng,
    table_frame,
    uniform_days,
)
from dashboard.sample.reference import (
    AGENCY_IDS,
    PROGRAM_IDS,
    PROGRAM_SHARE,
    PROGRAMS,
    PROVIDER_BY_SERVICE,
    RACE_ETHNICITY,
    RACE_SHARE,
    SUPERVISION_BY_MODEL,
    SUPERVISOR_BY_TYPE,
    agency_index,
    program_dates,
)

# --- participants and their events ---------------------------------------------------


class People:
    """Per-participant arrays (codes and day numbers) shared by the child tables."""

    # Over 80 lines on purpose: seeded generator: one random stream drawn in a fixed order; splitting it risks
    # changing the bytes of the pinned sample.
    def __init__(self, n: int, seed: int, as_of: dt.date) -> None:
        rng = stream_rng(seed, 3)
        asof = day_number(as_of)
        self.n = n
        self.asof = asof
        self.program = choose(rng, PROGRAM_SHARE / PROGRAM_SHARE.sum(), n)
        model_of_program = np.array([enum_values("programs", "program_model").index(p[2]) for p in PROGRAMS])
        self.model = model_of_program[self.program]
        starts, ends = program_dates(as_of)
        last_enrol = np.where(ends[self.program] == NO_VALUE, asof, np.minimum(ends[self.program], asof))
        self.enrollment = uniform_days(rng, starts[self.program], last_enrol, n)

        c_pilot = enum_code("participants", "cohort", "pilot")
        self.cohort = choose(rng, contract_weights("participants", "cohort", {"pilot": 0.5, "comparison": 0.5}), n)
        self.pilot = self.cohort == c_pilot

        # Risk: the pilot enrolled slightly more high-risk people (so risk adjustment matters).
        p_risk = np.where(
            self.pilot[:, None],
            contract_weights("participants", "risk_level", {"low": 0.27, "moderate": 0.40, "high": 0.33})[None, :],
            contract_weights("participants", "risk_level", {"low": 0.32, "moderate": 0.40, "high": 0.28})[None, :],
        )
        self.risk = choose_rows(rng, p_risk)
        risk_names = enum_values("participants", "risk_level")

        # Supervision type by program model.
        models = enum_values("programs", "program_model")
        p_sup = np.stack([contract_weights("participants", "supervision_type", SUPERVISION_BY_MODEL[m]) for m in models])
        self.supervision = choose_rows(rng, p_sup[self.model])
        sup_names = enum_values("participants", "supervision_type")
        self.released_type = np.isin(
            self.supervision, [sup_names.index("parole"), sup_names.index("post_release")]
        )
        self.unsupervised = self.supervision == sup_names.index("none")

        # Supervising agency: by supervision type; "none" → the program's lead; 2% unrecorded.
        lead = np.array([agency_index(p[3]) for p in PROGRAMS])[self.program]
        sup_agency = np.array([agency_index(SUPERVISOR_BY_TYPE.get(t, "A01")) for t in sup_names])[self.supervision]
        sup_agency = np.where(self.unsupervised, lead, sup_agency)
        self.supervising_agency = np.where(rng.random(n) < 0.02, -1, sup_agency)

        # Release: release-planning programs enrol people before release; others shortly after it.
        release_planning = self.model == models.index("release_planning")
        before = uniform_days(rng, 14, 180, n)
        after = uniform_days(rng, 0, 60, n)
        release = np.where(release_planning, self.enrollment + before, self.enrollment - after)
        release = np.where(self.released_type & (release <= asof), release, NO_VALUE)
        self.release = release
        self.in_custody = self.released_type & (release == NO_VALUE)  # still inside at the as-of date

        # Reentry plan: mostly before release (85%), sometimes after (8%) or missing (7%).
        has_release = release != NO_VALUE
        plan_kind = choose(rng, np.array([0.85, 0.08, 0.07]), n)
        plan_before = release - uniform_days(rng, 1, 60, n)
        plan_after = release + uniform_days(rng, 1, 30, n)
        plan = np.select([plan_kind == 0, plan_kind == 1], [plan_before, plan_after], NO_VALUE)
        # Still in custody: some plans are already written.
        plan_inside = self.enrollment + uniform_days(rng, 0, np.maximum(asof - self.enrollment, 0), n)
        plan = np.where(has_release, plan, np.where(self.in_custody & (rng.random(n) < 0.6), plan_inside, NO_VALUE))
        self.reentry_plan = np.where((plan != NO_VALUE) & (plan <= asof), plan, NO_VALUE)

        self.index = np.where(has_release, release, self.enrollment)

        # Demographics.
        self.sex = choose(
            rng, contract_weights("participants", "sex", {"female": 0.22, "male": 0.755, "other": 0.01, "unknown": 0.015}), n
        )
        self.sex = np.where(rng.random(n) < 0.01, -1, self.sex)
        self.race = choose(rng, RACE_SHARE / RACE_SHARE.sum(), n)
        self.race = np.where(rng.random(n) < 0.04, -1, self.race)
        age = np.rint(rng.normal(34, 10, n)).astype(np.int64)
        youth = self.unsupervised & (rng.random(n) < 0.08)  # diversion sees some teenagers
        age = np.where(youth, uniform_days(rng, 14, 17, n), np.clip(age, 18, 79))
        self.age = np.where(rng.random(n) < 0.02, NO_VALUE, age)

        # Exit: reason first (pilot completes more, high risk less), then the date.
        reason_names = enum_values("participants", "exit_reason")
        base = {
            "completed": 0.56,
            "revoked": 0.18,
            "absconded": 0.08,
            "transferred": 0.08,
            "deceased": 0.01,
            "other": 0.09,
        }
        pw = np.tile(contract_weights("participants", "exit_reason", base), (n, 1))
        i_completed = reason_names.index("completed")
        i_revoked = reason_names.index("revoked")
        i_absconded = reason_names.index("absconded")
        shift = np.where(self.pilot, 0.10, -0.04) - np.array([0.0, 0.05, 0.12])[self.risk]
        pw[:, i_completed] = np.clip(pw[:, i_completed] + shift, 0.05, None)
        pw[:, i_revoked] *= np.where(self.pilot, 0.75, 1.0) * np.array([0.7, 1.0, 1.4])[self.risk]
        pw[:, i_absconded] *= np.array([0.7, 1.0, 1.3])[self.risk]
        reason = choose_rows(rng, pw)
        # Nobody is "revoked" from a program without supervision: record those as "other".
        reason = np.where(self.unsupervised & (reason == i_revoked), reason_names.index("other"), reason)
        completed = reason == i_completed
        span = np.where(
            self.unsupervised,
            uniform_days(rng, 60, 300, n),
            np.where(completed, uniform_days(rng, 270, 540, n), uniform_days(rng, 30, 420, n)),
        )
        exit_day = np.maximum(self.enrollment, self.index) + span
        exits = (exit_day <= asof) & ~self.in_custody
        self.exit = np.where(exits, exit_day, NO_VALUE)
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
        return table_frame(
            "participants",
            {
                "participant_id": id_series("participant_id", "PT", np.arange(1, self.n + 1), width),
                "program_id": label_series("program_id", PROGRAM_IDS, self.program),
                "supervising_agency_id": label_series("supervising_agency_id", AGENCY_IDS, self.supervising_agency),
                "cohort": label_series("cohort", enum_values("participants", "cohort"), self.cohort),
                "enrollment_date": date_series("enrollment_date", self.enrollment),
                "release_date": date_series("release_date", self.release),
                "reentry_plan_date": date_series("reentry_plan_date", self.reentry_plan),
                "supervision_type": label_series("supervision_type", enum_values("participants", "supervision_type"), self.supervision),
                "risk_level": label_series("risk_level", self.risk_names, self.risk),
                "sex": label_series("sex", enum_values("participants", "sex"), self.sex),
                "race_ethnicity": label_series("race_ethnicity", RACE_ETHNICITY, self.race),
                "age_at_enrollment": pl.select(
                    pl.when(pl.Series(self.age != NO_VALUE)).then(pl.Series(np.where(self.age == NO_VALUE, 0, self.age)))
                    .alias("age_at_enrollment")
                ).to_series().cast(pl.Int64),
                "exit_date": date_series("exit_date", self.exit),
                "exit_reason": label_series("exit_reason", enum_values("participants", "exit_reason"), self.exit_reason),
            },
        )

    def ids(self, rows: np.ndarray) -> pl.Series:
        width = max(7, len(str(self.n)))
        return id_series("participant_id", "PT", rows + 1, width)


def expand(counts: np.ndarray) -> np.ndarray:
    """Participant row index repeated ``counts`` times (the owner of each child row)."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


# Over 80 lines on purpose: seeded generator: one random stream drawn in a fixed order; splitting it risks
# changing the bytes of the pinned sample.
def referrals_frame(people: People, seed: int) -> pl.DataFrame:
    """Referrals with statuses as they stand at the as-of date.

    Each referral has an intended path (complete, decline, no-show, close
    unsuccessfully) and delays; its status is where that path stands at the
    as-of date, so every date the status requires is set and none is later
    than the as-of date.
    """
    rng = stream_rng(seed, 4)
    asof = people.asof
    rate = np.where(people.pilot, 2.0, 1.1) * np.where(people.unsupervised, 0.8, 1.0)
    counts = rng.poisson(rate)
    owner = expand(counts)
    m = len(owner)
    start = people.enrollment[owner]
    end = np.minimum(people.window_end[owner], people.alive_until[owner])
    referral = uniform_days(rng, start, end, m)

    service_names = enum_values("referrals", "service_type")
    service = choose(
        rng,
        contract_weights(
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
        options = np.array([agency_index(a) for a in PROVIDER_BY_SERVICE.get(name, ("A08",))])
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
    path = choose_rows(rng, p_path)
    accepted = referral + uniform_days(rng, 0, 14, m)
    decided = referral + uniform_days(rng, 1, 21, m)  # declined on this day
    service_start = accepted + uniform_days(rng, 0, 30, m)
    completed = service_start + uniform_days(rng, 30, 150, m)
    no_show_known = accepted + 14
    closed = service_start + uniform_days(rng, 10, 120, m)

    st = {s: enum_code("referrals", "status", s) for s in enum_values("referrals", "status")}
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
    return table_frame(
        "referrals",
        {
            "referral_id": id_series("referral_id", "RF", np.arange(1, m + 1), width),
            "participant_id": people.ids(owner),
            "referring_agency_id": label_series("referring_agency_id", AGENCY_IDS, referring),
            "provider_agency_id": label_series("provider_agency_id", AGENCY_IDS, providers),
            "service_type": label_series("service_type", service_names, service),
            "referral_date": date_series("referral_date", referral),
            "accepted_date": date_series("accepted_date", np.where(has_accepted, accepted, NO_VALUE)),
            "service_start_date": date_series("service_start_date", np.where(has_start, service_start, NO_VALUE)),
            "completed_date": date_series("completed_date", np.where(has_completed, completed, NO_VALUE)),
            "status": label_series("status", enum_values("referrals", "status"), status),
        },
    )


# Over 80 lines on purpose: seeded generator: one random stream drawn in a fixed order; splitting it risks
# changing the bytes of the pinned sample.
def supervision_frame(people: People, seed: int) -> pl.DataFrame:
    """Supervision contacts over each person's window under supervision.

    Supervised people have an intake check-in on their index date and about
    0.6 further events a month until exit (or the as-of date); people with no
    supervision (diversion) have one to three voluntary events recorded by the
    program's lead agency; people still in custody have one in-custody
    treatment session, so nobody draws the "no supervision events" warning.
    A rare 0.3% of exited people have one court appearance a few days after
    exit (an enrollment-window warning, as real extracts have).
    """
    rng = stream_rng(seed, 5)
    asof = people.asof
    n = people.n
    start = np.where(people.in_custody, people.enrollment, np.maximum(people.index, people.enrollment))
    end = np.minimum(people.window_end, people.alive_until)
    months = (end - start + 1) / DAYS_PER_MONTH
    supervised = ~people.unsupervised & ~people.in_custody
    extra = np.where(supervised, np.minimum(rng.poisson(0.6 * months), 24), 0)
    extra = np.where(people.unsupervised, rng.integers(0, 3, n), extra)
    late = (people.exit != NO_VALUE) & ~people.deceased & (rng.random(n) < 0.003)
    late_day = people.exit + uniform_days(rng, 1, 20, n)
    late &= late_day <= asof
    counts = 1 + extra + late.astype(np.int64)
    owner = expand(counts)
    m = len(owner)
    # Position of each row within its owner's events: 0 = intake, last = late event if any.
    first_row = np.cumsum(counts) - counts
    pos = np.arange(m, dtype=np.int64) - first_row[owner]
    is_intake = pos == 0
    is_late = late[owner] & (pos == counts[owner] - 1)

    day = uniform_days(rng, start[owner], end[owner], m)
    day = np.where(is_intake, start[owner], day)
    day = np.where(is_late, late_day[owner], day)

    type_names = enum_values("supervision_events", "event_type")
    etype = choose(
        rng,
        contract_weights(
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
    out_names = enum_values("supervision_events", "outcome")
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
    outcome = choose_rows(rng, p)

    # Agency: the supervising agency; unrecorded supervisor or no supervision → the program lead;
    # in custody → corrections.
    sup = people.supervising_agency[owner]
    agency = np.where(sup >= 0, sup, people.lead[owner])
    agency = np.where(custody, agency_index("A05"), agency)
    agency = np.where(is_late, agency_index("A06"), agency)
    width = max(8, len(str(m)))
    return table_frame(
        "supervision_events",
        {
            "event_id": id_series("event_id", "SE", np.arange(1, m + 1), width),
            "participant_id": people.ids(owner),
            "agency_id": label_series("agency_id", AGENCY_IDS, agency),
            "event_date": date_series("event_date", day),
            "event_type": label_series("event_type", type_names, etype),
            "required": pl.Series("required", required, dtype=pl.Boolean),
            "outcome": label_series("outcome", out_names, outcome),
        },
    )
