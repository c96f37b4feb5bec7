"""On SQLite the sign-in, the hot reads and the short writes run on the event loop
(web.deps.run_read, run_write): a trip to a worker thread costs more than their work.
The loop never waits for a write turn: a write handler waits for it there without
blocking, and a read that turns out to need a write is stopped before it asks and runs
again, from its start, in a worker thread.

    python -m pytest tests/test_on_the_loop.py    # a few seconds
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

import httpx
import pytest
from sqlalchemy import event, func, select, update

from reconnect.database import sqlite_module
from reconnect.models import CheckInEntry, PaceSignal, Person
from reconnect.web.deps import run_read, run_write
from tests.conftest import run_coroutine
from tests.pacing.api_steps import check_in
from tests.payloads import CALM
from tests.ports import serving


def _zone_of(app, username: str) -> str:
    with app.state.reconnect.sessions() as db:
        return db.scalar(select(Person.time_zone).where(Person.username == username))


def test_a_read_that_must_write_stops_before_it_and_runs_again_in_a_worker_thread(app, people):
    people.register("hana")
    hers = Person.username == "hana"
    loop_thread: list[int] = []  # the thread the event loop runs on
    ran_in: list[int] = []  # where each try of the read ran

    async def ask() -> str:
        loop_thread.append(threading.get_ident())
        with app.state.reconnect.sessions() as db:

            def read_then_write() -> str:
                ran_in.append(threading.get_ident())
                zone = db.scalar(select(Person.time_zone).where(hers))
                try:
                    db.execute(update(Person).where(hers).values(time_zone="Asia/Tokyo"))
                except Exception:  # a store's own handling must not take it for a failure
                    return "swallowed"
                db.commit()
                return f"was {zone}"

            return await run_read(db, read_then_write)

    assert run_coroutine(ask()) == "was UTC"
    first, second = ran_in
    assert first == loop_thread[0] and second != loop_thread[0]
    assert _zone_of(app, "hana") == "Asia/Tokyo"


def begun(app, pool: ThreadPoolExecutor, ask, *args) -> Future:
    """``ask(*args)`` sent on ``pool``, once the app has begun on it: its first statement
    (the sign-in's) has run. A request's first turn on the loop runs until it first
    waits, so after this the partner's requests are read behind it."""
    started = threading.Event()

    def first_statement(*_: object) -> None:
        started.set()

    event.listen(app.state.engine, "before_cursor_execute", first_statement)
    try:
        asked = pool.submit(ask, *args)
        assert started.wait(timeout=10), "the request never reached the app"
    finally:
        event.remove(app.state.engine, "before_cursor_execute", first_statement)
    return asked


def answered_while_another_writes(app, partner_token: str, ask) -> httpx.Response:
    """``ask(base_url)``, sent to the served app while another connection's write holds
    the file's write turn. Meanwhile the partner's pace is read on the loop, and ``ask``
    is still waiting; then the other write commits, and ``ask``'s answer comes back."""
    sessions = app.state.reconnect.sessions
    with serving(app) as port, ThreadPoolExecutor(1) as pool:
        base = f"http://127.0.0.1:{port}"
        bearer = {"Authorization": f"Bearer {partner_token}"}
        with httpx.Client(base_url=base, headers=bearer, timeout=5) as partner:
            with sessions() as other_writer:
                other_writer.execute(
                    update(Person).where(Person.username == "ivan").values(time_zone="Etc/UTC")
                )  # a worker thread's write, say: holds the turn until it commits
                asked = begun(app, pool, ask, base)
                for _ in range(3):
                    assert partner.get("/api/v1/pace").status_code == 200
                assert not asked.done(), "it waits for the write turn"
                other_writer.commit()
            return asked.result(timeout=30)


def test_the_loop_answers_while_a_read_that_must_write_waits_for_its_turn(
    app, people, clock, hana_and_ivan
):
    """Today near a marked date writes the pace's hold, once: it waits for the turn in a
    worker thread, and the pace is still read on the loop for the partner."""
    hana, ivan = hana_and_ivan
    check_in(hana)
    check_in(ivan)
    hana.post("/api/v1/hard-dates", {"label": "The day I found out", "month": 3, "day": 13})
    clock.advance(days=8)  # three days before: the first visit to Today writes the hold
    hana.token, ivan.token = people.login("hana"), people.login("ivan")

    def today(base: str) -> httpx.Response:
        return httpx.get(f"{base}/today", cookies={"reconnect_session": hana.token}, timeout=30)

    answer = answered_while_another_writes(app, ivan.token, today)
    assert answer.status_code == 200
    assert "The day I found out is near" in answer.text
    with app.state.reconnect.sessions() as db:
        assert len(db.scalars(select(PaceSignal).where(PaceSignal.kind == "hold")).all()) == 1


def test_a_write_on_the_loop_waits_there_for_a_threads_turn_and_blocks_nothing(
    app, people, hana_and_ivan
):
    hana, ivan = hana_and_ivan

    def check_in_now(base: str) -> httpx.Response:
        bearer = {"Authorization": f"Bearer {hana.token}"}
        return httpx.post(f"{base}/api/v1/checkins", json=CALM, headers=bearer, timeout=30)

    assert answered_while_another_writes(app, ivan.token, check_in_now).status_code == 201
    # A refused check-in gives its turn back: the next is not held up.
    future = {**CALM, "recorded_at": "2100-01-01T00:00:00+00:00"}
    assert hana.post("/api/v1/checkins", future).status_code == 422
    assert hana.post("/api/v1/checkins", CALM).status_code == 201
    with app.state.reconnect.sessions() as db:
        assert db.scalar(select(func.count()).select_from(CheckInEntry)) == 2


def test_a_write_on_the_loop_never_waits_there_for_another_process(app, people, hana_and_ivan):
    """A command run beside the server holds SQLite's write lock: the check-in waits for
    it in a worker thread, with SQLite's own wait, and the loop goes on answering."""
    hana, ivan = hana_and_ivan
    beside = sqlite_module().connect(app.state.engine.url.database, isolation_level=None)
    try:
        with serving(app) as port, ThreadPoolExecutor(1) as pool:
            base = f"http://127.0.0.1:{port}"
            hers = {"Authorization": f"Bearer {hana.token}"}
            his = {"Authorization": f"Bearer {ivan.token}"}
            with httpx.Client(base_url=base, headers=his, timeout=5) as partner:
                beside.execute("BEGIN IMMEDIATE")  # the file's write lock, from outside
                checking_in = begun(
                    app,
                    pool,
                    partial(httpx.post, json=CALM, headers=hers, timeout=30),
                    f"{base}/api/v1/checkins",
                )
                for _ in range(3):
                    assert partner.get("/api/v1/pace").status_code == 200
                assert not checking_in.done(), "the check-in waits for the other process"
                beside.execute("COMMIT")
                assert checking_in.result(timeout=30).status_code == 201
    finally:
        beside.close()
    assert hana.post("/api/v1/checkins", CALM).status_code == 201  # waits again as it should


def test_a_write_is_never_run_again_after_its_commit(app, people):
    """A second connection writing on the loop after the request committed (a job run
    in the request, say) is a mistake in the code: it fails, and the write stays once."""
    people.register("hana")
    hers = Person.username == "hana"
    sessions = app.state.reconnect.sessions

    async def ask() -> None:
        with sessions() as db:

            def commit_then_write_elsewhere() -> None:
                db.execute(update(Person).where(hers).values(time_zone="Asia/Tokyo"))
                db.commit()
                with sessions() as own:
                    own.execute(update(Person).where(hers).values(time_zone="Europe/Oslo"))
                    own.commit()

            await run_write(db, commit_then_write_elsewhere)

    with pytest.raises(RuntimeError, match="written twice"):
        run_coroutine(ask())
    assert _zone_of(app, "hana") == "Asia/Tokyo"
