"""The extract's as-of date: from --as-of, manifest.json, an AS_OF file, or today (docs/data-contract.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from dashboard import contract, readers
from dashboard.arguments import as_of_problem
from dashboard.readers import ExtractError

# --- as-of and manifest -------------------------------------------------------------


def resolve_as_of(directory: Path, as_of: dt.date | None) -> dt.date:
    """``--as-of``, else manifest.json ``as_of``, else a one-line AS_OF file, else today.

    Raises :class:`ExtractError` for a manifest of another contract version or
    an unreadable date, naming the file and what to fix.
    """
    manifest_path = directory / "manifest.json"
    manifest: dict[str, Any] = {}
    _refuse_outside_link(directory, manifest_path)
    _refuse_outside_link(directory, directory / "AS_OF")
    if manifest_path.exists():
        try:
            loaded = json.loads(manifest_path.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ExtractError(f"{manifest_path}: not valid JSON ({exc}); fix or remove the manifest") from exc
        if not isinstance(loaded, dict):
            raise ExtractError(f"{manifest_path}: expected a JSON object with as_of and contract_version")
        manifest = loaded
        version = manifest.get("contract_version")
        supported = contract.SUPPORTED_CONTRACT_VERSIONS
        allowed = " or ".join(str(v) for v in supported)
        if isinstance(version, str) and version.strip() in {str(v) for v in supported}:
            raise ExtractError(
                f"{manifest_path}: contract_version is the text {version!r}; write it as the number "
                f"{version.strip()} (\"contract_version\": {version.strip()}, no quotes). "
                "Nothing was loaded."
            )
        # bool is an int to Python: ``true`` is no version number
        if version is not None and (isinstance(version, bool) or version not in supported):
            raise ExtractError(
                f"{manifest_path}: the extract follows data contract version {version!r}, but this program "
                f"reads versions {allowed}. Ask the partner for a version {contract.CONTRACT_VERSION} (or "
                f"version 1) extract, or upgrade this program; nothing was loaded."
            )
    if as_of is not None:
        return _in_range(as_of, "--as-of")
    if manifest.get("as_of") is not None:
        return _parse_as_of(str(manifest["as_of"]), f"{manifest_path} (as_of)")
    as_of_file = directory / "AS_OF"
    if as_of_file.exists():
        try:
            text = as_of_file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ExtractError(f"{as_of_file}: not UTF-8 text; write one line holding a date YYYY-MM-DD") from exc
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) != 1:
            raise ExtractError(f"{as_of_file}: expected exactly one line holding a date written YYYY-MM-DD")
        return _parse_as_of(lines[0], str(as_of_file))
    return dt.date.today()


def _parse_as_of(text: str, where: str) -> dt.date:
    import re

    if re.fullmatch(contract.DATE_PATTERN, text.strip()):
        try:
            return _in_range(dt.date.fromisoformat(text.strip()), where)
        except ValueError:
            pass
    raise ExtractError(f"{where}: {text!r} is not a date written YYYY-MM-DD; fix it or pass --as-of")


def _in_range(as_of: dt.date, where: str) -> dt.date:
    """The as-of date, unless it is outside the range the product accepts (dashboard/arguments.py)."""
    problem = as_of_problem(as_of)
    if problem is not None:
        raise ExtractError(f"{where}: {problem}. Nothing was loaded.")
    return as_of


def _refuse_outside_link(directory: Path, path: Path) -> None:
    """A manifest or AS_OF file that is a link out of the extract folder is not read."""
    if path.is_symlink() and not path.resolve().is_relative_to(directory.resolve()):
        raise ExtractError(
            f"{readers.shown_name(path)}: a symbolic link to {readers.shown_name(path.resolve())}, outside the "
            "extract folder; it was not opened. Put the file itself in the extract folder. Nothing was loaded."
        )
