"""Hand-computed fixtures for the partnership views (dashboard.metrics.partnerships).

As-of 2024-06-30 throughout; the arithmetic is in the comments. Suppression is
off (min_cell_size=0) except in the tests named for it, which use k = 11.
"""

from __future__ import annotations

import datetime as dt
import math
from itertools import count
from typing import Any

import polars as pl
import pytest

from dashboard.metrics import partnerships as P
from dashboard.metrics.tables import Filters, Tables

AS_OF = dt.date(2024, 6, 30)
D = dt.date
K = 11
_ids = count(1)


def person(pid: str, program: str, cohort: str = "pilot") -> dict[str, Any]:
    return {"participant_id": pid, "program_id": program, "supervising_agency_id": "A1", "cohort": cohort,
            "enrollment_date": D(2023, 1, 1), "supervision_type": "probation", "risk_level": "low"}


PEOPLE = [person("pa", "P1"), person("pb", "P2", "comparison")]


def referral(status: str, day: dt.date, provider: str = "A2", referring: str = "A1", pid: str = "pa") -> dict[str, Any]:
    """A referral; the secondary dates its status requires are filled (they are not used by these views)."""
    started = status in ("in_service", "completed")
    accepted = status in ("accepted", "in_service", "completed")
    return {
        "referral_id": f"r{next(_ids)}", "participant_id": pid, "referring_agency_id": referring,
        "provider_agency_id": provider, "service_type": "housing", "referral_date": day,
        "accepted_date": day if accepted else None, "service_start_date": day if started else None,
        "completed_date": day if status == "completed" else None, "status": status,
    }


def many(n: int, status: str, day: dt.date = D(2024, 3, 1), **kw: Any) -> list[dict[str, Any]]:
    return [referral(status, day, **kw) for _ in range(n)]


def cells(frame: pl.DataFrame, level: str, *columns: str) -> dict[tuple[Any, ...], tuple[int, bool]]:
    """{key: (count, suppressed)} of one level of a count view."""
    return {tuple(r[c] for c in columns): (r["count"], r["suppressed"])
            for r in frame.filter(pl.col("level") == level).iter_rows(named=True)}


def hidden(frame: pl.DataFrame) -> set[tuple[Any, ...]]:
    keys = [c for c in frame.columns if c not in ("count", "suppressed")]
    return {tuple(r[c] for c in keys) for r in frame.filter(pl.col("suppressed")).iter_rows(named=True)}


# --- 1. referral flow ---------------------------------------------------------------------------


@pytest.fixture
def flow_tables() -> Tables:
    return Tables.from_frames(participants=PEOPLE, referrals=[
        referral("completed", D(2024, 1, 10)),                     # A1 -> A2 completed
        referral("declined", D(2024, 2, 1)),                       # A1 -> A2 unsuccessful
        referral("pending", D(2024, 3, 1)),                        # A1 -> A2 open
        referral("no_show", D(2024, 3, 5), provider="A3"),         # A1 -> A3 unsuccessful
        referral("in_service", D(2024, 4, 1), referring="A4", pid="pb"),           # A4 -> A2 open
        referral("closed_unsuccessful", D(2023, 12, 1), referring="A4", pid="pb"),  # A4 -> A2 unsuccessful
        referral("completed", D(2024, 7, 5)),                      # after the as-of date: left out
    ])


