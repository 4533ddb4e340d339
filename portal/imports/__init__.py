"""Spreadsheet imports (shipments, customers): read, validate, preview, write all or nothing.

Rooms: ``reading`` (bytes to rows: .xlsx through openpyxl in read-only mode with
``data_only=True``, so a formula is read as the value Excel saved with it, never evaluated;
CSV in UTF-8, with or without BOM, or GB18030 as Chinese Excel saves it; anything else is
refused), ``columns`` (the columns of each kind with their English and Chinese headers, the
header mapping, problem messages, template files and the shipment export), ``validation``
(cells parsed and every row checked; pure functions, no database), ``runs`` (the
operations on one ``ImportRun`` in the active tenant, which flush; the job wrapper commits):

1. ``start_run`` keeps the upload in storage and the run is ``uploaded``;
2. ``run_preview`` parses it, checks every row and stages the good rows in storage as
   gzipped JSON; the run is ``previewed`` with its problems (nothing written yet);
3. ``run_apply`` refuses a run with problems, re-checks the staged rows against the
   catalogue, and upserts them in one transaction on (product model, lot) — the same file
   imported twice writes the same rows, never duplicates.
"""

from .columns import (  # noqa: F401
    COLUMNS,
    CUSTOMER_COLUMNS,
    PROBLEM_MESSAGES,
    SHIPMENT_COLUMNS,
    column_label,
    csv_bytes,
    map_header,
    problem_message,
    shipment_export_rows,
    template_file,
    template_headers,
    workbook_bytes,
)
from .reading import (  # noqa: F401
    CHUNK,
    MAX_PROBLEMS_KEPT,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    OLE_MAGIC,
    XLSX_MAGIC,
    ImportFileError,
    read_table,
    sniff,
)
from .runs import (  # noqa: F401
    ImportRefused,
    catalogue_maps,
    current_tenant_setting,
    run_apply,
    run_preview,
    start_run,
    upsert_customers,
    upsert_shipments,
)
from .validation import (  # noqa: F401
    Checked,
    parse_date,
    parse_quantity,
    validate_customers,
    validate_shipments,
)
