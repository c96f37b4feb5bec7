"""Who may do what: every route, for every role, gets exactly what it should.

Roles: anonymous; Hana (hurt partner) and Ivan (involved partner) of one couple;
Olga, a partner in another couple; and four therapists: Thea, whom Hana and Ivan both
consented to; Tara, their earlier therapist, after Ivan revoked her; Theo, whom Olga
invited and her partner has not yet agreed to; and Otto, who has both partners'
consent in a third couple. A therapist's caseload rows ask for the couple that tests
its case: Thea, Tara and Otto ask for Hana and Ivan's, Theo for Olga's. A route with
no row here fails the suite, so each new route must say who may use it.

The world is built once per backend in each test process, through the API; each test
runs on a copy of it, so what one test changes no other sees.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from reconnect.app import ROUTERS
from reconnect.models import PaceDecision
from reconnect.settings import Settings
from tests.conftest import NO_CONCERNS, PASSWORD, People
from tests.pages import Visitor
from tests.payloads import CALM, CALM_FORM, GOOD, GOOD_FORM
from tests.snapshots import Snapshots, app_on, backend_of

PARTNERS = ("hana", "ivan", "olga")
THERAPISTS = ("thea", "tara", "theo", "otto")
ROLES = ("anonymous", *PARTNERS, *THERAPISTS)
SELF = "self"  # 2xx, and the answer is about the caller only
# A day a commitment's days may be recorded for (everyone here lives on UTC).
TODAY = datetime.now(UTC).date().isoformat()
PROMISE = {"what": "No contact", "looks_like": "I tell you the same day."}


def commitment(ivan: int | str, hana: int | str, pages: bool = False) -> dict[str, int | str]:
    """Ivan offered it, Hana notices: the rest of the couple is refused, another
    couple finds nothing, a therapist has no couple space."""
    anonymous = 303 if pages else 401
    return {**members(404, anonymous, therapists=409), "ivan": ivan, "hana": hana}


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: dict[str, int | str]
    body: Any = None
    url: str = ""  # the address requested, when the path has parameters


def everyone(status: int | str) -> dict[str, int | str]:
    return dict.fromkeys(ROLES, status)


def therapists(status: int | str) -> dict[str, int | str]:
    return dict.fromkeys(THERAPISTS, status)


def members(
    status: int | str, anonymous: int = 401, therapists: int | str | None = None
) -> dict[str, int | str]:
    """Anyone signed in gets ``status``; therapists too, unless told otherwise."""
    others = status if therapists is None else therapists
    return {"anonymous": anonymous, **dict.fromkeys(PARTNERS, status)} | {
        name: others for name in THERAPISTS
    }


def only_thea(status: int, anonymous: int = 401) -> dict[str, int | str]:
    """A couple's caseload page: only the therapist both partners consented to."""
    return {**members(404, anonymous), "thea": status}


