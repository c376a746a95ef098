"""Cell values as legacy ledgers hold them -> canonical values, or an Issue saying why not.

``Normaliser(code_lists).cell(spec, value)`` returns ``(value, issue)``: ``value`` is the normalised
value (None for an empty cell or a rejected one), ``issue`` an :class:`app.issues.Issue` without
location (the pipeline adds sheet/row/column/field) or None. It never raises, and normalising a
normalised value gives the same value. Repeated values (dates, codes, sexes …) are cached.
"""

from __future__ import annotations

import math
import operator
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from app import clock
from app.issues import Issue
from app.validators.idcard import PROVINCE_CODES, check_id_number
from app.validators.uscc import check_uscc
from importers.codes import ALIASES, CodeMatcher
from importers.synonyms import FieldSpec

_FULL_TO_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# control characters (C0/C1, DEL) and zero-width characters; tabs/newlines become spaces first
_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127, *range(0x80, 0xA0),
                          0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF])
_WS = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")
_CACHE_MAX_LEN = 64
_CACHED_KINDS = frozenset(("code", "date", "number", "int"))
# anything clean_text / clean_name would change: whitespace, control and zero-width characters, full-width ASCII
DIRTY_TEXT = _DIRTY = re.compile(r"[\x00-\x1f\x7f-\x9f\s\uff01-\uff5e\u200b-\u200d\u2060\ufeff]")
_EXCEL_EPOCH = date(1899, 12, 30)
_MIN_DATE = date(1900, 1, 1)
_MAX_SERIAL = 2958465  # 9999-12-31

_DATE_FULL = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DATE_FAST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_DATE_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:份)?")
_DATE_MONTH_COMPACT = re.compile(r"(\d{4})(\d{2})")
_INT_TEXT = re.compile(r"\d{1,7}")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_UNITS = ("万元", "平方米", "元/月", "元", "人", "个", "户", "名", "㎡", "岁")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(?:-\d{1,6})?")
_LOCAL = re.compile(r"\d{7,8}")
_PHONE_SPLIT = re.compile(r"[/,，、;；\s]+|或")


class MonthDate(date):
    """A date known only to the month (出生年月 "1980.05"): the first of that month."""

    __slots__ = ()


def text_of(value: Any) -> str:
    """A cell value as text: integral floats without ".0", dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def clean_text(value: Any) -> str:
    """Full-width ASCII to half-width, control characters removed, whitespace collapsed, stripped."""
    s = text_of(value).translate(_FULL_TO_HALF)
    s = s.translate(_CONTROL)
    return _WS.sub(" ", s).strip()


def clean_name(value: Any) -> str:
    """A person's name: clean_text and no spaces next to Chinese characters ("张  三" -> "张三")."""
    return _CJK_GAP.sub("", clean_text(value))


def _issue(code: str, message: str, hint: str | None = None, severity: str = "error") -> Issue:
    return Issue(code, message, {}, severity, hint)  # type: ignore[arg-type]


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月" if isinstance(d, MonthDate) else f"{d.year}年{d.month}月{d.day}日"


def _make_date(y: int, m: int, d: int | None) -> date | None:
    try:
        return MonthDate(y, m, 1) if d is None else date(y, m, d)
    except ValueError:
        return None


