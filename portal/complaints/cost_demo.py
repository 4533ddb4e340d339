"""Demo costs (called by portal/demo.py): a closed complaint with its costs as finance keeps
them — one entry corrected (digits swapped when typed) and a duplicate voided — so the cost
panel, the cost-transfer PDF and the analytics show both."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import Complaint, Department
from .costs import add_cost, correct_cost, void_cost


def seed(staff: dict) -> Complaint | None:
    """In the active tenant; flushes. ``staff`` maps role -> StaffUser."""
    complaint = db.session.scalar(select(Complaint).where(Complaint.status == "closed")
                                  .order_by(Complaint.id))
    if complaint is None:
        return None
    departments = {d.kind: d.id for d in db.session.scalars(select(Department))}
    finance = staff["finance"]
    responsible = complaint.responsible_department_id or departments.get("production")

    def add(category, amount, department, note):
        return add_cost(complaint, finance, category=category, amount=Decimal(amount),
                        department_id=department, note=note)

    add("onsite", "2400.00", departments.get("after_sales"), "两人两天现场服务 Two engineers, two days")
    add("freight", "860.00", departments.get("logistics"), "顺丰往返 Courier both ways")
    rework = add("rework", "1350.00", responsible, "主轴返修工时 Spindle rework hours")
    add("replacement", "6200.00", responsible, "更换主轴轴承组件 Bearing set replaced")
    duplicate = add("freight", "860.00", departments.get("logistics"), "顺丰往返 Courier both ways")
    correct_cost(complaint, rework, finance, reason="录入时数字颠倒，按工时单为 1530。 "
                 "Digits swapped when typed; the time sheet says 1530.",
                 category="rework", amount=Decimal("1530.00"), department_id=responsible,
                 note="主轴返修工时 Spindle rework hours")
    void_cost(complaint, duplicate, finance,
              reason="与第 2 条运费重复录入。 Entered twice, same as the freight in line 2.")
    db.session.flush()
    return complaint
