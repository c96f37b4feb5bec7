"""On the demo couple's server: the therapist's own navigation at both widths, and
screenshots of the partners' main pages on a phone, kept as test artefacts.

Screenshots go to the folder named by RECONNECT_TEST_ARTIFACTS (default
<repo>/test-artifacts/screenshots, which git ignores).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from reconnect.demo import PASSWORD as DEMO_PASSWORD
from reconnect.demo import THERAPIST
from tests.browser.conftest import Demo, local_context
from tests.browser.steps import register_and_screen

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(
    os.environ.get("RECONNECT_TEST_ARTIFACTS", REPO / "test-artifacts" / "screenshots")
)
PARTNERS_PLACES = ("Today", "Check in", "Notes", "Progress", "More")


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["phone", "desktop"])
def test_a_therapist_signs_in_to_the_caseload_and_sees_only_their_own_places(
    browser: Any, demo_server: Demo, size: tuple[int, int]
) -> None:
    context = local_context(browser, *size)
    page = context.new_page()
    page.goto(f"{demo_server.base}/login")
    page.get_by_label("Username").fill(THERAPIST)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{demo_server.base}/caseload")

    nav = page.get_by_role("navigation", name="Main")
    for place in ("Caseload", "Account"):
        expect(nav.get_by_role("link", name=place, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Caseload")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
    for place in PARTNERS_PLACES:
        expect(nav.get_by_text(place, exact=True)).to_have_count(0)
    # The couple they work with is one tap away.
    expect(page.locator(f'a[href="/caseload/{demo_server.couple_id}"]')).to_be_visible()
    context.close()


def test_screenshots_of_the_main_pages_on_a_phone(browser: Any, demo_server: Demo) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    hana = local_context(browser).new_page()
    hana.goto(f"{demo_server.base}/demo")
    hana.get_by_role("button", name="Continue as Hana").click()
    expect(hana).to_have_url(f"{demo_server.base}/today")
    for name, path in (("today", "/today"), ("checkin", "/checkin"), ("progress", "/progress")):
        hana.goto(f"{demo_server.base}{path}")
        hana.wait_for_load_state("load")  # the charts' images too
        shot = ARTIFACTS / f"{name}-390.png"
        hana.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000, shot

    # The invitation: someone new makes a couple space and a code for their partner.
    uma = local_context(browser).new_page()
    register_and_screen(uma, demo_server.base, "uma")
    uma.get_by_label("I am the hurt partner").check()
    uma.get_by_role("button", name="Create our couple space").click()
    uma.get_by_role("button", name="Make an invitation code").click()
    expect(uma.locator("#invite-code")).to_be_visible()
    shot = ARTIFACTS / "invitation-390.png"
    uma.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000, shot
    hana.context.close()
    uma.context.close()


def test_the_therapist_sees_both_partners_on_one_chart_on_a_phone(
    browser: Any, demo_server: Demo
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = local_context(browser).new_page()
    page.goto(f"{demo_server.base}/login")
    page.get_by_label("Username").fill(THERAPIST)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{demo_server.base}/caseload/{demo_server.couple_id}")
    page.wait_for_load_state("load")
    chart = page.locator("figure.chart").filter(has=page.locator("img[src$='/scores-phq-9.svg']"))
    expect(chart.locator("figcaption")).to_contain_text("both partners")
    expect(chart.locator("figcaption")).to_contain_text("involved partner")
    image = chart.locator("img")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "the chart loads"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    expect(page.locator("#asked-phq-9")).to_contain_text("every two weeks")
    page.screenshot(path=str(ARTIFACTS / "therapist-couple-390.png"), full_page=True)
