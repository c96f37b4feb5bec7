"""``reconnect serve --lan``: the phones reach the app over HTTPS on the local network.

The certificate is made once, names the computer's local address and 127.0.0.1, is kept
private in the data folder and made again when the address changes or its end is near;
the start prints the address, a QR code of it and the certificate's fingerprint; without
--lan nothing listens beyond 127.0.0.1; and a real HTTPS round trip signs in with Secure
cookies on an IP address.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
import segno
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from reconnect import cli, lan, listen
from reconnect.app import create_app
from reconnect.cli import main
from reconnect.database import NotPrivate
from tests.conftest import PASSWORD, make_settings
from tests.ports import free_port, serving

HOME = "192.168.1.20"
POSIX = pytest.mark.skipif(os.name == "nt", reason="file modes are POSIX")


def read_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def names_in(certificate: x509.Certificate) -> tuple[set[str], set[str]]:
    """The IP addresses and DNS names in the certificate's subject alternative names."""
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return ips, set(san.get_values_for_type(x509.DNSName))


def browser_fingerprint(path: Path) -> str:
    """SHA-256 of the certificate, as browsers show it: colon-separated hex pairs."""
    return read_certificate(path).fingerprint(hashes.SHA256()).hex(":").upper()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the certificate ----------------------------------------------------------------


def test_the_certificate_names_the_local_address_and_this_computer(tmp_path):
    made = lan.ensure_certificate(tmp_path / "data", HOME)
    certificate = read_certificate(made.cert_file)
    ips, dns = names_in(certificate)
    assert {HOME, "127.0.0.1"} <= ips
    assert "localhost" in dns
    assert certificate.issuer == certificate.subject, "self-signed"
    assert certificate.not_valid_after_utc - datetime.now(UTC) > timedelta(days=300)
    assert made.fingerprint == browser_fingerprint(made.cert_file)
    assert made.new
    assert made.cert_file == tmp_path / "data" / "tls" / "cert.pem"
    assert made.key_file == tmp_path / "data" / "tls" / "key.pem"


@POSIX
def test_the_certificate_and_its_key_are_readable_by_their_owner_only(tmp_path):
    made = lan.ensure_certificate(tmp_path / "data", HOME)
    assert mode(made.cert_file.parent) == 0o700
    assert mode(made.cert_file) == 0o600
    assert mode(made.key_file) == 0o600


@POSIX
def test_a_key_others_can_read_is_refused(tmp_path):
    made = lan.ensure_certificate(tmp_path / "data", HOME)
    made.key_file.chmod(0o644)
    with pytest.raises(NotPrivate, match="chmod"):
        lan.ensure_certificate(tmp_path / "data", HOME)


def test_the_next_start_uses_the_same_certificate(tmp_path):
    first = lan.ensure_certificate(tmp_path / "data", HOME)
    again = lan.ensure_certificate(tmp_path / "data", HOME)
    assert not again.new
    assert again.fingerprint == first.fingerprint
    assert "Using the certificate" in again.note


def test_a_new_address_makes_a_new_certificate_and_says_so(tmp_path):
    first = lan.ensure_certificate(tmp_path / "data", HOME)
    moved = lan.ensure_certificate(tmp_path / "data", "192.168.1.31")
    assert moved.new
    assert moved.fingerprint != first.fingerprint
    assert "192.168.1.31" in moved.note and "new" in moved.note
    assert "192.168.1.31" in names_in(read_certificate(moved.cert_file))[0]


def test_a_certificate_near_its_end_is_made_again(tmp_path):
    first = lan.ensure_certificate(tmp_path / "data", HOME)
    later = datetime.now(UTC) + timedelta(days=lan.VALID_DAYS - lan.RENEW_DAYS + 1)
    renewed = lan.ensure_certificate(tmp_path / "data", HOME, now=later)
    assert renewed.new and renewed.fingerprint != first.fingerprint
    assert "end" in renewed.note


def test_a_damaged_certificate_is_made_again(tmp_path):
    first = lan.ensure_certificate(tmp_path / "data", HOME)
    first.cert_file.write_text("not a certificate")
    again = lan.ensure_certificate(tmp_path / "data", HOME)
    assert again.new and read_certificate(again.cert_file)


def test_the_local_address_is_found_without_sending_anything_or_not_at_all():
    found = lan.lan_address()
    if found is not None:
        address = ipaddress.ip_address(found)
        assert not address.is_loopback and not address.is_unspecified


# --- serve --lan ---------------------------------------------------------------------


