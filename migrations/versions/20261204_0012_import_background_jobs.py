"""import background jobs

Background import jobs (issue 15, item 7): a web import (the preview of an upload, or the apply of a
previewed import) runs in a worker thread of the server; ``import_job`` holds who, which village,
which file, the state (queued | running | done | failed), progress, the Chinese message of a failure
and the import it produced; ``import_job_file`` the uploaded bytes until the job has read them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 17:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('import_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, comment='preview | apply'),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('policy', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False, comment='queue | file | db'),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, comment='queued | running | done | failed'),
    sa.Column('phase', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, comment='what it is doing (Chinese), e.g. 读取文件'),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False, comment='why it failed, or the outcome, in Chinese'),
    sa.Column('import_id', sa.Integer(), nullable=True, comment='the import previewed or applied (the job\'s result)'),
    sa.Column('runner', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False, comment='host:pid of the process running it'),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], name=op.f('fk_import_job_actor_id_app_user')),
    sa.ForeignKeyConstraint(['area_code'], ['area.code'], name=op.f('fk_import_job_area_code_area')),
    sa.ForeignKeyConstraint(['import_id'], ['import_batch.id'], name=op.f('fk_import_job_import_id_import_batch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_job'))
    )
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_job_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_job_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_job_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_job_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_job_state'), ['state'], unique=False)

    op.create_table('import_job_file',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['import_job.id'], name=op.f('fk_import_job_file_job_id_import_job')),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_import_job_file'))
    )


def downgrade() -> None:
    op.drop_table('import_job_file')
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_job_state'))
        batch_op.drop_index(batch_op.f('ix_import_job_import_id'))
        batch_op.drop_index(batch_op.f('ix_import_job_created_at'))
        batch_op.drop_index(batch_op.f('ix_import_job_area_code'))
        batch_op.drop_index(batch_op.f('ix_import_job_actor_id'))
    op.drop_table('import_job')
