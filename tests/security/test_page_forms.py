"""Whatever is typed into a page form's number field, the answer is never a crash.

``str.isdigit()`` is true for characters such as "²" (superscript two) that ``int()``
refuses, and ``int()`` also refuses more than 4,300 digits; a form handler that checks
with the one and converts with the other fails with a 500.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD
from tests.payloads import CALM_FORM, GOOD_FORM

# isdigit() says yes to each; int() says no.
NOT_NUMBERS = {"superscript two": "²", "5,000 nines": "9" * 5000}
# (what is sent, the number field it goes in)
NUMBER_FIELDS = {
    "check-in scale": ("/checkin", {**CALM_FORM}, "activation"),
    "reflection scale": (
        "/experiences",
        {"practice_id": "walk-side-by-side", "felt_pressured": "no", **GOOD_FORM},
        "safety",
    ),
    "reflection on an experience": (
        "/experiences",
        {"felt_pressured": "no", **GOOD_FORM},
        "experience_id",
    ),
    "trigger strength": ("/triggers", {"what": "a song", "tell_partner": "no"}, "strength"),
    "break length": ("/breaks", {}, "minutes"),
    "questionnaire answer": (
        "/questionnaires/phq-9",
        {str(item): "0" for item in range(1, 10)},
        "1",
    ),
}


@pytest.fixture
def hanas_browser(app, hana_and_ivan):
    browser = TestClient(
        app, base_url="http://127.0.0.1", follow_redirects=False, raise_server_exceptions=False
    )
    browser.get("/login")
    token = browser.cookies.get("reconnect_csrf")
    signed = browser.post(
        "/login", data={"csrf_token": token, "username": "hana", "password": PASSWORD}
    )
    assert signed.status_code == 303
    return browser


def test_a_number_field_given_a_character_int_refuses_is_refused_not_a_crash(hanas_browser):
    token = hanas_browser.cookies.get("reconnect_csrf")
    crashed = []
    for typed, text in NOT_NUMBERS.items():
        for name, (path, form, field) in NUMBER_FIELDS.items():
            sent = {"csrf_token": token, **form, field: text}
            if hanas_browser.post(path, data=sent).status_code >= 500:
                crashed.append(f"{name}: {typed}")
        if hanas_browser.get(f"/experiences/new?experience={text}").status_code >= 500:
            crashed.append(f"reflection page address: {typed}")
    assert crashed == []
