"""The progress page: server-rendered charts, each with a data table and a text alternative."""

from __future__ import annotations

from xml.etree import ElementTree

from tests.pacing.api_steps import check_in
from tests.payloads import GOOD
from tests.security.conftest import signed_in


def test_the_progress_page_has_charts_with_tables_and_words(app, hana_and_ivan, clock):
    hana, ivan = hana_and_ivan
    for _ in range(3):
        check_in(hana)
        check_in(ivan)
        logged = hana.post("/api/v1/experiences", {"practice_id": "walk-side-by-side", **GOOD})
        ivan.post("/api/v1/experiences", {"experience_id": logged.json()["id"], **GOOD})
        clock.advance(days=1)
    page = signed_in(app, "hana").get("/progress")
    mine = page.select("#mine-title ~ figure.chart")
    assert len(mine) == 3
    for figure in mine:
        assert figure.find("figcaption").get_text(strip=True)
    with_image = [f for f in mine if f.find("img")]
    assert with_image, "charts with data show an image"
    for figure in with_image:
        assert figure.find("img")["alt"]
        assert figure.select("table tbody tr")
    assert page.select("#ours-title ~ figure.chart img")
    assert page.select("#my-markers li")


def test_a_chart_image_is_an_svg_with_no_outside_links(app, hana_and_ivan, clock):
    hana, _ = hana_and_ivan
    for _ in range(3):
        check_in(hana)
        clock.advance(days=1)
    visitor = signed_in(app, "hana")
    visitor.get("/progress/charts/me/activation-safety.svg")
    answer = visitor.last
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(answer.content)  # noqa: S314 - our own output
    assert root.tag.endswith("svg")
    assert b"https://" not in answer.content


def test_with_no_data_yet_the_page_says_so_instead_of_drawing_empty_charts(app, people):
    people.register("uma")
    visitor = signed_in(app, "uma")
    page = visitor.get("/progress")
    assert not page.select("figure.chart img")
    assert "A few more days of check-ins and this fills in." in page.get_text()
    visitor.get("/progress/charts/me/activation-safety.svg")
    assert visitor.last.status_code == 404


def test_the_partner_cannot_fetch_someone_elses_charts(app, hana_and_ivan):
    hana, _ = hana_and_ivan
    check_in(hana, activation=9)
    ivan = signed_in(app, "ivan")
    ivan.get("/progress/charts/me/activation-safety.svg")
    # "me" is always the person asking: Ivan has no check-ins, so there is nothing.
    assert ivan.last.status_code == 404


def test_the_weekly_summary_has_its_parts_and_the_pace_once(app, hana_and_ivan):
    hana, _ = hana_and_ivan
    check_in(hana)
    page = signed_in(app, "hana").get("/summary")
    headings = {s: [h.get_text() for h in page.select(f"#{s} h3")] for s in ("mine", "ours")}
    # The pace is the couple's: said once, in the half both partners see.
    assert headings["mine"] == ["What went well", "What was hard", "What to try"]
    assert headings["ours"] == ["What went well", "What was hard", "The pace", "What to try"]


def test_the_reminder_file_is_a_calendar_with_nothing_private(app, hana_and_ivan):
    from icalendar import Calendar

    hana, _ = hana_and_ivan
    check_in(hana, note="a private sentence")
    visitor = signed_in(app, "hana")
    visitor.get("/summary/reminders.ics")
    answer = visitor.last
    assert answer.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(answer.content).walk("VEVENT")
    assert len(events) == 7
    assert b"private" not in answer.content and b"hana" not in answer.content


def couple_tier_view(app, username: str) -> tuple[bytes, list[str]]:
    partner = signed_in(app, username)  # a fresh sign-in: sessions last 12 hours
    page = partner.get("/progress")
    figure = page.select_one("#ours figure.chart:has(img[src='/progress/charts/couple/tier.svg'])")
    assert figure is not None, "the couple's chart of where they have reached is drawn"
    rows = [row.get_text("|") for row in figure.select("tbody tr")]
    partner.get("/progress/charts/couple/tier.svg")
    assert partner.last.status_code == 200
    return partner.last.content, rows


def test_the_couple_chart_does_not_show_on_which_days_the_partner_checked_in(
    app, hana_and_ivan, olga_and_oscar, clock
):
    hana, ivan = hana_and_ivan
    olga, oscar = olga_and_oscar
    for person in (hana, ivan, olga, oscar):
        check_in(person)
    clock.advance(days=1)
    for _ in range(3):  # Hana alone, on days of her own, in the same calm band
        check_in(hana, activation=4, note="only mine")
        clock.advance(days=1)
    # Olga did not: the two couples' charts are the same, to the byte.
    assert couple_tier_view(app, "ivan") == couple_tier_view(app, "oscar")


def test_questionnaire_scores_are_charted_with_reliable_change(app, people, clock):
    hana = people.register("hana")
    phq9 = next(i for i in hana.get("/api/v1/questionnaires").json() if i["id"] == "phq-9")
    ids = [item["id"] for item in phq9["items"]]
    for values in ([3] * 8 + [0], [1] * 8 + [0]):  # 24, then 8: a reliable improvement
        taken = hana.post(
            "/api/v1/questionnaires/phq-9", {"answers": dict(zip(ids, values, strict=True))}
        )
        assert taken.status_code == 201, taken.text
        clock.advance(weeks=3)
        hana.token = people.login("hana")
    visitor = signed_in(app, "hana")
    page = visitor.get("/progress")
    figure = page.select_one("figure:has(img[src='/progress/charts/me/scores-phq-9.svg'])")
    assert figure is not None, "a chart for the questionnaire"
    cells = [[td.get_text() for td in row.select("td")] for row in figure.select("tbody tr")]
    assert [c[1:] for c in cells] == [["24.0", ""], ["8.0", "reliable improvement"]]
    visitor.get("/progress/charts/me/scores-phq-9.svg")
    assert visitor.last.status_code == 200
    assert visitor.last.headers["content-type"].startswith("image/svg+xml")
