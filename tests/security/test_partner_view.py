"""What Ivan sees does not change, by a single byte, when Hana writes privately; nor
does what Thea, the therapist both of them consented to, sees.

Hana checks in once, then Ivan's every page and API answer is captured, and Thea's
caseload, couple view and report. Hana then
writes 50 private check-ins, each with its own note, all inside the same coarse band
as her first (settled, activation 0 to 5, not asking for closeness), because the
shared pace legitimately follows her band. Ivan's answers must be byte-identical:
no counts, no dates, no "last active", nothing that says she wrote at all.
"""

from __future__ import annotations

import difflib
import io
import random
import re
import zipfile

import pytest

from tests.conftest import NO_CONCERNS
from tests.pacing.api_steps import check_in, do_together, tier
from tests.payloads import CALM, GOOD
from tests.security.conftest import (
    api_addresses,
    page_addresses,
    signed_in,
    without_csrf_values,
)

pytestmark = pytest.mark.usefixtures("backend")

# Made afresh for each request of Ivan's own: when his export and calendar file were
# made, and a new two-step secret on offer. None says anything about Hana.
FRESH_EACH_TIME = [
    (re.compile(r'"exported_at": ?"[^"]*"'), '"exported_at": ""'),
    (re.compile(r'"timestamp": ?"[^"]*"'), '"timestamp": ""'),  # his FHIR export's, too
    (re.compile(r"\b[A-Z2-7]{32}\b"), "SECRET"),
    (re.compile(r"DTSTAMP:\d{8}T\d{6}Z"), "DTSTAMP:"),  # when his calendar file was made
    # The Account page tells him the time it is now where he lives.
    (re.compile(r"where it is\s+\d\d:\d\d [^.]*\."), "where it is ."),
]


def diff(before: str, after: str) -> list[str]:
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return list(lines)[2:12]


def same_band_checkins(count: int) -> list[dict]:
    """Check-ins that differ in every private detail but not in their coarse band."""
    pick = random.Random(4)  # fixed, so a failure can be replayed
    entries = []
    for n in range(count):
        readiness = pick.randint(0, 6)  # 7 and above would mean "ready for closeness"
        entries.append(
            {
                **CALM,
                "activation": pick.randint(0, 5),  # 6 and above slows the pace
                "safety": pick.randint(5, 10),  # feeling unsafe (below 5) slows it too
                "readiness": readiness,
                "urgency": pick.randint(0, readiness + 3),  # a gap of 4 would be named
                "drivers": pick.sample(["reassurance", "fear_of_loss", "other"], k=n % 3),
                "body_signals": pick.sample(["steady", "warm", "tight chest"], k=n % 3),
                "note": f"private note number {n}: {pick.random()}",
            }
        )
    return entries


def comparable(response) -> str:
    """The answer's bytes, less what legitimately differs between two looks: the page's
    CSRF token values and what is made afresh for each request."""
    kind = response.headers.get("content-type", "")
    if kind.startswith("text/html"):
        text = without_csrf_values(response.text)
    elif kind == "application/pdf":
        return pdf_text(response.content)
    elif kind == "application/zip":
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            text = "\n".join(f"{n}:{archive.read(n).decode()}" for n in archive.namelist())
    else:
        text = response.text
    for pattern, blank in FRESH_EACH_TIME:
        text = pattern.sub(blank, text)
    return text


def pdf_text(content: bytes) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(content)
    return "\f".join(page.get_textpage().get_text_range() for page in document)


def theas_view(thea, token: dict[str, str], couple_id: int) -> dict[str, tuple[int, str]]:
    """The therapist's pages and API answers about the couple."""
    view = {}
    for address in ("/caseload", f"/caseload/{couple_id}", f"/caseload/{couple_id}/report.pdf"):
        thea.get(address)
        view[address] = (thea.last.status_code, comparable(thea.last))
    for path in ("/api/v1/caseload", f"/api/v1/caseload/{couple_id}"):
        answer = thea.client.get(path, headers=token)
        view[path] = (answer.status_code, comparable(answer))
    return view


def ivans_view(
    ivan, token: dict[str, str], experience_id: int, couple_id: int
) -> dict[str, tuple[int, str]]:
    """Every page and API answer Ivan can reach."""
    view = {}
    for address in page_addresses(experience_id):
        ivan.get(address)
        view[address] = (ivan.last.status_code, comparable(ivan.last))
    for path in api_addresses(couple_id):
        answer = ivan.client.get(path, headers=token)
        view[path] = (answer.status_code, comparable(answer))
    return view


