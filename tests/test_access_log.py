"""The access log: append-only, hash-chained, verifiable, exportable, on both databases.

The chain (docs/deployment.md, "Access log"): row n carries
row_hash = SHA-256(prev_hash + "\\n" + JSON[seq, logged_at, user, role, action,
object, filters, rows, interface, detail]) and prev_hash = row n-1's
row_hash (64 zeros for row 1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard import access_log, cli, store
from dashboard.roles import Principal

T0 = dt.datetime(2026, 12, 1, 9, 30, 0, 123456)
MARIA = Principal(user="maria@county.gov", role="steward", agencies=frozenset({"A1"}))
SAM = Principal(user="sam@county.gov", role="viewer")


def _entry(principal: Principal, action: str, obj: str, filters: dict[str, object] | None = None,
           rows: int | None = None) -> access_log.Entry:
    return access_log.Entry(principal.user, principal.role, action, obj, filters or {}, rows, "dashboard")


def _three_rows(engine: sa.engine.Engine) -> None:
    access_log.append(engine, _entry(SAM, "page_view", "Overview", {"program": ["P01"]}), now=T0)
    access_log.append(engine, _entry(MARIA, "quarantine_view", "quarantine", {"state": "open"}, rows=4),
                      now=T0 + dt.timedelta(seconds=5))
    access_log.append(engine, _entry(SAM, "download", "overview_rates.csv", {}, rows=12),
                      now=T0 + dt.timedelta(seconds=9))


def test_the_first_row_hash_is_computed_as_documented() -> None:
    row = {"seq": 1, "logged_at": T0, "user_name": "sam@county.gov", "role": "viewer", "action": "page_view",
           "object": "Overview", "filters": '{"program":["P01"]}', "rows_returned": None,
           "interface": "dashboard", "detail": None}
    # The hash input, written out by hand:
    text = ("0" * 64 + "\n" + '[1,"2026-12-01T09:30:00.123456","sam@county.gov","viewer","page_view",'
            '"Overview","{\\"program\\":[\\"P01\\"]}",null,"dashboard",null]')
    assert access_log.row_digest(access_log.GENESIS, row) == hashlib.sha256(text.encode()).hexdigest()


def test_appends_chain_and_verify_intact(engine: sa.engine.Engine) -> None:
    _three_rows(engine)
    with store.connect(engine) as conn:
        rows = conn.execute(sa.text("SELECT seq, prev_hash, row_hash, filters, rows_returned FROM access_log "
                                    "ORDER BY seq")).all()
    assert [r[0] for r in rows] == [1, 2, 3]
    assert rows[0][1] == "0" * 64
    assert rows[1][1] == rows[0][2] and rows[2][1] == rows[1][2]  # each row points at the one before
    assert rows[0][3] == '{"program":["P01"]}' and rows[1][4] == 4
    result = access_log.verify(engine)
    assert (result.intact, result.rows, result.last_seq, result.last_hash) == (True, 3, 3, rows[2][2])


def test_an_update_behind_the_products_back_breaks_the_chain_at_that_row(engine: sa.engine.Engine) -> None:
    _three_rows(engine)
    with engine.begin() as conn:  # someone hides that Maria looked at the quarantine
        conn.execute(sa.text("UPDATE access_log SET user_name = 'someone@else.org' WHERE seq = 2"))
    result = access_log.verify(engine)
    assert not result.intact and result.bad_seq == 2
    assert "content does not match its hash" in (result.problem or "")


def test_an_update_that_also_recomputes_the_rows_hash_breaks_the_next_row(engine: sa.engine.Engine) -> None:
    _three_rows(engine)
    with store.connect(engine) as conn:
        row = dict(conn.execute(sa.text("SELECT * FROM access_log WHERE seq = 2")).mappings().one())
    row["user_name"] = "someone@else.org"
    forged = access_log.row_digest(row["prev_hash"], row)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE access_log SET user_name = :u, row_hash = :h WHERE seq = 2"),
                     {"u": row["user_name"], "h": forged})
    result = access_log.verify(engine)
    assert (result.intact, result.bad_seq) == (False, 3)
    assert "prev_hash does not match" in (result.problem or "")


def test_a_deletion_behind_the_products_back_breaks_the_chain(engine: sa.engine.Engine) -> None:
    _three_rows(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM access_log WHERE seq = 2"))
    result = access_log.verify(engine)
    assert (result.intact, result.bad_seq) == (False, 3)
    assert "row 2 deleted" in (result.problem or "")
    # the rows before the bad one were checked: 1 row intact, its hash reported
    assert result.rows == 1 and result.last_seq == 1


def test_audit_verify_exit_codes_on_both_databases(engine: sa.engine.Engine, capsys: pytest.CaptureFixture[str]) -> None:
    url = engine.url.render_as_string(hide_password=False)
    _three_rows(engine)
    assert cli.main(["audit", "verify", "--db", url]) == 0
    assert "intact: 3 row(s)" in capsys.readouterr().out
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE access_log SET rows_returned = 1 WHERE seq = 3"))
    assert cli.main(["audit", "verify", "--db", url, "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert (out["intact"], out["bad_seq"], out["rows"]) == (False, 3, 2)
    assert cli.main(["audit", "verify", "--db", url]) == 1
    assert "BROKEN at row seq 3" in capsys.readouterr().err


def test_audit_verify_without_a_database_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", "verify", "--db", str(tmp_path / "missing.duckdb")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "missing.duckdb").exists()


def test_audit_export_csv_and_json_for_an_admin_and_refused_for_a_viewer(
    engine: sa.engine.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    _three_rows(engine)  # logged on 2026-12-01
    monkeypatch.setenv("PARTNERSHIP_USER", "auditor@state.gov")
    monkeypatch.setenv("PARTNERSHIP_ROLE", "viewer")
    assert cli.main(["audit", "--db", url, "export", "--since", "2026-01-01", "--format", "csv"]) == 2
    assert "needs the admin role" in capsys.readouterr().err
    monkeypatch.setenv("PARTNERSHIP_ROLE", "admin")
    out = tmp_path / "log.json"
    assert cli.main(["audit", "export", "--db", url, "--since", "2026-12-01", "--format", "json",
                     "--out", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    data = json.loads(out.read_text())
    # rows 1-3 from the fixture, 4 = the viewer's refusal, 5 = this export (recorded before it is written)
    assert [(r["seq"], r["action"], r["user_name"]) for r in data["rows"]] == [
        (1, "page_view", "sam@county.gov"), (2, "quarantine_view", "maria@county.gov"),
        (3, "download", "sam@county.gov"),
        (4, "refused", "auditor@state.gov"), (5, "audit_export", "auditor@state.gov"),
    ]
    assert data["rows"][0]["logged_at"] == "2026-12-01T09:30:00.123456Z"
    assert data["rows"][3]["role"] == "viewer" and data["rows"][4]["role"] == "admin"
    # the export carries everything an auditor needs to recompute the chain
    recomputed = access_log.verify_rows([{**r, "logged_at": r["logged_at"].rstrip("Z")} for r in data["rows"]])
    assert recomputed.intact and recomputed.rows == 5
    capsys.readouterr()
    assert cli.main(["audit", "export", "--db", url, "--since", "2026-12-02", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(",") == list(access_log.COLUMNS)
    # --since 2026-12-02 leaves out the fixture's three rows of 2026-12-01 (and keeps today's)
    assert all(not line.startswith(("1,", "2,", "3,")) for line in lines[1:])


def test_two_writers_in_one_process_never_fork_the_chain(engine: sa.engine.Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)

    def write(user: str) -> None:
        own = store.make_engine(url)  # each writer its own engine, as two sessions would have
        try:
            for i in range(15):
                access_log.append(own, _entry(Principal(user, "viewer"), "page_view", f"page {i}"))
        finally:
            own.dispose()

    threads = [threading.Thread(target=write, args=(f"user{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = access_log.verify(engine)
    assert (result.intact, result.rows) == (True, 30)


_APPEND_SCRIPT = """
import sys
from dashboard import access_log, store
engine = store.make_engine(sys.argv[1])
for i in range(20):
    access_log.append(engine, access_log.Entry(sys.argv[2], "viewer", "page_view", f"p{i}", {}, None, "cli"))