credentials = {"username": "newcomer", "password": PASSWORD}
HEART_FILE = "a heart-rate file"
HEART_CSV = b"timestamp,bpm\n2026-01-05T09:00:00+00:00,70\n2026-01-05T09:01:00+00:00,71\n"
NEW_PASSWORD = {"current_password": PASSWORD, "new_password": "another calm evening walk"}
WRONG_RECOVERY = {
    "username": "hana",
    "recovery_key": "0000-0000-0000-0000-0000-0000-0000-0000",
    "new_password": "another calm evening walk",
}
API_ROWS = [
    Row("POST", "/api/v1/auth/register", everyone(201), credentials),
    Row("POST", "/api/v1/auth/login", everyone(200), {"username": "hana", "password": PASSWORD}),
    Row("POST", "/api/v1/auth/logout", members(204)),
    Row("GET", "/api/v1/me", members(SELF)),
    Row("PATCH", "/api/v1/me", members(SELF), {"time_zone": "Europe/Paris"}),
    Row("POST", "/api/v1/couples", members(409, therapists=403), {"role": "hurt"}),
    Row("POST", "/api/v1/couples/invites", members(409, therapists=403)),
    Row("POST", "/api/v1/couples/join", members(409, therapists=403), "uma's code"),
    Row("GET", "/api/v1/couples/current", members(SELF, therapists=404)),
    # Each partner changes their own couple's zone; there is no other couple to name.
    Row(
        "PATCH",
        "/api/v1/couples/current",
        members(SELF, therapists=404),
        {"time_zone": "Europe/Paris"},
    ),
    Row("GET", "/api/v1/safety-screen", members(200)),
    Row("POST", "/api/v1/safety-screen", members(200), {"answers": NO_CONCERNS}),
    Row("POST", "/api/v1/safety-screen/continue", members(200, therapists=403)),
    Row("POST", "/api/v1/safety-screen/later", members(204, therapists=403)),
    Row("POST", "/api/v1/checkins", members(201), CALM),
    Row("GET", "/api/v1/checkins", members(SELF)),
    Row(
        "POST",
        "/api/v1/experiences",
        {"anonymous": 401, "hana": 409, "ivan": 201, "olga": 404, **therapists(404)},
        "reflect on hana's experience",
    ),
    Row("GET", "/api/v1/pace", members(200, therapists=409)),
    Row("POST", "/api/v1/pause", members(200, therapists=409)),
    Row("POST", "/api/v1/lapses", members(200, therapists=409), {"together": False}),
    Row("POST", "/api/v1/resume", members(403, therapists=409)),
    Row("GET", "/api/v1/practices", members(200)),
    Row("POST", "/api/v1/auth/password", members(204), NEW_PASSWORD),
    # Nobody, the partner included, recovers an account without its recovery key.
    Row("POST", "/api/v1/auth/recover", everyone(403), WRONG_RECOVERY),
    Row("GET", "/api/v1/sessions", members(SELF)),
    Row("POST", "/api/v1/sessions/sign-out-everywhere", members(204)),
    Row("GET", "/api/v1/export", members(SELF)),
    # Roles act in turn: once Hana has left, Ivan has no couple space to leave.
    Row(
        "POST",
        "/api/v1/couples/leave",
        {"anonymous": 401, "hana": 204, "ivan": 404, "olga": 204, **therapists(404)},
    ),
    Row("POST", "/api/v1/account/delete", members(204), {"password": PASSWORD}),
    Row("GET", "/api/v1/auth/totp/new", members(200)),
    Row("POST", "/api/v1/status", members(201, therapists=409), {"status": "okay", "words": ""}),
    Row("POST", "/api/v1/heart-rate/import", members(201), HEART_FILE),
    Row(
        "POST",
        "/api/v1/heart-rate",
        members(201),
        {"at": "2026-01-05T09:00:00+00:00", "bpm": 70},
    ),
    Row("GET", "/api/v1/status", members(200, therapists=409)),
    Row("GET", "/api/v1/insights", members(200)),
    # The coach reads for anyone signed in and keeps nothing; notes need a couple.
    Row("POST", "/api/v1/coach", members(200), {"text": "I am here, take your time."}),
    Row("POST", "/api/v1/notes", members(201, therapists=409), {"text": "Thinking of you."}),
    Row("GET", "/api/v1/notes", members(200, therapists=409)),
    Row("GET", "/api/v1/questionnaires", members(200)),
    # Therapist routes. What a consenting therapist sees (and never sees) is in
    # test_therapist_api.py; here, who gets in at all.
    Row("POST", "/api/v1/therapist/invites", members(201, therapists=409)),
    Row("POST", "/api/v1/therapist/join", members(404), {"code": "ABCDE-FGHJK-MNPQR-STVWX"}),
    Row("GET", "/api/v1/therapist/status", members(200, therapists=404)),
    Row("POST", "/api/v1/therapist/consent", members(204, therapists=404)),
    # Hana revokes Thea; then Ivan's couple has no therapist left to revoke.
    Row(
        "POST",
        "/api/v1/therapist/revoke",
        {"anonymous": 401, "hana": 204, "ivan": 404, "olga": 204, **therapists(404)},
    ),
    Row("GET", "/api/v1/caseload", members(200)),
    # Nothing of their own to share here, so nothing is shared (201, zero).
    Row("POST", "/api/v1/therapist/share-findings", members(201)),
    Row(
        "GET",
        "/api/v1/caseload/{couple_id}",
        only_thea(200),
        url="/api/v1/caseload/{case}",
    ),
    Row(
        "GET",
        "/api/v1/caseload/{couple_id}/report.pdf",
        only_thea(200),
        url="/api/v1/caseload/{case}/report.pdf",
    ),
    Row(
        "POST",
        "/api/v1/caseload/{couple_id}/reviewed",
        only_thea(204),
        url="/api/v1/caseload/{case}/reviewed",
    ),
    Row(
        "POST",
        "/api/v1/questionnaires/{instrument_id}",
        members(201),
        {"answers": {str(n): 0 for n in range(1, 8)}},
        url="/api/v1/questionnaires/gad-7",
    ),
    Row(
        "GET",
        "/api/v1/questionnaires/{instrument_id}/history",
        members(200),
        url="/api/v1/questionnaires/gad-7/history",
    ),
    # A person's own repeats; the therapist's request for both partners.
    Row("GET", "/api/v1/questionnaire-plan", members(200)),
    Row(
        "POST",
        "/api/v1/questionnaire-plan",
        members(200),
        {"instrument_id": "gad-7", "every_days": 14},
    ),
    Row(
        "POST",
        "/api/v1/caseload/{couple_id}/questionnaire-plan",
        only_thea(200),
        {"instrument_id": "phq-9", "every_days": 14},
        url="/api/v1/caseload/{case}/questionnaire-plan",
    ),
    # Commitments: the involved partner offers and records, the other notices.
    Row("GET", "/api/v1/commitments", members(200, therapists=409)),
    Row(
        "POST",
        "/api/v1/commitments",
        {**members(403, therapists=409), "ivan": 201},
        PROMISE,
    ),
    Row(
        "POST",
        "/api/v1/commitments/{commitment_id}/days",
        commitment(200, 403),
        {"day": TODAY, "kept": True},
        url="/api/v1/commitments/{commitment}/days",
    ),
    Row(
        "POST",
        "/api/v1/commitments/{commitment_id}/noticed",
        commitment(403, 200),
        {"day": TODAY},
        url="/api/v1/commitments/{commitment}/noticed",
    ),
    Row(
        "POST",
        "/api/v1/commitments/{commitment_id}/end",
        commitment(200, 403),
        url="/api/v1/commitments/{commitment}/end",
    ),
    # Rituals: either partner; the couples here are still at the first step, so a new
    # one is ahead of the pace (409) for everyone in a couple.
    Row("GET", "/api/v1/rituals", members(200, therapists=409)),
    Row("POST", "/api/v1/rituals", members(409), {"practice_id": "walk-side-by-side"}),
    Row(
        "POST",
        "/api/v1/rituals/{ritual_id}/done",
        commitment(200, 200),
        {"day": TODAY},
        url="/api/v1/rituals/{ritual}/done",
    ),
    Row(
        "POST",
        "/api/v1/rituals/{ritual_id}/end",
        commitment(200, 200),
        url="/api/v1/rituals/{ritual}/end",
    ),
    # The disclosure session: each prepares their own part; Ivan asked Thea to read his.
    Row("GET", "/api/v1/disclosure", members(200, therapists=409)),
    Row(
        "POST",
        "/api/v1/disclosure/preparation",
        {**members(204, therapists=409), "ivan": 403},
        {"questions": "Who else knew?"},
    ),
    Row(
        "POST",
        "/api/v1/disclosure/ready",
        {**members(409, therapists=409), "hana": 204, "ivan": 204},
    ),
    Row("POST", "/api/v1/disclosure/leave-account", members(409, therapists=409)),
    Row("POST", "/api/v1/disclosure/ask-therapist", {**members(409, therapists=409), "ivan": 204}),
    Row(
        "POST",
        "/api/v1/caseload/{couple_id}/disclosure/{disclosure_id}/reading",
        only_thea(204),
        {"text": "Clear, and owned."},
        url="/api/v1/caseload/{case}/disclosure/{disclosure}/reading",
    ),
    # Letters: Hana's impact letter, shared with Ivan; his answer is his to give.
    Row("GET", "/api/v1/letters", members(200, therapists=409)),
    Row(
        "POST",
        "/api/v1/letters",
        {**members(200, therapists=409), "ivan": 403},
        {"kind": "impact", "text": "Words."},
    ),
    Row(
        "POST",
        "/api/v1/letters/{letter_id}/share",
        commitment(404, 204),
        url="/api/v1/letters/{letter}/share",
    ),
    Row(
        "POST",
        "/api/v1/letters/{letter_id}/reply",
        commitment(204, 404),
        {"text": "I read it."},
        url="/api/v1/letters/{letter}/reply",
    ),
    # Hard dates are their owner's alone.
    Row("GET", "/api/v1/hard-dates", members(SELF)),
    Row("POST", "/api/v1/hard-dates", members(201), {"month": 6, "day": 1}),
    Row(
        "DELETE",
        "/api/v1/hard-dates/{date_id}",
        {**members(404), "hana": 204},
        url="/api/v1/hard-dates/{hard_date}",
    ),
    # After a crisis answer: only its owner may tell the therapist or answer the check.
    Row("GET", "/api/v1/questionnaires/follow-up", members(200)),
    Row(
        "POST",
        "/api/v1/questionnaires/results/{result_id}/tell-therapist",
        {**members(404), "hana": 200},
        url="/api/v1/questionnaires/results/{crisis}/tell-therapist",
    ),
    Row(
        "POST",
        "/api/v1/questionnaires/results/{result_id}/follow-up",
        {**members(404), "hana": 200},
        {"how": "same"},
        url="/api/v1/questionnaires/results/{crisis}/follow-up",
    ),
    # Ivan is the involved partner: triggers are the hurt partner's to log.
    Row(
        "POST",
        "/api/v1/triggers",
        {"anonymous": 401, "hana": 201, "ivan": 403, "olga": 201, **therapists(409)},
        {"what": "a song", "strength": 4, "tell_partner": True},
    ),
    # Anyone lists their own triggers (none, for a therapist); there is nothing to answer
    # without a partner.
    Row("GET", "/api/v1/triggers", members(200)),
    Row(
        "POST",
        "/api/v1/triggers/{trigger_id}/respond",
        {"anonymous": 401, "hana": 404, "ivan": 200, "olga": 404, **therapists(404)},
        {"kind": "acknowledge"},
        url="/api/v1/triggers/{trigger}/respond",
    ),
    Row("POST", "/api/v1/breaks", members(201, therapists=409), {"minutes": 20}),
    Row(
        "POST",
        "/api/v1/proposals",
        members(201, therapists=409),
        {"practice_id": "walk-side-by-side"},
    ),
    Row("GET", "/api/v1/proposals", members(200, therapists=409)),
    Row(
        "POST",
        "/api/v1/proposals/{proposal_id}/accept",
        {"anonymous": 401, "hana": 200, "ivan": 404, "olga": 404, **therapists(404)},
        url="/api/v1/proposals/{proposal}/accept",
    ),
    Row(
        "POST",
        "/api/v1/proposals/{proposal_id}/decline",
        {"anonymous": 401, "hana": 200, "ivan": 404, "olga": 404, **therapists(404)},
        url="/api/v1/proposals/{proposal}/decline",
    ),
    Row("POST", "/api/v1/auth/totp", members(422), {"secret": "A" * 32, "code": "000000"}),
    Row("POST", "/api/v1/auth/totp/disable", members(204), {"password": PASSWORD}),
]
PAGE_ROWS = [
    Row("GET", "/", everyone(200)),
    Row("GET", "/safety", everyone(200)),
    Row("GET", "/privacy", everyone(200)),
    Row("GET", "/register", everyone(200)),
    Row("GET", "/login", everyone(200)),
    Row("POST", "/register", everyone(200), credentials),  # shows the recovery key
    Row("POST", "/login", everyone(303), {"username": "hana", "password": PASSWORD}),
    Row("POST", "/logout", everyone(303)),
    Row("GET", "/safety-screen", members(200, anonymous=303)),
    Row("POST", "/safety-screen", members(303, anonymous=303), {k: "no" for k in NO_CONCERNS}),
    Row("GET", "/support", members(200, anonymous=303)),
    Row("POST", "/support/continue", members(303, anonymous=303, therapists=403)),
    Row("POST", "/safety-screen/later", members(303, anonymous=303, therapists=403)),
    # A therapist's account is told it has no couple space (Tara, revoked, is nobody's
    # therapist any more: an account that has not answered the safety questions).
    Row("GET", "/couple", members(200, anonymous=303, therapists=200) | {"tara": 303}),
    Row(
        "POST",
        "/couple",
        members(409, anonymous=303, therapists=403) | {"tara": 303},
        {"role": "hurt"},
    ),
    Row("POST", "/couple/invite", members(409, anonymous=303, therapists=403) | {"tara": 303}),
    # Someone not signed in may open an invitation link: it says to sign up first.
    Row("GET", "/couple/join", members(200, anonymous=200, therapists=200) | {"tara": 303}),
    Row(
        "POST",
        "/couple/time-zone",
        members(200, anonymous=303, therapists=403) | {"tara": 303},
        {"time_zone": "Europe/Paris"},
    ),
    Row("POST", "/couple/join", members(409, anonymous=303, therapists=403), "uma's code"),
    # Only `reconnect demo` switches these on; test_demo covers demo mode.
    Row("GET", "/demo", everyone(404)),
    Row("POST", "/demo/sign-in", everyone(404), {"who": "hurt"}),
    Row("GET", "/account", members(200, anonymous=303)),
    Row("POST", "/account/password", members(200, anonymous=303), NEW_PASSWORD),
    Row("POST", "/account/time-zone", members(200, anonymous=303), {"time_zone": "Asia/Tokyo"}),
    Row("POST", "/account/home-screen", members(200, anonymous=303), {"look": "notes"}),
    Row("POST", "/account/sign-out-everywhere", everyone(303)),
    Row("GET", "/account/export.json", members(200, anonymous=303)),
    Row("GET", "/account/export.zip", members(200, anonymous=303)),
    Row("GET", "/account/export.fhir.json", members(200, anonymous=303)),
    Row(
        "POST",
        "/couple/leave",
        {"anonymous": 303, "hana": 200, "ivan": 404, "olga": 200, **therapists(404)},
    ),
    Row("POST", "/account/delete", members(200, anonymous=303), {"password": PASSWORD}),
    Row("POST", "/account/totp", members(422, anonymous=303), {"secret": "A" * 32, "code": "1"}),
    Row("POST", "/account/totp/disable", members(200, anonymous=303), {"password": PASSWORD}),
    Row("GET", "/recover", everyone(200)),
    Row("POST", "/recover", everyone(403), WRONG_RECOVERY),
    Row("POST", "/status", members(303, anonymous=303, therapists=409), {"status": "okay"}),
    Row("GET", "/heart-rate", members(200, anonymous=303)),
    Row("GET", "/insights", members(200, anonymous=303)),
    Row("GET", "/notes", members(200, anonymous=303)),
    Row("POST", "/notes", members(303, anonymous=303, therapists=409), {"text": "Thinking of you"}),
    Row("POST", "/notes/preview", members(200, anonymous=303), {"text": "Thinking of you."}),
    Row("POST", "/status/preview", members(200, anonymous=303), {"words": "a slow morning"}),
    Row("GET", "/progress", members(200, anonymous=303)),
    Row("GET", "/therapist", members(200, anonymous=303)),
    Row("POST", "/therapist/invite", members(200, anonymous=303, therapists=409)),
    Row("POST", "/therapist/consent", members(303, anonymous=303, therapists=404)),
    Row(
        "POST",
        "/therapist/revoke",
        {"anonymous": 303, "hana": 303, "ivan": 404, "olga": 303, **therapists(404)},
    ),
    Row("POST", "/therapist/join", members(404, anonymous=303), {"code": "ABCDE-FGHJK"}),
    Row("GET", "/caseload", members(200, anonymous=303)),
    Row("POST", "/therapist/share-findings", members(303, anonymous=303)),
    Row(
        "GET",
        "/caseload/{couple_id}",
        only_thea(200, anonymous=303),
        url="/caseload/{case}",
    ),
    Row(
        "GET",
        "/caseload/{couple_id}/charts/{key}.svg",
        only_thea(200, anonymous=303),
        url="/caseload/{case}/charts/tier.svg",
    ),
    Row(
        "GET",
        "/caseload/{couple_id}/report.pdf",
        only_thea(200, anonymous=303),
        url="/caseload/{case}/report.pdf",
    ),
    Row(
        "POST",
        "/caseload/{couple_id}/reviewed",
        only_thea(303, anonymous=303),
        url="/caseload/{case}/reviewed",
    ),
    Row(
        "POST",
        "/caseload/{couple_id}/questionnaire-plan",
        only_thea(303, anonymous=303),
        {"instrument_id": "phq-9", "every_days": "14"},
        url="/caseload/{case}/questionnaire-plan",
    ),
    Row("GET", "/summary", members(200, anonymous=303)),
    Row("GET", "/summary/reminders.ics", members(200, anonymous=303)),
    Row(
        "GET",
        "/progress/charts/{scope}/{key}.svg",
        members(200, anonymous=303, therapists=404),
        url="/progress/charts/couple/tier.svg",
    ),
    Row("GET", "/questionnaires", members(200, anonymous=303)),
    Row(
        "POST",
        "/questionnaire-plan",
        members(303, anonymous=303),
        {"instrument_id": "gad-7", "every_days": "14"},
    ),
    Row(
        "GET",
        "/questionnaires/{instrument_id}",
        members(200, anonymous=303),
        url="/questionnaires/gad-7",
    ),
    Row(
        "POST",
        "/questionnaires/{instrument_id}",
        members(200, anonymous=303),
        {str(n): "0" for n in range(1, 8)},
        url="/questionnaires/gad-7",
    ),
    Row(
        "POST",
        "/questionnaires/results/{result_id}/tell-therapist",
        {**members(404, anonymous=303), "hana": 200},
        {},
        url="/questionnaires/results/{crisis}/tell-therapist",
    ),
    Row(
        "POST",
        "/questionnaires/results/{result_id}/follow-up",
        {**members(404, anonymous=303), "hana": 303},
        {"how": "same"},
        url="/questionnaires/results/{crisis}/follow-up",
    ),
    Row("POST", "/heart-rate/import", members(200, anonymous=303), HEART_FILE),
    Row(
        "POST",
        "/triggers",
        {"anonymous": 303, "hana": 303, "ivan": 403, "olga": 303, **therapists(409)},
        {"what": "a song", "strength": "4"},
    ),
    Row(
        "POST",
        "/triggers/{trigger_id}/respond",
        {"anonymous": 303, "hana": 404, "ivan": 303, "olga": 404, **therapists(404)},
        {"kind": "space"},
        url="/triggers/{trigger}/respond",
    ),
    Row("POST", "/breaks", members(303, anonymous=303, therapists=409), {"minutes": "20"}),
    Row(
        "POST",
        "/proposals",
        members(303, anonymous=303, therapists=409),
        {"practice_id": "walk-side-by-side"},
    ),
    Row(
        "POST",
        "/proposals/{proposal_id}/accept",
        {"anonymous": 303, "hana": 303, "ivan": 404, "olga": 404, **therapists(404)},
        url="/proposals/{proposal}/accept",
    ),
    Row(
        "POST",
        "/proposals/{proposal_id}/decline",
        {"anonymous": 303, "hana": 303, "ivan": 404, "olga": 404, **therapists(404)},
        url="/proposals/{proposal}/decline",
    ),
    Row("GET", "/checkin", members(200, anonymous=303)),
    Row("POST", "/checkin", members(303, anonymous=303), {**CALM_FORM}),
    Row("GET", "/today", members(200, anonymous=303)),
    Row("GET", "/moments", members(200, anonymous=303)),
    Row("POST", "/pause", members(303, anonymous=303, therapists=409)),
    Row("GET", "/commitments", members(200, anonymous=303)),
    Row(
        "POST",
        "/commitments",
        {**members(403, anonymous=303, therapists=409), "ivan": 303},
        PROMISE,
    ),
    Row(
        "POST",
        "/commitments/{commitment_id}/days",
        commitment(303, 403, pages=True),
        {"day": TODAY, "kept": "yes"},
        url="/commitments/{commitment}/days",
    ),
    Row(
        "POST",
        "/commitments/{commitment_id}/noticed",
        commitment(403, 303, pages=True),
        {"day": TODAY},
        url="/commitments/{commitment}/noticed",
    ),
    Row(
        "POST",
        "/commitments/{commitment_id}/end",
        commitment(303, 403, pages=True),
        url="/commitments/{commitment}/end",
    ),
    Row("GET", "/rituals", members(200, anonymous=303)),
    Row(
        "POST",
        "/rituals",
        members(409, anonymous=303),
        {"practice_id": "walk-side-by-side"},
    ),
    Row(
        "POST",
        "/rituals/{ritual_id}/done",
        commitment(303, 303, pages=True),
        {"day": TODAY},
        url="/rituals/{ritual}/done",
    ),
    Row(
        "POST",
        "/rituals/{ritual_id}/end",
        commitment(303, 303, pages=True),
        url="/rituals/{ritual}/end",
    ),
    Row("GET", "/disclosure", members(200, anonymous=303)),
    Row(
        "POST",
        "/disclosure",
        {**members(303, anonymous=303, therapists=409), "ivan": 403},
        {"part": "questions", "questions": "Who else knew?"},
    ),
    Row(
        "POST",
        "/disclosure/ready",
        {**members(409, anonymous=303, therapists=409), "hana": 303, "ivan": 303},
    ),
    Row("GET", "/disclosure/session", members(200, anonymous=303)),
    Row("POST", "/disclosure/leave-account", members(409, anonymous=303, therapists=409)),
    Row(
        "POST",
        "/disclosure/ask-therapist",
        {**members(409, anonymous=303, therapists=409), "ivan": 303},
    ),
    Row(
        "POST",
        "/caseload/{couple_id}/disclosure/{disclosure_id}/reading",
        only_thea(303, anonymous=303),
        {"text": "Clear, and owned."},
        url="/caseload/{case}/disclosure/{disclosure}/reading",
    ),
    Row("GET", "/letters", members(200, anonymous=303)),
    Row(
        "POST",
        "/letters",
        {**members(303, anonymous=303, therapists=409), "ivan": 403},
        {"kind": "impact", "text": "Words."},
    ),
    Row("POST", "/letters/preview", members(200, anonymous=303), {"text": "Words."}),
    Row(
        "POST",
        "/letters/{letter_id}/share",
        commitment(404, 303, pages=True),
        url="/letters/{letter}/share",
    ),
    Row(
        "POST",
        "/letters/{letter_id}/reply",
        commitment(303, 404, pages=True),
        {"text": "I read it."},
        url="/letters/{letter}/reply",
    ),
    Row("GET", "/hard-dates", members(200, anonymous=303)),
    Row("POST", "/hard-dates", members(303, anonymous=303), {"day": "1", "month": "6"}),
    Row(
        "POST",
        "/hard-dates/{date_id}/remove",
        {**members(404, anonymous=303), "hana": 303},
        url="/hard-dates/{hard_date}/remove",
    ),
    Row("GET", "/lapse", members(200, anonymous=303)),
    Row("POST", "/lapse", members(303, anonymous=303, therapists=409), {"together": "no"}),
    Row("POST", "/resume", members(403, anonymous=303, therapists=409)),
    Row(
        "GET",
        "/practices/{practice_id}",
        members(200, anonymous=303),
        url="/practices/longer-out-breath",
    ),
    Row(
        "GET",
        "/experiences/new",
        {"anonymous": 303, "hana": 200, "ivan": 200, "olga": 404, **therapists(404)},
        url="/experiences/new?experience={experience}",
    ),
    Row(
        "POST",
        "/experiences",
        {"anonymous": 303, "hana": 409, "ivan": 303, "olga": 404, **therapists(404)},
        "reflect on hana's experience (form)",
    ),
]
UNLISTED = {("GET", "/openapi.json")}  # public by design: the schema holds no data