def test_ivan_sees_the_same_bytes_whether_hana_wrote_nothing_or_fifty_entries(
    clock, app, people, hana_and_ivan, hanas_experience, couple_id
):
    hana, ivan = hana_and_ivan
    # Up one tier first (three calm days), so that a change in Hana's band would show
    # in Ivan's pace.
    for _ in range(3):
        check_in(hana)
        check_in(ivan)
        clock.advance(days=1)
        hana.token, ivan.token = people.login("hana"), people.login("ivan")  # 12-hour sessions
    check_in(hana)
    check_in(ivan)
    assert tier(ivan) == 1
    # Closeness ahead of the pace: a couple-level pattern both of them see, which
    # Hana's private writes must not touch, not even its time.
    do_together(hana, ivan, 5)
    assert any(f["audience"] == "couple" for f in ivan.get("/api/v1/insights").json())
    assert tier(ivan) == 1
    therapist = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert therapist.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    # One browser and one token for both looks, as Ivan (and Thea) would have.
    browser = signed_in(app, "ivan")
    token = {"Authorization": f"Bearer {people.login('ivan')}"}
    before = ivans_view(browser, token, hanas_experience, couple_id)
    assert all(status < 500 for status, _ in before.values())
    thea_browser = signed_in(app, "thea")
    thea_token = {"Authorization": f"Bearer {people.login('thea')}"}
    thea_before = theas_view(thea_browser, thea_token, couple_id)
    assert {status for status, _ in thea_before.values()} == {200}

    for entry in same_band_checkins(50):
        clock.advance(minutes=3)
        assert hana.post("/api/v1/checkins", entry).status_code == 201
    assert len(hana.get("/api/v1/checkins").json()) == 5 + 50
    # Practices she does alone are private too, whenever she logs them.
    for minutes, after in ((7, 3), (31, 0), (2, 5)):
        clock.advance(minutes=minutes)
        alone = {**GOOD, "practice_id": "longer-out-breath", "activation_after": after}
        logged = hana.post("/api/v1/experiences", {**alone, "note": f"alone {minutes}"})
        assert logged.status_code == 201 and logged.json()["solo"] is True, logged.text

    after = ivans_view(browser, token, hanas_experience, couple_id)
    changed = [address for address in before if before[address] != after[address]]
    assert changed == [], {a: diff(before[a][1], after[a][1]) for a in changed}
    thea_after = theas_view(thea_browser, thea_token, couple_id)
    changed = [a for a in thea_before if thea_before[a] != thea_after[a]]
    assert changed == [], {a: diff(thea_before[a][1], thea_after[a][1]) for a in changed}

    # A crisis answer, telling Thea of it, and answering the check afterwards are
    # Hana's alone too (Thea now sees a new result: she is meant to).
    crisis = hana.post(
        "/api/v1/questionnaires/phq-9", {"answers": {str(n): 2 * (n == 9) for n in range(1, 10)}}
    )
    assert crisis.status_code == 201 and crisis.json()["crisis"] is True
    result = f"/api/v1/questionnaires/results/{crisis.json()['id']}"
    assert hana.post(f"{result}/tell-therapist").status_code == 200
    assert hana.post(f"{result}/follow-up", {"how": "worse"}).status_code == 200
    # Answering the safety questions again, raising a concern, going on, and putting
    # off the next offer: Hana's alone as well.
    again = {**NO_CONCERNS, "children": True}
    assert hana.post("/api/v1/safety-screen", {"answers": again}).status_code == 200
    assert hana.post("/api/v1/safety-screen/continue").status_code == 200
    assert hana.post("/api/v1/safety-screen/later").status_code == 204
    # Marking a hard date, months away, changes nothing Ivan receives either.
    far = {"label": "the old anniversary", "month": 9, "day": 20}
    assert hana.post("/api/v1/hard-dates", far).status_code == 201
    # And a letter she drafts, until she chooses to share it.
    draft = {"kind": "impact", "text": "What finding out did to me, in my own words."}
    assert hana.post("/api/v1/letters", draft).status_code == 200
    # And the questions and limits she prepares for the disclosure, until she is ready.
    prepared = {"questions": "Did you love her?", "limits": ["sexual_detail"]}
    assert hana.post("/api/v1/disclosure/preparation", prepared).status_code == 204
    after_crisis = ivans_view(browser, token, hanas_experience, couple_id)
    changed = [address for address in before if before[address] != after_crisis[address]]
    assert changed == [], {a: diff(before[a][1], after_crisis[a][1]) for a in changed}

    # The capture does see what Hana may share: one check-in outside the band.
    check_in(hana, activation=9)
    assert tier(ivan) == 0
