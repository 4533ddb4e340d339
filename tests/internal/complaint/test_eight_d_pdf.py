"""The 8D PDFs: the team's (every discipline, the effectiveness verdict with its evidence and
follow-up, each member's sign-off; the complaint number on every page, rows never split)
read back with a PDF reader and rendered to images; and the customer's, sent to the portal,
showing only the summary and what is marked for the customer."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from werkzeug.datastructures import FileStorage

from portal.models import utcnow
from portal.tenancy import activate
from tests.internal.conftest import advance

LONG = "主轴在 6000 rpm 以上运转时出现周期性异响，振动值超过 4.5 mm/s。 " * 6


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _rendered_pages(data: bytes) -> int:
    """Render every page to a PNG (pdftoppm, else pypdfium2) and count the images."""
    with tempfile.TemporaryDirectory() as folder:
        if shutil.which("pdftoppm"):
            path = Path(folder, "8d.pdf")
            path.write_bytes(data)
            subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(Path(folder, "p"))],
                           check=True, timeout=120)
            return len(list(Path(folder).glob("p*.png")))
        pdfium = pytest.importorskip("pypdfium2")
        document = pdfium.PdfDocument(data)
        return sum(1 for page in document if page.render(scale=0.5).to_pil().size[0] > 0)


def _overflowing_words(data: bytes) -> list[str]:
    """Words whose box reaches into the page's side margins (14 mm) by pdftotext -bbox: a
    table or a long value that overflows the text area."""
    import re

    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext is not installed")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "8d.pdf")
        path.write_bytes(data)
        html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True,
                              capture_output=True, text=True, timeout=120).stdout
    out = []
    for page in re.finditer(r'<page width="([\d.]+)"[^>]*>(.*?)</page>', html, re.S):
        width = float(page.group(1))
        for x_min, x_max, word in re.findall(
                r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)',
                page.group(2)):
            if float(x_min) < 30 or float(x_max) > width - 30:
                out.append(word)
    return out


def _filed_8d(db, shop, make_complaint) -> tuple[int, str]:
    """A complaint with a complete 8D, verified effective, every member signed off."""
    from portal.complaints import effectiveness, eight_d, eight_d_team

    complaint = make_complaint(shop.tenant, shop.contact, title="主轴异响")
    advance(db, shop, complaint, "verifying_effectiveness")
    q, tech, resp = shop.staff["quality"], shop.staff["technical"], shop.staff["responder"]
    with activate(shop.tenant):
        eight_d.start_report(complaint, q, requested_by_customer=True)
        for person, role in ((q, "leader"), (tech, "member"), (resp, "member")):
            eight_d_team.add_member(complaint, q, staff_user_id=person.id, role=role,
                                    responsibility="分析 analysis")
        eight_d.save_section(complaint, q, 1, text="跨部门小组 cross-functional team")
        eight_d.save_section(complaint, q, 2, text=LONG, customer_visible=True, content={
            "what": "主轴异响", "where": "客户二号车间", "when": "2026-11", "who": "客户操作工",
            "why": "噪声超标", "how": "巡检发现", "how_many": "3/40",
            "is_what": "主轴轴承", "is_not_what": "电机", "is_where": "2 号线",
            "is_not_where": "1 号线", "is_when": "批次 202610", "is_not_when": "202609",
            "is_extent": "3 台", "is_not_extent": "其他 37 台"})
        eight_d.save_section(complaint, q, 3, text="库存隔离复检 LOT" + "0123456789" * 20,
                             customer_visible=True)  # a long token must wrap, not overflow
        eight_d.save_section(complaint, q, 4, text="内部根因：预紧力扭矩未定义 INTERNAL-ROOT",
                             content={"occurrence_point": "装配工位 3",
                                      "escape_point": "出厂振动测试"})
        for d in (5, 7):
            eight_d.save_section(complaint, q, d, text=f"D{d} " + LONG)
        eight_d.save_section(complaint, q, 6, text="已实施", content={
            "validation": "抽检 50 台", "result": "passed"})
        eight_d.save_section(complaint, q, 8, text="结案 closed",
                             files=[FileStorage(io.BytesIO(b"%PDF-1.4 x"), "结案报告.pdf")])
        eight_d.save_summary(complaint, q, summary="已更换主轴轴承并加严出厂检验 CUSTOMER-SUMMARY")
        for person in (q, tech, resp):
            member = next(m for m in eight_d.report_of(complaint).members
                          if m.staff_user_id == person.id)
            eight_d_team.sign_off(complaint, person, member)
        effectiveness.verify(complaint, q, effective=True, note="两批无复发",
                             files=[FileStorage(io.BytesIO(b"%PDF-1.4 y"), "抽检记录.pdf")],
                             follow_up_on=utcnow().date() + timedelta(days=91),
                             expected_version=complaint.version)
        eight_d_team.send_to_customer(complaint, q)
        db.session.flush()
        return complaint.id, complaint.number


def test_team_pdf_reads_back_and_renders(shop, as_role, make_complaint, db):
    cid, number = _filed_8d(db, shop, make_complaint)
    response = as_role("quality").get(f"/complaints/{cid}/8d.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = _pages(response.data)
    text = "\n".join(pages)
    for expected in ("8D Report", "8D 报告", "Team leader", "quality person", "technical person",
                     "5W2H", "客户二号车间", "Is not", "电机", "Occurrence point", "装配工位 3",
                     "Escape point", "出厂振动测试", "Validated", "抽检 50 台",
                     "Verification of effectiveness", "Effective 有效", "抽检记录.pdf",
                     "Recurrence check", "结案报告.pdf", "Team sign-off", "CUSTOMER-SUMMARY"):
        assert expected in text, expected
    assert text.count("8D Report 8D 报告") == 1  # the title once, not twice
    assert len(pages) >= 2
    for n, page in enumerate(pages, 1):  # the header's number and the footer's count
        assert number in page and f"{n} / {len(pages)}" in page, n
    signoff = next(p for p in pages if "Team sign-off" in p)
    block = signoff[signoff.index("Team sign-off"):]  # the sign-off row is whole on one page
    for name in ("quality person", "technical person", "responder person", "组长 Team leader"
                 if "组长 Team leader" in block else "Team leader 组长"):
        assert name in block, name
    assert _rendered_pages(response.data) == len(pages)
    assert _overflowing_words(response.data) == []


def test_customer_pdf_is_on_the_portal_with_only_customer_content(shop, make_complaint, db,
                                                                  app, sign_in, make_contact):
    cid, number = _filed_8d(db, shop, make_complaint)
    with activate(shop.tenant):
        email = shop.contact.email
    customer = app.test_client()
    assert sign_in(customer, shop.tenant, email, staff=False).status_code == 303
    page = customer.get(f"/t/{shop.slug}/complaints/{number}").get_data(as_text=True)
    assert f"/t/{shop.slug}/complaints/{number}/8d.pdf" in page
    download = customer.get(f"/t/{shop.slug}/complaints/{number}/8d.pdf")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    data = download.data
    download.close()
    pages = _pages(data)
    text = "\n".join(pages)
    for expected in ("CUSTOMER-SUMMARY", "客户二号车间", "Verified effective", number):
        assert expected in text, expected
    for internal in ("INTERNAL-ROOT", "装配工位 3", "结案报告.pdf", "抽检记录.pdf", "两批无复发",
                     "technical person", "D5 "):
        assert internal not in text, internal
    assert _rendered_pages(data) == len(pages)
    assert _overflowing_words(data) == []
    # a contact of another company of the tenant sees nothing of it
    other = make_contact(shop.tenant)
    with activate(shop.tenant):
        other_email = other.email
    stranger = app.test_client()
    sign_in(stranger, shop.tenant, other_email, staff=False)
    assert stranger.get(f"/t/{shop.slug}/complaints/{number}/8d.pdf").status_code == 404
