"""The schema comes from the contract and the migrations build exactly it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from dashboard import contract, migrate, store
from dashboard.db import postgres as postgres_backend


def test_every_contract_column_is_in_the_schema_with_its_key() -> None:
    for table in contract.TABLES:
        sql_table = store.METADATA.tables[table.name]
        assert [c.name for c in sql_table.columns] == list(table.column_names)
        assert [c.name for c in sql_table.primary_key.columns] == list(table.key_columns)
        for col in table.columns:
            assert sql_table.c[col.name].nullable is (not col.required), (table.name, col.name)


def test_foreign_keys_follow_the_contract_on_postgresql_metadata() -> None:
    for table in contract.TABLES:
        sql_table = store.METADATA.tables[table.name]
        declared = {fk.parent.name: fk.column.table.name for fk in sql_table.foreign_keys}
        assert declared == {c.name: c.references for c in table.foreign_keys}


def test_migrations_reach_head_and_upsert_replaces_by_key(engine: sa.engine.Engine) -> None:
    assert migrate.current_revision(engine) == "0005"
    agencies = pl.DataFrame(
        {
            "agency_id": ["A1", "A2"],
            "agency_name": ["County Probation", "City Police"],
            "agency_type": ["probation", "law_enforcement"],
            "jurisdiction": [None, "Springfield"],
        }
    )
    with engine.begin() as conn:
        store.bulk_upsert(conn, "agencies", agencies)
    renamed = agencies.with_columns(pl.when(pl.col("agency_id") == "A1").then(pl.lit("Probation Dept")).otherwise(pl.col("agency_name")).alias("agency_name"))
    with engine.begin() as conn:
        store.bulk_upsert(conn, "agencies", renamed)
    with store.connect(engine) as conn:
        got = store.read_table(conn, "agencies").sort("agency_id")
    assert got.height == 2
    assert got["agency_name"].to_list() == ["Probation Dept", "City Police"]
    assert got["jurisdiction"].to_list() == [None, "Springfield"]


def test_a_failed_transaction_leaves_nothing(engine: sa.engine.Engine) -> None:
    programs = pl.DataFrame(
        {
            "program_id": ["P1"], "program_name": ["Reentry"], "program_model": ["release_planning"],
            "lead_agency_id": ["A1"], "start_date": [dt.date(2024, 1, 1)], "end_date": [None],
            "grant_id": [None],
        },
        schema_overrides={"end_date": pl.Date, "grant_id": pl.String},
    )
    agencies = pl.DataFrame(
        {"agency_id": ["A1"], "agency_name": ["X"], "agency_type": ["probation"], "jurisdiction": [None]},
        schema_overrides={"jurisdiction": pl.String},
    )
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            store.bulk_upsert(conn, "agencies", agencies)
            store.bulk_upsert(conn, "programs", programs)
            raise RuntimeError("simulated failure mid-load")
    with store.connect(engine) as conn:
        assert store.read_table(conn, "agencies").height == 0
        assert store.read_table(conn, "programs").height == 0


def test_read_frame_binds_parameters(engine: sa.engine.Engine) -> None:
    agencies = pl.DataFrame(
        {"agency_id": ["A1", "A'2"], "agency_name": ["X", "Y"], "agency_type": ["probation", "court"],
         "jurisdiction": [None, None]},
        schema_overrides={"jurisdiction": pl.String},
    )
    with engine.begin() as conn:
        store.bulk_upsert(conn, "agencies", agencies)
    with store.connect(engine) as conn:
        got = store.read_frame(conn, "SELECT agency_name FROM agencies WHERE agency_id = :aid", {"aid": "A'2"})
    assert got["agency_name"].to_list() == ["Y"]


def test_unreachable_database_says_what_to_do() -> None:
    engine = store.make_engine("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(store.DatabaseUnavailable, match="Check that the server is running"):
        with store.connect(engine):
            pass


@pytest.mark.postgres
def test_migrated_postgresql_schema_equals_the_declared_schema(postgres_engine: sa.engine.Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with postgres_engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), store.METADATA)
    assert differences == []


def test_migrated_duckdb_has_every_declared_column(duckdb_engine: sa.engine.Engine) -> None:
    with store.connect(duckdb_engine) as conn:
        rows = store.read_frame(
            conn, "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
        )
    have = {(r["table_name"], r["column_name"]) for r in rows.iter_rows(named=True)}
    want = {(t.name, c.name) for t in store.METADATA.sorted_tables for c in t.columns}
    assert want <= have


def test_read_table_keeps_types_nulls_and_awkward_text(engine: sa.engine.Engine) -> None:
    """The PostgreSQL path streams CSV through COPY: commas, quotes, newlines and
    nulls in text, dates, booleans and whole numbers must come back as stored."""
    participants = pl.DataFrame(
        {
            "participant_id": ["X1", "X2"], "program_id": ["P1", "P1"], "supervising_agency_id": [None, "A1"],
            "cohort": ["pilot", "comparison"], "enrollment_date": [dt.date(2024, 1, 2), dt.date(2024, 2, 29)],
            "release_date": [None, dt.date(2024, 1, 31)], "reentry_plan_date": [None, None],
            "supervision_type": ["none", "parole"], "risk_level": ["low", "high"], "sex": [None, "female"],
            "race_ethnicity": ['Two, or "more"\nlines', None], "age_at_enrollment": [None, 34],
            "exit_date": [None, None], "exit_reason": [None, None],
        },
        schema=store.polars_schema("participants"),
    )
    events = pl.DataFrame(
        {"event_id": ["E1", "E2"], "participant_id": ["X1", "X2"], "agency_id": ["A1", "A1"],
         "event_date": [dt.date(2024, 3, 1)] * 2, "event_type": ["home_visit"] * 2, "required": [True, False],
         "outcome": ["compliant", "missed"]},
        schema=store.polars_schema("supervision_events"),
    )
    with engine.begin() as conn:
        store.bulk_upsert(conn, "agencies", pl.DataFrame(
            {"agency_id": ["A1"], "agency_name": ["X"], "agency_type": ["probation"], "jurisdiction": [None]},
            schema=store.polars_schema("agencies")))
        store.bulk_upsert(conn, "programs", pl.DataFrame(
            {"program_id": ["P1"], "program_name": ["R"], "program_model": ["release_planning"],
             "lead_agency_id": ["A1"], "start_date": [dt.date(2023, 1, 1)], "end_date": [None], "grant_id": [None]},
            schema=store.polars_schema("programs")))
        store.bulk_upsert(conn, "participants", participants)
        store.bulk_upsert(conn, "supervision_events", events)
    with store.connect(engine) as conn:
        got_people = store.read_table(conn, "participants").sort("participant_id")
        got_events = store.read_table(conn, "supervision_events").sort("event_id")
        empty = store.read_table(conn, "violations")
    assert got_people.equals(participants)
    assert got_events.equals(events)
    assert empty.height == 0 and empty.schema == store.polars_schema("violations")


def _agencies(*ids: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"agency_id": list(ids), "agency_name": [f"Agency {i}" for i in ids], "agency_type": ["probation"] * len(ids),
         "jurisdiction": [None] * len(ids)},
        schema=store.polars_schema("agencies"),
    )


def _programs(*pairs: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"program_id": [p for p, _ in pairs], "program_name": ["R"] * len(pairs),
         "program_model": ["release_planning"] * len(pairs), "lead_agency_id": [a for _, a in pairs],
         "start_date": [dt.date(2023, 1, 1)] * len(pairs), "end_date": [None] * len(pairs),
         "grant_id": [None] * len(pairs)},
        schema=store.polars_schema("programs"),
    )


def test_duckdb_contract_tables_have_primary_keys_and_no_secondary_indexes(duckdb_engine: sa.engine.Engine) -> None:
    with store.connect(duckdb_engine) as conn:
        indexes = store.read_frame(conn, "SELECT table_name, index_name FROM duckdb_indexes()")
        keys = store.read_frame(
            conn, "SELECT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'"
        )
    contract_names = set(contract.TABLE_NAMES)
    assert not [r for r in indexes.iter_rows(named=True) if r["table_name"] in contract_names]
    assert contract_names <= set(keys["table_name"].to_list())
    # the audit tables keep theirs (the quarantine browser looks rows up by key)
    assert "ix_quarantine_record_key" in indexes["index_name"].to_list()


def test_a_duckdb_file_made_by_revision_0001_upgrades_with_its_rows(tmp_path: Path) -> None:
    engine = store.make_engine(f"duckdb:///{tmp_path / 'old.duckdb'}")
    migrate.upgrade(engine, "0001")
    with store.connect(engine) as conn:
        before = store.read_frame(conn, "SELECT count(*) AS n FROM duckdb_indexes() WHERE table_name = 'participants'")
    assert before["n"][0] == 4
    with engine.begin() as conn:
        store.bulk_upsert(conn, "agencies", _agencies("A1", "A2"))
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == "0005"
    with store.connect(engine) as conn:
        assert store.read_table(conn, "agencies")["agency_id"].sort().to_list() == ["A1", "A2"]
        after = store.read_frame(conn, "SELECT count(*) AS n FROM duckdb_indexes() WHERE table_name = 'participants'")
    assert after["n"][0] == 0
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0001")
    with store.connect(engine) as conn:
        again = store.read_frame(conn, "SELECT count(*) AS n FROM duckdb_indexes() WHERE table_name = 'participants'")
    assert again["n"][0] == 4
    engine.dispose()


def _collations(conn: sa.engine.Connection) -> dict[tuple[str, str], str | None]:
    rows = conn.execute(sa.text(
        "SELECT table_name, column_name, collation_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND data_type = 'character varying' "
        "AND table_name = ANY(:t)"
    ), {"t": list(contract.TABLE_NAMES)})
    return {(t, c): collation for t, c, collation in rows}


_CODES = {(t.name, c.name) for t in contract.TABLES for c in t.columns if store.is_code(t, c)}
_CODES_V1 = {(t.name, c.name) for t in contract.TABLES if t.since == 1 for c in t.columns if store.is_code(t, c)}


@pytest.mark.postgres
def test_postgresql_codes_compare_bytes_and_free_text_keeps_the_database_collation(
    postgres_engine: sa.engine.Engine,
) -> None:
    # alembic's comparison does not look at collations, so they are checked here
    with postgres_engine.connect() as conn:
        collations = _collations(conn)
    assert {k for k, v in collations.items() if v == "C"} == _CODES
    assert {k for k, v in collations.items() if v is None} == {
        ("agencies", "agency_name"), ("agencies", "jurisdiction"), ("programs", "program_name"),
        ("programs", "grant_id"), ("participants", "race_ethnicity"),
    }


@pytest.mark.postgres
def test_revision_0003_gives_an_existing_postgresql_database_byte_order_codes(postgres_url: str) -> None:
    """An existing deployment upgrades in place: rows, keys and indexes stay; downgrade undoes it."""
    import uuid

    admin = sa.create_engine(store.normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    name = f"pd_migration_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = store.make_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        migrate.upgrade(engine, "0002")
        with engine.begin() as conn:
            store.bulk_upsert(conn, "agencies", _agencies("A1", "A2"))
            store.bulk_upsert(conn, "programs", _programs(("P1", "A1"), ("P2", "A2")))
        count_constraints = sa.text("SELECT count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace")
        count_indexes = sa.text("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")
        with engine.connect() as conn:
            assert set(_collations(conn).values()) == {None}
            before = (conn.execute(count_constraints).scalar_one(), conn.execute(count_indexes).scalar_one())
        migrate.upgrade(engine, "0003")
        assert migrate.current_revision(engine) == "0003"
        with engine.connect() as conn:
            assert {k for k, v in _collations(conn).items() if v == "C"} == _CODES_V1
            assert (conn.execute(count_constraints).scalar_one(), conn.execute(count_indexes).scalar_one()) == before
            assert store.read_table(conn, "programs").sort("program_id")["lead_agency_id"].to_list() == ["A1", "A2"]
        from alembic import command

        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "0002")
        with engine.connect() as conn:
            assert set(_collations(conn).values()) == {None}
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_postgresql_first_load_restores_every_index_and_foreign_key(postgres_engine: sa.engine.Engine) -> None:
    """The first load into an empty table drops and rebuilds its indexes and keys;
    afterwards the schema is exactly the declared one again."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with postgres_engine.begin() as conn:
        store.bulk_upsert(conn, "agencies", _agencies("A1", "A2"))
        store.bulk_upsert(conn, "programs", _programs(("P1", "A1"), ("P2", "A2")))
    with postgres_engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), store.METADATA) == []
        fks = conn.execute(sa.text(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'programs'::regclass AND contype = 'f'"
        )).scalar_one()
        assert fks == 1
        assert store.read_table(conn, "programs")["program_id"].sort().to_list() == ["P1", "P2"]


