"""Logs never hold what a person wrote.

A canary typed into every field of an entry, through the API and the pages, and a
request the app refuses, must not appear in any log record, from any logger, at any
level: neither in the message nor in its arguments.
"""

from __future__ import annotations

import logging

from tests.log_capture import every_logger, records_holding
from tests.payloads import CALM, CALM_FORM, GOOD, GOOD_FORM
from tests.security.conftest import send_form, signed_in

CANARY = "canary-4b1d-what-I-never-said-aloud"


def write_the_canary_everywhere(app, hana, ivan, experience_id: int) -> list:
    """Every way an entry reaches the app, each carrying the canary; the answers."""
    answers = [
        hana.post("/api/v1/checkins", {**CALM, "note": CANARY, "body_signals": [CANARY[:40]]}),
        ivan.post("/api/v1/experiences", {"experience_id": experience_id, **GOOD, "note": CANARY}),
    ]
    browser = signed_in(app, "hana")
    form = {**CALM_FORM, "note": CANARY, "body_signals": CANARY[:40]}
    answers.append(send_form(browser, "/checkin", form))
    logged = {"practice_id": "walk-side-by-side", "felt_pressured": "no", **GOOD_FORM}
    answers.append(send_form(browser, "/experiences", {**logged, "note": CANARY}))
    assert [a.status_code for a in answers] == [201, 201, 303, 303]
    return answers


def refuse_the_canary(app, hana) -> list:
    """Entries the app refuses, with the canary beside the mistake; the answers."""
    browser = signed_in(app, "hana")
    answers = [
        hana.post("/api/v1/checkins", {**CALM, "activation": 11, "note": CANARY}),
        hana.post("/api/v1/checkins", {**CALM, "note": CANARY * 200}),  # too long
        hana.post("/api/v1/checkins", {**CALM, "state": CANARY}),
        send_form(browser, "/checkin", {"note": CANARY}),  # no scales chosen
    ]
    assert [a.status_code for a in answers] == [422, 422, 422, 422]
    return answers


def test_a_canary_written_into_every_entry_never_reaches_the_logs(
    app, hana_and_ivan, hanas_experience, caplog
):
    hana, ivan = hana_and_ivan
    caplog.set_level(logging.DEBUG)  # the root logger: every logger that follows it
    write_the_canary_everywhere(app, hana, ivan, hanas_experience)
    refuse_the_canary(app, hana)
    assert caplog.records, "something is logged at DEBUG, so silence proves nothing"
    assert records_holding(caplog, CANARY[:20]) == []


def test_even_statement_logging_never_shows_what_was_written(
    app, hana_and_ivan, hanas_experience, caplog
):
    hana, ivan = hana_and_ivan
    every_logger(caplog)
    write_the_canary_everywhere(app, hana, ivan, hanas_experience)
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    assert records_holding(caplog, CANARY[:20]) == []
    # Still true once entries are sealed: parameters (usernames, token hashes) stay out.
    assert app.state.engine.hide_parameters


def test_an_api_refusal_does_not_echo_what_was_typed(app, hana_and_ivan):
    hana, _ = hana_and_ivan
    for answer in refuse_the_canary(app, hana)[:3]:
        assert CANARY not in answer.text