def test_referral_flow_counts_routes_and_outcomes(flow_tables: Tables) -> None:
    flow = P.referral_flow(flow_tables, Filters(as_of=AS_OF), min_cell_size=0)
    # 7 referrals − 1 dated after the as-of = 6
    assert cells(flow, "total") == {(): (6, False)}
    # A1->A2: r1, r2, r3 = 3; A1->A3: r4 = 1; A4->A2: r5, r6 = 2 (3 + 1 + 2 = 6)
    assert cells(flow, "pair", "referring_agency_id", "provider_agency_id") == {
        ("A1", "A2"): (3, False), ("A1", "A3"): (1, False), ("A4", "A2"): (2, False),
    }
    # declined, no_show and closed_unsuccessful are "unsuccessful"; pending and in_service "open"
    assert cells(flow, "cell", "referring_agency_id", "provider_agency_id", "outcome") == {
        ("A1", "A2", "completed"): (1, False), ("A1", "A2", "unsuccessful"): (1, False),
        ("A1", "A2", "open"): (1, False), ("A1", "A3", "unsuccessful"): (1, False),
        ("A4", "A2", "open"): (1, False), ("A4", "A2", "unsuccessful"): (1, False),
    }


def test_referral_flow_period_program_and_provider_filters(flow_tables: Tables) -> None:
    # From 2024-01-01 the 2023-12-01 referral goes: 6 − 1 = 5; A4->A2 keeps only the open one.
    flow = P.referral_flow(flow_tables, Filters(as_of=AS_OF, start=D(2024, 1, 1)), min_cell_size=0)
    assert cells(flow, "total") == {(): (5, False)}
    assert cells(flow, "pair", "referring_agency_id", "provider_agency_id")[("A4", "A2")] == (1, False)
    # The agency filter applies to the provider (a referral's agency): only r4 goes to A3.
    flow = P.referral_flow(flow_tables, Filters(as_of=AS_OF, agency_ids=("A3",)), min_cell_size=0)
    assert cells(flow, "total") == {(): (1, False)}
    # The program is the participant's: P2 is pb's, whose referrals are the two from A4.
    flow = P.referral_flow(flow_tables, Filters(as_of=AS_OF, program_ids=("P2",)), min_cell_size=0)
    assert cells(flow, "pair", "referring_agency_id", "provider_agency_id") == {("A4", "A2"): (2, False)}


def test_referral_flow_suppression_against_route_and_overall_totals() -> None:
    rows = (
        many(30, "completed") + many(12, "declined") + many(5, "pending")      # A1->A2: 47
        + many(20, "completed", provider="A3")                                 # A1->A3: 20
        + many(15, "no_show", referring="A4")                                  # A4->A2: 15
        + many(4, "completed", referring="A5")                                 # A5->A2: 4
    )
    flow = P.referral_flow(Tables.from_frames(participants=PEOPLE, referrals=rows), Filters(as_of=AS_OF),
                           min_cell_size=K)
    # Total 47 + 20 + 15 + 4 = 86, published.
    assert cells(flow, "total") == {(): (86, False)}
    # Primary: A5->A2 (4) and its one cell (4), A1->A2 open (5).
    # Routes vs the total: A5->A2 alone is hidden, so the smallest published route, A4->A2 (15), goes too
    # (else 86 − 47 − 20 − 15 = 4). A4->A2 hidden with its only cell published (15 = the route) hides that cell.
    # A1->A2's outcomes: open (5) alone hidden, so the smallest published outcome, unsuccessful (12), goes too
    # (else 47 − 30 − 12 = 5).
    assert hidden(flow) == {
        ("pair", "A5", "A2", None), ("cell", "A5", "A2", "completed"),
        ("pair", "A4", "A2", None), ("cell", "A4", "A2", "unsuccessful"),
        ("cell", "A1", "A2", "open"), ("cell", "A1", "A2", "unsuccessful"),
    }
    published = P.published_counts(flow)
    assert published.filter(pl.col("suppressed"))["count"].null_count() == 6
    # What stays: 47 (A1->A2), 20 (A1->A3), 30 (A1->A2 completed), 20 (A1->A3 completed).
    assert sorted(published.filter(~pl.col("suppressed") & (pl.col("level") != "total"))["count"].to_list()) == [
        20, 20, 30, 47
    ]


# --- 2. referrals without an agreement in force -------------------------------------------------


