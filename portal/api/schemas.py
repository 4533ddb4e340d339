"""The API's request and response bodies as marshmallow schemas (flask-smorest documents them
in the OpenAPI document and validates requests against them). Limits follow the web forms."""

from __future__ import annotations

import re
from datetime import date

import marshmallow as ma
from marshmallow import fields, validate

from ..i18n import lazy_gettext as _l
from ..models import (
    API_SCOPES,
    CHANNELS,
    COST_CATEGORIES,
    DEMANDS,
    INFO_CLASSES,
    SEVERITIES,
    STATUSES,
)

AMOUNT = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
SERIAL = r"^[A-Za-z0-9][A-Za-z0-9\-]{2,59}$"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _control_errors(value):
    """Paths of strings holding control characters (NUL cannot even be stored)."""
    if isinstance(value, str):
        return [str(_l("Text may not contain control characters."))] \
            if _CONTROL.search(value) else None
    if isinstance(value, dict):
        found = {str(k): e for k, v in value.items() if (e := _control_errors(v))}
        return found or None
    if isinstance(value, list):
        found = {i: e for i, v in enumerate(value) if (e := _control_errors(v))}
        return found or None
    return None


class Strict(ma.Schema):
    """Unknown fields are refused, and so is any text with control characters in it."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load(pass_collection=True)
    def _refuse_control_characters(self, data, **kwargs):
        source = data.to_dict(flat=False) if hasattr(data, "to_dict") else data
        errors = _control_errors(source)
        if errors:
            raise ma.ValidationError(errors)
        return data


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    code = fields.String()
    errors = fields.Raw()


class ListArgs(Strict):
    cursor = fields.String(validate=validate.Length(max=100))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class ComplaintListArgs(ListArgs):
    view = fields.String(load_default="all", validate=validate.OneOf(
        ["open", "mine", "department", "unassigned", "waiting", "overdue", "closed", "all"]))
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)))
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    info_class = fields.String(data_key="class", validate=validate.OneOf(INFO_CLASSES))
    department = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    owner = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    product = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    customer = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    overdue = fields.Boolean()
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    q = fields.String(validate=validate.Length(max=100))


class ComplaintRowSchema(ma.Schema):
    number = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    severity = fields.String(allow_none=True)
    info_class = fields.String(allow_none=True)
    source = fields.String(required=True)
    defect_quantity = fields.Integer(required=True)
    reporter_name = fields.String(required=True)
    customer = fields.String(allow_none=True)
    product_model = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    owner = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    status_changed_at = fields.DateTime(required=True)
    serial_numbers = fields.List(fields.String(), required=True)


class ComplaintPageSchema(ma.Schema):
    items = fields.List(fields.Nested(ComplaintRowSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class ComplaintCreateSchema(Strict):
    source = fields.String(load_default="staff", validate=validate.OneOf(["staff", "production"]))
    channel = fields.String(required=True, validate=validate.OneOf(
        [c for c in CHANNELS if c != "portal"]))
    customer_id = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    reporter_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    reporter_phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    reporter_email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    product_model = fields.String(required=True, validate=validate.Length(min=1, max=60),
                                  metadata={"description": "The product model's code."})
    specification = fields.String(allow_none=True, validate=validate.Length(max=300))
    shipped_on = fields.Date(allow_none=True)
    lot = fields.String(allow_none=True, validate=validate.Length(max=60))
    defect_quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=1_000_000))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(required=True, validate=validate.Length(min=1, max=10_000))
    serial_numbers = fields.List(fields.String(validate=validate.Regexp(SERIAL)),
                                 load_default=list, validate=validate.Length(max=50))
    demands = fields.List(fields.String(validate=validate.OneOf(DEMANDS)), load_default=list,
                          validate=validate.Length(max=len(DEMANDS)))


class TimelineEventSchema(ma.Schema):
    kind = fields.String(required=True)
    actor = fields.String(required=True)
    message = fields.String(allow_none=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    customer_visible = fields.Boolean(required=True)
    at = fields.DateTime(required=True)


class PhotoSchema(ma.Schema):
    id = fields.Integer(required=True)
    state = fields.String(required=True)
    filename = fields.String(allow_none=True)


class ComplaintSchema(ComplaintRowSchema):
    version = fields.Integer(required=True)
    channel = fields.String(required=True)
    description = fields.String(required=True)
    lot = fields.String(allow_none=True)
    shipped_on = fields.Date(allow_none=True)
    demands = fields.List(fields.String(), required=True)
    cause_category = fields.String(allow_none=True)
    answer = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    timeline_scope = fields.String(required=True, validate=validate.OneOf(["customer", "full"]))
    timeline = fields.List(fields.Nested(TimelineEventSchema), required=True)
    photos = fields.List(fields.Nested(PhotoSchema), required=True)


class TransitionSchema(ma.Schema):
    name = fields.String(required=True)
    target = fields.String(required=True)
    label = fields.String(required=True)
    needs_message = fields.Boolean(required=True)
    blocked_by = fields.String(allow_none=True, required=True,
                               metadata={"description": "Why a guard refuses it now, if so."})


class TransitionListSchema(ma.Schema):
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    transitions = fields.List(fields.Nested(TransitionSchema), required=True)


class TransitionRequestSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=40))
    message = fields.String(allow_none=True, validate=validate.Length(max=10_000))
    version = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "Refuse (409) if the complaint changed "
                                                      "since this version."})


class CostSchema(ma.Schema):
    id = fields.Integer(required=True)
    category = fields.String(required=True)
    amount = fields.String(required=True, metadata={"description": "Decimal, e.g. \"120.50\"."})
    currency = fields.String(required=True)
    department_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    state = fields.String(required=True, metadata={
        "enum": ["active", "corrected", "voided"],
        "description": "Only active entries count in totals; a corrected one names the entry "
                       "that replaced it in replaced_by_id."})
    replaced_by_id = fields.Integer(allow_none=True)
    state_reason = fields.String(allow_none=True)


class CostListSchema(ma.Schema):
    items = fields.List(fields.Nested(CostSchema), required=True)


class CostCreateSchema(Strict):
    category = fields.String(required=True, validate=validate.OneOf(COST_CATEGORIES))
    amount = fields.String(required=True, validate=validate.Regexp(AMOUNT),
                           metadata={"description": "Above zero, at most two decimals, as a "
                                                    "string: \"120.50\"."})
    currency = fields.String(load_default="CNY", validate=validate.Regexp(r"^[A-Z]{3}$"))
    department_id = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


# -- customers and catalogue -----------------------------------------------------------------

class ContactSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(allow_none=True)
    locale = fields.String(allow_none=True)
    active = fields.Boolean(required=True)


class CustomerSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    code = fields.String(allow_none=True)
    key_account = fields.Boolean(required=True)
    contacts = fields.List(fields.Nested(ContactSchema), required=True)


class CustomerPageSchema(ma.Schema):
    items = fields.List(fields.Nested(CustomerSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class CustomerCreateSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    code = fields.String(allow_none=True, validate=validate.Length(max=40))
    key_account = fields.Boolean(load_default=False)


class ContactCreateSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    locale = fields.String(allow_none=True, validate=validate.OneOf(["zh_CN", "en"]))


class ProductSchema(ma.Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    specification = fields.String(allow_none=True)
    product_line = fields.String(allow_none=True)
    serial_pattern = fields.String(allow_none=True)
    active = fields.Boolean(required=True)


class ProductPageSchema(ma.Schema):
    items = fields.List(fields.Nested(ProductSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class ProductCreateSchema(Strict):
    code = fields.String(required=True, validate=validate.Length(min=1, max=60))
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=200))
    specification = fields.String(allow_none=True, validate=validate.Length(max=300))
    product_line = fields.String(allow_none=True, validate=validate.Length(max=120))
    serial_pattern = fields.String(allow_none=True, validate=validate.Length(max=200))


class ShipmentSchema(ma.Schema):
    id = fields.Integer(required=True)
    product_model = fields.String(required=True)
    lot = fields.String(required=True)
    quantity = fields.Integer(required=True)
    shipped_on = fields.Date(required=True)
    customer = fields.String(allow_none=True)
    serial_first = fields.String(allow_none=True)
    serial_last = fields.String(allow_none=True)
    serials = fields.List(fields.String(), allow_none=True)
    installed_on = fields.Date(allow_none=True)


class ShipmentPageSchema(ma.Schema):
    items = fields.List(fields.Nested(ShipmentSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class ShipmentRowSchema(Strict):
    product_model = fields.String(required=True, validate=validate.Length(min=1, max=60))
    lot = fields.String(required=True, validate=validate.Length(min=1, max=60))
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    shipped_on = fields.Date(required=True)
    customer = fields.String(allow_none=True, validate=validate.Length(max=200),
                             metadata={"description": "The customer company's name."})
    serial_first = fields.String(allow_none=True, validate=validate.Length(max=60))
    serial_last = fields.String(allow_none=True, validate=validate.Length(max=60))
    serials = fields.List(fields.String(validate=validate.Length(min=1, max=60)),
                          allow_none=True, validate=validate.Length(max=10_000))
    installed_on = fields.Date(allow_none=True, metadata={
        "description": "Where the tenant records installation: the day the delivery was "
                       "installed (a model's warranty from installation starts then). Left "
                       "out or null, a known date is kept."})


MAX_UPSERT_ROWS = 10_000
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ROW_TEXT = {"product_model": (1, 60, True), "lot": (1, 60, True), "customer": (0, 200, False),
             "serial_first": (0, 60, False), "serial_last": (0, 60, False)}


def _row_errors(row) -> dict | None:
    """What ShipmentRowSchema would say about one row, checked by hand: marshmallow took
    300 µs a row, half of a 10,000-row upsert. Control characters are refused for the whole
    body by ``Strict``."""
    if not isinstance(row, dict):
        return {"_schema": [FIELD_INVALID]}
    errors = {key: [UNKNOWN] for key in row if key not in ShipmentRowSchema._declared_fields}
    for key, (low, high, required) in _ROW_TEXT.items():
        value = row.get(key)
        if value is None:
            if required:
                errors[key] = [REQUIRED]
        elif not isinstance(value, str):
            errors[key] = [NOT_TEXT]
        elif not low <= len(value) <= high:
            errors[key] = [f"Length must be between {low} and {high}."]
    quantity = row.get("quantity")
    if quantity is None:
        errors["quantity"] = [REQUIRED]
    elif isinstance(quantity, bool) or not isinstance(quantity, int):
        errors["quantity"] = ["Not a valid integer."]
    elif not 1 <= quantity <= 2**31 - 1:
        errors["quantity"] = [f"Must be greater than or equal to 1 and less than or equal to "
                              f"{2**31 - 1}."]
    shipped = row.get("shipped_on")
    if shipped is None:
        errors["shipped_on"] = [REQUIRED]
    elif not isinstance(shipped, str) or not _ISO_DATE.match(shipped) or _bad_date(shipped):
        errors["shipped_on"] = ["Not a valid date."]
    installed = row.get("installed_on")
    if installed is not None and (not isinstance(installed, str) or not _ISO_DATE.match(
            installed) or _bad_date(installed)):
        errors["installed_on"] = ["Not a valid date."]
    serials = row.get("serials")
    if serials is not None and (not isinstance(serials, list) or len(serials) > 10_000 or any(
            not isinstance(v, str) or not 1 <= len(v) <= 60 for v in serials)):
        errors["serials"] = [FIELD_INVALID]
    return errors or None


def _bad_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return True
    return False


REQUIRED, UNKNOWN = "Missing data for required field.", "Unknown field."
NOT_TEXT, FIELD_INVALID = "Not a valid string.", "Invalid input type."


class ShipmentRows(fields.List):
    """A list of ShipmentRowSchema rows (so documented), checked by ``_row_errors``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise ma.ValidationError("Not a valid list.")
        if not 1 <= len(value) <= MAX_UPSERT_ROWS:
            raise ma.ValidationError(f"Length must be between 1 and {MAX_UPSERT_ROWS}.")
        errors = {i: e for i, row in enumerate(value) if (e := _row_errors(row))}
        if errors:
            raise ma.ValidationError(errors)
        return value


class ShipmentUpsertSchema(Strict):
    rows = ShipmentRows(fields.Nested(ShipmentRowSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_UPSERT_ROWS))


class UpsertResultSchema(ma.Schema):
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)


class TokenInfoSchema(ma.Schema):
    name = fields.String(required=True)
    scopes = fields.List(fields.String(validate=validate.OneOf(API_SCOPES)), required=True)
    acting_user = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
