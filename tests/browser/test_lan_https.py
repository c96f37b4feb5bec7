"""``reconnect serve --lan`` in a real browser: the app over HTTPS with the certificate it
made for itself. A browser that does not know the certificate refuses the page; one told
to trust exactly that certificate (by its public key, as a person does by checking the
fingerprint) opens the sign-in page over https and gets Secure cookies."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import Error as BrowserError
from playwright.sync_api import expect

from reconnect.app import create_app
from reconnect.lan import listen_host, on_lan
from reconnect.listen import server_options
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    QUICK_EXIT_URL,
    local_context,
)
from tests.conftest import PASSWORD, make_settings
from tests.ports import free_port, serving

pytestmark = pytest.mark.browser


def public_key_pin(cert_file: Path) -> str:
    """Base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo: what Chromium's
    --ignore-certificate-errors-spki-list takes."""
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture
def on_the_home_network(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The app as ``serve --lan --host 127.0.0.1`` starts it: the certificate made in
    <data>/tls, uvicorn serving HTTPS with it (on a thread of its own: it runs its own
    event loop, and Playwright's stays on this one). Yields the address and certificate."""
    settings = make_settings(tmp_path).model_copy(
        update={
            "host": listen_host("127.0.0.1"),
            "port": free_port(),
            "quick_exit_url": QUICK_EXIT_URL,
        }
    )
    phones = on_lan(settings)
    assert phones.certificate.cert_file.parent == settings.data_dir / "tls"
    options = server_options(settings) | phones.certificate.ssl_options
    with serving(create_app(settings), **options):
        yield phones.address, phones.certificate.cert_file


def test_only_a_browser_that_trusts_the_made_certificate_opens_the_app(
    browser: Any, on_the_home_network: tuple[str, Path]
) -> None:
    address, cert_file = on_the_home_network
    assert address.startswith("https://127.0.0.1:")

    stranger = local_context(browser, origin=address)
    with pytest.raises(BrowserError, match="ERR_CERT_AUTHORITY_INVALID"):
        stranger.new_page().goto(f"{address}/login")
    stranger.close()

    pinned = f"--ignore-certificate-errors-spki-list={public_key_pin(cert_file)}"
    phone = browser.browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, pinned])
    try:
        context = local_context(phone, origin=address)
        page = context.new_page()
        answer = page.goto(f"{address}/login")
        assert answer is not None and answer.ok
        assert page.url == f"{address}/login"
        expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
        assert page.evaluate("window.isSecureContext")

        # A new account, signed in at once: every cookie is Secure, the session's HttpOnly.
        page.goto(f"{address}/register")
        page.get_by_label("Username").fill("hana")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.locator("#recovery-key")).to_be_visible()
        cookies = {cookie["name"]: cookie for cookie in context.cookies()}
        assert {"__Host-reconnect", "__Host-reconnect-csrf"} <= cookies.keys(), cookies
        assert all(cookie["secure"] for cookie in cookies.values()), cookies
        assert cookies["__Host-reconnect"]["httpOnly"]
        context.close()
    finally:
        phone.close()
