"""The package type-checks: mypy over ``dashboard`` and ``data_checks`` with the
settings in pyproject.toml, so an annotation that disagrees with the code fails CI."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_finds_no_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mypy import api

    monkeypatch.chdir(ROOT)
    stdout, stderr, status = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "dashboard",
            "data_checks",
        ]
    )
    assert status == 0, stdout + stderr
    assert "Success: no issues found" in stdout
