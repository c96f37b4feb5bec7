"""Steps of the moments between check-ins, as a person takes them on the pages."""

from __future__ import annotations

from tests.pages import Visitor


def tell_trigger(hana: Visitor, what: str, *, tell: bool = True) -> None:
    form = {"what": what, "strength": "4"}
    if tell:
        form["tell_partner"] = "yes"
    assert hana.post("/triggers", form).status_code == 303


def respond(ivan: Visitor, kind: str) -> Visitor:
    form = ivan.get("/today").select_one("form[action$='/respond']")
    assert form is not None, "Ivan is asked to respond"
    ivan.post(str(form["action"]), {"kind": kind})
    assert ivan.last.status_code == 303
    return ivan
