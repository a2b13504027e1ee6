"""No suppressed cell can be worked out from what one view shows.

The attacks come from :mod:`viewer_attack`: gather every number one filter
setting publishes (``metrics`` JSON, ``evaluate`` JSON, every breakdown the
pages and chart-data downloads show, the co-responder views) and solve the
additive relations the definitions state exactly. The engine's own
disclosure module (:mod:`dashboard.metrics.disclosure`) is tested by hand
first.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import viewer_attack as V
from dashboard.metrics.disclosure import Cell, protect, recoverable_cells
from dashboard.metrics.breakdowns import metric_breakdown, metric_view
from dashboard.metrics.engine import metrics_json
from dashboard.metrics.suppression import AdditiveSet
from dashboard.metrics.tables import Filters, Tables
from dashboard.sample import generate_tables
from test_metrics_properties import AS_OF, extracts

D = dt.date


def _cell(den: float, num: int | None = None, *, fixed: bool | None = None, name: str = "") -> Cell:
    return Cell(num if num is not None else int(den), den, ((0, name),), fixed)


# --- the engine, by hand ------------------------------------------------------------------------


def test_recoverable_cells_sees_a_combination_of_sets() -> None:
    """A 2 x 2 table with its margins: rows r1 = a + b, r2 = c + d, columns c1 = a + c,
    c2 = b + d, and the total t. Withheld: a, b and r1 (every set holds two withheld cells or
    none, so no set gives one away alone). Yet t − r2 = r1 and c1 − c = a: both determined."""
    state = {"t": False, "r1": True, "r2": False, "c1": False, "c2": False,
             "a": True, "b": True, "c": False, "d": False}
    sets = [AdditiveSet("t", ("r1", "r2")), AdditiveSet("t", ("c1", "c2")),
            AdditiveSet("r1", ("a", "b")), AdditiveSet("r2", ("c", "d")),
            AdditiveSet("c1", ("a", "c")), AdditiveSet("c2", ("b", "d"))]
    assert set(recoverable_cells(sets, state)) == {"a", "b", "r1"}
    # Withholding c and d as well leaves a + b = r1, a + c = c1, b + d = c2, c + d = r2 with one
    # degree of freedom (add x to a and d, take it from b and c): nothing is determined.
    state.update(c=True, d=True, r2=True)
    state["r1"] = True
    assert recoverable_cells(sets, state) == []


def test_protect_closes_a_gap_no_single_set_shows() -> None:
    """The same table, k = 11: a = 5 is small; b = 30, c = 40, d = 25 (r1 = 35, r2 = 65,
    c1 = 45, c2 = 55, t = 100), all free. Set by set: rows vs total, columns vs total: nothing
    withheld. r1's cells {a, b}: a alone -> one more: b (its only other cell). r2's cells: none.
    c1's cells {a, c}: a alone -> c. c2's cells {b, d}: b alone -> d. r2's cells {c, d} now two.
    Every set holds 0 or 2 withheld cells and the exact check finds nothing determined."""
    cells = {"t": _cell(100), "r1": _cell(35), "r2": _cell(65), "c1": _cell(45), "c2": _cell(55),
             "a": _cell(5, name="a"), "b": _cell(30, name="b"), "c": _cell(40, name="c"), "d": _cell(25, name="d")}
    sets = [AdditiveSet("t", ("r1", "r2")), AdditiveSet("t", ("c1", "c2")),
            AdditiveSet("r1", ("a", "b")), AdditiveSet("r2", ("c", "d")),
            AdditiveSet("c1", ("a", "c")), AdditiveSet("c2", ("b", "d"))]
    flags = protect(cells, sets, 11)
    assert {c for c, hidden in flags.items() if hidden} == {"a", "b", "c", "d"}
    assert recoverable_cells(sets, flags) == []


def test_protect_never_changes_fixed_cells() -> None:
    """A total withheld elsewhere (fixed) over members 30 and 20 that publish on their own:
    exactly one cell of the set is withheld -> the member with the smallest denominator (20)."""
    cells = {"t": _cell(50, fixed=True), "m1": _cell(30, name="m1"), "m2": _cell(20, name="m2")}
    flags = protect(cells, [AdditiveSet("t", ("m1", "m2"))], 11)
    assert flags == {"t": True, "m1": False, "m2": True}
    # The published total stays published even when its only member is small: nothing to do.
    cells = {"t": _cell(5, fixed=False), "m": _cell(5, name="m")}
    assert protect(cells, [AdditiveSet("t", ("m",))], 11) == {"t": False, "m": True}
    assert protect(cells, [AdditiveSet("t", ("m",))], 0) == {"t": False, "m": False}


def _quarter_by_cohort(quarters: int) -> tuple[list[AdditiveSet[str]], dict[str, bool]]:
    """A quarter x cohort trend over ``quarters`` quarters: every two-key cell withheld, the quarter
    rows, the cohort rows and the overall row published. Quarter 0 has a pilot cell only."""
    sets: list[AdditiveSet[str]] = []
    state = {"all": False, "pilot": False, "comparison": False}
    for q in range(quarters):
        members = (f"{q}/pilot",) if q == 0 else (f"{q}/pilot", f"{q}/comparison")
        sets.append(AdditiveSet(f"q{q}", members))
        state[f"q{q}"] = False
        state.update(dict.fromkeys(members, True))
    cells = [c for c in state if "/" in c]
    sets += [AdditiveSet("all", tuple(cells)), AdditiveSet("all", tuple(f"q{q}" for q in range(quarters)))]
    sets += [AdditiveSet(c, tuple(m for m in cells if m.endswith("/" + c))) for c in ("pilot", "comparison")]
    return sets, state


def test_recoverable_cells_on_a_long_trend_stays_exact_and_small() -> None:
    """30,000 quarters (a stored as-of far in the future): 60,000 withheld cells in one connected
    group, which the dense solver held as a 60,000-column matrix per equation (about 14 GB). The
    quarter with one cohort gives its cell away (it equals the published quarter row); every
    other quarter's two cells move together (add x to one, take it from the other), so nothing else
    is determined — and publishing the quarter rows' pilot cells one by one never changes that."""
    sets, state = _quarter_by_cohort(30_000)
    assert recoverable_cells(sets, state) == ["0/pilot"]
    state["29999/comparison"] = False  # one more cell published: its pilot twin is now determined
    assert sorted(recoverable_cells(sets, state)) == ["0/pilot", "29999/pilot"]


