"""How many of the dashboard's sessions compute at once.

Every session runs its script in a thread of one server process. A redraw that
misses the caches runs the metric engine, which holds a narrowed copy of the
records it counts (at a million participants up to a few hundred MB) while
polars already spreads that one query over every core. Ten sessions changing
filters together would each hold such a copy at the same time for no gain in
speed, so the engine's work takes a *slot*: by default one per two cores (one
on a two-core server), set by ``PARTNERSHIP_COMPUTE_SLOTS``. A session whose
redraw is served from the caches takes no slot and never waits
(docs/performance.md, "Memory, round 3": compute slots).

Only leaf computations take a slot: code that reads the tables or calls another
cached function does so before taking it, so a session holding a slot never
waits for another session's cache entry (which could be waiting for the slot).
A thread that already holds a slot does not take a second one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

from dashboard.settings import ConfigError

SLOTS_ENV = "PARTNERSHIP_COMPUTE_SLOTS"


def default_slots(env: Mapping[str, str] | None = None, cores: int | None = None) -> int:
    """``PARTNERSHIP_COMPUTE_SLOTS`` when set (a whole number ≥ 1), else one per two cores."""
    env = os.environ if env is None else env
    value = env.get(SLOTS_ENV, "").strip()
    if value:
        try:
            slots = int(value)
        except ValueError:
            slots = 0
        if slots < 1:
            raise ConfigError(
                f"the environment variable {SLOTS_ENV}={value!r}: expected a whole number of 1 or more"
            )
        return slots
    return max(1, (cores if cores is not None else os.cpu_count() or 1) // 2)


class ComputeSlots:
    """A counting gate that a thread holding it can enter again."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"slots must be 1 or more, not {slots}")
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)
        self._held = threading.local()
        self._count_lock = threading.Lock()
        self.busy = 0
        """How many slots are taken now (for the benchmarks and tests)."""

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the block (at once if this thread already holds one)."""
        depth = getattr(self._held, "depth", 0)
        if depth == 0:
            self._free.acquire()
            with self._count_lock:
                self.busy += 1
        self._held.depth = depth + 1
        try:
            yield
        finally:
            self._held.depth = depth
            if depth == 0:
                with self._count_lock:
                    self.busy -= 1
                self._free.release()


SLOTS = ComputeSlots(default_slots())
"""The server's slots (one per process)."""


def compute_slot() -> AbstractContextManager[None]:
    """``with compute_slot():`` around a leaf computation of the engine."""
    return SLOTS.slot()
