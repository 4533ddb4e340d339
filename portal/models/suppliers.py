"""Suppliers of purchased parts, their contacts, and supplier corrective action requests
(SCARs): what was asked of a supplier about a complaint, their answer, quality's decision,
replacement parts delivered and costs charged back."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..tenancy import TenantScoped
from .base import Timestamped, UTCDateTime, utcnow

SUPPLIER_ASKS = ("replacement", "eight_d", "credit")
SUPPLIER_REQUEST_STATES = ("sent", "answered", "accepted", "rejected", "closed")


class Supplier(TenantScoped, Timestamped, db.Model):
    __tablename__ = "suppliers"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(40))
    # What they supply: product model codes and/or part numbers.
    product_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    part_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    contacts: Mapped[list[SupplierContact]] = relationship(
        back_populates="supplier", order_by="SupplierContact.name")


class SupplierDelivery(TenantScoped, Timestamped, db.Model):
    """What a supplier delivered: a quantity of one part number or product model on a day,
    under a delivery note (empty when none): the denominator of its defect rate."""

    __tablename__ = "supplier_deliveries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "supplier_id", "item_code", "received_on",
                         "delivery_note", name="uq_supplier_deliveries_key"),
        Index("ix_supplier_deliveries_received", "tenant_id", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"),
                                             index=True)
    item_code: Mapped[str] = mapped_column(String(60))
    received_on: Mapped[date] = mapped_column(Date)
    delivery_note: Mapped[str] = mapped_column(String(60), default="", server_default="")
    quantity: Mapped[int] = mapped_column(Integer)


class SupplierContact(TenantScoped, db.Model):
    __tablename__ = "supplier_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"),
                                             index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    supplier: Mapped[Supplier] = relationship(back_populates="contacts")


class SupplierRequest(TenantScoped, Timestamped, db.Model):
    """A supplier corrective action request, opened against a complaint."""

    __tablename__ = "supplier_requests"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30))
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"),
                                              index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="RESTRICT"),
                                             index=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplier_contacts.id", ondelete="SET NULL"))
    part_number: Mapped[str] = mapped_column(String(60))
    defect: Mapped[str] = mapped_column(Text)
    defective_quantity: Mapped[int] = mapped_column(Integer)
    replacement_quantity: Mapped[int] = mapped_column(Integer, default=0)
    replacement_delivered: Mapped[int] = mapped_column(Integer, default=0)
    asks: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(12), default="sent")
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The supplier's answer (either language).
    containment: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)
    corrective_action: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(120))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Quality's decision on the answer.
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # The one-time link: only its hash is kept; re-sending replaces it, revoking clears it.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    token_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    token_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    supplier: Mapped[Supplier] = relationship()
    contact = relationship("SupplierContact")
    complaint = relationship("Complaint")
    evidence: Mapped[list[SupplierEvidence]] = relationship(
        back_populates="request", order_by="SupplierEvidence.id")
    charges: Mapped[list[SupplierCharge]] = relationship(
        back_populates="request", order_by="SupplierCharge.id")


class SupplierEvidence(TenantScoped, db.Model):
    __tablename__ = "supplier_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("supplier_requests.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(60))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[SupplierRequest] = relationship(back_populates="evidence")


class SupplierCharge(TenantScoped, db.Model):
    """A complaint cost entry charged back to a supplier through a request."""

    __tablename__ = "supplier_charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("supplier_requests.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id", ondelete="CASCADE"),
                                             index=True)
    cost_entry_id: Mapped[int] = mapped_column(
        ForeignKey("cost_entries.id", ondelete="CASCADE"), unique=True)

    request: Mapped[SupplierRequest] = relationship(back_populates="charges")
    cost_entry = relationship("CostEntry")
