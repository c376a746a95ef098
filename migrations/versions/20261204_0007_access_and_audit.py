"""access and audit

Issue 13: server-side sessions (user_session), the shared login throttle (login_failure), the read
audit (audit_event), hashed API tokens of department systems (api_token), department authorisations
for personal fields (department_grant), and the must-change-password flag of accounts.

Data: the grants the shipped reports need so that their ``unmasked`` lists keep working (民政: ID number
and phone; 教育: ID number; 农业农村: address), recorded as granted by "system" for an admin to review.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 14:10:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False, comment='first characters, to recognise a token'),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_department'), ['department'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False, comment='user name, or api:<token prefix>'),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False, comment='see app.services.audit.KINDS'),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_username'), ['username'], unique=False)

    op.create_table('department_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False, comment='personal fields shown unmasked: id_number, phone, address'),
    sa.Column('tag_codes', sa.JSON(), nullable=False, comment='tags beyond its own whose holders it may see'),
    sa.Column('legal_basis', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('granted_by', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('granted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department_grant'))
    )
    with op.batch_alter_table('department_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_grant_department'), ['department'], unique=False)

    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failure_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failure_username'), ['username'], unique=False)

    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True, comment='NULL = still valid'),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_user_session_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_session_token_hash'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false(), comment='initial or reset password: change at next login'))
        batch_op.add_column(sa.Column('password_changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    grants = sa.table('department_grant', sa.column('department', sa.String), sa.column('fields', sa.JSON),
                      sa.column('tag_codes', sa.JSON), sa.column('legal_basis', sa.String),
                      sa.column('granted_by', sa.String), sa.column('granted_at', sa.DateTime))
    basis = '随系统发布的报表所需（迁移 0007 登记，请管理员复核）'
    at = datetime(2026, 12, 4, tzinfo=UTC)
    op.bulk_insert(grants, [
        {'department': 'mca', 'fields': ['id_number', 'phone'], 'tag_codes': [], 'legal_basis': basis, 'granted_by': 'system', 'granted_at': at},
        {'department': 'moe', 'fields': ['id_number'], 'tag_codes': [], 'legal_basis': basis, 'granted_by': 'system', 'granted_at': at},
        {'department': 'moa', 'fields': ['address'], 'tag_codes': [], 'legal_basis': basis, 'granted_by': 'system', 'granted_at': at},
    ])



def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('must_change_password')

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))

    op.drop_table('user_session')
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_username'))
        batch_op.drop_index(batch_op.f('ix_login_failure_at'))
        batch_op.drop_index(batch_op.f('ix_login_failure_address'))

    op.drop_table('login_failure')
    with op.batch_alter_table('department_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_department_grant_department'))

    op.drop_table('department_grant')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_username'))
        batch_op.drop_index(batch_op.f('ix_audit_event_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_kind'))
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_department'))

    op.drop_table('api_token')