def test_protect_on_a_long_trend() -> None:
    """protect over the same long trend (k = 11, every two-key cell small, totals large): the
    exact check sees the whole system (the step that once needed a dense matrix of every cell)."""
    sets, state = _quarter_by_cohort(20_000)
    cells = {c: (_cell(5, name=c) if "/" in c else _cell(10 ** 6, fixed=False)) for c in state}
    flags = protect(cells, sets, 11)
    assert all(flags[c] for c in cells if "/" in c) and not any(flags[c] for c in cells if "/" not in c)
    # 0/pilot equals its published quarter row: the fixed cells determine it, nothing can protect it.
    assert recoverable_cells(sets, flags) == ["0/pilot"]


systems = st.integers(2, 9).flatmap(lambda n: st.tuples(
    st.lists(st.tuples(st.integers(0, n - 1), st.lists(st.integers(0, n - 1), min_size=1, max_size=5)),
             min_size=1, max_size=8),
    st.lists(st.booleans(), min_size=n, max_size=n),
))


@settings(max_examples=300, deadline=None)
@given(systems)
def test_recoverable_cells_agrees_with_the_viewers_rational_solver(system) -> None:
    """Random small systems (cells repeated inside a set give coefficients other than ±1, a total
    may be one of its own members): the engine's sparse integer elimination finds exactly the
    withheld cells the attacker's independent rational RREF (viewer_attack.determined) finds."""
    raw_sets, hidden = system
    state = {f"c{i}": h for i, h in enumerate(hidden)}
    sets = [AdditiveSet(f"c{t}", tuple(f"c{m}" for m in ms)) for t, ms in raw_sets]
    expected = V.determined(state, [(s.total, list(s.members)) for s in sets])
    assert set(recoverable_cells(sets, state)) == expected


# --- the issue's reproduction ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_seed_5() -> Tables:
    return Tables.from_frames(**generate_tables(participants=3000, seed=5))


