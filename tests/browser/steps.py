"""Steps a person takes in a real browser: register and answer the safety screen,
pair up as a couple, tap a number on a scale, check in."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import PASSWORD


def register_and_screen(page, base: str, username: str) -> None:
    page.goto(f"{base}/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#recovery-key")).to_be_visible()
    page.get_by_role("link", name="I have kept it safe, continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A few private questions first")
    for group in page.locator("fieldset").all():
        group.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{base}/couple")


def pair(new_page, base: str):
    """Hana and Ivan, registered, screened and paired, each in their own browser."""
    hana, ivan = new_page(), new_page()
    register_and_screen(hana, base, "hana")
    hana.get_by_label("I am the hurt partner").check()
    hana.get_by_role("button", name="Create our couple space").click()
    hana.get_by_role("button", name="Make an invitation code").click()
    code = hana.locator("#invite-code").inner_text().strip()
    register_and_screen(ivan, base, "ivan")
    ivan.goto(f"{base}/couple/join")
    ivan.get_by_label("Invitation code").fill(code)
    ivan.get_by_role("button", name="Continue").click()
    # The code tells which role fits beside Hana's: it comes already chosen.
    expect(ivan.get_by_label("I am the involved partner")).to_be_checked()
    ivan.get_by_role("button", name="Join").click()
    expect(ivan.locator("#paired")).to_be_visible()
    return hana, ivan


def pick(page, name: str, value: int) -> None:
    """Tap a number on a 0–10 scale, as a person would: on its visible label."""
    page.locator(f"label.pip:has(input[name={name}][value='{value}'])").click()
    expect(page.locator(f"input[name={name}][value='{value}']")).to_be_checked()


def check_in(page, base: str, activation: int = 2) -> None:
    page.goto(f"{base}/checkin")
    for name, value in (
        ("activation", activation),
        ("safety", 7),
        ("urgency", 3),
        ("readiness", 5),
    ):
        pick(page, name, value)
    page.locator("input[name=state][value=settled]").check()
    page.get_by_role("button", name="Save my check-in").click()
    expect(page.get_by_role("status")).to_contain_text("saved")


def reflect(
    page,
    *,
    after: int = 2,
    staying: str = "I stayed present",
    started_by: str | None = None,
    back_in: str | None = None,
) -> None:
    for name, value in (
        ("safety", 8 if after < 8 else 3),
        ("activation_before", 3),
        ("activation_after", after),
        ("authenticity", 3),
        ("vulnerability", 2),
        ("transparency", 3),
        ("presence", 3),
    ):
        pick(page, name, value)
    page.get_by_label(staying).check()
    page.locator("input[name=felt_pressured][value=no]").check()
    if started_by is not None:
        page.get_by_label(started_by).check()
    if back_in is not None:
        page.get_by_label(re.compile("when will you be back")).select_option(label=back_in)
    page.get_by_role("button", name="Save my reflection").click()
