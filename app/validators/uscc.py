"""统一社会信用代码 (GB 32100-2015): normalisation and checking.

Unlike python-stdnum, letter-leading codes (e.g. ``N2…`` village collective economic
organisations registered by agriculture departments) are valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.issues import Issue
from app.validators.idcard import normalize_id_number

__all__ = [
    "ALPHABET",
    "KINDS",
    "REGISTRARS",
    "UsccResult",
    "check_uscc",
    "make_uscc",
    "normalize_uscc",
    "uscc_check_char",
]

#: The 31 characters of GB 32100 (no I, O, S, V, Z); a character's value is its index.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS: tuple[int, ...] = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

#: Registering body (登记管理部门), the first character.
REGISTRARS: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商/市场监管",
    "A": "中央军委改革和编制办公室",
    "G": "其他",
    "N": "农业",
    "Y": "其他",
}

#: Kind of organisation (机构类别), keyed by registering body + second character. Informative
#: only: an unlisted pair is not reported.
KINDS: dict[str, str] = {
    "11": "机关",
    "12": "事业单位",
    "13": "中央编办直接管理机构编制的群众团体",
    "19": "其他",
    "51": "社会团体",
    "52": "民办非企业单位",
    "53": "基金会",
    "59": "其他",
    "91": "企业",
    "92": "个体工商户",
    "93": "农民专业合作社",
    "N1": "组级集体经济组织",
    "N2": "村级集体经济组织",
    "N3": "乡镇级集体经济组织",
    "N9": "其他",
}

_I_LIKE = {"I": "1", "O": "0", "S": "5", "V": "U", "Z": "2"}


@dataclass(frozen=True)
class UsccResult:
    """Outcome of :func:`check_uscc`; ``value`` is the normalised code when it is valid."""

    value: str | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not any(i.severity == "error" for i in self.issues)


def normalize_uscc(raw: str) -> str:
    """Remove all spaces, convert full-width characters to half-width, upper-case."""
    return normalize_id_number(raw)


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for 17 code characters."""
    if len(first17) != 17 or any(ch not in _VALUES for ch in first17):
        raise ValueError("需要17位有效代码字符")
    total = sum(_VALUES[ch] * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def make_uscc(first17: str) -> str:
    """Append the check character to 17 code characters (for synthetic data and tests)."""
    first17 = normalize_uscc(first17)
    return first17 + uscc_check_char(first17)


def _issue(code: str, message: str, hint: str | None = None) -> Issue:
    return Issue(code=code, message=message, location={"field": "统一社会信用代码"}, hint=hint)


def check_uscc(raw: str) -> UsccResult:
    """Check a unified social credit code; never raises."""
    code = normalize_uscc(raw)
    if not code:
        return UsccResult(value=None, issues=[_issue("uscc-empty", "统一社会信用代码不能为空")])

    issues: list[Issue] = []
    if len(code) != 18:
        issues.append(_issue("uscc-length", f"统一社会信用代码应为18位，实际为{len(code)}位"))
    for pos, ch in enumerate(code, start=1):
        if ch not in _VALUES:
            hint = None
            if ch in _I_LIKE:
                hint = f"统一社会信用代码不使用字母I、O、S、V、Z，是否应为“{_I_LIKE[ch]}”？"
            issues.append(_issue("uscc-chars", f"统一社会信用代码第{pos}位含有非法字符“{ch}”", hint=hint))
            break
    if issues:
        return UsccResult(value=None, issues=issues)

    if code[0] not in REGISTRARS:
        issues.append(_issue("uscc-registrar", f"统一社会信用代码第1位“{code[0]}”不是有效的登记管理部门代码"))
    area = code[2:8]
    if not (area.isascii() and area.isdigit()):
        issues.append(_issue("uscc-area", f"统一社会信用代码第3至8位“{area}”应为6位数字的行政区划代码"))
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        issues.append(
            _issue(
                "uscc-checksum",
                f"统一社会信用代码校验位错误：最后一位应为“{expected}”，实际为“{code[17]}”",
                hint="请核对代码是否有抄错的字符",
            )
        )
    return UsccResult(value=None if issues else code, issues=issues)
