"""In real browsers: a trigger and the partner's response; a flood, the break, the return."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.steps import check_in, pair, pick

pytestmark = pytest.mark.browser


def test_a_told_trigger_reaches_the_partner_who_responds_without_defending(new_page, live_server):
    hana, ivan = pair(new_page, live_server)
    hana.goto(f"{live_server}/today")
    hana.get_by_text("Something triggered me").click()
    hana.get_by_label("What was it?").fill("A song on the radio")
    pick(hana, "strength", 7)
    hana.get_by_label("Tell my partner").check()
    hana.get_by_role("button", name="Save", exact=True).click()
    expect(hana.get_by_role("status")).to_contain_text("Be gentle with yourself")

    ivan.goto(f"{live_server}/today")
    prompt = ivan.get_by_role("region", name="Your partner was triggered")
    expect(prompt).to_contain_text("A song on the radio")
    expect(prompt.get_by_role("button")).to_have_count(3)
    prompt.get_by_role("button", name=re.compile("comfort")).click()
    expect(ivan.get_by_role("region", name="Your partner was triggered")).to_have_count(0)


def test_flooded_then_a_break_for_both_then_coming_back(new_page, live_server, server_clock):
    hana, ivan = pair(new_page, live_server)
    check_in(hana, live_server)
    check_in(ivan, live_server)
    ivan.goto(f"{live_server}/today")
    ivan.get_by_label("Back together in").select_option("30")
    ivan.get_by_role("button", name=re.compile("I'm flooded")).click()
    for page in (hana, ivan):
        page.goto(f"{live_server}/today")
        expect(page.locator("#break-title")).to_be_visible()
        expect(page.locator("#pace")).to_contain_text("tier 0")
        for link in page.locator(".practices a").all():
            assert link.get_attribute("href").startswith("/practices/")
    server_clock.advance(minutes=31)
    hana.goto(f"{live_server}/today")
    expect(hana.locator("#break-title")).to_have_count(0)
