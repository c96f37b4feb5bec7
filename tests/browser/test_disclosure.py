"""In real browsers, at a phone's width: the disclosure session. Ivan writes his account
and Hana her questions and limits, each privately; both say they are ready, and her
questions reach him; the session waits until the pace reaches hard conversations (climbed
here through the API while the server's clock moves on); then it opens, his account his
alone to read from, and each writes a private reflection afterwards."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.steps import pair, reflect
from tests.conftest import PASSWORD
from tests.payloads import CALM, GOOD

pytestmark = pytest.mark.browser

ACCOUNT = {
    "What happened, and when": "It began in March at work and went on until the summer.",
    "What was hidden, and how": "I deleted messages and said I was working late.",
    "Any contact since it came to light": "She wrote once in October; I did not answer.",
}
QUESTIONS = ["Did you love her?", "Who else knew?"]
NOT_YET = "does not reach hard conversations yet"
HARD_CONVERSATIONS = 4  # the tier of the-full-account


class Api:
    """Someone using the live server's JSON API with a bearer token of their own."""

    def __init__(self, base: str, username: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=10)
        self.username = username
        self.login()

    def login(self) -> None:
        answer = self.client.post(
            "/api/v1/auth/login", json={"username": self.username, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        self.client.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def post(self, path: str, body: dict) -> httpx.Response:
        return self.client.post(path, json=body)


def tier(person: Api) -> int:
    answer = person.get("/api/v1/pace")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["permitted_tier"])


def do_together(hana: Api, ivan: Api, level: int) -> None:
    practice = next(p["id"] for p in hana.get("/api/v1/practices").json() if p["tier"] == level)
    logged = hana.post("/api/v1/experiences", {"practice_id": practice, "started_by": "me", **GOOD})
    assert logged.status_code == 201, logged.text
    joined = ivan.post("/api/v1/experiences", {"experience_id": logged.json()["id"], **GOOD})
    assert joined.status_code == 201, joined.text


def climb_to(base: str, clock, level: int) -> None:
    """Calm days, then a shared practice each day at the step reached, up to ``level``."""
    hana, ivan = Api(base, "hana"), Api(base, "ivan")
    try:
        for _ in range(40):
            for person in (hana, ivan):
                checked_in = person.post("/api/v1/checkins", CALM)
                assert checked_in.status_code == 201, checked_in.text
            reached = tier(hana)
            if reached >= level:
                return
            if reached >= 1:
                do_together(hana, ivan, reached)
            clock.advance(days=1)
            hana.login()
            ivan.login()
        raise AssertionError(f"the pace did not reach {level} in 40 days")
    finally:
        hana.client.close()
        ivan.client.close()


def fits_the_screen(page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, page.url


def test_a_disclosure_is_prepared_apart_held_when_the_pace_allows_and_reflected_on(
    new_page, live_server, server_clock
):
    hana, ivan = pair(new_page, live_server)
    for page in (hana, ivan):
        page.set_viewport_size({"width": 390, "height": 844})

    # Each prepares their own part, privately.
    ivan.goto(f"{live_server}/disclosure")
    for label, text in ACCOUNT.items():
        ivan.get_by_label(label).fill(text)
    ivan.get_by_role("button", name="Save my account").click()
    expect(ivan.get_by_role("status").first).to_contain_text("Only you can read it")
    expect(ivan.get_by_label("What was hidden, and how")).to_have_value(
        ACCOUNT["What was hidden, and how"]
    )

    hana.goto(f"{live_server}/disclosure")
    hana.get_by_label("The questions you need answered, one to a line").fill("\n".join(QUESTIONS))
    hana.get_by_label("Sexual detail").check()
    hana.get_by_role("button", name="Save my questions").click()
    expect(hana.get_by_role("status").first).to_contain_text("Only you can read it")
    expect(hana.get_by_label("Sexual detail")).to_be_checked()
    for text in ACCOUNT.values():
        expect(hana.get_by_text(text)).to_have_count(0)
    expect(hana.get_by_role("textbox", name="What happened, and when")).to_have_count(0)

    ivan.goto(f"{live_server}/disclosure")
    expect(ivan.locator("#partner-questions")).to_have_count(0)
    expect(ivan.get_by_text(QUESTIONS[0])).to_have_count(0)

    # Both ready: her questions and limits reach him; the pace holds the session back.
    for page in (hana, ivan):
        page.get_by_role("button", name="I am ready for the session").click()
        expect(page.locator("#session")).to_contain_text("You: ready.")
    hana.reload()
    ivan.reload()
    questions = ivan.locator("#partner-questions")
    expect(questions).to_contain_text("Leave out: sexual detail")
    expect(questions.locator("li")).to_have_text(QUESTIONS)
    for page in (hana, ivan):
        session = page.locator("#session")
        expect(session).to_contain_text("Your partner: ready.")
        expect(session.get_by_role("status")).to_contain_text(NOT_YET)
        expect(page.get_by_role("link", name="Begin the session together")).to_have_count(0)
    for text in ACCOUNT.values():
        expect(hana.get_by_text(text)).to_have_count(0)

    # Days pass, calm, with shared practices: the pace reaches hard conversations.
    climb_to(live_server, server_clock, HARD_CONVERSATIONS)

    ivan.goto(f"{live_server}/disclosure")
    ivan.get_by_role("link", name="Begin the session together").click()
    expect(ivan).to_have_url(f"{live_server}/disclosure/session")
    main = ivan.locator("#main")
    expect(main.locator(".notice")).to_contain_text("If it gets too much:")
    expect(main).to_contain_text("Leave out: sexual detail")
    expect(main.locator("section.card li")).to_have_text(QUESTIONS)
    account = ivan.locator("details", has=ivan.locator("summary", has_text="Your account"))
    expect(account).not_to_have_attribute("open", re.compile(".*"))
    account.locator("summary").click()
    for title, text in ACCOUNT.items():
        expect(account.get_by_role("heading", name=title)).to_be_visible()
        expect(account).to_contain_text(text)
    expect(ivan.get_by_role("button", name="Pause everything")).to_be_visible()
    expect(ivan.get_by_role("button", name="I'm flooded: take a break")).to_be_visible()
    fits_the_screen(ivan)

    hana.goto(f"{live_server}/disclosure")
    hana.get_by_role("link", name="Begin the session together").click()
    expect(hana.locator("#main section.card li")).to_have_text(QUESTIONS)
    expect(hana.locator("#main")).to_contain_text("Leave out: sexual detail")
    expect(hana.locator("summary", has_text="Your account")).to_have_count(0)
    for text in ACCOUNT.values():
        expect(hana.get_by_text(text)).to_have_count(0)
    fits_the_screen(hana)

    # Afterwards: he logs the session with his reflection; she writes hers on it.
    ivan.get_by_role("link", name="We have finished: write my reflection").click()
    expect(ivan.get_by_label("Which practice?")).to_have_value("the-full-account")
    reflect(ivan, after=3, started_by="We both did, or I'm not sure")
    expect(ivan).to_have_url(f"{live_server}/today")

    hana.goto(f"{live_server}/disclosure/session")
    expect(hana.get_by_role("status")).to_contain_text("The session has ended")
    hana.get_by_role("link", name="Write my reflection").click()
    expect(hana).to_have_url(re.compile(r"/experiences/new\?experience=\d+$"))
    reflect(hana, after=4)
    expect(hana).to_have_url(f"{live_server}/today")

    for page in (hana, ivan):
        page.goto(f"{live_server}/disclosure")
        held = page.locator("#afterwards")
        expect(held.locator("li")).to_have_count(1)
        expect(held.locator("li")).to_contain_text("your reflection is written")
        fits_the_screen(page)
