"""The safety checks on an .xlsx/.ods zip package before calamine reads it: the declared and the real
uncompressed size (zip bomb), DTDs/entities in its XML, each worksheet's grid (importers.sheet_scan), and
the repair of containers with backslash paths or without [Content_Types].xml, as Excel reads them."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from app.issues import Issue
from importers.book import Book, encrypted_issue, file_issue, read_calamine
from importers.sheet_scan import FastSheetScan, GridRefused, SheetScan

#: Limits: the uncompressed XML of a workbook, one part, and the compression ratio of a big part.
MAX_UNZIPPED_TOTAL = 1_000_000_000
MAX_UNZIPPED_PART = 700_000_000
MAX_RATIO = 150
RATIO_FROM = 20_000_000  # a ratio only matters for parts bigger than this


def open_zip(data: bytes, file_name: str) -> Book:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return Book("none", issues=[file_issue("corrupt-zip", f"文件已损坏，无法打开（压缩结构错误：{exc}）", file_name,
                                                 "请在Excel中打开后另存为新文件再上传")])
    names = {_part_name(i.filename) for i in infos}
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        kind = "xlsx"
    elif "content.xml" in names and "mimetype" in names:
        kind = "ods"
    else:
        what = "Word文档" if "word/document.xml" in names else "PowerPoint文档" if "ppt/presentation.xml" in names else "普通压缩包"
        return Book("none", issues=[file_issue("not-a-spreadsheet", f"这不是电子表格文件，而是{what}", file_name,
                                                 "请上传 Excel（.xlsx/.xls）或 CSV 文件")])
    if "xl/workbook.bin" in names:
        return Book("none", issues=[file_issue("xlsb-unsupported", "不支持二进制工作簿（.xlsb）", file_name, "请在Excel中另存为 .xlsx 后再上传")])

    total = sum(i.file_size for i in infos)
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_UNZIPPED_PART or (info.file_size > RATIO_FROM and ratio > MAX_RATIO):
            return Book("none", issues=[_bomb(file_name, info.filename, info.file_size, ratio)])
    if total > MAX_UNZIPPED_TOTAL:
        return Book("none", issues=[_bomb(file_name, "全部", total, total / max(len(data), 1))])

    # Decompress every XML part once with a hard cap (declared sizes can lie), refusing DTDs; stream
    # each worksheet through expat for its grid (dimension, indices, cells) and its formula cells.
    scans: dict[str, SheetScan] = {}
    real_total = 0
    try:
        for info in infos:
            if not info.filename.endswith((".xml", ".rels", ".vml")):
                continue
            part = _part_name(info.filename)
            scan: SheetScan | None = FastSheetScan() if kind == "xlsx" and part.startswith("xl/worksheets/") else None
            n, has_doctype = _scan_part(zf, info, MAX_UNZIPPED_TOTAL - real_total, scan)
            if isinstance(scan, FastSheetScan) and scan.needs_expat and not has_doctype:
                scan = SheetScan()
                _scan_part(zf, info, MAX_UNZIPPED_PART, scan)
            real_total += n
            if real_total > MAX_UNZIPPED_TOTAL or n > MAX_UNZIPPED_PART:
                return Book("none", issues=[_bomb(file_name, info.filename, n, n / max(info.compress_size, 1))])
            if has_doctype:
                return Book("none", issues=[file_issue(
                    "xml-entities", f"文件内部的XML（{info.filename}）含有DTD实体定义，可能是恶意构造的“XML炸弹”，已拒绝读取",
                    file_name, "正常的Excel文件不含DTD；请在Excel中另存为新文件再上传")])
            if scan is not None:
                scans[part] = scan
    except GridRefused as exc:
        return Book("none", issues=[file_issue(exc.code, exc.message, file_name, exc.hint)])
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
        if "password" in str(exc).lower() or "encrypted" in str(exc).lower():
            return Book("none", issues=[encrypted_issue(file_name)])
        return Book("none", issues=[file_issue("corrupt-zip", f"文件已损坏，无法解压（{exc}）", file_name,
                                                 "请在Excel中打开后另存为新文件再上传")])

    parts = _sheet_parts(zf) if kind == "xlsx" else {}
    for sheet_name, part in parts.items():
        scan = scans.get(part)
        refused = scan.refusal(sheet_name) if scan is not None else None
        if refused is not None:
            return Book("none", issues=[file_issue(refused.code, refused.message, file_name, refused.hint)])
    if kind == "xlsx" and _needs_repack(infos):
        data = _repack(zf, infos)
    zf.close()
    book = read_calamine(data, file_name, kind)
    if book.issues or kind != "xlsx":
        return book
    for sheet in book.sheets:
        scan = scans.get(parts.get(sheet.name, ""))
        if scan is not None:
            sheet.formula_no_value = scan.formula_no_value
    return book


def _part_name(name: str) -> str:
    """A zip entry's package part name as Excel resolves it: backslashes are separators, no leading slash."""
    return name.replace("\\", "/").lstrip("/")


