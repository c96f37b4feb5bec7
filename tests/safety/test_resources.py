"""Crisis contacts say where they serve, are right for each country, and a person sees
their own country's first."""

from __future__ import annotations

import logging

import pytest

from reconnect import localtime
from reconnect.domain.safety import Resource, crisis_resources
from tests.conftest import NO_CONCERNS, PASSWORD
from tests.pages import Visitor

pytestmark = pytest.mark.usefixtures("backend")


def serving(country: str) -> list[Resource]:
    return [r for r in crisis_resources() if country in r.countries]


def numbers(resources: list[Resource]) -> str:
    return " | ".join(f"{r.name}: {r.contact}" for r in resources)


def test_every_contact_says_where_it_serves():
    for resource in crisis_resources():
        assert resource.region.strip(), resource.name
        assert all(len(c) == 2 and c.isupper() for c in resource.countries), resource


def test_australia_has_its_suicide_line_and_canada_its_own_9_8_8():
    assert "13 11 14" in numbers(serving("AU"))
    canada = serving("CA")
    assert any("9-8-8" in r.contact and "Canada" in r.region for r in canada)
    # The US Lifeline serves the United States only; it is not Canada's line.
    lifeline = [r for r in crisis_resources() if "Lifeline" in r.name and "988" in r.contact]
    assert lifeline and all(r.countries == ("US",) and "Canada" not in r.region for r in lifeline)


def test_refuge_is_for_england_and_each_uk_nation_and_ireland_has_an_abuse_line():
    refuge = [r for r in crisis_resources() if "Refuge" in r.name]
    assert [r.region for r in refuge] == ["England"]
    regions = {r.region for r in serving("GB")}
    assert {"England", "Scotland", "Wales", "Northern Ireland"} <= regions
    irish = numbers(serving("IE"))
    assert "1800 341 900" in irish and "116 123" in irish


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Australia/Sydney", "AU"),
        ("America/Toronto", "CA"),
        ("Europe/London", "GB"),
        ("Europe/Dublin", "IE"),
        ("America/Chicago", "US"),
        ("Pacific/Auckland", "NZ"),
    ],
)
def test_a_person_sees_their_own_countrys_contacts_first(zone, country):
    assert localtime.country_of(zone) == country
    ordered = crisis_resources(country)
    own = serving(country)
    assert list(ordered[: len(own)]) == own
    assert ordered[0].name == "Emergency services" and ordered[0].countries == (country,)
    assert sorted(ordered, key=id) == sorted(crisis_resources(), key=id)


def test_without_a_country_the_contacts_for_everywhere_come_first():
    assert localtime.country_of("UTC") is None
    ordered = crisis_resources(None)
    everywhere = [r for r in ordered if not r.countries]
    assert everywhere and list(ordered[: len(everywhere)]) == everywhere


def test_the_support_page_lists_the_persons_country_first(app):
    visitor = Visitor(app)
    sent = {"username": "hana", "password": PASSWORD, "time_zone": "Australia/Perth"}
    assert visitor.post("/register", sent).status_code == 200
    answers = {key: "yes" if key == "fear" else "no" for key in NO_CONCERNS}
    assert visitor.post("/safety-screen", answers).status_code == 303
    items = visitor.get("/support").select("main ul.resources li")
    shown = [" ".join(li.get_text(" ").split()) for li in items]
    assert "(Australia)" in shown[0] and "13 11 14" in " ".join(shown[:3])


def test_crisis_answers_through_the_api_list_the_askers_country_first(people):
    hana = people.register("hana")
    moved = hana.client.patch(
        "/api/v1/me", json={"time_zone": "America/Vancouver"}, headers=hana.headers
    )
    assert moved.status_code == 200, moved.text
    found = {i["id"]: i for i in hana.get("/api/v1/questionnaires").json()}
    ids = [item["id"] for item in found["phq-9"]["items"]]
    body = hana.post(
        "/api/v1/questionnaires/phq-9", {"answers": dict(zip(ids, [0] * 8 + [2], strict=True))}
    ).json()
    assert body["crisis"] is True
    first = body["resources"][0]
    assert first["countries"] == ["CA"] and first["region"] == "Canada"
    assert any(r["contact"] == "Call or text 9-8-8" for r in body["resources"][:3])


def test_the_operator_log_keeps_no_trace_of_who_was_shown_crisis_support(people, caplog):
    hana = people.register("hana")
    found = {i["id"]: i for i in hana.get("/api/v1/questionnaires").json()}
    ids = [item["id"] for item in found["phq-9"]["items"]]
    me = hana.get("/api/v1/me").json()
    caplog.set_level(logging.DEBUG)
    body = hana.post(
        "/api/v1/questionnaires/phq-9", {"answers": dict(zip(ids, [0] * 8 + [3], strict=True))}
    ).json()
    assert body["crisis"] is True
    ours = [r for r in caplog.records if r.name.startswith("reconnect")]
    logged = " ".join(f"{r.getMessage()} {r.args}" for r in ours)
    assert "crisis" not in logged.lower() and "hana" not in logged
    assert f"person {me['id']}" not in logged and f"({me['id']},)" not in logged
