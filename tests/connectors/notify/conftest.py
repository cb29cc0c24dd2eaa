"""Real servers on 127.0.0.1 for delivery tests: an SMTP server (aiosmtpd)
with STARTTLS or implicit TLS and AUTH, and the webhook receiver of ``webhook.py``."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.connectors.notify.webhook import WebhookReceiver

USER, PASSWORD = "alerts", "s3cret-smtp-pw"


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert file doubles as the CA file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@dataclass
class Mailbox:
    """What the SMTP server accepted."""

    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    delay: float = 0.0  # seconds to stall each transaction before the data (kill tests)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if self.delay:
            time.sleep(self.delay)  # blocks the server's loop: one transaction at a time
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


def _authenticator(mailbox: Mailbox):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
              and auth_data.password == PASSWORD.encode())
        if ok:
            mailbox.logins.append(USER)
        return AuthResult(success=ok)
    return check


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    def __init__(self, tls_files: tuple[Path, Path], mode: str, port: int | None = None) -> None:
        cert, key = tls_files
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.mailbox = Mailbox()
        self.port = port or free_port()
        kwargs = dict(hostname="127.0.0.1", port=self.port, authenticator=_authenticator(self.mailbox),
                      auth_require_tls=True, auth_exclude_mechanism=["CRAM-MD5"])
        if mode == "ssl":
            kwargs["ssl_context"] = context
            kwargs["server_hostname"] = "127.0.0.1"
            # aiosmtpd counts only STARTTLS as TLS for AUTH; here the whole connection is TLS.
            kwargs["auth_require_tls"] = False
        else:
            kwargs.update(tls_context=context, require_starttls=True)
        self.controller = Controller(self.mailbox, **kwargs)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_server(tls_files) -> Iterator[SmtpServer]:
    with SmtpServer(tls_files, "starttls") as server:
        yield server


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver
