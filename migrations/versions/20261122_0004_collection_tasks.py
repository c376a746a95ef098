"""collection tasks

Collection tasks: a department or township asks villages to confirm pre-filled data for one projection.

Filled in by the collection-task work (app/models/task.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 07:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SOURCE_COMMENT_OLD = 'web | import | api | seed | task | cli | system'
SOURCE_COMMENT = 'web | excel | import | flowback | api | seed | task | cli | system'


def _set_source_comment(comment: str, existing: str) -> None:
    # SQLite keeps no column comments, and batch mode would rebuild change_batch — which a populated
    # database with foreign keys on refuses to drop. Only servers that store comments get the change.
    if op.get_bind().dialect.name == 'sqlite':
        return
    op.alter_column('change_batch', 'source', existing_type=sa.String(length=10), existing_nullable=False,
                    comment=comment, existing_comment=existing)


def upgrade() -> None:
    _set_source_comment(SOURCE_COMMENT, SOURCE_COMMENT_OLD)

    op.create_table('collection_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('report_version', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, comment="the projection's title when issued"),
    sa.Column('reference_date', sa.Date(), nullable=False, comment='the data is confirmed as of this date'),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('area_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False, comment="smallest area holding every village of the task (the report's area)"),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('issuer_role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, comment='department | township_staff | admin'),
    sa.Column('issuer_department', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('issuer_area', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False, comment="the issuer's scope area"),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['area.code'], name=op.f('fk_collection_task_area_code_area')),
    sa.ForeignKeyConstraint(['issuer_id'], ['app_user.id'], name=op.f('fk_collection_task_issuer_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_task'))
    )
    with op.batch_alter_table('collection_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_task_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_collection_task_issuer_id'), ['issuer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collection_task_report_id'), ['report_id'], unique=False)

    op.create_table('collection_task_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False, comment='issued | saved | submitted | approved | returned'),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], name=op.f('fk_collection_task_event_actor_id_app_user')),
    sa.ForeignKeyConstraint(['task_id'], ['collection_task.id'], name=op.f('fk_collection_task_event_task_id_collection_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_task_event'))
    )
    with op.batch_alter_table('collection_task_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_task_event_task_id'), ['task_id'], unique=False)

    op.create_table('collection_task_village',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False, comment='not_started | in_progress | submitted | confirmed | returned'),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('part', sa.JSON(), nullable=True, comment="the village's report part as submitted"),
    sa.Column('part_data_version', sa.Integer(), nullable=True, comment='data version the part was computed from'),
    sa.ForeignKeyConstraint(['task_id'], ['collection_task.id'], name=op.f('fk_collection_task_village_task_id_collection_task')),
    sa.ForeignKeyConstraint(['village_code'], ['area.code'], name=op.f('fk_collection_task_village_village_code_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_task_village')),
    sa.UniqueConstraint('task_id', 'village_code', name=op.f('uq_collection_task_village_task_id_village_code'))
    )
    with op.batch_alter_table('collection_task_village', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_task_village_task_id'), ['task_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collection_task_village_village_code'), ['village_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('collection_task_village', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_task_village_village_code'))
        batch_op.drop_index(batch_op.f('ix_collection_task_village_task_id'))

    op.drop_table('collection_task_village')
    with op.batch_alter_table('collection_task_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_task_event_task_id'))

    op.drop_table('collection_task_event')
    with op.batch_alter_table('collection_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_task_report_id'))
        batch_op.drop_index(batch_op.f('ix_collection_task_issuer_id'))
        batch_op.drop_index(batch_op.f('ix_collection_task_created_at'))

    op.drop_table('collection_task')
    _set_source_comment(SOURCE_COMMENT_OLD, SOURCE_COMMENT)
