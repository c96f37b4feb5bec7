"""Crisis and support numbers are links a phone can call or text at one tap, and the
words on the page stay exactly those of the resource list."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from reconnect.domain.safety import ContactPart, contact_parts, crisis_resources
from tests.conftest import NO_CONCERNS
from tests.pages import Visitor, soup

# A run of digits, spaces and hyphens that holds at least three digits: a phone number.
NUMBER = re.compile(r"\+?\d[\d -]*\d")


def links(contact: str) -> list[tuple[str, str]]:
    return [(p.text, p.href) for p in contact_parts(contact) if p.href]


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ("116 123", [("116 123", "tel:116123")]),
        ("0808 2000 247", [("0808 2000 247", "tel:08082000247")]),
        ("+44 808 2000 247", [("+44 808 2000 247", "tel:+448082000247")]),
        (
            "1-800-799-7233, or text START to 88788",
            [
                ("1-800-799-7233", "tel:18007997233"),
                ("text START to 88788", "sms:88788?&body=START"),
            ],
        ),
        ("Call or text 988", [("Call", "tel:988"), ("text 988", "sms:988")]),
        (
            "112 (Europe and most mobile phones), 911 (North America), 999 (UK), 000 (Australia)",
            [("112", "tel:112"), ("911", "tel:911"), ("999", "tel:999"), ("000", "tel:000")],
        ),
        ("findahelpline.com", [("findahelpline.com", "https://findahelpline.com")]),
        ("Open 24/7 on 116 123", [("116 123", "tel:116123")]),
    ],
)
def test_numbers_become_call_and_text_links(contact: str, expected: list[tuple[str, str]]) -> None:
    assert links(contact) == expected


def test_the_parts_read_back_as_the_same_words() -> None:
    for resource in crisis_resources():
        assert "".join(p.text for p in contact_parts(resource.contact)) == resource.contact
    assert contact_parts("Ask at your doctor's") == (ContactPart("Ask at your doctor's"),)


def assert_numbers_are_links(page: BeautifulSoup, scope: str) -> None:
    items = page.select(f"{scope} ul.resources li")
    assert len(items) == len(crisis_resources())
    for item, resource in zip(items, crisis_resources(), strict=True):
        # The words a person reads are unchanged.
        assert resource.contact in item.get_text()
        hrefs = [a["href"] for a in item.find_all("a")]
        for number in NUMBER.findall(resource.contact):
            digits = re.sub(r"[^\d+]", "", number)
            assert any(
                h in (f"tel:{digits}", f"sms:{digits}") or h.startswith(f"sms:{digits}?")
                for h in hrefs
            ), (resource.name, number, hrefs)
    all_hrefs = [a["href"] for a in page.select(f"{scope} ul.resources a")]
    assert "tel:988" in all_hrefs and "sms:988" in all_hrefs
    assert "sms:88788?&body=START" in all_hrefs


def test_the_safety_page_links_every_number(app) -> None:
    assert_numbers_are_links(Visitor(app).get("/safety"), "main")


def test_the_support_page_after_a_concern_links_every_number(app) -> None:
    visitor = Visitor(app)
    visitor.register("hana", screen={**NO_CONCERNS, "fear": True})
    page = visitor.get("/support")
    assert visitor.last.status_code == 200
    assert_numbers_are_links(page, "main")


def test_the_crisis_answer_on_a_questionnaire_links_every_number(app) -> None:
    visitor = Visitor(app)
    visitor.register("hana")
    form = visitor.get("/questionnaires/phq-9")
    answers = {str(i["name"]): "0" for i in form.select("input[type=radio]")}
    answers["9"] = "2"  # item 9: thoughts of being better off dead
    response = visitor.post("/questionnaires/phq-9", answers)
    assert response.status_code == 200, response.text
    assert_numbers_are_links(soup(response), "#crisis")
