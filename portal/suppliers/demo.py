"""Demo data for suppliers (called by portal/demo.py): three suppliers with contacts,
warranty terms, chargeable requests and a year of deliveries (demo_warranty.py), one
request waiting for its supplier and one answered, accepted, with replacement parts
delivered and a cost charged back."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Complaint, Supplier, SupplierContact
from . import demo_warranty
from . import requests as scars

SUPPLIERS = [
    ("SP-01", "精密主轴有限公司 Precision Spindle Co.", "zh_CN", ["CL-3000"],
     ["SPN-6K-01", "SPN-6K-02"], ("张工 Zhang Gong", "zhang@spindle.example.com")),
    ("LS-07", "光源激光器件厂 Lumen Laser Parts", "zh_CN", ["CL-1200"],
     ["LSR-1200-H", "LENS-D30"], ("周经理 Zhou", "zhou@lumen.example.com")),
    ("HY-12", "Hydra Valves GmbH", "en", ["HB-80"], ["HV-80-PV"],
     ("Anna Keller", "a.keller@hydra.example.com")),
]


def seed(tenant, staff: dict) -> None:
    """In the active tenant; flushes. ``staff`` maps role -> StaffUser."""
    suppliers = []
    for code, name, locale, products, parts, (person, email) in SUPPLIERS:
        supplier = Supplier(code=code, name=name, locale=locale, product_codes=products,
                            part_numbers=parts)
        db.session.add(supplier)
        db.session.flush()
        db.session.add(SupplierContact(supplier_id=supplier.id, name=person, email=email))
        suppliers.append(supplier)
    db.session.flush()
    demo_warranty.seed(staff)  # warranty terms, chargeable requests, a year of deliveries
    complaints = db.session.scalars(select(Complaint).where(
        Complaint.status.in_(("analysis", "corrective_action", "containment")))
        .order_by(Complaint.id).limit(2)).all()
    if len(complaints) < 2:
        return
    quality = staff["quality"]
    with current_app.test_request_context():  # the e-mailed link needs a URL
        scars.open_request(
            tenant, complaints[0], quality, supplier_id=suppliers[0].id, contact_id=None,
            part_number="SPN-6K-01", defect="主轴轴承缺润滑脂，运行约 50 小时后卡死。"
            " Spindle bearing without grease, seized after about 50 hours.",
            defective_quantity=2, replacement_quantity=2, asks=["replacement", "eight_d"])
        answered = scars.open_request(
            tenant, complaints[1], quality, supplier_id=suppliers[1].id, contact_id=None,
            part_number="LSR-1200-H", defect="激光器输出功率衰减至额定值 70%。"
            " Laser output dropped to 70 % of rating.",
            defective_quantity=1, replacement_quantity=1, asks=["replacement", "credit"])
    scars.submit_answer(
        answered, name="周经理 Zhou",
        containment="在库 120 台全部复测功率，隔离 4 台。All 120 in stock re-tested, 4 held.",
        root_cause="泵浦源批次老化筛选时间不足。Pump diodes of one lot were burnt in too briefly.",
        corrective_action="老化筛选由 24 小时延长到 72 小时，4 月起执行。Burn-in from 24 h to 72 h.")
    scars.decide(tenant, answered, quality, accept=True, reason=None)
    scars.record_delivery(answered, quality, 1)
    scars.charge_back(answered, quality, category="replacement", amount=Decimal("18600.00"),
                      note="激光器更换 Laser replaced")
