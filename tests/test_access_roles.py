"""Roles and agency limits, enforced by the engine on both databases; configuration; file modes.

The world is test_stewardship's hand-made audit. Its open quarantine
(docs/stewardship.md, "open"): q2 referrals F9 agency A1, q4 supervision E9
A2, q7 supervision (no key) A2, q9 referrals F11 (no agency: "(unassigned)").
So a steward limited to A1 sees 1 open row (F9), limited to A2 sees 2 (E9 and
the keyless one), an unlimited steward or an admin sees 4.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from dashboard import access_log, cli, store
from dashboard import stewardship as stew
from dashboard.roles import AccessRefused, Principal, require_admin, resolve_principal
from dashboard.settings import ConfigError, load_settings
from test_stewardship import write_world, world_audit

VIEWER = Principal("sam@county.gov", "viewer")
STEWARD_A1 = Principal("maria@county.gov", "steward", frozenset({"A1"}))
STEWARD_A2 = Principal("lee@city.gov", "steward", frozenset({"A2"}))
STEWARD_ALL = Principal("kim@state.gov", "steward")
ADMIN = Principal("it@state.gov", "admin", frozenset({"A1"}))  # an admin's agency list is ignored: all agencies


@pytest.mark.parametrize(
    ("principal", "keys", "agencies"),
    [
        (STEWARD_A1, ["F9"], {"A1"}),
        (STEWARD_A2, ["E9", None], {"A2"}),
        (STEWARD_ALL, ["F9", "F11", "E9", None], {"A1", "A2", "(unassigned)"}),
        (ADMIN, ["F9", "F11", "E9", None], {"A1", "A2", "(unassigned)"}),
    ],
    ids=["steward-A1", "steward-A2", "steward-all", "admin"],
)
def test_row_level_quarantine_holds_only_the_principals_agencies(
    engine: sa.engine.Engine, principal: Principal, keys: list[str | None], agencies: set[str], tmp_path: Path
) -> None:
    write_world(engine)
    audit = stew.read_audit(engine, principal)
    rows = stew.quarantine_rows(audit, principal)
    assert rows["record_key"].to_list() == keys
    assert set(rows["agency_id"]) == agencies
    # asking for another agency by filter does not widen the limit
    other = stew.quarantine_rows(audit, principal, stew.QuarantineFilter(agencies=("A1", "A2", "(unassigned)")))
    assert other["record_key"].to_list() == keys
    # downloads and the reprocessing export hold the same rows only
    downloaded = pl.read_csv(io.BytesIO(stew.quarantine_csv(audit, principal)), infer_schema=False)
    assert downloaded.height == len(keys)
    written = stew.write_reprocessing_extract(audit, principal, tmp_path / "fix")
    csv_rows = sum(pl.read_csv(p, infer_schema=False).height for p in written if p.suffix == ".csv")
    assert csv_rows == len(keys)


def test_the_engine_refuses_row_level_data_to_a_viewer_on_both_databases(engine: sa.engine.Engine) -> None:
    write_world(engine)
    steward_audit = stew.read_audit(engine, STEWARD_ALL)
    for call in (
        lambda: stew.quarantine_rows(steward_audit, VIEWER),
        lambda: stew.example_rows(steward_audit, VIEWER, "referrals", "enum:status"),
        lambda: stew.quarantine_csv(steward_audit, VIEWER),
        lambda: stew.reprocessing_csv(steward_audit, VIEWER, "referrals"),
        lambda: stew.reprocess(engine, VIEWER, Path(".")),
    ):
        with pytest.raises(AccessRefused, match="needs the steward role") as refused:
            call()
        assert refused.value.principal == VIEWER
    for who in (VIEWER, STEWARD_A1, STEWARD_ALL):
        with pytest.raises(AccessRefused, match="needs the admin role"):
            access_log.read_log(engine, who)
    assert access_log.read_log(engine, ADMIN) == []


def test_a_viewers_load_audit_carries_no_record_keys_files_or_lines() -> None:
    viewer = world_audit("viewer")
    for frame in (viewer.quarantine, viewer.load_issues):
        assert not {"record_key", "line_number", "source_file", "raw_values", "reasons"} & set(frame.columns)
    # the identity used for the open count is a digest, not "key:F9"
    assert not viewer.quarantine["identity"].str.starts_with("key:").any()
    # and the aggregates it gives are the steward's: 4 open entries either way
    assert viewer.quarantine["open"].sum() == world_audit("steward").quarantine["open"].sum() == 4


def test_cli_reprocess_export_is_limited_recorded_and_owner_only(
    engine: sa.engine.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_world(engine)
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("PARTNERSHIP_USER", "lee@city.gov")
    monkeypatch.setenv("PARTNERSHIP_ROLE", "viewer")
    out = tmp_path / "fix"
    assert cli.main(["reprocess", "--db", url, "--export-to", str(out)]) == 2
    assert "needs the steward role" in capsys.readouterr().err and not out.exists()
    monkeypatch.setenv("PARTNERSHIP_ROLE", "steward")
    monkeypatch.setenv("PARTNERSHIP_AGENCIES", "A2")
    assert cli.main(["reprocess", "--db", url, "--export-to", str(out)]) == 0
    # A2's open rows are both supervision events (E9 and the keyless one); no referrals file
    assert sorted(p.name for p in out.iterdir()) == ["AS_OF", "supervision_events.csv"]
    assert pl.read_csv(out / "supervision_events.csv", infer_schema=False).height == 2
    assert out.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {0o600}
    with store.connect(engine) as conn:
        log = conn.execute(sa.text("SELECT user_name, role, action, object FROM access_log ORDER BY seq")).all()
    assert [tuple(r) for r in log] == [
        ("lee@city.gov", "viewer", "refused", "Exporting quarantined rows for reprocessing"),
        ("lee@city.gov", "steward", "reprocess", "quarantine"),
    ]


def test_check_db_writes_data_docs_only_for_a_steward_of_every_agency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The data docs hold delivered values of every agency: a viewer's or an agency-limited steward's
    ``check --db`` runs the checks and writes none; a steward of every agency gets them."""
    engine = store.make_engine(f"duckdb:///{tmp_path / 'db.duckdb'}")
    store.create_schema(engine)
    write_world(engine)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    monkeypatch.setenv("PARTNERSHIP_USER", "lee@city.gov")
    for role, agencies, expect_docs in (("viewer", None, False), ("steward", "A2", False), ("steward", None, True)):
        monkeypatch.setenv("PARTNERSHIP_ROLE", role)
        if agencies:
            monkeypatch.setenv("PARTNERSHIP_AGENCIES", agencies)
        else:
            monkeypatch.delenv("PARTNERSHIP_AGENCIES", raising=False)
        docs = tmp_path / f"docs-{role}-{agencies}"
        code = cli.main(["check", "--db", url, "--docs-dir", str(docs), "--format", "json"])
        out = capsys.readouterr()
        assert code in (0, 1), out.err
        assert json.loads(out.out)  # the checks ran and printed their report
        assert docs.exists() == expect_docs, (role, agencies)
        assert ("no data docs are written" in out.err) == (not expect_docs)


