"""The therapist sees a couple only while both partners consent, and never anything private.

Hana and Ivan are the couple; Thea is their therapist; Theo is another therapist
who was never invited; Olga belongs to another couple.
"""

from __future__ import annotations

import pytest

from tests.on_disk import assert_sealed_without
from tests.pacing.api_steps import check_in
from tests.pages import pdf_text
from tests.payloads import CALM, GOOD

pytestmark = pytest.mark.usefixtures("backend")
CANARY = "CANARY-therapist-must-not-see"


@pytest.fixture
def thea(people, hana_and_ivan):
    hana, _ = hana_and_ivan
    therapist = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    joined = therapist.post("/api/v1/therapist/join", {"code": code})
    assert joined.status_code == 201, joined.text
    assert joined.json()["visible"] is False, "Ivan has not consented yet"
    return therapist


def couple_id(person) -> int:
    return int(person.get("/api/v1/couples/current").json()["id"])


def test_without_both_consents_the_therapist_sees_nothing(thea, hana_and_ivan):
    hana, ivan = hana_and_ivan
    assert thea.get("/api/v1/caseload").json() == []
    assert thea.get(f"/api/v1/caseload/{couple_id(hana)}").status_code == 404
    status = ivan.get("/api/v1/therapist/status").json()
    assert status == {
        "therapist_username": "thea",
        "i_consented": False,
        "partner_consented": True,
        "active": False,
    }


def test_with_both_consents_the_therapist_sees_the_pace_and_patterns_not_private_words(
    thea, hana_and_ivan
):
    hana, ivan = hana_and_ivan
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    check_in(hana, note=CANARY)
    check_in(ivan, note=CANARY)
    logged = hana.post(
        "/api/v1/experiences", {"practice_id": "walk-side-by-side", **GOOD, "note": CANARY}
    )
    ivan.post("/api/v1/experiences", {"experience_id": logged.json()["id"], **GOOD})
    hana.post("/api/v1/status", {"status": "okay", "words": CANARY})
    caseload = thea.get("/api/v1/caseload").json()
    assert [c["couple_id"] for c in caseload] == [couple_id(hana)]
    view = thea.get(f"/api/v1/caseload/{couple_id(hana)}")
    assert view.status_code == 200
    assert view.json()["tiers"], "the pace history"
    assert CANARY not in view.text and CANARY not in thea.get("/api/v1/caseload").text
    assert thea.get("/api/v1/checkins").json() == []


@pytest.mark.parametrize("who", [0, 1])
def test_either_partner_revoking_ends_access_on_the_next_request(thea, hana_and_ivan, who):
    hana, ivan = hana_and_ivan
    ivan.post("/api/v1/therapist/consent")
    target = f"/api/v1/caseload/{couple_id(hana)}"
    assert thea.get(target).status_code == 200
    assert (hana, ivan)[who].post("/api/v1/therapist/revoke").status_code == 204
    assert thea.get(target).status_code == 404
    assert thea.get("/api/v1/caseload").json() == []
    assert thea.post(f"{target}/reviewed").status_code == 404


def test_another_therapist_and_the_partners_themselves_get_404(people, thea, hana_and_ivan):
    hana, ivan = hana_and_ivan
    ivan.post("/api/v1/therapist/consent")
    theo = people.register("theo", screen=None)
    target = f"/api/v1/caseload/{couple_id(hana)}"
    for person in (theo, hana, ivan):
        assert person.get(target).status_code == 404


def test_a_new_therapist_replaces_the_earlier_one(people, thea, hana_and_ivan):
    hana, ivan = hana_and_ivan
    ivan.post("/api/v1/therapist/consent")
    target = f"/api/v1/caseload/{couple_id(hana)}"
    assert thea.get(target).status_code == 200
    tomas = people.register("tomas", screen=None)
    code = ivan.post("/api/v1/therapist/invites").json()["code"]
    assert tomas.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    # The partners' page names one therapist, and it is the one they can revoke.
    assert hana.get("/api/v1/therapist/status").json()["therapist_username"] == "tomas"
    assert thea.get(target).status_code == 404
    assert thea.get("/api/v1/caseload").json() == []
    assert tomas.get(target).status_code == 404, "Hana has not agreed to Tomas yet"
    assert hana.post("/api/v1/therapist/consent").status_code == 204
    assert tomas.get(target).status_code == 200


