"""A demo couple with ten weeks of realistic history, so every screen has something in it.

Hana (the hurt partner) and Ivan (the involved partner) start raw, find a slow
rhythm, rush an evening in week five and flood, step back, and recover. All of
it goes through the same code paths as real use, with the clock set in the past.
"""

from __future__ import annotations

import random
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from reconnect import localtime
from reconnect.accounts import auth
from reconnect.accounts.auth import NewAccount
from reconnect.accounts.signed_in import SignedIn
from reconnect.after_write import look_again_now
from reconnect.commitments import store as commitments
from reconnect.couples import store as couples
from reconnect.dates import store as dates
from reconnect.disclosure import store as disclosure
from reconnect.domain.pacing.catalogue import DISCLOSURE, Lead
from reconnect.domain.safety import QUESTIONS
from reconnect.errors import Problem
from reconnect.keys import KdfParams
from reconnect.letters import store as letters
from reconnect.measures import store as measures
from reconnect.models import Couple, Disclosure, Membership, Person
from reconnect.moments import store as moments
from reconnect.notes import store as notes
from reconnect.pacing import store as pace
from reconnect.rituals import store as rituals
from reconnect.safety import store as safety
from reconnect.therapist import store as therapists

HURT, INVOLVED, THERAPIST = "demo-hana", "demo-ivan", "demo-thea"
PASSWORD = "demo couple, not for real use"  # noqa: S105 - made-up demo people
WEEKS = 10
RUSHED_DAY = 32  # week five: the evening that goes too fast
THERAPIST_DAY = 14  # week three: they start seeing a couples therapist
NOTES = [
    "Woke at 4 again. The pictures come back at night.",
    "Better morning. Walked before work.",
    "He was patient when I asked the same question twice.",
    "Tight chest after the message from work.",
    "Felt close for a moment, then scared of feeling close.",
    "",
    "",
]


# Notes between them, some that may close the door and some that open it, so the
# coach has something to show each of them on the Notes page: by day, (time after
# the morning, who wrote it, the words).
DEMO_NOTES: dict[int, tuple[tuple[timedelta, str, str], ...]] = {
    RUSHED_DAY + 2: (
        (
            timedelta(hours=2),
            INVOLVED,
            "That is not what happened, and you know it. I was doing my best.",
        ),
        (
            timedelta(hours=12),
            HURT,
            "I need to stop for tonight. I am not leaving this; can we come back to it "
            "tomorrow after dinner?",
        ),
    ),
    WEEKS * 7 - 8: (
        (
            timedelta(hours=13),
            INVOLVED,
            "When can we finally go back to how things were? I miss us.",
        ),
    ),
    WEEKS * 7 - 5: (
        (
            timedelta(hours=13),
            INVOLVED,
            "It makes sense that you are still angry. I would be too.",
        ),
    ),
    WEEKS * 7 - 2: (
        (
            timedelta(hours=13),
            INVOLVED,
            "I lied to you for a long time, and that was my choice, not something you "
            "caused. I'm sorry.",
        ),
    ),
}


@dataclass(frozen=True)
class DemoCouple:
    hurt: NewAccount
    involved: NewAccount
    couple_id: int = 0


def _activation(day: int, person: str, rng: random.Random) -> int:
    """A slow, noisy descent, with a spike around the rushed evening."""
    base = 7.5 - day / 7 if person == HURT else 5.0 - day / 20
    if RUSHED_DAY <= day <= RUSHED_DAY + 3:
        base += 2.5 if person == HURT else 1
    return max(1, min(10, round(base + rng.uniform(-1.2, 1.2))))


