"""The warranty return appraisal form (售后服务三包材料退换鉴定单) read back with a PDF reader
(pypdf): bilingual title printed once, the RMA and complaint number on every page, the verdict
and origin ticked, the handling (material waste, supplier request, good parts) and each step's
signature with the signer's name; no raw code of the vocabulary anywhere."""

from __future__ import annotations

import io

from pypdf import PdfReader

from portal.tenancy import activate
from tests.internal.complaint.returns_support import (
    ANALYSIS,
    RECEIPT,
    appraisal,
    approved_return,
)


def _text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_appraisal_form_prints_as_the_paper_form(shop, as_role, make_complaint, db):
    ids = approved_return(db, shop, make_complaint)
    page, base = ids["page"], ids["base"]
    assert as_role("logistics").post(f"{base}/receive", RECEIPT, page=page).status_code == 303
    assert as_role("after_sales").post(f"{base}/analyse", ANALYSIS, page=page).status_code == 303
    long_opinion = "轴承缺润滑脂，运行约 50 小时后卡死。Bearing without grease. " * 40
    assert as_role("quality").post(f"{base}/appraise", appraisal(
        ids["supplier_id"], appraisal=long_opinion), page=page).status_code == 303
    assert as_role("after_sales").post(f"{base}/issue", {"issued_quantity": "2"},
                                       page=page).status_code == 303
    response = as_role("quality").get(f"{base}/appraisal.pdf")
    assert response.status_code == 200
    pages = _text(response.data)
    text = " ".join("\n".join(pages).split())  # lines wrapped by the layout joined again
    with activate(shop.tenant):
        from portal.models import Complaint

        number = db.session.get(Complaint, ids["cid"]).number
        names = {r: shop.staff[r].name for r in ("logistics", "after_sales", "quality")}
    assert len(pages) >= 2  # the long opinion runs over: the frame repeats
    for page_text in pages:
        assert ids["rma"] in page_text and number in page_text
    assert text.count("Warranty return appraisal form") >= 1
    assert "售后服务三包材料退换鉴定单" in text
    assert "Product quality problem" in text and "产品质量问题" in text
    assert "Purchased part" in text and "精密主轴 Precision Spindle" in text
    assert "QT-0042" in text and "SPN-6K-01" in text
    assert "料废" in text and "SCAR-" in text
    for name in names.values():
        assert name in text
    for raw in ("quality_problem", "suspected_defect", "self_made", "purchased ", "intact"):
        assert raw not in text
    assert f"1 / {len(pages)}" in text
