"""A couple's weeks in real browsers: check in, practise, advance, flood, step back, pause.

The server's clock is moved forward between days, so weeks pass in seconds.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.steps import check_in, pair, reflect

pytestmark = pytest.mark.browser


def practise_together(hana, ivan, base: str, *, flooded: bool = False) -> None:
    hana.goto(f"{base}/today")
    hana.locator(".practices a").first.click()
    hana.get_by_role("link", name="Log how it went").click()
    reflect(
        hana,
        after=9 if flooded else 2,
        staying="I left the room or stopped" if flooded else "I stayed present",
        started_by="My partner did",
        back_in="In an hour" if flooded else None,
    )
    expect(hana).to_have_url(f"{base}/today")
    ivan.goto(f"{base}/today")
    ivan.locator("a[href^='/experiences/new?experience=']").first.click()
    reflect(ivan)


def pace_heading(page, base: str):
    page.goto(f"{base}/today")
    return page.locator("#pace")


def test_a_couple_advances_floods_steps_back_and_pauses(new_page, live_server, server_clock):
    hana, ivan = pair(new_page, live_server)

    # Tier 0 is practised alone: Hana's practice stays hers, and nothing waits for Ivan.
    check_in(hana, live_server)
    hana.goto(f"{live_server}/today")
    hana.locator(".practices a").first.click()
    hana.get_by_role("link", name="Log how it went").click()
    reflect(hana)
    expect(hana).to_have_url(f"{live_server}/today")
    ivan.goto(f"{live_server}/today")
    expect(ivan.locator("a[href^='/experiences/new?experience=']")).to_have_count(0)

    # Three calm days, both checking in: the first step, to tier 1.
    for _ in range(3):
        check_in(hana, live_server)
        check_in(ivan, live_server)
        server_clock.advance(days=1)
    check_in(hana, live_server)
    check_in(ivan, live_server)
    expect(pace_heading(hana, live_server)).to_contain_text("Being near each other")

    # An evening that floods: a break for both until the hour Hana chose, and the
    # ladder steps back; how she was afterwards keeps the pace gentle.
    practise_together(hana, ivan, live_server, flooded=True)
    for page in (hana, ivan):
        page.goto(f"{live_server}/today")
        expect(page.locator("#break-title")).to_be_visible()
        expect(page.locator("#main")).to_contain_text("09:")
    server_clock.advance(hours=2)
    check_in(ivan, live_server)
    expect(pace_heading(ivan, live_server)).to_contain_text("Settling on your own")

    # Ivan pauses; Hana sees the pause but cannot lift it; only Ivan can.
    ivan.goto(f"{live_server}/today")
    ivan.get_by_role("button", name="Pause everything").click()
    hana.goto(f"{live_server}/today")
    expect(hana.locator("#paused-title")).to_be_visible()
    expect(hana.get_by_role("button", name=re.compile("Resume"))).to_have_count(0)
    ivan.get_by_role("button", name="Resume when I am ready").click()
    expect(ivan.locator("#paused-title")).to_have_count(0)