def parse_date(value: Any, today: date) -> tuple[date | None, Issue | None]:
    """Every common way a date is written -> ``date`` (``MonthDate`` when only year and month are given)."""
    if value is None or value == "":
        return None, None
    if isinstance(value, MonthDate):
        return value, None
    if isinstance(value, datetime):
        d: date | None = value.date()
    elif isinstance(value, date):
        d = value
    elif isinstance(value, (bool, time, timedelta)):
        return None, _issue("date-invalid", f"“{text_of(value)}”不是日期")
    elif isinstance(value, (int, float)):
        d = _date_from_number(value)
        if d is None:
            return None, _issue("date-invalid", f"“{text_of(value)}”不是有效日期", "日期可写作 2020-01-05、2020/1/5、2020.1.5、2020年1月5日 或 20200105")
    else:
        m = _DATE_FAST.fullmatch(value) if value.__class__ is str else None
        if m is not None:  # the common written forms, without cleaning first
            d = _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if d is None:
                return None, _issue("date-invalid", f"“{value}”不是有效日期", "日期可写作 2020-01-05、2020/1/5、2020.1.5、2020年1月5日 或 20200105")
            return _bounded(d, today)
        s = clean_text(value).replace(" ", "") if len(str(value)) < 200 else str(value)
        d = _date_from_text(s)
        if d is None:
            shown = s if len(s) <= 30 else s[:30] + "…"
            return None, _issue("date-invalid", f"“{shown}”不是有效日期", "日期可写作 2020-01-05、2020/1/5、2020.1.5、2020年1月5日 或 20200105")
    return _bounded(d, today)


def _bounded(d: date, today: date) -> tuple[date | None, Issue | None]:
    if d < _MIN_DATE:
        return None, _issue("date-too-early", f"日期{_cn(d)}早于1900年，不合理")
    if d > today:
        return None, _issue("date-in-future", f"日期{_cn(d)}晚于今天，不合理")
    return d, None


