"""Uploads that are refused before anything is stored: each with a clear Chinese message."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlmodel import Session
from village_data import VILLAGE_A, VILLAGE_B, Village

from app.issues import IssueError, PermissionDenied, ValidationFailed
from app.models import WorkbookUpload
from app.services import workbook

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _plain_workbook() -> bytes:
    wb = Workbook()
    wb.active["A1"] = "姓名"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _refusal(session: Session, user, code: str, content: bytes, **kw) -> IssueError:  # noqa: ANN001, ANN003
    with pytest.raises(IssueError) as refused:
        workbook.store_upload(session, user, code, "upload.xlsx", content, **kw)
    session.rollback()
    assert session.execute(select(func.count()).select_from(WorkbookUpload)).scalar() == 0
    return refused.value


@pytest.mark.parametrize(("content", "code", "words"), [
    (PNG, "not-xlsx", "不是 Excel 工作簿（.xlsx），而是图片"),
    (b"PK\x03\x04" + b"\x00" * 100, "corrupt-file", "文件已损坏"),
    (b"", "empty-file", "空的"),
    (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "not-xlsx", "旧版 .xls 文件"),
])
def test_files_that_are_not_workbooks(session: Session, village: Village, content: bytes, code: str, words: str) -> None:
    error = _refusal(session, village.cadre, VILLAGE_A, content)
    assert isinstance(error, ValidationFailed)
    assert error.issues[0].code == code and words in error.issues[0].message
    assert error.issues[0].location == {"file": "upload.xlsx"}


def test_a_workbook_not_made_by_the_platform(session: Session, village: Village) -> None:
    error = _refusal(session, village.cadre, VILLAGE_A, _plain_workbook())
    assert error.issues[0].code == "not-our-workbook" and "_meta" in error.issues[0].message


def test_a_truncated_download(session: Session, village: Village) -> None:
    content = workbook.download_workbook(session, village.cadre, VILLAGE_A).content
    session.commit()
    assert _refusal(session, village.cadre, VILLAGE_A, content[: len(content) // 2]).issues[0].code == "corrupt-file"


def test_another_villages_workbook(session: Session, village: Village) -> None:
    content = workbook.download_workbook(session, village.other, VILLAGE_B).content
    session.commit()
    error = _refusal(session, village.cadre, VILLAGE_A, content)
    assert error.issues[0].code == "wrong-village" and "乙村" in error.issues[0].message


def test_uploading_into_a_village_outside_ones_scope(session: Session, village: Village) -> None:
    content = workbook.download_workbook(session, village.cadre, VILLAGE_A).content
    session.commit()
    error = _refusal(session, village.cadre, VILLAGE_B, content)
    assert isinstance(error, PermissionDenied) and error.issues[0].code == "out-of-scope"
    with pytest.raises(PermissionDenied):
        workbook.download_workbook(session, village.other, VILLAGE_A)


def test_over_the_size_limit(session: Session, village: Village) -> None:
    content = workbook.download_workbook(session, village.cadre, VILLAGE_A).content
    session.commit()
    error = _refusal(session, village.cadre, VILLAGE_A, content, max_bytes=len(content) - 1)
    assert error.issues[0].code == "too-large"


def test_someone_elses_pending_upload_is_not_theirs_to_apply(session: Session, village: Village) -> None:
    content = workbook.download_workbook(session, village.cadre, VILLAGE_A).content
    stored = workbook.store_upload(session, village.cadre, VILLAGE_A, "a.xlsx", content)
    session.commit()
    with pytest.raises(PermissionDenied):
        workbook.get_upload(session, village.colleague, VILLAGE_A, stored.id)
    with pytest.raises(PermissionDenied):
        workbook.get_upload(session, village.other, VILLAGE_A, stored.id)


def test_a_file_that_unpacks_to_far_more_than_a_village(session: Session, village: Village, monkeypatch) -> None:  # noqa: ANN001
    from app.services.workbook import reader

    content = workbook.download_workbook(session, village.cadre, VILLAGE_A).content
    session.commit()
    monkeypatch.setattr(reader, "MAX_UNPACKED_BYTES", 10_000)
    assert _refusal(session, village.cadre, VILLAGE_A, content).issues[0].code == "too-large-unpacked"