def agreement(program: str, agency: str, signed: dt.date, expires: dt.date | None = None,
              kind: str = "mou") -> dict[str, Any]:
    return {"agreement_id": f"g{next(_ids)}", "program_id": program, "agency_id": agency, "agreement_type": kind,
            "signed_date": signed, "expires_date": expires}


AGREEMENTS = [
    agreement("P1", "A2", D(2024, 1, 1), D(2024, 3, 31)),        # P1 with A2 from 1 Jan to 31 Mar 2024
    agreement("P2", "A2", D(2024, 5, 1), kind="data_sharing"),   # P2 with A2 from 1 May 2024, no expiry
    agreement("P1", "A3", D(2023, 1, 1), D(2023, 12, 31)),       # P1 with A3, expired at the end of 2023
]


def test_referrals_without_agreement_in_force_on_the_referral_date() -> None:
    tables = Tables.from_frames(participants=PEOPLE, agreements=AGREEMENTS, referrals=[
        referral("completed", D(2023, 12, 15)),               # P1->A2 before signing: without
        referral("completed", D(2024, 1, 1)),                 # signed that day: in force
        referral("completed", D(2024, 3, 31)),                # expires that day: still in force
        referral("completed", D(2024, 4, 1)),                 # the day after expiry: without
        referral("pending", D(2024, 4, 30), pid="pb"),        # P2->A2 the day before signing: without
        referral("pending", D(2024, 5, 1), pid="pb"),         # P2->A2 signed that day: in force
        referral("pending", D(2024, 2, 1), pid="pb"),         # P1's agreement with A2 does not cover P2: without
        referral("declined", D(2024, 2, 1), provider="A3"),   # P1->A3 expired: without
        referral("declined", D(2024, 2, 1), provider="A3", pid="pb"),  # P2 has no agreement with A3: without
        referral("declined", D(2024, 7, 1), provider="A3"),   # after the as-of date: left out
    ])
    view = P.referrals_without_agreement(tables, Filters(as_of=AS_OF), min_cell_size=0)
    # Without: (A2, P1) 2, (A2, P2) 2, (A3, P1) 1, (A3, P2) 1 → A2 4, A3 2, total 6.
    assert cells(view, "total") == {(): (6, False)}
    assert cells(view, "provider", "provider_agency_id") == {("A2",): (4, False), ("A3",): (2, False)}
    assert cells(view, "program_provider", "provider_agency_id", "program_id") == {
        ("A2", "P1"): (2, False), ("A2", "P2"): (2, False), ("A3", "P1"): (1, False), ("A3", "P2"): (1, False),
    }
    # Only provider and program ids leave the engine: never a referral or participant.
    assert not {"referral_id", "participant_id"} & set(view.columns)
    # The period applies to the referral date: from 2024-02-01, the 2023-12-15 and 2024-01-01 ones go → 6 − 1 = 5.
    view = P.referrals_without_agreement(tables, Filters(as_of=AS_OF, start=D(2024, 2, 1)), min_cell_size=0)
    assert cells(view, "total") == {(): (5, False)}


def test_referrals_without_agreement_suppression() -> None:
    rows = (
        many(15, "completed", day=D(2024, 6, 1), provider="A3")              # P1->A3 expired: 15 without
        + many(3, "completed", day=D(2024, 4, 15), provider="A2", pid="pb")   # P2->A2 before May: 3 without
        + many(12, "completed", day=D(2024, 6, 1), provider="A4")            # P1->A4 no agreement: 12 without
    )
    tables = Tables.from_frames(participants=PEOPLE, agreements=AGREEMENTS, referrals=rows)
    view = P.referrals_without_agreement(tables, Filters(as_of=AS_OF), min_cell_size=K)
    # Total 15 + 3 + 12 = 30; providers A3 15, A2 3, A4 12.
    # Primary: A2 (3) and its one cell (A2, P2) 3. Providers vs total: A2 alone hidden → the smallest
    # published provider, A4 (12), goes too (else 30 − 15 − 12 = 3); A4's only cell (12) then goes with it.
    assert cells(view, "total") == {(): (30, False)}
    assert hidden(view) == {("provider", "A2", None), ("program_provider", "A2", "P2"),
                            ("provider", "A4", None), ("program_provider", "A4", "P1")}
    assert cells(view, "provider", "provider_agency_id")[("A3",)] == (15, False)


