"""The IMAP side: a TLS connection to a tenant's mailbox (imap-tools), after the host was
checked against the same address policy as webhooks (a tenant may not make the server
connect into its own network unless the operator allows it: ``WEBHOOK_ALLOW_PRIVATE``)."""

from __future__ import annotations

import ssl

from flask import current_app
from imap_tools import MailBox

from ..secretbox import decrypt
from ..webhooks.net import RefusedAddress, check_url

TIMEOUT_SECONDS = 30


def ssl_context() -> ssl.SSLContext:
    """Certificates verified, against the system's CAs or ``MAIL_INTAKE_CA_FILE``."""
    return ssl.create_default_context(cafile=current_app.config.get("MAIL_INTAKE_CA_FILE"))


def check_host(host: str, port: int) -> None:
    """Raise RefusedAddress when ``host`` resolves to an address the policy refuses."""
    if not host or any(c in host for c in "/@?#[] "):
        raise RefusedAddress("invalid host")
    check_url(f"https://{host}:{int(port)}/")


def open_box(host: str, port: int, username: str, password: str, folder: str) -> MailBox:
    """A logged-in MailBox (use it as a context manager). Raises on refusal or failure."""
    check_host(host, port)
    box = MailBox(host, port, timeout=TIMEOUT_SECONDS, ssl_context=ssl_context())
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
