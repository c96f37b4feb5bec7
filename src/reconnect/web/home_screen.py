"""How the app shows on a phone's home screen: as Reconnect, or, for a person who needs
it, as "Notes" with a plain icon.

The choice is this browser's, kept in a cookie (the home screen is a device's, and it
needs no change to the database): every page links the manifest and icons of the
chosen look, also after signing out, so an icon opening the sign-in page stays
"Notes". The two manifests have different ids, so a browser treats them as two apps
and never renames one installed as "Notes". No service worker: docs/privacy.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from reconnect.web.deps import is_https


@dataclass(frozen=True)
class Look:
    value: str  # what the form sends and the cookie keeps
    name: str  # the name under the icon
    manifest: str  # paths under /static
    icon: str
    touch_icon: str


REGULAR = Look(
    "reconnect",
    "Reconnect",
    "manifest.webmanifest",
    "icons/reconnect.svg",
    "icons/reconnect-180.png",
)
NEUTRAL = Look(
    "notes",
    "Notes",
    "manifest-neutral.webmanifest",
    "icons/notes.svg",
    "icons/notes-180.png",
)
LOOKS = {look.value: look for look in (REGULAR, NEUTRAL)}

# Chrome keeps no cookie longer than 400 days; choosing again renews it.
COOKIE_DAYS = 400


def cookie_name(request: Request) -> str:
    return "__Host-reconnect-home-screen" if is_https(request) else "reconnect_home_screen"


def chosen(request: Request) -> Look:
    """The look this browser chose: the one just chosen on this request, else the
    cookie's; the regular one for anything else."""
    just_chosen = getattr(request.state, "home_screen", None)
    if isinstance(just_chosen, Look):
        return just_chosen
    return LOOKS.get(request.cookies.get(cookie_name(request), ""), REGULAR)


def remember(request: Request, response: Response, look: Look) -> None:
    response.set_cookie(
        cookie_name(request),
        look.value,
        max_age=COOKIE_DAYS * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