# --- 3. open referrals by age -----------------------------------------------------------------------


def test_open_referrals_by_age_bands_and_provider() -> None:
    tables = Tables.from_frames(participants=PEOPLE, referrals=[
        referral("pending", D(2024, 6, 30)),                  # 0 days → 0-30
        referral("accepted", D(2024, 5, 31)),                 # 30 days → 0-30
        referral("in_service", D(2024, 5, 30)),               # 31 days → 31-60
        referral("accepted", D(2024, 5, 1), provider="A3"),   # 30 (May) + 30 (June) = 60 days → 31-60
        referral("pending", D(2024, 4, 1)),                   # 29 + 31 + 30 = 90 days → 61-90
        referral("pending", D(2024, 3, 31), provider="A3"),   # 91 days → 91-180
        referral("in_service", D(2024, 1, 2), provider="A3"),  # 29 + 29 (leap Feb) + 31 + 30 + 31 + 30 = 180 → 91-180
        referral("pending", D(2024, 1, 1)),                   # 181 days → >180
        referral("completed", D(2023, 1, 1)),                 # closed: not open
        referral("no_show", D(2024, 6, 1)),                   # closed: not open
        referral("pending", D(2024, 7, 1)),                   # after the as-of date: left out
    ])
    view = P.open_referrals_by_age(tables, Filters(as_of=AS_OF), min_cell_size=0)
    assert cells(view, "total") == {(): (8, False)}
    # A2: 0, 30, 31, 90, 181 days = 5; A3: 60, 91, 180 days = 3
    assert cells(view, "provider", "provider_agency_id") == {("A2",): (5, False), ("A3",): (3, False)}
    assert cells(view, "band", "age_band") == {
        ("0-30",): (2, False), ("31-60",): (2, False), ("61-90",): (1, False), ("91-180",): (2, False),
        (">180",): (1, False),
    }
    assert cells(view, "provider_band", "provider_agency_id", "age_band") == {
        ("A2", "0-30"): (2, False), ("A2", "31-60"): (1, False), ("A2", "61-90"): (1, False),
        ("A2", ">180"): (1, False), ("A3", "31-60"): (1, False), ("A3", "91-180"): (2, False),
    }
    # Bands come out in age order, not string order.
    bands = view.filter(pl.col("level") == "band")["age_band"].to_list()
    assert bands == list(P.OPEN_AGE_BAND_LABELS)
    # A later as-of date ages every open referral: on 2024-07-31 the 0-day one is 31 days old.
    later = P.open_referrals_by_age(tables, Filters(as_of=D(2024, 7, 31)), min_cell_size=0)
    # ... and the 2024-07-01 pending referral (30 days) now counts: 8 + 1 = 9.
    assert cells(later, "total") == {(): (9, False)}


