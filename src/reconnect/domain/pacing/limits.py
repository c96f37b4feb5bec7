"""What limits today's pace, and the words that say why.

:func:`pace` reads the permitted tier off a ladder's working state at a moment: each
partner's newest known state may cap it (a check-in's ceiling, how a practice left
them, no check-in for too long, settling after a hard moment), the gated tier needs
both partners' fresh readiness for closeness, and a pause or a break after a flood
allows only tier-0 self-soothing. With ``explain`` it also gives the
:class:`~reconnect.domain.pacing.history.Reason` for each rule, for each audience.

Reasons are words for people: they name the steps of the ladder by their catalogue
names (:func:`step`) and never show a tier's number; the numbers stay in ``numbers``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from reconnect.domain.pacing.catalogue import load_catalogue
from reconnect.domain.pacing.history import COUPLE, Evidence, Number, Reason
from reconnect.domain.pacing.policy import Policy
from reconnect.domain.pacing.signals import CeilingSignal, ClosenessSignal, UrgencyGapSignal

__all__ = ["LadderView", "pace", "step", "urgency_reason"]


class LadderView(Protocol):
    """What the pace is read from: a ladder's working state
    (:class:`~reconnect.domain.pacing.ladder.LadderFold`)."""

    @property
    def policy(self) -> Policy: ...
    @property
    def person_ids(self) -> tuple[str, str]: ...
    @property
    def tier(self) -> int: ...
    @property
    def paused_by(self) -> Sequence[str]: ...
    @property
    def break_until(self) -> datetime | None: ...
    @property
    def hold_until(self) -> datetime | None: ...
    @property
    def lapse(self) -> tuple[str, datetime] | None: ...
    @property
    def quiet(self) -> tuple[str, datetime] | None: ...
    @property
    def evidence(self) -> Sequence[Evidence]: ...
    @property
    def ceilings(self) -> Mapping[str, CeilingSignal]: ...
    @property
    def closeness(self) -> Mapping[str, ClosenessSignal]: ...
    @property
    def urgency(self) -> Mapping[str, UrgencyGapSignal]: ...
    @property
    def settling(self) -> Mapping[str, datetime]: ...
    def separate_days(self) -> int: ...


def pace(fold: LadderView, at: datetime, *, explain: bool) -> tuple[int, list[Reason]]:
    """The permitted tier at ``at`` given the fold's state, and (optionally) why."""
    policy = fold.policy
    reasons: list[Reason] = []
    ladder = fold.tier
    tier = ladder

    # Rule 1: each partner's newest known state may cap today.
    caps = [(person, *_cap(fold, person, at)) for person in fold.person_ids]
    binding = [cap for cap in caps if cap[1] < ladder]
    if binding:
        tier = min(cap for _, cap, _ in binding)

    # Tier 6 (the gated tier) needs both partners' fresh "ready". Who is not ready is
    # asked whenever the shared ladder has reached it, not only when the caps leave it
    # open: a partner's own word about their readiness must not depend on whether the
    # other's private check-in capped the day.
    gated = policy.closeness_gated_tier
    not_ready: list[str] = []
    if ladder >= gated:
        for person in fold.person_ids:
            signal = fold.closeness.get(person)
            if signal is None or not signal.ready or at >= signal.until:
                not_ready.append(person)
    gate_closes = tier >= gated and bool(not_ready)
    if gate_closes:
        tier = gated - 1

    on_break = fold.break_until is not None and at < fold.break_until
    if fold.paused_by or on_break:
        tier = 0  # Rules 3 and 5: nothing but tier-0 self-soothing
    if not explain:
        return tier, reasons

    if tier == ladder:
        where = f"Together you have reached “{step(ladder)}”, and that is what fits today."
    else:
        where = (
            f"Together you have reached “{step(ladder)}”. Today asks for a gentler step: "
            f"“{step(tier)}”."
        )
    reasons.append(Reason("ladder", COUPLE, where, {"ladder_tier": ladder, "permitted_tier": tier}))
    for person in fold.person_ids:
        if person in fold.paused_by:
            reasons.append(
                Reason(
                    "pause",
                    person,
                    "You paused the pace. Only practices you can do on your own are "
                    "suggested, and you can resume whenever you choose. No reason is needed.",
                )
            )
        elif fold.paused_by:
            reasons.append(
                Reason(
                    "pause",
                    person,
                    "The pace is paused for now. Pausing needs no reason; it lifts when "
                    "the partner who paused is ready. Practices you can do on your own "
                    "are still here.",
                )
            )
    if on_break and fold.break_until is not None:
        reasons.append(
            Reason(
                "flood_break",
                COUPLE,
                "At least one of you was overwhelmed a short while ago. Take a break of at "
                f"least {policy.flood_break_minutes} minutes before anything shared; "
                "settling practices on your own are suggested until then.",
                {
                    "break_until": fold.break_until.isoformat(),
                    "break_minutes": policy.flood_break_minutes,
                },
            )
        )
    # While a pause or a break decides the pace, a couple-level word about the
    # ceiling or readiness would tell one partner something the pace does not.
    dominated = bool(fold.paused_by) or on_break
    if binding and not dominated:
        # Couple wording is identical whatever the slower partner's reason is.
        reasons.append(
            Reason(
                "ceiling",
                COUPLE,
                "Today's pace follows the partner who needs it slower.",
                {"today_limit": min(cap for _, cap, _ in binding)},
            )
        )
    for person, cap, why in binding:
        reasons.append(_own_ceiling_reason(person, cap, why, policy))
    if gate_closes and not dominated:
        reasons.append(
            Reason(
                "closeness",
                COUPLE,
                f"“{step(gated)}” opens only when both of you, each in your own check-in, "
                "say you feel ready for closeness. It is never something to ask for.",
                {"gated_tier": gated},
            )
        )
    for person in not_ready:
        reasons.append(
            Reason(
                "closeness",
                person,
                "Your latest check-in does not show readiness for closeness, so "
                f"“{step(gated)}” stays closed for now. There is no timetable for this.",
                {"readiness_min": policy.closeness_readiness_min},
            )
        )
    lapse = fold.lapse if fold.lapse is not None and at < fold.lapse[1] else None
    if lapse is not None:
        reasons += _lapse_reasons(lapse, policy)
    quiet = fold.quiet if fold.quiet is not None and at < fold.quiet[1] else None
    if quiet is not None:
        reasons += _quiet_reasons(quiet, lapse is None)
    known = [held[1] for held in (lapse, quiet) if held is not None]
    if (
        fold.hold_until is not None
        and at < fold.hold_until
        and fold.hold_until > max(known, default=at)
    ):
        reasons.append(
            Reason(
                "flood_hold",
                COUPLE,
                "After being overwhelmed, no new step opens for "
                f"{policy.flood_no_advance_hours} hours; safety needs time to settle.",
                {"hold_until": fold.hold_until.isoformat()},
            )
        )
    if ladder < policy.top_tier:
        days = fold.separate_days()
        if ladder == 0 and policy.first_step_by_calm_days:
            what = "Calm days together (both of you checked in, and nothing asked for a slower day)"
        else:
            what = f"Safe shared practices of “{step(ladder)}”"
        reasons.append(
            Reason(
                "advance",
                COUPLE,
                f"{what} in the last {policy.advance_window_days} days: "
                f"{len(fold.evidence)}, on {days} separate days. The next step, "
                f"“{step(ladder + 1)}”, needs {policy.advance_safe_experiences} on "
                f"{policy.advance_distinct_days} separate days; one good evening is not enough.",
                {
                    "safe_experiences": len(fold.evidence),
                    "distinct_days": days,
                    "needed_experiences": policy.advance_safe_experiences,
                    "needed_days": policy.advance_distinct_days,
                    "window_days": policy.advance_window_days,
                },
            )
        )
    for person in fold.person_ids:
        gap = fold.urgency.get(person)
        if gap is not None and at - gap.at < policy.urgency_window:
            reasons.append(urgency_reason(person, policy))
    return tier, reasons


