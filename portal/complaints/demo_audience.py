"""Demo data for who reads what (issue 10): requests with notes kept among staff and notes
shown to the customer, a return waiting in its approval chain, a shipped replacement, and a
checklist note the customer was shown. Called by portal/demo.py after the complaints."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Complaint
from . import casework, requests


def seed(tenant, staff: dict) -> None:
    """On the first complaints under containment and analysis: a return whose note and first
    signature stay internal and now waits for quality's signature; a replacement shipped with
    a note the customer sees; and, on the first complaint being verified, a checklist note
    shown to the customer."""
    found = list(db.session.scalars(
        select(Complaint).where(Complaint.status.in_(("containment", "analysis")))
        .order_by(Complaint.id).limit(2)))
    if len(found) < 2:
        return
    first, second = found
    ret = requests.create_request(first, staff["after_sales"], kind="return", quantity=2,
                                  note="运费由我方承担，客户无需垫付。 Freight at our cost.")
    requests.decide(first, ret, staff["after_sales"], approve=True,
                    note="已与客户确认退货数量。 Quantity confirmed with the customer.")
    replacement = requests.create_request(
        second, staff["after_sales"], kind="replacement", quantity=1,
        note="备件今日发出，预计两天到货。 The spare part leaves today, two days on the road.",
        note_shown=True)
    requests.ship(second, replacement, staff["logistics"], carrier="sf",
                  tracking_number="SF1402263990")
    verifying = db.session.scalar(select(Complaint).where(Complaint.status == "verifying")
                                  .order_by(Complaint.id).limit(1))
    if verifying is None:
        return
    casework.save_checklist(
        verifying, staff["after_sales"], confirmed=["customer", "product", "description"],
        note="照片与序列号已核对，无需再补充资料。 Photos and serial numbers checked: "
             "nothing more needed from you.", expected_version=verifying.version, shown=True)
    db.session.flush()
