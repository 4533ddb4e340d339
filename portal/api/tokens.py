"""API tokens: issue (the secret is returned once, only its SHA-256 is kept), revoke, and
authenticate a request's bearer token as an actor the workflow understands.

A token acts as a staff user (``acting_user``): the workflow and the permission table check that
user's roles, and the token's scopes narrow what the API lets it try. Revoking, expiring or
deactivating the user stops the token at the next request (every request reads the row).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import API_SCOPES, ApiToken, StaffUser, utcnow

SECRET_PREFIX = "clk_"
# last_used_at is written at most this often per token: one cheap UPDATE, not one per call.
TOUCH_EVERY = timedelta(minutes=1)
MAX_LIFETIME = timedelta(days=366 * 2)

SCOPE_LABELS = {
    "read": _l("Read complaints, customers, catalogue and shipments"),
    "complaints:write": _l("File complaints, add photos and costs, move them along the workflow"),
    "catalogue:write": _l("Write customers, contacts, product models and shipments"),
    "admin": _l("Everything above, and administration"),
}
assert set(SCOPE_LABELS) == set(API_SCOPES)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def issue(*, name: str, scopes: list[str], acting_user: StaffUser, created_by,
          expires_at: datetime) -> tuple[ApiToken, str]:
    """Create a token in the active tenant; returns ``(row, secret)``. The secret is not
    stored and cannot be shown again. Raises ValueError for an unknown scope or an expiry
    in the past or beyond two years. Flushes, never commits."""
    unknown = set(scopes) - set(API_SCOPES)
    if unknown or not scopes:
        raise ValueError(f"unknown scopes {sorted(unknown)}" if unknown else "no scope")
    now = utcnow()
    if not now < expires_at <= now + MAX_LIFETIME:
        raise ValueError("expiry must be in the future and within two years")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name.strip()[:80], token_hash=digest(secret), prefix=secret[:10],
                     scopes=[s for s in API_SCOPES if s in scopes],
                     acting_user_id=acting_user.id,
                     created_by_id=getattr(created_by, "id", None), expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke(token: ApiToken) -> None:
    """Stop the token at once (the next request reads ``revoked_at``). Flushes."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def find(secret: str) -> tuple[ApiToken, StaffUser] | None:
    """The active tenant's token for this secret and its acting user, if it is usable (not
    revoked or expired, its user active). One statement."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    row = db.session.execute(
        select(ApiToken, StaffUser).join(StaffUser, StaffUser.id == ApiToken.acting_user_id)
        .where(ApiToken.token_hash == digest(secret))).first()
    if row is None:
        return None
    token, user = row
    if not token.usable() or not user.active:
        return None
    return token, user


def touch(token: ApiToken) -> bool:
    """Record the use, at most once per ``TOUCH_EVERY``: a conditional UPDATE that other
    processes racing on the same token cannot double. Returns whether it wrote."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return False
    result = db.session.execute(
        update(ApiToken).where(ApiToken.id == token.id,
                               (ApiToken.last_used_at.is_(None))
                               | (ApiToken.last_used_at < now - TOUCH_EVERY))
        .values(last_used_at=now).execution_options(synchronize_session=False))
    return bool(result.rowcount)


class ApiActor:
    """The acting staff user, as seen through a token: the same id and roles (so timeline,
    workflow and the permission table treat it as that user) and a name that says it came by API."""

    kind = "staff"
    is_staff = True

    def __init__(self, user: StaffUser, token: ApiToken):
        self.user = user
        self.token = token
        self.name = f"{user.name} (API: {token.name})"[:120]

    def __getattr__(self, name):
        return getattr(self.user, name)

    def get_id(self) -> str:
        return self.user.get_id()

    def has_role(self, *roles: str) -> bool:
        return self.user.has_role(*roles)
