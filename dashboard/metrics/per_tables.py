"""Facts that depend on the tables alone (no filter, no as-of date), worked out once per set of tables.

The dashboard holds one :class:`~dashboard.metrics.tables.Tables` per load run and shares it
between sessions, so a fact kept here is computed once per load run and reused by every filter
setting and session (docs/performance.md, "Contract-version-2 and partnership pages"). An entry
lives as long as its tables: a new load run's tables start empty, and the old ones go with theirs.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from dashboard.metrics.tables import Tables

T = TypeVar("T")

_FACTS: weakref.WeakKeyDictionary[Tables, dict[str, Any]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def once_per_tables(tables: Tables, name: str, compute: Callable[[Tables], T]) -> T:
    """``compute(tables)``, remembered under ``name`` for these tables.

    Sessions asking at the same time wait for one computation instead of each doing it
    (the lock is held while computing; each fact is computed once per load run).
    """
    with _LOCK:
        facts = _FACTS.setdefault(tables, {})
        if name not in facts:
            facts[name] = compute(tables)
        return facts[name]
