"""Messy legacy ledgers built by code (no binary fixtures committed): the shapes domain.md §8 describes.

Every person is synthetic (app.validators.idcard.make_id_number, area 339901 = the hand-made county).
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Font, PatternFill

from app.validators.idcard import make_id_number
from app.validators.uscc import make_uscc

DATA = Path(__file__).resolve().parents[2] / "migrations" / "data"
TODAY = date(2026, 11, 22)


def code_lists() -> dict[str, dict[str, str]]:
    """{list: {code: label}} from the seed CSV, as app.services.codelists.code_lists returns it."""
    out: dict[str, dict[str, str]] = {}
    with (DATA / "code_items.csv").open(encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: (r["list_name"], int(r["sort_order"] or 0)))
    for row in rows:
        out.setdefault(row["list_name"], {})[row["code"]] = row["label"]
    return out


def pid(birth: date, seq: int) -> str:
    return make_id_number("339901", birth, seq)


def id_with_x(birth: date) -> str:
    """A valid number whose check character is X."""
    for seq in range(1, 999):
        n = pid(birth, seq)
        if n.endswith("X"):
            return n
    raise AssertionError("no X")


def id15(birth: date, seq: int) -> str:
    """A legacy 15-digit number (yyMMdd birth, no check character)."""
    return f"339901{birth:%y%m%d}{seq:03d}"


# -- the persons ledger: title, two-level merged header, merged household blocks -------------------

# people (all synthetic)
ZHANG_WEI = pid(date(1968, 3, 5), 11)       # head of H001, male
LI_FANG = pid(date(1970, 7, 9), 22)         # wife, female
ZHANG_QIANG = pid(date(1995, 1, 20), 31)    # son
ZHANG_LI_X = id_with_x(date(1998, 11, 2))   # daughter, written with a lower-case x
WANG_JUN = pid(date(1955, 12, 1), 13)       # head of H002
WANG_OLD15 = id15(date(1950, 6, 15), 125)   # H002 spouse with a 15-digit number (seq 125: male? 5 odd = male)
CHEN_NUM = pid(date(1980, 1, 1), 17)        # H002 member whose number was typed as a number (digits lost)
ZHAO_MIN = pid(date(1988, 8, 8), 44)        # head of H003, birth date disagrees
SUN_HAO = pid(date(2001, 2, 28), 51)        # H003 member, full-width digits and spaces inside

PERSON_HEADER_ROWS = 4  # title, blank, two header rows


def persons_workbook() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "花名册"
    ws.append(["东湖村户籍人口花名册（2024年）"])
    ws.merge_cells("A1:K1")
    ws.append([])
    ws.append(["序号", "户号", "户主姓名", "家庭住址", "家庭成员", None, None, None, None, None, "联系电话"])
    ws.append([None, None, None, None, "姓  名", "公民身份号码", "性别", "出生日期", "民族", "与户主关系", None])
    for rng in ("A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:J3", "K3:K4"):
        ws.merge_cells(rng)
    ws.append([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])  # column-number row
    rows: list[list[Any]] = [
        # row 6..9: household H001, household columns merged over 4 rows
        [1, "H001", "张伟", "东湖村1组12号", "张伟", ZHANG_WEI, "男", datetime(1968, 3, 5), "汉", "户主", 13800001111],
        [2, None, None, None, "李芳", LI_FANG, "女", "1970.7.9", "汉族", "妻", None],
        [3, None, None, None, "张强", ZHANG_QIANG, 1, "1995年1月20日", "01", "长子", None],
        [4, None, None, None, "张丽", ZHANG_LI_X.lower(), "F", 19981102, "汉族", "女儿", "138 0000 2222"],
        # row 10: a spacer row inside the data
        [None] * 11,
        # rows 11..13: household H002
        [5, "H002", "王军", "东湖村2组3号", "王军", WANG_JUN, "男", "1955/12/1", "回", "本人", "0571-88886666"],
        [6, None, None, None, "王秀英", WANG_OLD15, "男", "1950.06", "回族", "丈夫", None],
        [7, None, None, None, "陈明", float(CHEN_NUM), "男", date(1980, 1, 1), "汉", "孙子", None],
        # row 14: H003, not merged (single row household) but with a wrong birth date
        [8, "H003", "赵敏", "东湖村3组5号", "赵敏", ZHAO_MIN, "女", "1988-08-09", "汉", "户主", "1390000333"],
        # row 15: H003 member written only on its own row (unmerged ledger: household cells blank)
        [9, None, None, None, "孙浩", _fullwidth(SUN_HAO[:6]) + " " + SUN_HAO[6:14] + " " + SUN_HAO[14:], "男",
         36950, "汉", "外孙", None],
        # row 16: total row, row 17: note
        ["合计", None, None, None, "9人", None, None, None, None, None, None],
        ["填表人：李会计    审核人：王书记", None, None, None, None, None, None, None, None, None, None],
    ]
    for row in rows:
        ws.append(row)
    ws["H14"].number_format = "yyyy-mm-dd"
    ws["H15"].number_format = "General"  # an Excel serial that lost its date format
    for rng in ("B6:B9", "C6:C9", "D6:D9", "B11:B13", "C11:C13", "D11:D13"):
        ws.merge_cells(rng)
    ws.merge_cells("A17:K17")
    return wb


def _fullwidth(s: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in s)


def to_bytes(wb: openpyxl.Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- a GBK CSV (exported from an old system) -------------------------------------------------------

CSV_A = pid(date(1972, 4, 1), 61)
CSV_B = pid(date(1999, 9, 9), 62)


def gbk_csv() -> bytes:
    lines = [
        "户号,姓名,身份证号码,性别,出生年月,与户主关系,文化程度,政治面貌",
        f"H010,周建国,{CSV_A},男,1972.04,户主,初中,党员",
        f"H010,周小红,{CSV_B},女,1999.09,女,大专,团员",
        f"H010,周建国,{CSV_A},男,1972.04,户主,初中,党员",  # the same person twice, identical
        "合计,2人,,,,,,",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


# -- a 低保 ledger (household tag) and a disability ledger (person tag) ---------------------------------


def dibao_workbook() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["2024年东湖村农村低保对象花名册"])
    ws.merge_cells("A1:H1")
    ws.append(["序号", "户号", "户主姓名", "身份证号", "与户主关系", "保障类别", "保障人数", "月保障金（元）"])
    ws.append([1, "H001", "张伟", ZHANG_WEI, "户主", "农村", 2, "1,260.00"])
    ws.append([2, None, None, LI_FANG, "配偶", None, None, None])
    ws.append([3, "H002", "王军", WANG_JUN, "户主", "城市低保", "3人", 900])
    ws.append([4, "H003", "赵敏", ZHAO_MIN, "户主", "特困", 1, 500])  # not a 低保 category
    for rng in ("B3:B4", "C3:C4", "F3:F4", "G3:G4", "H3:H4"):
        ws.merge_cells(rng)
    return wb


def disability_workbook() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "残疾人名册"
    ws.append(["姓名", "身份证号", "残疾类别", "残疾等级", "残疾证号", "发证日期"])
    ws.append(["李芳", LI_FANG, "肢体", "二级", LI_FANG + "42", "2019.5.6"])
    ws.append(["王军", WANG_JUN, "视力残疾", 1, WANG_JUN + "11", "2015-03-01"])
    ws.append(["陈明", CHEN_NUM, "听力", "五级", None, None])  # no such grade
    return wb


USCC_TEA = make_uscc("91339901MA2H00013")
USCC_COOP = make_uscc("N2339901000000017")
USCC_BAD = make_uscc("91339901MA2H00021")[:17] + ("0" if make_uscc("91339901MA2H00021")[17] != "0" else "1")


def organisations_workbook() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "单位"
    ws.append(["统一社会信用代码", "单位名称", "单位类型", "从业人员数"])
    ws.append([USCC_TEA, "东湖茶叶有限公司", "企业", 12])
    ws.append([USCC_COOP.lower(), "东湖村股份经济合作社", "农村集体经济组织", "3人"])
    ws.append([USCC_BAD, "坏代码公司", "企业", 5])  # wrong check character
    return wb


# -- bad files ------------------------------------------------------------------------------------


def png_bytes() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def corrupt_zip(good: bytes) -> bytes:
    return good[: len(good) // 2]  # truncated: central directory missing


def zip_bomb() -> bytes:
    """A tiny .xlsx whose sheet XML declares and holds ~800 MB of zeros-like XML."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            chunk = b"<row/>" * (1 << 20)  # 6 MB
            for _ in range(130):  # ~820 MB uncompressed, ~0.8 MB compressed
                fh.write(chunk)
    return buf.getvalue()


