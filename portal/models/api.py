"""Access for other systems: API tokens (hash only, scoped, expiring, revocable) and the
responses remembered per token and ``Idempotency-Key`` so a retried POST is answered, not
repeated."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..tenancy import TenantScoped
from .accounts import StaffUser
from .base import UTCDateTime, utcnow

# What a token may do. ``admin`` implies every other scope.
API_SCOPES = ("read", "complaints:write", "catalogue:write", "admin")


class ApiToken(TenantScoped, db.Model):
    """A bearer token for the REST API. It acts as ``acting_user`` (whose roles the workflow
    checks) within its ``scopes``; only the SHA-256 of the secret is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret, shown in the list so people can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    acting_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    acting_user: Mapped[StaffUser] = relationship(foreign_keys=[acting_user_id])
    created_by: Mapped[StaffUser | None] = relationship(foreign_keys=[created_by_id])

    def allows(self, scope: str) -> bool:
        return "admin" in (self.scopes or ()) or scope in (self.scopes or ())

    def usable(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or utcnow())


class IdempotentResponse(TenantScoped, db.Model):
    """The response a token's POST with an ``Idempotency-Key`` got, replayed on a retry."""

    __tablename__ = "api_idempotent_responses"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    # What was asked (method, path, body digest): the same key for another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
