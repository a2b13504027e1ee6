"""Who may see what: the ``viewer``, ``steward`` and ``admin`` roles.

A **viewer** (the default) sees aggregates only: counts of rejected rows per
table, agency and rule, status lights, scorecards. A **steward** also sees
row-level quarantine — the rejected values exactly as a partner delivered
them — because fixing a partner's data needs them, and because those values
are person-level records that most dashboard users should not browse. A
steward may be limited to a set of agencies: then every row-level view,
download and command-line output holds only rows whose submitting agency (as
the partner scorecard attributes them) is in the set. An **admin** has the
steward's access to every agency and reads the access log.

The role comes from configuration, never from the page:

* When Streamlit's OIDC login is configured (an ``[auth]`` section in
  ``.streamlit/secrets.toml``), the logged-in user's e-mail is looked up in the
  ``[roles]`` table of the same file::

      [roles]
      "maria.lopez@county.gov" = "steward"
      default = "viewer"            # optional; anyone else

  A user who is not logged in, or not listed, is a viewer (or ``default``).
  ``PARTNERSHIP_ROLE`` is ignored then, so an environment variable on a shared
  server cannot raise every logged-in user to steward.
* Without a login, ``PARTNERSHIP_ROLE`` (``viewer`` or ``steward``) sets the
  role of everyone who can reach the server — meant for a steward's own
  machine or the CLI.

Roles, agency limits and a fixed role for a single-user install can also come
from the configuration file (``dashboard.settings``, docs/deployment.md);
:func:`resolve_principal` combines both into a :class:`Principal`.

The engine (``dashboard.stewardship``, ``dashboard.access_log``) enforces the
role with :func:`require_steward` / :func:`require_admin`, which raise
:class:`AccessRefused`; the page only decides what to draw, and the dashboard
and the command line record every refusal in the access log.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Role = Literal["viewer", "steward", "admin"]
VIEWER: Role = "viewer"
STEWARD: Role = "steward"
ADMIN: Role = "admin"
ROLES: tuple[Role, ...] = (VIEWER, STEWARD, ADMIN)
ROLE_ENV = "PARTNERSHIP_ROLE"
ROW_LEVEL_ROLES: frozenset[str] = frozenset({STEWARD, ADMIN})


class RoleConfigError(ValueError):
    """The role configuration names a role that does not exist."""


def parse_role(value: object, *, where: str) -> Role:
    """``value`` as a role (case and surrounding spaces ignored).

    ``where`` names the setting, so a typo is reported with its place rather
    than silently granting or withholding access.
    """
    text = str(value).strip().lower()
    if text == VIEWER:
        return VIEWER
    if text == STEWARD:
        return STEWARD
    if text == ADMIN:
        return ADMIN
    raise RoleConfigError(
        f"{where} is {value!r}, which is not a role. Use one of: {', '.join(ROLES)}."
    )


def login_configured(secrets: Mapping[str, Any] | None) -> bool:
    """True when the secrets configure Streamlit's OIDC login (an ``[auth]`` section)."""
    return bool(secrets) and "auth" in secrets  # type: ignore[operator]


def resolve_role(
    *,
    env: Mapping[str, str] | None = None,
    secrets: Mapping[str, Any] | None = None,
    user_email: str | None = None,
) -> Role:
    """The role of the current user, from configuration (see the module docstring).

    ``secrets`` is ``st.secrets`` (or any mapping with the same shape),
    ``user_email`` the logged-in user's e-mail (``st.user.email``) or None.
    E-mails are compared case-insensitively.
    """
    env = os.environ if env is None else env
    if login_configured(secrets):
        assert secrets is not None
        mapping = secrets.get("roles", {}) or {}
        default = parse_role(mapping.get("default", VIEWER), where="[roles] default in secrets.toml")
        if not user_email:
            return VIEWER
        wanted = user_email.strip().lower()
        for email, role in mapping.items():
            if email == "default":
                continue
            if str(email).strip().lower() == wanted:
                return parse_role(role, where=f"[roles] {email!r} in secrets.toml")
        return default
    raw = env.get(ROLE_ENV)
    if raw is None or not raw.strip():
        return VIEWER
    return parse_role(raw, where=f"the environment variable {ROLE_ENV}")


class AccessRefused(PermissionError):
    """A request beyond the principal's role or agency set; the message says how access is granted."""

    def __init__(self, message: str, *, principal: "Principal", what: str) -> None:
        super().__init__(message)
        self.principal = principal
        self.what = what


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user name (e-mail under a login), a role, and an agency limit.

    ``agencies`` is None for every agency; a set limits a steward's row-level
    data to rows whose submitting agency is in it.
    """

    user: str
    role: Role = VIEWER
    agencies: frozenset[str] | None = None

    @property
    def row_level(self) -> bool:
        return self.role in ROW_LEVEL_ROLES

    @property
    def all_agencies(self) -> bool:
        return self.agencies is None or self.role == ADMIN

    def describe(self) -> str:
        scope = "" if self.all_agencies else f" limited to agencies {', '.join(sorted(self.agencies or ()))}"
        return f"{self.user} ({self.role}{scope})"


def as_principal(who: "Principal | str") -> Principal:
    """A principal from a principal or a bare role name (an unnamed user, every agency)."""
    if isinstance(who, Principal):
        return who
    return Principal(user="(unnamed)", role=parse_role(who, where="the role passed to the engine"))


def local_user() -> str:
    """The operating-system user running the command (for the access log of a single-user install)."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in a bare container: say so
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "(unknown)"


