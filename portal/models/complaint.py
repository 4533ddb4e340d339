"""The complaint aggregate: the complaint, its serial numbers, photos, timeline; and problems."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..complaints.vocabulary import OPEN_STATUSES
from ..extensions import db
from ..tenancy import TenantScoped
from .base import Timestamped, UTCDateTime, utcnow


class Complaint(TenantScoped, Timestamped, db.Model):
    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "submission_key"),
        Index("ix_complaints_queue", "tenant_id", "status", "created_at"),
        # The queue's default view (open complaints, newest first) reads its 25 rows straight
        # off this index instead of sorting the tenant's open complaints (8.6 ms -> 0.2 ms at
        # 5,000 a tenant); its count is an index-only scan.
        Index("ix_complaints_open_newest", "tenant_id", text("created_at DESC"),
              text("id DESC"), postgresql_where=text(
                  f"status IN ({', '.join(repr(s) for s in OPEN_STATUSES)})")),
        Index("ix_complaints_owner", "tenant_id", "owner_id", "status"),
        Index("ix_complaints_company", "tenant_id", "customer_company_id", "created_at"),
        # The queue's warranty filter: its page off the index in date order, its count an
        # index-only scan (status and id included: 40 ms -> 9 ms for 10,000 matches).
        Index("ix_complaints_warranty", "tenant_id", "warranty_status", "created_at",
              postgresql_include=["status", "id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30))  # QC-2026-00001, per tenant
    # Idempotency key from the form: a double tap or a resend files one complaint.
    submission_key: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20), default="customer")
    channel: Mapped[str] = mapped_column(String(20), default="portal")

    # Who complains. A visitor without an account leaves name, company, e-mail and phone.
    customer_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_companies.id", ondelete="SET NULL")
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    reporter_name: Mapped[str] = mapped_column(String(120))
    reporter_company: Mapped[str | None] = mapped_column(String(200))
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    reporter_phone: Mapped[str | None] = mapped_column(String(40))
    # The language a visitor filed in: their e-mails are written in it (a contact has their own).
    reporter_locale: Mapped[str | None] = mapped_column(String(10))
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )

    # What is wrong, with what.
    product_model_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_models.id", ondelete="SET NULL"), index=True
    )
    specification: Mapped[str | None] = mapped_column(String(300))
    shipped_on: Mapped[date | None] = mapped_column(Date)
    lot: Mapped[str | None] = mapped_column(String(60))
    defect_quantity: Mapped[int] = mapped_column(Integer, default=1)
    quantity_received: Mapped[int | None] = mapped_column(Integer)
    quantity_used: Mapped[int | None] = mapped_column(Integer)
    found_at_place: Mapped[str | None] = mapped_column(String(200))
    found_on: Mapped[date | None] = mapped_column(Date)
    order_number: Mapped[str | None] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    demands: Mapped[list[str]] = mapped_column(JSON, default=list)
    claim_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    # Sparking, burning, or a hazard to people: escalates at once.
    severe_event: Mapped[bool] = mapped_column(Boolean, default=False)
    safety_hazard: Mapped[bool] = mapped_column(Boolean, default=False)

    # The workflow's state (portal/complaints/workflow.py is the only writer).
    status: Mapped[str] = mapped_column(String(30), default="received")
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Classification and routing.
    severity: Mapped[str | None] = mapped_column(String(10))
    info_class: Mapped[str | None] = mapped_column(String(1))
    cause_category: Mapped[str | None] = mapped_column(String(20))
    failure_mode_id: Mapped[int | None] = mapped_column(
        ForeignKey("failure_modes.id", ondelete="SET NULL")
    )
    responsible_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL")
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("problems.id", ondelete="SET NULL"), index=True
    )

    # Outcomes.
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)
    effectiveness_note: Mapped[str | None] = mapped_column(Text)
    effective: Mapped[bool | None] = mapped_column(Boolean)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    customer_verdict: Mapped[str | None] = mapped_column(String(10))  # accepted / disputed
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    eight_d_requested: Mapped[bool] = mapped_column(Boolean, default=False)

    # Warranty on the day the complaint came in (portal/suppliers/warranty.py keeps these
    # two in step with the serials, their shipments and the model's term): the queue's
    # filter reads them off an index, and out-of-warranty requests are chargeable.
    warranty_status: Mapped[str] = mapped_column(String(12), default="unknown",
                                                 server_default="unknown")
    warranty_ends_on: Mapped[date | None] = mapped_column(Date)

    # Optimistic locking: a stale edit raises StaleDataError instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    company = relationship("CustomerCompany")
    contact = relationship("Contact")
    product_model = relationship("ProductModel")
    failure_mode = relationship("FailureMode")
    responsible_department = relationship("Department")
    owner = relationship("StaffUser", foreign_keys=[owner_id])
    problem = relationship("Problem", back_populates="complaints")
    serial_numbers: Mapped[list[SerialNumber]] = relationship(
        back_populates="complaint", order_by="SerialNumber.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list[Photo]] = relationship(
        back_populates="complaint", order_by="Photo.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[TimelineEvent]] = relationship(
        back_populates="complaint", order_by="TimelineEvent.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Complaint {self.number} {self.status}>"


class SerialNumber(TenantScoped, db.Model):
    __tablename__ = "serial_numbers"
    __table_args__ = (
        UniqueConstraint("complaint_id", "value"),
        Index("ix_serial_numbers_value", "tenant_id", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(60))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id", ondelete="SET NULL"))
    # The customer confirmed a serial the catalogue places under another model or date.
    mismatch_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The day this unit was installed, set by staff (else the shipment's, if recorded).
    installed_on: Mapped[date | None] = mapped_column(Date)

    complaint: Mapped[Complaint] = relationship(back_populates="serial_numbers")
    shipment = relationship("Shipment")


PHOTO_STATES = ("staged", "stored", "rejected")


class Photo(TenantScoped, db.Model):
    """A photo: staged bytes on upload, processed by a job into JPEG + thumbnails on storage."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints.id", ondelete="CASCADE"), index=True
    )
    # The timeline entry it came with (an answer to a question, an on-site visit), if any.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("timeline_events.id", ondelete="SET NULL"))
    uploaded_by: Mapped[str] = mapped_column(String(40))  # "contact:9", "staff:3", "visitor"
    customer_visible: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(10), default="staged")
    original_filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(60))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    checksum_sha256: Mapped[str | None] = mapped_column(String(64))
    staging_key: Mapped[str | None] = mapped_column(String(300))
    original_key: Mapped[str | None] = mapped_column(String(300))
    large_key: Mapped[str | None] = mapped_column(String(300))
    thumb_key: Mapped[str | None] = mapped_column(String(300))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    rejection_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    complaint: Mapped[Complaint] = relationship(back_populates="photos")


class TimelineEvent(TenantScoped, db.Model):
    """One entry of a complaint's history: who did what, when, from what to what."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_events_complaint", "complaint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"))
    actor: Mapped[str | None] = mapped_column(String(40))  # "staff:3", "contact:9", "system"
    actor_name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    # A message meant for the reader (a question to the customer, a reason, an answer).
    message: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    # Both set by timeline.record from the one audience rule (portal/complaints/audience.py):
    # the entry is on the customer's timeline; its message is shown to the customer too.
    customer_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_text_visible: Mapped[bool] = mapped_column(Boolean, default=False,
                                                        server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="events")


class Problem(TenantScoped, Timestamped, db.Model):
    """A failure mechanism shared by complaints across customers, and its shared analysis."""

    __tablename__ = "problems"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    product_model_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_models.id", ondelete="SET NULL")
    )
    failure_mode_id: Mapped[int | None] = mapped_column(
        ForeignKey("failure_modes.id", ondelete="SET NULL")
    )
    analysis: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="open")

    complaints: Mapped[list[Complaint]] = relationship(back_populates="problem")
