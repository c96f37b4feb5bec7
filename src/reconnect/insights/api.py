"""Findings in the JSON API: patterns that may feel like closeness but keep healing stuck."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from reconnect.insights import store as insights
from reconnect.web.deps import ApiSession, Db, LocalDateTime, api_router

router = api_router("insights")


class EvidenceOut(BaseModel):
    kind: str
    id: str
    on: date


class FindingOut(BaseModel):
    pattern: str
    audience: Literal["you", "couple"] = Field(
        description="'you': built from your own private entries, shown only to you. "
        "'couple': a couple-level pattern, worded without blame, shown to both."
    )
    severity: str
    message: str
    try_instead: str
    evidence: list[EvidenceOut]
    found_at: LocalDateTime


def finding_out(finding: Any) -> FindingOut:
    return FindingOut(
        pattern=finding.pattern.value,
        audience="couple" if finding.audience == "couple" else "you",
        severity=finding.severity.value,
        message=finding.message,
        try_instead=finding.try_instead,
        evidence=[EvidenceOut(kind=e.kind, id=e.id, on=e.on) for e in finding.evidence],
        found_at=finding.found_at,
    )


@router.get("/insights", response_model=list[FindingOut])
def insights_list(session: ApiSession, db: Db) -> list[FindingOut]:
    """Patterns the app noticed that may feel like closeness but keep healing stuck:
    yours privately, and the couple's, shown as reflections, not verdicts."""
    return [finding_out(f) for f in insights.visible_findings(db, signed_in=session)]