def test_the_embedded_database_and_data_docs_are_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.umask", _WideUmask.umask)  # even with a permissive umask around it
    path = tmp_path / "new.duckdb"
    assert cli.main(["migrate", "--db", str(path)]) == 0
    assert path.stat().st_mode & 0o777 == 0o600
    from dashboard.private_files import make_private_tree, private_directory

    docs = private_directory(tmp_path / "docs" / "site")
    assert docs.stat().st_mode & 0o777 == 0o700
    (docs / "index.html").write_text("x")
    make_private_tree(tmp_path / "docs")
    assert (docs / "index.html").stat().st_mode & 0o777 == 0o600


class _WideUmask:
    """os.umask stand-in: the process umask is left alone (pytest's own files), modes are still set explicitly."""

    @staticmethod
    def umask(mask: int) -> int:
        return 0o022


def test_configuration_file_roles_agencies_k_and_database(tmp_path: Path) -> None:
    config = tmp_path / "partnership-dashboard.toml"
    config.write_text(
        '[database]\nurl = "postgresql://dash@db.example.org/partnerships?sslmode=verify-full"\n'
        "[suppression]\nmin_cell_size = 20\n"
        '[access]\ndefault_role = "viewer"\n'
        '[access.users."Maria@County.gov"]\nrole = "steward"\nagencies = ["A1"]\n'
        '[access.users."it@state.gov"]\nrole = "admin"\n'
        "[quality]\ncadence_days = 45\n"
    )
    env = {"PARTNERSHIP_CONFIG": str(config)}
    settings = load_settings(env)
    assert settings.database_url == "postgresql://dash@db.example.org/partnerships?sslmode=verify-full"
    assert settings.min_cell_size == 20 and settings.quality == {"cadence_days": 45}
    login = {"auth": {"redirect_uri": "https://dash.example.org/oauth2callback"}}
    maria = resolve_principal(settings=settings, secrets=login, user_email="maria@county.gov")
    assert (maria.user, maria.role, maria.agencies) == ("maria@county.gov", "steward", frozenset({"A1"}))
    assert resolve_principal(settings=settings, secrets=login, user_email="it@state.gov").role == "admin"
    assert resolve_principal(settings=settings, secrets=login, user_email="x@y.org").role == "viewer"
    assert resolve_principal(settings=settings, secrets=login, user_email=None).role == "viewer"
    # the environment wins over the file
    over = load_settings({**env, "DATABASE_URL": "postgresql://other/db", "PARTNERSHIP_MIN_CELL_SIZE": "5"})
    assert (over.database_url, over.min_cell_size) == ("postgresql://other/db", 5)


