"""Roles come from configuration; the engine refuses row-level data to a viewer."""

from __future__ import annotations

import pytest

from dashboard.roles import ROLE_ENV, RoleConfigError, require_steward, resolve_role

LOGIN = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback"}}


def test_nobody_configured_means_viewer() -> None:
    assert resolve_role(env={}, secrets=None) == "viewer"
    assert resolve_role(env={ROLE_ENV: "  "}, secrets={}) == "viewer"


@pytest.mark.parametrize("raw", ["steward", "Steward", " STEWARD "])
def test_environment_sets_the_role_without_a_login(raw: str) -> None:
    assert resolve_role(env={ROLE_ENV: raw}, secrets={}) == "steward"


def test_a_typo_in_the_role_is_refused_with_its_place() -> None:
    with pytest.raises(RoleConfigError, match="PARTNERSHIP_ROLE.*stewart.*viewer, steward"):
        resolve_role(env={ROLE_ENV: "stewart"}, secrets={})


def test_with_a_login_the_role_comes_from_the_email_mapping() -> None:
    secrets = {**LOGIN, "roles": {"Maria.Lopez@County.gov": "steward", "sam@county.gov": "viewer"}}
    assert resolve_role(env={}, secrets=secrets, user_email="maria.lopez@county.gov") == "steward"
    assert resolve_role(env={}, secrets=secrets, user_email="sam@county.gov") == "viewer"
    # not listed, not logged in: viewer
    assert resolve_role(env={}, secrets=secrets, user_email="other@county.gov") == "viewer"
    assert resolve_role(env={}, secrets=secrets, user_email=None) == "viewer"


def test_with_a_login_the_environment_cannot_raise_everyone_to_steward() -> None:
    secrets = {**LOGIN, "roles": {}}
    assert resolve_role(env={ROLE_ENV: "steward"}, secrets=secrets, user_email="x@y.org") == "viewer"


def test_the_default_for_unlisted_users_is_configurable_and_checked() -> None:
    secrets = {**LOGIN, "roles": {"default": "steward"}}
    assert resolve_role(env={}, secrets=secrets, user_email="x@y.org") == "steward"
    # still nobody is steward without logging in
    assert resolve_role(env={}, secrets=secrets, user_email=None) == "viewer"
    with pytest.raises(RoleConfigError, match=r"\[roles\] default"):
        resolve_role(env={}, secrets={**LOGIN, "roles": {"default": "superuser"}}, user_email="x@y.org")
    with pytest.raises(RoleConfigError, match="x@y.org"):
        resolve_role(env={}, secrets={**LOGIN, "roles": {"x@y.org": "boss"}}, user_email="x@y.org")


def test_require_steward_names_what_was_refused_and_how_to_get_access() -> None:
    require_steward("steward", "The quarantine browser")  # no error
    with pytest.raises(PermissionError) as err:
        require_steward("viewer", "The quarantine browser")
    text = str(err.value)
    assert "The quarantine browser" in text and "'viewer'" in text and "secrets.toml" in text
