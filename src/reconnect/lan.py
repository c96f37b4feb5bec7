"""``reconnect serve --lan``: the app on the local network, over HTTPS, for two phones.

The computer's local address is found without sending anything: connecting a UDP
socket only asks the system which route, and so which address, it would use. The
certificate is self-signed, made here with ``cryptography`` and kept in
``<data folder>/tls`` (the folder 0700, the files 0600, like the database). It names
that address, 127.0.0.1 and localhost, and is used again on every start until the
address changes or its end date is near; then a new one is made, and the start says so.

A phone's browser cannot know a self-signed certificate, so it warns the first time.
The start prints the certificate's SHA-256 fingerprint, as browsers show it, so the
person can check that the phone is talking to this computer before going on.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import segno
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from reconnect.database import private_folder, refuse_shared
from reconnect.settings import Settings

__all__ = [
    "Certificate",
    "OnLan",
    "ensure_certificate",
    "lan_address",
    "listen_host",
    "on_lan",
    "terminal_qr",
]

# Within the 398 days browsers allow any server certificate; made again this many
# days before its end, so a start never serves one that is about to run out.
VALID_DAYS = 397
RENEW_DAYS = 30
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 # nosec B104 - what --lan is for: the phones on the network
WILDCARDS = {EVERY_ADDRESS, "::", ""}
LOOPBACK = "127.0.0.1"
# Addresses in private ranges that nothing answers: connecting a UDP socket to one
# sends no packet, it only picks the route (and so this computer's address) to it.
ROUTE_PROBES = ("10.254.254.254", "192.168.254.254")


def lan_address() -> str | None:
    """This computer's address on the local network, or None when it has none."""

    for probe in ROUTE_PROBES:
        with suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.connect((probe, 9))
            found = ipaddress.ip_address(udp.getsockname()[0])
            if not (found.is_loopback or found.is_unspecified):
                return str(found)
    return None


# --- the certificate -------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """The certificate and key files, the fingerprint to check, and what was done."""

    cert_file: Path
    key_file: Path
    fingerprint: str  # SHA-256, colon-separated hex pairs, as browsers show it
    new: bool
    note: str  # one sentence for the start: made, made again (and why), or used again

    @property
    def ssl_options(self) -> dict[str, Any]:
        return {"ssl_certfile": str(self.cert_file), "ssl_keyfile": str(self.key_file)}


def ensure_certificate(data_dir: Path, address: str, *, now: datetime | None = None) -> Certificate:
    """The certificate for ``address`` kept in ``data_dir``/tls: the one there when it
    still names ``address`` and is not near its end, otherwise a new one.

    Raises NotPrivate (like the database) when others may read the folder or the key.
    """

    now = now or datetime.now(UTC)
    folder = data_dir / "tls"
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    private_folder(data_dir)
    private_folder(folder)
    refuse_shared(data_dir)
    refuse_shared(folder, key_file)
    problem = _why_not_reuse(cert_file, key_file, address, now)
    if problem is None:
        certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
        made_on = certificate.not_valid_before_utc.date().isoformat()
        note = f"Using the certificate made on {made_on} for {address} (kept in {folder})."
        return Certificate(cert_file, key_file, fingerprint(certificate), False, note)
    certificate = _make(cert_file, key_file, address, now)
    if problem:
        note = (
            f"Made a new certificate for {address} ({problem}); each phone's browser "
            "will warn once more, with the new fingerprint below."
        )
    else:
        note = f"Made a certificate for {address} (kept in {folder})."
    return Certificate(cert_file, key_file, fingerprint(certificate), True, note)


def fingerprint(certificate: x509.Certificate) -> str:
    """The SHA-256 fingerprint as browsers show it: ``AB:CD:...``."""
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def _why_not_reuse(cert_file: Path, key_file: Path, address: str, now: datetime) -> str | None:
    """Why the kept certificate will not do ("" when there is none yet), or None if it will."""

    if not (cert_file.exists() and key_file.exists()):
        return ""
    try:
        certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (ValueError, TypeError, x509.ExtensionNotFound):
        return "the old one could not be read"
    if _public(key.public_key()) != _public(certificate.public_key()):
        return "the old one did not match its key"
    if ipaddress.ip_address(address) not in san.value.get_values_for_type(x509.IPAddress):
        return f"the old one did not name {address}: this computer's address has changed"
    if certificate.not_valid_after_utc - now < timedelta(days=RENEW_DAYS):
        return "the old one was near its end date"
    return None


