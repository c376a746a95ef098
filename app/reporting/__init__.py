"""Rendering finished reports: the rendered-table model and its xlsx, CSV and JSON writers.

The engine that fills a ``Report`` from the base data lives elsewhere; this package only lays it out
like the department's official form and writes it.
"""

from app.reporting.flat import to_json, write_csv, write_json
from app.reporting.safe import mask_address, mask_id_number, mask_phone, neutralise
from app.reporting.table import (
    Column,
    HeaderCell,
    Report,
    Row,
    Sheet,
    header_depth,
    leaf_order,
    validate_header,
    validate_report,
)
from app.reporting.xlsx import write_xlsx

__all__ = [
    "Column",
    "HeaderCell",
    "Report",
    "Row",
    "Sheet",
    "header_depth",
    "leaf_order",
    "mask_address",
    "mask_id_number",
    "mask_phone",
    "neutralise",
    "to_json",
    "validate_header",
    "validate_report",
    "write_csv",
    "write_json",
    "write_xlsx",
]
