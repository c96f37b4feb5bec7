"""The demo couple: ten weeks of believable history, reset on every run, served on request."""

from __future__ import annotations

import json
from itertools import pairwise

from click.testing import CliRunner
from sqlalchemy import func, select

from reconnect.accounts.auth import kdf_params
from reconnect.accounts.signed_in import SignedIn
from reconnect.cli import main
from reconnect.demo import HURT, INVOLVED, build_demo
from reconnect.models import CheckInEntry, Experience, PaceDecision, PaceSignal, Person
from tests.demo import NOW
from tests.pages import Visitor


def ladder_history(db) -> list[int]:
    rows = db.scalars(select(PaceDecision.data).order_by(PaceDecision.id))
    return [json.loads(row)["ladder_tier"] for row in rows]


def test_the_demo_couple_has_slow_progress_a_flood_and_recovery(demo_app):
    state = demo_app.state.reconnect
    with state.sessions() as db:
        assert (
            db.scalar(select(func.count()).select_from(CheckInEntry)) == 2 * 70 + 5
        )  # and five extra from Hana at the end
        ladder = ladder_history(db)
        steps = [b - a for a, b in pairwise(ladder) if a != b]
        assert all(abs(step) == 1 for step in steps), "the ladder moves one tier at a time"
        assert -1 in steps, "the rushed evening stepped the couple back"
        assert ladder[-1] > min(ladder[ladder.index(max(ladder[:40])) :])  # recovered
        assert db.scalar(select(func.count()).where(Experience.ahead_of_pace)) >= 1


def test_running_the_demo_again_resets_it(demo_app):
    state = demo_app.state.reconnect
    build_demo(state.sessions, state.hasher, kdf_params(state.settings), NOW)  # again
    with state.sessions() as db:
        names = db.scalars(select(Person.username).order_by(Person.username)).all()
        assert names == [HURT, INVOLVED, "demo-thea"]
        assert (
            db.scalar(select(func.count()).select_from(CheckInEntry)) == 2 * 70 + 5
        )  # and five extra from Hana at the end


def test_demo_sign_in_exists_only_in_demo_mode(app):
    visitor = Visitor(app)
    visitor.get("/demo")
    assert visitor.last.status_code == 404
    assert visitor.post("/demo/sign-in", {"who": "hurt"}).status_code == 404


def test_the_demo_command_creates_its_own_database_and_a_filled_today_page(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reconnect.db").exists()

    from reconnect.app import create_app
    from tests.conftest import make_settings

    settings = make_settings(tmp_path).model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'reconnect.db'}", "demo": True}
    )
    visitor = Visitor(create_app(settings))
    visitor.get("/demo")
    assert visitor.last.status_code == 200
    assert visitor.post("/demo/sign-in", {"who": "involved"}).status_code == 303
    page = visitor.follow()
    assert page.select_one("#pace") is not None
    assert page.select(".practices li")


def test_the_demo_couple_has_reflections_and_a_trigger_to_look_at(demo_app):
    from reconnect.accounts import auth
    from reconnect.demo import PASSWORD
    from reconnect.insights import store as insights
    from reconnect.models import Trigger

    state = demo_app.state.reconnect
    with state.sessions() as db:
        assert db.scalars(select(Trigger)).first() is not None
        for name in (HURT, INVOLVED):
            person = db.scalar(select(Person).where(Person.username == name))
            key = auth.unlock_with_password(person, PASSWORD)
            seen = insights.visible_findings(db, signed_in=SignedIn(person, key, ""))
            assert len(seen) >= 3, name


