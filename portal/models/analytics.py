"""The monthly quality meeting pack: one row per tenant and month, claimed once by the
scheduler (unique), then built and mailed by jobs/meeting_pack.py."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..tenancy import TenantScoped
from .base import UTCDateTime, utcnow


class MeetingPack(TenantScoped, db.Model):
    __tablename__ = "meeting_packs"
    __table_args__ = (UniqueConstraint("tenant_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the month the pack covers
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    build_seconds: Mapped[float | None] = mapped_column(Float)
    # {"zh_CN": "t/<id>/meeting-packs/2026-11-zh_CN.pdf", ...}
    files: Mapped[dict] = mapped_column(JSON, default=dict)
    mailed_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _indexes() -> None:
    """Indexes the analytics read (declared here so the aggregates' owners stay in one place):
    a period's complaints with every column the figures group by (index-only scans), closed
    complaints by model and failure mode (recurrences) and by closing time, the reopen and
    dispute events, cost entries and answered surveys by time."""
    from sqlalchemy import Index, text

    from .actions import CostEntry
    from .complaint import Complaint, TimelineEvent
    from .surveys import Survey

    Index("ix_complaints_analytics", Complaint.tenant_id, Complaint.created_at,
          postgresql_include=["status", "product_model_id", "failure_mode_id", "cause_category",
                              "customer_company_id", "responsible_department_id",
                              "defect_quantity", "source"])
    Index("ix_complaints_recurrence", Complaint.tenant_id, Complaint.product_model_id,
          Complaint.failure_mode_id, Complaint.closed_at,
          postgresql_where=text("closed_at IS NOT NULL"))
    Index("ix_complaints_closed", Complaint.tenant_id, Complaint.closed_at,
          postgresql_where=text("closed_at IS NOT NULL"))
    Index("ix_timeline_events_loop", TimelineEvent.complaint_id, TimelineEvent.kind,
          postgresql_where=text("kind IN ('transition.reopen', 'transition.dispute')"))
    Index("ix_cost_entries_created", CostEntry.tenant_id, CostEntry.created_at)
    Index("ix_surveys_answered", Survey.tenant_id, Survey.answered_at,
          postgresql_where=text("answered_at IS NOT NULL"))


_indexes()
