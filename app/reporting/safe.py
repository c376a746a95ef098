"""Making values safe to hand out: formula neutralisation, XML-illegal characters, masking."""

from __future__ import annotations

from typing import Any, TypeVar

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

T = TypeVar("T")

#: A spreadsheet program may run a cell starting with one of these as a formula (CSV injection).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def clean_text(text: str) -> str:
    """Remove the control characters XML (and so xlsx) cannot carry; TAB, LF and CR stay."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def neutralise(value: T) -> T | str:
    """A string made safe for CSV/JSON: illegal characters removed, a formula trigger prefixed with ``'``.

    Non-strings (including negative numbers) come back unchanged. In xlsx the same strings are not
    prefixed but written as literal text cells, never as formulas.
    """
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _mask_middle(text: str, keep_start: int, keep_end: int, stars: int | None = None) -> str:
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)
    middle = len(text) - keep_start - keep_end if stars is None else stars
    return text[:keep_start] + "*" * middle + text[len(text) - keep_end :]


def mask_id_number(value: Any) -> Any:
    """``510104199001011234`` -> ``5101**********1234``: keep the first 4 and last 4 characters."""
    if value is None:
        return None
    return _mask_middle(str(value).strip(), 4, 4)


def mask_phone(value: Any) -> Any:
    """``13812345678`` -> ``138****5678``: keep the first 3 and last 4 characters, 4 stars between."""
    if value is None:
        return None
    text = str(value).strip()
    return _mask_middle(text, 3, 4, stars=4)


def mask_address(value: Any) -> Any:
    """Keep at most the first 6 characters of an address, then ``****``."""
    if value is None:
        return None
    text = str(value).strip()
    return text[:6] + "****" if text else ""
