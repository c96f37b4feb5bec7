"""The navigation on a phone: the four daily places on one line, the rest under "More";
and marks of who sees what drawn by the app, not by an emoji font."""

from __future__ import annotations

import unicodedata
from importlib import resources

from tests.pages import text_of


def test_a_partner_sees_four_daily_places_and_the_rest_under_more(paired):
    hana, _ = paired
    page = hana.get("/today")
    daily = [a.get_text() for a in page.select("nav.nav ul.nav-main a")]
    assert daily == ["Today", "Check in", "Notes", "Progress"]
    more = page.select_one("nav.nav details.nav-more")
    assert text_of(more, "summary") == "More"
    rest = [a.get_text() for a in more.select("a")]
    assert rest == [
        "Home",
        "Moments",
        "Commitments",
        "Rituals",
        "The full account",
        "Letters",
        "Hard dates",
        "Reflections",
        "Questionnaires",
        "Couple space",
        "Safety",
        "Account",
    ]
    assert more.select_one("form[action='/logout'] button") is not None


def test_the_current_page_is_announced(paired):
    hana, _ = paired
    for path, words in (("/today", "Today"), ("/couple", "Couple space")):
        current = hana.get(path).select("nav.nav a[aria-current=page]")
        assert [a.get_text() for a in current] == [words]


def test_no_template_relies_on_an_emoji_font():
    """Emoji showed as empty boxes on phones without an emoji font."""
    folder = resources.files("reconnect").joinpath("templates")
    found = []
    for template in folder.rglob("*.html"):  # type: ignore[attr-defined]
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            if any(unicodedata.category(c) == "So" for c in line):
                found.append(f"{template.name}:{number}")
    assert found == []
