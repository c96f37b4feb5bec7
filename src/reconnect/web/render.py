"""What every page handler shares: drawing a template, redirecting after a form, and
the session cookie."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from reconnect import localtime
from reconnect.accounts.signed_in import SignedIn
from reconnect.models import Person
from reconnect.web.deps import State, csrf_token, session_cookie_name


def render(
    request: Request,
    template: str,
    person: Person | None,
    status: int = 200,
    **context: Any,
) -> Response:
    state = request.app.state.reconnect
    return state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        template,
        {
            "person": person,
            "csrf_token": csrf_token(request),
            "quick_exit_url": state.settings.quick_exit_url,
            # Every time on a page is shown in the zone of the person reading it.
            "local": localtime.Local.of(person.time_zone if person else None),
            # A therapist's navigation and landing differ from the partners' (base.html).
            "as_therapist": person is not None and getattr(request.state, "therapist", False),
            **context,
        },
        status_code=status,
    )


E = TypeVar("E", bound=Enum)


def choices(labels: Mapping[E, str]) -> dict[str, str]:
    """A form's choices, value to label, from one of the domain's labelled enums."""
    return {member.value: label for member, label in labels.items()}


def go(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def sign_in(request: Request, response: Response, token: str, state: State) -> Response:
    response.set_cookie(
        session_cookie_name(request),
        token,
        max_age=state.settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def data_key(request: Request) -> bytes:
    """The signed-in person's data key, kept on the request by the sign-in dependency."""
    signed_in: SignedIn = request.state.signed_in
    return signed_in.data_key