def step(number: int) -> str:
    """The name people know a step of the ladder by (never its number).

    Reasons are read by people, so they name steps the way the pages do: "Being near
    each other", not "tier 1". A number outside the catalogue is clamped to its ends.
    """
    catalogue = load_catalogue()
    numbers = [t.number for t in catalogue.tiers]
    return catalogue.tier(max(min(numbers), min(number, max(numbers)))).name


def urgency_reason(person: str, policy: Policy) -> Reason:
    """Rule 4's word to ``person`` alone: urgency ran ahead of readiness (P1).

    Storage may keep the urgency signal out of the shared rows and add this reason
    from the person's own check-in instead; the pace is the same either way.
    """
    return Reason(
        "urgency",
        person,
        "Your pull to reconnect is strong right now, stronger than your sense "
        "of being ready. The pull is real and it matters. Urgency is not "
        "readiness, though, so it does not change the pace.",
        {"gap_at_least": policy.urgency_gap_min},
    )


def _cap(fold: LadderView, person: str, at: datetime) -> tuple[int, str]:
    """The highest tier ``person``'s newest known state allows at ``at``, and why.

    Why: "unknown" (no check-in, or none for too long), "ceiling" (a check-in),
    "after_practice" (how a practice left them), "stale" (v2: a state past its
    window still limits, at the unknown tier at most), "settling" (v2: hours after
    a stop-level state) or "none".
    """
    policy = fold.policy
    ceiling = fold.ceilings.get(person)
    if ceiling is None:
        cap, why = policy.unknown_tier, "unknown"
    elif not policy.stale_keeps_cap:
        # v1: a ceiling holds for its window, then nothing until the unknown cap.
        if at - ceiling.at > policy.unknown_after:
            cap, why = policy.unknown_tier, "unknown"
        elif at < ceiling.until:
            cap, why = ceiling.max_tier, "ceiling"
        else:
            cap, why = policy.top_tier, "none"
    elif at < ceiling.until and at - ceiling.observed <= policy.unknown_after:
        cap, why = ceiling.max_tier, "after_practice" if ceiling.from_practice else "ceiling"
    else:
        # Never forgotten into a faster pace: the unknown cap at most.
        cap, why = min(ceiling.max_tier, policy.unknown_tier), "stale"
    settle = fold.settling.get(person)
    if settle is not None and at < settle and cap > policy.slow_tier:
        cap, why = policy.slow_tier, "settling"
    return cap, why


