"""Alembic environment: the URL comes from the caller (copilot.database.core.run_migrations)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from copilot.database.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
