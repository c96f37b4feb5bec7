"""Forging a request from another site changes nothing.

Every page form is refused with 403 unless it carries this browser's CSRF token and
the browser does not say it came from another site. The API never looks at cookies:
a request carrying only the browser's session cookie is not signed in.
"""

from __future__ import annotations

from tests.conftest import NO_CONCERNS, PASSWORD
from tests.pages import Visitor
from tests.payloads import CALM, CALM_FORM, GOOD_FORM
from tests.security.conftest import PATH_VALUES, is_api, routes, signed_in, snapshot

NEW_PASSWORD = "a different long passphrase entirely"
# A form for every page POST that would change something if it were accepted.
FORMS = {
    "/register": {"username": "mallory", "password": PASSWORD},
    "/login": {"username": "mallory", "password": PASSWORD},
    "/logout": {},
    "/safety-screen": {key: "no" for key in NO_CONCERNS},
    "/support/continue": {},
    "/safety-screen/later": {},
    "/couple": {"role": "hurt"},
    "/couple/invite": {},
    "/couple/time-zone": {"time_zone": "Pacific/Auckland"},
    "/couple/join": {"code": "AAAAA-AAAAA-AAAAA-AAAAA", "role": "involved"},
    "/demo/sign-in": {"who": "hurt"},
    "/checkin": CALM_FORM,
    "/pause": {},
    "/lapse": {"together": "no"},
    "/hard-dates": {"day": "1", "month": "6"},
    "/commitments": {"what": "No contact"},
    "/rituals": {"practice_id": "walk-side-by-side"},
    "/letters": {"kind": "impact", "text": "Words."},
    "/disclosure": {"part": "questions", "questions": "Who else knew?"},
    "/disclosure/ready": {},
    "/disclosure/leave-account": {},
    "/disclosure/ask-therapist": {},
    "/caseload/{couple_id}/disclosure/{disclosure_id}/reading": {"text": "Read."},
    "/letters/{letter_id}/share": {},
    "/letters/{letter_id}/reply": {"text": "I read it."},
    "/letters/preview": {"kind": "impact", "text": "sent from another site"},
    "/rituals/{ritual_id}/done": {"day": "2026-03-02"},
    "/rituals/{ritual_id}/end": {},
    "/commitments/{commitment_id}/days": {"day": "2026-03-02", "kept": "yes"},
    "/commitments/{commitment_id}/noticed": {"day": "2026-03-02"},
    "/commitments/{commitment_id}/end": {},
    "/resume": {},
    "/experiences": {"practice_id": "longer-out-breath", "felt_pressured": "no", **GOOD_FORM},
    "/account/password": {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    "/account/time-zone": {"time_zone": "Pacific/Auckland"},
    "/account/home-screen": {"look": "notes"},
    "/account/sign-out-everywhere": {},
    "/account/delete": {"password": PASSWORD},
    "/couple/leave": {},
    "/recover": {"username": "hana", "recovery_key": "x", "new_password": NEW_PASSWORD},
    "/account/totp": {"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "code": "123456"},
    "/account/totp/disable": {"password": PASSWORD},
    "/status": {"status": "struggling", "words": "sent from another site"},
    "/status/preview": {"status": "okay", "words": "sent from another site"},
    "/notes": {"text": "sent from another site"},
    "/notes/preview": {"text": "sent from another site"},
    "/triggers": {"what": "sent from another site", "strength": "5", "tell_partner": "yes"},
    "/triggers/{trigger_id}/respond": {"kind": "comfort"},
    "/breaks": {"minutes": "30"},
    "/proposals": {"practice_id": "longer-out-breath"},
    "/proposals/{proposal_id}/accept": {},
    "/proposals/{proposal_id}/decline": {},
    "/heart-rate/import": {},  # the file goes in FILES
    "/questionnaires/{instrument_id}": {str(item): "1" for item in range(1, 10)},
    "/questionnaires/results/{result_id}/tell-therapist": {},
    "/questionnaires/results/{result_id}/follow-up": {"how": "same"},
    "/hard-dates/{date_id}/remove": {},
    "/questionnaire-plan": {"instrument_id": "phq-9", "every_days": "14"},
    "/therapist/invite": {},
    "/therapist/consent": {},
    "/therapist/revoke": {},
    "/therapist/join": {"code": "AAAAA-AAAAA-AAAAA-AAAAA"},
    "/caseload/{couple_id}/reviewed": {},
    "/caseload/{couple_id}/questionnaire-plan": {"instrument_id": "phq-9", "every_days": "14"},
    "/therapist/share-findings": {},
}
READINGS = b"timestamp,bpm\n2026-03-01T08:00:00Z,64\n2026-03-01T08:01:00Z,66\n"
FILES = {"/heart-rate/import": {"file": ("heart-rate.csv", READINGS, "text/csv")}}
PAGE_POSTS = [path for path in routes("POST") if not is_api(path)]
API_POSTS = [path for path in routes("POST") if is_api(path)]
API_PATCHES = [path for path in routes("PATCH") if is_api(path)]
WITHOUT_SIGN_IN = {"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/recover"}


def test_every_page_form_has_a_forgery_attempt():
    assert sorted(FORMS) == PAGE_POSTS


def forgeries(visitor: Visitor, form: dict[str, str]):
    """The ways another site might try to send this form, named."""
    token = visitor.client.cookies.get("reconnect_csrf")
    assert token, "the visitor has a CSRF cookie, as after any page view"
    yield "no token", form, {}
    yield "a wrong token", {**form, "csrf_token": "x" * len(token)}, {}
    yield "an empty token", {**form, "csrf_token": ""}, {}
    yield (
        "the right token, from another site",
        {**form, "csrf_token": token},
        {"Sec-Fetch-Site": "cross-site"},
    )


def test_every_forged_form_is_refused_and_changes_nothing(app, moments_to_answer):
    # One app for every form: a forgery that got through would change a row, and the
    # snapshot would show it.
    browsers = {
        "anonymous": Visitor(app),
        "hana": signed_in(app, "hana"),
        "ivan": signed_in(app, "ivan"),
    }
    for browser in browsers.values():
        browser.get("/login")  # any page view gives the browser its CSRF cookie
    before = snapshot(app.state.engine)
    accepted = []
    for path in PAGE_POSTS:
        address = path.format(**PATH_VALUES, **moments_to_answer)
        for who, browser in browsers.items():
            for attempt, form, headers in forgeries(browser, FORMS[path]):
                response = browser.client.post(
                    address, data=form, files=FILES.get(path), headers=headers
                )
                if response.status_code != 403:
                    accepted.append(f"{path} as {who}, {attempt}: {response.status_code}")
    assert accepted == []
    assert snapshot(app.state.engine) == before


def test_a_token_from_another_browser_is_refused(app, hana_and_ivan):
    hana = signed_in(app, "hana")
    hana.get("/today")
    stranger = Visitor(app)
    stranger.get("/login")
    foreign = stranger.client.cookies.get("reconnect_csrf")
    before = snapshot(app.state.engine)
    response = hana.client.post("/pause", data={"csrf_token": foreign})
    assert response.status_code == 403
    assert snapshot(app.state.engine) == before


def test_a_token_without_its_cookie_is_refused(app, hana_and_ivan):
    hana = signed_in(app, "hana")
    token = hana.client.cookies.get("reconnect_csrf")
    hana.client.cookies.delete("reconnect_csrf")
    before = snapshot(app.state.engine)
    assert hana.client.post("/pause", data={"csrf_token": token}).status_code == 403
    assert snapshot(app.state.engine) == before


def test_the_api_ignores_the_browser_session_cookie(app, hana_and_ivan):
    hana = signed_in(app, "hana")
    assert hana.client.cookies.get("reconnect_session")
    before = snapshot(app.state.engine)
    for path in sorted(set(API_POSTS) - WITHOUT_SIGN_IN):
        response = hana.client.post(path, json=CALM if path.endswith("checkins") else {})
        assert response.status_code == 401, (path, response.text)
    for path in API_PATCHES:
        response = hana.client.patch(path, json={"time_zone": "Pacific/Auckland"})
        assert response.status_code == 401, (path, response.text)
    assert snapshot(app.state.engine) == before


def test_a_plain_text_form_cannot_smuggle_json_into_the_api(app, client):
    # A cross-site <form enctype="text/plain"> can send a JSON-looking body without a
    # preflight; the API reads JSON only when it is declared as JSON.
    before = snapshot(app.state.engine)
    response = client.post(
        "/api/v1/auth/register",
        content=b'{"username": "mallory", "password": "quiet river under stone"}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code in {400, 415, 422}
    assert snapshot(app.state.engine) == before