def entity_bomb(good: bytes) -> bytes:
    """A valid .xlsx whose sheet XML carries a billion-laughs DTD."""
    src = zipfile.ZipFile(io.BytesIO(good))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                dtd = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                       + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
                       + "]>")
                data = dtd.encode() + data.split(b"?>", 1)[-1]
            out.writestr(info, data)
    return buf.getvalue()


def encrypted_ole2() -> bytes:
    """The shape of a password-protected .xlsx: an OLE2 compound file with EncryptionInfo/EncryptedPackage."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = ("EncryptionInfo".encode("utf-16-le") + b"\x00" * 50 + "EncryptedPackage".encode("utf-16-le"))
    return header + directory + b"\x00" * 1024


def empty_workbook() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    return to_bytes(wb)


def blank_tail_workbook(blank_rows: int = 1_000_000) -> bytes:
    """Two data rows, then a million formatted blank rows (written straight as XML: openpyxl would take minutes)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(["姓名", "身份证号"])
    ws.append(["张伟", ZHANG_WEI])
    ws.append(["李芳", LI_FANG])
    good = to_bytes(wb)
    src = zipfile.ZipFile(io.BytesIO(good))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                head, tail = data.split(b"</sheetData>", 1)
                with out.open(info.filename, "w") as fh:
                    fh.write(head)
                    step = 10_000
                    for start in range(4, 4 + blank_rows, step):
                        fh.write("".join(f'<row r="{i}" s="1" customFormat="1"><c r="A{i}" s="1"/><c r="B{i}" s="1" t="s"/></row>'
                                         for i in range(start, min(start + step, 4 + blank_rows))).encode())
                    fh.write(b"</sheetData>" + tail)
                continue
            out.writestr(info, data)
    return buf.getvalue()


