"""Hand memory the process has freed back to the operating system.

Two allocators keep freed memory resident unless told otherwise; at a million
participants that is a third of what the ``metrics`` command and the dashboard
hold (docs/performance.md, "Memory, round 3": freed memory kept by the allocators):

- **glibc's malloc**: a large block freed by the process moves malloc's
  threshold for "large" upwards (up to 32 MB), so later blocks of that size come
  from the heap, and a heap that has grown stays resident after its blocks are
  freed. Reading the tables leaves about 0.35 GB resident that way. Fixing the
  threshold at its default (128 kB) makes every larger block a mapping of its
  own, returned to the system when freed; the trim threshold goes with it
  (:func:`return_freed_memory`, at start-up; it does nothing off glibc).
- **polars' jemalloc** keeps freed pages for half a second, then for another
  second as "lazily freed" pages that still count as resident (polars' own
  defaults), so one query's scratch space is still held while the next one
  allocates its own. :func:`tune_polars_allocator` asks it to return freed pages
  after 20 ms and to skip the lazy state, through ``_RJEM_MALLOC_CONF``, which
  polars appends to its defaults when it is first imported (so
  ``dashboard/__init__.py`` sets it before anything imports polars). The
  ``metrics`` command's peak falls by about 0.15 GB in the same time; returning
  every page at once (0 ms) saves a little more but takes a third longer.

Setting ``PARTNERSHIP_MALLOC_TUNING=0`` leaves both allocators as they are; a
``_RJEM_MALLOC_CONF`` already in the environment is kept.
"""

from __future__ import annotations

import ctypes
import os
import sys

# mallopt parameters of glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_THRESHOLD = 128 * 1024  # glibc's own starting value, held fixed
POLARS_ALLOCATOR_CONF = "dirty_decay_ms:20,muzzy_decay_ms:0"

_done: bool | None = None


def _wanted() -> bool:
    return os.environ.get("PARTNERSHIP_MALLOC_TUNING", "1") != "0"


def tune_polars_allocator() -> None:
    """Ask polars' jemalloc to give freed pages back promptly (only before polars is imported)."""
    if _wanted() and "polars" not in sys.modules:
        os.environ.setdefault("_RJEM_MALLOC_CONF", POLARS_ALLOCATOR_CONF)


def return_freed_memory() -> bool:
    """Fix glibc's mmap and trim thresholds (once per process); True when they are set."""
    global _done
    if _done is not None:
        return _done
    _done = False
    if not sys.platform.startswith("linux") or not _wanted():
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, for one): nothing to tune
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _done = bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _THRESHOLD))
    return _done
