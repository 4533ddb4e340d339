"""Platform operators' sign-in state: their server-side sessions and failed sign-ins.

Operators live outside every tenant, so their sessions cannot be ``LoginSession`` rows
(that table is ``TenantScoped``: every row belongs to one tenant and every query of it
is filtered to the active tenant). Making ``login_sessions.tenant_id`` nullable would
weaken that invariant for every tenant user and force ``unscoped()`` into each
operator request. Two small, unscoped tables keep both sides simple: the operator
area reads them without any tenant active, and tenant code never sees them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class OperatorSession(db.Model):
    """An operator's browser session. The cookie holds a token; this row its sha256."""

    __tablename__ = "operator_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("platform_operators.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class OperatorSignInFailure(db.Model):
    """Failed operator sign-ins, counted per e-mail and per address for throttling."""

    __tablename__ = "operator_sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    ip_address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