@pytest.mark.slow
def test_issue_reproduction_cohort_rows_are_safe_from_the_quarterly_trend(sample_seed_5: Tables) -> None:
    """3,000-participant sample, seed 5, --program P07 --end 2023-06-30: compliance overall 16/20
    is published with both cohort rows withheld; the compliance page's quarter x cohort trend used
    to show the only pilot quarter, 12/14, so comparison = 16 - 12 = 4 of 20 - 14 = 6. The trend
    now lists its complete grid: (2023-Q1, pilot), which holds no records, is listed and withheld
    like any small cell, so the pilot row is (2023-Q1, pilot) + 12 to a viewer, who cannot tell that
    the first term is 0, and 12/14 is published (see test_metrics_breakdown.py, the same case in small)."""
    f = Filters(as_of=D(2026, 6, 30), program_ids=("P07",), end=D(2023, 6, 30))
    rows = {(tuple(r["group_by"]), tuple(r["group"].values())): r
            for r in metrics_json(sample_seed_5, f, 11)["metrics"] if r["metric"] == "compliance_rate"}
    assert (rows[((), ())]["numerator"], rows[((), ())]["denominator"]) == (16, 20)
    assert rows[(("cohort",), ("pilot",))]["suppressed"] and rows[(("cohort",), ("comparison",))]["suppressed"]
    trend = metric_breakdown(sample_seed_5, f, "compliance_rate", ["quarter", "cohort"])
    pilot = [r for r in trend.iter_rows(named=True) if r["group_by"] and r["group"]["cohort"] == "pilot"]
    assert [(r["group"]["quarter"], r["numerator"], r["denominator"], r["suppressed"]) for r in pilot] == [
        ("2023-Q1", 0, 0.0, True), ("2023-Q2", 12, 14.0, False)]  # the engine's own numbers
    view = V.gather(sample_seed_5, f, 11)
    everything, metrics_only = V.recovered(view)
    assert everything == metrics_only == set()
    assert view.conflicts == [] and V.single_unknown_sets(view) == []


@pytest.mark.slow
@pytest.mark.parametrize("program", [None, "P01", "P04", "P07"])
@pytest.mark.parametrize("end", [None, D(2023, 6, 30), D(2024, 12, 31)])
def test_no_cell_recoverable_on_the_sample(sample_seed_5: Tables, program: str | None, end: dt.date | None) -> None:
    f = Filters(as_of=D(2026, 6, 30), program_ids=(program,) if program else (), end=end)
    view = V.gather(sample_seed_5, f, 11)
    everything, metrics_only = V.recovered(view)
    assert everything - metrics_only == set()
    assert view.conflicts == []
    assert V.single_unknown_sets(view) == []


# --- a residual leak found by a random run: what the list of cells gives away --------------------


def _participant(pid: str, cohort: str) -> dict[str, object]:
    return dict(participant_id=pid, program_id="P1", supervising_agency_id="A1", cohort=cohort,
                enrollment_date=D(2021, 1, 1), release_date=None, reentry_plan_date=None,
                supervision_type="probation", risk_level="high", sex="male", race_ethnicity=None,
                age_at_enrollment=30, exit_date=None, exit_reason=None)


def _referral(rid: str, pid: str, provider: str, day: dt.date) -> dict[str, object]:
    return dict(referral_id=rid, participant_id=pid, referring_agency_id="A1", provider_agency_id=provider,
                service_type="housing", referral_date=day, accepted_date=None,
                service_start_date=day + dt.timedelta(days=10), completed_date=None, status="in_service")


@pytest.fixture(scope="module")
def structure_example() -> tuple[Tables, Filters]:
    """The random run's example, cut down (median days to service, k = 2, period ending 2024-03-31):
    the comparison cohort's two referrals, both to agency A1, are each alone in their quarter
    (2021-Q1, 2021-Q3); the pilot cohort has one A1 referral in 2024-Q1 and two to A2. Published
    metrics rows: comparison 2, A1 3. Every breakdown cell is 1 and withheld, but each row is
    listed: quarter 2021-Q1 shows one cohort cell (comparison) and one agency cell (A1), so both
    equal the quarter — and A1 − comparison = the 2024-Q1 cell = 1."""
    tables = Tables.from_frames(
        participants=[_participant("pc", "comparison"), _participant("pp", "pilot")],
        referrals=[_referral("r1", "pc", "A1", D(2021, 1, 27)), _referral("r2", "pc", "A1", D(2021, 9, 20)),
                   _referral("r3", "pp", "A1", D(2024, 1, 19)), _referral("r4", "pp", "A2", D(2021, 6, 1)),
                   _referral("r5", "pp", "A2", D(2023, 5, 1))],
    )
    return tables, Filters(as_of=D(2024, 6, 30), end=D(2024, 3, 31))


@pytest.fixture(scope="module")
def structure_leak(structure_example: tuple[Tables, Filters]) -> V.View:
    tables, f = structure_example
    return V.gather(tables, f, 2, metrics=["median_days_to_service"], with_evaluation=False,
                    with_co_responder=False)


LEAKED = {("median_days_to_service", ("quarter",), ("2024-Q1",)),
          ("median_days_to_service", ("quarter", "cohort"), ("2024-Q1", "pilot")),
          ("median_days_to_service", ("quarter", "agency_id"), ("2024-Q1", "A1"))}
"""What the example gave away while a two-key breakdown listed only the cells that hold records."""


