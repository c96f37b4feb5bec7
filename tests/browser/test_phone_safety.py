"""Safety on a phone (390×844): the quick exit stays in reach however far a person
scrolls, and Esc while typing never throws away what they wrote."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import QUICK_EXIT_URL
from tests.browser.steps import pair

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 390, 844
THUMB = 44  # CSS pixels: the smallest comfortable target for a thumb


def assert_quick_exit_in_reach(page) -> None:
    """Scrolled to the very bottom, the quick exit is on screen and thumb-sized."""
    assert page.viewport_size == {"width": WIDTH, "height": HEIGHT}
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert page.evaluate("window.scrollY") > 0, f"{page.url} is too short to scroll"
    button = page.locator("#quick-exit")
    expect(button).to_be_in_viewport(ratio=1)
    box = button.bounding_box()
    assert box is not None
    assert box["width"] >= THUMB and box["height"] >= THUMB, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box
    assert box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, box


def signed_in(page, base: str) -> bool:
    answer = page.request.get(f"{base}/account", max_redirects=0)
    return answer.status == 200


def assert_signed_out(page, base: str) -> None:
    """The sign-out goes as a beacon while the page leaves: give it a moment to land."""
    for _ in range(20):
        if not signed_in(page, base):
            return
        page.wait_for_timeout(100)
    raise AssertionError("still signed in after the quick exit")


def test_the_quick_exit_stays_on_screen_after_scrolling(new_page, live_server):
    page = new_page()
    page.goto(f"{live_server}/safety")
    assert_quick_exit_in_reach(page)
    # Pressed at the bottom of the page, it leaves at once.
    page.locator("#quick-exit").click()
    expect(page).to_have_url(QUICK_EXIT_URL)


def test_esc_while_typing_keeps_the_draft_and_esc_outside_a_box_leaves(new_page, live_server):
    hana, ivan = pair(new_page, live_server)
    for path in ("/questionnaires/phq-9", "/notes"):  # long pages, signed in
        hana.goto(f"{live_server}{path}")
        assert_quick_exit_in_reach(hana)

    box = hana.get_by_role("textbox", name="Your note")
    box.fill("I have been thinking about Sunday")
    for _ in range(2):
        box.press("Escape")
        # A single Esc while typing does nothing: the words, the page, the sign-in stay.
        expect(box).to_have_value("I have been thinking about Sunday")
        expect(box).to_be_focused()
        expect(hana).to_have_url(f"{live_server}/notes")
        assert signed_in(hana, live_server)
        hana.wait_for_timeout(1100)  # past the moment a second press would count

    # Esc twice in quick succession, still in the box, leaves as the button does.
    hana.keyboard.press("Escape")
    hana.keyboard.press("Escape")
    expect(hana).to_have_url(QUICK_EXIT_URL)
    assert_signed_out(hana, live_server)

    # Outside a box, one Esc leaves at once and signs out.
    ivan.goto(f"{live_server}/notes")
    ivan.get_by_role("textbox", name="Your note").fill("a draft")
    ivan.get_by_role("heading", level=1).click()  # out of the box
    ivan.keyboard.press("Escape")
    expect(ivan).to_have_url(QUICK_EXIT_URL)
    assert_signed_out(ivan, live_server)
    ivan.go_back()
    expect(ivan).to_have_url(re.compile(r"/login$"))
