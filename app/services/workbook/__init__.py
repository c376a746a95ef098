"""The village Excel round trip ("一表"): download the base data as one workbook, upload it edited,
preview new / changed / ended / invalid rows and conflicts, apply on confirmation in one transaction.

Modules: ``columns`` (sheets and columns from the model), ``xlsx_writer`` (streaming xlsx with
dropdowns and protection), ``download``, ``reader`` (calamine), ``context`` (the database side,
conflicts), ``preview`` (households and persons) and ``tag_rows`` (tags): the comparison; ``plan``
(the preview's data), ``uploads`` (store, preview, apply, discard).
"""

from app.services.workbook.download import Download, download_workbook, village_of
from app.services.workbook.plan import KIND_LABELS, CellChange, Preview, RowPlan
from app.services.workbook.uploads import (
    KEEP,
    TAKE,
    apply,
    discard,
    get_upload,
    pending_uploads,
    preview,
    store_upload,
)

__all__ = [
    "KEEP",
    "KIND_LABELS",
    "TAKE",
    "CellChange",
    "Download",
    "Preview",
    "RowPlan",
    "apply",
    "discard",
    "download_workbook",
    "get_upload",
    "pending_uploads",
    "preview",
    "store_upload",
    "village_of",
]