def _own_ceiling_reason(person: str, cap: int, why: str, policy: Policy) -> Reason:
    """A partner's own view of why their check-in limits today (their numbers only)."""
    if why == "unknown":
        return Reason(
            "ceiling",
            person,
            f"There has been no check-in from you for more than {policy.unknown_after_hours} "
            f"hours, so the pace goes no further than “{step(cap)}” until you check in.",
            {"max_tier": cap, "hours_without_checkin": policy.unknown_after_hours},
        )
    if why == "stale":
        return Reason(
            "ceiling",
            person,
            f"Your last check-in was more than {policy.ceiling_window_hours} hours ago. Until "
            f"you check in again the pace goes no further than “{step(cap)}”; a hard day is "
            "never simply forgotten.",
            {"max_tier": cap, "hours_since_checkin": policy.ceiling_window_hours},
        )
    if why == "settling":
        return Reason(
            "settling",
            person,
            "After a hard moment, a body needs time to settle. For a few hours the pace goes "
            f"no further than “{step(cap)}”, whatever the next check-in says.",
            {"max_tier": cap, "settle_hours": policy.settle_hours},
        )
    if why == "after_practice":
        return Reason(
            "ceiling",
            person,
            "How you felt after your last practice asks for a gentler pace, so it goes no "
            f"further than “{step(cap)}” for now. A check-in tells the app when that changes.",
            {"max_tier": cap},
        )
    numbers: dict[str, Number] = {"max_tier": cap}
    if policy.stop_below_safety == 0 and policy.revved_up_tier >= policy.top_tier:
        # v1: only activation (or shutting down) sets a ceiling, so its band says why.
        if cap <= policy.stop_tier:
            numbers["your_activation"] = f"{policy.stop_activation} or more, or shut down"
        else:
            numbers["your_activation"] = f"{policy.slow_activation} to {policy.stop_activation - 1}"
    return Reason(
        "ceiling",
        person,
        f"Your latest check-in asks for a gentler day, so today goes no further than "
        f"“{step(cap)}”. Going slower is how safety gets built.",
        numbers,
    )


def _lapse_reasons(lapse: tuple[str, datetime], policy: Policy) -> list[Reason]:
    """Why the pace stepped back after a lapse or a new disclosure. Recorded by one
    partner alone, the other reads only that the pace holds, never why."""
    who, until = lapse
    days = policy.lapse_no_advance_hours // 24
    facts = {"hold_until": until.isoformat()}
    if who == COUPLE:
        return [
            Reason(
                "lapse",
                COUPLE,
                "You recorded together that something new came to light. The pace went "
                f"back a step, and no new step opens for {days} days: trust is rebuilt on "
                "what is known now. This is part of the path, not the end of it.",
                facts,
            )
        ]
    return [
        Reason(
            "lapse",
            who,
            "You recorded that something new came to light. The pace went back a step, "
            f"and no new step opens for {days} days. Your partner sees only that the "
            "pace is holding, not why.",
            facts,
        ),
        Reason(
            "holding",
            COUPLE,
            f"The pace went back a step and is holding for up to {days} days, so that "
            "safety can settle.",
            {},  # not even when: the time would date the other's record
        ),
    ]


def _quiet_reasons(quiet: tuple[str, datetime], say_holding: bool) -> list[Reason]:
    """Near a date one partner marked as hard: they read why; the other reads only that
    the pace holds (unless a lapse already says so)."""
    who, until = quiet
    found = [
        Reason(
            "hard_date",
            who,
            "A date you marked as hard is near. No new step opens until it has passed: "
            "there is no need to move forward these days.",
            {"hold_until": until.isoformat()},
        )
    ]
    if say_holding:
        found.append(
            Reason("holding", COUPLE, "The pace is holding for a few days: no new step opens.", {})
        )
    return found
