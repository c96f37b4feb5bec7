"""Pieces every JSON API module shares: the strict request body and the time zone field."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from reconnect import localtime


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


TimeZone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=localtime.ZONE_NAME_MAX,
        examples=["America/Los_Angeles"],
        description="An IANA time zone name; an unknown one is refused (invalid_time_zone).",
    ),
]


class TimeZoneIn(Strict):
    time_zone: TimeZone