def test_every_route_has_a_row(app):
    listed = {(row.method, row.path) for row in API_ROWS + PAGE_ROWS} | UNLISTED
    routes = {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods - {"HEAD"}
    } | {("GET", app.openapi_url)}
    assert routes - listed == set(), "routes without an access-control row"
    assert listed - routes == set(), "rows for routes that no longer exist"


def join_as_therapist(people: People, name: str, inviter: Any) -> Any:
    therapist = people.register(name, screen=None)
    code = inviter.post("/api/v1/therapist/invites").json()["code"]
    assert therapist.post("/api/v1/therapist/join", {"code": code}).status_code == 201
    return therapist


def ritual_for(app: Any, username: str) -> int:
    """A ritual of this person's couple, stored as choosing one would store it (the
    couples here are still at the first step, where choosing one is refused)."""
    from reconnect.accounts import auth
    from reconnect.accounts.signed_in import SignedIn
    from reconnect.couples.store import couple_and_key
    from reconnect.models import Person, Ritual
    from reconnect.rituals import store as rituals

    with app.state.reconnect.sessions() as db:
        person = db.scalars(select(Person).where(Person.username == username)).one()
        signed = SignedIn(person, auth.unlock_with_password(person, PASSWORD), "")
        membership, key = couple_and_key(db, signed)
        row = Ritual(couple_id=membership.couple_id, sealed=b"")
        db.add(row)
        db.flush()
        chosen_at = datetime.now(UTC).isoformat()
        rituals.seal(row, key, rituals.Chosen(row.id, "walk-side-by-side", "daily", chosen_at))
        db.commit()
        return row.id