@pytest.mark.postgres
def test_postgresql_schema_is_whole_after_a_full_first_load(postgres_engine: sa.engine.Engine) -> None:
    """Every table's first load (referenced ones keep their primary key, the others
    drop and rebuild it) leaves exactly the declared schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from dashboard.ingest import load_extract

    sample = Path(__file__).resolve().parent.parent / "sample_data"
    assert load_extract(sample, postgres_engine).exit_code in (0, 1)
    with postgres_engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), store.METADATA) == []
        keys = conn.execute(sa.text(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND conrelid = ANY(CAST(:t AS regclass[]))"
        ), {"t": list(contract.TABLE_NAMES)}).scalar_one()
    assert keys == len(contract.TABLE_NAMES)


def _people(*ids: str) -> pl.DataFrame:
    """Participants of program P1, enrolled 2024-01-02, nothing else set."""
    n = len(ids)
    return pl.DataFrame(
        {"participant_id": list(ids), "program_id": ["P1"] * n, "supervising_agency_id": [None] * n,
         "cohort": ["pilot"] * n, "enrollment_date": [dt.date(2024, 1, 2)] * n, "release_date": [None] * n,
         "reentry_plan_date": [None] * n, "supervision_type": ["none"] * n, "risk_level": ["low"] * n,
         "sex": [None] * n, "race_ethnicity": [None] * n, "age_at_enrollment": [None] * n,
         "exit_date": [None] * n, "exit_reason": [None] * n},
        schema=store.polars_schema("participants"),
    )


def _relfilenode(conn: sa.engine.Connection, table: str) -> int:
    """Changes when a table is truncated: tells whether a first load took the frozen-copy path."""
    return conn.execute(sa.text("SELECT relfilenode FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table}).scalar_one()


def _contact_without_participant() -> pl.DataFrame:
    return pl.DataFrame(
        {"contact_id": ["C1"], "agency_id": ["A1"], "program_id": [None], "participant_id": [None],
         "contact_date": [dt.date(2024, 3, 1)], "contact_type": ["outreach"], "co_responder": [False],
         "outcome": ["no_action"]},
        schema=store.polars_schema("police_contacts"),
    )


@pytest.mark.postgres
@pytest.mark.parametrize("child_has_a_row", [False, True])
def test_postgresql_first_load_of_a_parent_sets_aside_keys_only_of_empty_children(
    postgres_engine: sa.engine.Engine, child_has_a_row: bool
) -> None:
    """A table others point at (agencies) takes the frozen-copy path when every
    table pointing at it is empty: their foreign keys are set aside and come
    back. A stored child row (a police contact, which needs no participant)
    keeps the parent's primary key in place. Either way the schema and the
    child's row are whole afterwards."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with postgres_engine.begin() as conn:
        store.bulk_upsert(conn, "agencies", _agencies("A1"))
        if child_has_a_row:
            store.bulk_upsert(conn, "police_contacts", _contact_without_participant())
        before = _relfilenode(conn, "participants")
        store.bulk_upsert(conn, "programs", _programs(("P1", "A1")))
        assert store.bulk_upsert(conn, "participants", _people("X1", "X2"))
        truncated = _relfilenode(conn, "participants") != before
    assert truncated is not child_has_a_row
    with postgres_engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), store.METADATA) == []
        assert store.read_table(conn, "participants")["participant_id"].sort().to_list() == ["X1", "X2"]
        assert store.read_table(conn, "police_contacts").height == int(child_has_a_row)
    # the foreign keys set aside came back and hold
    with pytest.raises(sa.exc.IntegrityError, match="participant"), postgres_engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO referrals (referral_id, participant_id, referring_agency_id, provider_agency_id, "
            "service_type, referral_date, status) VALUES ('R1', 'NOBODY', 'A1', 'A1', 'housing', '2024-02-01', 'pending')"
        ))


