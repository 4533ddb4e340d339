"""Names for the keys the figures group by, in the reader's language."""

from __future__ import annotations

from flask_babel import get_locale
from sqlalchemy import select

from .. import reference_cache
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
SOURCES = {"mode": FailureMode, "product": ProductModel, "customer": CustomerCompany,
           "department": Department, "supplier": Supplier}
for _kind, _model in [*SOURCES.items(), ("product_name", ProductModel)]:
    # a write to one bumps the version in every process
    reference_cache.watch(f"analytics_names_{_kind}", (_model,))


class Names:
    """Looks up the display names of one tenant's small tables once per page."""

    def __init__(self, locale: str | None = None):
        self.locale = locale or str(get_locale() or "zh_CN")
        self._cache: dict[str, dict] = {}

    def _load(self, kind: str) -> dict:
        if kind not in self._cache:
            if kind == "cause":
                self._cache[kind] = {k: str(v) for k, v in CAUSE_LABELS.items()}
            else:  # from the per-process reference cache: no statement on most pages
                model = SOURCES["product" if kind == "product_name" else kind]
                self._cache[kind] = reference_cache.cached(
                    f"analytics_names_{kind}_{self.locale}", (model,),
                    lambda: self._read(kind))
        return self._cache[kind]

    def _read(self, kind: str) -> dict:
        if kind == "product_name":  # a model's name in the reader's language (ratio charts)
            return {p.id: p.display_name(self.locale)
                    for p in db.session.scalars(select(ProductModel))}
        if kind == "mode":
            return {m.id: m.display_name(self.locale)
                    for m in db.session.scalars(select(FailureMode))}
        model = SOURCES[kind]
        name = model.code if kind == "product" else model.name
        return dict(db.session.execute(select(model.id, name)).all())

    def table(self, kind: str) -> dict:
        """{id: name} of one kind (``product_name``: the models' names, ``product``: codes)."""
        return self._load(kind)

    def __call__(self, kind: str, key) -> str:
        if key is None:
            return str(UNCLASSIFIED)
        return str(self._load(kind).get(key, key))