def _needs_repack(infos: list[zipfile.ZipInfo]) -> bool:
    names = {i.filename for i in infos}
    return any("\\" in n or n.startswith("/") for n in names) or "[Content_Types].xml" not in names


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '{overrides}</Types>')
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.{}+xml"


def _repack(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> bytes:
    """The package rewritten with '/' paths and a [Content_Types].xml when it has none (the sizes were
    checked above, so this reads within the same limits)."""
    out = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in infos:
            name = _part_name(info.filename)
            if not name or name.endswith("/") or name in seen:
                continue
            seen.add(name)
            dst.writestr(name, zf.read(info))
        if "[Content_Types].xml" not in seen:
            overrides = []
            for name in sorted(seen):
                kind = ("worksheet" if name.startswith("xl/worksheets/") else "sharedStrings" if name == "xl/sharedStrings.xml"
                        else "styles" if name == "xl/styles.xml" else None)
                if kind and name.endswith(".xml"):
                    overrides.append(f'<Override PartName="/{name}" ContentType="{_CT.format(kind)}"/>')
            dst.writestr("[Content_Types].xml", _CONTENT_TYPES.format(overrides="".join(overrides)))
        if "_rels/.rels" not in seen:
            dst.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                         'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    return out.getvalue()


def _bomb(file_name: str, part: str, size: int, ratio: float) -> Issue:
    return file_issue(
        "zip-bomb",
        f"文件解压后过大（{part}：约{size / 1e6:.0f}MB，压缩比约{ratio:.0f}倍），疑似“压缩炸弹”，已拒绝读取",
        file_name, "正常台账解压后不会这么大；如确为超大台账，请拆分成多个文件")


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, scan: SheetScan | None) -> tuple[int, bool]:
    """(bytes decompressed, has a DTD); a worksheet's bytes are also fed to its scanner."""
    n = 0
    tail = b""
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            n += len(chunk)
            if n > budget or n > MAX_UNZIPPED_PART:
                return n, False
            window = tail + chunk  # a marker may straddle two chunks
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                return n, True
            if scan is not None:
                scan.feed(chunk)
            tail = chunk[-12:]
    if scan is not None:
        scan.close()
    return n, False


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part name of its XML inside the package."""
    import xml.etree.ElementTree as ET  # the parts were checked for DTDs above

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    entries = {_part_name(i.filename): i for i in zf.infolist()}
    try:
        wb = ET.fromstring(zf.read(entries["xl/workbook.xml"]))
        rels = ET.fromstring(zf.read(entries["xl/_rels/workbook.xml.rels"]))
    except (KeyError, ET.ParseError):
        return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target", "").replace("\\", "/")
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        targets[rel.get("Id")] = path
    out = {}
    for sheet in wb.iterfind("m:sheets/m:sheet", ns):
        rid = sheet.get(f"{{{ns['r']}}}id")
        if rid in targets:
            out[sheet.get("name", "")] = targets[rid]
    return out
