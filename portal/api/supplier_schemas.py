"""Bodies of the supplier operations (``suppliers.py``); limits and formats follow the admin's
supplier form (``internal/supplier_forms.py``). Kept apart from ``schemas.py`` for its size."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from ..i18n import LANGUAGE_NAMES
from ..i18n import lazy_gettext as _l
from ..models import SUPPLIER_REQUEST_STATES
from .schemas import ContactCreateSchema, ContactSchema, ListArgs, Strict

# internal/supplier_forms.CODE: letters, digits, dots, dashes, slashes; 1 to 60 characters.
CODE = r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,59}$"
_CODE = validate.Regexp(CODE)
LOCALES = list(LANGUAGE_NAMES)


def _code(value: str) -> None:
    """A supplier's own code: said in the caller's language (marshmallow's is English)."""
    if len(value) > 40 or not _CODE.regex.match(value):
        raise ma.ValidationError(str(_l("Use letters, digits, dots, dashes or slashes.")))


def _codes(values: list[str]) -> None:
    """Each a code once trimmed (blanks are dropped when stored), as the form's list."""
    bad = [v.strip() for v in values if v.strip() and not _CODE.regex.match(v.strip())]
    if bad:
        raise ma.ValidationError(str(_l("Not a valid code: %(code)s", code=bad[0][:60])))
    if len(values) > 200:
        raise ma.ValidationError(str(_l("At most %(max)d entries.", max=200)))


_CODE_LIST = {"validate": _codes, "metadata": {
    "description": "Codes of letters, digits, dots, dashes or slashes; at most 200."}}


class SupplierListArgs(ListArgs):
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Part of the name or code, ignoring case."})
    active = fields.Boolean()


class SupplierSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    code = fields.String(required=True)
    locale = fields.String(required=True)
    product_codes = fields.List(fields.String(), required=True)
    part_numbers = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    contacts = fields.List(fields.Nested(ContactSchema), required=True)


class SupplierPageSchema(ma.Schema):
    items = fields.List(fields.Nested(SupplierSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class SupplierCreateSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    code = fields.String(required=True, validate=_code,
                         metadata={"description": "Letters, digits, dots, dashes or slashes; "
                                                  "at most 40."})
    locale = fields.String(load_default="zh_CN", validate=validate.OneOf(LOCALES),
                           metadata={"description": "The language of its e-mails."})
    product_codes = fields.List(fields.String(validate=validate.Length(min=1, max=60)),
                                load_default=list, **_CODE_LIST)
    part_numbers = fields.List(fields.String(validate=validate.Length(min=1, max=60)),
                               load_default=list, **_CODE_LIST)


class SupplierUpdateSchema(Strict):
    name = fields.String(validate=validate.Length(min=1, max=200))
    code = fields.String(validate=_code)
    locale = fields.String(validate=validate.OneOf(LOCALES))
    product_codes = fields.List(fields.String(validate=validate.Length(min=1, max=60)),
                                **_CODE_LIST)
    part_numbers = fields.List(fields.String(validate=validate.Length(min=1, max=60)),
                               **_CODE_LIST)
    active = fields.Boolean(metadata={"description": "false deactivates: no new requests can "
                                                     "be opened to it; its history stays."})


class SupplierContactCreateSchema(ContactCreateSchema):
    """As a customer's contact: e-mail unique among the supplier's contacts."""


class SupplierRequestListArgs(ListArgs):
    state = fields.String(validate=validate.OneOf(SUPPLIER_REQUEST_STATES))


class SupplierRequestRowSchema(ma.Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    complaint_number = fields.String(required=True)
    supplier_id = fields.Integer(required=True)
    supplier = fields.String(required=True)
    supplier_code = fields.String(required=True)
    part_number = fields.String(required=True)
    defective_quantity = fields.Integer(required=True)
    state = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True)
    answered_at = fields.DateTime(allow_none=True, required=True)
    decided_at = fields.DateTime(allow_none=True, required=True)


class SupplierRequestPageSchema(ma.Schema):
    items = fields.List(fields.Nested(SupplierRequestRowSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
