"""Names for the keys the figures group by, in the reader's language."""

from __future__ import annotations

from flask_babel import get_locale
from sqlalchemy import select

from ..complaints.vocabulary import CAUSE_LABELS
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import CustomerCompany, Department, FailureMode, ProductModel, Supplier

DIMENSION_LABELS = {
    "cause": _l("5M1E cause"), "mode": _l("Failure mode"), "product": _l("Product model"),
    "customer": _l("Customer"), "department": _l("Responsible department"),
}
CLOCK_LABELS = {
    "first_contact": _l("First contact with the customer"),
    "answer": _l("Answer with a handling opinion"),
    "class_a_plan": _l("Class-A solution plan"),
    "containment": _l("Production exception: temporary measure"),
    "corrective": _l("Corrective actions"),
}
UNCLASSIFIED = _l("Not classified")


class Names:
    """Looks up the display names of one tenant's small tables once per page."""

    def __init__(self):
        self.locale = str(get_locale() or "zh_CN")
        self._cache: dict[str, dict] = {}

    def _load(self, kind: str) -> dict:
        if kind not in self._cache:
            if kind == "mode":
                rows = {m.id: m.display_name(self.locale)
                        for m in db.session.scalars(select(FailureMode))}
            elif kind == "product":
                rows = dict(db.session.execute(select(ProductModel.id, ProductModel.code)).all())
            elif kind == "customer":
                rows = dict(db.session.execute(
                    select(CustomerCompany.id, CustomerCompany.name)).all())
            elif kind == "department":
                rows = dict(db.session.execute(select(Department.id, Department.name)).all())
            elif kind == "supplier":
                rows = dict(db.session.execute(select(Supplier.id, Supplier.name)).all())
            else:
                rows = {k: str(v) for k, v in CAUSE_LABELS.items()}
            self._cache[kind] = rows
        return self._cache[kind]

    def __call__(self, kind: str, key) -> str:
        if key is None:
            return str(UNCLASSIFIED)
        return str(self._load(kind).get(key, key))
