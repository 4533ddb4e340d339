"""Sending a webhook without letting a tenant make the server probe its own network.

The address is checked when the admin subscribes and again at every send: the host is
resolved, every address it resolves to must be public (not private, loopback, link-local,
multicast, reserved or unspecified, IPv4-mapped and 6to4 forms included), and the request is
then made to the very address that was checked (TLS still verifies the host name), so a DNS
answer that changes between the check and the connection (rebinding) changes nothing.
Redirects are not followed; connect and read have timeouts; at most 64 KiB of the answer is
read. The operator may allow private networks (``WEBHOOK_ALLOW_PRIVATE``).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from flask import current_app

from ..i18n import lazy_gettext as _l

MAX_RESPONSE_BYTES = 64 * 1024


class RefusedAddress(Exception):
    """The URL may not be called; ``message`` says why (for people)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class Result:
    status: int | None
    duration_ms: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _allowed_networks():
    raw = (current_app.config.get("WEBHOOK_ALLOW_PRIVATE") or "").strip()
    if raw.lower() in {"1", "true", "yes", "on"}:
        return "all"
    networks = []
    for part in raw.split(","):
        if part.strip():
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
    return networks


def _embedded_v4(ip):
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
    return None


def address_allowed(ip) -> bool:
    """Whether a send to ``ip`` is allowed by the policy above."""
    ip = ipaddress.ip_address(ip)
    allowed = _allowed_networks()
    if allowed == "all":
        return True
    if any(ip.version == net.version and ip in net for net in allowed):
        return True
    inner = _embedded_v4(ip)
    if inner is not None and not address_allowed(inner):
        return False
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> tuple[str, int, list[str]]:
    """``(host, port, addresses)`` for a URL that may be called; raises RefusedAddress."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedAddress(_l("This is not a valid address.")) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedAddress(_l("Use an address starting with https:// (or http://)."))
    if parts.username or parts.password:
        raise RefusedAddress(_l("Put no user name or password in the address; the signature "
                                "proves the sender."))
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedAddress(_l("The host name could not be resolved.")) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses or not all(address_allowed(a) for a in addresses):
        raise RefusedAddress(_l("The address leads to a private, loopback, link-local or "
                                "reserved network, which webhooks may not call."))
    return host, port, addresses


def post(url: str, body: bytes, headers: dict[str, str]) -> Result:
    """POST ``body`` to ``url`` after checking it; never raises for network trouble."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        host, port, addresses = check_url(url)
    except RefusedAddress as exc:
        return Result(None, elapsed(), f"refused: {exc}")
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if parts.scheme == "https" else 80
    host_header = host if port == default_port else f"{host}:{port}"
    if ":" in host and port == default_port:
        host_header = f"[{host}]"
    elif ":" in host:
        host_header = f"[{host}]:{port}"
    seconds = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS") or 10)
    timeout = urllib3.Timeout(connect=min(seconds, 5.0), read=seconds)
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(addresses[0], port, timeout=timeout, maxsize=1,
                                           retries=False, cert_reqs="CERT_REQUIRED",
                                           server_hostname=host, assert_hostname=host)
    else:
        pool = urllib3.HTTPConnectionPool(addresses[0], port, timeout=timeout, maxsize=1,
                                          retries=False)
    try:
        response = pool.urlopen("POST", target, body=body,
                                headers={**headers, "Host": host_header},
                                redirect=False, retries=False, preload_content=False)
        try:
            response.read(MAX_RESPONSE_BYTES)
        finally:
            response.release_conn()
        status = response.status
        error = None
        if 300 <= status < 400:
            error = "redirect not followed"
        elif not 200 <= status < 300:
            error = f"HTTP {status}"
        return Result(status, elapsed(), error)
    except urllib3.exceptions.HTTPError as exc:
        return Result(None, elapsed(), f"{type(exc).__name__}: {exc}"[:500])
    finally:
        pool.close()
