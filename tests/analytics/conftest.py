"""Seeded history for the analytics tests: two tenants with complaints over a year, shipments,
clocks, actions, costs, surveys and timeline events, written row by row through the ORM. The
seed keeps a plain Python record of what it wrote, so each figure can be checked against a
count made here, not by the SQL under test."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from portal.models import (
    Action,
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
from portal.tenancy import activate

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTHS = [(2025, m) for m in range(12, 13)] + [(2026, m) for m in range(1, 12)]
STATUSES = ["received", "verifying", "analysis", "corrective_action", "answered", "closed",
            "closed", "closed", "rejected"]
CAUSES = ["man", "machine", "material", "method", None]


@dataclass
class Seeded:
    tenant: object
    departments: list = field(default_factory=list)
    products: list = field(default_factory=list)  # the last one has no shipments
    modes: list = field(default_factory=list)
    companies: list = field(default_factory=list)
    complaints: list = field(default_factory=list)  # dicts, what was written
    shipments: list = field(default_factory=list)
    clocks: list = field(default_factory=list)
    costs: list = field(default_factory=list)
    surveys: list = field(default_factory=list)
    events: list = field(default_factory=list)
    actions: list = field(default_factory=list)


def local(year, month, day, hour=10, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def seed_history(db, tenant, rng: random.Random, count: int = 150) -> Seeded:
    out = Seeded(tenant)
    with activate(tenant):
        out.departments = [Department(name=f"{n} {tenant.id}", kind=k) for n, k in
                           (("Quality", "quality"), ("Production", "production"),
                            ("Purchasing", "purchasing"))]
        out.products = [ProductModel(code=f"P{i}-{tenant.id}", name_zh=f"型号{i}",
                                     name_en=f"Model {i}", product_line="L1" if i < 2 else "L2")
                        for i in range(3)]
        out.modes = [FailureMode(code=f"fm{i}", name_zh=f"失效{i}", name_en=f"Mode {i}")
                     for i in range(3)]
        out.companies = [CustomerCompany(name=f"Buyer {i} {tenant.id}") for i in range(2)]
        db.session.add_all(out.departments + out.products + out.modes + out.companies)
        db.session.flush()
        for p in out.products[:2]:
            for y, m in MONTHS:
                quantity = rng.choice([0, 800, 1000, 1500]) if (y, m) != (2026, 6) else 0
                if quantity:
                    row = Shipment(product_model_id=p.id, lot=f"{y}{m:02d}", quantity=quantity,
                                   shipped_on=date(y, m, rng.randint(1, 28)),
                                   customer_company_id=rng.choice(out.companies).id)
                    db.session.add(row)
                    out.shipments.append({"product": p.id, "month": f"{y}-{m:02d}",
                                          "quantity": quantity,
                                          "customer": row.customer_company_id})
        for k in range(count):
            y, m = rng.choice(MONTHS)
            created = local(y, m, rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59))
            _complaint(db, out, rng, k, created)
        # Month edges in Shanghai: 23:30 on 31 March is March there (15:30 UTC), 00:30 on
        # 1 April is April there (16:30 UTC on 31 March).
        _complaint(db, out, rng, count, local(2026, 3, 31, 23, 30), status="analysis")
        _complaint(db, out, rng, count + 1, local(2026, 4, 1, 0, 30), status="analysis")
        db.session.flush()
    return out


def _complaint(db, out: Seeded, rng, k: int, created: datetime, status: str | None = None):
    status = status or rng.choice(STATUSES)
    product = rng.choice(out.products + [None])
    mode = rng.choice(out.modes + [None])
    dept = rng.choice(out.departments + [None])
    company = rng.choice(out.companies)
    closed_at = created + timedelta(days=rng.randint(1, 40)) if status == "closed" else None
    answered_at = created + timedelta(days=1) if status in ("answered", "closed") else None
    c = Complaint(number=f"QC-T-{k:05d}", source=rng.choice(["customer", "customer", "production"]),
                  reporter_name="R", title=f"Complaint {k}", description="d",
                  product_model_id=product.id if product else None,
                  failure_mode_id=mode.id if mode else None,
                  responsible_department_id=dept.id if dept else None,
                  customer_company_id=company.id, cause_category=rng.choice(CAUSES),
                  defect_quantity=rng.randint(1, 6), status=status,
                  info_class=rng.choice(["A", "B"]), created_at=created, status_changed_at=created,
                  closed_at=closed_at, answered_at=answered_at)
    db.session.add(c)
    db.session.flush()
    record = {"id": c.id, "number": c.number, "created": created, "status": status, "product": c.product_model_id,
              "mode": c.failure_mode_id, "dept": c.responsible_department_id,
              "company": company.id, "cause": c.cause_category, "defects": c.defect_quantity,
              "source": c.source, "closed_at": closed_at, "answered_at": answered_at,
              "info_class": c.info_class,
              "line": product.product_line if product else None}
    out.complaints.append(record)
    _clocks(db, out, rng, c, record)
    _extras(db, out, rng, c, record)


def _clocks(db, out, rng, c, record):
    for kind in ("first_contact", "answer"):
        due = record["created"] + timedelta(hours=24 if kind == "first_contact" else 48)
        stopped = record["created"] + timedelta(hours=rng.choice([2, 20, 30, 60])) \
            if rng.random() < 0.8 else None
        db.session.add(DeadlineClock(complaint_id=c.id, kind=kind, budget_minutes=1440,
                                     started_at=record["created"], due_at=due,
                                     stopped_at=stopped))
        out.clocks.append({"complaint": record, "kind": kind, "due": due, "stopped": stopped,
                           "started": record["created"]})


def _extras(db, out, rng, c, record):
    if rng.random() < 0.4:
        amount = Decimal(rng.randint(100, 5000))
        category = rng.choice(["freight", "rework", "scrap"])
        when = record["created"] + timedelta(hours=5)
        db.session.add(CostEntry(complaint_id=c.id, category=category, amount=amount,
                                 responsible_department_id=record["dept"], created_at=when))
        out.costs.append({"complaint": record, "amount": amount, "category": category,
                          "dept": record["dept"], "created": when})
    if record["status"] == "closed" and rng.random() < 0.3:
        when = record["closed_at"] + timedelta(days=1)
        db.session.add(TimelineEvent(complaint_id=c.id, actor_name="x", kind="transition.reopen",
                                     created_at=when))
        out.events.append({"complaint": record, "kind": "reopen"})
    if record["answered_at"] and rng.random() < 0.25:
        db.session.add(TimelineEvent(complaint_id=c.id, actor_name="x",
                                     kind="transition.dispute", created_at=record["answered_at"]))
        out.events.append({"complaint": record, "kind": "dispute"})
    if record["status"] == "closed" and rng.random() < 0.5:
        total = Decimal(rng.randint(30, 100))
        answered = record["closed_at"] + timedelta(days=2)
        modules = {"overall": str(total), "service": str(total - 5), "quality": str(total + 2)}
        action = None
        if total < 60:
            action = Action(complaint_id=c.id, kind="follow_up", title=f"Follow up {c.number}")
            db.session.add(action)
            db.session.flush()
        db.session.add(Survey(token_hash=f"h{c.id}-{rng.random()}", complaint_id=c.id,
                              answered_at=answered, expires_at=answered + timedelta(days=30),
                              total_score=total,
                              answers={"modules": modules,
                                       **({"follow_up_action_id": action.id} if action else {})}))
        out.surveys.append({"complaint": record, "total": total, "answered": answered,
                            "modules": modules})
    if rng.random() < 0.3:
        due = record["created"] + timedelta(days=10)
        done = due + timedelta(days=rng.choice([-3, 2])) if rng.random() < 0.6 else None
        db.session.add(Action(complaint_id=c.id, kind="corrective", title="Fix", due_at=due,
                              done_at=done))
        out.actions.append({"complaint": record, "due": due, "done": done})


@pytest.fixture
def history(db, make_tenant):
    """Two tenants with different histories: ``a`` is looked at, ``b`` must never show."""
    a = make_tenant(timezone="Asia/Shanghai")
    b = make_tenant(timezone="Asia/Shanghai")
    seeded_a = seed_history(db, a, random.Random(13))
    seed_history(db, b, random.Random(99), count=80)
    return seeded_a
