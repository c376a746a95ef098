"""Seed the code lists, the tag dictionary and the observation items.

The data is read from files under migrations/data/ that belong to this revision: a later change to
the dictionaries comes as a new revision with its own data, so this one stays reproducible.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATA = Path(__file__).resolve().parent.parent / "data"

code_list = sa.table("code_list", sa.column("name"), sa.column("title"), sa.column("standard"))
code_item = sa.table(
    "code_item", sa.column("list_name"), sa.column("code"), sa.column("label"), sa.column("parent_code"), sa.column("sort_order", sa.Integer)
)
tag_type = sa.table(
    "tag_type", sa.column("code"), sa.column("name"), sa.column("subject"), sa.column("department"),
    sa.column("attributes", sa.JSON), sa.column("description"), sa.column("sort_order", sa.Integer),
)
observation_item = sa.table(
    "observation_item", sa.column("code"), sa.column("name"), sa.column("unit"), sa.column("period_type"),
    sa.column("subject"), sa.column("department"), sa.column("description"),
)


def _csv(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def upgrade() -> None:
    op.bulk_insert(code_list, [{"name": r["list_name"], "title": r["title"], "standard": r["standard"]} for r in _csv("code_lists.csv")])
    items = _csv("code_items.csv")
    for item in items:
        item["parent_code"] = item.get("parent_code") or None
        item["sort_order"] = int(item["sort_order"])
    op.bulk_insert(code_item, items)
    tags = json.loads((DATA / "tag_types.json").read_text(encoding="utf-8"))
    op.bulk_insert(tag_type, [{**t, "sort_order": i} for i, t in enumerate(tags, 1)])
    op.bulk_insert(observation_item, _csv("observation_items.csv"))


def downgrade() -> None:
    op.execute(observation_item.delete())
    op.execute(tag_type.delete())
    op.execute(code_item.delete())
    op.execute(code_list.delete())
