"""Who is asking: the one place that says which address a request comes from."""

from __future__ import annotations

from flask import has_request_context, request


def client_ip() -> str:
    """The client's address, at most 64 characters ("unknown" outside a request).

    Behind a reverse proxy, ProxyFix (enabled with ``PROXY_HOPS``) has already replaced
    ``remote_addr`` with the address the trusted proxies saw; nothing here reads
    ``X-Forwarded-For`` itself, so a client cannot choose its own address by sending one.
    Used by sign-in throttling, filing limits, request-rate limits and session records."""
    if not has_request_context():
        return "unknown"
    return (request.remote_addr or "unknown")[:64]
