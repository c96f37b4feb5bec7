"""The therapist's caseload pages and report in plain words: where each couple has
reached by the step's name, what changed since the therapist last looked, and a button
that says they looked, never a grade."""

from __future__ import annotations

import io
import re

import pytest

from tests.progress.history import REACHED, a_few_days_together
from tests.security.conftest import signed_in

TIER = re.compile(r"\btiers?\b", re.IGNORECASE)


@pytest.fixture
def thea(app, people, hana_and_ivan, clock):
    """Thea, the couple's therapist with both partners' agreement, a few days in."""
    hana, ivan = hana_and_ivan
    therapist = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert therapist.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    a_few_days_together(hana, ivan, clock)
    hana.post("/api/v1/therapist/share-findings")
    return signed_in(app, "thea")


def text(page) -> str:
    return " ".join(page.select_one("main").get_text(" ").split())


def test_the_caseload_names_the_step_and_what_changed_since_you_last_looked(thea):
    page = thea.get("/caseload")
    headers = [th.get_text() for th in page.select("#cases th")]
    assert headers == [
        "Couple",
        "Where they have reached",
        "Steps back since you last looked",
        "Breaks since you last looked",
        "Questionnaires moving apart",
    ]
    cells = [td.get_text() for td in page.select("#cases tbody td")]
    assert cells[1:] == ["Near each other", "0", "0", ""]
    assert not TIER.search(text(page)) and "setback" not in text(page).lower()


def test_the_couple_page_says_where_they_have_reached_and_that_you_looked(thea):
    cases = thea.get("/caseload")
    couple = cases.select_one("#cases a")["href"]
    page = thea.get(couple)
    words = text(page)
    assert f"Now: {REACHED}." in words
    assert not TIER.search(words), TIER.findall(words)
    assert "setback" not in words.lower() and "reviewed" not in words.lower()
    button = page.select_one(f"form[action='{couple}/reviewed'] button")
    assert button is not None and button.get_text() == "I have looked at this"
    assert [td.get_text() for td in page.select("#tiers tbody td")][1::2][-1] == "Near each other"


def test_the_report_names_steps_not_tiers(thea):
    import pypdfium2

    couple = thea.get("/caseload").select_one("#cases a")["href"]
    thea.get(f"{couple}/report.pdf")
    assert thea.last.status_code == 200
    pdf = pypdfium2.PdfDocument(io.BytesIO(thea.last.content))
    words = " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    words = " ".join(words.split())
    assert f"Now: {REACHED}." in words
    assert not TIER.search(words), TIER.findall(words)
    assert "setback" not in words.lower()
