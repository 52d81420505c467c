"""A local SMTP server (aiosmtpd) on a free port for the e-mail notification tests, optionally with
STARTTLS (a throwaway self-signed certificate for 127.0.0.1) and a required login."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers.process import free_port, need_binary


@dataclass
class Mailbox:
    """What the server received: one entry per accepted message, with its envelope recipients."""

    host: str
    port: int
    cafile: Path | None = None
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    def client_tls_context(self) -> ssl.SSLContext:
        assert self.cafile is not None, "this server has no STARTTLS"
        return ssl.create_default_context(cafile=str(self.cafile))


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802 - aiosmtpd
                          rcpt_options: list[str]) -> str:
        if address in self.box.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.box.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    openssl = need_binary("openssl", "openssl")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),  # noqa: S603
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


@contextmanager
def smtp_server(*, starttls: bool = False, login: tuple[str, str] | None = None) -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1; with ``login`` it refuses mail until the client authenticates."""
    box = Mailbox("127.0.0.1", free_port())
    kwargs: dict[str, Any] = {}
    tmp = Path(tempfile.mkdtemp(prefix="netmgr-smtp-"))
    if starttls:
        cert, key = _self_signed(tmp)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert), str(key))
        kwargs.update(tls_context=context, require_starttls=True)
        box.cafile = cert
    if login is not None:
        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == login
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=starttls)
    controller = Controller(_Handler(box), hostname=box.host, port=box.port, **kwargs)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
        shutil.rmtree(tmp, ignore_errors=True)
