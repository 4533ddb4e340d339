"""The product catalogue: models, shipments (the denominator of defect ratios), failure modes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..tenancy import TenantScoped
from .base import Timestamped


class ProductModel(TenantScoped, Timestamped, db.Model):
    __tablename__ = "product_models"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    specification: Mapped[str | None] = mapped_column(String(300))
    product_line: Mapped[str | None] = mapped_column(String(120))
    # A regular expression serial numbers of this model follow; empty means the tenant's default.
    serial_pattern: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The warranty term in months, None when the tenant has not said (status unknown),
    # counted from the shipment or, for installed products, from the installation date.
    warranty_months: Mapped[int | None] = mapped_column(Integer)
    warranty_basis: Mapped[str] = mapped_column(String(12), default="shipment",
                                                server_default="shipment")

    def display_name(self, locale: str) -> str:
        return self.name_en if str(locale).startswith("en") else self.name_zh


class Shipment(TenantScoped, Timestamped, db.Model):
    """A delivery of one product model: lot, quantity, date, customer, serial numbers."""

    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("tenant_id", "product_model_id", "lot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_model_id: Mapped[int] = mapped_column(
        ForeignKey("product_models.id", ondelete="CASCADE"), index=True
    )
    customer_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_companies.id", ondelete="SET NULL"), index=True
    )
    lot: Mapped[str] = mapped_column(String(60))
    quantity: Mapped[int] = mapped_column(Integer)
    shipped_on: Mapped[date] = mapped_column(Date, index=True)
    # Serial numbers: a contiguous range (same prefix, numeric tail) and/or an explicit list.
    serial_first: Mapped[str | None] = mapped_column(String(60))
    serial_last: Mapped[str | None] = mapped_column(String(60))
    serials: Mapped[list[str] | None] = mapped_column(JSON)
    # Where the tenant records installation: the day the whole delivery was installed (a
    # serial on a complaint may carry its own date).
    installed_on: Mapped[date | None] = mapped_column(Date)

    product_model: Mapped[ProductModel] = relationship()


class FailureMode(TenantScoped, db.Model):
    """A tenant's list of failure modes; quality extends it."""

    __tablename__ = "failure_modes"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    # Sparking, burning and the like escalate at once (DOMAIN.md, escalation rules).
    severe: Mapped[bool] = mapped_column(Boolean, default=False)

    def display_name(self, locale: str) -> str:
        return self.name_en if str(locale).startswith("en") else self.name_zh