def _listed_only(view: V.View, example: tuple[Tables, Filters]) -> V.View:
    """The same view with the two-key cells that hold no records taken out (the old listing)."""
    frames = metric_view(*example, "median_days_to_service", min_cell_size=2)
    empty = {("median_days_to_service", by, tuple(r["group"][d] for d in by))
             for by, frame in frames.items() if len(by) == 2
             for r in frame.iter_rows(named=True) if r["group_by"] and r["denominator"] == 0}
    old = V.View()
    for key, withheld in view.hidden.items():
        if key not in empty:
            old.add(key, withheld, "old listing")
    return old


def test_the_two_key_breakdowns_list_their_complete_grid(
    structure_leak: V.View, structure_example: tuple[Tables, Filters]
) -> None:
    """Quarter x cohort and quarter x agency list every quarter present x every cohort / agency
    present; a cell with no records (2021-Q1 pilot, 2021-Q1 A2, ...) is withheld like any other,
    so the list of cells no longer says which quarters hold which cohorts or agencies. Listing
    only the cells with records (the old rule) still gives the example's cells away: the grid,
    not more suppression, closes it (see "Disclosure control across a view" in docs/metrics.md)."""
    view = structure_leak
    grids = ((("quarter", "cohort"), {"pilot", "comparison"}), (("quarter", "agency_id"), {"A1", "A2"}))
    for by, series in grids:
        keys = [key for key in view.hidden if key[1] == by]
        quarters = {key[2][0] for key in keys}
        assert quarters == {"2021-Q1", "2021-Q2", "2021-Q3", "2023-Q2", "2024-Q1"}
        grid = [("median_days_to_service", by, (q, v)) for q in quarters for v in series]
        assert sorted(keys) == sorted(grid)
        assert all(view.hidden[key] for key in keys)
    old = _listed_only(view, structure_example)
    everything, metrics_only = V.recovered(old)
    assert everything - metrics_only == LEAKED
    list_only = {key: (True if key[1] not in V._METRIC_GROUPINGS else withheld)
                 for key, withheld in view.hidden.items()}
    assert not LEAKED & V.determined(list_only, V.relations(view))


def test_the_residual_leak_example_discloses_nothing(structure_leak: V.View) -> None:
    everything, metrics_only = V.recovered(structure_leak)
    assert everything - metrics_only == set()
    assert structure_leak.conflicts == [] and V.single_unknown_sets(structure_leak) == []


# --- property tests: many small extracts and filter settings, attacked as a viewer would -----------

filter_settings = st.builds(
    Filters,
    as_of=st.just(AS_OF),
    start=st.none() | st.just(D(2022, 7, 1)),
    end=st.none() | st.just(D(2024, 3, 31)),
    program_ids=st.sampled_from([(), ("P1",)]),
    cohorts=st.sampled_from([(), ("pilot",)]),
)
ATTACK = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@ATTACK
@given(extracts(), filter_settings, st.integers(2, 12))
def test_no_withheld_cell_is_determined_by_one_view(tables: Tables, filters: Filters, k: int) -> None:
    """Every number one view publishes, every relation the definitions state, solved exactly:
    no withheld cell is determined beyond what the metrics rows on their own determine, no cell is
    withheld in one output and shown in another, and no additive set has exactly one withheld cell."""
    view = V.gather(tables, filters, k)
    everything, metrics_only = V.recovered(view)
    assert everything - metrics_only == set(), sorted(map(str, everything - metrics_only))
    assert view.conflicts == []
    assert V.single_unknown_sets(view) == []


COUNTED = ["compliance_rate", "violation_rate_per_100_pm", "police_diversion_rate", "median_days_to_service",
           "referral_completion_rate", "recidivism_rearrest_6m"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extracts(), filter_settings, st.integers(2, 12))
def test_primary_rule_holds_in_every_breakdown(tables: Tables, filters: Filters, k: int) -> None:
    """No published breakdown cell has a denominator below k or a numerator from 1 to k − 1, and
    each breakdown's first row is the metrics overall row, unchanged."""
    doc = {(r["metric"], tuple(r["group_by"])): r for r in metrics_json(tables, filters, k)["metrics"]
           if not r["group_by"]}
    for metric in COUNTED:
        view = metric_view(tables, filters, metric, min_cell_size=k)
        for by in view:
            rows = list(view[by].iter_rows(named=True))
            if not rows:
                assert (metric, ()) not in doc
                continue
            assert rows[0]["suppressed"] == doc[(metric, ())]["suppressed"]
            for row in rows[1:]:
                if row["suppressed"]:
                    continue
                assert row["denominator"] >= k
                assert row["numerator"] is None or not 1 <= row["numerator"] <= k - 1
