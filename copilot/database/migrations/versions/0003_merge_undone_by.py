"""who undid a merge

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_merges") as batch:
        batch.add_column(sa.Column("undone_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_merges") as batch:
        batch.drop_column("undone_by")
