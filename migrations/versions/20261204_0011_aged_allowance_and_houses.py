"""aged allowance and houses

The 高龄津贴 (aged allowance) tag type and its band code list, for databases migrated before they
were added to ``migrations/data/`` (revision 0002 reads those files, so a new database already has
them; this revision inserts each only when it is missing). Houses and organisations in the web need
no schema change.

The data is written here, not read from the files, so this revision stays what it was when a later
one changes the dictionaries.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 14:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

code_list = sa.table("code_list", sa.column("name"), sa.column("title"), sa.column("standard"))
code_item = sa.table(
    "code_item", sa.column("list_name"), sa.column("code"), sa.column("label"), sa.column("parent_code"),
    sa.column("sort_order", sa.Integer),
)
tag_type = sa.table(
    "tag_type", sa.column("code"), sa.column("name"), sa.column("subject"), sa.column("department"),
    sa.column("attributes", sa.JSON), sa.column("description"), sa.column("sort_order", sa.Integer),
)

BAND_LIST = {"name": "aged_allowance_band", "title": "高龄津贴档次", "standard": "一表通"}
BANDS = [("1", "80–89周岁"), ("2", "90–99周岁"), ("3", "100周岁及以上")]
AGED_ALLOWANCE = {
    "code": "aged_allowance", "name": "高龄津贴", "subject": "person", "department": "mca",
    "attributes": [
        {"name": "band", "label": "津贴档次", "type": "code", "code_list": "aged_allowance_band", "required": True},
        {"name": "monthly_amount", "label": "月发放金额", "type": "number", "unit": "元"},
    ],
    "description": "领取高龄津贴的80周岁及以上老人；档次按年龄段（80–89、90–99、100周岁及以上），满90、100周岁时调档",
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.select(code_list.c.name).where(code_list.c.name == BAND_LIST["name"])).first() is None:
        op.bulk_insert(code_list, [BAND_LIST])
    have = {r[0] for r in bind.execute(sa.select(code_item.c.code).where(code_item.c.list_name == BAND_LIST["name"]))}
    missing = [{"list_name": BAND_LIST["name"], "code": c, "label": label, "parent_code": None, "sort_order": i}
               for i, (c, label) in enumerate(BANDS, 1) if c not in have]
    if missing:
        op.bulk_insert(code_item, missing)
    if bind.execute(sa.select(tag_type.c.code).where(tag_type.c.code == AGED_ALLOWANCE["code"])).first() is None:
        last = bind.execute(sa.select(sa.func.max(tag_type.c.sort_order))).scalar() or 0
        op.bulk_insert(tag_type, [{**AGED_ALLOWANCE, "sort_order": last + 1}])


def downgrade() -> None:
    # The rows stay: a new database has them from revision 0002 (which reads migrations/data/), and
    # tags granted meanwhile may refer to them. Upgrading again finds them and inserts nothing.
    pass
