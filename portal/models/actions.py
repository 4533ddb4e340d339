"""Work done on a complaint: actions (containment, corrective, preventive), the 8D report,
customer-demand requests with their approvals, cost entries, and escalation reports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..tenancy import TenantScoped
from .base import Timestamped, UTCDateTime, utcnow


class Action(TenantScoped, Timestamped, db.Model):
    """A tracked piece of work with an owner, a due time, evidence and a verification."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(Text)
    # Evidence files: storage keys with their names and types.
    evidence: Mapped[list[dict]] = mapped_column(JSON, default=list)
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verification_note: Mapped[str | None] = mapped_column(Text)
    # Someone chose "the customer sees this" (a containment measure on the customer's page).
    customer_visible: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    owner = relationship("StaffUser", foreign_keys=[owner_id])


class EightDReport(TenantScoped, Timestamped, db.Model):
    __tablename__ = "eight_d_reports"
    __table_args__ = (UniqueConstraint("complaint_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"))
    requested_by_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_summary: Mapped[str | None] = mapped_column(Text)
    # The customer-facing PDF last sent to the customer's portal (a storage key), by whom, when.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    customer_pdf_key: Mapped[str | None] = mapped_column(String(300))

    sections: Mapped[list[EightDSection]] = relationship(
        order_by="EightDSection.discipline", cascade="all, delete-orphan"
    )
    members: Mapped[list[EightDMember]] = relationship(
        order_by="EightDMember.id", cascade="all, delete-orphan"
    )


class EightDSection(TenantScoped, db.Model):
    """One discipline (D1–D8): its text, structured ``content`` (D2 the 5W2H and is/is-not
    table, D4 the 5-Why chain, 5M1E entries, occurrence and escape points, D6 the validation
    and its result), evidence files, and whether the customer's 8D shows it."""

    __tablename__ = "eight_d_sections"
    __table_args__ = (UniqueConstraint("report_id", "discipline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("eight_d_reports.id", ondelete="CASCADE"))
    discipline: Mapped[int] = mapped_column(Integer)  # 1..8
    text: Mapped[str | None] = mapped_column(Text)
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    # Evidence files: storage keys with their names and types (as Action.evidence).
    evidence: Mapped[list[dict]] = mapped_column(JSON, default=list)
    customer_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    author = relationship("StaffUser")


class EightDMember(TenantScoped, db.Model):
    """D1: a staff member on the 8D team with their role (one leader), and their D8 sign-off."""

    __tablename__ = "eight_d_members"
    __table_args__ = (UniqueConstraint("report_id", "staff_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("eight_d_reports.id", ondelete="CASCADE"))
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))  # vocabulary.EIGHT_D_ROLES
    responsibility: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff = relationship("StaffUser")


class EffectivenessCheck(TenantScoped, db.Model):
    """Quality's verdict on the actions of a complaint, with its evidence files, and the
    recurrence check it schedules (a follow-up date with its own deadline clock) and its
    outcome. One row per verdict: a complaint sent back to analysis gets another."""

    __tablename__ = "effectiveness_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    effective: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list[dict]] = mapped_column(JSON, default=list)
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    follow_up_result: Mapped[str | None] = mapped_column(String(20))  # RECURRENCE_RESULTS
    follow_up_note: Mapped[str | None] = mapped_column(Text)
    follow_up_evidence: Mapped[list[dict]] = mapped_column(JSON, default=list)
    follow_up_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ServiceRequest(TenantScoped, Timestamped, db.Model):
    """A customer demand turned into work: goods to ship, a return to approve, a claim to pay."""

    __tablename__ = "service_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    # open -> (approval chain) approved / refused -> shipped / received / paid -> done
    status: Mapped[str] = mapped_column(String(20), default="open")
    quantity: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    note: Mapped[str | None] = mapped_column(Text)
    tracking_number: Mapped[str | None] = mapped_column(String(80))
    # vocabulary.CARRIERS; "other" with the name typed in carrier_name
    carrier: Mapped[str | None] = mapped_column(String(20))
    carrier_name: Mapped[str | None] = mapped_column(String(80))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Out of warranty when it was asked for: the customer pays (replacement, on-site service).
    chargeable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    approvals: Mapped[list[ApprovalStep]] = relationship(
        order_by="ApprovalStep.position", cascade="all, delete-orphan"
    )


class ApprovalStep(TenantScoped, db.Model):
    """One signature in a request's approval chain: the role asked, who decided, when."""

    __tablename__ = "approval_steps"
    __table_args__ = (UniqueConstraint("request_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str | None] = mapped_column(String(10))  # approved / refused
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class CostEntry(TenantScoped, db.Model):
    __tablename__ = "cost_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    category: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    responsible_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)
    # Spent on a chargeable (out-of-warranty) request: to be billed to the customer.
    chargeable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Corrected (replaced by another entry) or voided, with who, when and why: the row stays,
    # only "active" entries count in any total (COST_STATES in the vocabulary).
    state: Mapped[str] = mapped_column(String(10), default="active", server_default="active")
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("cost_entries.id", ondelete="SET NULL"))
    state_reason: Mapped[str | None] = mapped_column(Text)
    state_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    state_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EscalationReport(TenantScoped, Timestamped, db.Model):
    """A market quality exception report or a quality special report, with its evidence."""

    __tablename__ = "escalation_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(20))
    product_model_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_models.id", ondelete="SET NULL")
    )
    failure_mode_id: Mapped[int | None] = mapped_column(
        ForeignKey("failure_modes.id", ondelete="SET NULL")
    )
    lot: Mapped[str | None] = mapped_column(String(60))
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id", ondelete="SET NULL"))
    trigger: Mapped[str] = mapped_column(String(40))
    # The figures behind the decision: counts, quantities, ratio, window.
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    body: Mapped[str | None] = mapped_column(Text)


class EscalationReportEvent(TenantScoped, db.Model):
    """A report's history: opened (with the trigger's figures), owner set, edited, issued."""

    __tablename__ = "escalation_report_events"
    __table_args__ = (Index("ix_escalation_report_events_report", "report_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("escalation_reports.id", ondelete="CASCADE"))
    actor: Mapped[str | None] = mapped_column(String(40))  # "staff:3", "system"
    actor_name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