def test_the_demo_has_questionnaire_history_and_a_therapist_with_consent(demo_app):
    from reconnect.accounts import auth
    from reconnect.demo import PASSWORD, THERAPIST
    from reconnect.models import QuestionnaireResponse
    from reconnect.therapist import store as therapists

    state = demo_app.state.reconnect
    with state.sessions() as db:
        assert len(db.scalars(select(QuestionnaireResponse)).all()) >= 6
        thea = db.scalar(select(Person).where(Person.username == THERAPIST))
        assert auth.unlock_with_password(thea, PASSWORD)
        assert thea.is_therapist, "she signed up as a couples therapist"
        assert len(therapists.caseload(db, thea.id)) == 1
    # The couple chose to share with her: her view of them has real examples.
    visitor = Visitor(demo_app)
    visitor.post("/login", {"username": THERAPIST, "password": PASSWORD})
    assert visitor.last.headers["location"] == "/caseload"
    case = visitor.follow().select_one("#cases a")
    assert case is not None
    page = visitor.get(str(case["href"]))
    results = page.select("#shared-results tbody tr")
    assert len(results) >= 4
    partners = {row.find_all("td")[1].get_text(strip=True) for row in results}
    assert partners == {"hurt partner", "involved partner"}
    # She asked both for a PHQ-9 every two weeks, and sees both on one chart.
    assert "every two weeks" in page.select_one("#asked-phq-9").get_text()
    chart = page.select_one("figure.chart:has(img[src$='/scores-phq-9.svg'])")
    assert chart is not None
    charted = {row.find_all("td")[1].get_text().lower() for row in chart.select("tbody tr")}
    assert charted == partners
    assert page.select("#shared-findings li"), "reflections a partner chose to show her"
    assert "None shared" not in page.get_text()


def test_the_demo_couple_has_a_commitment_kept_over_weeks(demo_app):
    from reconnect.demo import PASSWORD

    hana = Visitor(demo_app)
    hana.post("/login", {"username": HURT, "password": PASSWORD})
    page = hana.get("/commitments")
    (section,) = page.select("section[id^=commitment-]")
    assert "No contact with the affair partner" in section.get_text()
    chart = section.select_one("figure.chart img")
    assert chart is not None, "weeks of days: drawn as a chart"
    rows = [tr.find_all("td") for tr in section.select("figure.chart tbody tr")]
    assert len(rows) >= 6 and sum(int(r[3].get_text()) for r in rows) > 0, "Hana noticed some"
    assert any(int(r[2].get_text()) for r in rows), "and Ivan said when it was not kept"


def test_the_demo_couple_lives_the_longer_arc(demo_app):
    """Two rituals kept; the disclosure prepared, read first by Thea, held once the pace
    allowed it and reflected on by each; the account left; both letters shared and
    answered; and the anniversary of the discovery, near which the pace held."""
    from reconnect.demo import PASSWORD

    state = demo_app.state.reconnect
    hana, ivan = Visitor(demo_app), Visitor(demo_app)
    hana.post("/login", {"username": HURT, "password": PASSWORD})
    ivan.post("/login", {"username": INVOLVED, "password": PASSWORD})
    rituals = hana.get("/rituals").select("section[id^=ritual-]")
    assert len(rituals) == 2 and all(r.select_one("figure.chart") for r in rituals)
    letters = ivan.get("/letters")
    assert "took the ground from under me" in letters.get_text(), "her impact letter"
    assert "I will not look away" in letters.get_text(), "and his answer"
    assert "The day I found out" in hana.get("/hard-dates").get_text()
    with state.sessions() as db:
        (held,) = db.scalars(select(Experience).where(Experience.practice_id == "the-full-account"))
        assert held.tier == 4 and not held.ahead_of_pace, "held when the pace allowed it"
        assert db.scalar(select(func.count()).where(PaceSignal.kind == "hold")) == 1
    mine = ivan.get("/disclosure")
    assert "Plain and owned" in mine.get_text(), "Thea's reading, for him"
    assert "your reflection is written" in mine.select_one("#afterwards").get_text()
    theirs = hana.get("/disclosure")
    assert "Plain and owned" not in theirs.get_text()
    assert "your reflection is written" in theirs.select_one("#afterwards").get_text()
    assert "deleted messages" in theirs.select_one("#afterwards").get_text(), "left for her"