def as_if_paced_for_days(app: Any, couple_id: int, days: int) -> None:
    """The couple's first pace, dated ``days`` earlier: a chart waits for a few days of
    history before it draws anything (and its image is 404 until then)."""
    with app.state.reconnect.sessions() as db:
        first = db.scalars(
            select(PaceDecision).where(PaceDecision.couple_id == couple_id).limit(1)
        ).one()
        db.add(
            PaceDecision(
                couple_id=couple_id,
                decided_at=first.decided_at - timedelta(days=days),
                policy_version=first.policy_version,
                permitted_tier=first.permitted_tier,
                ladder_tier=first.ladder_tier,
                data=first.data,
            )
        )
        db.commit()


def build_world(app: Any, people: People) -> dict[str, Any]:
    hana_and_ivan, olga_and_oscar = people.couple("hana", "ivan"), people.couple("olga", "oscar")
    uma = people.register("uma")
    uma.post("/api/v1/couples", {"role": "hurt"})
    code = uma.post("/api/v1/couples/invites").json()["code"]
    named = {"hana": hana_and_ivan[0], "ivan": hana_and_ivan[1], "olga": olga_and_oscar[0]}
    couple_of = {name: p.get("/api/v1/couples/current").json()["id"] for name, p in named.items()}
    checkins = {name: p.post("/api/v1/checkins", CALM).json()["id"] for name, p in named.items()}
    experience = named["hana"].post(
        "/api/v1/experiences", {"practice_id": "walk-side-by-side", **GOOD}
    )
    trigger = named["hana"].post(
        "/api/v1/triggers", {"what": "a date", "strength": 5, "tell_partner": True}
    )
    proposal = named["ivan"].post("/api/v1/proposals", {"practice_id": "longer-out-breath"})
    for couple_id in set(couple_of.values()):
        as_if_paced_for_days(app, couple_id, 3)
    hana, ivan, olga = named["hana"], named["ivan"], named["olga"]
    join_as_therapist(people, "tara", hana)
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    assert ivan.post("/api/v1/therapist/revoke").status_code == 204
    thea = join_as_therapist(people, "thea", hana)
    assert ivan.post("/api/v1/therapist/consent").status_code == 204
    join_as_therapist(people, "theo", olga)
    pia, paul = people.couple("pia", "paul")
    join_as_therapist(people, "otto", pia)
    assert paul.post("/api/v1/therapist/consent").status_code == 204
    hard_date = hana.post("/api/v1/hard-dates", {"month": 12, "day": 25}).json()["id"]
    promise = ivan.post("/api/v1/commitments", PROMISE).json()["id"]
    letter = hana.post("/api/v1/letters", {"kind": "impact", "text": "Words."}).json()["id"]
    assert hana.post(f"/api/v1/letters/{letter}/share").status_code == 204
    account = {"account": {"timeline": "Since March.", "hidden": "Messages."}}
    assert ivan.post("/api/v1/disclosure/preparation", account).status_code == 204
    assert hana.post("/api/v1/disclosure/preparation", {"questions": "Why?"}).status_code == 204
    assert ivan.post("/api/v1/disclosure/ask-therapist").status_code == 204
    seen = thea.get(f"/api/v1/caseload/{couple_of['hana']}").json()
    (asked,) = seen["disclosure_accounts"]
    kept = ivan.post(f"/api/v1/commitments/{promise}/days", {"day": TODAY, "kept": True})
    assert kept.status_code == 200, kept.text
    # Hana's PHQ-9 with a crisis answer, shared with Thea (item 9 above 0).
    crisis = hana.post(
        "/api/v1/questionnaires/phq-9", {"answers": {str(n): int(n == 9) for n in range(1, 10)}}
    )
    return {
        "letter": letter,
        "disclosure": asked["id"],
        "ritual": ritual_for(app, "hana"),
        "commitment": promise,
        "hard_date": hard_date,
        "crisis": crisis.json()["id"],
        "code": code,
        "couple_of": couple_of,
        "checkins": checkins,
        "experience": experience.json()["id"],
        "trigger": trigger.json()["id"],
        "hana_couple": couple_of["hana"],
        "case_of": {
            **dict.fromkeys(("anonymous", *PARTNERS, "thea", "tara", "otto"), couple_of["hana"]),
            "theo": couple_of["olga"],
        },
        "proposal": proposal.json()["id"],
        # A sign-in each, last: sessions are rows, so each test's copy holds them too
        # (an API test signs nobody in; a test that ends one ends it in its copy only).
        "tokens": {role: people.login(role) for role in ROLES if role != "anonymous"},
        # And a browser's cookies each, signed in through the sign-in page.
        "cookies": {role: browser_cookies(app, role) for role in ROLES if role != "anonymous"},
    }


