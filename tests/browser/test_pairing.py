"""Two people pair up in real browsers; quick exit leaves no way back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import QUICK_EXIT_URL
from tests.browser.steps import register_and_screen

pytestmark = pytest.mark.browser


def test_two_partners_register_and_pair_up(new_page, live_server):
    hana = new_page()
    register_and_screen(hana, live_server, "hana")
    hana.get_by_label("I am the hurt partner").check()
    hana.get_by_role("button", name="Create our couple space").click()
    expect(hana.locator("#waiting")).to_be_visible()
    hana.get_by_role("button", name="Make an invitation code").click()
    code = hana.locator("#invite-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){3}", code)

    ivan = new_page()
    register_and_screen(ivan, live_server, "ivan")
    ivan.goto(f"{live_server}/couple/join")
    ivan.get_by_label("Invitation code").fill(code)
    ivan.get_by_role("button", name="Continue").click()
    # Only the role that fits beside Hana's is offered, already chosen.
    expect(ivan.get_by_label("I am the involved partner")).to_be_checked()
    ivan.get_by_role("button", name="Join").click()
    expect(ivan.locator("#paired")).to_contain_text("hana")

    hana.reload()
    expect(hana.locator("#paired")).to_contain_text("ivan")


def test_quick_exit_and_escape_leave_without_a_way_back(new_page, live_server):
    page = new_page()
    page.goto(f"{live_server}/")
    page.goto(f"{live_server}/safety")
    page.keyboard.press("Escape")
    expect(page).to_have_url(QUICK_EXIT_URL)
    page.go_back()
    # The safety page was replaced, so Back lands on the page before it, not on it.
    assert "/safety" not in page.url

    page.goto(f"{live_server}/privacy")
    page.get_by_role("link", name=re.compile("Leave quickly")).click()
    expect(page).to_have_url(QUICK_EXIT_URL)


def test_quick_exit_signs_out_so_back_shows_nothing_private(new_page, live_server):
    page = new_page()
    register_and_screen(page, live_server, "hana")
    page.goto(f"{live_server}/checkin")
    page.get_by_label("A note for yourself").fill("nobody may see this")
    page.goto(f"{live_server}/account")
    page.keyboard.press("Escape")
    expect(page).to_have_url(QUICK_EXIT_URL)
    page.go_back()
    # Whatever page Back lands on, it is the sign-in page, not anything of Hana's.
    expect(page).to_have_url(re.compile(r"/login$"))
    assert "nobody may see this" not in page.content()
    assert "hana" not in page.content()
