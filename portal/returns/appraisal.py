"""Quality's appraisal of a returned part and the good parts issued against it.

The appraisal (售后服务三包材料退换鉴定单) records the verdict (product quality problem,
misuse, no fault found), how many are defective, the part's origin and its evidence photos. A
self-made part's verdict is announced to the production department, a purchased part's to
purchasing with the supplier named; a purchased part with a quality problem is scrapped as
material waste (料废) and a supplier corrective action request is opened from the appraisal,
due in the tenant's answer period (one month by default). After-sales then draws good parts
from the warehouse against the form. Same contract as ``records``: Refused, signed, flushed."""

from __future__ import annotations

from ..complaints.permissions import NOT_NOW, Refused, require
from ..complaints.timeline import record
from ..complaints.vocabulary import PART_ORIGINS, RETURN_VERDICTS
from ..events import announce
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Complaint, GoodsReturn, Supplier, Tenant, utcnow
from . import clocks, evidence
from .records import choice, quantity, text, touch


def _supplier(origin: str, supplier_id, part_number) -> tuple[Supplier | None, str | None]:
    if origin != "purchased":
        return None, text(part_number, "part_number", 60, required=False)
    supplier = db.session.get(Supplier, supplier_id) if isinstance(supplier_id, int) else None
    if supplier is None or not supplier.active:
        raise Refused("supplier_id", _l("Name the supplier of this purchased part."))
    return supplier, text(part_number, "part_number", 60)


def appraise(complaint: Complaint, ret: GoodsReturn, actor, *, verdict: str | None,
             appraisal: str | None, defective_quantity, origin: str | None,
             supplier_id=None, part_number: str | None = None, photos=()) -> None:
    """Quality signs the appraisal. Everything is checked (photos included) before anything is
    stored; a purchased reject then opens its supplier request (``supplier.open_from``)."""
    require(actor, "return_appraise", complaint)
    if ret.state != "analysed":
        raise Refused("not_from_status", NOT_NOW)
    verdict = choice(verdict, RETURN_VERDICTS, "verdict")
    low = 1 if verdict == "quality_problem" else 0
    if defective_quantity is None and not low:
        defective_quantity = 0  # misuse or no fault: nothing defective unless said
    defective = quantity(defective_quantity, "defective_quantity", ret.quantity_received or 0,
                         low)
    body = text(appraisal, "appraisal")
    origin = choice(origin, PART_ORIGINS, "origin")
    supplier, part = _supplier(origin, supplier_id, part_number)
    checked = evidence.check(photos)
    scrap = origin == "purchased" and verdict == "quality_problem"
    if scrap:
        from .supplier import check_contact

        check_contact(supplier)
    ret.verdict, ret.appraisal, ret.defective_quantity = verdict, body, defective
    ret.origin, ret.supplier_id, ret.part_number = origin, getattr(supplier, "id", None), part
    ret.evidence = [*(ret.evidence or []), *evidence.store(ret, checked)]
    ret.appraised_by_id, ret.appraised_at = actor.id, utcnow()
    ret.state = "appraised"
    record(complaint, actor, "return.appraised", customer_visible=True,
           data={"return_id": ret.id, "rma": ret.rma_number, "verdict": verdict,
                 "defective_quantity": defective})
    if scrap:
        ret.scrapped_quantity = defective
        record(complaint, actor, "return.scrapped",
               data={"return_id": ret.id, "rma": ret.rma_number, "quantity": defective,
                     "supplier": supplier.name})
    clocks.stop(ret, "return_appraisal", "appraised")
    if verdict == "quality_problem":
        clocks.start(complaint, ret, "return_issue")
    touch(complaint)
    if scrap:
        from .supplier import open_from

        open_from(db.session.get(Tenant, ret.tenant_id), complaint, ret, actor)
    announce("return_appraised", complaint, actor, return_id=ret.id, rma=ret.rma_number,
             verdict=verdict, origin=origin, supplier_id=ret.supplier_id)


def may_issue_now(ret: GoodsReturn) -> bool:
    """Good parts are issued against an appraisal that found a product quality problem."""
    return ret.state == "appraised" and ret.verdict == "quality_problem"


def issue(complaint: Complaint, ret: GoodsReturn, actor, *, issued_quantity,
          note: str | None = None) -> None:
    """After-sales draws good parts from the warehouse against the appraisal form."""
    require(actor, "return_issue", complaint)
    if not may_issue_now(ret):
        raise Refused("not_from_status", NOT_NOW)
    count = quantity(issued_quantity, "issued_quantity", ret.defective_quantity or 0)
    ret.issued_quantity, ret.issue_note = count, text(note, "note", required=False)
    ret.issued_by_id, ret.issued_at = actor.id, utcnow()
    ret.state = "issued"
    record(complaint, actor, "return.issued", customer_visible=True,
           data={"return_id": ret.id, "rma": ret.rma_number, "quantity": count})
    clocks.stop(ret, "return_issue", "issued")
    touch(complaint)
    announce("good_parts_issued", complaint, actor, return_id=ret.id, rma=ret.rma_number,
             quantity=count)
