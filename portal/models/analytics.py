"""The monthly quality meeting pack: one row per tenant and month, claimed once by the
scheduler (unique), then built and mailed by jobs/meeting_pack.py."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, Index, Integer, String, UniqueConstraint
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


class AnalyticsMonth(TenantScoped, db.Model):
    """The complaints rollup: per tenant, local month, source and one grouping at a time
    (``dimension``: 5M1E cause, failure mode, product model, customer, responsible department,
    or ``all``) with its ``key`` (the cause code or the row's id as text, '' for none), the
    complaints received that month (not rejected) with their defective units, and the
    complaints closed that month. One row per value of one dimension, not per combination:
    the full cross product of the keys barely compresses (241,832 rows for 200,000
    complaints on the benchmark's seed), these rows do (about 300 a month). Kept current by
    the flush hook in portal/analytics/rollup.py; rebuilt whole by ``rollup.rebuild``."""

    __tablename__ = "analytics_monthly"
    __table_args__ = (
        Index("uq_analytics_monthly_key", "tenant_id", "month", "source", "dimension", "key",
              unique=True, postgresql_include=["received", "defects", "closed"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # first day of the local month
    source: Mapped[str] = mapped_column(String(20), default="")
    dimension: Mapped[str] = mapped_column(String(12))
    key: Mapped[str] = mapped_column(String(40), default="")
    received: Mapped[int] = mapped_column(Integer, default=0)
    defects: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)


class AnalyticsLoopMonth(TenantScoped, db.Model):
    """The loop figures per tenant, local month and source, refreshed whole by a job
    (portal/analytics/loop_rollup.py; every 15 minutes from ``flask clock``): deadline clocks
    (``figure`` clock: kind, department, hours bucket of the stopped ones, met/late/running as
    of ``computed_at``), reopen and dispute counts (rates), recurrences by model and failure
    mode and by department, survey scores by module (sat: count and sum). Clock outcomes
    change with time itself (a running clock turns late with no write), so they cannot be kept
    by the writes; the page says how old they are."""

    __tablename__ = "analytics_loop_monthly"
    __table_args__ = (
        Index("ix_analytics_loop_monthly_read", "tenant_id", "figure", "month",
              postgresql_include=["source", "key1", "key2", "bucket", "n1", "n2", "n3", "n4",
                                  "x", "computed_at"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    month: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20), default="")
    figure: Mapped[str] = mapped_column(String(12))
    key1: Mapped[str] = mapped_column(String(40), default="")
    key2: Mapped[str] = mapped_column(String(40), default="")
    bucket: Mapped[int] = mapped_column(Integer, default=-1)
    n1: Mapped[int] = mapped_column(Integer, default=0)
    n2: Mapped[int] = mapped_column(Integer, default=0)
    n3: Mapped[int] = mapped_column(Integer, default=0)
    n4: Mapped[int] = mapped_column(Integer, default=0)
    x: Mapped[float] = mapped_column(Float, default=0.0)


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
    # the lowest scores first (the dashboard lists the 50 lowest of a period)
    Index("ix_surveys_low", Survey.tenant_id, Survey.total_score, Survey.id,
          postgresql_where=text("answered_at IS NOT NULL AND total_score IS NOT NULL"))


_indexes()