def test_open_referrals_by_age_suppression_across_providers_and_bands() -> None:
    rows = (
        many(20, "pending", day=D(2024, 6, 20))                      # A2, 10 days → 0-30: 20
        + many(12, "accepted", day=D(2024, 5, 20))                   # A2, 41 days → 31-60: 12
        + many(15, "pending", day=D(2024, 6, 20), provider="A3")     # A3, 0-30: 15
        + many(4, "in_service", day=D(2023, 6, 1), provider="A3")    # A3, >180: 4
    )
    view = P.open_referrals_by_age(Tables.from_frames(participants=PEOPLE, referrals=rows), Filters(as_of=AS_OF),
                                   min_cell_size=K)
    # Total 51; providers A2 32, A3 19; bands 0-30 35, 31-60 12, >180 4.
    # Primary: (A3, >180) 4 and band >180 4.
    # A3's bands: >180 alone hidden → (A3, 0-30) 15 goes (19 − 15 = 4 otherwise).
    # Bands vs total: >180 alone hidden → the smallest published band, 31-60 (12), goes.
    # Band 0-30: (A3, 0-30) alone hidden → (A2, 0-30) 20 goes.
    # Band 31-60 (hidden) with its only cell (A2, 31-60) 12 published → that cell goes.
    assert hidden(view) == {
        ("provider_band", "A3", ">180"), ("band", None, ">180"), ("provider_band", "A3", "0-30"),
        ("band", None, "31-60"), ("provider_band", "A2", "0-30"), ("provider_band", "A2", "31-60"),
    }
    assert cells(view, "total") == {(): (51, False)}
    assert cells(view, "provider", "provider_agency_id") == {("A2",): (32, False), ("A3",): (19, False)}
    assert cells(view, "band", "age_band")[("0-30",)] == (35, False)


# --- 4. co-responder share --------------------------------------------------------------------------


def contact(co: bool, day: dt.date = D(2024, 2, 10), agency: str = "A3", pid: str | None = None) -> dict[str, Any]:
    return {"contact_id": f"k{next(_ids)}", "agency_id": agency, "program_id": None, "participant_id": pid,
            "contact_date": day, "contact_type": "crisis_call", "co_responder": co, "outcome": "resolved_on_scene"}


def wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054
    centre = (k + z * z / 2) / (n + z * z)
    half = z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


def test_co_responder_share_overall_by_agency_and_quarter() -> None:
    tables = Tables.from_frames(participants=PEOPLE, police_contacts=[
        contact(True), contact(True), contact(False, day=D(2024, 4, 5)),   # A3: 2 of 3
        contact(False, agency="A4", pid="pb"),                             # A4: 0 of 1
        contact(True, day=D(2024, 7, 1)),                                  # after the as-of date: left out
    ])
    overall = P.co_responder_share(tables, Filters(as_of=AS_OF), min_cell_size=0)
    row = overall.row(0, named=True)
    # 2 co-responder contacts of 4 = 0.5. Wilson, z = 1.96: centre (2 + 1.9207)/(4 + 3.8415) = 0.5;
    # half = 1.96 · sqrt(2·2/4 + 0.9604)/7.8415 = 1.96 · 1.40013/7.8415 = 0.34996 → [0.15004, 0.84996]
    assert (row["numerator"], row["denominator"], row["value"]) == (2, 4.0, 0.5)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.15004, 0.84996), abs=1e-5)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson_by_hand(2, 4))
    by_agency = P.co_responder_share(tables, Filters(as_of=AS_OF), ["agency_id"], min_cell_size=0)
    assert [(r["group"], r["numerator"], r["denominator"]) for r in by_agency.iter_rows(named=True)] == [
        ({"agency_id": None}, 2, 4.0), ({"agency_id": "A3"}, 2, 3.0), ({"agency_id": "A4"}, 0, 1.0),
    ]
    # 0 of 1: interval [0, 0.7935] (Wilson's upper end n/(n + z²)·... = 3.8415/4.8415)
    assert by_agency.row(2, named=True)["ci_high"] == pytest.approx(3.8414588 / 4.8414588)
    by_quarter = P.co_responder_share(tables, Filters(as_of=AS_OF), ["quarter"], min_cell_size=0)
    # Q1: the two 10 Feb A3 contacts and the A4 one → 2 of 3; Q2: 5 April → 0 of 1
    assert [(r["group"]["quarter"], r["numerator"], r["denominator"]) for r in by_quarter.iter_rows(named=True)][1:] == [
        ("2024-Q1", 2, 3.0), ("2024-Q2", 0, 1.0),
    ]
    # A participant filter keeps only contacts of matching participants: pb's one contact (0 of 1).
    filtered = P.co_responder_share(tables, Filters(as_of=AS_OF, cohorts=("comparison",)), min_cell_size=0)
    assert (filtered["numerator"][0], filtered["denominator"][0]) == (0, 1.0)
    with pytest.raises(ValueError, match="cannot break"):
        P.co_responder_share(tables, Filters(as_of=AS_OF), ["outcome"])


