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
    assert len(mine) == 4
    for figure in mine:
        assert figure.find("figcaption").get_text(strip=True)
    with_image = [f for f in mine if f.find("img")]
    assert with_image, "charts with data show an image"
    for figure in with_image:
        assert figure.find("img")["alt"]
        assert figure.select("table tbody tr")
    assert page.select("#ours-title ~ figure.chart img")
    assert page.select("#my-markers li")


def test_a_chart_image_is_an_svg_with_no_outside_links(app, hana_and_ivan):
    hana, _ = hana_and_ivan
    check_in(hana)
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
    assert "No data yet" in page.get_text()
    visitor.get("/progress/charts/me/activation-safety.svg")
    assert visitor.last.status_code == 404


def test_the_partner_cannot_fetch_someone_elses_charts(app, hana_and_ivan):
    hana, _ = hana_and_ivan
    check_in(hana, activation=9)
    ivan = signed_in(app, "ivan")
    ivan.get("/progress/charts/me/activation-safety.svg")
    # "me" is always the person asking: Ivan has no check-ins, so there is nothing.
    assert ivan.last.status_code == 404


def test_the_weekly_summary_has_four_parts_for_each_of_you(app, hana_and_ivan):
    hana, _ = hana_and_ivan
    check_in(hana)
    page = signed_in(app, "hana").get("/summary")
    for section in ("#mine", "#ours"):
        headings = [h.get_text() for h in page.select(f"{section} h3")]
        assert headings == ["What went well", "What was hard", "The pace", "What to try"]


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


def couple_tier_view(app) -> tuple[bytes, list[str]]:
    ivan = signed_in(app, "ivan")  # a fresh sign-in: sessions last 12 hours
    page = ivan.get("/progress")
    rows = [row.get_text("|") for row in page.select("#ours-title ~ figure.chart tbody tr")]
    ivan.get("/progress/charts/couple/tier.svg")
    assert ivan.last.status_code == 200
    return ivan.last.content, rows


def test_the_couple_chart_does_not_show_on_which_days_the_partner_checked_in(
    app, hana_and_ivan, clock
):
    hana, ivan = hana_and_ivan
    check_in(hana)
    check_in(ivan)
    clock.advance(days=1)
    before = couple_tier_view(app)
    for _ in range(3):  # Hana alone, on days of her own, in the same calm band
        check_in(hana, activation=4, note="only mine")
        clock.advance(days=1)
    assert couple_tier_view(app) == before


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
