"""Serial numbers: the one home of their rules, used by the portal (intake.py), by staff
filing (casework.py) and by the catalogue (imports, the shipment form) alike.

- ``parse(text)`` splits typed or pasted text (one a line; commas, semicolons, tabs, spaces
  and their full-width forms also split), normalises each (NFKC full-width to ASCII, upper
  case) and reports duplicates;
- ``pattern_for(tenant, product)`` is the format a serial must have: the product model's own
  pattern, else the tenant's setting (a broken setting falls back to the default);
- ``format_errors(...)`` says which values do not have that format; ``has_format`` is the
  test itself (at most 60 characters, the pattern matching from the start);
- ``range_size(first, last)`` and ``in_range(serial, first, last)``: a shipment's range;
- ``split(text)`` splits a list as typed without normalising (the catalogue's imports);
- ``find_shipment(serial, product_model_id=None)`` finds the shipment whose range
  (same prefix, numeric tail of the same length) or list holds a serial.

Reading only; every query assumes the tenant is active (tenant scoping filters it).
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import or_, select

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import DEFAULT_SETTINGS, ProductModel, Shipment, Tenant

MAX_SERIALS = 200
MAX_LENGTH = 60  # the column's width
# One serial per line; commas, semicolons, tabs, spaces and their full-width forms also split.
_SPLIT = re.compile(r"[\s,;，；、]+")
_NUMERIC_TAIL = re.compile(r"^(.*?)(\d+)$")


def split(text: str | None) -> list[str]:
    """The values of a list as typed (one a line; commas, semicolons, spaces and their
    full-width forms also split), not normalised: the catalogue keeps what it was given."""
    return [v for v in _SPLIT.split(text or "") if v]


def normalise(raw: str | None) -> str:
    """Full-width characters to ASCII (NFKC), upper case, no surrounding space."""
    return unicodedata.normalize("NFKC", raw or "").strip().upper()


def parse(text: str | None) -> tuple[list[str], list[str]]:
    """Split pasted or typed text into serial numbers, in order.

    Returns ``(serials, duplicates)``: each serial once, and the values that were listed more
    than once (so the form can say so).
    """
    serials: list[str] = []
    duplicates: list[str] = []
    for raw in _SPLIT.split(unicodedata.normalize("NFKC", text or "")):
        value = normalise(raw)
        if not value:
            continue
        if value in serials:
            if value not in duplicates:
                duplicates.append(value)
            continue
        serials.append(value)
    return serials, duplicates


def compile_pattern(pattern: str | None) -> re.Pattern | None:
    """A serial pattern from a setting or a model, or None when it is empty or broken."""
    try:
        return re.compile(pattern) if pattern else None
    except re.error:
        return None


def pattern_for(tenant: Tenant, product: ProductModel | None) -> re.Pattern:
    """The format a serial must have: the model's own pattern, else the tenant's."""
    pattern = (product.serial_pattern if product is not None else None) or tenant.setting(
        "serial_pattern")
    try:
        return re.compile(pattern)
    except re.error:  # a broken tenant setting must not stop anyone filing
        return re.compile(DEFAULT_SETTINGS["serial_pattern"])


def has_format(pattern: re.Pattern, value: str) -> bool:
    return len(value) <= MAX_LENGTH and pattern.match(value) is not None


def bad_format_message(value: str):
    return _l("%(serial)s does not look like one of our serial numbers. "
              "Check it against the nameplate.", serial=value)


def format_errors(tenant: Tenant, product: ProductModel | None, values) -> list:
    """A message for each value that does not have the serial format (none: all fine)."""
    pattern = pattern_for(tenant, product)
    return [bad_format_message(v) for v in values if not has_format(pattern, v)]


def range_size(first: str, last: str) -> int | None:
    """How many serial numbers the range first..last covers, or None when it is not a valid
    range (same prefix, numeric tails of the same length, last not before first)."""
    a, b = _NUMERIC_TAIL.match(first), _NUMERIC_TAIL.match(last)
    if not a or not b or a.group(1) != b.group(1) or len(a.group(2)) != len(b.group(2)):
        return None
    count = int(b.group(2)) - int(a.group(2)) + 1
    return count if count >= 1 else None


def in_range(serial: str, first: str | None, last: str | None) -> bool:
    """Is ``serial`` inside the contiguous range first..last (same prefix, numeric tail)?"""
    if not first or not last:
        return False
    s, a, b = (_NUMERIC_TAIL.match(v) for v in (serial, first.upper(), last.upper()))
    if not (s and a and b) or not (s.group(1) == a.group(1) == b.group(1)):
        return False
    if len(s.group(2)) != len(a.group(2)):
        return False
    return int(a.group(2)) <= int(s.group(2)) <= int(b.group(2))


def find_shipment(serial: str, product_model_id: int | None = None) -> Shipment | None:
    """The shipment whose serial range or list holds ``serial`` (of ``product_model_id`` when
    given), if the catalogue knows one.

    Ranges are narrowed in SQL by their prefix; explicit lists are checked in Python (the
    column is JSON, not indexable on every database), which is fine for catalogues of some
    thousands of shipments.
    """
    match = _NUMERIC_TAIL.match(serial)
    conditions = [Shipment.serials.is_not(None)]
    if match:
        prefix = match.group(1).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Shipment.serial_first.like(prefix + "%", escape="\\"))
    statement = select(Shipment).where(or_(*conditions)).order_by(Shipment.shipped_on.desc())
    if product_model_id is not None:
        statement = statement.where(Shipment.product_model_id == product_model_id)
    for shipment in db.session.scalars(statement):
        if in_range(serial, shipment.serial_first, shipment.serial_last):
            return shipment
        if serial in {normalise(v) for v in (shipment.serials or ())}:
            return shipment
    return None