@pytest.mark.postgres
def test_postgresql_first_load_refuses_a_duplicate_key(postgres_engine: sa.engine.Engine) -> None:
    import psycopg

    people = _people("X1")
    events = pl.DataFrame(
        {"event_id": ["E1", "E1"], "participant_id": ["X1", "X1"], "agency_id": ["A1", "A1"],
         "event_date": [dt.date(2024, 3, 1)] * 2, "event_type": ["home_visit"] * 2, "required": [True, False],
         "outcome": ["compliant", "missed"]},
        schema=store.polars_schema("supervision_events"),
    )
    with pytest.raises(psycopg.errors.UniqueViolation):
        with postgres_engine.begin() as conn:
            store.bulk_upsert(conn, "agencies", _agencies("A1"))
            store.bulk_upsert(conn, "programs", _programs(("P1", "A1")))
            store.bulk_upsert(conn, "participants", people)
            store.bulk_upsert(conn, "supervision_events", events)
    with postgres_engine.connect() as conn:
        assert store.read_table(conn, "participants").height == 0
        assert conn.execute(sa.text(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND conrelid = 'supervision_events'::regclass"
        )).scalar_one() == 1


@pytest.mark.postgres
def test_postgresql_first_load_still_refuses_a_row_without_its_parent(postgres_engine: sa.engine.Engine) -> None:
    import psycopg

    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="lead_agency_id"):
        with postgres_engine.begin() as conn:
            store.bulk_upsert(conn, "agencies", _agencies("A1"))
            store.bulk_upsert(conn, "programs", _programs(("P1", "A1"), ("P2", "NOPE")))
    with postgres_engine.connect() as conn:
        assert store.read_table(conn, "agencies").height == 0
        fks = conn.execute(sa.text(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'programs'::regclass AND contype = 'f'"
        )).scalar_one()
        indexes = conn.execute(sa.text(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'programs' AND indexname = 'ix_programs_lead_agency_id'"
        )).scalar_one()
    assert (fks, indexes) == (1, 1)