def test_a_single_user_install_has_a_fixed_role_and_the_environment_overrides_it(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[access]\nrole = "steward"\nagencies = ["A2"]\nuser = "county-steward"\n')
    settings = load_settings({"PARTNERSHIP_CONFIG": str(config)})
    me = resolve_principal(settings=settings, secrets={})
    assert (me.user, me.role, me.agencies) == ("county-steward", "steward", frozenset({"A2"}))
    env = {"PARTNERSHIP_CONFIG": str(config), "PARTNERSHIP_ROLE": "admin", "PARTNERSHIP_USER": "ops"}
    admin = resolve_principal(settings=load_settings(env), secrets={})
    assert (admin.user, admin.role) == ("ops", "admin") and require_admin(admin, "x") is admin
    # with a login configured, the fixed role never applies to anyone
    login = {"auth": {"redirect_uri": "https://x/oauth2callback"}}
    assert resolve_principal(settings=settings, secrets=login, user_email="anyone@x.org").role == "viewer"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[acess]\nrole = "viewer"\n', r"unknown section \[acess\]"),
        ('[access]\nrole = "stewart"\n', r"\[access\] role is 'stewart'.*viewer, steward, admin"),
        ("[suppression]\nmin_cell_size = -1\n", r"min_cell_size is -1"),
        ('[access.users."a@b.org"]\nagencies = ["A1"]\n', r"needs role"),
        ("[database]\nurl = \n", r"not valid TOML"),
    ],
)
def test_a_mistake_in_the_configuration_names_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings({"PARTNERSHIP_CONFIG": str(config)})


def test_the_cli_takes_k_from_the_configuration(
    engine: sa.engine.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[suppression]\nmin_cell_size = 7\n")
    monkeypatch.setenv("PARTNERSHIP_CONFIG", str(config))
    url = engine.url.render_as_string(hide_password=False)
    cli.main(["metrics", "--db", url, "--format", "json"])
    assert json.loads(capsys.readouterr().out)["min_cell_size"] == 7
    cli.main(["metrics", "--db", url, "--format", "json", "--min-cell-size", "11"])
    assert json.loads(capsys.readouterr().out)["min_cell_size"] == 11
    cli.main(["metrics", "--db", url, "--format", "json", "--min-cell-size=3"])
    assert json.loads(capsys.readouterr().out)["min_cell_size"] == 3


def test_example_configuration_file_is_valid() -> None:
    example = Path(__file__).resolve().parent.parent / "partnership-dashboard.example.toml"
    settings = load_settings({}, path=example)
    assert settings.min_cell_size == 11
    assert {a.role for a in settings.users.values()} == {"viewer", "steward", "admin"}
    assert pl.Series([settings.database_url]).str.contains("sslmode=").all()


@pytest.mark.postgres
def test_migrate_against_a_missing_postgresql_database_says_how_to_create_it(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = sa.engine.make_url(store.normalise_url(postgres_url)).set(database="pd_no_such_database")
    url = missing.render_as_string(hide_password=False)
    assert cli.main(["migrate", "--db", url]) == 2
    err = capsys.readouterr().err
    assert "'pd_no_such_database' does not exist" in err
    assert "createdb" in err and "pd_no_such_database" in err and 'CREATE DATABASE "pd_no_such_database"' in err


def test_postgresql_connection_options_such_as_sslmode_pass_through_unchanged() -> None:
    url = "postgresql://dash@db.example.org:5432/partnerships?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem"
    assert store.normalise_url(url) == (
        "postgresql+psycopg://dash@db.example.org:5432/partnerships?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem"
    )
    engine = store.make_engine(url)  # no connection is made here
    assert dict(engine.url.query) == {"sslmode": "verify-full", "sslrootcert": "/etc/ssl/ca.pem"}
    engine.dispose()