def _check_in(db: Session, account: NewAccount, at: datetime, day: int, rng: random.Random) -> None:
    person = account.person
    activation = _activation(day, person.username, rng)
    state = "settled" if activation <= 5 else ("shut_down" if rng.random() < 0.15 else "revved_up")
    urgency = min(10, activation + rng.randint(-1, 3)) if day < 20 else rng.randint(2, 6)
    readiness = max(0, min(10, 9 - activation + rng.randint(-1, 1)))
    pace.record_checkin(
        db,
        person=person,
        key=account.data_key,
        fields={
            "activation": activation,
            "state": state,
            "safety": max(0, min(10, 10 - activation + rng.randint(-1, 1))),
            "urgency": urgency,
            "readiness": readiness,
            "drivers": ["reassurance"]
            if person.username == HURT
            else ["relief_of_guilt_or_tension"],
            "body_signals": rng.sample(["tight chest", "shallow breath", "steady", "warm"], 1),
            "note": rng.choice(NOTES) if person.username == HURT else "",
            "recorded_at": at,
        },
        now=at,
    )
    look_again_now(db, signed_in=SignedIn(person, account.data_key, ""), now=at, shared=False)


def _rating(safe: bool, flooded: bool, rng: random.Random) -> dict[str, object]:
    before = rng.randint(3, 5)
    return {
        "safety": 3 if flooded else (rng.randint(6, 9) if safe else 5),
        "activation_before": before,
        "activation_after": 9 if flooded else max(0, before - rng.randint(0, 2)),
        "staying": "left_physically" if flooded else "stayed",
        "felt_pressured": flooded,
        "authenticity": rng.randint(2, 4),
        "vulnerability": rng.randint(1, 3),
        "transparency": rng.randint(2, 4),
        "presence": 1 if flooded else rng.randint(2, 4),
        "note": "It went too fast. I had to leave the room." if flooded else "",
    }


def _together(
    db: Session, couple: Couple, demo: DemoCouple, at: datetime, day: int, rng: random.Random
) -> None:
    decision = pace.current_pace(db, couple, at)
    rushed = day == RUSHED_DAY
    if decision.break_until or (decision.paused and not rushed):
        return
    level = 5 if rushed else decision.permitted_tier
    options = [p for p in pace.catalogue() if p.tier == level]
    chosen = rng.choice(options)
    if chosen.leads is Lead.SELF:
        # Practices of settling alone: each partner on their own, private to each.
        for account in (demo.hurt, demo.involved):
            pace.record_experience(
                db,
                person=account.person,
                key=account.data_key,
                practice_id=rng.choice(options).id,
                experience_id=None,
                occurred_at=at,
                rating=_rating(safe=True, flooded=False, rng=rng),
                now=at + timedelta(minutes=15),
            )
        return
    experience, _ = pace.record_experience(
        db,
        person=demo.hurt.person,
        key=demo.hurt.data_key,
        practice_id=chosen.id,
        experience_id=None,
        occurred_at=at,
        rating=_rating(safe=rng.random() > 0.2, flooded=rushed, rng=rng),
        now=at + timedelta(minutes=40),
        started_by="me" if chosen.leads is not Lead.INVOLVED else "partner",
    )
    if experience is None:  # a practice done together is always shared
        return
    hana = SignedIn(demo.hurt.person, demo.hurt.data_key, "")
    look_again_now(db, signed_in=hana, now=at + timedelta(minutes=40))
    pace.record_experience(
        db,
        person=demo.involved.person,
        key=demo.involved.data_key,
        practice_id=None,
        experience_id=experience.id,
        occurred_at=None,
        rating=_rating(safe=True, flooded=False, rng=rng),
        now=at + timedelta(minutes=50),
    )
    ivan = SignedIn(demo.involved.person, demo.involved.data_key, "")
    look_again_now(db, signed_in=ivan, now=at + timedelta(minutes=50), shared=False)


