"""Reliable change on a questionnaire's parts (subscales): where a definition gives the
figures for a part, each result says whether that part changed reliably, on the
result page, in the history, on the progress charts and, for a consenting
therapist, beside the other partner's, with the parts moving apart flagged."""

from __future__ import annotations

import pytest

from tests.pages import log_in, soup

# Two parts and no total, like the ECR-S; each part's figure is made up for the test.
TWO_PARTS = """
id = "two-parts"
title = "Two parts"
version = "1"
licence = "Test only."
instructions = "Answer each."
reported_as = "Example"
higher_is = "worse"
scoring = { total = "none", subscales = "sum" }
options = [
    { value = 0, label = "none" }, { value = 1, label = "some" },
    { value = 2, label = "more" }, { value = 3, label = "a lot" },
]
subscales = [
    { id = "near", title = "Feeling near", reliable_change = { points = 3, source = "test" } },
    { id = "far", title = "Feeling far" },
]
items = [
    { id = "a", text = "A", subscale = "near" }, { id = "b", text = "B", subscale = "near" },
    { id = "c", text = "C", subscale = "far" }, { id = "d", text = "D", subscale = "far" },
]
"""


@pytest.fixture
def settings(settings, tmp_path):
    folder = tmp_path / "instruments"
    folder.mkdir()
    (folder / "two-parts.toml").write_text(TWO_PARTS)
    return settings.model_copy(update={"instruments_dir": str(folder)})


def answer(person, near: int, far: int = 0) -> dict:
    answers = {"a": near, "b": near, "c": far, "d": far}
    response = person.post("/api/v1/questionnaires/two-parts", {"answers": answers})
    assert response.status_code == 201, response.text
    return response.json()


def test_each_part_with_figures_gets_its_own_reliable_change(app, people):
    hana = people.register("hana")
    first = answer(hana, near=0)
    assert first["subscales"] == {"near": 0, "far": 0} and first["subscale_changes"] == {}
    small = answer(hana, near=1, far=3)  # near: 0 to 2, less than 3 points
    assert small["subscale_changes"]["near"]["direction"] == "no reliable change"
    assert "far" not in small["subscale_changes"], "no figures for this part: no verdict"
    worse = answer(hana, near=3)  # near: 2 to 6
    assert worse["subscale_changes"]["near"]["direction"] == "worse"
    assert worse["change"] is None, "no total, so no change on a total"

    page = log_in(app, "hana")
    result = soup(page.post("/questionnaires/two-parts", {"a": "0", "b": "0", "c": "0", "d": "0"}))
    row = result.select_one("#subscales #subscale-near").get_text(" ", strip=True)
    assert row.startswith("Feeling near") and row.endswith("improved")
    history = page.get("/questionnaires/two-parts").select_one("#history")
    headers = [th.get_text() for th in history.select("thead th")]
    assert headers == ["Date", "Feeling near", "Feeling far"]
    assert "(worse)" in history.get_text() and "(no reliable change)" in history.get_text()

    progress = page.get("/progress")
    near = progress.select_one("figure:has(img[src$='/scores-two-parts-near.svg'])")
    assert near is not None, "each part charted on its own"
    marks = [tr.select("td")[-1].get_text() for tr in near.select("tbody tr")]
    assert marks == ["", "no reliable change", "reliable worsening", "reliable improvement"]
    assert progress.select_one("img[src$='/scores-two-parts-far.svg']") is not None


@pytest.mark.usefixtures("backend")
def test_the_therapist_sees_each_part_side_by_side_and_parts_moving_apart(app, people):
    hana, ivan = people.couple("hana", "ivan")
    thea = people.register("thea", screen=None)
    code = hana.post("/api/v1/therapist/invites").json()["code"]
    assert thea.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    cid = hana.get("/api/v1/couples/current").json()["id"]
    answer(hana, near=3)
    answer(hana, near=0)  # 6 to 0: reliably better
    answer(ivan, near=0)
    answer(ivan, near=3)  # 0 to 6: reliably worse

    view = thea.get(f"/api/v1/caseload/{cid}").json()
    latest = view["shared_results"][-1]
    assert latest["total"] is None and latest["change"] is None
    assert latest["subscales"]["near"] == {
        "title": "Feeling near",
        "score": 6,
        "highest": 6,
        "change": "worse",
    }
    assert latest["subscales"]["far"]["change"] is None
    assert view["divergences"] == [
        {
            "instrument": "two-parts-near",
            "title": "Two parts: Feeling near",
            "better": "hurt partner",
            "worse": "involved partner",
        }
    ]
    assert thea.get("/api/v1/caseload").json()[0]["diverging"] == ["Two parts: Feeling near"]

    page = log_in(app, "thea").get(f"/caseload/{cid}")
    keys = [img["src"].rsplit("/", 1)[1] for img in page.select("img[src*='/charts/scores-']")]
    assert keys == ["scores-two-parts-far.svg", "scores-two-parts-near.svg"]
    table = page.select_one("#shared-results").get_text()
    assert "Feeling near: 6 (worse)" in table
    # Neither partner learns of it.
    for person in (hana, ivan):
        assert "diverg" not in person.get("/api/v1/insights").text.lower()
