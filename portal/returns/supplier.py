"""A purchased reject's supplier corrective action request, opened from its appraisal: the
defect as quality appraised it (with the RMA, the verdict and the quantities), replacement
parts asked for the scrapped quantity, the appraisal's evidence photos referred to, due in
the tenant's answer period (portal/suppliers/requests.py: one month by default)."""

from __future__ import annotations

from ..complaints.permissions import FORBIDDEN, Refused
from ..i18n import lazy_gettext as _l
from ..models import Complaint, GoodsReturn, Supplier, SupplierRequest, Tenant
from ..suppliers import requests as scars

NO_CONTACT = _l("This supplier has no active contact to write to: add one on the supplier's "
                "page first.")


def check_contact(supplier: Supplier) -> None:
    """Refused ("supplier_id") when nobody at the supplier can receive the request."""
    if not any(c.active for c in supplier.contacts):
        raise Refused("supplier_id", NO_CONTACT)


def defect_text(ret: GoodsReturn) -> str:
    """The request's defect, pre-filled from the appraisal (both languages: the supplier may
    read either)."""
    photos = len(ret.evidence or [])
    return (f"{ret.rma_number} · 售后三包鉴定 Warranty return appraisal: 产品质量问题 "
            f"product quality problem.\n{ret.appraisal}\n"
            f"退回 Returned {ret.quantity_received} · 不合格 Defective {ret.defective_quantity}"
            f" · 料废 Scrapped {ret.scrapped_quantity}"
            + (f" · 照片 Photos {photos}" if photos else ""))


def open_from(tenant: Tenant, complaint: Complaint, ret: GoodsReturn,
              actor) -> SupplierRequest:
    """Open the request and e-mail the supplier its link; the return keeps it."""
    try:
        scar = scars.open_request(
            tenant, complaint, actor, supplier_id=ret.supplier_id, contact_id=None,
            part_number=ret.part_number or "", defect=defect_text(ret),
            defective_quantity=ret.defective_quantity,
            replacement_quantity=ret.scrapped_quantity or 0, asks=["replacement", "eight_d"])
    except scars.RequestError as error:
        raise Refused(error.field, error.message) from None
    except PermissionError:
        raise Refused("forbidden", FORBIDDEN) from None
    ret.supplier_request_id = scar.id
    return scar
