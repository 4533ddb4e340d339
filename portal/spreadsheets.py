"""Cells of the spreadsheets the product writes (the queue export, survey results, import
templates and their problem lists): text that Excel or LibreOffice would take for a formula
never reaches them as one."""

from __future__ import annotations

# A cell starting with one of these is read as a formula (a tab or CR as well, by some).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """``value``, with a leading apostrophe when it is text that starts like a formula (the
    spreadsheet then shows it as text). Anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
