"""The progress pages in plain words, readable on a phone: each step of the ladder by
its name (never a numbered tier), where you have reached apart from what fits today,
the same pace on every page, each chart once, and a sentence instead of a one-dot chart.
"""

from __future__ import annotations

import re

import pytest

from tests.pacing.api_steps import check_in
from tests.progress.history import FITS_TODAY, REACHED, a_few_days_together
from tests.security.conftest import signed_in

TIER = re.compile(r"\btiers?\b", re.IGNORECASE)


def words(page, selector: str = "main") -> str:
    node = page.select_one(selector)
    assert node is not None, f"{selector} is on the page"
    return " ".join(node.get_text(" ").split())


@pytest.fixture
def together(app, hana_and_ivan, clock):
    """Hana's browser, a few days into pacing together (see tests/progress/history.py)."""
    a_few_days_together(*hana_and_ivan, clock)
    return signed_in(app, "hana")


def test_a_new_person_gets_a_friendly_sentence_not_a_chart(app, people):
    check_in(people.register("nina"))
    page = signed_in(app, "nina").get("/progress")
    figure = page.select_one("#mine figure.chart")
    assert figure is not None
    assert figure.find("img") is None, "one check-in is not a chart of one dot"
    assert "A few more days of check-ins and this fills in." in figure.get_text()
    # What there is stays readable, in the table.
    assert figure.select("tbody tr")


def test_no_page_says_tier(together):
    pages = {path: together.get(path) for path in ("/progress", "/summary", "/insights")}
    assert together.last.status_code == 200
    assert "settling on your own" in words(pages["/insights"]).lower(), "the reflection is there"
    for path, page in pages.items():
        assert not TIER.search(words(page)), f"{path} says tier: {TIER.findall(words(page))}"
        assert "setback" not in words(page).lower(), path


def test_where_you_have_reached_and_what_fits_today_are_told_apart(together):
    page = together.get("/progress")
    assert words(page, "#reached") == REACHED
    assert words(page, "#fits-today") == FITS_TODAY
    assert "not a step back" in words(page, "#ours")
    # The chart of where you have reached ends where the words say you are.
    figure = page.select_one("#ours figure.chart:has(img[src$='/tier.svg'])")
    assert figure is not None
    assert figure.select("tbody tr")[-1].select("td")[1].get_text() == "Near each other"
    assert REACHED in figure.find("img")["alt"]


def test_the_summary_says_the_pace_once_and_agrees_with_the_progress_page(together):
    summary = together.get("/summary")
    paces = summary.select(".pace")
    assert len(paces) == 1, "the pace is the couple's: said once"
    assert paces[0].find_parent("section")["id"] == "ours"
    # Where they have reached, not what fits today (which dropped on the last evening).
    assert paces[0].get_text().endswith(f"to “{REACHED}” this week.")
    reached = words(together.get("/progress"), "#reached")
    assert reached in paces[0].get_text()


def test_no_chart_is_shown_under_both_halves(together):
    page = together.get("/progress")
    titles = {
        half: [
            f.find("figcaption").find("strong").get_text() for f in page.select(f"#{half} figure")
        ]
        for half in ("mine", "ours")
    }
    assert titles["mine"] and titles["ours"]
    assert not set(titles["mine"]) & set(titles["ours"])
    assert "Days with a safe shared experience, per week" in titles["ours"]


@pytest.mark.parametrize("path", ["/progress", "/summary", "/insights"])
def test_each_half_is_marked_for_who_sees_it(together, path):
    page = together.get(path)
    assert not page.select(".badge"), "no page-wide badge"
    for half, mark in (("mine-title", "private"), ("ours-title", "shared")):
        heading = page.select_one(f"#{half}")
        assert heading is not None and heading.select_one(f".mark.{mark}") is not None, half
