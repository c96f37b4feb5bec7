"""The database: migrations on both backends, SQLite durability settings, the SQLite guard."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError

from reconnect import database
from reconnect.database import (
    DatabaseError,
    check_sqlite_version,
    current_revision,
    head_revision,
    make_engine,
    normalise_url,
    plain_rows,
    plain_value,
    sqlite_module,
    upgrade,
)
from reconnect.models import Base, CheckInEntry, Couple, Membership, SharedNote, SharedStatus
from reconnect.sealing import add_sealed
from tests.payloads import CALM


@pytest.mark.usefixtures("backend")
def test_migrations_build_exactly_the_models_schema(app):
    engine = app.state.engine
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    assert set(inspect(engine).get_table_names()) >= {t.name for t in Base.metadata.sorted_tables}


@pytest.mark.usefixtures("backend")
def test_upgrading_twice_changes_nothing_and_reads_no_migration(app, monkeypatch):
    before = current_revision(app.state.engine)
    ran = []
    monkeypatch.setattr(database.command, "upgrade", lambda *args: ran.append(args))
    upgrade(app.state.engine)
    assert current_revision(app.state.engine) == before
    assert ran == []  # a start at the newest revision asks one question, nothing more
    upgrade(app.state.engine, "0001")  # any other target still goes to Alembic
    assert len(ran) == 1


def test_sqlite_runs_with_wal_full_sync_foreign_keys_and_secure_delete(app):
    with app.state.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2  # FULL
        assert pragma("foreign_keys") == 1
        assert pragma("secure_delete") == 1


def test_the_bundled_sqlite_has_the_wal_reset_fix():
    assert sqlite_module().sqlite_version_info >= (3, 51, 3)


@pytest.mark.parametrize("version", [(3, 40, 1), (3, 51, 2), (3, 7, 0)])
def test_an_affected_sqlite_is_refused_with_a_clear_message(version):
    with pytest.raises(DatabaseError, match="WAL-reset"):
        check_sqlite_version(version)


def test_postgres_urls_are_routed_to_psycopg_3():
    assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalise_url("postgres://u@h/db").startswith("postgresql+psycopg://")


def test_unsupported_databases_are_refused_by_name():
    with pytest.raises(DatabaseError, match="Unsupported"):
        make_engine("mysql://root@localhost/test")


def test_the_sqlite_file_is_created_in_the_data_folder(tmp_path):
    from reconnect.settings import load_settings

    settings = load_settings(data_dir=tmp_path / "nested" / "data")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    assert (tmp_path / "nested" / "data" / "reconnect.db").exists()


def test_decisions_kept_before_the_upgrade_are_resumed_from_only_if_newest(tmp_path):
    """Which older decisions lack an entry dated back and written later cannot be told,
    so after the upgrade only each couple's newest is resumed from."""
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0014")
    with engine.begin() as connection:
        for couple in (1, 2):
            connection.execute(
                text("INSERT INTO couple (id, created_at) VALUES (:c, '2026-01-01 00:00:00')"),
                {"c": couple},
            )
        for couple, day in [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2)]:
            connection.execute(
                text(
                    "INSERT INTO pace_decision (couple_id, decided_at, policy_version,"
                    " permitted_tier, ladder_tier, data) VALUES (:c, :at, 'v2', 1, 1, '{}')"
                ),
                {"c": couple, "at": f"2026-03-0{day} 12:00:00"},
            )
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT couple_id, decided_at, superseded FROM pace_decision ORDER BY id")
        ).all()
    assert [(c, str(at)[:10], bool(s)) for c, at, s in rows] == [
        (1, "2026-03-01", True),
        (1, "2026-03-02", True),
        (1, "2026-03-03", False),
        (2, "2026-03-01", True),
        (2, "2026-03-02", False),
    ]


@pytest.fixture
def impatient_sqlite(tmp_path):
    """An engine on a fresh SQLite file whose connections never wait in SQLite itself
    (busy_timeout 0): a write that finds another one under way fails at once there."""
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    event.listen(engine, "connect", lambda raw, _: raw.execute("PRAGMA busy_timeout=0"))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE words (text TEXT NOT NULL)")
    yield engine
    engine.dispose()


def _in_thread(work) -> tuple[threading.Thread, list[BaseException]]:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # handed to the test
            failures.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, failures


def test_writes_of_one_process_take_turns_in_the_process(impatient_sqlite):
    """Two requests of one process writing at once on SQLite: the second waits for the
    first's commit in the process and is woken by it. SQLite's own waiting retries on a
    timer (sleeps of up to 100 ms), which made a check-in under load wait over a second;
    with it turned off here, both writes still land, one after the other."""
    insert = "INSERT INTO words (text) VALUES (?)"
    with impatient_sqlite.connect() as first:
        first.exec_driver_sql(insert, ("first",))  # its transaction is open, not committed

        def second() -> None:
            with impatient_sqlite.begin() as connection:
                connection.exec_driver_sql(insert, ("second",))

        thread, failures = _in_thread(second)
        thread.join(timeout=0.5)
        assert failures == [], "the second write failed instead of waiting its turn"
        assert thread.is_alive(), "the second write did not wait for the first"
        first.commit()
    thread.join(timeout=10)
    assert not thread.is_alive() and failures == []
    with impatient_sqlite.connect() as connection:
        texts = connection.exec_driver_sql("SELECT text FROM words ORDER BY rowid").scalars()
        assert list(texts) == ["first", "second"]


