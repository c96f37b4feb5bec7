"""Creating a couple space, inviting the partner and joining, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from reconnect.models import Invite, Membership, utcnow

pytestmark = pytest.mark.usefixtures("backend")


def members(app) -> list[tuple[str, str]]:
    with app.state.reconnect.sessions() as db:
        rows = db.execute(select(Membership.person_id, Membership.role)).all()
    return sorted((str(p), r) for p, r in rows)


def test_two_people_pair_up_and_each_sees_the_other(hana_and_ivan):
    hana, ivan = hana_and_ivan
    seen_by_hana = hana.get("/api/v1/couples/current").json()
    seen_by_ivan = ivan.get("/api/v1/couples/current").json()
    assert seen_by_hana["id"] == seen_by_ivan["id"]
    assert seen_by_hana["paired"] and seen_by_ivan["paired"]
    assert seen_by_hana["my_role"] == "hurt"
    assert seen_by_hana["partner"] == {"username": "ivan", "role": "involved"}
    assert seen_by_ivan["partner"] == {"username": "hana", "role": "hurt"}


def test_both_partners_may_be_hurt(people):
    a, _ = people.couple("anna", "benno", role="both_hurt")
    assert a.get("/api/v1/couples/current").json()["partner"]["role"] == "both_hurt"


def test_invite_codes_are_long_random_and_stored_only_hashed(people, app):
    hana = people.register("hana")
    hana.post("/api/v1/couples", {"role": "hurt"})
    codes = {hana.post("/api/v1/couples/invites").json()["code"] for _ in range(5)}
    assert len(codes) == 5
    assert all(len(code.replace("-", "")) == 20 for code in codes)
    with app.state.reconnect.sessions() as db:
        stored = db.scalars(select(Invite.code_hash)).all()
    # Only the newest code is live: making a new one retires the old.
    assert len(stored) == 1
    assert not any(code.replace("-", "") in h for code in codes for h in stored)


def test_an_invite_expires_after_72_hours(people, app):
    hana, ivan = people.register("hana"), people.register("ivan")
    hana.post("/api/v1/couples", {"role": "hurt"})
    invite = hana.post("/api/v1/couples/invites").json()
    with app.state.reconnect.sessions() as db:
        expires = db.scalar(select(Invite.expires_at))
        assert timedelta(hours=71, minutes=59) < expires - utcnow() <= timedelta(hours=72)
        db.execute(update(Invite).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    response = ivan.post("/api/v1/couples/join", {"code": invite["code"], "role": "involved"})
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "invite_expired"
    assert ivan.get("/api/v1/couples/current").status_code == 404


def test_codes_are_forgiving_about_case_spaces_and_lookalike_letters(people):
    hana, ivan = people.register("hana"), people.register("ivan")
    hana.post("/api/v1/couples", {"role": "hurt"})
    code = hana.post("/api/v1/couples/invites").json()["code"]
    typed = " " + code.lower().replace("-", " ").replace("0", "o").replace("1", "l") + " "
    assert ivan.post("/api/v1/couples/join", {"code": typed, "role": "involved"}).status_code == 200


@pytest.mark.parametrize("code", ["WRONG-CODE0-00000-00000", "x", "-----"])
def test_a_wrong_code_joins_nothing(people, app, code):
    hana, ivan = people.register("hana"), people.register("ivan")
    hana.post("/api/v1/couples", {"role": "hurt"})
    hana.post("/api/v1/couples/invites")
    before = members(app)
    response = ivan.post("/api/v1/couples/join", {"code": code, "role": "involved"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "invite_not_found"
    assert members(app) == before


def test_a_used_code_cannot_be_used_again(hana_and_ivan, people, app):
    hana, _ = hana_and_ivan
    with app.state.reconnect.sessions() as db:
        assert (
            db.scalar(select(func.count()).select_from(Invite).where(Invite.used_at.is_not(None)))
            == 1
        )
    # Hana cannot make a new code once the couple is full...
    full = hana.post("/api/v1/couples/invites")
    assert full.status_code == 409 and full.json()["error"]["code"] == "couple_full"


def test_a_third_person_cannot_join_a_full_couple_even_with_the_old_code(people, app):
    hana, ivan, olga = people.register("hana"), people.register("ivan"), people.register("olga")
    hana.post("/api/v1/couples", {"role": "hurt"})
    code = hana.post("/api/v1/couples/invites").json()["code"]
    assert ivan.post("/api/v1/couples/join", {"code": code, "role": "involved"}).status_code == 200
    before = members(app)
    again = olga.post("/api/v1/couples/join", {"code": code, "role": "involved"})
    assert again.status_code == 410
    assert again.json()["error"]["code"] == "invite_used"
    assert members(app) == before


def test_nobody_joins_their_own_couple(people, app):
    hana = people.register("hana")
    hana.post("/api/v1/couples", {"role": "hurt"})
    code = hana.post("/api/v1/couples/invites").json()["code"]
    response = hana.post("/api/v1/couples/join", {"code": code, "role": "involved"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "own_couple"
    assert len(members(app)) == 1


def test_a_person_in_a_couple_cannot_join_another(people, olga_and_oscar):
    hana, ivan = people.register("hana"), people.register("ivan")
    hana.post("/api/v1/couples", {"role": "hurt"})
    ivan.post("/api/v1/couples", {"role": "involved"})
    code = hana.post("/api/v1/couples/invites").json()["code"]
    response = ivan.post("/api/v1/couples/join", {"code": code, "role": "involved"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_in_couple"


def test_roles_must_fit_together(people, app):
    hana, ivan = people.register("hana"), people.register("ivan")
    hana.post("/api/v1/couples", {"role": "hurt"})
    code = hana.post("/api/v1/couples/invites").json()["code"]
    response = ivan.post("/api/v1/couples/join", {"code": code, "role": "hurt"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "role_conflict"
    assert "involved" in response.json()["error"]["message"]
    # The code was not spent by the failed attempt.
    assert ivan.post("/api/v1/couples/join", {"code": code, "role": "involved"}).status_code == 200


def test_creating_a_second_couple_is_refused(people):
    hana = people.register("hana")
    assert hana.post("/api/v1/couples", {"role": "hurt"}).status_code == 201
    again = hana.post("/api/v1/couples", {"role": "involved"})
    assert again.status_code == 409
    assert hana.get("/api/v1/couples/current").json()["my_role"] == "hurt"


@pytest.mark.parametrize("body", [{"role": "boss"}, {}, {"role": "hurt", "extra": 1}])
def test_invalid_couple_bodies_get_422(people, body):
    hana = people.register("hana")
    response = hana.post("/api/v1/couples", body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
