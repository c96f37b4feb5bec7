"""The notes page and the coach's preview, read with a real HTML parser and no JavaScript.

A preview is an ordinary form post: the page comes back with the words kept and the
coach's reading beside them, marked private; sending is another ordinary post. Hana
and Ivan share a couple; Olga is in another.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from reconnect import coach
from reconnect.models import SharedNote, SharedStatus
from tests.coach.stand_in import CLOSING_WORDS as CLOSING
from tests.coach.stand_in import OPENING_WORDS as OPENING
from tests.log_capture import every_logger, records_holding
from tests.pages import Visitor, soup, text_of


def note_count(app) -> int:
    with app.state.reconnect.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(SharedNote)))


def test_the_notes_page_says_what_the_partner_sees_and_what_stays_private(paired):
    hana, _ = paired
    page = hana.get("/notes")
    assert hana.last.status_code == 200
    assert page.find("a", href="/notes") is not None, "linked from the navigation"
    assert "Your partner will see this note" in text_of(page, "#note-shared")
    form = page.select_one("form#note-form")
    assert form["action"] == "/notes" and form["method"] == "post"
    assert form.select_one("input[name=csrf_token]")["value"]
    box = form.select_one("textarea#note-text")
    assert page.select_one("label[for=note-text]") is not None
    assert "note-shared" in box["aria-describedby"]
    preview = form.find("button", string="Preview with the coach")
    assert preview["formaction"] == "/notes/preview"
    assert "keeps nothing" in text_of(form, "p.muted")
    assert page.select_one("#coach-reading") is None, "no reading until asked"
    assert "No notes yet" in text_of(page, "#notes-empty")


@pytest.mark.usefixtures("steady_coach")
def test_a_preview_keeps_the_words_and_shows_a_private_hint_without_sending(paired, app):
    hana, _ = paired
    response = hana.post("/notes/preview", {"text": CLOSING})
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("textarea#note-text").get_text() == CLOSING
    reading = page.select_one("#coach-reading")
    assert reading["data-tone"] == "closing" and reading["data-label"] in coach.CLOSING
    assert "Only you see this" in text_of(reading, ".mark.private")
    assert "keeps nothing" in text_of(reading, ".mark.private")
    message = text_of(page, "#coach-message")
    assert message.startswith("This may") and "You could" in message
    assert "not a verdict" in " ".join(reading.get_text(" ").split())
    assert note_count(app) == 0, "a preview sends nothing"
    # The note can still be sent as it is: the coach never blocks.
    assert hana.post("/notes", {"text": CLOSING}).status_code == 303
    assert note_count(app) == 1


@pytest.mark.usefixtures("steady_coach")
def test_opening_words_get_a_warm_acknowledgement(paired):
    hana, _ = paired
    page = soup(hana.post("/notes/preview", {"text": OPENING}))
    reading = page.select_one("#coach-reading")
    assert reading["data-tone"] == "opening" and reading["data-label"] in coach.OPENING
    assert "You could" not in text_of(page, "#coach-message")


def test_a_preview_marks_each_finding_over_the_writers_own_words(paired):
    hana, _ = paired
    text = (
        "You always overreact. It was just one mistake, can we move on already? "
        "I'm sorry you feel that way. <b>Really</b>."
    )
    page = soup(hana.post("/notes/preview", {"text": text}))
    reading = page.select_one("#coach-reading")
    marks = reading.select("#coach-words mark")
    assert {m.get_text() for m in marks} >= {
        "It was just one mistake",
        "can we move on already?",
        "I'm sorry you feel that way.",
    }
    # The words are shown whole, as text (never as markup), with the marks over them.
    assert reading.select_one("#coach-words b") is None
    shown = reading.select_one("#coach-words")
    for extra in shown.select("sup, .visually-hidden"):
        extra.decompose()  # the marks' numbers, and the words for screen readers
    assert shown.get_text() == text
    listed = reading.select("#coach-findings li")
    assert len(listed) == len(marks)
    assert any("Sorry for their feelings" in item.get_text() for item in listed)
    assert all("You could" in item.get_text() for item in listed)
    # Still the writer's alone, and still nothing sent.
    assert "Only you see this" in text_of(reading, ".mark.private")


@pytest.mark.parametrize(
    ("text", "notice"),
    [("", "nothing"), ("Je t'aime encore, je suis désolée pour tout.", "English only")],
)
def test_a_preview_of_what_the_coach_cannot_read_says_why(paired, text, notice):
    hana, _ = paired
    page = soup(hana.post("/notes/preview", {"text": text}))
    assert hana.last.status_code == 200
    assert page.select_one("#coach-reading")["data-tone"] == "unread"
    assert notice.lower() in text_of(page, "#coach-message").lower()
    assert page.select_one("textarea#note-text").get_text() == text


def test_sending_works_without_javascript_and_the_partner_reads_it(paired):
    hana, ivan = paired
    assert hana.post("/notes", {"text": "I am glad you told me.\nI am here."}).status_code == 303
    page = hana.follow()
    assert "Sent" in text_of(page, "#note-sent")
    assert page.select_one("textarea#note-text").get_text() == ""
    theirs = ivan.get("/notes")
    note = theirs.select_one("#notes li")
    assert "Your partner wrote" in text_of(note, "p.muted")
    assert [p.get_text() for p in note.select("p")[1:]] == ["I am glad you told me.", "I am here."]
    assert "You both see these" in text_of(theirs, "#notes-title + .page-mark .mark.shared")
    assert theirs.select_one("#coach-reading") is None, "the reading was never kept"


@pytest.mark.usefixtures("steady_coach")
def test_the_writer_alone_sees_the_coach_read_their_sent_notes_again(paired):
    hana, ivan = paired
    ivan.post("/notes", {"text": CLOSING})
    hana.post("/notes", {"text": OPENING})
    for reader, own, other in ((ivan, CLOSING, OPENING), (hana, OPENING, CLOSING)):
        page = reader.get("/notes")
        assert "not kept" in text_of(page, "#own-hints-note")
        items = {
            " ".join(li.select("p")[1].get_text().split()): li for li in page.select("#notes li")
        }
        hint = items[own].select_one("details.coach-hint")
        assert "Only you see this" in text_of(hint, "summary")
        assert hint["data-tone"] == ("closing" if own == CLOSING else "opening")
        assert items[other].select_one("details.coach-hint") is None


def test_a_refused_note_keeps_its_words(paired, app):
    hana, _ = paired
    too_long = "word " * 900
    response = hana.post("/notes", {"text": too_long})
    assert response.status_code == 422
    page = soup(response)
    assert "under 4000 characters" in text_of(page, "#form-error")
    assert page.select_one("textarea#note-text").get_text() == too_long
    assert hana.post("/notes", {"text": "   "}).status_code == 422
    assert note_count(app) == 0


def test_markup_in_a_note_is_shown_as_text(paired):
    hana, ivan = paired
    hana.post("/notes", {"text": "<script>alert(1)</script><b>bold</b>"})
    response = ivan.client.get("/notes")
    assert "<script>alert(1)" not in response.text and "<b>bold" not in response.text
    assert "&lt;script&gt;" in response.text


def test_notes_and_previews_need_a_couple_and_a_sign_in(app, paired):
    stranger = Visitor(app)
    stranger.get("/notes")
    assert (stranger.last.status_code, stranger.last.headers["location"]) == (303, "/login")
    assert stranger.post("/notes/preview", {"text": "hello"}).status_code == 303
    uma = Visitor(app)
    uma.register("uma")
    page = uma.get("/notes")
    assert uma.last.status_code == 200
    assert page.select_one("form#note-form") is None
    assert "couple space" in text_of(page, "main")
    refused = uma.post("/notes", {"text": "hello"})
    assert refused.status_code == 409
    assert "couple space" in text_of(soup(refused), "main")


def test_another_couple_never_sees_the_notes(paired, app):
    hana, _ = paired
    hana.post("/notes", {"text": "only for Ivan"})
    olga, oscar = Visitor(app), Visitor(app)
    olga.register("olga")
    oscar.register("oscar")
    olga.post("/couple", {"role": "hurt"})
    code = text_of(soup(olga.post("/couple/invite", {})), "#invite-code")
    oscar.post("/couple/join", {"code": code, "role": "involved"})
    assert "only for Ivan" not in olga.client.get("/notes").text


def test_a_preview_logs_and_stores_nothing(paired, app, caplog):
    hana, _ = paired
    every_logger(caplog)
    canary = "canary-9d2e-a-draft-never-sent"
    hana.post("/notes/preview", {"text": f"{canary} it was just once"})
    hana.post("/status/preview", {"status": "okay", "words": canary})
    assert records_holding(caplog, canary) == []
    assert note_count(app) == 0


# --- the shared status: preview beside Share ---------------------------------------------


def test_the_status_form_offers_a_preview_beside_share(paired):
    hana, _ = paired
    form = hana.get("/today").select_one("form[action='/status']")
    buttons = [b.get_text() for b in form.select("button")]
    assert buttons == ["Share", "Preview with the coach"], "Enter still shares"
    preview = form.find("button", string="Preview with the coach")
    assert preview["formaction"] == "/status/preview" and preview.has_attr("formnovalidate")


def test_a_status_preview_keeps_the_choice_and_words_and_shares_nothing(paired, app):
    hana, ivan = paired
    response = hana.post("/status/preview", {"status": "okay", "words": "it was just one night"})
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("input[name=status][value=okay]").has_attr("checked")
    assert page.select_one("input#status-words")["value"] == "it was just one night"
    assert page.select_one("#coach-reading")["data-tone"] in {"closing", "neutral"}
    assert "Only you see this" in text_of(page, "#coach-reading")
    with app.state.reconnect.sessions() as db:
        assert db.scalar(select(func.count()).select_from(SharedStatus)) == 0
    form = page.select_one("form#status-form")
    assert form["action"] == "/status"
    assert hana.post("/status", {"status": "okay", "words": "a quiet day"}).status_code == 303
    assert "a quiet day" in text_of(ivan.get("/today"), "#statuses")


def test_a_status_preview_without_a_choice_lets_the_person_choose(paired):
    hana, _ = paired
    page = soup(hana.post("/status/preview", {"words": "I am here"}))
    assert hana.last.status_code == 200
    assert not page.select("input[name=status][checked]")
    assert page.select_one("input#status-words")["value"] == "I am here"


# --- the demo couple ------------------------------------------------------------------


def test_the_demo_couple_sees_the_coach_at_work_on_their_own_notes(demo_app):
    from reconnect.demo import HURT, INVOLVED, PASSWORD

    tones = {}
    for name in (INVOLVED, HURT):
        visitor = Visitor(demo_app)
        assert visitor.post("/login", {"username": name, "password": PASSWORD}).status_code == 303
        page = visitor.get("/notes")
        assert len(page.select("#notes li")) == 5
        tones[name] = [d["data-tone"] for d in page.select("#notes details.coach-hint")]
    assert len(tones[INVOLVED]) == 4 and len(tones[HURT]) == 1
    assert {"closing", "opening"} <= set(tones[INVOLVED])
    assert tones[HURT] == ["opening"]


def test_a_preview_gives_back_markup_exactly_as_typed_and_inert(paired):
    from tests.security.xss import CLASSIC, assert_inert

    hana, _ = paired
    for payload in CLASSIC:
        page = soup(hana.post("/notes/preview", {"text": payload}))
        assert page.select_one("textarea#note-text").get_text() == payload
        assert_inert(page)
        page = soup(hana.post("/status/preview", {"status": "okay", "words": payload}))
        assert page.select_one("input#status-words")["value"] == payload
        assert_inert(page)
