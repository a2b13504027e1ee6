"""Who may see what: the ``viewer`` and ``steward`` roles.

A **viewer** (the default) sees aggregates only: counts of rejected rows per
table, agency and rule, status lights, scorecards. A **steward** also sees
row-level quarantine — the rejected values exactly as a partner delivered
them — because fixing a partner's data needs them, and because those values
are person-level records that most dashboard users should not browse.

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

The engine (``dashboard.stewardship``) enforces the role with
:func:`require_steward`; the page only decides what to draw.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

Role = Literal["viewer", "steward"]
VIEWER: Role = "viewer"
STEWARD: Role = "steward"
ROLES: tuple[Role, ...] = (VIEWER, STEWARD)
ROLE_ENV = "PARTNERSHIP_ROLE"


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


def require_steward(role: str, what: str) -> None:
    """Refuse row-level data to anyone but a steward.

    Raises :class:`PermissionError` naming what was asked for and how a
    steward role is granted.
    """
    if role != STEWARD:
        raise PermissionError(
            f"{what} shows row-level partner data and needs the steward role; the current role is "
            f"{role!r}. Ask an administrator to list your e-mail as \"steward\" under [roles] in "
            f".streamlit/secrets.toml (or, without a login, set {ROLE_ENV}=steward)."
        )
