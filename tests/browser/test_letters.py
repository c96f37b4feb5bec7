"""In real browsers, at a phone's width: the involved partner drafts an accountability
letter, reads it with the coach, saves it (still his alone) and shares it; the hurt
partner reads it and answers; he reads her answer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from reconnect import coach
from tests.browser.steps import pair

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("coach_loaded")]

LETTER = "I lied to you for a year. That was my choice, and the hurt it caused is mine to own."
ANSWER = "I read it twice. It is the first time it felt like you see it."


@pytest.fixture(scope="module")
def coach_loaded() -> None:
    coach.read("Good morning.")


def test_a_letter_is_drafted_read_with_the_coach_shared_and_answered(new_page, live_server):
    hana, ivan = pair(new_page, live_server)
    for page in (hana, ivan):
        page.set_viewport_size({"width": 390, "height": 844})
    ivan.goto(f"{live_server}/letters")
    letter = ivan.get_by_label("Your letter")
    letter.fill(LETTER)
    ivan.get_by_role("button", name="Read it with the coach").click()
    expect(ivan.locator("#coach-reading")).to_be_visible()
    expect(ivan.get_by_label("Your letter")).to_have_value(LETTER)  # nothing lost
    ivan.get_by_role("button", name="Save my draft").click()
    expect(ivan.get_by_role("status")).to_contain_text("Only you can read it")

    hana.goto(f"{live_server}/letters")
    expect(hana.get_by_text(LETTER)).to_have_count(0)  # still his alone

    ivan.get_by_role("button", name="Share it with my partner").click()
    hana.goto(f"{live_server}/letters")
    expect(hana.locator("section[id^=letter-]")).to_contain_text(LETTER)
    hana.get_by_label("Your answer, when you are ready").fill(ANSWER)
    hana.get_by_role("button", name="Send my answer").click()
    expect(hana.locator("section[id^=letter-]")).to_contain_text(ANSWER)
    assert hana.evaluate("() => document.documentElement.scrollWidth") <= 390

    ivan.goto(f"{live_server}/letters")
    expect(ivan.locator("#write-accountability")).to_contain_text(ANSWER)
