"""Codes of what a supplier supplies (product model codes, part numbers): their format and
how a list of them is typed (one per line or separated by commas)."""

from __future__ import annotations

import re

# Letters, digits, dots, dashes, slashes; 1 to 60 characters, starting with a letter or
# digit (so a cell like "=HYPERLINK(…)" or "+1" is never taken as a code).
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,59}$")
MAX_CODES = 200


def split_codes(text: str | None) -> list[str]:
    """Codes typed one per line or separated by commas, trimmed, duplicates dropped."""
    codes = []
    for part in re.split(r"[,;\n\r，；]+", text or ""):
        part = part.strip()
        if part and part not in codes:
            codes.append(part)
    return codes
