"""The README's start, as a newcomer takes it on two phones: the first partner makes
the space and an invitation; the second opens the invitation's address (what its QR
code holds) on a phone where nobody is signed in, makes an account, answers the
private questions, and arrives back at joining with the code and the role filled in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.steps import register_and_screen
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_the_partner_who_scans_the_invitation_joins_without_a_dead_end(live_server, new_page):
    hana = new_page()
    register_and_screen(hana, live_server, "hana")
    hana.get_by_label("I am the hurt partner").check()
    hana.get_by_role("button", name="Create our couple space").click()
    hana.get_by_role("button", name="Make an invitation code").click()
    address = hana.locator("#invite-address").inner_text().strip()
    code = hana.locator("#invite-code").inner_text().strip()
    assert address.startswith(f"{live_server}/couple/join?code=")

    ivan = new_page()
    ivan.goto(address)  # as the camera opens it
    expect(ivan.locator("#invited")).to_contain_text("invited you")
    ivan.get_by_role("link", name="Create an account").click()
    ivan.get_by_label("Username").fill("ivan")
    ivan.get_by_label("Password", exact=True).fill(PASSWORD)
    ivan.get_by_role("button", name="Create account").click()
    ivan.get_by_role("link", name="I have kept it safe, continue").click()
    # The screen must be there before its questions are counted: .all() does not wait,
    # and an empty list would send the form unanswered (seen once, on a busy machine).
    expect(ivan.get_by_role("heading", level=1)).to_have_text("A few private questions first")
    for group in ivan.locator("fieldset").all():
        group.get_by_label("No").check()
    ivan.get_by_role("button", name="Continue").click()

    # Back at joining, with the code from the link and only the role that fits.
    expect(ivan).to_have_url(f"{live_server}/couple/join?code={code}")
    expect(ivan.locator("#join-code")).to_have_text(code)
    expect(ivan.get_by_label("I am the involved partner")).to_be_checked()
    expect(ivan.locator("input[name=role]")).to_have_count(1)
    ivan.get_by_role("button", name="Join").click()
    expect(ivan).to_have_url(f"{live_server}/couple")
    ivan.goto(f"{live_server}/today")
    expect(ivan.locator("#pace")).to_contain_text("What fits today")