def test_co_responder_share_suppression() -> None:
    contacts = (
        [contact(True) for _ in range(12)] + [contact(False) for _ in range(18)]                           # A3: 12/30
        + [contact(True, agency="A4") for _ in range(5)] + [contact(False, agency="A4") for _ in range(15)]  # A4: 5/20
        + [contact(False, agency="A5") for _ in range(15)]                                                  # A5: 0/15
    )
    frame = P.co_responder_share(Tables.from_frames(police_contacts=contacts), Filters(as_of=AS_OF), ["agency_id"],
                                 min_cell_size=K)
    rows = {r["group"]["agency_id"]: r for r in frame.iter_rows(named=True)}
    # Overall 17/65 published. A4's numerator 5 is from 1 to 10: suppressed. A5's 0 is not (0 is publishable),
    # but with A4 alone hidden it would give A4 = 17 − 12 − 0: the smallest published agency, A5 (N 15), goes too.
    assert not rows[None]["suppressed"] and (rows[None]["numerator"], rows[None]["denominator"]) == (17, 65.0)
    assert [a for a, r in rows.items() if r["suppressed"]] == ["A4", "A5"]
    shown = P.published(frame)
    assert shown.filter(pl.col("suppressed"))["value"].null_count() == 2


# --- 5. agreement status ----------------------------------------------------------------------------


def test_agreement_status_and_counts_by_program_and_partner() -> None:
    tables = Tables.from_frames(agreements=[
        agreement("P1", "A2", D(2024, 1, 1)),                      # no expiry → in force
        agreement("P1", "A3", D(2023, 1, 1), D(2024, 9, 28)),      # 30 June + 90 days = 28 Sep → expiring
        agreement("P1", "A3", D(2023, 1, 1), D(2024, 9, 29)),      # 91 days → in force
        agreement("P2", "A2", D(2023, 1, 1), D(2024, 6, 29)),      # day before the as-of → expired
        agreement("P2", "A2", D(2023, 1, 1), D(2024, 6, 30)),      # expires on the as-of: in force that day → expiring
        agreement("P2", "A4", D(2024, 7, 1)),                      # signed after the as-of → not yet signed
    ])
    status = P.filtered_agreements(tables, Filters(as_of=AS_OF))["status"].to_list()
    assert status == [P.IN_FORCE, P.EXPIRING, P.IN_FORCE, P.EXPIRED, P.EXPIRING, P.NOT_YET_SIGNED]
    counts = P.agreement_status_counts(tables, Filters(as_of=AS_OF))
    assert cells(counts, "total", "status") == {
        (P.IN_FORCE,): (2, False), (P.EXPIRING,): (2, False), (P.EXPIRED,): (1, False), (P.NOT_YET_SIGNED,): (1, False),
    }
    assert cells(counts, "program", "program_id", "status") == {
        ("P1", P.IN_FORCE): (2, False), ("P1", P.EXPIRING): (1, False),
        ("P2", P.EXPIRING): (1, False), ("P2", P.EXPIRED): (1, False), ("P2", P.NOT_YET_SIGNED): (1, False),
    }
    assert cells(counts, "program_partner", "program_id", "agency_id", "status") == {
        ("P1", "A2", P.IN_FORCE): (1, False), ("P1", "A3", P.IN_FORCE): (1, False), ("P1", "A3", P.EXPIRING): (1, False),
        ("P2", "A2", P.EXPIRING): (1, False), ("P2", "A2", P.EXPIRED): (1, False),
        ("P2", "A4", P.NOT_YET_SIGNED): (1, False),
    }
    # The agency filter applies to the partner: A2 has 1 in force, 1 expiring, 1 expired, none unsigned (0 kept).
    only_a2 = P.agreement_status_counts(tables, Filters(as_of=AS_OF, agency_ids=("A2",)))
    assert cells(only_a2, "total", "status") == {
        (P.IN_FORCE,): (1, False), (P.EXPIRING,): (1, False), (P.EXPIRED,): (1, False), (P.NOT_YET_SIGNED,): (0, False),
    }
    # Agreements are between organisations: one agreement is not suppressed.
    assert not P.agreement_status_counts(tables, Filters(as_of=AS_OF))["suppressed"].any()


