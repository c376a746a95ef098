"""公民身份号码 (GB 11643-1999): normalisation, 15→18 upgrade and checking.

The area check only looks at the province (first two digits): the national table of 6-digit
area codes changes every year and old ledgers keep retired codes, so an unknown 6-digit code
(e.g. 330113) must not make a number invalid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app import clock
from app.issues import Issue

__all__ = [
    "IdNumberResult",
    "PROVINCE_CODES",
    "check_id_number",
    "id_check_char",
    "make_id_number",
    "normalize_id_number",
    "upgrade_15",
]

_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"

#: Two-digit province-level codes a citizen ID may start with (GB/T 2260 plus 71/81/82/91).
PROVINCE_CODES: frozenset[str] = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82", "91"]
)

_MIN_BIRTH = date(1900, 1, 1)

# Full-width ASCII block (！ … ～) → half-width, ideographic space → space.
_FULL_TO_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Whitespace that str.isspace() does not cover but that turns up in pasted data.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d*)?E[+-]?\d+")
_TRAILING_POINT_ZERO = re.compile(r"\d+\.0+")

_SEX_INPUT = {"1": "1", "男": "1", "2": "2", "女": "2"}
_SEX_LABEL = {"1": "男", "2": "女"}


@dataclass(frozen=True)
class IdNumberResult:
    """Outcome of :func:`check_id_number`.

    ``value``, ``birth_date`` and ``sex`` are only set when the number itself is valid; a
    disagreement with the given birth date or sex is reported in ``issues`` but keeps them.
    """

    value: str | None
    birth_date: date | None = None
    sex: str | None = None
    upgraded: bool = False
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not any(i.severity == "error" for i in self.issues)


def normalize_id_number(raw: str) -> str:
    """Remove all spaces, convert full-width characters to half-width and upper-case ``x``.

    Does not validate anything.
    """
    if raw is None:
        return ""
    text = str(raw).translate(_FULL_TO_HALF).translate(_INVISIBLE)
    return "".join(ch for ch in text if not ch.isspace()).upper()


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for 17 digits."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError("需要17位数字")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def upgrade_15(id15: str) -> str:
    """Upgrade a legacy 15-digit number: insert ``19`` before the year and append the check."""
    digits = normalize_id_number(id15)
    if len(digits) != 15 or not (digits.isascii() and digits.isdigit()):
        raise ValueError("15位身份证号码必须全部是数字")
    first17 = digits[:6] + "19" + digits[6:]
    return first17 + id_check_char(first17)


def make_id_number(area6: str, birth: date, seq3: int) -> str:
    """Build a valid 18-digit number (for synthetic data and tests)."""
    if len(area6) != 6 or not (area6.isascii() and area6.isdigit()):
        raise ValueError("地区码必须是6位数字")
    if not 0 <= seq3 <= 999:
        raise ValueError("顺序码必须在0到999之间")
    first17 = f"{area6}{birth:%Y%m%d}{seq3:03d}"
    return first17 + id_check_char(first17)


def _issue(code: str, message: str, hint: str | None = None) -> Issue:
    return Issue(code=code, message=message, location={"field": "公民身份号码"}, hint=hint)


def _as_date(value: date | None) -> date | None:
    """A ``datetime`` (e.g. from an Excel cell) compared as its date."""
    return value.date() if isinstance(value, datetime) else value


def _cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _parse_birth(text: str) -> date | None:
    try:
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def check_id_number(
    raw: str,
    *,
    birth_date: date | None = None,
    sex: str | None = None,
    today: date | None = None,
) -> IdNumberResult:
    """Check a citizen ID number; never raises.

    ``birth_date`` and ``sex`` (``"1"``/``"2"``, GB/T 2261.1; ``"男"``/``"女"`` also accepted,
    other values ignored) are compared with what the number encodes. A valid 15-digit number is
    upgraded to 18 digits (``upgraded=True``).
    """
    return _check(raw, birth_date=birth_date, sex=sex, today=today)


def _check(raw: Any, *, birth_date: date | None, sex: str | None, today: date | None) -> IdNumberResult:
    text = normalize_id_number(raw)
    if not text:
        return IdNumberResult(value=None, issues=[_issue("id-empty", "身份证号码不能为空")])

    if _SCIENTIFIC.fullmatch(text) or _TRAILING_POINT_ZERO.fullmatch(text):
        return IdNumberResult(
            value=None,
            issues=[
                _issue(
                    "id-numeric-damaged",
                    f"身份证号码“{text}”被当作数字保存过（科学计数法或带“.0”），末尾几位数字已丢失，"
                    "无法还原，请核对原始证件后以文本格式重新录入",
                    hint="在Excel中先把该列设为“文本”格式，或在号码前加英文单引号再录入",
                )
            ],
        )

    issues: list[Issue] = []
    if len(text) not in (15, 18):
        issues.append(_issue("id-length", f"身份证号码应为18位（旧号码为15位），实际为{len(text)}位"))
    for pos, ch in enumerate(text, start=1):
        if ch.isascii() and ch.isdigit():
            continue
        if ch == "X" and pos == 18 and len(text) == 18:
            continue
        if ch == "X":
            issues.append(_issue("id-chars", f"身份证号码第{pos}位是“X”，X只能出现在18位号码的最后一位"))
        else:
            issues.append(_issue("id-chars", f"身份证号码第{pos}位含有非法字符“{ch}”，只能是数字或末位X"))
        break
    if issues:
        return IdNumberResult(value=None, issues=issues)

    upgraded = len(text) == 15
    number = upgrade_15(text) if upgraded else text

    if number[:2] not in PROVINCE_CODES:
        issues.append(_issue("id-area", f"身份证号码前两位“{number[:2]}”不是有效的省级行政区划代码"))

    today = _as_date(today) or clock.today()
    birth_date = _as_date(birth_date)
    born = _parse_birth(number[6:14])
    if born is None:
        issues.append(_issue("id-birth-date", f"身份证号码中的出生日期“{number[6:14]}”不是有效日期"))
    elif born < _MIN_BIRTH:
        issues.append(_issue("id-birth-date", f"身份证号码中的出生日期{_cn_date(born)}早于1900年，不合理"))
    elif born > today:
        issues.append(_issue("id-birth-date", f"身份证号码中的出生日期{_cn_date(born)}晚于今天，不合理"))

    if not upgraded:
        expected = id_check_char(number[:17])
        if number[17] != expected:
            issues.append(
                _issue(
                    "id-checksum",
                    f"身份证号码校验位错误：最后一位应为“{expected}”，实际为“{number[17]}”",
                    hint="请核对号码是否有抄错或顺序颠倒的数字",
                )
            )

    if issues:
        return IdNumberResult(value=None, upgraded=upgraded, issues=issues)

    assert born is not None
    id_sex = "1" if int(number[16]) % 2 == 1 else "2"
    if birth_date is not None and birth_date != born:
        issues.append(
            _issue(
                "id-birth-mismatch",
                f"出生日期{_cn_date(birth_date)}与身份证号码中的出生日期{_cn_date(born)}不一致",
            )
        )
    given_sex = _SEX_INPUT.get(str(sex).strip()) if sex is not None else None
    if given_sex is not None and given_sex != id_sex:
        issues.append(
            _issue(
                "id-sex-mismatch",
                f"性别“{_SEX_LABEL[given_sex]}”与身份证号码（第17位）表示的性别“{_SEX_LABEL[id_sex]}”不一致",
            )
        )
    return IdNumberResult(value=number, birth_date=born, sex=id_sex, upgraded=upgraded, issues=issues)
