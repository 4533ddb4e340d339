"""Threading replies onto their complaint: every mail the product sends about a complaint
carries a signed token, in its Message-ID (``<cl.<token>.<random>@<domain>>``, which the
reply's In-Reply-To and References repeat) and, when the tenant has a connected mailbox, in
its Reply-To by plus-addressing (``intake+<token>@example.com``).

The token is ``c<complaint id>x<16 hex>`` where the hex is an HMAC-SHA256 (key derived from
SECRET_KEY) over the tenant and complaint ids: lower-case letters and digits only, so mail
servers that fold the local part's case keep it intact, and it cannot be guessed or moved to
another complaint or tenant.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Mailbox

TOKEN = re.compile(r"c(\d{1,12})x([0-9a-f]{16})", re.IGNORECASE)


def _mac(tenant_id: int, complaint_id: int) -> str:
    key = hashlib.sha256(b"closeloop-mail-thread:" + current_app.config["SECRET_KEY"].encode())
    return hmac.new(key.digest(), f"{tenant_id}:{complaint_id}".encode(),
                    hashlib.sha256).hexdigest()[:16]


def token_for(complaint) -> str:
    return f"c{complaint.id}x{_mac(complaint.tenant_id, complaint.id)}"


def complaint_id_from(text: str | None, tenant_id: int) -> int | None:
    """The complaint id of the first valid token in ``text`` for this tenant, else None."""
    for match in TOKEN.finditer(text or ""):
        complaint_id = int(match.group(1))
        if hmac.compare_digest(match.group(2).lower(), _mac(tenant_id, complaint_id)):
            return complaint_id
    return None


def plus_address(address: str, token: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local.split('+', 1)[0]}+{token}@{domain}"


def reply_headers(complaint) -> dict:
    """Message-ID (and Reply-To when a mailbox is connected) for a mail about ``complaint``."""
    token = token_for(complaint)
    mailbox = db.session.scalar(select(Mailbox).where(Mailbox.enabled.is_(True))
                                .order_by(Mailbox.id).limit(1))
    domain = mailbox.address.partition("@")[2] if mailbox else "closeloop.local"
    headers = {"Message-ID": f"<cl.{token}.{secrets.token_hex(6)}@{domain}>"}
    if mailbox is not None:
        headers["Reply-To"] = plus_address(mailbox.address, token)
    return headers
