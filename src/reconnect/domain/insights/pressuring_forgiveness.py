"""(d) Pressuring forgiveness: asking again soon after a no, and shared words that
push for closure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reconnect.domain.insights.couple_record import (
    CoupleRecord,
    Proposal,
    Response,
    at_time,
    check_now,
    window,
)
from reconnect.domain.insights.detector_settings import DetectorSettings, settings_or_default
from reconnect.domain.insights.findings import Detail, Evidence, Finding, Pattern, Severity
from reconnect.domain.insights.text_checker import (
    TextChecker,
    TextConcern,
    flagged_words,
    load_phrase_list,
)
from reconnect.domain.pacing.history import COUPLE

__all__ = ["detect_pressuring_forgiveness"]


def detect_pressuring_forgiveness(
    record: CoupleRecord,
    now: datetime,
    *,
    settings: DetectorSettings | None = None,
    checker: TextChecker | None = None,
) -> tuple[Finding, ...]:
    """Asking again, soon after a no, for more than the other has accepted; and shared
    words that push for forgiveness. Privately to the one asking, plus a gentle
    couple-level note for asking again."""
    check_now(now)
    s = settings_or_default(settings)
    rule = s.pressuring_forgiveness
    checker = checker if checker is not None else load_phrase_list()
    found: list[Finding] = []
    start = now - timedelta(days=rule.lookback_days)
    reach = timedelta(days=max(rule.accepted_lookback_days, rule.after_decline_days))
    earlier = window(record.proposals, start - reach, now, at_time)
    for proposal in window(record.proposals, start, now, at_time):
        declined: list[Proposal] = []
        accepted_max = -1
        for old in earlier:
            if old.at >= proposal.at:
                break
            if old.by != proposal.by or old.responded_at is None:
                continue
            answered = old.responded_at
            if not answered < proposal.at:
                continue
            if old.response is Response.DECLINED and proposal.at - answered <= timedelta(
                days=rule.after_decline_days
            ):
                declined.append(old)
            if old.response is Response.ACCEPTED and proposal.at - answered <= timedelta(
                days=rule.accepted_lookback_days
            ):
                accepted_max = max(accepted_max, old.tier)
        if not declined:
            continue
        # With no yes to compare with, asking again means asking for at least what
        # was just declined; a smaller step after a no is a kind answer to it.
        bar = accepted_max if accepted_max >= 0 else min(d.tier for d in declined) - 1
        if proposal.tier <= bar:
            continue
        evidence = (
            *(
                Evidence("proposal", d.id, d.responded_at.date())
                for d in declined
                if d.responded_at is not None
            ),
            Evidence("proposal", proposal.id, proposal.at.date()),
        )
        details: dict[str, Detail] = {"tier": proposal.tier, "days": rule.after_decline_days}
        found.append(
            Finding(
                Pattern.PRESSURING_FORGIVENESS,
                "asked_again",
                proposal.by,
                Severity.NOTABLE if len(declined) > 1 else Severity.GENTLE,
                "You proposed a practice again within a few days of a no, at a step your "
                "partner has not said yes to lately.",
                "A no that is allowed to stand is part of what makes a later yes safe. "
                "You might let the next invitation come from your partner, and share how "
                "the waiting feels for you in your own check-in.",
                evidence,
                now,
                s.version,
                details,
            )
        )
        found.append(
            Finding(
                Pattern.PRESSURING_FORGIVENESS,
                "asked_again",
                COUPLE,
                Severity.GENTLE,
                "A practice was proposed again soon after a no.",
                "Saying no without a reason is always allowed here. Letting a no rest for "
                f"{rule.after_decline_days} days or so helps both of you trust it.",
                evidence,
                now,
                s.version,
                {"days": rule.after_decline_days},
            )
        )
    words_start = now - timedelta(days=rule.words_lookback_days)
    flagged = flagged_words(record, words_start, now, checker, {TextConcern.PRESSURING_FORGIVENESS})
    for author in record.person_ids:
        if author not in flagged:
            continue
        refs, phrases = flagged[author]
        refs.sort(key=lambda e: e.on)
        found.append(
            Finding(
                Pattern.PRESSURING_FORGIVENESS,
                "shared_words",
                author,
                Severity.GENTLE,
                "Some words you shared lately may have asked for closure sooner than "
                "your partner can give it: " + ", ".join(f"“{p}”" for p in phrases) + ".",
                "Forgiveness, if it comes, grows after safety returns. You might say "
                "instead what you are willing to keep doing while it takes the time it takes.",
                tuple(refs),
                now,
                s.version,
                {"texts": len(refs)},
            )
        )
    return tuple(found)
