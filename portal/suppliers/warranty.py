"""Warranty status of a serial number: in warranty, expired, or unknown, from the shipment
it came in and its product model's warranty term (months from the shipment date)."""

from __future__ import annotations

import calendar
from datetime import date

from ..i18n import lazy_gettext as _l
from ..models import ProductModel, SerialNumber, Shipment

STATUS_LABELS = {"in_warranty": _l("In warranty"), "expired": _l("Warranty expired"),
                 "unknown": _l("Warranty unknown")}


def warranty_end(shipped_on: date, months: int) -> date:
    month = shipped_on.month - 1 + months
    year, month = shipped_on.year + month // 12, month % 12 + 1
    return date(year, month, min(shipped_on.day, calendar.monthrange(year, month)[1]))


def status_for(model: ProductModel | None, shipped_on: date | None,
               today: date | None = None) -> tuple[str, date | None]:
    """("in_warranty" | "expired" | "unknown", the last day of warranty or None)."""
    if model is None or shipped_on is None or not model.warranty_months:
        return "unknown", None
    end = warranty_end(shipped_on, model.warranty_months)
    return ("in_warranty" if (today or date.today()) <= end else "expired"), end


def serial_status(serial: SerialNumber, today: date | None = None) -> tuple[str, date | None]:
    """A complaint's serial: its matched shipment, else the complaint's own model and
    shipment date."""
    shipment: Shipment | None = serial.shipment
    if shipment is not None:
        return status_for(shipment.product_model, shipment.shipped_on, today)
    complaint = serial.complaint
    return status_for(complaint.product_model, complaint.shipped_on, today)