def test_a_partner_cannot_be_the_therapist_of_a_couple(hana_and_ivan, olga_and_oscar):
    hana, _ = hana_and_ivan
    olga, _ = olga_and_oscar
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    answer = olga.post("/api/v1/therapist/join", {"code": code})
    assert answer.status_code == 409


def test_the_caseload_shows_what_changed_since_the_last_review(thea, hana_and_ivan, clock):
    hana, ivan = hana_and_ivan
    ivan.post("/api/v1/therapist/consent")
    cid = couple_id(hana)
    thea.post(f"/api/v1/caseload/{cid}/reviewed")
    clock.advance(hours=1)
    hana.post("/api/v1/checkins", CALM)
    ivan.post("/api/v1/breaks", {"minutes": 20})
    case = thea.get("/api/v1/caseload").json()[0]
    assert case["breaks_since_review"] == 1


def test_the_report_is_a_pdf_with_content_on_every_page(thea, hana_and_ivan, clock):
    import io

    import pypdfium2

    hana, ivan = hana_and_ivan
    ivan.post("/api/v1/therapist/consent")
    for _ in range(3):
        check_in(hana)
        check_in(ivan)
        clock.advance(days=1)
    ivan.post("/api/v1/breaks", {"minutes": 30})
    answer = thea.get(f"/api/v1/caseload/{couple_id(hana)}/report.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    pdf = pypdfium2.PdfDocument(io.BytesIO(answer.content))
    assert len(pdf) >= 1
    for page in pdf:
        image = page.render(scale=1).to_pil().convert("L")
        dark = sum(1 for value in image.tobytes() if value < 200)  # one byte a pixel
        assert dark > 1000, "the page has text and a chart, not a blank sheet"
    text = "".join(page.get_textpage().get_text_range() for page in pdf)
    assert "Breaks after flooding: 1" in text
    assert CANARY not in text


def test_a_report_for_a_period_without_data_says_so(thea, hana_and_ivan):
    import io

    import pypdfium2

    hana, ivan = hana_and_ivan
    ivan.post("/api/v1/therapist/consent")
    answer = thea.get(
        f"/api/v1/caseload/{couple_id(hana)}/report.pdf?start=2020-01-01&end=2020-01-31"
    )
    assert answer.status_code == 200
    text = "".join(
        p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(io.BytesIO(answer.content))
    )
    assert "No pace data was recorded in this period" in text
    reversed_period = thea.get(
        f"/api/v1/caseload/{couple_id(hana)}/report.pdf?start=2020-02-01&end=2020-01-01"
    )
    assert reversed_period.status_code == 422


def test_results_are_shared_with_the_therapist_alone_and_only_with_consent(
    thea, hana_and_ivan, app
):
    from sqlalchemy import select

    from reconnect.models import TherapistShare

    hana, ivan = hana_and_ivan
    phq9 = {str(n): 0 for n in range(1, 10)}
    gad7 = {str(n): 1 for n in range(1, 8)}
    # Ivan has not agreed yet: his result is not shared.
    ivan.post("/api/v1/questionnaires/gad-7", {"answers": gad7})
    ivan.post("/api/v1/therapist/consent")
    taken = hana.post("/api/v1/questionnaires/phq-9", {"answers": {**phq9, "9": 1}}).json()
    view = thea.get(f"/api/v1/caseload/{couple_id(hana)}").json()
    shared = view["shared_results"]
    # The crisis answer is Hana's to tell: not part of the result unless she chooses.
    assert [(s["role"], s["instrument"], s["crisis"]) for s in shared] == [("hurt", "phq-9", False)]
    assert taken["can_tell_therapist"] is True
    with app.state.reconnect.sessions() as db:
        sealed = db.scalar(select(TherapistShare.sealed))
        assert_sealed_without(sealed, b'"phq-9"', b'"crisis"')
    # Nothing of it reaches Ivan, and revoking takes the shares with the link.
    assert "phq-9" not in ivan.get("/api/v1/questionnaires/phq-9/history").text
    ivan.post("/api/v1/therapist/revoke")
    with app.state.reconnect.sessions() as db:
        assert db.scalars(select(TherapistShare)).all() == []


def test_the_therapist_sees_shared_scores_as_a_trend_with_reliable_change(
    app, people, thea, hana_and_ivan, clock
):
    from tests.pages import Visitor

    hana, ivan = hana_and_ivan
    ivan.post("/api/v1/therapist/consent")
    check_in(hana)
    check_in(ivan)
    for values in ([3] * 8 + [0], [1] * 8 + [0]):  # PHQ-9 24, then 8
        answers = {str(n): v for n, v in enumerate(values, start=1)}
        assert hana.post("/api/v1/questionnaires/phq-9", {"answers": answers}).status_code == 201
        clock.advance(weeks=3)
    cid = couple_id(hana)
    thea.token = people.login("thea")
    shared = thea.get(f"/api/v1/caseload/{cid}").json()["shared_results"]
    assert [(s["total"], s["change"], s["highest"]) for s in shared] == [
        (24, None, 27),
        (8, "improved", 27),
    ]
    browser = Visitor(app)
    browser.post("/login", {"username": "thea", "password": "quiet river under stone"})
    page = browser.get(f"/caseload/{cid}")
    chart = f"/caseload/{cid}/charts/scores-phq-9.svg"
    figure = page.select_one(f"figure:has(img[src='{chart}'])")
    assert figure is not None, "a trend chart of the shared PHQ-9, both partners on it"
    assert "reliable improvement" in figure.select("tbody tr")[-1].get_text()
    assert page.select_one(f"img[src='/caseload/{cid}/charts/tier.svg']") is not None
    browser.get(chart)
    assert browser.last.status_code == 200
    assert browser.last.headers["content-type"].startswith("image/svg+xml")
    # The report lists the shared scores of its period with their reliable change.
    report = thea.get(f"/api/v1/caseload/{cid}/report.pdf?start=2026-01-01&end=2027-12-31")
    assert report.status_code == 200
    text = pdf_text(report.content)
    assert "Questionnaire results shared with you" in text
    assert "improved" in text and "PHQ-9" in text
    # Ivan never sees Hana's scores, nor their chart; after he revokes, nor does Thea.
    partner = Visitor(app)
    partner.post("/login", {"username": "ivan", "password": "quiet river under stone"})
    partner.get(chart)
    assert partner.last.status_code == 404
    ivan.token = people.login("ivan")
    assert ivan.post("/api/v1/therapist/revoke").status_code == 204
    browser.get(chart)
    assert browser.last.status_code == 404


def test_a_partner_may_show_their_own_reflections_to_the_therapist_alone(thea, hana_and_ivan):
    hana, ivan = hana_and_ivan
    ivan.post("/api/v1/therapist/consent")
    for _ in range(3):
        check_in(hana, urgency=9, readiness=2)
    shared = hana.post("/api/v1/therapist/share-findings")
    assert shared.status_code == 201 and shared.json()["shared"] >= 1
    view = thea.get(f"/api/v1/caseload/{couple_id(hana)}").json()
    assert {s["pattern"] for s in view["shared_findings"]} == {"urgency_as_readiness"}
    assert all(s["role"] == "hurt" for s in view["shared_findings"])
    assert "urgency_as_readiness" not in ivan.get("/api/v1/insights").text
