"""The allocator settings that hand freed memory back (dashboard/memory.py), each in a fresh process:
they act only at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dashboard.memory import POLARS_ALLOCATOR_CONF

PROBE = """
import json, os, sys
{before}
import dashboard
from dashboard.memory import return_freed_memory
print(json.dumps({{"conf": os.environ.get("_RJEM_MALLOC_CONF"), "glibc": return_freed_memory(),
                  "again": return_freed_memory()}}))
"""


def _probe(before: str = "", **env: str) -> dict[str, object]:
    ours = ("_RJEM_MALLOC_CONF", "PARTNERSHIP_MALLOC_TUNING")
    base = {k: v for k, v in os.environ.items() if k not in ours}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(before=before)], env={**base, **env},
        capture_output=True, text=True, timeout=120, check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_package_sets_polars_allocator_before_polars_loads() -> None:
    assert _probe()["conf"] == POLARS_ALLOCATOR_CONF


def test_a_setting_already_in_the_environment_is_kept() -> None:
    assert _probe(_RJEM_MALLOC_CONF="dirty_decay_ms:1000")["conf"] == "dirty_decay_ms:1000"


def test_nothing_is_set_once_polars_is_loaded() -> None:
    # polars' allocator read its settings when polars was imported (polars puts its own defaults in
    # the environment then): setting ours later would only mislead
    assert _probe(before="import polars")["conf"] != POLARS_ALLOCATOR_CONF


def test_the_tuning_can_be_turned_off() -> None:
    result = _probe(PARTNERSHIP_MALLOC_TUNING="0")
    assert result["conf"] is None
    assert result["glibc"] is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc is tuned on Linux only")
def test_glibc_thresholds_are_fixed_once_per_process() -> None:
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc")
    result = _probe()
    assert result["glibc"] is True
    assert result["again"] is True
