"""On SQLite the sign-in and the hot reads run on the event loop (web.deps.run_read):
a trip to a worker thread costs more than the read. A write there would wait for its
turn and hold up every other request, so it is stopped before it asks, and the request
runs again, from its start, in a worker thread.

    python -m pytest tests/test_reads_on_the_loop.py    # a few seconds
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import select, update

from reconnect.models import PaceSignal, Person
from reconnect.web.deps import run_read
from tests.conftest import run_coroutine
from tests.pacing.api_steps import check_in
from tests.ports import serving


def _zone_of(app, username: str) -> str:
    with app.state.reconnect.sessions() as db:
        return db.scalar(select(Person.time_zone).where(Person.username == username))


def test_a_read_that_must_write_stops_before_it_and_runs_again_in_a_worker_thread(app, people):
    people.register("hana")
    ran_in: list[int] = []

    hers = Person.username == "hana"

    loop_thread: list[int] = []

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


def test_the_loop_answers_while_a_read_that_must_write_waits_for_its_turn(
    app, people, clock, hana_and_ivan
):
    """Today near a marked date writes the pace's hold, once. Here another writer holds
    the turn meanwhile: Today waits for it in a worker thread, and the pace is still
    read on the loop for the partner."""
    hana, ivan = hana_and_ivan
    check_in(hana)
    check_in(ivan)
    hana.post("/api/v1/hard-dates", {"label": "The day I found out", "month": 3, "day": 13})
    clock.advance(days=8)  # three days before: the first visit to Today writes the hold
    hana.token, ivan.token = people.login("hana"), people.login("ivan")
    sessions = app.state.reconnect.sessions
    with serving(app) as port, ThreadPoolExecutor(1) as pool:
        base = f"http://127.0.0.1:{port}"
        page = httpx.Client(base_url=base, cookies={"reconnect_session": hana.token}, timeout=30)
        api = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {ivan.token}"}, timeout=5
        )
        with page, api, sessions() as other_writer:
            other_writer.execute(
                update(Person).where(Person.username == "ivan").values(time_zone="Europe/Oslo")
            )  # holds the file's write turn until it commits
            today = pool.submit(page.get, "/today")
            for _ in range(3):
                assert api.get("/api/v1/pace").status_code == 200
            assert not today.done(), "Today writes the hold, so it waits for the turn"
            other_writer.commit()
            answer = today.result(timeout=30)
        assert answer.status_code == 200
        assert "The day I found out is near" in answer.text
    with sessions() as db:
        assert len(db.scalars(select(PaceSignal).where(PaceSignal.kind == "hold")).all()) == 1
