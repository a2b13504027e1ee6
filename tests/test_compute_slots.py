"""The server's compute slots: how many sessions run the engine at once (dashboard/compute_slots.py)."""

from __future__ import annotations

import threading
import time

import pytest

from dashboard.compute_slots import SLOTS_ENV, ComputeSlots, default_slots
from dashboard.settings import ConfigError


def _most_at_once(slots: ComputeSlots, threads: int, hold: float = 0.05) -> int:
    """Run ``threads`` threads that each hold a slot for ``hold`` seconds; the most inside at once."""
    inside = 0
    most = 0
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def work() -> None:
        nonlocal inside, most
        start.wait()
        with slots.slot():
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(hold)
            with lock:
                inside -= 1

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in pool)
    return most


@pytest.mark.parametrize("n", [1, 2, 3])
def test_no_more_threads_compute_at_once_than_there_are_slots(n: int) -> None:
    slots = ComputeSlots(n)
    assert _most_at_once(slots, threads=8) == n
    assert slots.busy == 0


def test_a_thread_holding_a_slot_enters_again_without_waiting() -> None:
    slots = ComputeSlots(1)
    done = threading.Event()

    def nested() -> None:
        with slots.slot():
            assert slots.busy == 1
            with slots.slot():  # would wait forever on a plain one-slot semaphore
                assert slots.busy == 1
        done.set()

    t = threading.Thread(target=nested)
    t.start()
    t.join(timeout=10)
    assert done.is_set()
    assert slots.busy == 0


def test_a_slot_is_given_back_when_the_computation_fails() -> None:
    slots = ComputeSlots(1)
    with pytest.raises(RuntimeError):
        with slots.slot():
            raise RuntimeError("engine failed")
    assert slots.busy == 0
    acquired = threading.Event()

    def other() -> None:
        with slots.slot():
            acquired.set()

    t = threading.Thread(target=other)
    t.start()
    t.join(timeout=10)
    assert acquired.is_set()


def test_default_is_one_slot_per_two_cores_and_at_least_one() -> None:
    assert default_slots({}, cores=1) == 1
    assert default_slots({}, cores=2) == 1
    assert default_slots({}, cores=8) == 4
    assert default_slots({SLOTS_ENV: " 3 "}, cores=2) == 3


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_setting_is_refused_with_its_name_and_value(value: str) -> None:
    with pytest.raises(ConfigError, match=f"{SLOTS_ENV}={value!r}"):
        default_slots({SLOTS_ENV: value})


def test_serve_refuses_a_bad_setting_before_starting(tmp_path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, SLOTS_ENV: "none", "HOME": str(tmp_path)}
    env.pop("PARTNERSHIP_CONFIG", None)
    # a database that does not exist: were the setting not checked first, serve would stop on that instead
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "serve", "--db", str(tmp_path / "absent.duckdb"),
         "--no-browser"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert done.returncode != 0
    assert f"{SLOTS_ENV}='none'" in done.stderr, done.stderr
