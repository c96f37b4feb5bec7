"""On PostgreSQL a request's reads run outside a transaction block until its first
write (database.needs_a_transaction): a request that only reads sends no BEGIN and no
ROLLBACK, two trips to the server each. What a request writes is still one
transaction, begun before its first write, with its row locks held to its end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from reconnect.database import make_engine, needs_a_transaction
from reconnect.models import Commitment, Couple, SharedNote, utcnow
from reconnect.pacing.store import _LOCK_COUPLE
from tests.conftest import PG_ADMIN_URL, fresh_postgres_database
from tests.payloads import CALM
from tests.statements import heard as statements_heard

DIALECT = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
LOCK_NOW = "SELECT id FROM couple WHERE id = %s FOR UPDATE NOWAIT"
STRICT = "'repeatable read'"


def sql(statement: Any) -> str:
    return str(statement.compile(dialect=DIALECT))


def test_only_a_plain_select_runs_outside_a_transaction():
    plain = select(Couple.id).where(Couple.id == 1)
    assert not needs_a_transaction(sql(plain))
    assert not needs_a_transaction("\n  select 1")
    # Every way SQLAlchemy can lock the rows a select reads, the app's own included.
    locking = [
        plain.with_for_update(),
        plain.with_for_update(read=True),
        plain.with_for_update(key_share=True),
        plain.with_for_update(read=True, key_share=True),
        plain.with_for_update(nowait=True),
        plain.with_for_update(skip_locked=True),
        plain.with_for_update(of=Couple.id),
        select(Commitment).with_for_update(),
        _LOCK_COUPLE,
    ]
    for statement in locking:
        assert needs_a_transaction(sql(statement)), sql(statement)
    writes = [
        insert(Couple).values(created_at=utcnow()),
        update(Couple).values(created_at=utcnow()),
        delete(Couple),
        select(Couple.id).cte("c").select(),  # anything but a plain SELECT begins one
    ]
    for statement in writes:
        assert needs_a_transaction(sql(statement)), sql(statement)
    for command in ("SAVEPOINT sa_1", "TRUNCATE couple", "LOCK TABLE couple"):
        assert needs_a_transaction(command)


def _outside(connection: Any, statement: str) -> tuple[str, bool]:
    return statement, connection.connection.dbapi_connection.autocommit


def heard(engine: Any) -> Any:
    """Each statement sent while the block runs, and whether it ran outside a
    transaction (as the engine's own listener left it)."""
    return statements_heard(engine, _outside)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_request_that_only_reads_begins_no_transaction(backend, hana_and_ivan, app):
    hana, _ = hana_and_ivan
    assert hana.post("/api/v1/checkins", CALM).status_code == 201
    for path in ("/api/v1/pace", "/api/v1/notes", "/api/v1/checkins"):
        with heard(app.state.engine) as sent:
            assert hana.get(path).status_code == 200, path
        assert sent, path
        assert all(outside for _, outside in sent), (path, sent)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_check_in_is_one_transaction_from_its_first_write(backend, hana_and_ivan, app):
    hana, _ = hana_and_ivan
    with heard(app.state.engine) as sent:
        assert hana.post("/api/v1/checkins", CALM).status_code == 201
    first_write = next(i for i, (statement, _) in enumerate(sent) if needs_a_transaction(statement))
    assert sent[first_write][0].startswith("INSERT INTO checkin")
    assert all(outside for _, outside in sent[:first_write])  # the sign-in's read
    assert not any(outside for _, outside in sent[first_write:])  # the lock, the decision
    assert len(hana.get("/api/v1/checkins").json()) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_writes_after_reads_stay_one_transaction(backend, hana_and_ivan, app, postgres_url):
    """Read first, then write twice: until the commit nobody else sees either write,
    the row lock holds, and a rollback leaves nothing of them."""
    hana, _ = hana_and_ivan
    hana.post("/api/v1/notes", {"text": "first"})
    sessions = app.state.reconnect.sessions
    with sessions() as db, psycopg.connect(postgres_url, autocommit=True) as other:
        couple_id, person_id = db.execute(select(SharedNote.couple_id, SharedNote.person_id)).one()
        at = utcnow()
        for words in ("second", "third"):
            db.execute(
                insert(SharedNote).values(
                    couple_id=couple_id, person_id=person_id, at=at, sealed=words.encode()
                )
            )
        db.execute(_LOCK_COUPLE, {"couple_id": couple_id})
        assert other.execute("SELECT count(*) FROM shared_note").fetchone() == (1,)
        with pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute(LOCK_NOW, (couple_id,))
        db.rollback()
        assert other.execute("SELECT count(*) FROM shared_note").fetchone() == (1,)
        other.execute(LOCK_NOW, (couple_id,))


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_connection_back_from_a_transaction_reads_outside_one_again(backend, app):
    """After a commit, and after a write that failed, the pool's next session reads
    outside a transaction as the first did, and its own write is whole."""
    engine = app.state.engine
    sessions = app.state.reconnect.sessions
    with sessions() as db:
        db.execute(insert(Couple).values(id=1, created_at=utcnow()))
        db.commit()
    with sessions() as db:
        with pytest.raises(IntegrityError):
            db.execute(insert(Couple).values(id=1, created_at=utcnow()))
        db.rollback()
        with heard(engine) as sent:
            db.execute(select(Couple.id)).all()
            db.execute(
                update(Couple).values(created_at=utcnow() - timedelta(days=1)).where(Couple.id == 1)
            )
            db.execute(text("SELECT 1")).all()
            db.commit()
        assert [outside for _, outside in sent] == [True, False, False]
    with sessions() as db, heard(engine) as sent:
        assert db.execute(select(Couple.created_at)).scalar_one() < utcnow() - timedelta(hours=1)
    assert [outside for _, outside in sent] == [True]


@pytest.mark.postgres
def test_a_server_set_to_a_stricter_isolation_keeps_every_read_in_its_transaction():
    """Under REPEATABLE READ a transaction's reads share one snapshot: there the reads
    stay inside the transaction, as they were before."""
    with fresh_postgres_database("reconnect_isolation") as url:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_isolation = {STRICT}')
        engine = make_engine(url)
        try:
            with engine.connect() as connection, heard(engine) as sent:
                connection.execute(text("SELECT 1")).all()
                connection.execute(text("SELECT 2")).all()
            assert [outside for _, outside in sent] == [False, False]
        finally:
            engine.dispose()
