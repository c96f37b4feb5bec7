"""The couple's commitments and rituals, as the therapist both partners agree to sees them.

Both partners share these by design, under the couple key, so a consenting therapist
reads them too: what each commitment is and what keeping it looks like, who offered it
(named as everywhere in the therapist's view), its days kept, not kept and noticed; each
ritual, how often, whether it rests now, and the days done. Week by week: a record of
consistency, never a score of anyone. Nothing private is read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy.orm import Session

from reconnect import localtime
from reconnect.commitments import store as commitments
from reconnect.models import Couple
from reconnect.pacing import store as pace
from reconnect.progress import charts as progress
from reconnect.rituals import store as rituals


@dataclass(frozen=True)
class KeptDay:
    day: date
    kept: bool
    noticed: bool


@dataclass(frozen=True)
class CommitmentSeen:
    """One commitment; ``offered_by`` names the partner as the therapist's view does,
    and the times are on the therapist's clock. ``days``: oldest first."""

    id: int
    what: str
    looks_like: str
    offered_by: str
    offered_at: datetime
    ended_at: datetime | None
    days: tuple[KeptDay, ...]
    weeks: tuple[tuple[date, int, int, int], ...]

    def kept_between(self, start: date, end: date) -> tuple[int, int]:
        """(days kept, days recorded) among the days ``start``..``end``."""
        recorded = [d for d in self.days if start <= d.day <= end]
        return sum(1 for d in recorded if d.kept), len(recorded)


@dataclass(frozen=True)
class RitualSeen:
    """One ritual: its practice's title, how often (``rhythm`` and ``every`` in words),
    whether the pace is below it now (``resting``) and its days done, oldest first."""

    id: int
    practice_id: str
    title: str
    rhythm: str
    every: str
    chosen_at: datetime
    ended_at: datetime | None
    resting: bool
    days: tuple[date, ...]
    weeks: tuple[tuple[date, int], ...]

    def done_between(self, start: date, end: date) -> int:
        return sum(1 for d in self.days if start <= d <= end)


def _when(iso: str | None, zone: localtime.Zone) -> datetime | None:
    return None if iso is None else localtime.to_local(datetime.fromisoformat(iso), zone)


def commitments_seen(
    db: Session,
    couple_id: int,
    couple_key: bytes,
    names: dict[int, str],
    zone: localtime.Zone,
) -> list[CommitmentSeen]:
    """The couple's commitments, oldest first (one read). ``names``: each partner's
    person id to their name in the therapist's view."""
    return [
        CommitmentSeen(
            id=kept.id,
            what=kept.what,
            looks_like=kept.looks_like,
            offered_by=names.get(kept.offered_by, "partner"),
            offered_at=cast(datetime, _when(kept.offered_at, zone)),
            ended_at=_when(kept.ended_at, zone),
            days=tuple(
                KeptDay(date.fromisoformat(d), v["kept"], bool(v.get("noticed")))
                for d, v in sorted(kept.days.items())
            ),
            weeks=tuple(kept.weeks()),
        )
        for kept in commitments.for_couple(db, couple_id, couple_key)
    ]


def rituals_seen(
    db: Session,
    couple_id: int,
    couple_key: bytes,
    zone: localtime.Zone,
    now: datetime | None = None,
) -> list[RitualSeen]:
    """The couple's rituals, oldest first. With ``now``, each rests as the partners see
    it then (the pace at ``now``); without it, none is said to rest."""
    permitted = None
    if now is not None:
        couple = db.get_one(Couple, couple_id)
        permitted = pace.current_pace(db, couple, now).permitted_tier
    titles = {p.id: p.title for p in pace.catalogue()}
    return [
        RitualSeen(
            id=chosen.id,
            practice_id=chosen.practice_id,
            title=titles.get(chosen.practice_id, chosen.practice_id),
            rhythm=chosen.rhythm,
            every=rituals.RHYTHMS.get(chosen.rhythm, chosen.rhythm),
            chosen_at=cast(datetime, _when(chosen.chosen_at, zone)),
            ended_at=_when(chosen.ended_at, zone),
            resting=chosen.resting,
            days=tuple(sorted(date.fromisoformat(d) for d in chosen.days)),
            weeks=tuple(chosen.weeks()),
        )
        for chosen in rituals.for_couple(db, couple_id, couple_key, permitted=permitted)
    ]


def charts(kept: list[CommitmentSeen], chosen: list[RitualSeen]) -> tuple[progress.Chart, ...]:
    """Each commitment's and each ritual's weeks, drawn as on the partners' pages."""
    return (
        *(progress.kept_chart(f"kept-{c.id}", f"Kept: {c.what}", c.weeks) for c in kept),
        *(progress.ritual_chart(f"ritual-{r.id}", r.title, r.weeks) for r in chosen),
    )
