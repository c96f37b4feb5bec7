"""In real browsers: a note previewed with the coach, edited, sent and read by the
partner; the shared status previewed before it is shared."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from reconnect import coach
from tests.browser.steps import pair

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("coach_loaded")]

DRAFT = "When can we finally go back to how things were? I miss us."
EDITED = "I miss us. I will wait for you to say when you are ready, however long that is."


@pytest.fixture(scope="module")
def coach_loaded() -> None:
    """The model loads on its first reading (seconds on a busy machine); load it before
    the clock of a page's timeout starts."""
    coach.read("Good morning.")


def test_a_note_is_previewed_edited_sent_and_read_by_the_partner(new_page, live_server):
    hana, ivan = pair(new_page, live_server)
    ivan.goto(f"{live_server}/today")
    ivan.get_by_role("navigation", name="Main").get_by_role("link", name="Notes").click()
    expect(ivan.get_by_role("heading", level=1)).to_have_text("Notes between you")
    expect(ivan.locator("#note-shared")).to_contain_text("Your partner will see this note")

    ivan.get_by_role("textbox", name="Your note").fill(DRAFT)
    ivan.get_by_role("button", name="Preview with the coach").click()
    reading = ivan.get_by_role("status")
    expect(reading).to_contain_text("The coach's reading")
    expect(reading).to_contain_text("Only you see this")
    expect(ivan.locator("#coach-message")).not_to_be_empty()
    expect(ivan.get_by_role("textbox", name="Your note")).to_have_value(DRAFT)

    # Nothing was sent by the preview.
    hana.goto(f"{live_server}/notes")
    expect(hana.locator("#notes-empty")).to_be_visible()

    ivan.get_by_role("textbox", name="Your note").fill(EDITED)
    ivan.get_by_role("button", name="Send to my partner").click()
    expect(ivan.locator("#note-sent")).to_contain_text("Sent")
    expect(ivan.get_by_role("textbox", name="Your note")).to_have_value("")

    hana.reload()
    note = hana.locator("#notes li").first
    expect(note).to_contain_text("Your partner wrote")
    expect(note).to_contain_text(EDITED)
    expect(hana.locator("details.coach-hint")).to_have_count(0)
    expect(hana.get_by_text(DRAFT)).to_have_count(0)


SEVERAL = (
    "You always overreact. It was just one mistake, can we move on already? "
    "I'm sorry you feel that way."
)


def test_each_finding_is_marked_over_the_draft_on_a_phone(new_page, live_server):
    _, ivan = pair(new_page, live_server)
    ivan.goto(f"{live_server}/notes")
    ivan.get_by_role("textbox", name="Your note").fill(SEVERAL)
    ivan.get_by_role("button", name="Preview with the coach").click()
    marks = ivan.locator("#coach-words mark")
    expect(marks).to_have_count(4)
    for words in ("You always overreact.", "I'm sorry you feel that way."):
        expect(marks.filter(has_text=words)).to_be_visible()
    findings = ivan.get_by_role("list").filter(has_text="Sorry for their feelings")
    expect(findings.get_by_role("listitem")).to_have_count(4)
    # Read aloud, the marked words come with what they are.
    expect(ivan.locator("#coach-words")).to_contain_text("Your words, with what the coach")
    assert ivan.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_a_status_is_previewed_with_the_coach_then_shared(new_page, live_server):
    hana, ivan = pair(new_page, live_server)
    hana.goto(f"{live_server}/today")
    hana.get_by_text("Share how you are today").click()
    hana.get_by_label("A few words").fill("a heavy morning, but I am here")
    # No status chosen yet: the preview still goes (it never asks for more first).
    hana.get_by_role("button", name="Preview with the coach").click()
    expect(hana.get_by_role("heading", level=1)).to_have_text("Before you share")
    expect(hana.get_by_role("status")).to_contain_text("Only you see this")
    expect(hana.get_by_label("A few words")).to_have_value("a heavy morning, but I am here")
    hana.get_by_label("Struggling").check()
    hana.get_by_role("button", name="Share", exact=True).click()
    expect(hana).to_have_url(f"{live_server}/today")

    ivan.goto(f"{live_server}/today")
    expect(ivan.locator("#statuses")).to_contain_text("a heavy morning, but I am here")