def _public(key: Any) -> bytes:
    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _make(cert_file: Path, key_file: Path, address: str, now: datetime) -> x509.Certificate:
    """A new key and a self-signed certificate for ``address``, written privately."""

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Reconnect"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Reconnect at {address}"),
        ]
    )
    addresses = dict.fromkeys([ipaddress.ip_address(address), ipaddress.ip_address(LOOPBACK)])
    names: list[x509.GeneralName] = [x509.IPAddress(ip) for ip in addresses]
    names.append(x509.DNSName("localhost"))
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        # An hour's grace for a phone whose clock is a little behind.
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    # The key first: a start stopped in between leaves a pair that does not match,
    # which the next start notices and makes again.
    _write_private(
        key_file,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    _write_private(cert_file, certificate.public_bytes(serialization.Encoding.PEM))
    return certificate


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` as a whole, readable by its owner only (0600)."""

    partial = path.with_name(f"{path.name}.partial")
    with suppress(FileNotFoundError):
        partial.unlink()
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


# --- serving on the local network --------------------------------------------------------


def listen_host(given: str | None) -> str:
    """Where ``serve --lan`` listens: every address, or the one given with --host."""

    if given is None:
        return EVERY_ADDRESS
    try:
        ipaddress.ip_address(given)
    except ValueError:
        raise click.UsageError(
            f"With --lan, --host takes an IP address of this computer (like 192.168.1.20), "
            f"not {given!r}; or leave --host out to listen on every address."
        ) from None
    return given


@dataclass(frozen=True)
class OnLan:
    """The address the phones open and the certificate the app serves it with."""

    address: str
    certificate: Certificate

    def announcement(self) -> str:
        """What the start prints after the address: the QR code and the fingerprint."""
        return "\n".join(
            [
                self.certificate.note,
                f"Open {self.address} on each phone (on the same Wi-Fi), or scan this code:",
                terminal_qr(self.address),
                "The certificate's SHA-256 fingerprint:",
                f"  {self.certificate.fingerprint}",
                "The first time a phone opens the address, its browser warns about the "
                "certificate: go on only if the SHA-256 fingerprint it shows (in the "
                "certificate's details) matches this one.",
            ]
        )


def on_lan(settings: Settings) -> OnLan:
    """The address to open on the phones, with its certificate made or used again.

    ``settings.host`` is ``listen_host``'s answer: every address (then the one found
    by ``lan_address`` is the one to open) or one IP address given with --host.
    """

    host = settings.host
    address = lan_address() if host in WILDCARDS else host
    if address is None:
        raise click.ClickException(
            "This computer has no local network address: connect it to the Wi-Fi (or a "
            "network cable) the phones use, then start again."
        )
    certificate = ensure_certificate(settings.data_dir, address)
    shown = f"[{address}]" if ":" in address else address
    return OnLan(f"https://{shown}:{settings.port}", certificate)


def terminal_qr(data: str) -> str:
    """``data`` as a QR code in text: two rows of modules to a line, in half blocks.

    Dark modules are drawn black on white with terminal colours, so the code reads the
    same on a light or a dark terminal; where colours are stripped (output to a file),
    the blocks are the dark modules.
    """

    rows = [list(row) for row in segno.make(data, error="m").matrix_iter(scale=1, border=4)]
    if len(rows) % 2:
        rows.append([0] * len(rows[0]))
    blocks = {(1, 1): "\u2588", (1, 0): "\u2580", (0, 1): "\u2584", (0, 0): " "}
    lines = []
    for top, bottom in zip(rows[::2], rows[1::2], strict=True):
        drawn = "".join(blocks[bool(a), bool(b)] for a, b in zip(top, bottom, strict=True))
        lines.append(click.style(drawn, fg="black", bg="bright_white"))
    return "\n".join(lines)
