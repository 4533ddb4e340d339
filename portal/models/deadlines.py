"""Deadline clocks on complaints and actions, and a tenant's calendar exceptions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..tenancy import TenantScoped
from .base import UTCDateTime, utcnow


class DeadlineClock(TenantScoped, db.Model):
    """One promise with a due time: started by an event, stopped by another, paused while
    the complaint waits on the customer; warned, breached and escalated at most once each."""

    __tablename__ = "deadline_clocks"
    __table_args__ = (
        UniqueConstraint("complaint_id", "kind", "action_id"),
        Index("ix_deadline_clocks_open", "stopped_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_reports.id", ondelete="CASCADE")
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


class CalendarException(TenantScoped, db.Model):
    """A tenant's own exception to its calendar: a factory shutdown, an extra working day."""

    __tablename__ = "calendar_exceptions"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200))
