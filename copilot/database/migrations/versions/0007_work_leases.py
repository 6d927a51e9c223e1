"""leases on the background work (outbox rows, webhook deliveries, mailbox pulls) for a fleet of workers

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LEASED = ("index_outbox", "webhook_deliveries", "connector_configs")


def upgrade() -> None:
    for table in LEASED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("claimed_by", sa.String(length=120), nullable=True))
            batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("connector_configs") as batch:
        batch.add_column(sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connector_configs") as batch:
        batch.drop_column("pulled_at")
    for table in reversed(LEASED):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lease_until")
            batch.drop_column("claimed_by")
