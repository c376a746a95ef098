"""imports and flow-back

Legacy imports, the conflict queue and flow-back alerts.

Filled in by the importer work (app/models/imports.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 07:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False, comment='ledger | deaths | moves | disability | pension'),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('area_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True, comment="target village (ledger) or the importer's scope (flow-back)"),
    sa.Column('policy', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False, comment='queue | file | db'),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, comment='previewed | applied | rejected | discarded'),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('applied_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('change_batch_id', sa.Integer(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False, comment='outcome -> rows'),
    sa.Column('summary', sa.JSON(), nullable=False, comment='file issues and samples of each outcome'),
    sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], name=op.f('fk_import_batch_actor_id_app_user')),
    sa.ForeignKeyConstraint(['area_code'], ['area.code'], name=op.f('fk_import_batch_area_code_area')),
    sa.ForeignKeyConstraint(['change_batch_id'], ['change_batch.id'], name=op.f('fk_import_batch_change_batch_id_change_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch'))
    )
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batch_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_batch_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_batch_change_batch_id'), ['change_batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_batch_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_batch_sha256'), ['sha256'], unique=False)

    op.create_table('import_file',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['import_batch.id'], name=op.f('fk_import_file_import_id_import_batch')),
    sa.PrimaryKeyConstraint('import_id', name=op.f('pk_import_file'))
    )

    op.create_table('import_conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, comment='person | household'),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('record_key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False, comment='ID number or household number'),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False, comment='who it is about, for people'),
    sa.Column('area_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('db_value', sa.JSON(), nullable=True),
    sa.Column('file_value', sa.JSON(), nullable=True),
    sa.Column('sheet', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False, comment='open | kept | taken'),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('change_batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['change_batch_id'], ['change_batch.id'], name=op.f('fk_import_conflict_change_batch_id_change_batch')),
    sa.ForeignKeyConstraint(['import_id'], ['import_batch.id'], name=op.f('fk_import_conflict_import_id_import_batch')),
    sa.ForeignKeyConstraint(['resolved_by'], ['app_user.id'], name=op.f('fk_import_conflict_resolved_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_conflict'))
    )
    with op.batch_alter_table('import_conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_conflict_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_conflict_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_conflict_status'), ['status'], unique=False)
        batch_op.create_index('ix_import_conflict_subject', ['entity', 'entity_id', 'field'], unique=False)

    op.create_table('flowback_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False, comment='deceased | moved-out | certificate-expired | pension-deceased | mismatch'),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('area_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=True),
    sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('list_values', sa.JSON(), nullable=False, comment="the list's row"),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, comment='open | confirmed | dismissed'),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('change_batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['change_batch_id'], ['change_batch.id'], name=op.f('fk_flowback_alert_change_batch_id_change_batch')),
    sa.ForeignKeyConstraint(['import_id'], ['import_batch.id'], name=op.f('fk_flowback_alert_import_id_import_batch')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_flowback_alert_person_id_person')),
    sa.ForeignKeyConstraint(['resolved_by'], ['app_user.id'], name=op.f('fk_flowback_alert_resolved_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flowback_alert'))
    )
    with op.batch_alter_table('flowback_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flowback_alert_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_flowback_alert_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flowback_alert_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flowback_alert_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('flowback_alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flowback_alert_status'))
        batch_op.drop_index(batch_op.f('ix_flowback_alert_person_id'))
        batch_op.drop_index(batch_op.f('ix_flowback_alert_import_id'))
        batch_op.drop_index(batch_op.f('ix_flowback_alert_area_code'))
    op.drop_table('flowback_alert')
    with op.batch_alter_table('import_conflict', schema=None) as batch_op:
        batch_op.drop_index('ix_import_conflict_subject')
        batch_op.drop_index(batch_op.f('ix_import_conflict_status'))
        batch_op.drop_index(batch_op.f('ix_import_conflict_import_id'))
        batch_op.drop_index(batch_op.f('ix_import_conflict_area_code'))
    op.drop_table('import_conflict')
    op.drop_table('import_file')
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batch_sha256'))
        batch_op.drop_index(batch_op.f('ix_import_batch_created_at'))
        batch_op.drop_index(batch_op.f('ix_import_batch_change_batch_id'))
        batch_op.drop_index(batch_op.f('ix_import_batch_area_code'))
        batch_op.drop_index(batch_op.f('ix_import_batch_actor_id'))
    op.drop_table('import_batch')
