"""knowledge audience (public or internal) and the help-document links of a suggestion

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kb_articles") as batch:
        batch.add_column(sa.Column("audience", sa.String(length=16), nullable=False, server_default="public"))
    with op.batch_alter_table("suggestions") as batch:
        batch.add_column(sa.Column("links", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("suggestions") as batch:
        batch.drop_column("links")
    with op.batch_alter_table("kb_articles") as batch:
        batch.drop_column("audience")
