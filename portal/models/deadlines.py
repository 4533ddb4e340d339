"""Deadline clocks on complaints and actions, and a tenant's calendar exceptions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..tenancy import TenantScoped
from .base import UTCDateTime, utcnow

_RUNNING = "stopped_at IS NULL AND paused_at IS NULL"


class DeadlineClock(TenantScoped, db.Model):
    """One promise with a due time: started by an event, stopped by another, paused while
    the complaint waits on the customer; warned, breached and escalated at most once each."""

    __tablename__ = "deadline_clocks"
    __table_args__ = (
        UniqueConstraint("complaint_id", "kind", "action_id"),
        Index("ix_deadline_clocks_open", "stopped_at", "due_at"),
        # The sweep's three steps each read only the running clocks still owing that step.
        Index("ix_deadline_clocks_to_warn", "warn_at",
              postgresql_where=text(_RUNNING + " AND warned_at IS NULL"),
              sqlite_where=text(_RUNNING + " AND warned_at IS NULL")),
        Index("ix_deadline_clocks_to_breach", "due_at",
              postgresql_where=text(_RUNNING + " AND breached_at IS NULL"),
              sqlite_where=text(_RUNNING + " AND breached_at IS NULL")),
        Index("ix_deadline_clocks_to_escalate", "second_escalation_at",
              postgresql_where=text(_RUNNING + " AND second_escalated_at IS NULL"),
              sqlite_where=text(_RUNNING + " AND second_escalated_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_reports.id", ondelete="CASCADE")
    )
    # A returned part's step (portal/returns/clocks.py): one clock per return and step.
    return_id: Mapped[int | None] = mapped_column(
        ForeignKey("goods_returns.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    working_time: Mapped[bool] = mapped_column(Boolean, default=False)
    budget_minutes: Mapped[int] = mapped_column(Integer)
    customer_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    second_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Kept beside due_at so the sweep stays set-based SQL (working-time arithmetic is done
    # in Python when a clock starts or resumes, never per row in the sweep).
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    second_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_minutes: Mapped[float] = mapped_column(Float, default=0, server_default="0")
    # The event that stopped it (a transition name, "action_done", "closed", "issued").
    stop_reason: Mapped[str | None] = mapped_column(String(40))


class CalendarException(TenantScoped, db.Model):
    """A tenant's own exception to its calendar: a factory shutdown, an extra working day."""

    __tablename__ = "calendar_exceptions"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200))