engine.dispose()
"""


@pytest.mark.postgres
def test_two_processes_appending_to_postgresql_never_fork_the_chain(postgres_engine: sa.engine.Engine) -> None:
    url = postgres_engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    procs = [subprocess.Popen([sys.executable, "-c", _APPEND_SCRIPT, url, f"proc{n}"], env=env) for n in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    result = access_log.verify(postgres_engine)
    assert (result.intact, result.rows) == (True, 40)
    with store.connect(postgres_engine) as conn:
        users = conn.execute(sa.text("SELECT user_name, count(*) FROM access_log GROUP BY user_name")).all()
    assert sorted(users) == [("proc0", 20), ("proc1", 20)]


def test_a_database_without_the_log_table_is_reported_and_refuses_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dashboard import migrate

    path = tmp_path / "old.duckdb"
    engine = store.make_engine(f"duckdb:///{path}")
    migrate.upgrade(engine, "0003")  # a database from before the access log
    with pytest.raises(access_log.AccessLogUnavailable, match="partnership-dashboard migrate"):
        access_log.append(engine, _entry(SAM, "page_view", "Overview"))
    writer = access_log.writer_for(f"duckdb:///{path}")
    writer.submit(_entry(SAM, "page_view", "Overview"))
    assert isinstance(writer.flush(), access_log.AccessLogUnavailable)
    assert writer.pending() == 1  # kept for a retry, not lost
    with pytest.raises(access_log.AccessLogUnavailable):
        writer.write_now(_entry(SAM, "download", "x.csv"))
    engine.dispose()
    with pytest.raises(PermissionError, match="refused because the access log could not be written"):
        access_log.require_log(writer.error(), "The download of x.csv")
    # the command line: an export is refused (nothing written), an aggregate command goes on with a warning
    out = tmp_path / "t.csv"
    code = cli.main(["export", "--db", str(path), "table", "--all", "--format", "csv", "--out", str(out)])
    assert code == 2 and not out.exists()
    assert "refused" in capsys.readouterr().err
    # once migrated, the queued page view and a new write both go in, in order
    migrate.upgrade(engine)
    writer.write_now(_entry(SAM, "download", "x.csv"))
    assert writer.error() is None and writer.pending() == 0
    with store.connect(engine) as conn:
        assert conn.execute(sa.text("SELECT action FROM access_log ORDER BY seq")).scalars().all() == [
            "page_view", "download"]
    engine.dispose()


def test_cli_commands_are_recorded_with_user_role_and_options(
    engine: sa.engine.Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("PARTNERSHIP_USER", "analyst")
    monkeypatch.delenv("PARTNERSHIP_ROLE", raising=False)
    cli.main(["metrics", "--db", url, "--format", "json", "--program", "P01"])
    capsys.readouterr()
    with store.connect(engine) as conn:
        row = conn.execute(sa.text("SELECT user_name, role, action, object, filters, interface FROM access_log")).one()
    assert row[:4] == ("analyst", "viewer", "metrics", "database") and row[5] == "cli"
    options = json.loads(row[4])
    assert options["program"] == "P01" and options["format"] == "json" and "db" not in options


@pytest.mark.postgres
def test_a_postgresql_role_that_may_only_insert_and_select_can_append_but_not_rewrite(
    postgres_engine: sa.engine.Engine,
) -> None:
    import uuid

    role = f"pd_append_only_{uuid.uuid4().hex[:8]}"
    with postgres_engine.begin() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
        conn.execute(sa.text(f'GRANT SELECT, INSERT ON access_log TO "{role}"'))
    limited = store.make_engine(postgres_engine.url.set(username=role).render_as_string(hide_password=False))
    try:
        _three_rows(limited)  # three appends, each under the advisory lock
        assert access_log.verify(limited).intact
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), limited.begin() as conn:
            conn.execute(sa.text("UPDATE access_log SET user_name = 'x' WHERE seq = 1"))
    finally:
        limited.dispose()
        with postgres_engine.begin() as conn:
            conn.execute(sa.text(f'REVOKE ALL ON access_log FROM "{role}"'))
            conn.execute(sa.text(f'REVOKE ALL ON SCHEMA public FROM "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))
