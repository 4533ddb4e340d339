"""Fixtures for the staff workspace: a tenant with staff of every role, a catalogue, and
helpers to post a complaint page's forms the way the browser does (CSRF and version)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from portal.models import ROLES, Department, FailureMode, Shipment
from portal.tenancy import activate
from tests.conftest import PASSWORD, csrf_from


@dataclass
class Shop:
    tenant: object
    staff: dict
    product: object
    departments: dict
    mode: object
    contact: object
    extra: dict = field(default_factory=dict)
    # Plain ids, usable after the objects above expire (requests commit).
    staff_ids: dict = field(default_factory=dict)
    dept_ids: dict = field(default_factory=dict)
    mode_id: int = 0
    product_id: int = 0
    slug: str = ""


@pytest.fixture
def shop(db, make_tenant, make_staff, make_product, make_contact):
    from datetime import date

    tenant = make_tenant()
    with activate(tenant):
        departments = {}
        for kind in ("after_sales", "quality", "engineering", "purchasing", "equipment",
                     "production", "logistics", "finance", "management"):
            departments[kind] = Department(name=f"{kind} dept", kind=kind)
            db.session.add(departments[kind])
        db.session.flush()
    home = {"after_sales": "after_sales", "quality": "quality", "technical": "engineering",
            "responder": "production", "logistics": "logistics", "finance": "finance",
            "manager": "management", "admin": "management"}
    staff = {role: make_staff(tenant, role, name=f"{role} person",
                              department=departments[home[role]]) for role in ROLES}
    product = make_product(tenant, code="CL-3000")
    contact = make_contact(tenant)
    with activate(tenant):
        db.session.add(Shipment(product_model_id=product.id, lot="2026-01", quantity=200,
                                shipped_on=date(2026, 1, 10), serial_first="CL001000",
                                serial_last="CL001199"))
        mode = FailureMode(code="noise", name_zh="异响", name_en="Abnormal noise")
        db.session.add(mode)
        db.session.flush()
    with activate(tenant):
        return Shop(tenant, staff, product, departments, mode, contact,
                    staff_ids={r: u.id for r, u in staff.items()},
                    dept_ids={k: d.id for k, d in departments.items()},
                    mode_id=mode.id, product_id=product.id, slug=tenant.slug)


class Staff:
    """A signed-in staff client posting forms like the browser (CSRF + version from the page)."""

    def __init__(self, client, tenant):
        self.client = client
        self.tenant = tenant

    def url(self, path: str) -> str:
        return f"/t/{self.tenant.slug}/staff{path}"

    def get(self, path: str, **kw):
        return self.client.get(self.url(path), **kw)

    def post(self, path: str, data: dict | None = None, page: str | None = None, **kw):
        html = self.get(page or "/").get_data(as_text=True)
        payload = {"csrf_token": csrf_from(html)}
        version = re.search(r'name="version" value="(\d+)"', html)
        if version:
            payload["version"] = version.group(1)
        payload.update(data or {})
        return self.client.post(self.url(path), data=payload, **kw)


@pytest.fixture
def as_role(app, shop, sign_in):
    """``as_role("quality")`` → a Staff client signed in as that role's user."""
    clients = {}

    def get(role: str) -> Staff:
        if role not in clients:
            client = app.test_client()
            with activate(shop.tenant):
                email = shop.staff[role].email
            response = sign_in(client, shop.tenant, email, PASSWORD)
            assert response.status_code == 303, response.get_data(as_text=True)[:500]
            clients[role] = Staff(client, shop.tenant)
        return clients[role]

    return get


def advance(db, shop, complaint, target: str) -> None:
    """Walk ``complaint`` through the real operations up to ``target`` (test set-up)."""
    from datetime import timedelta

    from portal.complaints import casework, workflow
    from portal.complaints.operations import classify
    from portal.models import utcnow

    staff = shop.staff
    steps = ["verifying", "accepted", "containment", "analysis", "corrective_action",
             "verifying_effectiveness"]
    with activate(shop.tenant):
        for step in steps[:steps.index(target) + 1]:
            if step == "verifying":
                workflow.transition(complaint, staff["after_sales"], "start_verification")
            elif step == "accepted":
                workflow.transition(complaint, staff["quality"], "accept")
            elif step == "containment":
                classify(complaint, staff["quality"], severity="general", info_class="B",
                         cause_category="machine", owner_id=staff["quality"].id)
                workflow.transition(complaint, staff["quality"], "start_containment")
            elif step == "analysis":
                casework.add_action(complaint, staff["after_sales"], kind="containment",
                                    title="Spare part", owner_id=staff["after_sales"].id,
                                    due_at=utcnow() + timedelta(days=1))
                workflow.transition(complaint, staff["quality"], "start_analysis")
            elif step == "corrective_action":
                complaint.root_cause = "Loose bearing"
                casework.add_action(complaint, staff["quality"], kind="corrective",
                                    title="Torque", owner_id=staff["responder"].id,
                                    due_at=utcnow() + timedelta(days=3))
                workflow.transition(complaint, staff["quality"], "start_corrective_action")
            elif step == "verifying_effectiveness":
                from sqlalchemy import select

                from portal.models import Action

                for action in db.session.scalars(select(Action).where(Action.kind == "corrective")):
                    action.done_at = utcnow()
                workflow.transition(complaint, staff["responder"], "submit_for_verification")
        db.session.flush()
