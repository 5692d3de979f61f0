"""feedback review

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 06:30:13.414765
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op


revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('knowledge_entry_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_feedback_reviewed_at'), ['reviewed_at'], unique=False)
        batch_op.create_foreign_key('fk_feedback_knowledge_entry_id', 'knowledge_entries', ['knowledge_entry_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_constraint('fk_feedback_knowledge_entry_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_feedback_reviewed_at'))
        batch_op.drop_column('knowledge_entry_id')
        batch_op.drop_column('reviewed_at')

