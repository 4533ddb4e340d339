"""Demo data: tenant ``demo`` with staff of every role, customers, a catalogue with
shipments and 40 complaints in every state (walked through the real workflow, so their
timelines are real), and a second tenant ``acme``. Used only by ``flask demo``."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from .accounts import hash_password
from .complaints import casework, workflow
from .complaints import requests as service_requests
from .complaints.operations import classify, submit_complaint
from .extensions import db
from .models import (
    Action,
    ApiToken,
    Complaint,
    Contact,
    CustomerCompany,
    Department,
    FailureMode,
    ProductModel,
    Shipment,
    StaffUser,
    Tenant,
    TimelineEvent,
    utcnow,
)
from .tenancy import activate, unscoped

DEMO_PASSWORD = "demo-pass-2026"
# The demo's API token (tenant demo, acting as quality): printed by `flask demo`, demo only.
DEMO_API_TOKEN = "clk_demo-erp-mes-token-2026"

# Role -> (e-mail local part, name, department kind)
DEMO_STAFF = {
    "after_sales": ("after-sales", "王芳 Wang Fang", "after_sales"),
    "quality": ("quality", "李强 Li Qiang", "quality"),
    "technical": ("technical", "张伟 Zhang Wei", "technical"),
    "responder": ("responder", "刘洋 Liu Yang", "production"),
    "logistics": ("logistics", "陈静 Chen Jing", "logistics"),
    "finance": ("finance", "杨敏 Yang Min", "finance"),
    "manager": ("manager", "赵磊 Zhao Lei", "management"),
    "admin": ("admin", "孙丽 Sun Li", "management"),
}

DEPARTMENTS = [
    ("售后服务部 After-sales", "after_sales"), ("质量部 Quality", "quality"),
    ("技术部 Technical", "technical"), ("生产部 Production", "production"),
    ("采购部 Purchasing", "purchasing"), ("工程部 Engineering", "engineering"),
    ("设备部 Equipment", "equipment"), ("计量室 Metrology", "metrology"),
    ("物流部 Logistics", "logistics"), ("财务部 Finance", "finance"),
    ("总经办 Management", "management"),
]

PRODUCTS = [
    ("CL-3000", "CL-3000 数控雕刻机", "CL-3000 CNC engraver", "3000×1500 mm, 6 kW spindle"),
    ("CL-1200", "CL-1200 激光切割机", "CL-1200 laser cutter", "1200 W fibre, 1500×3000 mm bed"),
    ("PX-45", "PX-45 空压机", "PX-45 air compressor", "45 kW, 8 bar"),
    ("VT-200", "VT-200 振动筛", "VT-200 vibrating screen", "2000 mm deck, 2 layers"),
    ("HB-80", "HB-80 液压折弯机", "HB-80 hydraulic press brake", "80 t, 2500 mm"),
    ("SC-10", "SC-10 控制柜", "SC-10 control cabinet", "380 V, IP54"),
]

FAILURE_MODES = [
    ("no-start", "无法启动", "Does not start", False),
    ("noise", "异响", "Abnormal noise", False),
    ("leak", "漏油漏气", "Oil or air leak", False),
    ("accuracy", "精度超差", "Out of tolerance", False),
    ("missing-part", "缺少配件", "Missing accessory", False),
    ("sparking", "打火", "Sparking", True),
    ("burnt", "烧机", "Burnt out", True),
]

COMPANIES = ["华东精密制造有限公司", "Shenzhen Brightline Electronics", "北方重工机械厂",
             "Guangzhou Harbour Logistics", "成都天府家具有限公司"]

PROBLEMS = [
    ("主轴启动后异响", "主轴启动约十分钟后出现尖锐异响，停机后主轴温度明显偏高。", "noise"),
    ("Laser will not start after delivery",
     "The cutter shows alarm E-21 at power-on and never reaches ready state.", "no-start"),
    ("液压站漏油", "液压站接头处渗油，每天约需补油半升。", "leak"),
    ("Bending angle out of tolerance",
     "Parts bent to 90° measure 88.5° at the middle of the beam.", "accuracy"),
    ("随机附件缺失", "到货开箱发现缺少脚踏开关和说明书。", "missing-part"),
    ("控制柜打火", "控制柜接触器吸合时有明显火花，并有焦糊味。", "sparking"),
]

# How far each of the 40 complaints is walked: (target status, how many).
SPREAD = [("received", 4), ("verifying", 4), ("waiting_customer", 4), ("accepted", 3),
          ("rejected", 3), ("containment", 4), ("analysis", 4), ("corrective_action", 4),
          ("verifying_effectiveness", 3), ("answered", 3), ("closed", 4)]

# The path through the workflow to each status, as (transition, actor role, message).
PATHS = {
    "received": [],
    "verifying": [("start_verification", "after_sales", None)],
    "waiting_customer": [("start_verification", "after_sales", None),
                         ("request_information", "after_sales",
                          "请补充铭牌照片和故障时的报警代码。 Please add a nameplate photo and the alarm code.")],
    "accepted": [("start_verification", "after_sales", None), ("accept", "quality", None)],
    "rejected": [("start_verification", "after_sales", None),
                 ("reject", "after_sales",
                  "现场确认为用户未按说明书加注润滑油所致。 On site we found the machine was run without the lubrication the manual requires.")],
}
_CONTAIN = PATHS["accepted"] + [("@classify", "quality", None), ("start_containment", "quality", None),
                                ("@containment", "after_sales", None)]
# The containment cases are routed on to production with its responder as owner: the owner's
# department records measures and writes its 8D sections (sign in as responder@…).
PATHS["containment"] = _CONTAIN + [("@route_to_production", "quality", None),
                                   ("@replacement", "after_sales", None)]
PATHS["analysis"] = _CONTAIN + [("start_analysis", "quality", None)]
PATHS["corrective_action"] = PATHS["analysis"] + [("@root_cause", "quality", None),
                                                  ("start_corrective_action", "quality", None)]
PATHS["verifying_effectiveness"] = PATHS["corrective_action"] + [
    ("@corrective_done", "responder", None), ("submit_for_verification", "responder", None)]
PATHS["answered"] = PATHS["verifying_effectiveness"] + [
    ("@effective", "quality", None),
    ("answer", "after_sales", "已更换主轴轴承并调整润滑周期，后续批次已加严出厂检验。 "
     "We replaced the spindle bearing, shortened the lubrication interval and tightened the outgoing inspection.")]
PATHS["closed"] = PATHS["answered"] + [("customer_accept", "@contact", None)]


def seed_all() -> None:
    """Seed both demo tenants unless already seeded. Commits."""
    with unscoped():
        if db.session.scalar(select(Tenant).where(Tenant.slug == "demo")):
            return
        demo = Tenant(slug="demo", name="示范机械有限公司 Demo Machinery", default_locale="zh_CN",
                      timezone="Asia/Shanghai", brand_color="#0f6cbd",
                      settings={"deadline_digest_hour": 8})  # managers: one digest a day
        acme = Tenant(slug="acme", name="Acme Industrial", default_locale="en",
                      timezone="Europe/Berlin", brand_color="#7a3e9d")
        db.session.add_all([demo, acme])
        db.session.flush()
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for every demo account: fast
    rng = random.Random(2026)
    with activate(demo):
        _seed_tenant(demo, "demo.example.com", "customer{n}.example.com", COMPANIES, 40,
                     password_hash, rng)
        _seed_integrations()
        _seed_api_token()
        # A year of past complaints, shipments, clocks, costs and surveys for the analytics.
        from .analytics.demo_history import seed_history

        seed_history(demo, rng)
        db.session.commit()
    with activate(acme):
        _seed_acme(acme, password_hash, rng)
        db.session.commit()


def _seed_api_token() -> None:
    """An API token for an ERP/MES integration, acting as the quality engineer (who may file
    production exceptions and move complaints along), used once an hour ago."""
    from .api.tokens import digest

    quality = db.session.scalar(select(StaffUser).where(StaffUser.email
                                                        == "quality@demo.example.com"))
    db.session.add(ApiToken(name="ERP/MES 集成 integration", token_hash=digest(DEMO_API_TOKEN),
                            prefix=DEMO_API_TOKEN[:10],
                            scopes=["read", "complaints:write", "catalogue:write"],
                            acting_user_id=quality.id, created_by_id=quality.id,
                            expires_at=utcnow() + timedelta(days=365),
                            last_used_at=utcnow() - timedelta(hours=1)))


def _seed_tenant(tenant, staff_domain, customer_domain, companies, complaint_count,
                 password_hash, rng) -> None:
    departments, staff, contacts = _seed_people(staff_domain, customer_domain, companies,
                                                password_hash)
    products = _seed_catalogue(contacts, rng)
    _seed_complaints(tenant, departments, staff, contacts, products, complaint_count, rng)


def _seed_people(staff_domain, customer_domain, companies, password_hash):
    """Departments with their managers, one staff user per role, customers and contacts."""
    departments = {}
    for name, kind in DEPARTMENTS:
        departments[kind] = Department(name=name, kind=kind)
        db.session.add(departments[kind])
    db.session.flush()
    staff = {}
    for role, (local, name, kind) in DEMO_STAFF.items():
        user = StaffUser(email=f"{local}@{staff_domain}", name=name, roles=[role],
                         department_id=departments[kind].id, password_hash=password_hash)
        staff[role] = user
        db.session.add(user)
    db.session.flush()
    for kind, dept in departments.items():
        manager = next((u for u in staff.values() if u.department_id == dept.id), staff["manager"])
        dept.manager_id = staff["manager"].id if kind == "management" else manager.id

    contacts = []
    for n, company_name in enumerate(companies, start=1):
        company = CustomerCompany(name=company_name, code=f"C{n:03d}", key_account=(n == 1))
        db.session.add(company)
        db.session.flush()
        for m in range(1, 3 if n == 1 else 2):
            contact = Contact(company_id=company.id, name=f"客户联系人 {n}-{m}",
                              email=f"contact{m}@{customer_domain.format(n=n)}",
                              phone=f"138{n:04d}{m:04d}", password_hash=password_hash)
            db.session.add(contact)
            contacts.append(contact)
    db.session.flush()
    return departments, staff, contacts


def _seed_catalogue(contacts, rng) -> list:
    """Product models with their serial patterns, shipments in lots, failure modes."""
    products = []
    for code, zh, en, spec in PRODUCTS:
        product = ProductModel(code=code, name_zh=zh, name_en=en, specification=spec,
                               product_line=code.split("-")[0],
                               serial_pattern=rf"^{code.split('-')[0]}\d{{6}}$")
        db.session.add(product)
        products.append(product)
    db.session.flush()
    today = date.today()
    for product in products:
        prefix = product.code.split("-")[0]
        for lot_no in range(1, 5):
            shipped = today - timedelta(days=30 * lot_no + rng.randint(0, 20))
            first = lot_no * 1000
            db.session.add(Shipment(
                product_model_id=product.id, lot=f"{shipped:%Y%m}-{lot_no:02d}",
                quantity=200, shipped_on=shipped,
                customer_company_id=contacts[lot_no % len(contacts)].company_id,
                serial_first=f"{prefix}{first:06d}", serial_last=f"{prefix}{first + 199:06d}"))
    for code, zh, en, severe in FAILURE_MODES:
        db.session.add(FailureMode(code=code, name_zh=zh, name_en=en, severe=severe))
    db.session.flush()
    return products


def _seed_complaints(tenant, departments, staff, contacts, products, complaint_count,
                     rng) -> None:
    """Complaints in every state, walked there through the workflow."""
    today = date.today()
    targets = [status for status, count in SPREAD for _ in range(count)][:complaint_count]
    for i, target in enumerate(targets):
        contact = contacts[i % len(contacts)]
        product = products[i % len(products)]
        title, description, mode_code = PROBLEMS[i % len(PROBLEMS)]
        prefix = product.code.split("-")[0]
        serial = f"{prefix}{1000 + rng.randint(0, 199):06d}"
        complaint, _ = submit_complaint(tenant, contact, data={
            "source": "customer", "channel": "portal", "reporter_name": contact.name,
            "reporter_email": contact.email, "reporter_phone": contact.phone,
            "reporter_company": contact.company.name, "product_model_id": product.id,
            "specification": product.specification, "defect_quantity": rng.randint(1, 3),
            "shipped_on": today - timedelta(days=40), "title": title, "description": description,
            "demands": rng.sample(["onsite", "replacement", "exchange", "return", "claim",
                                   "answer"], 2),
            "found_at_place": "客户车间 Customer workshop", "severe_event": mode_code == "sparking",
        }, serials=[{"value": serial}])
        _walk(complaint, target, staff, contact, departments, mode_code, rng)
        _spread_in_time(complaint, days_ago=45 - i)
    db.session.flush()
    from .suppliers import demo as supplier_demo  # suppliers and their requests (issue 12)

    supplier_demo.seed(tenant, staff)
    from .returns import demo as returns_demo  # a returned spindle appraised (issue 12)

    returns_demo.seed(tenant, staff)
    from .complaints import cost_demo  # costs corrected and voided (issue 12)

    cost_demo.seed(staff)
    from .complaints import eight_d_demo  # a complete 8D sent to its customer (issue 12)

    eight_d_demo.seed(tenant, staff)
    from .complaints import demo_audience  # requests, notes kept internal or shown (issue 10)

    demo_audience.seed(tenant, staff)


def _seed_integrations() -> None:
    """A webhook subscription with a few deliveries and a connected mailbox with messages
    taken, both switched off (the demo calls no outside system)."""
    import json

    from .models import InboundMessage, Mailbox, WebhookDelivery, WebhookSubscription
    from .secretbox import encrypt

    subscription = WebhookSubscription(
        name="BI 报表 Quality dashboard", url="https://bi.demo.example.com/hooks/closeloop",
        events=["submitted", "classified", "answered", "closed", "request_approved"],
        secret_encrypted=encrypt("whsec_demo_" + "k" * 32), enabled=False)
    mailbox = Mailbox(address="service@demo.example.com", host="imap.exmail.qq.com", port=993,
                      username="service@demo.example.com", password_encrypted=encrypt("demo"),
                      enabled=False)
    db.session.add_all([subscription, mailbox])
    db.session.flush()
    complaints = list(db.session.scalars(select(Complaint).order_by(Complaint.id).limit(3)))
    for n, (complaint, status, code) in enumerate(zip(
            complaints, ("delivered", "failed", "delivered"), (200, 500, 204), strict=False)):
        event = ("submitted", "classified", "closed")[n]
        db.session.add(WebhookDelivery(
            subscription_id=subscription.id, event=event, event_id=f"demo{n:028d}",
            complaint_id=complaint.id, status=status, attempts=1 if code < 300 else 6,
            response_code=code, duration_ms=120 + 40 * n,
            error=None if code < 300 else "HTTP 500",
            body=json.dumps({"event": event, "complaint": {"number": complaint.number}})))
    complaints[0].channel = "email"
    db.session.add_all([
        InboundMessage(mailbox_id=mailbox.id, message_key="<demo-1@customer1.example.com>",
                       sender=complaints[0].reporter_email, subject=complaints[0].title,
                       outcome="filed", complaint_id=complaints[0].id),
        InboundMessage(mailbox_id=mailbox.id, message_key="<demo-2@customer2.example.com>",
                       sender="contact1@customer2.example.com", subject="自动回复：外出 Out of office",
                       outcome="ignored", reason="auto-submitted"),
    ])
    db.session.flush()


def _walk(complaint, target, staff, contact, departments, mode_code, rng) -> None:
    for step, role, message in PATHS[target]:
        actor = contact if role == "@contact" else staff[role]
        if step == "@classify":
            mode = db.session.scalar(select(FailureMode).where(FailureMode.code == mode_code))
            classify(complaint, actor, severity=rng.choice(["general", "major"]),
                     info_class="A" if mode.severe else "B",
                     cause_category=rng.choice(["machine", "material", "method"]),
                     failure_mode_id=mode.id, owner_id=staff["quality"].id)
        elif step == "@containment":
            casework.add_action(
                complaint, actor, kind="containment",
                title="发送备件并指导临时处理 Ship a spare part and guide a temporary fix",
                owner_id=staff["after_sales"].id, due_at=utcnow() + timedelta(days=1),
                customer_sees=True)
        elif step == "@root_cause":
            casework.record_root_cause(
                complaint, actor,
                text="轴承预紧力不足，装配工艺未规定扭矩值。 Bearing preload too low: the "
                     "assembly instruction gave no torque.",
                whys=["主轴异响 Spindle noise", "轴承游隙过大 Bearing play too large",
                      "预紧力不足 Preload too low", "未规定扭矩 No torque specified"],
                factors=[{"category": "method", "text": "作业指导书缺少扭矩值 No torque in the instruction"}],
                expected_version=complaint.version)
            casework.add_action(
                complaint, actor, kind="corrective",
                title="装配作业指导书增加扭矩要求 Add torque value to the assembly instruction",
                owner_id=staff["responder"].id, due_at=utcnow() + timedelta(days=7))
        elif step == "@corrective_done":
            for action in db.session.scalars(select(Action).where(
                    Action.complaint_id == complaint.id, Action.kind == "corrective")):
                casework.complete_action(complaint, action, actor,
                                         result="已更新作业指导书 Instruction updated")
        elif step == "@effective":
            casework.verify_effectiveness(
                complaint, actor, effective=True,
                note="连续两批抽检无复发 No recurrence in two lots",
                expected_version=complaint.version)
        elif step == "@replacement":  # waits for logistics to ship it (their My work)
            service_requests.create_request(complaint, actor, kind="replacement", quantity=1)
        elif step == "@route_to_production":
            classify(complaint, actor, severity=complaint.severity,
                     info_class=complaint.info_class, cause_category="man",
                     failure_mode_id=complaint.failure_mode_id,
                     responsible_department_id=departments["production"].id,
                     owner_id=staff["responder"].id)
        else:
            workflow.transition(complaint, actor, step, message=message)
    db.session.flush()


def _spread_in_time(complaint, days_ago: int) -> None:
    """Backdate a complaint and space its events out, so lists and clocks look lived in."""
    start = utcnow() - timedelta(days=max(days_ago, 1), hours=3)
    complaint.created_at = start
    events = db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.complaint_id == complaint.id).order_by(TimelineEvent.id)).all()
    step = timedelta(hours=min(20, max(1, days_ago * 24 // (len(events) + 1))))
    for n, event in enumerate(events):
        event.created_at = start + step * n
    complaint.status_changed_at = events[-1].created_at if events else start


def _seed_acme(tenant, password_hash, rng) -> None:
    quality = Department(name="Quality", kind="quality")
    db.session.add(quality)
    db.session.flush()
    admin = StaffUser(email="admin@acme.example.com", name="Alex Admin",
                      roles=["admin", "after_sales", "quality", "manager"],
                      department_id=quality.id, password_hash=password_hash, locale="en")
    db.session.add(admin)
    company = CustomerCompany(name="Acme Customer One", code="A001")
    db.session.add(company)
    db.session.flush()
    contact = Contact(company_id=company.id, name="Casey Contact",
                      email="contact1@acme-customer1.example.com", password_hash=password_hash,
                      locale="en")
    product = ProductModel(code="AX-1", name_zh="AX-1 泵", name_en="AX-1 pump",
                           specification="1.5 kW")
    db.session.add_all([contact, product])
    db.session.flush()
    for n in range(3):
        submit_complaint(tenant, contact, data={
            "reporter_name": contact.name, "reporter_email": contact.email,
            "product_model_id": product.id, "defect_quantity": 1,
            "title": f"Pump seal leaking ({n + 1})",
            "description": "The shaft seal leaks after a few hours of running.",
            "demands": ["replacement"],
        })
    complaints = db.session.scalars(select(Complaint)).all()
    workflow.transition(complaints[0], admin, "start_verification")
