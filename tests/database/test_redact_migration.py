"""Migration 0005 redacts what was stored before the redact stage existed, and queues it for re-indexing."""
from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from copilot.database.core import MIGRATIONS_DIR


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    return config


def test_stored_secrets_are_redacted_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(_config(url), "0004")
    engine = sa.create_engine(url)
    secret = "my card is 4111 1111 1111 1111 and order QX-7781"
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO tenants (id, created_at) VALUES ('t1', CURRENT_TIMESTAMP)"))
        conn.execute(sa.text("INSERT INTO customers (id, tenant_id, created_at) "
                             "VALUES ('c1', 't1', CURRENT_TIMESTAMP)"))
        conn.execute(sa.text(
            "INSERT INTO interactions (id, tenant_id, customer_id, source, external_id, channel, direction, "
            "author_role, text, subject, occurred_at, created_at, metadata, customer_block) "
            "VALUES ('i1', 't1', 'c1', 's', 'e1', 'chat', 'inbound', 'customer', :text, 'pin 4821', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :meta, '{}')"),
            {"text": secret, "meta": json.dumps({"note": "password is Hunter2!"})})
        conn.execute(sa.text(
            "INSERT INTO webhook_deliveries (tenant_id, connector, delivery_key, method, url, headers, body, "
            "received_at, status, attempts) VALUES ('t1', 'generic', 'k1', 'POST', '/', '{}', :body, 0, "
            "'processed', 1)"), {"body": json.dumps({"text": secret}).encode()})
    command.upgrade(_config(url), "head")
    with engine.begin() as conn:
        text, subject, meta = conn.execute(sa.text("SELECT text, subject, metadata FROM interactions")).one()
        body = conn.execute(sa.text("SELECT body FROM webhook_deliveries")).scalar_one()
        queued = conn.execute(sa.text("SELECT interaction_id FROM index_outbox")).scalars().all()
    assert text == "my card is [card ••1111] and order QX-7781"
    assert subject == "pin [pin]" and "Hunter2" not in meta
    assert "4111" not in bytes(body).decode() and "QX-7781" in bytes(body).decode()
    assert queued == ["i1"]
