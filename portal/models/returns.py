"""A returned or exchanged part as a record (RMA): what was asked back and received,
logistics' receipt into quarantine, after-sales' first analysis, quality's appraisal with its
verdict and the part's origin, and the good parts issued against it. Each step keeps who
signed it and when; the operations are portal/returns/."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..complaints.vocabulary import RETURN_STATES
from ..extensions import db
from ..tenancy import TenantScoped
from .base import Timestamped, UTCDateTime

__all__ = ["RETURN_STATES", "GoodsReturn"]


def _signer():
    return mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))


class GoodsReturn(TenantScoped, Timestamped, db.Model):
    """One return or exchange request's goods, from the RMA number to the good parts issued."""

    __tablename__ = "goods_returns"
    __table_args__ = (UniqueConstraint("tenant_id", "rma_number"),
                      UniqueConstraint("request_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_number: Mapped[str] = mapped_column(String(30))
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"),
                                              index=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("service_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # return / exchange
    state: Mapped[str] = mapped_column(String(20), default="awaiting_goods")
    quantity_requested: Mapped[int] = mapped_column(Integer)
    # Logistics' receipt into the warehouse's quarantine area.
    quantity_received: Mapped[int | None] = mapped_column(Integer)
    received_on: Mapped[date | None] = mapped_column(Date)
    condition: Mapped[str | None] = mapped_column(String(20))
    warehouse_location: Mapped[str | None] = mapped_column(String(80))
    quarantine_tag: Mapped[str | None] = mapped_column(String(40))
    receipt_note: Mapped[str | None] = mapped_column(Text)
    received_by_id: Mapped[int | None] = _signer()
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After-sales' first analysis and grade (初步分析、分档).
    analysis: Mapped[str | None] = mapped_column(Text)
    grade: Mapped[str | None] = mapped_column(String(20))
    analysed_by_id: Mapped[int | None] = _signer()
    analysed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Quality's appraisal (售后服务三包材料退换鉴定单).
    verdict: Mapped[str | None] = mapped_column(String(20))
    appraisal: Mapped[str | None] = mapped_column(Text)
    defective_quantity: Mapped[int | None] = mapped_column(Integer)
    origin: Mapped[str | None] = mapped_column(String(12))
    supplier_id: Mapped[int | None] = mapped_column(
        ForeignKey("suppliers.id", ondelete="SET NULL"))
    part_number: Mapped[str | None] = mapped_column(String(60))
    scrapped_quantity: Mapped[int | None] = mapped_column(Integer)  # 料废 (purchased rejects)
    # Evidence photos of the appraisal: storage keys with their names and types.
    evidence: Mapped[list[dict]] = mapped_column(JSON, default=list)
    appraised_by_id: Mapped[int | None] = _signer()
    appraised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supplier_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("supplier_requests.id", ondelete="SET NULL"))
    # Good parts drawn from the warehouse against the appraisal.
    issued_quantity: Mapped[int | None] = mapped_column(Integer)
    issue_note: Mapped[str | None] = mapped_column(Text)
    issued_by_id: Mapped[int | None] = _signer()
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = _signer()
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request = relationship("ServiceRequest")
    supplier = relationship("Supplier")
    supplier_request = relationship("SupplierRequest")
