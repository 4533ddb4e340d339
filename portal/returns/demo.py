"""Demo data for returned parts (called by portal/demo.py after the suppliers): a returned
spindle — a purchased part — taken from the customer's return request through the approval
chain, logistics' receipt into quarantine, after-sales' first analysis, quality's appraisal
(with a photo; scrapped as material waste and pushed back to its supplier) to the good parts
issued; and a second return waiting for quality's appraisal."""

from __future__ import annotations

import io
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..complaints import requests as service_requests
from ..extensions import db
from ..models import Complaint, GoodsReturn, ProductModel, Supplier, utcnow
from . import appraisal, records

STATUSES = ("containment", "analysis", "corrective_action")


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (228, 230, 233))
    draw = ImageDraw.Draw(image)
    draw.ellipse((180, 100, 460, 380), outline=(60, 60, 60), width=18)
    draw.ellipse((280, 200, 360, 280), fill=(120, 80, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _returned(complaint: Complaint, staff: dict, quantity: int) -> GoodsReturn:
    """A return request approved by the tenant's chain, its goods received and analysed."""
    request = service_requests.create_request(
        complaint, staff["after_sales"], kind="return", quantity=quantity,
        note="客户要求退回故障主轴 Customer returns the failed spindles")
    for role in ("after_sales", "quality", "manager"):
        service_requests.decide(complaint, request, staff[role], approve=True, note=None)
    ret = db.session.scalar(select(GoodsReturn).where(GoodsReturn.request_id == request.id))
    records.receive(complaint, ret, staff["logistics"], quantity_received=quantity,
                    received_on=utcnow().date() - timedelta(days=3), condition="intact",
                    location="财务部仓库 隔离区 Q-03 Finance warehouse quarantine Q-03",
                    tag=f"QT-{ret.id:04d}", note="原包装，封条完好 Original box, seal intact")
    records.analyse(complaint, ret, staff["after_sales"], grade="suspected_defect",
                    analysis="主轴运行约 50 小时后卡死，手转有明显阻滞，疑似轴承失效。"
                             " Spindle seized after about 50 h; stiff by hand, bearing suspected.")
    return ret


def seed(tenant, staff: dict) -> None:
    """In the active tenant; flushes. ``staff`` maps role -> StaffUser."""
    spindle_maker = db.session.scalar(select(Supplier).where(Supplier.code == "SP-01"))
    complaints = db.session.scalars(
        select(Complaint).join(ProductModel, ProductModel.id == Complaint.product_model_id)
        .where(Complaint.status.in_(STATUSES))
        .order_by((ProductModel.code == "CL-3000").desc(), Complaint.id.desc()).limit(2)).all()
    if spindle_maker is None or len(complaints) < 2:
        return
    first, second = complaints
    with current_app.test_request_context():  # the supplier's e-mailed link needs a URL
        ret = _returned(first, staff, 2)
        appraisal.appraise(
            first, ret, staff["quality"], verdict="quality_problem", defective_quantity=2,
            origin="purchased", supplier_id=spindle_maker.id, part_number="SPN-6K-01",
            appraisal="拆检：前轴承缺润滑脂，滚道烧蚀；属外购主轴质量问题，非使用不当。"
                      " Teardown: front bearing without grease, raceway burnt; a quality problem"
                      " of the purchased spindle, not misuse.",
            photos=[_Upload("bearing-teardown.jpg", _photo())])
        appraisal.issue(first, ret, staff["after_sales"], issued_quantity=2,
                        note="凭鉴定单从财务部仓库领用 Drawn from the finance warehouse")
        _returned(second, staff, 1)
    db.session.flush()


class _Upload:
    """A file as the appraisal form sends it (name and a read())."""

    def __init__(self, filename: str, data: bytes):
        self.filename = filename
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)