def spaced_blank_rows_workbook(gap: int) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(["姓名", "身份证号"])
    ws.append(["张伟", ZHANG_WEI])
    ws.cell(row=2 + gap + 1, column=1, value="李芳")
    ws.cell(row=2 + gap + 1, column=2, value=LI_FANG)
    return wb


def formulas_workbook() -> bytes:
    """Formula cells: one with a cached value (written into the XML), one without, and a text starting with =."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(["姓名", "身份证号", "出生日期", "备注"])
    ws.append(["张伟", ZHANG_WEI, "=DATE(1968,3,5)", None])
    ws.append(["李芳", LI_FANG, "=DATE(1970,7,9)", None])
    ws.append(["=HYPERLINK(\"http://x\")", WANG_JUN, None, None])
    ws["A4"].data_type = "s"  # text that starts with "=", not a formula
    data = to_bytes(wb)
    # give C2's formula a cached value, as Excel would have saved it
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            xml = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                for empty in (b"<v></v>", b"<v />"):
                    xml = xml.replace(b'<c r="C2"><f>DATE(1968,3,5)</f>' + empty, b'<c r="C2"><f>DATE(1968,3,5)</f><v>24902</v>')
                assert b"<v>24902</v>" in xml, xml[:2000]
            out.writestr(info, xml)
    return buf.getvalue()


def styled(ws: Any) -> None:  # kept for fixtures that want a visible header style
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")


# -- several sheets: one per village group, a hidden code-list sheet, a notes sheet -----------------

GROUP2_HEAD = pid(date(1960, 10, 10), 71)


def multi_sheet_workbook() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    one = wb.active
    one.title = "一组"
    one.append(["姓名", "身份证号", "户号", "与户主关系"])
    one.append(["张伟", ZHANG_WEI, "H001", "户主"])
    one.append(["李芳", LI_FANG, "H001", "妻"])
    two = wb.create_sheet("二组")
    two.append(["二组花名册"])
    two.append(["姓名", "身份证号", "户号", "与户主关系"])
    two.append(["钱进", GROUP2_HEAD, "H101", "户主"])
    two.append(["姓名", "身份证号", "户号", "与户主关系"])  # the header repeated (printed page break)
    two.append(["李 芳", LI_FANG, "H101", "妻"])  # the same ID as 一组 row 3, another household
    codes = wb.create_sheet("代码表")
    codes.append(["性别", "男", "女"])
    codes.sheet_state = "hidden"
    notes = wb.create_sheet("说明")
    notes.append(["本表由村委会填写，每季度更新一次。"])
    return wb


# -- a household ledger of a household tag, keyed by the head's ID ---------------------------------------


def monitored_households_workbook() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "监测户"
    ws.append(["东湖村防返贫监测对象名单"])
    ws.merge_cells("A1:F1")
    ws.append(["户号", "户主姓名", "户主身份证号", "家庭住址", "监测对象类型", "主要风险", "纳入时间"])
    ws.append(["H002", "王军", WANG_JUN, "东湖村2组3号", "边缘易致贫户", "因病", "2023-04"])
    ws.append([None, "赵敏", ZHAO_MIN, "东湖村3组5号", "突发严重困难", "因灾", "2024.1.15"])
    ws.append(["H009", "孙某", "339901200102280000", "东湖村9组1号", "脱贫不稳定户", None, None])
    return wb