def build_demo(
    sessions: sessionmaker[Session],
    hasher: PasswordHasher,
    kdf: KdfParams,
    now: datetime,
    seed: int = 7,
) -> DemoCouple:
    """Create the demo couple afresh (removing an earlier one) with ten weeks of history."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    start = (now - timedelta(weeks=WEEKS)).replace(hour=7, minute=30, second=0, microsecond=0)
    with sessions() as db:
        old = select(Person.id).where(Person.username.in_([HURT, INVOLVED]))
        db.execute(delete(Person).where(Person.username == THERAPIST))
        couple_ids = select(Membership.couple_id).where(Membership.person_id.in_(old))
        db.execute(delete(Couple).where(Couple.id.in_(couple_ids)))
        db.execute(delete(Person).where(Person.username.in_([HURT, INVOLVED])))
        db.commit()
    with sessions() as db:
        hurt = auth.register(db, username=HURT, password=PASSWORD, hasher=hasher, kdf=kdf)
        involved = auth.register(db, username=INVOLVED, password=PASSWORD, hasher=hasher, kdf=kdf)
        for account in (hurt, involved):
            safety.record_screen(
                db,
                person=account.person,
                data_key=account.data_key,
                answers=dict.fromkeys(_screen_ids(), False),
                now=start,
            )
        couple = couples.create_couple(
            db, person=hurt.person, data_key=hurt.data_key, role="hurt", now=start
        )
        code, _ = couples.create_invite(db, person=hurt.person, data_key=hurt.data_key, now=start)
        couples.join_couple(
            db,
            person=involved.person,
            data_key=involved.data_key,
            code=code,
            role="involved",
            now=start,
        )
        db.commit()
        demo = DemoCouple(hurt, involved, couple.id)
        thea: NewAccount | None = None
        for day in range(WEEKS * 7):
            morning = start + timedelta(days=day)
            _check_in(db, hurt, morning, day, rng)
            _check_in(db, involved, morning + timedelta(minutes=20), day, rng)
            if day == RUSHED_DAY + 1:
                pace.pause(
                    db, person=hurt.person, key=hurt.data_key, now=morning + timedelta(hours=1)
                )
            if day == RUSHED_DAY + 3:
                pace.resume(
                    db, person=hurt.person, key=hurt.data_key, now=morning + timedelta(hours=1)
                )
            # Not every day: life happens; more often in the weeks before the disclosure.
            if day % 3 == 0 or day == RUSHED_DAY or (40 < day < DISCLOSURE_DAY and day % 3 == 1):
                _together(db, couple, demo, morning + timedelta(hours=12), day, rng)
            _moments(db, demo, morning, day)
            if day == THERAPIST_DAY:
                thea = _therapist(db, demo, hasher, kdf, morning + timedelta(hours=2))
            _questionnaires(db, demo, morning + timedelta(hours=10), day)
            _commitment(db, demo, morning + timedelta(hours=21), day)
            _arc(db, demo, thea, morning + timedelta(hours=20), day)
            db.commit()
        _share_reflections(db, demo, now - timedelta(days=1))
        db.commit()
    return demo


RITUALS: tuple[tuple[str, rituals.Rhythm, int], ...] = (
    ("walk-side-by-side", "daily", 24),
    ("ten-minute-check-in", "weekly", 48),
)
IMPACT = (
    "Finding out took the ground from under me. I stopped trusting my own memory of "
    "the last year: every late evening became a question. I am writing this so you "
    "know what it did, not to punish you."
)
ACCOUNTABILITY = (
    "I chose to lie to you for most of a year. I hid messages and told you I was "
    "working late. The hurt this caused is mine to own, and I am not asking you to "
    "make it smaller."
)


DISCLOSED = {
    "timeline": "It began in the spring at work and went on until late summer.",
    "hidden": "I deleted messages and said I was working late, most weeks.",
    "contact_since": "One message in October. I did not answer, and I told you that day.",
}
HER_QUESTIONS = "Did anyone we know find out before me?\nWhy did you not stop when I asked you?"


DISCLOSURE_DAY = 58  # week nine, once the pace reaches hard conversations
ANNIVERSARY_DAY = 64  # a year since Hana found out


def _arc(
    db: Session, demo: DemoCouple, thea: NewAccount | None, evening: datetime, day: int
) -> None:
    """The longer arc beside the pace: two rituals kept from when the pace allows them;
    the disclosure prepared by both, read first by their therapist, and held in week
    nine once the pace reaches hard conversations, each reflecting on it alone; then
    the letters, shared and answered; and the anniversary of the day Hana found out,
    near which the pace holds."""
    hana = SignedIn(demo.hurt.person, demo.hurt.data_key, "")
    ivan = SignedIn(demo.involved.person, demo.involved.data_key, "")
    for practice_id, rhythm, chosen_on in RITUALS:
        if day == chosen_on:
            with suppress(Problem):  # only as the pace allows it that evening
                rituals.choose(db, hana, practice_id=practice_id, rhythm=rhythm, now=evening)
    today = localtime.local_day(evening, demo.hurt.person.time_zone)
    for chosen in rituals.rituals(db, hana, evening):
        weekly = chosen.rhythm == "weekly"
        if not chosen.resting and (day % 7 == 3 if weekly else day % 3 != 1):
            rituals.done(db, hana if day % 2 else ivan, chosen.id, day=today, now=evening)
    if day == 20:
        found_out = evening + timedelta(days=ANNIVERSARY_DAY - day)
        dates.add(db, hana, label="The day I found out", month=found_out.month, day=found_out.day)
    dates.hold_near(db, hana, evening)  # as her Today page does on each visit
    if day == 44:
        disclosure.prepare(db, ivan, account=DISCLOSED, now=evening)
        disclosure.prepare(
            db,
            hana,
            questions=HER_QUESTIONS,
            limits=["sexual_detail"],
            other_limits="",
            now=evening,
        )
        disclosure.ask_therapist(db, ivan, evening)
    if day == 46 and thea is not None:
        disclosure.give_reading(
            db,
            SignedIn(thea.person, thea.data_key, ""),
            couple_id=demo.couple_id,
            disclosure_id=db.scalars(
                select(Disclosure.id).where(Disclosure.person_id == ivan.person.id)
            ).one(),
            text="Plain and owned. Keep the timeline as it is; bring it when the pace allows.",
        )
    if day == 48:
        disclosure.ready(db, hana, evening)
        disclosure.ready(db, ivan, evening)
    if day == DISCLOSURE_DAY and disclosure.step(db, ivan, evening).may_start:
        _disclosure_session(db, demo, evening)
    if day == DISCLOSURE_DAY + 1:
        disclosure.leave_account(db, ivan, evening)
    if day == 60:
        drafted = letters.save_draft(db, hana, kind="impact", text=IMPACT, now=evening)
        letters.share(db, hana, drafted.id, now=evening)
    if day == 62:
        (received,) = letters.letters(db, ivan)[1]
        letters.reply(
            db, ivan, received.id, text="I read it. I will not look away from it.", now=evening
        )
        drafted = letters.save_draft(
            db, ivan, kind="accountability", text=ACCOUNTABILITY, now=evening
        )
        letters.share(db, ivan, drafted.id, now=evening)


def _disclosure_session(db: Session, demo: DemoCouple, evening: datetime) -> None:
    """An hour, hard for both and harder for Hana, who needs a while after it: each
    reflects alone, and her reflection paces what follows."""
    held, _ = pace.record_experience(
        db,
        person=demo.involved.person,
        key=demo.involved.data_key,
        practice_id=DISCLOSURE,
        experience_id=None,
        occurred_at=evening - timedelta(hours=1),
        ended_at=evening,
        rating={**_HARD_BUT_HELD, "activation_after": 6},
        now=evening,
        started_by="me",
    )
    if held is None:  # a shared practice always makes one; nothing to reflect on else
        return
    pace.record_experience(
        db,
        person=demo.hurt.person,
        key=demo.hurt.data_key,
        practice_id=None,
        experience_id=held.id,
        occurred_at=None,
        rating={**_HARD_BUT_HELD, "safety": 4, "activation_after": 8},
        now=evening + timedelta(minutes=20),
    )


_HARD_BUT_HELD: dict[str, object] = {
    "safety": 6,
    "activation_before": 5,
    "staying": "stayed",
    "felt_pressured": False,
    "authenticity": 4,
    "vulnerability": 4,
    "transparency": 4,
    "presence": 3,
    "note": "",
}


def _questionnaires(db: Session, demo: DemoCouple, at: datetime, day: int) -> None:
    """Every three weeks, Hana's PHQ-9 and Ivan's GAD-7; once their therapist asks for
    it, a PHQ-9 from both every two weeks instead of Hana's. Hana's ease slowly."""
    asked = day > THERAPIST_DAY and (day - THERAPIST_DAY - 1) % 14 == 0
    taken = []
    if day % 21 == 0:
        taken.append((demo.involved, "gad-7", 1))
        if day < THERAPIST_DAY:
            taken.append((demo.hurt, "phq-9", max(0, 2 - day // 28)))
    if asked:
        taken += [(demo.hurt, "phq-9", max(0, 2 - day // 28)), (demo.involved, "phq-9", 1)]
    for account, instrument_id, level in taken:
        instrument = measures.get_instrument(instrument_id)
        answers = {item.id: min(level + (i % 2), 3) for i, item in enumerate(instrument.items)}
        if instrument_id == "phq-9":
            answers[instrument.items[-1].id] = 0
        signed_in = SignedIn(account.person, account.data_key, "")
        measures.take(db, signed_in=signed_in, instrument=instrument, answers=answers, now=at)


def _commitment(db: Session, demo: DemoCouple, evening: datetime, day: int) -> None:
    """From their third week Ivan keeps a commitment, and says so honestly each evening
    (one evening in eleven it was not kept); now and then Hana notices."""
    ivan = SignedIn(demo.involved.person, demo.involved.data_key, "")
    hana = SignedIn(demo.hurt.person, demo.hurt.data_key, "")
    if day < THERAPIST_DAY:
        return
    if day == THERAPIST_DAY:
        commitments.offer(
            db,
            ivan,
            what="No contact with the affair partner",
            looks_like="If they get in touch, I tell you the same day and show you.",
            now=evening,
        )
    (offered,) = commitments.commitments(db, ivan)
    today = localtime.local_day(evening, demo.involved.person.time_zone)
    kept = day != RUSHED_DAY + 1  # one evening it was not kept, and he said so
    commitments.record(db, ivan, offered.id, day=today, kept=kept, now=evening)
    if kept and day % 3 == 0:
        commitments.notice(db, hana, offered.id, day=today, now=evening)


def _therapist(
    db: Session, demo: DemoCouple, hasher: PasswordHasher, kdf: KdfParams, at: datetime
) -> NewAccount:
    """Their therapist, with both partners' agreement: from then on each partner's
    questionnaire results reach her too (measures.take shares them, as in real use)."""
    thea = auth.register(db, username=THERAPIST, password=PASSWORD, hasher=hasher, kdf=kdf)
    thea.person.is_therapist = True  # she signed up as a couples therapist
    hana = SignedIn(demo.hurt.person, demo.hurt.data_key, "")
    code, _ = therapists.invite(db, signed_in=hana, now=at)
    therapists.join(db, signed_in=SignedIn(thea.person, thea.data_key, ""), code=code, now=at)
    therapists.consent(
        db, signed_in=SignedIn(demo.involved.person, demo.involved.data_key, ""), now=at
    )
    # She asks both of them for a PHQ-9 every two weeks.
    therapists.ask_for_questionnaire(
        db,
        signed_in=SignedIn(thea.person, thea.data_key, ""),
        couple_id=demo.couple_id,
        instrument_id="phq-9",
        every=14,
        now=at,
    )
    return thea


def _share_reflections(db: Session, demo: DemoCouple, at: datetime) -> None:
    """Each partner chooses to show their therapist their own private reflections, the
    way the Reflections page offers it."""
    for account in (demo.hurt, demo.involved):
        therapists.share_findings(
            db, signed_in=SignedIn(account.person, account.data_key, ""), now=at
        )


def _moments(db: Session, demo: DemoCouple, morning: datetime, day: int) -> None:
    """The moments between check-ins: statuses, a trigger and its answer, proposals,
    notes."""
    hana = SignedIn(demo.hurt.person, demo.hurt.data_key, "")
    ivan = SignedIn(demo.involved.person, demo.involved.data_key, "")
    evening = morning + timedelta(hours=11)
    if day >= WEEKS * 7 - 5:
        # Late in the ten weeks, Hana's urgency runs ahead of her readiness.
        pace.record_checkin(
            db,
            person=hana.person,
            key=hana.data_key,
            fields={
                "activation": 7 if day == WEEKS * 7 - 1 else 5,
                "state": "revved_up",
                "safety": 6,
                "urgency": 9,
                "readiness": 3,
                "drivers": ["fear_of_loss"],
                "body_signals": ["tight chest"],
                "note": "I want us to be close again, right now.",
                "recorded_at": morning + timedelta(hours=9),
            },
            now=morning + timedelta(hours=9),
        )
        look_again_now(db, signed_in=hana, now=morning + timedelta(hours=9), shared=False)

    if day % 4 == 1:
        moments.share_status(db, signed_in=hana, status="struggling", words="", now=evening)
        look_again_now(db, signed_in=hana, now=evening)
    if day in {RUSHED_DAY + 1, WEEKS * 7 - 2}:
        # Ivan, wanting the hard evenings to be over, smooths them over.
        moments.share_status(
            db, signed_in=ivan, status="okay", words="it was just one bad night", now=evening
        )
        look_again_now(db, signed_in=ivan, now=evening)
    if day == WEEKS * 7 - 1:
        # Hana says she is okay on a day her own check-in says otherwise.
        moments.share_status(db, signed_in=hana, status="okay", words="", now=evening)
        look_again_now(db, signed_in=hana, now=evening)
    if day in {WEEKS * 7 - 9, WEEKS * 7 - 3}:
        trigger = moments.log_trigger(
            db,
            signed_in=hana,
            what="A song from that summer",
            strength=7,
            tell_partner=True,
            now=morning + timedelta(hours=3),
        )
        moments.respond_to_trigger(
            db,
            signed_in=ivan,
            trigger_id=trigger.id,
            kind="comfort",
            now=morning + timedelta(hours=3, minutes=12),
        )
    for at, writer, text in DEMO_NOTES.get(day, ()):
        author = hana if writer == HURT else ivan
        notes.send_note(db, signed_in=author, text=text, now=morning + at)
        look_again_now(db, signed_in=author, now=morning + at)
    if day == WEEKS * 7 - 6:
        asked = moments.propose(
            db, signed_in=ivan, practice_id=_practice_at(4), now=morning + timedelta(hours=2)
        )
        look_again_now(db, signed_in=ivan, now=morning + timedelta(hours=2))
        moments.answer_proposal(
            db, signed_in=hana, proposal_id=asked.id, accept=False, now=morning + timedelta(hours=4)
        )
        look_again_now(db, signed_in=hana, now=morning + timedelta(hours=4))
    if day == WEEKS * 7 - 4:
        moments.propose(
            db, signed_in=ivan, practice_id=_practice_at(4), now=morning + timedelta(hours=2)
        )
        look_again_now(db, signed_in=ivan, now=morning + timedelta(hours=2))


def _practice_at(tier: int) -> str:
    return next(
        p.id for p in pace.catalogue() if p.tier == tier and p.leads.value != "more_activated"
    )


def _screen_ids() -> list[str]:

    return [q.id for q in QUESTIONS]