def browser_cookies(app: Any, username: str) -> dict[str, str]:
    visitor = Visitor(app)
    visitor.post("/login", {"username": username, "password": PASSWORD})
    assert visitor.last.status_code == 303, visitor.last.text
    return dict(visitor.client.cookies)


def build_world_through_the_api(app: Any) -> dict[str, Any]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        return build_world(app, People(client))


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshots[dict[str, Any]]]:
    """The world, built once per backend in each test process (through the API, as in
    use), then copied for each test."""
    with ExitStack() as databases:
        yield Snapshots(build_world_through_the_api, tmp_path_factory, databases)


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, snapshots: Snapshots[dict[str, Any]], tmp_path: Path
) -> Iterator[Settings]:
    """This test's own copy of the world (the shared fixtures' app runs on it)."""
    with snapshots.copy(backend_of(request), tmp_path) as copied:
        yield copied


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    """The app on the copy, as it is: not emptied, unlike the shared fixture's."""
    with app_on(settings) as application:
        yield application


@pytest.fixture
def world(request: pytest.FixtureRequest, snapshots: Snapshots[dict[str, Any]]) -> dict[str, Any]:
    return copy.deepcopy(snapshots.of(backend_of(request)).made)


def body_for(row: Row, world: dict[str, Any], role: str) -> Any:
    if row.body == "uma's code":
        return {"code": world["code"], "role": "involved"}
    if row.body == "reflect on hana's experience":
        return {"experience_id": world["experience"], **GOOD}
    if row.body == "reflect on hana's experience (form)":
        return {"experience_id": str(world["experience"]), "felt_pressured": "no", **GOOD_FORM}
    if row.body is credentials:
        return {**credentials, "username": f"newcomer-{role}"}
    return row.body


