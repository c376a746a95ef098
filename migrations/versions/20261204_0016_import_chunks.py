"""import chunks

An import applies in chunks, each committed with its own change batch (issue 15 item 7: a long import
no longer holds SQLite's write lock for its whole duration). ``change_batch.import_id`` names the import
a batch belongs to, so "what this import changed" and its 待补充 tags span every chunk (no foreign key:
``import_batch.change_batch_id`` already points the other way, and a cycle of foreign keys makes
SQLite's table rebuilds and PostgreSQL's bulk loads order-dependent). ``import_job.heartbeat_at``: a
running job's last sign of life, so that a job of another host that went silent can be failed.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 20:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True,
                                      comment="last sign of life of a running job (progress written); another host's "
                                              "silent job is failed after a while"))
    with op.batch_alter_table('change_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_id', sa.Integer(), nullable=True,
                                      comment='the import (import_batch.id) this batch is a chunk of'))
        batch_op.create_index(batch_op.f('ix_change_batch_import_id'), ['import_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":  # SQLite keeps no column comments
        op.alter_column('import_batch', 'status', existing_type=sa.String(length=10), existing_nullable=False,
                        comment='previewed | applying | partial | applied | rejected | discarded',
                        existing_comment='previewed | applied | rejected | discarded')
    # the batch an import applied before chunks existed belongs to it too
    op.execute("UPDATE change_batch SET import_id = (SELECT i.id FROM import_batch i WHERE i.change_batch_id = change_batch.id) "
               "WHERE id IN (SELECT change_batch_id FROM import_batch WHERE change_batch_id IS NOT NULL AND kind = 'ledger')")


def downgrade() -> None:
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('import_batch', 'status', existing_type=sa.String(length=10), existing_nullable=False,
                        comment='previewed | applied | rejected | discarded',
                        existing_comment='previewed | applying | partial | applied | rejected | discarded')
    with op.batch_alter_table('change_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_batch_import_id'))
        batch_op.drop_column('import_id')
