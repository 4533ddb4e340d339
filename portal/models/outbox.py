"""The outbox: jobs written in the same transaction as the data they need, relayed to RQ."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class OutboxMessage(db.Model):
    """Not TenantScoped on purpose: the relay reads every tenant's pending work. Jobs receive
    the tenant id as an argument and activate it themselves."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_pending", "relayed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(20), default="default")
    job: Mapped[str] = mapped_column(String(120))  # dotted path, e.g. jobs.photos.process_photo
    args: Mapped[list] = mapped_column(JSON, default=list)
    # Stable RQ job id: relaying the same message twice enqueues one job.
    job_id: Mapped[str] = mapped_column(String(80), unique=True)
    run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    relayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The request (or job) that queued it, so the job's log lines carry the same id.
    request_id: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