# --- cross-checks against the metric engine -----------------------------------------------------------


def test_views_select_the_same_records_as_the_engine(flow_tables: Tables) -> None:
    """The flow's total is the engine's referrals_made; the co-responder N is the diversion rate's N."""
    from dashboard.metrics.engine import compute_metrics, referral_counts

    for filters in (Filters(as_of=AS_OF), Filters(as_of=AS_OF, start=D(2024, 1, 1)), Filters(as_of=AS_OF, cohorts=("pilot",))):
        made = referral_counts(flow_tables, filters, min_cell_size=0).filter(pl.col("group_by").list.len() == 0)
        flow = P.referral_flow(flow_tables, filters, min_cell_size=0)
        assert cells(flow, "total") == {(): (int(made["denominator"][0]), False)}
    tables = Tables.from_frames(participants=PEOPLE, police_contacts=[
        contact(True), contact(False, agency="A4", pid="pb"), contact(True, day=D(2024, 7, 1)),
    ])
    diversion = compute_metrics(tables, Filters(as_of=AS_OF), min_cell_size=0, metric_ids=["police_diversion_rate"])
    share = P.co_responder_share(tables, Filters(as_of=AS_OF), ["agency_id"], min_cell_size=0)
    by_agency = diversion.filter(pl.col("group_by").list.join("+") == "agency_id")
    assert sorted(by_agency["denominator"].to_list()) == sorted(share["denominator"].to_list()[1:]) == [1.0, 1.0]


def test_views_match_a_row_by_row_count_on_random_data() -> None:
    """A second implementation: plain Python loops over random rows (seeded), no polars joins."""
    import random
    from collections import Counter

    rng = random.Random(4)
    statuses = ["pending", "accepted", "in_service", "completed", "declined", "no_show", "closed_unsuccessful"]
    people = [person(f"p{i}", rng.choice(["P1", "P2", "P3"])) for i in range(40)]
    agencies = ["A1", "A2", "A3", "A4"]
    refs = [referral(rng.choice(statuses), AS_OF - dt.timedelta(days=rng.randint(-20, 400)), provider=rng.choice(agencies),
                     referring=rng.choice(agencies), pid=rng.choice(people)["participant_id"]) for _ in range(300)]
    agrees = []
    for _ in range(8):
        signed = AS_OF - dt.timedelta(days=rng.randint(-30, 500))
        expires = None if rng.random() < 0.3 else signed + dt.timedelta(days=rng.randint(0, 300))
        agrees.append(agreement(rng.choice(["P1", "P2", "P3"]), rng.choice(agencies), signed, expires))
    tables = Tables.from_frames(participants=people, referrals=refs, agreements=agrees)
    program = {p["participant_id"]: p["program_id"] for p in people}
    kept = [r for r in refs if r["referral_date"] <= AS_OF]
    filters = Filters(as_of=AS_OF)

    group = {s: g for g, ss in P.OUTCOME_GROUPS.items() for s in ss}
    expected_flow = Counter((r["referring_agency_id"], r["provider_agency_id"], group[r["status"]]) for r in kept)
    got = cells(P.referral_flow(tables, filters, min_cell_size=0), "cell", "referring_agency_id", "provider_agency_id",
                "outcome")
    assert got == {key: (n, False) for key, n in expected_flow.items()}

    def covered(r: dict[str, Any]) -> bool:
        d = r["referral_date"]
        return any(a["program_id"] == program[r["participant_id"]] and a["agency_id"] == r["provider_agency_id"]
                   and a["signed_date"] <= d and (a["expires_date"] is None or d <= a["expires_date"]) for a in agrees)

    expected_uncovered = Counter((r["provider_agency_id"], program[r["participant_id"]]) for r in kept if not covered(r))
    got = cells(P.referrals_without_agreement(tables, filters, min_cell_size=0), "program_provider",
                "provider_agency_id", "program_id")
    assert got == {key: (n, False) for key, n in expected_uncovered.items()}

    def band(days: int) -> str:
        return next(label for label, low, high in P.OPEN_AGE_BANDS if days >= low and (high is None or days <= high))

    expected_open = Counter((r["provider_agency_id"], band((AS_OF - r["referral_date"]).days)) for r in kept
                            if r["status"] in P.OPEN_STATUSES)
    got = cells(P.open_referrals_by_age(tables, filters, min_cell_size=0), "provider_band", "provider_agency_id",
                "age_band")
    assert got == {key: (n, False) for key, n in expected_open.items()}


