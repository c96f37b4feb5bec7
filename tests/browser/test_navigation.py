"""The navigation on a phone: one line, not a third of the first screen, with the rest
of the places a tap (or a key) away under "More"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.steps import register_and_screen

pytestmark = pytest.mark.browser


def test_the_navigation_is_one_line_on_a_phone_and_more_opens_by_keyboard(live_server, new_page):
    page = new_page()
    register_and_screen(page, live_server, "hana")
    page.goto(f"{live_server}/today")
    nav = page.get_by_role("navigation", name="Main")
    box = nav.bounding_box()
    assert box is not None and box["height"] <= 56, box  # one row of thumb-sized links
    more = nav.locator("details.nav-more")
    menu = more.get_by_role("link", name="Couple space")
    expect(menu).to_be_hidden()
    more.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    item = menu.bounding_box()
    assert item is not None and item["x"] >= 0 and item["x"] + item["width"] <= 390
    # A tap anywhere else closes it, as a menu does.
    page.mouse.click(20, 800)
    expect(menu).to_be_hidden()
    # And the page itself is the current one.
    expect(nav.get_by_role("link", name="Today")).to_have_attribute("aria-current", "page")
