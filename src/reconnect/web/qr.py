"""QR codes drawn as inline SVG, for a phone's camera: the partner's invitation and the
two-step sign-in's authenticator set-up.

Drawn on the server with segno, so no script and no image request is needed (the
content security policy allows neither from elsewhere), and the page still works with
the camera out of reach: the same words are always shown beside the code.
"""

from __future__ import annotations

import segno
from markupsafe import Markup

__all__ = ["qr_svg"]


def qr_svg(data: str, *, label: str) -> Markup:
    """``data`` as an inline SVG QR code; ``label`` names it for a screen reader."""
    code = segno.make(data, error="m")
    svg = code.svg_inline(scale=4, dark="#1d2630", light="#ffffff", title=label, border=4)
    # segno writes only the modules' path and the title, which it escapes.
    drawn = svg.replace("<svg ", '<svg role="img" ', 1)
    return Markup(drawn)  # noqa: S704 # nosec B704 - segno escapes the title