class AccessSettings(Protocol):
    """What :func:`resolve_principal` reads of the configuration (``dashboard.settings.Settings``),
    named here so that the configuration can read roles without roles reading the configuration."""

    @property
    def users(self) -> Mapping[str, Any]: ...
    @property
    def default_role(self) -> str: ...
    @property
    def fixed_role(self) -> str | None: ...
    @property
    def fixed_user(self) -> str | None: ...
    @property
    def fixed_agencies(self) -> frozenset[str] | None: ...


def resolve_principal(
    *,
    settings: AccessSettings,
    env: Mapping[str, str] | None = None,
    secrets: Mapping[str, Any] | None = None,
    user_email: str | None = None,
) -> Principal:
    """The principal of the current user, from the configuration file, the secrets and the environment.

    With a login configured (``[auth]`` in secrets.toml) the logged-in user's
    e-mail is looked up in ``[access.users]`` of the configuration file, then
    in ``[roles]`` of secrets.toml; unlisted users get the configured default
    role; nobody who is not logged in gets more than viewer, and the fixed
    role is ignored. Without a login the fixed role (``PARTNERSHIP_ROLE`` or
    ``[access] role``) and its agency limit apply to everyone.
    """
    env = os.environ if env is None else env
    if login_configured(secrets):
        if not user_email:
            return Principal(user="(not logged in)", role=VIEWER)
        wanted = user_email.strip().lower()
        configured = settings.users.get(wanted)
        if configured is not None:
            return Principal(user=wanted, role=parse_role(configured.role, where="[access.users]"),
                             agencies=configured.agencies)
        mapping = (secrets or {}).get("roles", {}) or {}
        if any(str(k).strip().lower() == wanted for k in mapping if k != "default"):
            return Principal(user=wanted, role=resolve_role(env=env, secrets=secrets, user_email=user_email))
        default = mapping.get("default", settings.default_role)
        return Principal(user=wanted, role=parse_role(default, where="the default role for unlisted users"))
    role = parse_role(settings.fixed_role, where="[access] role") if settings.fixed_role else VIEWER
    user = settings.fixed_user or local_user()
    return Principal(user=user, role=role, agencies=settings.fixed_agencies if role == STEWARD else None)


def _refuse(principal: Principal, what: str, message: str) -> AccessRefused:
    return AccessRefused(message, principal=principal, what=what)


def require_steward(role: "Principal | str", what: str) -> Principal:
    """Refuse row-level data to anyone but a steward or an admin; return the principal.

    Raises :class:`AccessRefused` (a :class:`PermissionError`) naming what was
    asked for and how a steward role is granted.
    """
    principal = as_principal(role)
    if not principal.row_level:
        raise _refuse(
            principal, what,
            f"{what} shows row-level partner data and needs the steward role; the current role is "
            f"{principal.role!r}. Ask an administrator to list your e-mail as \"steward\" under [access.users] "
            f"in partnership-dashboard.toml or [roles] in .streamlit/secrets.toml (or, without a login, set "
            f"{ROLE_ENV}=steward).",
        )
    return principal


def require_all_agencies(role: "Principal | str", what: str) -> Principal:
    """Refuse ``what`` (data spanning every agency, such as the data docs) to a steward limited to agencies."""
    principal = require_steward(role, what)
    if not principal.all_agencies:
        raise _refuse(
            principal, what,
            f"{what} holds rows of every agency, and {principal.describe()} may see only their own agencies' "
            "rows. Ask an administrator for access to every agency, or use the quarantine views, which are "
            "limited to your agencies.",
        )
    return principal


def require_admin(role: "Principal | str", what: str) -> Principal:
    """Refuse ``what`` (the access log) to anyone but an admin."""
    principal = as_principal(role)
    if principal.role != ADMIN:
        raise _refuse(
            principal, what,
            f"{what} needs the admin role; the current role is {principal.role!r}. Ask an administrator to "
            "list your e-mail as \"admin\" under [access.users] in partnership-dashboard.toml.",
        )
    return principal


def agency_limit(principal: Principal) -> frozenset[str] | None:
    """The agencies whose rows ``principal`` may see, or None for every agency."""
    return None if principal.all_agencies else (principal.agencies or frozenset())


def limited_to(agencies: Iterable[str], principal: Principal) -> list[str]:
    """``agencies`` restricted to the principal's set (all of them for an unlimited principal)."""
    limit = agency_limit(principal)
    return [a for a in agencies if limit is None or a in limit]