def address(row: Row, world: dict[str, Any], role: str) -> str:
    return (row.url or row.path).format(**world, case=world["case_of"][role])


def check_self(response: Any, row: Row, role: str, world: dict[str, Any]) -> None:
    data = response.json()
    if row.path == "/api/v1/me":
        assert data["username"] == role
    elif row.path == "/api/v1/checkins":
        own = [world["checkins"][role]] if role in PARTNERS else []
        assert [c["id"] for c in data] == own
    elif row.path == "/api/v1/sessions":
        assert [s["current"] for s in data].count(True) == 1
    elif row.path == "/api/v1/hard-dates":
        assert [d["id"] for d in data] == ([world["hard_date"]] if role == "hana" else [])
    elif row.path == "/api/v1/export":
        assert data["person"]["username"] == role
        assert len(data["checkins"]) == (1 if role in PARTNERS else 0)
    else:
        assert data["id"] == world["couple_of"][role]


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("row", API_ROWS, ids=lambda r: f"{r.method} {r.path}")
def test_api_access(client, world, row):
    for role in ROLES:
        token = world["tokens"].get(role)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if row.body == HEART_FILE:
            files = {"file": ("hr.csv", HEART_CSV, "text/csv")}
            response = client.post(address(row, world, role), files=files, headers=headers)
        else:
            response = client.request(
                row.method,
                address(row, world, role),
                json=body_for(row, world, role),
                headers=headers,
            )
        expected = row.expect[role]
        if expected == SELF:
            assert response.status_code == 200, (role, response.text)
            check_self(response, row, role, world)
        else:
            assert response.status_code == expected, (role, response.text)


@pytest.mark.parametrize("row", PAGE_ROWS, ids=lambda r: f"{r.method} {r.path}")
def test_page_access(app, world, row):
    for role in ROLES:
        visitor = Visitor(app)
        visitor.client.cookies.update(world["cookies"].get(role, {}))
        if row.method == "GET":
            visitor.get(address(row, world, role))
        elif row.body == HEART_FILE:
            visitor.last = visitor.client.post(
                address(row, world, role),
                data={"csrf_token": visitor.csrf()},
                files={"file": ("hr.csv", HEART_CSV, "text/csv")},
            )
        else:
            visitor.post(address(row, world, role), body_for(row, world, role) or {})
        response = visitor.last
        assert response.status_code == row.expect[role], (role, response.text[:300])
        if (
            role == "anonymous"
            and row.expect[role] == 303
            and row.path not in {"/register", "/login", "/logout"}
        ):
            assert response.headers["location"] == "/login"
