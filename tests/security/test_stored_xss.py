"""Whatever a person types comes back as text, never as markup.

Every place a person can type (a username, an invite code, a check-in's note and body
signals, a reflection's note) gets classic payloads and hypothesis-generated ones.
Each must come back exactly as typed where the page echoes it, and no page, for
either partner, may gain an element, an event handler or a ``javascript:`` address.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconnect.settings import Settings
from tests.conftest import PASSWORD, make_settings
from tests.pages import Visitor, soup
from tests.payloads import CALM, CALM_FORM, GOOD, GOOD_FORM
from tests.security.conftest import page_addresses, send_form, signed_in
from tests.security.xss import CLASSIC, assert_inert, assert_no_script

# Pieces that break out of text, attributes or URLs; generated payloads splice them
# into arbitrary text so each one has something to escape.
FRAGMENTS = ["<", ">", '"', "'", "&", "</textarea>", "<script>", " onerror=", "javascript:"]
ordinary_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")),  # what a keyboard can type
    max_size=12,
)
payloads = st.builds(
    lambda before, piece, after: before + piece + after,
    ordinary_text,
    st.sampled_from(FRAGMENTS),
    ordinary_text,
)
fuzzing = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(name="settings")
def roomy_settings(tmp_path: Path) -> Settings:
    """Each partner here shares far more statuses and notes in an hour than the
    per-person write limits allow anyone (test_write_limits.py)."""
    return make_settings(tmp_path).model_copy(
        update={"notes_per_hour": 1000, "statuses_per_hour": 1000}
    )


def shape(page: BeautifulSoup) -> list[tuple[str, tuple[str, ...]]]:
    """The page's elements and their attribute names, in order: its structure."""
    return [(element.name, tuple(sorted(element.attrs))) for element in page.find_all(True)]


def echoed(visitor: Visitor, path: str, data: dict[str, Any]) -> BeautifulSoup:
    """The form, sent with a mistake in it, as the page that comes back."""
    page = soup(send_form(visitor, path, data))
    assert visitor.last.status_code in {400, 401, 403, 404, 409, 422}, visitor.last.text[:300]
    return page


def field_text(page: BeautifulSoup, selector: str) -> str:
    node = page.select_one(selector)
    assert node is not None, f"{selector} not on the page"
    return str(node["value"]) if node.name == "input" else node.get_text()


# --- what a form echoes back after a mistake --------------------------------------------

# (address, form, where the typed text lands, the field the payload goes into)
ECHOES = {
    "username at registration": ("/register", {"password": PASSWORD}, "#username", "username"),
    "username at sign-in": ("/login", {"password": "wrong"}, "#username", "username"),
    "invite code": ("/couple/join", {"role": "involved"}, "input[name=code]", "code"),
    # A scale left out, so the form comes back with the note still in it.
    "check-in note": (
        "/checkin",
        {k: v for k, v in CALM_FORM.items() if k != "activation"},
        "textarea[name=note]",
        "note",
    ),
    "reflection note": (
        "/experiences",
        {"practice_id": "walk-side-by-side", "felt_pressured": "no"},
        "textarea[name=note]",
        "note",
    ),
}


@pytest.mark.parametrize("where", ECHOES)
def test_typed_text_comes_back_exactly_as_typed_and_inert(app, hana_and_ivan, where):
    path, form, selector, field = ECHOES[where]
    hana = signed_in(app, "hana")
    plain = echoed(hana, path, {**form, field: "plain words"})

    def check(payload: str) -> None:
        page = echoed(hana, path, {**form, field: payload})
        assert field_text(page, selector) == payload
        assert_inert(page)
        assert shape(page) == shape(plain)

    for payload in CLASSIC:
        check(payload)
    fuzzing(given(payload=payloads)(check))()


# --- what is stored, then shown on every page -------------------------------------------


def store_everywhere(hana, ivan, browsers: list[Visitor], experience_id: int, text: str) -> None:
    """Hana and Ivan (browsers in that order) type ``text`` into every field that is kept,
    by the API and the pages."""
    for person in (hana, ivan):
        checkin = {**CALM, "note": text, "body_signals": [text[:40]]}
        assert person.post("/api/v1/checkins", checkin).status_code == 201
        status = person.post("/api/v1/status", {"status": "okay", "words": text})
        assert status.status_code == 201, status.text
        note = person.post("/api/v1/notes", {"text": text})
        assert note.status_code == 201, note.text
    told = {"what": text, "strength": 3, "tell_partner": True}  # the hurt partner's alone
    assert hana.post("/api/v1/triggers", told).status_code == 201
    reflected = ivan.post(
        "/api/v1/experiences", {"experience_id": experience_id, **GOOD, "note": text}
    )
    assert reflected.status_code in {201, 409}, reflected.text  # one reflection each
    logged = {"practice_id": "walk-side-by-side", **GOOD_FORM, "felt_pressured": "no"}
    forms = {
        "/checkin": {**CALM_FORM, "note": text, "body_signals": text[:40]},
        "/experiences": {**logged, "note": text},
        "/status": {"status": "struggling", "words": text},
        "/notes": {"text": text},
        "/triggers": {"what": text, "strength": "3", "tell_partner": "yes"},
    }
    for browser in browsers:
        for path, form in forms.items():
            if path == "/triggers" and browser is not browsers[0]:
                continue  # Ivan, the involved partner, logs no triggers
            assert send_form(browser, path, form).status_code == 303, path


def test_stored_entries_render_inert_on_every_page_for_both_partners(
    app, hana_and_ivan, hanas_experience
):
    hana, ivan = hana_and_ivan
    browsers = [signed_in(app, "hana"), signed_in(app, "ivan")]
    for payload in CLASSIC:
        store_everywhere(hana, ivan, browsers, hanas_experience, payload)

    @settings(fuzzing, max_examples=5)
    @given(payload=payloads)
    def store_generated(payload: str) -> None:
        store_everywhere(hana, ivan, browsers, hanas_experience, payload)

    store_generated()
    shown = "<b>words for my partner</b>"
    store_everywhere(hana, ivan, browsers, hanas_experience, shown)

    addresses = page_addresses(hanas_experience)
    for browser in browsers:
        for address in addresses:
            page = browser.get(address)
            assert browser.last.status_code < 500, address
            if is_download(browser.last):
                continue
            assert_inert(page)
        # Shared words do reach the partner's page, as the text that was typed.
        assert shown in browser.get("/today").get_text()
    anonymous = Visitor(app)
    for address in addresses:
        assert_inert(anonymous.get(address))


def is_download(response: Any) -> bool:
    """An export: never shown as a page, so the browser never runs what is inside."""
    kind = response.headers["content-type"]
    if kind.startswith("text/html"):
        return False
    if kind.startswith("image/svg+xml"):
        assert_no_script(BeautifulSoup(response.text, "html.parser"))  # a chart image
        return True
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"
    return True


def test_the_api_answers_typed_text_as_json_never_as_a_page(client, hana_and_ivan):
    hana, _ = hana_and_ivan
    for payload in CLASSIC:
        hana.post("/api/v1/checkins", {**CALM, "note": payload})
        refused = client.post("/api/v1/auth/register", json={"username": payload, "password": "x"})
        assert refused.headers["content-type"] == "application/json"
    listed = hana.get("/api/v1/checkins")
    assert listed.headers["content-type"] == "application/json"
    assert listed.headers["x-content-type-options"] == "nosniff"
    assert {c["note"] for c in listed.json()} == set(CLASSIC)
