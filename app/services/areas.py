"""Areas: listing, the national-list CSV import, and merging or abolishing villages with history."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from app.issues import Issue, ValidationFailed
from app.models import Area, ChangeBatch, House, Household, Organisation, Person, User
from app.models.area import level_of
from app.services import history
from app.services.scope import require_admin

# Header names accepted for each field of the national list (统计用区划代码 CSV and common re-publications).
HEADERS = {
    "code": ("code", "统计用区划代码", "区划代码", "代码"),
    "name": ("name", "名称", "区划名称"),
    "parent": ("parent", "pcode", "parent_code", "上级代码", "上级区划代码"),
    "urban_rural": ("category", "urban_rural", "城乡分类代码", "城乡分类"),
    "valid_from": ("valid_from", "生效日期"),
}


def parent_code(code: str) -> str | None:
    """The code of the level above: a grid's village, a village's township, … (None for a province)."""
    level = level_of(code)
    if level == 1:
        return None
    if level == 6:
        return code[:12]
    keep = {2: 2, 3: 4, 4: 6, 5: 9}[level]
    return code[:keep].ljust(12, "0")


@dataclass
class AreaImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    issues: list[Issue] = field(default_factory=list)


def import_areas_csv(session: Session, actor: User | None, source: str | Path | io.TextIOBase, *, file_name: str = "") -> AreaImportResult:
    """Load the national list of statistical area codes from CSV (UTF-8 or GBK); all or nothing."""
    if actor is not None:
        require_admin(actor)
    text = _read_text(source)
    reader = csv.DictReader(io.StringIO(text))
    columns = {key: next((h for h in (reader.fieldnames or []) if h and h.strip() in names), None) for key, names in HEADERS.items()}
    if not columns["code"] or not columns["name"]:
        raise ValidationFailed(Issue("missing-columns", "区划文件须包含“统计用区划代码”和“名称”两列", {"file": file_name},
                                     hint=f"现有列：{', '.join(reader.fieldnames or [])}"))
    result = AreaImportResult()
    rows: list[dict] = []
    for n, raw in enumerate(reader, start=2):
        code = (raw.get(columns["code"]) or "").strip()
        name = (raw.get(columns["name"]) or "").strip()
        where = {"file": file_name, "row": n}
        if not (code.isdigit() and len(code) in (12, 15)):
            result.issues.append(Issue("bad-area-code", f"区划代码“{code}”应为12位数字（网格15位）", where))
            continue
        if not name:
            result.issues.append(Issue("required", "名称不能为空", where))
            continue
        valid_from = date(1980, 1, 1)
        if columns["valid_from"] and raw.get(columns["valid_from"]):
            try:
                valid_from = date.fromisoformat(raw[columns["valid_from"]].strip())
            except ValueError:
                result.issues.append(Issue("bad-date", f"生效日期“{raw[columns['valid_from']]}”格式应为 YYYY-MM-DD", where))
                continue
        parent = (raw.get(columns["parent"]) or "").strip() if columns["parent"] else ""
        rows.append({"code": code, "name": name, "level": level_of(code), "parent_code": parent or parent_code(code),
                     "urban_rural": (raw.get(columns["urban_rural"]) or "").strip() or None if columns["urban_rural"] else None,
                     "valid_from": valid_from})
    if result.issues:
        raise ValidationFailed(result.issues)
    known = {a.code: a for a in session.execute(select(Area)).scalars()}
    codes = {r["code"] for r in rows} | set(known)
    for r in rows:
        if r["parent_code"] and r["parent_code"] not in codes:
            r["parent_code"] = None  # the national list may start below province level
    batch = history.open_batch(session, actor, "import", note="区划代码导入", file_name=file_name or None)
    for r in sorted(rows, key=lambda r: (r["level"], r["code"])):
        area = known.get(r["code"])
        if area is None:
            session.add(Area(**r))
            history.log_change(session, batch, "area", r["code"], "create", {"name": (None, r["name"])}, r["valid_from"])
            result.added += 1
            continue
        diff = {k: (getattr(area, k), v) for k, v in r.items() if k in ("name", "urban_rural", "parent_code") and getattr(area, k) != v}
        if diff:
            for k, (_old, new) in diff.items():
                setattr(area, k, new)
            history.log_change(session, batch, "area", area.code, "update", diff)
            result.updated += 1
        else:
            result.unchanged += 1
        session.flush()
    session.flush()
    return result


def _read_text(source: str | Path | io.TextIOBase) -> str:
    if isinstance(source, io.TextIOBase):
        return source.read()
    data = Path(source).read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(Issue("bad-encoding", "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV", {"file": str(source)}))


def merge_area(session: Session, actor: User, old_code: str, into_code: str, on: date, *, batch: ChangeBatch | None = None) -> int:
    """Merge a village (or grid) into another from ``on``: the old area ends with a successor, and
    every person, household, house and organisation in it moves to the successor, with history.

    Returns the number of records moved.
    """
    require_admin(actor)
    old, new = session.get(Area, old_code), session.get(Area, into_code)
    if old is None or new is None:
        raise ValidationFailed(Issue("unknown-area", f"区划 {old_code if old is None else into_code} 不存在"))
    if old.valid_to is not None:
        raise ValidationFailed(Issue("area-ended", f"{old.name}已于{old.valid_to}撤销"))
    if old.level != new.level or old_code == into_code:
        raise ValidationFailed(Issue("merge-level", "只能并入同级的另一个区划"))
    batch = batch or history.open_batch(session, actor, "web", note=f"{old.name}并入{new.name}")
    moved = 0
    for entity, model in (("household", Household), ("person", Person), ("house", House), ("organisation", Organisation)):
        ids = session.execute(select(model.id, model.area_code).where(model.area_code.startswith(old_code))).all()
        for entity_id, area_code in ids:
            target = into_code + area_code[len(old_code):] if len(area_code) > len(old_code) else into_code
            if session.get(Area, target) is None:
                target = into_code  # grids of the old village become part of the new village itself
            history.change_version(session, batch, entity, entity_id, {"area_code": target}, on)
            moved += 1
    history.log_change(session, batch, "area", old.code, "end",
                       {"valid_to": (None, on), "successor_code": (None, into_code)}, on)
    old.valid_to = on
    old.successor_code = into_code
    session.flush()
    return moved
