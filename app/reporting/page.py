"""Print setup and document properties shared by the xlsx backends."""

from __future__ import annotations

from app.reporting.safe import clean_text
from app.reporting.table import Report

PAPER_SIZES: dict[str, int] = {"A4": 9, "A3": 8}
#: Excel's "narrow" margins, in inches.
MARGINS: dict[str, float] = {
    "left": 0.25,
    "right": 0.25,
    "top": 0.75,
    "bottom": 0.75,
    "header": 0.3,
    "footer": 0.3,
}
FOOTER_TEXT = "第 &P 页，共 &N 页"
CREATOR = "一表通"


def properties(report: Report) -> dict[str, str]:
    """Workbook document properties: title, creator and the report's meta as description/keywords."""
    meta = {clean_text(str(k)): clean_text("" if v is None else str(v)) for k, v in report.meta.items()}
    return {
        "title": clean_text(report.title),
        "subject": clean_text(report.title),
        "creator": CREATOR,
        "description": "\n".join(f"{k}: {v}" for k, v in meta.items()),
        "keywords": "; ".join(f"{k}={v}" for k, v in meta.items()),
    }
