"""workbook round trip

Village workbook uploads awaiting confirmation (the Excel round trip): the downloads handed out
(data version, record ids) and the uploads kept until applied or discarded (app/models/workbook.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 07:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('workbook_download',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('downloaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('data_version', sa.Integer(), nullable=False, comment='newest change_batch id when the workbook was made'),
    sa.Column('record_ids', sa.JSON(), nullable=False, comment='{person|household|tag: [ids in the workbook]}'),
    sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], name=op.f('fk_workbook_download_actor_id_app_user')),
    sa.ForeignKeyConstraint(['village_code'], ['area.code'], name=op.f('fk_workbook_download_village_code_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workbook_download'))
    )
    with op.batch_alter_table('workbook_download', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workbook_download_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workbook_download_village_code'), ['village_code'], unique=False)

    op.create_table('workbook_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('download_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, comment='pending | applied | discarded'),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True, comment='the change batch the apply wrote'),
    sa.Column('content', sa.LargeBinary(), nullable=False, comment='the uploaded xlsx file'),
    sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], name=op.f('fk_workbook_upload_actor_id_app_user')),
    sa.ForeignKeyConstraint(['batch_id'], ['change_batch.id'], name=op.f('fk_workbook_upload_batch_id_change_batch')),
    sa.ForeignKeyConstraint(['download_id'], ['workbook_download.id'], name=op.f('fk_workbook_upload_download_id_workbook_download')),
    sa.ForeignKeyConstraint(['village_code'], ['area.code'], name=op.f('fk_workbook_upload_village_code_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workbook_upload'))
    )
    with op.batch_alter_table('workbook_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workbook_upload_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workbook_upload_download_id'), ['download_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_workbook_upload_village_code'), ['village_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('workbook_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workbook_upload_village_code'))
        batch_op.drop_index(batch_op.f('ix_workbook_upload_download_id'))
        batch_op.drop_index(batch_op.f('ix_workbook_upload_actor_id'))

    op.drop_table('workbook_upload')
    with op.batch_alter_table('workbook_download', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workbook_download_village_code'))
        batch_op.drop_index(batch_op.f('ix_workbook_download_actor_id'))

    op.drop_table('workbook_download')
