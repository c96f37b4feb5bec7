"""The invitation as a QR code, for the partner's phone (issue 16): the code holds the
address to open with the invitation code filled in, and that page fills it in."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from reconnect.web.qr import qr_svg
from tests.pages import Visitor, soup


def test_the_invitation_is_shown_as_a_qr_code_of_its_address(app):
    hana = Visitor(app)
    hana.register("hana")
    assert hana.post("/couple", {"role": "hurt"}).status_code == 303
    page = soup(hana.post("/couple/invite", {}))
    code = page.select_one("#invite-code").get_text(strip=True)
    address = page.select_one("#invite-address").get_text(strip=True)
    assert address.startswith("http://127.0.0.1/couple/join?")
    assert parse_qs(urlsplit(address).query) == {"code": [code]}
    drawn = page.select_one("#invite-qr svg")
    assert drawn is not None and drawn["role"] == "img" and drawn.title.get_text()
    # The code drawn is the address shown, module for module.
    assert str(drawn) == str(soup_of(qr_svg(address, label=drawn.title.get_text())))


def test_the_join_page_opened_from_the_code_has_it_filled_in(app):
    ivan = Visitor(app)
    ivan.register("ivan")
    page = ivan.get("/couple/join?code=ABCDE-FGHIJ")
    assert page.select_one("input[name='code']")["value"] == "ABCDE-FGHIJ"
    assert ivan.get("/couple/join").select_one("input[name='code']")["value"] == ""


def soup_of(markup):
    return BeautifulSoup(str(markup), "html.parser").svg