def _date_from_number(value: float) -> date | None:
    if not math.isfinite(value):
        return None
    if float(value).is_integer():
        n = int(value)
        if 19000101 <= n <= 99991231:  # 20200105
            return _make_date(n // 10000, n // 100 % 100, n % 100)
        if 190001 <= n <= 999912:  # 198005
            return _make_date(n // 100, n % 100, None)
        if 1 <= n <= _MAX_SERIAL and not 1900 <= n <= 2100:  # Excel serial (a bare year is not a date)
            return _EXCEL_EPOCH + timedelta(days=n)
        return None
    # 1980.05 / 1980.5 typed into a number cell: year.month
    text = repr(float(value))
    m = re.fullmatch(r"(\d{4})\.(\d{1,2})", text)
    if m:
        return _make_date(int(m.group(1)), int(m.group(2)), None)
    if 1 <= value <= _MAX_SERIAL:  # serial with a time of day
        return _EXCEL_EPOCH + timedelta(days=int(value))
    return None


def _date_from_text(s: str) -> date | None:
    m = _DATE_FULL.fullmatch(s)
    if m:
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _DATE_COMPACT.fullmatch(s)
    if m:
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _DATE_MONTH.fullmatch(s) or _DATE_MONTH_COMPACT.fullmatch(s)
    if m:
        return _make_date(int(m.group(1)), int(m.group(2)), None)
    if _INT_TEXT.fullmatch(s):  # an Excel serial that lost its date format on the way (CSV)
        n = int(s)
        if 1 <= n <= _MAX_SERIAL and not 1900 <= n <= 2100:
            return _EXCEL_EPOCH + timedelta(days=n)
    return None


def id_text(value: Any) -> tuple[str | None, Issue | None]:
    """An ID-number cell as text, rejecting numbers that cannot hold 18 digits."""
    if isinstance(value, bool):
        return None, _issue("id-chars", f"身份证号码“{text_of(value)}”无效")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
            return None, _damaged(value)
        n = int(value)
        if n >= 10**15:
            return None, _damaged(float(value))
        return str(n), None
    if isinstance(value, (date, time, timedelta)):
        return None, _issue("id-chars", f"身份证号码“{text_of(value)}”是日期，不是号码")
    text = str(value)
    # ways exports and typists keep a number as text: ="3301…" (CSV from Excel), '3301… (leading apostrophe)
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    elif text.startswith(("'", "‘", "’", "`")):
        text = text[1:]
    return text, None


def _damaged(value: float | str) -> Issue:
    if isinstance(value, float) and math.isfinite(value):
        mantissa, exp = f"{value:.14E}".split("E")
        shown = f"{mantissa.rstrip('0').rstrip('.')}E{int(exp):+d}"
        what = f"身份证号码“{shown}”以数字格式保存，Excel只保留15位有效数字，末尾几位已丢失"
    elif isinstance(value, str):
        what = f"身份证号码“{value}”末尾为000且校验位不符，应是曾以数字格式保存、末尾几位已丢失"
    else:
        what = f"身份证号码“{text_of(value)}”以数字格式保存，末尾几位已丢失"
    return _issue(
        "id-numeric-damaged",
        what + "，无法还原，请核对原始证件后以文本格式重新录入",
        "在Excel中先把该列设为“文本”格式，或在号码前加英文单引号再录入",
    )


_ID18 = re.compile(r"\d{17}[\dX]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_born_cache: dict[str, date | None] = {}


def _fast_id(raw: str, birth_date: date | None, sex: str | None, today: date):
    """The common case (a valid 18-digit number that agrees with birth date and sex) without building
    messages; anything else returns None and goes through check_id_number for its exact messages."""
    text = raw.strip().upper()
    if len(text) != 18 or not _ID18.fullmatch(text) or text[:2] not in PROVINCE_CODES:
        return None
    if "10X98765432"[sum(map(operator.mul, map(int, text[:17]), _ID_WEIGHTS)) % 11] != text[17]:
        return None
    key = text[6:14]
    if key in _born_cache:
        born = _born_cache[key]
    else:
        try:
            born = date(int(key[:4]), int(key[4:6]), int(key[6:]))
        except ValueError:
            born = None
        if len(_born_cache) < 100_000:
            _born_cache[key] = born
    if born is None or born.year < 1900 or born > today:
        return None
    if birth_date is not None:
        if isinstance(birth_date, MonthDate):
            if (birth_date.year, birth_date.month) != (born.year, born.month):
                return None
        elif (birth_date.date() if isinstance(birth_date, datetime) else birth_date) != born:
            return None
    id_sex = "1" if int(text[16]) % 2 else "2"
    if sex is not None and sex in ("1", "2", "男", "女") and {"男": "1", "女": "2"}.get(sex, sex) != id_sex:
        return None
    return text, [], born, id_sex, False


def check_id(value: Any, *, birth_date: date | None = None, sex: str | None = None, today: date | None = None):
    """check_id_number for a cell value (numbers that lost digits rejected, 15 digits upgraded)."""
    text, issue = id_text(value)
    if issue is not None:
        return None, [issue], None, None, False
    fast = _fast_id(text or "", birth_date, sex, today or clock.today())
    if fast is not None:
        return fast
    result = check_id_number(text or "", birth_date=None if isinstance(birth_date, MonthDate) else birth_date,
                             sex=sex, today=today)
    issues = [Issue(i.code, i.message, {}, i.severity, i.hint) for i in result.issues]
    if result.value is None and any(i.code == "id-checksum" for i in issues):
        digits = (text or "").strip()
        if digits.endswith("000") and len(digits) == 18 and digits.isdigit():
            issues = [_damaged(digits)]
    if (result.value and isinstance(birth_date, MonthDate) and result.birth_date
            and (birth_date.year, birth_date.month) != (result.birth_date.year, result.birth_date.month)):
        issues.append(_issue("id-birth-mismatch", f"出生年月{_cn(birth_date)}与身份证号码中的出生日期{_cn(result.birth_date)}不一致"))
    return result.value, issues, result.birth_date, result.sex, result.upgraded


class Normaliser:
    """Normalises cells against the code lists it was built with; caches repeated values."""

    def __init__(self, code_lists: dict[str, dict[str, str]], today: date | None = None):
        self.code_lists = code_lists
        self.today = today or clock.today()
        self.codes = CodeMatcher(code_lists)
        self._cache: dict[str, dict[Any, tuple[Any, Issue | None]]] = {}

    # public ---------------------------------------------------------------------------------

    def cache_for(self, spec: FieldSpec) -> dict[Any, tuple[Any, Issue | None]] | None:
        """The cache :meth:`cell` fills for a field (None for kinds not cached); keys: str values as
        themselves, other values as (type, value). Callers may look up before calling :meth:`cell`."""
        if spec.kind not in _CACHED_KINDS:
            return None
        return self._cache.setdefault(spec.name, {})

    def cell(self, spec: FieldSpec, value: Any) -> tuple[Any, Issue | None]:
        if value is None or value == "":
            return None, None
        if spec.kind in _CACHED_KINDS:
            cache = self._cache.get(spec.name)
            if cache is None:
                cache = self._cache[spec.name] = {}
            # 1, 1.0 and True are equal as dict keys: only str values are keyed by themselves
            key = value if value.__class__ is str else (value.__class__, value)
            hit = cache.get(key)
            if hit is None:
                hit = self._cell(spec, value)
                if len(cache) < 50_000 and (value.__class__ is not str or len(value) <= _CACHE_MAX_LEN):
                    cache[key] = hit
            return hit
        if spec.kind in ("name", "text", "key") and value.__class__ is str and not _DIRTY.search(value):
            if spec.max_length and len(value) > spec.max_length:
                return self._cell(spec, value)
            return value, None
        return self._cell(spec, value)

    def _cell(self, spec: FieldSpec, value: Any) -> tuple[Any, Issue | None]:
        try:
            return getattr(self, "_" + spec.kind)(spec, value)
        except Exception as exc:  # noqa: BLE001 - a normaliser bug must not lose the file; say where
            return None, _issue("value-invalid", f"无法识别的值“{text_of(value)[:30]}”（{type(exc).__name__}）")

    # kinds ----------------------------------------------------------------------------------

    def _text(self, spec: FieldSpec, value: Any) -> tuple[Any, Issue | None]:
        s = clean_text(value)
        return self._length(spec, s)

    def _key(self, spec: FieldSpec, value: Any) -> tuple[Any, Issue | None]:
        """A number-like key (户号, 区划代码): like text, but a number too long for Excel is refused."""
        if isinstance(value, (int, float)) and not isinstance(value, bool) and (
                not math.isfinite(value) or abs(value) >= 1e15 or (isinstance(value, float) and not value.is_integer())):
            return None, _issue("key-numeric-damaged", f"{spec.label}“{text_of(value)}”以数字格式保存，Excel只保留15位有效数字，可能已丢失末位，"
                                "无法还原", "请把该列设为“文本”格式后重新录入")
        return self._text(spec, value)

    def _name(self, spec: FieldSpec, value: Any) -> tuple[Any, Issue | None]:
        return self._length(spec, clean_name(value))

    def _length(self, spec: FieldSpec, s: str) -> tuple[Any, Issue | None]:
        if not s:
            return None, None
        if spec.max_length and len(s) > spec.max_length:
            return None, _issue("too-long", f"{spec.label}过长：{len(s)}个字符，最多{spec.max_length}个")
        return s, None

    def _date(self, spec: FieldSpec, value: Any) -> tuple[Any, Issue | None]:
        d, issue = parse_date(value, self.today)
        if issue is not None:
            return None, Issue(issue.code, f"{spec.label}：{issue.message}", {}, issue.severity, issue.hint)
        return d, None

    def _idcard(self, spec: FieldSpec, value: Any) -> tuple[Any, Issue | None]:
        number, issues, *_ = check_id(value, today=self.today)
        return (number, None) if number else (None, issues[0] if issues else None)

    def _uscc(self, spec: FieldSpec, value: Any) -> tuple[Any, Issue | None]:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return None, _issue("uscc-numeric", f"统一社会信用代码“{text_of(value)}”以数字格式保存，可能已丢失字符，请以文本格式重新录入")
        result = check_uscc(clean_text(value))
        errors = [i for i in result.issues if i.severity == "error"]
        if result.value and not errors:
            return result.value, None
        first = errors[0] if errors else _issue("uscc-invalid", f"统一社会信用代码“{clean_text(value)[:30]}”无效")
        return None, Issue(first.code, first.message, {}, "error", first.hint)

    def _phone(self, spec: FieldSpec, value: Any) -> tuple[Any, Issue | None]:
        if value.__class__ is str and _MOBILE.fullmatch(value):
            return value, None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        s = clean_text(value)
        if not s:
            return None, None
        compact = re.sub(r"[\s\-()（）]", "", s)
        if compact.startswith(("+86", "0086")):
            compact = compact[3:] if compact.startswith("+") else compact[4:]
        if _MOBILE.fullmatch(compact):
            return compact, None
        parts = [p for p in _PHONE_SPLIT.split(s) if p]
        found: list[str] = []
        for part in parts:
            p = part.replace("(", "").replace(")", "").replace("（", "").replace("）", "")
            if p.startswith("+86"):
                p = p[3:].lstrip("-")
            compact = p.replace("-", "")
            if _MOBILE.fullmatch(compact):
                found.append(compact)
            elif _LANDLINE.fullmatch(p) or _LOCAL.fullmatch(p):
                found.append(p)
            else:
                found.clear()
                break
        if not found:
            shown = s if len(s) <= 30 else s[:30] + "…"
            return None, _issue("phone-invalid", f"联系电话“{shown}”格式不正确", "手机号为11位数字；固定电话如 0571-88886666")
        if len(found) > 1:
            return found[0], _issue("phone-several", f"联系电话填了{len(found)}个号码，只导入第一个“{found[0]}”", severity="warning")
        return found[0], None

    def _number(self, spec: FieldSpec, value: Any) -> tuple[Any, Issue | None]:
        if isinstance(value, bool):
            return None, _issue("number-invalid", f"{spec.label}“{text_of(value)}”不是数字")
        if isinstance(value, (int, float)):
            n: float = value
        else:
            s = clean_text(value).replace(",", "").replace(" ", "")
            for unit in _UNITS:
                if s.endswith(unit):
                    s = s[: -len(unit)]
                    break
            if not _NUMBER.fullmatch(s):
                shown = clean_text(value)[:30]
                return None, _issue("number-invalid", f"{spec.label}“{shown}”不是数字")
            n = float(s)
        if not math.isfinite(n):
            return None, _issue("number-invalid", f"{spec.label}“{text_of(value)}”不是数字")
        if n < 0:
            return None, _issue("number-negative", f"{spec.label}不能为负数（{text_of(n)}）")
        if isinstance(n, float) and n.is_integer() and abs(n) < 1e15:
            return int(n), None
        return n, None

    def _int(self, spec: FieldSpec, value: Any) -> tuple[Any, Issue | None]:
        n, issue = self._number(spec, value)
        if issue is None and n is not None and not isinstance(n, int):
            return None, _issue("number-not-integer", f"{spec.label}应为整数，实际为“{text_of(n)}”")
        return n, issue

    def _code(self, spec: FieldSpec, value: Any) -> tuple[Any, Issue | None]:
        list_name = spec.code_list or ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        s = clean_text(value)
        code = self.codes.lookup(list_name, s)
        if code is not None:
            return code, None
        shown = s if len(s) <= 30 else s[:30] + "…"
        return None, _issue("code-unknown", f"{spec.label}“{shown}”不在代码表中", self.codes.hint(list_name, s))


def normalise(spec: FieldSpec, value: Any, code_lists: dict[str, dict[str, str]], today: date | None = None):
    """One-off normalisation of one value (tests, tools); the pipeline keeps one Normaliser per file."""
    return Normaliser(code_lists, today).cell(spec, value)


def plain_date(d: date | None) -> date | None:
    """MonthDate -> date (what the apply layer stores)."""
    return date(d.year, d.month, d.day) if isinstance(d, date) and not isinstance(d, datetime) else d


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip(" \t\r\n\u3000\u00a0"))


__all__ = ["ALIASES", "MonthDate", "Normaliser", "check_id", "clean_name", "clean_text", "is_blank", "normalise",
           "parse_date", "plain_date", "text_of"]
