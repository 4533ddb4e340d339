"""The IMAP side: a TLS connection to a tenant's mailbox (imap-tools), after the host was
checked against the same address policy as webhooks (a tenant may not make the server
connect into its own network unless the operator allows it: ``WEBHOOK_ALLOW_PRIVATE``). The
connection goes to the address that was checked (TLS verifies the host name), so a DNS answer
changed in between (rebinding) changes nothing."""

from __future__ import annotations

import imaplib
import socket
import ssl

from flask import current_app
from imap_tools import MailBox

from ..secretbox import decrypt
from ..webhooks.net import RefusedAddress, check_url

TIMEOUT_SECONDS = 30


def ssl_context() -> ssl.SSLContext:
    """Certificates verified, against the system's CAs or ``MAIL_INTAKE_CA_FILE``."""
    return ssl.create_default_context(cafile=current_app.config.get("MAIL_INTAKE_CA_FILE"))


def check_host(host: str, port: int) -> list[str]:
    """The addresses to connect to; RefusedAddress when the policy refuses the host."""
    if not host or any(c in host for c in "/@?#[] "):
        raise RefusedAddress("invalid host")
    return check_url(f"https://{host}:{int(port)}/")[2]


class _PinnedIMAP4SSL(imaplib.IMAP4_SSL):
    """IMAP over TLS to a checked address, verifying the certificate for the host name."""

    def __init__(self, host: str, address: str, port: int, context: ssl.SSLContext):
        self._address = address
        super().__init__(host, port, ssl_context=context, timeout=TIMEOUT_SECONDS)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self._address, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class _PinnedMailBox(MailBox):
    def __init__(self, host: str, address: str, port: int):
        self._address = address
        super().__init__(host, port, timeout=TIMEOUT_SECONDS, ssl_context=ssl_context())

    def _get_mailbox_client(self) -> imaplib.IMAP4:
        return _PinnedIMAP4SSL(self._host, self._address, self._port, self._ssl_context)


def open_box(host: str, port: int, username: str, password: str, folder: str) -> MailBox:
    """A logged-in MailBox (use it as a context manager). Raises on refusal or failure."""
    addresses = check_host(host, port)
    box = _PinnedMailBox(host, addresses[0], port)
    try:
        return box.login(username, password, initial_folder=folder)
    except BaseException:
        try:
            box.client.shutdown()  # a refused login leaves the TLS socket open otherwise
        except OSError:
            pass
        raise


def open_mailbox(mailbox) -> MailBox:
    return open_box(mailbox.host, mailbox.port, mailbox.username,
                    decrypt(mailbox.password_encrypted), mailbox.folder)


def try_login(host: str, port: int, username: str, password: str, folder: str) -> str | None:
    """None when the login works, else a short reason (for the admin's form)."""
    try:
        with open_box(host, port, username, password, folder):
            return None
    except RefusedAddress as exc:
        return str(exc)
    except ssl.SSLError as exc:
        return f"TLS: {exc.reason or exc}"
    except Exception as exc:  # noqa: BLE001 — imaplib's errors, DNS, refused, timeouts
        return f"{type(exc).__name__}: {exc}"[:300]
