"""One configuration file for an installation, overridable by the environment.

The file is TOML. It is found at the path in ``PARTNERSHIP_CONFIG``, else at
``./partnership-dashboard.toml`` when that exists; without either, every
setting has its default. ``partnership-dashboard.example.toml`` in the
repository is a commented example, and docs/deployment.md describes each key:

* ``[database] url`` — the database URL (``DATABASE_URL`` wins over it; so
  does ``--db`` on the command line). PostgreSQL options such as ``sslmode``
  pass through the URL unchanged.
* ``[access]`` — who may see what (docs/stewardship.md, "Roles"):
  ``role`` and ``agencies``, the fixed role (and agency limit) of a
  single-user install, used when no login is configured
  (``PARTNERSHIP_ROLE`` / ``PARTNERSHIP_AGENCIES`` win over them);
  ``default_role`` for logged-in users not listed; and one
  ``[access.users."e-mail"]`` table per user with ``role`` and optionally
  ``agencies``.
* ``[suppression] min_cell_size`` — k, the smallest count shown
  (``PARTNERSHIP_MIN_CELL_SIZE`` wins).
* ``[quality]`` — the thresholds of the checks across loads (the same table as
  a ``quality.toml``; ``PARTNERSHIP_QUALITY_CONFIG`` names a separate file
  that wins).

A mistake in the file is an error that names the file, the key and what to
write instead; it never silently grants or withholds access.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard.cells import DEFAULT_MIN_CELL_SIZE
from dashboard.roles import RoleConfigError, parse_role

CONFIG_ENV = "PARTNERSHIP_CONFIG"
DEFAULT_CONFIG_FILE = Path("partnership-dashboard.toml")
MIN_CELL_SIZE_ENV = "PARTNERSHIP_MIN_CELL_SIZE"
AGENCIES_ENV = "PARTNERSHIP_AGENCIES"
USER_ENV = "PARTNERSHIP_USER"

_KNOWN: dict[str, set[str]] = {
    "database": {"url"},
    "access": {"role", "agencies", "default_role", "users", "user"},
    "suppression": {"min_cell_size"},
    "quality": set(),  # checked by dashboard.quality_checks.Thresholds
}


class ConfigError(ValueError):
    """The configuration file (or an environment variable) holds a value that cannot be used."""


@dataclass(frozen=True)
class UserAccess:
    """A configured user's role and agency limit (None: every agency)."""

    role: str
    agencies: frozenset[str] | None = None


@dataclass(frozen=True)
class Settings:
    """The settings in force (file values with the environment applied)."""

    source: Path | None = None
    database_url: str | None = None
    fixed_role: str | None = None
    fixed_agencies: frozenset[str] | None = None
    fixed_user: str | None = None
    default_role: str = "viewer"
    users: Mapping[str, UserAccess] = field(default_factory=dict)
    min_cell_size: int = DEFAULT_MIN_CELL_SIZE
    quality: Mapping[str, Any] = field(default_factory=dict)


def config_path(env: Mapping[str, str] | None = None) -> Path | None:
    """The configuration file in force, or None (see the module docstring)."""
    env = os.environ if env is None else env
    named = env.get(CONFIG_ENV)
    if named:
        path = Path(named)
        if not path.exists():
            raise ConfigError(f"{CONFIG_ENV} names {path}, which does not exist; fix the path or unset the variable.")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None


def _agencies(value: Any, where: str) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value if v.strip()]
    else:
        raise ConfigError(f"{where} is {value!r}; write a list of agency ids, for example [\"A01\", \"A03\"].")
    return frozenset(items) if items else None


def _role(value: Any, where: str) -> str:
    try:
        return parse_role(value, where=where)
    except RoleConfigError as exc:
        raise ConfigError(str(exc)) from None


def _min_cell_size(value: Any, where: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{where} is {value!r}, which is not a whole number; the default is 11.") from None
    if number < 0:
        raise ConfigError(f"{where} is {number}; write 0 (no suppression) or more; the default is 11.")
    return number


def load_settings(env: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    """Read the configuration file (if any) and apply the environment."""
    env = os.environ if env is None else env
    path = path if path is not None else config_path(env)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}. Fix the line named and try again.") from None
    for section, value in data.items():
        if section not in _KNOWN:
            raise ConfigError(
                f"{path}: unknown section [{section}]; the known sections are {', '.join(sorted(_KNOWN))}."
            )
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {section} must be a table ([{section}]).")
        unknown = sorted(set(value) - _KNOWN[section]) if _KNOWN[section] else []
        if unknown:
            raise ConfigError(
                f"{path}: unknown key(s) {', '.join(unknown)} in [{section}]; "
                f"the known keys are {', '.join(sorted(_KNOWN[section]))}."
            )
    where = str(path) if path else "the configuration"
    access = data.get("access", {})
    users: dict[str, UserAccess] = {}
    for email, entry in (access.get("users") or {}).items():
        if not isinstance(entry, dict) or "role" not in entry:
            raise ConfigError(f"{where}: [access.users.{email!r}] needs role = \"viewer\", \"steward\" or \"admin\".")
        users[str(email).strip().lower()] = UserAccess(
            role=_role(entry["role"], f"{where}: [access.users.{email!r}] role"),
            agencies=_agencies(entry.get("agencies"), f"{where}: [access.users.{email!r}] agencies"),
        )
    fixed_role = access.get("role")
    if env.get("PARTNERSHIP_ROLE", "").strip():
        fixed_role = _role(env["PARTNERSHIP_ROLE"], "the environment variable PARTNERSHIP_ROLE")
    elif fixed_role is not None:
        fixed_role = _role(fixed_role, f"{where}: [access] role")
    fixed_agencies = _agencies(access.get("agencies"), f"{where}: [access] agencies")
    if env.get(AGENCIES_ENV, "").strip():
        fixed_agencies = _agencies(env[AGENCIES_ENV], f"the environment variable {AGENCIES_ENV}")
    k = data.get("suppression", {}).get("min_cell_size", DEFAULT_MIN_CELL_SIZE)
    k = _min_cell_size(k, f"{where}: [suppression] min_cell_size")
    if env.get(MIN_CELL_SIZE_ENV, "").strip():
        k = _min_cell_size(env[MIN_CELL_SIZE_ENV], f"the environment variable {MIN_CELL_SIZE_ENV}")
    url = env.get("DATABASE_URL") or data.get("database", {}).get("url") or None
    return Settings(
        source=path,
        database_url=url,
        fixed_role=fixed_role,
        fixed_agencies=fixed_agencies,
        fixed_user=env.get(USER_ENV) or access.get("user") or None,
        default_role=_role(access.get("default_role", "viewer"), f"{where}: [access] default_role"),
        users=users,
        min_cell_size=k,
        quality=data.get("quality", {}),
    )


def min_cell_size(env: Mapping[str, str] | None = None) -> int:
    """k in force; the default (11) when the configuration cannot be read (the error is shown elsewhere)."""
    try:
        return load_settings(env).min_cell_size
    except ConfigError:
        return DEFAULT_MIN_CELL_SIZE
