"""Notifications: in-app messages and their deliveries over e-mail and group-chat robots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..tenancy import TenantScoped
from .base import UTCDateTime, utcnow


class Notification(TenantScoped, db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_recipient", "recipient", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(40))  # "staff:3", "contact:9"
    event: Mapped[str] = mapped_column(String(40))
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE")
    )
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    # Makes a repeated send (a sweep run twice) a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(TenantScoped, db.Model):
    """One send of a notification over one channel (email, wecom, dingtalk, feishu)."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending/sent/failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
