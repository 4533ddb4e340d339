"""A year of history for the demo tenant, so the analytics show something real: monthly
shipments per model, about sixty complaints a month (most closed, with their deadline clocks,
costs, surveys, a few reopened or disputed), one model whose defect ratio climbs for the last
months. Written with bulk ORM inserts (explicit tenant ids) in well under a second or two.
Called by portal/demo.py with the tenant active; demo data only."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from ..extensions import db
from ..models import (
    COST_CATEGORIES,
    Complaint,
    CostEntry,
    CustomerCompany,
    DeadlineClock,
    Department,
    FailureMode,
    ProductModel,
    Shipment,
    Survey,
    TimelineEvent,
)
from .period import add_months

CAUSES = ("man", "machine", "material", "method", "measurement", "environment", "other")
TITLES = ("主轴异响 Spindle noise", "激光器报警 Laser alarm", "液压站漏油 Hydraulic leak",
          "折弯角度超差 Bending angle off", "控制柜打火 Sparks in the cabinet",
          "随机附件缺失 Missing accessories")


def seed_history(tenant, rng: random.Random, months: int = 12, per_month: int = 60) -> dict:
    zone = ZoneInfo(tenant.timezone)
    today = datetime.now(zone).date()
    ref = {"products": db.session.scalars(select(ProductModel).order_by(ProductModel.id)).all(),
           "modes": db.session.scalars(select(FailureMode).order_by(FailureMode.id)).all(),
           "departments": db.session.scalars(select(Department).order_by(Department.id)).all(),
           "companies": db.session.scalars(select(CustomerCompany)).all()}
    first = add_months(today, -months)
    shipments = [{"tenant_id": tenant.id, "product_model_id": p.id, "lot": f"H{m:%Y%m}-{lot}",
                  "quantity": rng.choice([1500, 2000, 2500]), "shipped_on": m + timedelta(days=3 + 9 * lot),
                  "customer_company_id": rng.choice(ref["companies"]).id}
                 for p in ref["products"][:-1] for m in _months(first, months + 1)
                 for lot in range(3) if m + timedelta(days=3 + 9 * lot) <= today]
    db.session.execute(insert(Shipment), shipments)
    rows = []
    for index, month in enumerate(_months(first, months)):
        for k in range(per_month):
            created = datetime.combine(month + timedelta(days=rng.randint(0, 27)),
                                       time(rng.randint(8, 18), rng.randint(0, 59)), zone)
            rows.append(_complaint(tenant, ref, rng, created.astimezone(UTC), index, months,
                                   f"QC-{month.year}-H{index:02d}{k:03d}"))
    db.session.execute(insert(Complaint), rows)
    db.session.flush()
    created = {c.number: c for c in db.session.execute(
        select(Complaint.id, Complaint.number, Complaint.created_at, Complaint.closed_at,
               Complaint.answered_at, Complaint.responsible_department_id)
        .where(Complaint.number.like("QC-%-H%")))}
    _children(tenant, list(created.values()), rng)
    from . import loop_rollup, rollup

    rollup.rebuild(tenant.id)  # a Core insert passes the rollup's flush hook by
    loop_rollup.refresh(tenant.id, tenant.timezone)  # no-op on the demo's SQLite
    return {"shipments": len(shipments), "complaints": len(rows)}


def _months(first: date, count: int):
    return [add_months(first, m) for m in range(count)]


def _complaint(tenant, ref, rng, created: datetime, index: int, months: int, number: str):
    products, modes = ref["products"], ref["modes"]
    # The first model's noise climbs over the last four months (a warning on the chart).
    rising = index >= months - 4 and rng.random() < 0.15 * (index - months + 5)
    product = products[0] if rising else rng.choice(products)
    mode = modes[0] if rising else modes[min(int(rng.paretovariate(1.3)) - 1, len(modes) - 1)]
    status = rng.choices(["closed", "rejected", "analysis", "answered"], [85, 5, 6, 4])[0]
    answered = created + timedelta(hours=rng.randint(6, 96)) if status in ("closed", "answered") \
        else None
    closed = answered + timedelta(days=rng.randint(2, 20)) if status == "closed" else None
    company = rng.choice(ref["companies"])
    return {"tenant_id": tenant.id, "number": number, "source": rng.choices(
                ["customer", "production"], [9, 1])[0], "channel": "portal",
            "customer_company_id": company.id, "reporter_name": "客户联系人",
            "reporter_company": company.name, "product_model_id": product.id,
            "defect_quantity": rng.randint(1, 8 if rising else 4), "title": rng.choice(TITLES),
            "description": "历史投诉 Past complaint", "demands": ["answer"], "status": status,
            "status_changed_at": closed or answered or created,
            "severity": rng.choice(["minor", "general", "major"]),
            "info_class": "A" if rng.random() < 0.12 else "B",
            "cause_category": CAUSES[min(int(rng.paretovariate(1.4)) - 1, len(CAUSES) - 1)],
            "failure_mode_id": mode.id, "responsible_department_id": rng.choice(
                ref["departments"]).id, "answered_at": answered, "closed_at": closed,
            "created_at": created, "updated_at": closed or created, "version": 1}


def _children(tenant, complaints, rng) -> None:
    clocks, costs, surveys, events = [], [], [], []
    for c in complaints:
        for kind, hours in (("first_contact", 24), ("answer", 48)):
            stopped = c.created_at + timedelta(hours=rng.uniform(1, hours * 1.3))
            clocks.append({"tenant_id": tenant.id, "complaint_id": c.id, "kind": kind,
                           "budget_minutes": hours * 60, "started_at": c.created_at,
                           "due_at": c.created_at + timedelta(hours=hours),
                           "stopped_at": stopped if c.answered_at else None,
                           "customer_visible": True, "working_time": False})
        if rng.random() < 0.3:
            costs.append({"tenant_id": tenant.id, "complaint_id": c.id,
                          "category": rng.choice(COST_CATEGORIES),
                          "amount": Decimal(rng.randint(200, 12000)), "currency": "CNY",
                          "responsible_department_id": c.responsible_department_id,
                          "created_at": c.created_at + timedelta(days=2)})
        if c.closed_at and rng.random() < 0.25:
            total = rng.randint(40, 100)
            answered = c.closed_at + timedelta(days=1)
            surveys.append({"tenant_id": tenant.id, "token_hash": f"demo-history-{c.id}",
                            "complaint_id": c.id, "sent_at": answered, "answered_at": answered,
                            "expires_at": answered + timedelta(days=30), "total_score": total,
                            "answers": {"modules": {"overall": str(total),
                                                    "service": str(max(0, total - 5)),
                                                    "quality": str(min(100, total + 2))}}})
        if c.closed_at and rng.random() < 0.04:
            events.append({"tenant_id": tenant.id, "complaint_id": c.id, "actor": "system",
                           "actor_name": "系统", "kind": "transition.reopen", "data": {},
                           "created_at": c.closed_at + timedelta(days=3)})
        if c.answered_at and rng.random() < 0.06:
            events.append({"tenant_id": tenant.id, "complaint_id": c.id, "actor": "system",
                           "actor_name": "系统", "kind": "transition.dispute", "data": {},
                           "created_at": c.answered_at + timedelta(days=1)})
    for model, rows in ((DeadlineClock, clocks), (CostEntry, costs), (Survey, surveys),
                        (TimelineEvent, events)):
        if rows:
            db.session.execute(insert(model), rows)
