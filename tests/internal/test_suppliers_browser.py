"""A supplier answers a corrective action request through the e-mailed link, in Chinese, on a
360 px phone in Chromium: no horizontal scroll, evidence attached, the answer recorded."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from portal.complaints.operations import submit_complaint
from portal.models import (
    Contact,
    CustomerCompany,
    Department,
    OutboxMessage,
    ProductModel,
    SerialNumber,
    Shipment,
    StaffUser,
    Supplier,
    SupplierContact,
    SupplierRequest,
    Tenant,
)
from portal.suppliers import requests as scars
from tests.browser_support import screenshot
from tests.conftest import _PASSWORD_HASH
from tests.customer.conftest import image_bytes

pytestmark = pytest.mark.browser


def _seed(live) -> dict:
    slug = f"s{uuid.uuid4().hex[:8]}"
    with live.seed() as db:
        tenant = Tenant(slug=slug, name="恒泰机械", default_locale="zh_CN")
        db.session.add(tenant)
        db.session.flush()
        tenant_id = tenant.id
    with live.seed(tenant_id) as db, live.app.test_request_context(base_url=live.url):
        tenant = db.session.get(Tenant, tenant_id)
        quality_dept = Department(name="质量部", kind="quality")
        db.session.add(quality_dept)
        db.session.flush()
        quality = StaffUser(email=f"q@{slug}.example.com", name="王质量", roles=["quality"],
                            department_id=quality_dept.id, password_hash=_PASSWORD_HASH)
        company = CustomerCompany(name="华东客户")
        product = ProductModel(code="PX-100", name_zh="数控车床", name_en="CNC lathe",
                               warranty_months=12)
        db.session.add_all([quality, company, product])
        db.session.flush()
        contact = Contact(company_id=company.id, name="李伟", email=f"li@{slug}.example.com")
        supplier = Supplier(name="精密主轴有限公司", code="SP-01", locale="zh_CN",
                            part_numbers=["SPN-100"])
        db.session.add_all([contact, supplier])
        db.session.flush()
        db.session.add(SupplierContact(supplier_id=supplier.id, name="张工",
                                       email=f"zhang@{slug}.example.com"))
        shipment = Shipment(product_model_id=product.id, lot="L1", quantity=100,
                            shipped_on=date.today(), serial_first="AB000100",
                            serial_last="AB000199")
        db.session.add(shipment)
        db.session.flush()
        complaint, _ = submit_complaint(tenant, contact, data={
            "reporter_name": "李伟", "reporter_email": contact.email, "title": "主轴卡死",
            "description": "运行五十小时后主轴卡死", "defect_quantity": 2, "demands": ["answer"],
            "product_model_id": product.id})
        db.session.add(SerialNumber(complaint_id=complaint.id, value="AB000150",
                                    shipment_id=shipment.id))
        db.session.flush()
        scar = scars.open_request(tenant, complaint, quality, supplier_id=supplier.id,
                                  contact_id=None, part_number="SPN-100",
                                  defect="主轴轴承缺润滑脂，运行五十小时后卡死",
                                  defective_quantity=2, replacement_quantity=2,
                                  asks=["replacement", "eight_d"])
        # the supplier's e-mail, not one left in the shared outbox by another test
        mail = [m for m in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.job == "jobs.mail.send_email").order_by(OutboxMessage.id))
            if m.args[0] == f"zhang@{slug}.example.com"][-1]
        return {"slug": slug, "tenant_id": tenant_id, "scar_id": scar.id,
                "subject": mail.args[1], "link": re.search(r"https?://\S+", mail.args[2]).group(0)}


def test_supplier_answers_in_chinese_on_a_phone(live_server, phone_page, tmp_path):
    world = _seed(live_server)
    assert "纠正措施要求" in world["subject"]
    page = phone_page
    page.goto(world["link"])
    assert page.locator("h1").first.inner_text().startswith("纠正措施要求 SCAR-")
    assert "主轴轴承缺润滑脂" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "horizontal scroll"
    screenshot(page, "supplier-answer-zh-360")
    page.click("form[enctype] button[type=submit]")  # empty: refused, in Chinese
    page.wait_for_selector("text=此项为必填项")
    photo = tmp_path / "检验照片.png"
    photo.write_bytes(image_bytes("PNG"))
    page.fill("#name", "张工")
    page.fill("#containment", "库存 400 件全部挑选，隔离不良 3 件")
    page.fill("#root_cause", "装配工位漏加润滑脂，终检未检查润滑")
    page.fill("#corrective_action", "增加自动注脂检测，6 月 30 日前完成")
    page.set_input_files("#evidence", str(photo))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("text=谢谢，您的答复已记录")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "supplier-answer-zh-360-thanks")
    with live_server.seed(world["tenant_id"]) as db:
        scar = db.session.get(SupplierRequest, world["scar_id"])
        assert scar.state == "answered" and scar.answered_by == "张工"
        assert [e.filename for e in scar.evidence] == ["检验照片.png"]
    page.goto(world["link"])
    page.wait_for_selector("text=此要求已答复")
