"""Reading an upload: the bytes sniffed (.xlsx, CSV; the old binary .xls and anything else
refused with a translated reason) and read as a header and numbered rows."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable

from flask_babel import gettext as _

MAX_UPLOAD_BYTES = 30 * 1024 * 1024
MAX_ROWS = 200_000
MAX_PROBLEMS_KEPT = 500
CHUNK = 5_000

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls


class ImportFileError(ValueError):
    """The upload cannot be read as a spreadsheet; the message says why, translated."""


# -- reading ------------------------------------------------------------------------------

def read_table(data: bytes) -> tuple[list, Iterable[tuple[int, list]]]:
    """Return (header cells, iterator of (row number, cells)) from .xlsx or CSV bytes.

    Row numbers are as the user sees them in Excel (header = row 1). Empty rows are skipped.
    Raises ImportFileError for anything that is not a readable spreadsheet.
    """
    if not data:
        raise ImportFileError(_("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportFileError(_("The file is larger than 30 MB. Split it into several files."))
    if data.startswith(OLE_MAGIC):
        raise ImportFileError(_("This is an old Excel file (.xls). Save it as .xlsx or CSV "
                                "and upload it again."))
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data)
    return _read_csv(data)


def sniff(data: bytes) -> str:
    """A cheap check, fit for the web request: "xlsx" for a zip holding an Excel workbook,
    "csv" for text that decodes; ImportFileError otherwise. ``read_table`` does the rest."""
    import zipfile

    if not data:
        raise ImportFileError(_("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportFileError(_("The file is larger than 30 MB. Split it into several files."))
    if data.startswith(OLE_MAGIC):
        raise ImportFileError(_("This is an old Excel file (.xls). Save it as .xlsx or CSV "
                                "and upload it again."))
    if data.startswith(XLSX_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "xl/workbook.xml" not in archive.namelist():
                    raise zipfile.BadZipFile("no workbook")
        except zipfile.BadZipFile as exc:
            raise ImportFileError(_("This file is not an Excel workbook we can read. Save it "
                                    "as .xlsx or CSV and try again.")) from exc
        return "xlsx"
    _decode(data)
    return "csv"


def _read_xlsx(data: bytes):
    import zipfile

    from openpyxl import load_workbook

    try:
        # read_only streams the sheet; data_only gives the cached value of a formula cell
        # (never evaluating it).
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise ImportFileError(_("This file is not an Excel workbook we can read. Save it as "
                                ".xlsx or CSV and try again.")) from exc
    except Exception as exc:  # noqa: BLE001 — openpyxl raises many kinds on broken files
        raise ImportFileError(_("This file is not an Excel workbook we can read. Save it as "
                                ".xlsx or CSV and try again.")) from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = None
    number = 0
    for cells in rows:
        number += 1
        if any(_present(c) for c in cells):
            header = list(cells)
            break
    if header is None:
        workbook.close()
        raise ImportFileError(_("The first sheet is empty."))

    def body(start=number):
        n = start
        try:
            for cells in rows:
                n += 1
                if any(_present(c) for c in cells):
                    yield n, list(cells)
        finally:
            workbook.close()

    return header, body()


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise ImportFileError(_("This file is neither an Excel workbook (.xlsx) nor a CSV "
                                "text file."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return codecs.decode(data, encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The CSV file's characters cannot be read. Save it as UTF-8 "
                            "(or as .xlsx) and try again."))


def _read_csv(data: bytes):
    text = _decode(data)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header = None
    number = 0
    try:
        for cells in reader:
            number += 1
            if any(c.strip() for c in cells):
                header = cells
                break
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file is malformed: %(error)s", error=str(exc))) from exc
    if header is None:
        raise ImportFileError(_("The file is empty."))

    def body(start=number):
        n = start
        try:
            for cells in reader:
                n += 1
                if any(c.strip() for c in cells):
                    yield n, cells
        except csv.Error as exc:
            raise ImportFileError(_("The CSV file is malformed near row %(row)d.", row=n + 1)) \
                from exc

    return header, body()


def _present(value) -> bool:
    return value is not None and (not isinstance(value, str) or value.strip() != "")
