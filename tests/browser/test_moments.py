"""In real browsers: a trigger and the partner's response, back to the one triggered; a
proposal and its answer, back to the one who proposed; a flood, the break, the return."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from reconnect.domain.pacing.catalogue import Lead, Practice, load_catalogue
from tests.browser.conftest import Demo
from tests.browser.steps import check_in, pair, pick

pytestmark = pytest.mark.browser


def demo_sign_in(page: Any, base: str, name: str) -> Any:
    page.goto(f"{base}/demo")
    page.get_by_role("button", name=f"Continue as {name}").click()
    expect(page).to_have_url(f"{base}/today")
    return page


def proposable_practices(count: int) -> list[Practice]:
    """Practices of the first step together that a partner may propose (not the ones
    only the partner who needs it slower starts)."""
    practices = load_catalogue().practices
    return [p for p in practices if p.tier == 1 and p.leads is not Lead.MORE_ACTIVATED][:count]


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
    comfort = prompt.get_by_role("button", name=re.compile("comfort"))
    words = comfort.inner_text().strip()
    comfort.click()
    expect(ivan.get_by_role("status")).to_contain_text(re.compile("partner will see", re.I))
    expect(ivan.get_by_role("region", name="Your partner was triggered")).to_have_count(0)

    # The loop closes: Hana finds his answer, in his words, on her Today page.
    hana.goto(f"{live_server}/today")
    answered = hana.locator("#trigger-responses")
    expect(answered).to_contain_text("A song on the radio")
    expect(answered).to_contain_text(words)


def test_a_proposal_answered_yes_or_not_now_reaches_the_partner_who_proposed(
    new_page: Any, demo_server: Demo
) -> None:
    # The demo couple, ten weeks in: "Being near each other" fits their day.
    base = demo_server.base
    hana = demo_sign_in(new_page(), base, "Hana")
    ivan = demo_sign_in(new_page(), base, "Ivan")
    first, second = proposable_practices(2)
    for practice, answer in (
        (first, re.compile("^yes", re.I)),
        (second, re.compile("not now", re.I)),
    ):
        ivan.goto(f"{base}/practices/{practice.id}")
        ivan.get_by_role("button", name=re.compile("propose", re.I)).click()
        expect(ivan).to_have_url(re.compile(r"/today"))

        hana.goto(f"{base}/today")
        asked = hana.get_by_role("region", name=re.compile(re.escape(practice.title)))
        expect(asked).to_contain_text(re.compile("no reason is needed", re.I))
        asked.get_by_role("button", name=answer).click()
        # Hana is told her answer is on its way, and the question is gone.
        expect(hana.get_by_role("status")).to_contain_text(re.compile("partner will see", re.I))
        expect(
            hana.get_by_role("region", name=re.compile(re.escape(practice.title)))
        ).to_have_count(0)

    ivan.goto(f"{base}/today")
    answers = ivan.locator("#proposal-answers li")
    expect(answers.filter(has_text=first.title)).to_contain_text("said yes")
    expect(answers.filter(has_text=second.title)).to_contain_text("said not now")


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
        expect(page.locator("#pace")).to_contain_text("Settling on your own")
        for link in page.locator(".practices a").all():
            assert link.get_attribute("href").startswith("/practices/")
    server_clock.advance(minutes=31)
    hana.goto(f"{live_server}/today")
    expect(hana.locator("#break-title")).to_have_count(0)