@pytest.mark.postgres
def test_postgresql_reupsert_leaves_identical_rows_unwritten(postgres_engine: sa.engine.Engine) -> None:
    with postgres_engine.begin() as conn:
        store.bulk_upsert(conn, "agencies", _agencies("A1", "A2"))

    def versions() -> dict[str, str]:
        with postgres_engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT agency_id, xmin::text FROM agencies")).all()
        return dict((r[0], r[1]) for r in rows)

    first = versions()
    changed = _agencies("A1", "A2").with_columns(
        pl.when(pl.col("agency_id") == "A2").then(pl.lit("Renamed")).otherwise(pl.col("agency_name")).alias("agency_name")
    )
    with postgres_engine.begin() as conn:
        store.bulk_upsert(conn, "agencies", changed)
    second = versions()
    assert second["A1"] == first["A1"]  # identical: not rewritten
    assert second["A2"] != first["A2"]  # changed: updated
    with postgres_engine.connect() as conn:
        assert store.read_table(conn, "agencies").sort("agency_id")["agency_name"].to_list() == ["Agency A1", "Renamed"]


@pytest.mark.postgres
def test_postgresql_parallel_read_equals_the_one_by_one_read(
    postgres_engine: sa.engine.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Split into one-page ctid ranges, read over several connections, the tables
    come back exactly as read_table gives them, and the parallel path really ran."""
    from dashboard.ingest import load_extract

    pytest.importorskip("adbc_driver_postgresql")
    sample = Path(__file__).resolve().parent.parent / "sample_data"
    assert load_extract(sample, postgres_engine).exit_code in (0, 1)
    monkeypatch.setattr(postgres_backend, "_PAGES_PER_PART", 1)
    calls: list[str] = []
    real = postgres_backend._postgres_parallel_read
    monkeypatch.setattr(postgres_backend, "_postgres_parallel_read", lambda *args: calls.append("x") or real(*args))
    names = [*contract.TABLE_NAMES, "load_runs"]
    parallel = store.read_tables(postgres_engine, names)
    assert calls == ["x"]
    with store.connect(postgres_engine) as conn:
        for name in names:
            one = store.read_table(conn, name)
            key = [c.name for c in store.METADATA.tables[name].primary_key.columns]
            assert parallel[name].schema == one.schema, name
            assert parallel[name].sort(key).equals(one.sort(key)), name
    assert parallel["supervision_events"].height > 10_000


@pytest.mark.postgres
def test_postgresql_parallel_read_sees_one_snapshot(
    postgres_engine: sa.engine.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row committed after the read began (here: just before the first reading
    connection opens) is in none of the frames: every connection reads the
    snapshot the first one exported."""
    adbc = pytest.importorskip("adbc_driver_postgresql.dbapi")
    with postgres_engine.begin() as conn:
        store.bulk_upsert(conn, "agencies", _agencies("A1"))
        store.bulk_upsert(conn, "programs", _programs(("P1", "A1")))
    import threading

    real_connect = adbc.connect
    committed: list[bool] = []
    once = threading.Lock()  # the reading connections open from several threads

    def connect_after_a_commit(*args, **kwargs):  # type: ignore[no-untyped-def]
        with once:
            if not committed:
                with postgres_engine.begin() as other:
                    store.bulk_upsert(other, "agencies", _agencies("A1", "LATE"))
                committed.append(True)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(adbc, "connect", connect_after_a_commit)
    frames = store.read_tables(postgres_engine, ["agencies", "programs"])
    assert committed == [True]
    assert frames["agencies"]["agency_id"].to_list() == ["A1"]
    with store.connect(postgres_engine) as conn:
        assert sorted(store.read_table(conn, "agencies")["agency_id"].to_list()) == ["A1", "LATE"]


@pytest.mark.postgres
def test_postgresql_read_falls_back_to_one_connection(
    postgres_engine: sa.engine.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    adbc = pytest.importorskip("adbc_driver_postgresql.dbapi")
    with postgres_engine.begin() as conn:
        store.bulk_upsert(conn, "agencies", _agencies("A1", "A2"))

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("too many connections")

    monkeypatch.setattr(adbc, "connect", refuse)
    with pytest.warns(RuntimeWarning, match="too many connections"):
        frames = store.read_tables(postgres_engine, ["agencies", "programs"])
    assert sorted(frames["agencies"]["agency_id"].to_list()) == ["A1", "A2"]
    assert frames["programs"].height == 0 and frames["programs"].schema == store.polars_schema("programs")
