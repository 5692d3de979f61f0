"""kb suggestions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 08:37:39.457071
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op


revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('kb_suggestions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('solution', sa.Text(), nullable=False),
    sa.Column('phrasings', JSON, nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=True),
    sa.Column('match_confidence', sa.Float(), nullable=True),
    sa.Column('case_keys', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Uuid(), nullable=True),
    sa.Column('result_entry_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name='fk_kb_suggestions_decided_by_id', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['entry_id'], ['knowledge_entries.id'], name='fk_kb_suggestions_entry_id', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['result_entry_id'], ['knowledge_entries.id'], name='fk_kb_suggestions_result_entry_id', ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_suggestions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_suggestions_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_suggestions_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kb_suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_suggestions_status'))
        batch_op.drop_index(batch_op.f('ix_kb_suggestions_entry_id'))
        batch_op.drop_index(batch_op.f('ix_kb_suggestions_created_at'))

    op.drop_table('kb_suggestions')
