"""The cost-transfer sheet and the supplier corrective action request as forms to file, with
data long enough to run over several pages: the number on every page, the title once, no row
split, nothing off the paper, labels (not codes) in both languages, corrected and voided costs
listed with their reason but out of the totals, and the sign-off blocks."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from portal.complaints import costs
from portal.models import Complaint, CostEntry, Supplier, SupplierContact
from portal.suppliers import requests as scars
from portal.tenancy import activate
from tests.internal.conftest import advance
from tests.pdf_checks import read_pdf

LONG = "按发票核对运费与返修工时，含往返物流、拆装及检测费用；" * 6
CATEGORIES = ("replacement", "freight", "rework", "scrap", "onsite", "other")


def _costly_case(db, shop, make_complaint, entries: int = 28):
    complaint = make_complaint(shop.tenant, shop.contact, title="主轴卡死 spindle seized")
    advance(db, shop, complaint, "containment")
    finance = shop.staff["finance"]
    with activate(shop.tenant):
        rows = [costs.add_cost(complaint, finance, category=CATEGORIES[i % len(CATEGORIES)],
                               amount=Decimal("100.00") + i,
                               department_id=list(shop.dept_ids.values())[i % 4],
                               note=f"N{i:02d}-START {LONG} N{i:02d}-END")
                for i in range(entries)]
        costs.void_cost(complaint, rows[1], finance, reason="重复录入 booked twice")
        costs.correct_cost(complaint, rows[2], finance, reason="发票金额 invoice amount",
                           category="freight", amount=Decimal("50.00"),
                           department_id=shop.dept_ids["logistics"],
                           note="N99-START <img src=file:///etc/passwd> N99-END")
        db.session.flush()
        total = sum((r.amount for r in db.session.scalars(select(CostEntry).where(
            CostEntry.complaint_id == complaint.id, CostEntry.state == "active"))), Decimal(0))
        return complaint.id, complaint.number, total


def test_cost_transfer_sheet_prints_whole_rows_and_valid_totals(shop, as_role, make_complaint,
                                                                 db):
    cid, number, total = _costly_case(db, shop, make_complaint)
    response = as_role("finance").get(f"/complaints/{cid}/cost-transfer.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    doc = read_pdf(response.data, "cost-transfer")
    assert doc.page_count >= 3
    doc.assert_inside_pages()
    doc.assert_on_every_page(number)
    doc.assert_on_every_page(f"/ {doc.page_count}")
    doc.assert_once("质量事故费用转移单 Cost transfer sheet")
    doc.assert_once("主轴卡死 spindle seized")
    for i in [*range(28), 99]:
        doc.assert_together(f"N{i:02d}-START", f"N{i:02d}-END")
    assert f"{total:.2f}" in doc  # the grand total of the active entries only
    assert "Voided" in doc and "重复录入 booked twice" in doc
    assert "Corrected" in doc and "发票金额 invoice amount" in doc
    assert "On-site service" in doc and "onsite" not in doc
    assert "<img src=file:///etc/passwd>" in doc  # typed markup prints as text
    assert doc.pages[-1].text.count("Date 日期") == 4  # the sign-off boxes
    assert "Finance" in doc.pages[-1].text


def test_cost_transfer_sheet_needs_the_role(shop, as_role, make_complaint, db):
    cid, _, _ = _costly_case(db, shop, make_complaint, entries=3)
    assert as_role("after_sales").get(f"/complaints/{cid}/cost-transfer.pdf").status_code == 403


def _scar(app, db, shop, make_complaint):
    complaint = make_complaint(shop.tenant, shop.contact, title="主轴卡死 spindle seized")
    quality = shop.staff["quality"]
    with app.test_request_context(), activate(shop.tenant):
        supplier = Supplier(name="精密主轴有限公司 Spindle Works", code="SP-01",
                            part_numbers=["SPN-100"])
        db.session.add(supplier)
        db.session.flush()
        db.session.add(SupplierContact(supplier_id=supplier.id, name="Li",
                                       email="li@supplier.example.com"))
        db.session.flush()
        scar = scars.open_request(shop.tenant, complaint, quality, supplier_id=supplier.id,
                                  contact_id=None, part_number="SPN-100",
                                  defect=("轴承游隙超差，50 小时后卡死。\n" * 25).strip(),
                                  defective_quantity=3, replacement_quantity=3,
                                  asks=["replacement", "eight_d", "credit"])
        scars.submit_answer(scar, name="李工", containment="隔离库存 240 件，全检。" * 30,
                            root_cause="热处理炉温漂移。" * 40,
                            corrective_action="增加炉温记录仪并每班点检。" * 40)
        scars.decide(shop.tenant, scar, quality, accept=True, reason="证据充分")
        charges = [scars.charge_back(scar, quality, category="replacement",
                                     amount=Decimal("800.00") + i, note=f"C{i:02d}")
                   for i in range(6)]
        entry = db.session.get(CostEntry, charges[0].cost_entry_id)
        costs.void_cost(db.session.get(Complaint, complaint.id), entry, quality,
                        reason="供应商已直接补货")
        db.session.flush()
        return scar.id, scar.number, complaint.number


def test_supplier_request_pdf(app, shop, as_role, make_complaint, db):
    scar_id, scar_number, complaint_number = _scar(app, db, shop, make_complaint)
    response = as_role("quality").get(f"/suppliers/requests/{scar_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    doc = read_pdf(response.data, "supplier-request")
    assert doc.page_count >= 2
    doc.assert_inside_pages()
    doc.assert_on_every_page(scar_number)
    doc.assert_on_every_page(complaint_number)
    doc.assert_once("供应商纠正措施要求 Supplier corrective action request")
    for i in range(6):
        doc.assert_together(f"C{i:02d}", f"{800 + i}.00")
    assert f"{sum(800 + i for i in range(1, 6)):.2f}" in doc  # the voided one left out
    for words in ("Replacement parts", "8D report", "Credit note", "Answer accepted"):
        assert words in doc, words
    assert "eight_d" not in doc
    last = doc.pages[-1].text
    assert "李工" in last and "quality person" in last and "Date 日期" in last
    assert "Quality 质量" in doc.pages[-1]  # the signer's role


def test_supplier_request_pdf_roles(app, shop, as_role, make_complaint, db):
    scar_id, _, _ = _scar(app, db, shop, make_complaint)
    assert as_role("logistics").get(f"/suppliers/requests/{scar_id}.pdf").status_code == 403
    assert as_role("finance").get(f"/suppliers/requests/{scar_id}.pdf").status_code == 200
    assert as_role("quality").get(f"/suppliers/requests/{scar_id + 999}.pdf").status_code == 404
    page = as_role("quality").get(f"/suppliers/requests/{scar_id}").get_data(as_text=True)
    assert "<del>800.00 CNY</del>" in page and "Voided" in page  # the page marks it too
    assert f"/suppliers/requests/{scar_id}.pdf" in page
