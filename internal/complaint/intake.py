"""Intake and serial numbers: what the customer (or staff filing for them) reported, and the
serial numbers matched against the shipment catalogue. Read only."""

from __future__ import annotations

from ..forms import CHANNEL_LABELS, DEMAND_LABELS
from .base import Case, panel


@panel("intake", "#intake")
def context(case: Case, forms: dict) -> dict:
    return {"serials": case.serials, "channel_labels": CHANNEL_LABELS,
            "demand_labels": DEMAND_LABELS, "locale": case.locale}
