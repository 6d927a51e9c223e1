"""key lifecycle (expiry, last use) and the audit of reads

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "audit_reads",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(length=64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("what", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column("key_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_audit_reads_tenant_time", "audit_reads", ["tenant_id", "at"])
    op.create_index("ix_audit_reads_tenant_customer_time", "audit_reads", ["tenant_id", "customer_id", "at"])
    op.create_index("ix_audit_reads_tenant_key_time", "audit_reads", ["tenant_id", "key_id", "at"])


def downgrade() -> None:
    op.drop_table("audit_reads")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