def test_co_responder_quarter_by_agency_is_protected_against_each_quarter_total() -> None:
    """2024-Q1: A3 30 contacts (20 with a co-responder), A4 5 contacts (5 with);
    2024-Q2: A3 20 contacts (15 with). Overall 40/55. The page shows the overall row, the
    agency rows, the quarter rows and the quarter x agency cells: one system.
    - agencies vs overall: A4 5/5 is below k = 11; A3 35/50 is its complement;
    - quarters vs overall: Q1 25/35, Q2 15/20, nothing withheld;
    - quarter x agency cells vs overall: (Q1, A4) 5/5 alone withheld -> one more cell:
      (Q2, A3) 15/20 is the smallest, but it is Q2's only cell (withholding it would withhold Q2,
      then Q1), while (Q1, A3) 20/30 sits in sets that already hold a withheld cell (Q1's, A3's)
      -> (Q1, A3). Then Q1's cells hold two, A3's cells two (A3 and (Q1, A3)), A4's cells two
      (A4 and (Q1, A4)): no set has exactly one withheld cell, and (Q2, A3) = Q2 is public anyway.
    Without (Q1, A3) withheld, 35 - 30 = 5 would give A4 away."""
    contacts = (
        [contact(i < 20, D(2024, 2, 10), "A3") for i in range(30)]
        + [contact(True, D(2024, 2, 10), "A4") for _ in range(5)]
        + [contact(i < 15, D(2024, 5, 10), "A3") for i in range(20)]
    )
    tables = Tables.from_frames(police_contacts=contacts)
    quarters = P.co_responder_share(tables, Filters(as_of=AS_OF), ["quarter"], min_cell_size=11)
    assert quarters.filter(pl.col("suppressed")).height == 0
    agencies = P.co_responder_share(tables, Filters(as_of=AS_OF), ["agency_id"], min_cell_size=11)
    assert {r["group"]["agency_id"]: r["suppressed"] for r in agencies.iter_rows(named=True) if r["group_by"]} == {
        "A3": True, "A4": True}
    two = P.co_responder_share(tables, Filters(as_of=AS_OF), ["quarter", "agency_id"], min_cell_size=11)
    flags = {(r["group"]["quarter"], r["group"]["agency_id"]): r["suppressed"]
             for r in two.iter_rows(named=True) if r["group_by"]}
    assert flags == {("2024-Q1", "A3"): True, ("2024-Q1", "A4"): True, ("2024-Q2", "A3"): False}