@pytest.fixture
def started(monkeypatch) -> list[dict[str, Any]]:
    """What uvicorn.run was asked, instead of running it."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **options: calls.append(options))
    monkeypatch.setattr(cli, "listen_problem", lambda host, port: None)
    monkeypatch.setattr(lan, "lan_address", lambda: HOME)
    monkeypatch.delenv("RECONNECT_HOST", raising=False)
    monkeypatch.setenv("RECONNECT_PASSWORD_HASH_MEMORY_KIB", "256")
    return calls


def serve(tmp_path: Path, *args: str) -> Any:
    return CliRunner().invoke(
        main, ["serve", "--port", "8765", "--data-dir", str(tmp_path / "data"), *args]
    )


def test_serve_lan_listens_on_every_interface_over_https_and_prints_how_to_check(tmp_path, started):
    result = serve(tmp_path, "--lan")
    assert result.exit_code == 0, result.output
    [options] = started
    cert_file = tmp_path / "data" / "tls" / "cert.pem"
    assert options["host"] == "0.0.0.0"  # noqa: S104 - every address, the phones' too
    assert options["port"] == 8765
    assert options["ssl_certfile"] == str(cert_file)
    assert options["ssl_keyfile"] == str(tmp_path / "data" / "tls" / "key.pem")
    output = result.output
    assert f"https://{HOME}:8765" in output
    assert "http://" not in output
    assert "\u2588" in output or "\u2580" in output or "\u2584" in output, "a QR code"
    assert browser_fingerprint(cert_file) in output
    assert "matches" in output


def test_serve_lan_the_second_time_uses_the_same_certificate(tmp_path, started):
    serve(tmp_path, "--lan")
    result = serve(tmp_path, "--lan")
    assert result.exit_code == 0, result.output
    assert "Using the certificate" in result.output


def test_serve_lan_with_host_listens_there_and_the_certificate_names_it(tmp_path, started):
    result = serve(tmp_path, "--lan", "--host", "192.168.1.44")
    assert result.exit_code == 0, result.output
    assert started[0]["host"] == "192.168.1.44"
    assert "https://192.168.1.44:8765" in result.output
    assert "192.168.1.44" in names_in(read_certificate(tmp_path / "data" / "tls" / "cert.pem"))[0]


def test_serve_lan_with_a_host_name_is_one_line(tmp_path, started):
    result = serve(tmp_path, "--lan", "--host", "example.org")
    assert result.exit_code == 2
    assert "IP address" in result.output
    assert not started


def test_serve_lan_without_a_network_says_so_in_one_line(tmp_path, started, monkeypatch):
    monkeypatch.setattr(lan, "lan_address", lambda: None)
    result = serve(tmp_path, "--lan")
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 1, result.output
    assert "network" in result.output
    assert not started


def test_serve_without_lan_stays_on_this_computer_without_tls(tmp_path, started):
    result = serve(tmp_path)
    assert result.exit_code == 0, result.output
    [options] = started
    assert options["host"] == "127.0.0.1"
    assert "ssl_certfile" not in options and "ssl_keyfile" not in options
    assert "http://127.0.0.1:8765" in result.output
    assert not (tmp_path / "data" / "tls").exists()


# --- a real HTTPS round trip ----------------------------------------------------------


@pytest.fixture
def https_server(tmp_path) -> Iterator[tuple[str, Path]]:
    """The app served by uvicorn over TLS on a free loopback port, as serve --lan does."""
    settings = make_settings(tmp_path)
    made = lan.ensure_certificate(settings.data_dir, HOME)
    options = listen.server_options(settings) | made.ssl_options
    options.update(host="127.0.0.1", port=free_port())
    with serving(create_app(settings), **options) as port:
        yield f"https://127.0.0.1:{port}", made.cert_file


@pytest.mark.skipif(sys.platform == "win32", reason="uvicorn in a thread")
def test_a_phone_signs_in_over_https_with_secure_cookies(https_server):
    url, cert_file = https_server
    trusted = ssl.create_default_context(cafile=str(cert_file))
    headers = {"Sec-Fetch-Site": "same-origin"}
    with httpx.Client(base_url=url, verify=trusted, headers=headers, timeout=10) as phone:
        page = phone.get("/login")
        assert page.status_code == 200
        assert "__Host-reconnect-csrf=" in page.headers["set-cookie"]
        assert "Secure" in page.headers["set-cookie"]
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        form = {"csrf_token": token, "username": "hana", "password": PASSWORD}
        registered = phone.post("/register", data=form)
        assert registered.status_code == 200, registered.text
        session = [c for c in registered.headers.get_list("set-cookie") if "__Host-reconnect=" in c]
        assert session, registered.headers
        assert "Secure" in session[0] and "HttpOnly" in session[0]


def test_the_printed_qr_code_is_the_address_module_for_module():
    address = f"https://{HOME}:8000"
    printed = click.unstyle(lan.terminal_qr(address)).splitlines()
    halves = {" ": (0, 0), "\u2580": (1, 0), "\u2584": (0, 1), "\u2588": (1, 1)}
    rows: list[list[int]] = []
    for line in printed:
        pairs = [halves[char] for char in line]
        rows += [[top for top, _ in pairs], [bottom for _, bottom in pairs]]
    expected = [[int(bool(m)) for m in row] for row in segno.make(address, error="m").matrix_iter()]
    assert rows[: len(expected)] == expected
    assert not any(any(row) for row in rows[len(expected) :]), "only a light row added"
