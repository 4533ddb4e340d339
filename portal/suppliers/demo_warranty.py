"""Demo data for warranty and supplier deliveries (called by suppliers/demo.py): warranty
terms from shipment or installation, an old lot some complaints' units came in (their
warranty expired before they were reported), installation dates, chargeable requests and
a cost on them, and a year of deliveries from every supplier."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from ..complaints import costs, requests
from ..complaints.permissions import may
from ..extensions import db
from ..models import (
    Complaint,
    ProductModel,
    SerialNumber,
    Shipment,
    Supplier,
    SupplierDelivery,
)
from . import warranty

# code -> (months, counted from)
TERMS = {"CL-3000": (12, "shipment"), "CL-1200": (12, "shipment"), "PX-45": (18, "shipment"),
         "VT-200": (24, "installation"), "HB-80": (12, "shipment")}
REQUEST_STATES = ("accepted", "containment", "analysis", "corrective_action",
                  "verifying_effectiveness", "answered")


def seed(staff: dict) -> None:
    """In the active tenant, after the complaints are in place; flushes."""
    rng = random.Random(12)
    products = {p.code: p for p in db.session.scalars(select(ProductModel))}
    for code, (months, basis) in TERMS.items():
        if code in products:
            products[code].warranty_months, products[code].warranty_basis = months, basis
    _installations(rng)
    _old_units(products)
    warranty.refresh_where()
    _requests(staff)
    _deliveries(rng)
    db.session.flush()


def _installations(rng) -> None:
    """Installed products (VT-200): the newer lots installed a week or two after shipping;
    the oldest lot's installation was never reported (its warranty stays unknown)."""
    lots = db.session.scalars(select(Shipment).join(ProductModel)
                              .where(ProductModel.code == "VT-200")
                              .order_by(Shipment.shipped_on.desc())).all()
    for shipment in lots[:-1]:
        shipment.installed_on = shipment.shipped_on + timedelta(days=rng.randint(7, 15))


def _old_units(products: dict) -> None:
    """A lot shipped some 15 months ago per model with a term: every sixth complaint's unit
    came in it, so it was out of warranty when reported."""
    today, old = date.today(), {}
    for code in ("CL-3000", "CL-1200", "HB-80"):
        product = products.get(code)
        if product is None:
            continue
        prefix, shipped = code.split("-")[0], today - timedelta(days=460)
        old[product.id] = Shipment(product_model_id=product.id, lot=f"{shipped:%Y%m}-90",
                                   quantity=150, shipped_on=shipped,
                                   serial_first=f"{prefix}900000", serial_last=f"{prefix}900149")
        db.session.add(old[product.id])
    db.session.flush()
    complaints = db.session.scalars(select(Complaint).where(
        Complaint.product_model_id.in_(old)).order_by(Complaint.id)).all()
    for n, complaint in enumerate(complaints):
        if n % 2:
            continue
        shipment = old[complaint.product_model_id]
        complaint.shipped_on = shipment.shipped_on
        for serial in db.session.scalars(select(SerialNumber).where(
                SerialNumber.complaint_id == complaint.id)):
            serial.value = f"{shipment.serial_first[:-6]}9{int(serial.value[-3:]) % 150:05d}"
            serial.shipment_id = shipment.id


def _requests(staff: dict) -> None:
    """Out-of-warranty complaints get a chargeable replacement or on-site service (and the
    cost of one), a few in-warranty ones a free replacement."""
    actor = staff["after_sales"]
    free = 0
    for complaint in db.session.scalars(select(Complaint).where(
            Complaint.status.in_(REQUEST_STATES)).order_by(Complaint.id)):
        if not may(actor, "request", complaint):
            continue
        if complaint.warranty_status == "expired":
            kind = "onsite" if complaint.id % 2 else "replacement"
            requests.create_request(complaint, actor, kind=kind, quantity=1,
                                    note="保修期外，按有偿服务处理 Out of warranty: charged")
            costs.add_cost(complaint, staff["finance"], category=kind,
                           amount=Decimal("3200.00") if kind == "onsite" else Decimal("8600.00"),
                           note="有偿服务报价 Quoted to the customer")
        elif complaint.warranty_status == "in_warranty" and free < 3:
            requests.create_request(complaint, actor, kind="replacement", quantity=1,
                                    note="保修期内免费更换 Free replacement in warranty")
            free += 1


def _deliveries(rng) -> None:
    """Every supplier delivers each item it supplies every month of the past year, and
    early this month."""
    today = date.today()
    for supplier in db.session.scalars(select(Supplier)):
        for item in (supplier.part_numbers or []) + (supplier.product_codes or []):
            for back in range(12, -1, -1):
                month = (today.replace(day=1) - timedelta(days=30 * back)).replace(day=1)
                day = month + timedelta(days=rng.randint(0, 25) if back else 0)
                if day > today:
                    continue
                db.session.add(SupplierDelivery(
                    supplier_id=supplier.id, item_code=item, received_on=day,
                    delivery_note=f"DN-{day:%Y%m%d}-{rng.randint(1, 99):02d}",
                    quantity=rng.choice((200, 300, 500, 800, 1200))))
