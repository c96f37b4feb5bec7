"""Setting up two-step sign-in from a phone: the page shows the authenticator address as
a QR code beside the secret (issue 16)."""

from __future__ import annotations

from bs4 import BeautifulSoup

from reconnect.web.qr import qr_svg
from tests.pages import Visitor


def test_the_set_up_shows_a_qr_code_of_the_otpauth_address(app):
    hana = Visitor(app)
    hana.register("hana")
    page = hana.get("/account?totp=new")
    secret = page.select_one("#totp-secret").get_text(strip=True)
    drawn = page.select_one("#totp-qr svg")
    assert drawn is not None and drawn["role"] == "img"
    address = f"otpauth://totp/Reconnect:hana?secret={secret}&issuer=Reconnect"
    expected = BeautifulSoup(str(qr_svg(address, label=drawn.title.get_text())), "html.parser")
    assert str(drawn) == str(expected.svg)


def test_without_a_set_up_in_progress_there_is_no_code(app):
    hana = Visitor(app)
    hana.register("hana")
    assert hana.get("/account").select_one("#totp-qr") is None
