"""One disclosure-control engine for everything one view shows of a measure.

A *view* is one filter setting. Within it the product publishes, for one
measure, the ``metrics`` rows (overall, by program, agency, cohort and
program × cohort) and every breakdown a page, a chart-data download, a table
or the report bundle shows (by quarter, service type, event type, violation
type, agency response, contact type, the equity dimensions, and the quarter ×
cohort and quarter × agency trends). All of these cells are numbers of the
same records, so they form one system of *additive sets*: each breakdown
against the overall row, and each two-key breakdown against both of its
one-key margins (quarter × cohort cells against each quarter row, against
each cohort row and against the overall row). A two-key breakdown lists its
complete grid: a combination with no records is a cell like any other
(denominator 0, so withheld by the primary rule), one more unknown whose true
value, 0, a viewer cannot tell. See "Disclosure control across a view" in
``docs/metrics.md`` for the rule in words and its limits.

:func:`protect` suppresses cells of that system in two steps and repeats
them until nothing changes:

1. **Set by set** — the complementary rule of the metric definitions: a set
   whose cells (its total counting as one more cell) hold exactly one
   suppressed cell suppresses one more of its published cells — the one
   that opens the fewest other sets, then the smallest denominator.
2. **Exactly** — a viewer can combine several sets (add one, subtract
   another). :func:`recoverable_cells` solves the whole linear system of
   published and withheld cells and lists every withheld cell whose value is
   fixed by the published ones; for each, one more published cell of a set
   that contains it is suppressed.

Cells already decided elsewhere are *fixed* (the ``metrics`` rows: their
suppression follows the metric definitions to the letter and a breakdown
never changes them). The system therefore only ever suppresses breakdown
cells; a withheld ``metrics`` cell that the ``metrics`` rows alone already
determine is a limit of the published rule, not something a breakdown can
repair, and is left as it is.

Public entry points (stable; other metric families may call them):

- :class:`Cell` — one published cell: numerator, denominator, sort key and,
  for a fixed cell, its decided suppression;
- :func:`protect` — suppression flags for a system of cells and sets;
- :func:`recoverable_cells` — the withheld cells a viewer can work out.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

from dashboard.metrics.suppression import AdditiveSet, primary_suppressed

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Cell:
    """One cell of a view: what the primary rule and the complement choice need.

    ``fixed`` is None for a cell this engine decides, else its suppression as
    already published elsewhere (it is then never changed).
    """

    numerator: int | None
    denominator: float
    sort_key: tuple[tuple[int, str], ...]
    fixed: bool | None = None


def protect(cells: Mapping[K, Cell], sets: Sequence[AdditiveSet[K]], k: int) -> dict[K, bool]:
    """Suppression flags for every cell of one view (see the module docstring).

    Free cells start from the primary rule (denominator below ``k`` or
    numerator 1..k−1); fixed cells keep their state. ``sets`` are visited in
    order, as in the metric definitions. ``k`` <= 0 turns suppression off.
    """
    state: dict[K, bool] = {
        key: (cell.fixed if cell.fixed is not None else primary_suppressed(cell.numerator, cell.denominator, k))
        for key, cell in cells.items()
    }
    if k <= 0:
        return state
    fixed = {key for key, cell in cells.items() if cell.fixed is not None}
    dens = {key: cell.denominator for key, cell in cells.items()}
    sort_keys = {key: cell.sort_key for key, cell in cells.items()}
    # What the fixed cells give away on their own: nothing a breakdown can change.
    everything_free_hidden = {key: (state[key] if key in fixed else True) for key in state}
    inherent = recoverable_cells(sets, everything_free_hidden)
    # A free cell the fixed cells determine is public already: it can never protect anything.
    fixed |= {key for key in inherent if not state[key]}
    hopeless: set[K] = set()
    chooser = _Chooser(sets, state, dens, sort_keys, fixed)
    while True:
        state = chooser.set_pass()
        leaks = [key for key in recoverable_cells(sets, state) if key not in inherent and key not in hopeless]
        if not leaks:
            return state
        pick = None
        for leak in leaks:
            pick = chooser.widening_pick(leak)
            if pick is not None:
                break
            hopeless.add(leak)
        if pick is None:
            return state
        chooser.mark(pick)


class _Chooser(Generic[K]):
    """The set-by-set rule over one system, choosing complements that cost the least.

    The rule is the metric definitions' (a set with exactly one suppressed
    cell, its total counting as a cell, suppresses one more), but among the
    published free cells of the set it prefers the one whose suppression
    leaves the fewest other sets with a single suppressed cell — sets it
    would otherwise have to open in turn (a quarter whose only agency cell
    is withheld, say) — then the smallest denominator, then the lowest key.
    Fixed cells are never chosen.
    """

    def __init__(
        self,
        sets: Sequence[AdditiveSet[K]],
        state: dict[K, bool],
        dens: Mapping[K, float],
        sort_keys: Mapping[K, tuple[tuple[int, str], ...]],
        fixed: set[K],
    ) -> None:
        self.state = state
        self.dens = dens
        self.sort_keys = sort_keys
        self.fixed = fixed
        self.sets: list[tuple[K, list[K]]] = []
        # positions: the sets of each cell, a set repeated as often as the cell occurs in it.
        self.positions: dict[K, list[int]] = {}
        for s in sets:
            members = [m for m in s.members if m in state]
            if s.total not in state or not members:
                continue
            index = len(self.sets)
            self.sets.append((s.total, members))
            self.positions.setdefault(s.total, []).append(index)
            for cell in members:
                self.positions.setdefault(cell, []).append(index)
        self.sets_of: dict[K, list[int]] = {
            cell: list(dict.fromkeys(indexes)) for cell, indexes in self.positions.items()
        }
        # Withheld cells per set, kept up to date by mark() (recounting a set costs its length).
        self.hidden_count = [0] * len(self.sets)
        for cell, indexes in self.positions.items():
            if state[cell]:
                for index in indexes:
                    self.hidden_count[index] += 1

    def _hidden(self, index: int) -> int:
        return self.hidden_count[index]

    def mark(self, cell: K) -> None:
        """Suppress ``cell``."""
        if not self.state[cell]:
            self.state[cell] = True
            for index in self.positions.get(cell, ()):
                self.hidden_count[index] += 1

    def _choose(self, candidates: Sequence[K]) -> K:
        def cost(cell: K) -> tuple[int, float, tuple[tuple[int, str], ...]]:
            opened = sum(1 for i in self.sets_of.get(cell, ()) if self._hidden(i) == 0)
            return opened, self.dens[cell], self.sort_keys[cell]

        return min(candidates, key=cost)

    def _pick_in(self, index: int) -> K | None:
        total, members = self.sets[index]
        published = [m for m in members if not self.state[m] and m not in self.fixed]
        if published:
            return self._choose(published)
        if not self.state[total] and total not in self.fixed:
            return total
        return None

    def set_pass(self) -> dict[K, bool]:
        """Visit the sets in order until no set has exactly one suppressed cell it can still cover."""
        changed = True
        while changed:
            changed = False
            for index in range(len(self.sets)):
                if self._hidden(index) != 1:
                    continue
                pick = self._pick_in(index)
                if pick is not None:
                    self.mark(pick)
                    changed = True
        return self.state

    def widening_pick(self, leak: K) -> K | None:
        """A published free cell to suppress so that ``leak`` is no longer determined: a
        cell of the first set (in visiting order) that holds it, else the cheapest
        published free cell connected to it through the sets."""
        for index in self.sets_of.get(leak, ()):
            pick = self._pick_in(index)
            if pick is not None:
                return pick
        reached = {leak}
        frontier = [leak]
        while frontier:
            cell = frontier.pop()
            for index in self.sets_of.get(cell, ()):
                total, members = self.sets[index]
                for other in (total, *members):
                    if other not in reached:
                        reached.add(other)
                        frontier.append(other)
        candidates = [c for c in reached if not self.state[c] and c not in self.fixed]
        return self._choose(candidates) if candidates else None


def recoverable_cells(sets: Sequence[AdditiveSet[K]], state: Mapping[K, bool]) -> list[K]:
    """Withheld cells whose value the published cells of ``sets`` determine.

    Each set gives one linear equation, Σ members − total = 0, over the
    cells that have a row in ``state`` (True = withheld). Moving the
    published cells to the right-hand side leaves a homogeneous system in the
    withheld cells; a withheld cell is determined exactly when its unit vector
    lies in the row space of that system, equivalently when it is zero in
    every solution of the homogeneous system. Solved per connected group of
    cells by :class:`_SparseSystem` in exact integer and rational arithmetic;
    memory grows with the non-zero entries of the equations, not with
    equations × cells.
    """
    equations: list[dict[K, int]] = []
    for s in sets:
        if s.total not in state:
            continue
        members = [m for m in s.members if m in state]
        if not members:
            continue
        row: dict[K, int] = {}
        for m in members:
            if state[m]:
                row[m] = row.get(m, 0) + 1
        if state[s.total]:
            row[s.total] = row.get(s.total, 0) - 1
        row = {c: v for c, v in row.items() if v != 0}
        if row:
            equations.append(row)
    out: list[K] = []
    for group in _connected_groups(equations):
        out.extend(_SparseSystem(group).determined())
    return out


def _connected_groups(equations: list[dict[K, int]]) -> list[list[dict[K, int]]]:
    """The equations split into groups that share no cell (union-find), in first-seen order."""
    parent: dict[K, K] = {}

    def find(x: K) -> K:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for eq in equations:
        cells = list(eq)
        for c in cells:
            parent.setdefault(c, c)
        for c in cells[1:]:
            a, b = find(cells[0]), find(c)
            if a != b:
                parent[b] = a
    groups: dict[K, list[dict[K, int]]] = {}
    for eq in equations:
        groups.setdefault(find(next(iter(eq))), []).append(eq)
    return list(groups.values())


class _SparseSystem(Generic[K]):
    """One connected group of equations in a triangular form found by sparse elimination.

    Rows are dicts of integer coefficients (fraction-free elimination, each row divided by
    the gcd of its entries). They are taken shortest first; each is reduced against the
    pivot rows found so far, in the order they were found, and what is left (if anything)
    pivots on its cell that occurs in the fewest equations. Row ``i`` so holds its pivot
    and no pivot of rows ``0 .. i−1``: the rows are independent, and a combination of them
    is zero only if all its coefficients are.

    :meth:`determined` is exact in both directions: a cell that is non-zero in one exact
    solution of the homogeneous system is not determined, and every other cell is decided
    by reducing its unit vector against the rows (it is in their span, i.e. determined,
    exactly when nothing is left). The solution uses pseudo-random integers with a fixed
    seed for the non-pivot cells; they only keep the second step short.
    """

    def __init__(self, equations: list[dict[K, int]]) -> None:
        occurrences: dict[K, int] = {}
        for eq in equations:
            for c in eq:
                occurrences[c] = occurrences.get(c, 0) + 1
        self.cells = list(occurrences)
        self.rows: list[tuple[K, dict[K, int]]] = []
        self.index: dict[K, int] = {}  # pivot cell -> its row
        for eq in sorted(equations, key=len):
            row = self._reduce(dict(eq))
            if row:
                pivot = min(row, key=occurrences.__getitem__)
                self.index[pivot] = len(self.rows)
                self.rows.append((pivot, row))

    def _reduce(self, row: dict[K, int]) -> dict[K, int]:
        """``row`` minus integer multiples of the pivot rows until it holds no pivot cell
        (scaled by integers where a pivot does not divide; divided by its gcd at the end)."""
        heap = [self.index[c] for c in row if c in self.index]
        heapq.heapify(heap)
        while heap:
            pivot, prow = self.rows[heapq.heappop(heap)]
            factor = row.get(pivot, 0)
            if not factor:
                continue  # the same pivot row was queued twice
            lead = prow[pivot]
            if factor % lead:
                g = math.gcd(factor, lead)
                scale, factor = lead // g, factor // g
                row = {c: v * scale for c, v in row.items()}
            else:
                factor //= lead
            for c, v in prow.items():
                new = row.get(c, 0) - factor * v
                if new:
                    if c not in row and c in self.index:
                        heapq.heappush(heap, self.index[c])
                    row[c] = new
                else:
                    row.pop(c, None)
        g = math.gcd(*row.values()) if row else 1
        return {c: v // g for c, v in row.items()} if g > 1 else row

    def _one_solution(self) -> dict[K, int | Fraction]:
        """An exact solution: seeded random integers for the free cells, pivots by back-substitution."""
        rng = random.Random(len(self.cells))
        value: dict[K, int | Fraction] = {
            c: rng.randrange(1, 1 << 40) for c in self.cells if c not in self.index
        }
        for pivot, row in reversed(self.rows):
            rest = -sum(v * value[c] for c, v in row.items() if c != pivot)
            lead = row[pivot]
            exact = isinstance(rest, int) and rest % lead == 0
            value[pivot] = rest // lead if exact else Fraction(rest, lead)
        return value

    def determined(self) -> list[K]:
        """The cells of the group whose value the equations fix (see the class docstring)."""
        value = self._one_solution()
        return [c for c in self.cells if value[c] == 0 and not self._reduce({c: 1})]
