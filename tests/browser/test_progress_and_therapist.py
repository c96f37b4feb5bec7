"""In real browsers: progress charts with their tables; a therapist who loses consent
loses access on the very next request; the PDF report downloads."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.steps import check_in, pair
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_the_progress_page_shows_charts_and_their_tables(new_page, live_server, server_clock):
    hana, ivan = pair(new_page, live_server)
    for _ in range(3):  # fewer days show a sentence, not a chart
        check_in(hana, live_server)
        check_in(ivan, live_server)
        server_clock.advance(days=1)
    hana.goto(f"{live_server}/progress")
    chart = hana.locator("figure.chart").filter(has=hana.locator("img")).first
    expect(chart.locator("img")).to_have_attribute("alt", re.compile(r"\w"))
    # The image really loads (an SVG served by the app), and its table is there.
    loaded = chart.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert loaded
    chart.get_by_text("The numbers behind this chart").click()
    expect(chart.locator("table tbody tr").first).to_be_visible()


def test_a_therapist_loses_access_on_the_next_request_and_can_download_a_report(
    new_page, live_server, server_clock
):
    hana, ivan = pair(new_page, live_server)
    hana.goto(f"{live_server}/therapist")
    hana.get_by_role("button", name="Invite our therapist").click()
    code = hana.locator("#therapist-code").inner_text().strip()

    thea = new_page()
    thea.goto(f"{live_server}/register")
    thea.get_by_label("Username").fill("thea")
    thea.get_by_label("Password", exact=True).fill(PASSWORD)
    thea.get_by_label("I am a couples therapist").check()
    thea.get_by_role("button", name="Create account").click()
    thea.get_by_role("link", name="I have kept it safe, continue").click()
    expect(thea).to_have_url(f"{live_server}/caseload")  # no partners' questions
    thea.get_by_label("The code a partner gave you").fill(code)
    thea.get_by_role("button", name="Join").click()
    expect(thea.locator("#no-cases")).to_be_visible()  # Ivan has not agreed yet

    ivan.goto(f"{live_server}/therapist")
    ivan.get_by_role("button", name="I agree").click()
    for _ in range(3):  # fewer days show a sentence, not a chart
        check_in(hana, live_server)
        check_in(ivan, live_server)
        server_clock.advance(days=1)
    thea.goto(f"{live_server}/caseload")
    thea.locator("#cases a").first.click()
    couple_url = thea.url
    # The pace chart is an image the app serves to the therapist, with its table.
    tier_chart = thea.locator("figure.chart").filter(has=thea.locator("img")).first
    thea.wait_for_load_state("load")
    loaded = tier_chart.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert loaded
    with thea.expect_download() as download:
        thea.locator("#report").click()
    assert download.value.suggested_filename == "reconnect-report.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    ivan.goto(f"{live_server}/therapist")
    ivan.get_by_role("button", name="End the therapist's access").click()
    thea.goto(couple_url)
    expect(thea.get_by_role("heading", level=1)).to_have_text("Sorry")
    thea.goto(f"{live_server}/caseload")
    expect(thea.locator("#no-cases")).to_be_visible()