def test_reads_never_wait_for_a_write_under_way(impatient_sqlite):
    with impatient_sqlite.connect() as writer:
        writer.exec_driver_sql("INSERT INTO words (text) VALUES ('unsaved')")
        seen: list[int] = []

        def read() -> None:
            with impatient_sqlite.connect() as connection:
                seen.append(connection.exec_driver_sql("SELECT count(*) FROM words").scalar_one())

        thread, failures = _in_thread(read)
        thread.join(timeout=10)
        assert not thread.is_alive() and failures == []
        assert seen == [0]  # the write is not committed yet, and the read did not wait for it
        writer.rollback()


def test_a_write_that_failed_gives_up_its_turn(impatient_sqlite):
    with impatient_sqlite.connect() as connection, pytest.raises(IntegrityError):
        connection.exec_driver_sql("INSERT INTO words (text) VALUES (NULL)")
    # The failed write's connection went back to the pool (rolled back): the next writes
    # go ahead, in this thread and in another.
    with impatient_sqlite.begin() as connection:
        connection.exec_driver_sql("INSERT INTO words (text) VALUES ('after')")

    def other_thread() -> None:
        with impatient_sqlite.begin() as connection:
            connection.exec_driver_sql("INSERT INTO words (text) VALUES ('other thread')")

    thread, failures = _in_thread(other_thread)
    thread.join(timeout=10)
    assert not thread.is_alive() and failures == []


@pytest.mark.usefixtures("backend")
def test_new_sealed_rows_are_stored_whole_and_read_back(hana_and_ivan, app):
    """A check-in, a note and a status are each inserted for their id and then sealed
    with it (sealing.add_sealed); each reads back whole, and nothing was left unsealed."""
    hana, ivan = hana_and_ivan
    assert hana.post("/api/v1/checkins", CALM).status_code == 201
    assert hana.post("/api/v1/notes", {"text": "Thank you for tonight."}).status_code == 201
    shared = hana.post("/api/v1/status", {"status": "okay", "words": "a quiet day"})
    assert shared.status_code in (200, 201), shared.text
    assert [c["note"] for c in hana.get("/api/v1/checkins").json()] == [CALM["note"]]
    assert [n["text"] for n in ivan.get("/api/v1/notes").json()["notes"]] == [
        "Thank you for tonight."
    ]
    with app.state.reconnect.sessions() as db:
        for model in (CheckInEntry, SharedNote, SharedStatus):
            assert all(len(sealed) > 16 for sealed in db.scalars(select(model.sealed)))


def test_a_new_sealed_row_is_given_its_column_values_only(app):
    """add_sealed writes plain statements: a related row set on the object would be
    dropped without a word, so it is refused."""
    with app.state.reconnect.sessions() as db:
        row = Membership(person_id=1, role="hurt", couple=Couple())
        with pytest.raises(TypeError, match=r"not related rows: \['couple'\]"):
            add_sealed(db, row, lambda row: b"")
        assert not db.new


@pytest.mark.usefixtures("backend")
def test_plain_reads_on_the_drivers_cursor_give_what_the_session_gives(hana_and_ivan, app):
    """database.plain_rows runs a select on the driver's cursor with SQLAlchemy's own
    converters: times in and out (aware, in UTC), sealed bytes, a union with literal
    labels, a limit. Each gives exactly the session's rows, on both backends."""
    from reconnect.dates.store import _SEALED
    from reconnect.measures.plans import _BOTH_PLANS
    from reconnect.moments.store import _PROPOSALS_NEWEST_FIRST, _STATUSES_NEWEST_FIRST
    from reconnect.pacing.store import _CHECKPOINT, _SIGNALS_AFTER

    hana, ivan = hana_and_ivan
    for person in (hana, ivan):
        assert person.post("/api/v1/checkins", CALM).status_code == 201
    hana.post("/api/v1/status", {"status": "okay", "words": "a quiet day"})
    hana.post("/api/v1/questionnaire-plan", {"instrument_id": "gad-7", "every_days": 7})
    with app.state.reconnect.sessions() as db:
        couple_id = db.scalar(select(Couple.id))
        person_id = db.scalar(select(Membership.person_id).where(Membership.role == "hurt"))
        at = db.scalar(select(SharedStatus.at))
        assert at is not None and at.tzinfo is not None
        asked = [
            (_CHECKPOINT, {"couple_id": couple_id, "before": at + timedelta(days=1)}),
            (
                _SIGNALS_AFTER,
                {
                    "couple_id": couple_id,
                    "after": at - timedelta(days=1),
                    "until": at + timedelta(days=1),
                },
            ),
            (_STATUSES_NEWEST_FIRST, {"couple_id": couple_id, "since": at - timedelta(hours=1)}),
            (_STATUSES_NEWEST_FIRST, {"couple_id": couple_id, "since": at + timedelta(hours=1)}),
            (_PROPOSALS_NEWEST_FIRST, {"couple_id": couple_id}),
            (_BOTH_PLANS, {"person_id": person_id, "couple_id": couple_id}),
            (_SEALED, {"person_id": person_id}),
        ]
        found = []
        sent: list[tuple[str, object]] = []

        def heard(_connection, _cursor, sql, parameters, *_: object) -> None:
            values = parameters if isinstance(parameters, dict) else tuple(parameters)
            sent.append((sql, values))

        event.listen(app.state.engine, "before_cursor_execute", heard)
        try:
            for statement, params in asked:
                expected = [tuple(row) for row in db.execute(statement, params)]
                assert plain_rows(db, statement, params) == expected, statement
                found.append(len(expected))
                # The same statement and the same converted values reach the driver.
                assert sent[-1] == sent[-2], statement
        finally:
            event.remove(app.state.engine, "before_cursor_execute", heard)
        assert plain_value(db, _CHECKPOINT, asked[0][1]) == db.scalar(_CHECKPOINT, asked[0][1])
    # Each kind of row was there to compare: decisions, signals, a status, a plan.
    assert found[:4] == [1, found[1], 1, 0] and found[1] >= 2 and found[5] == 1
