"""redact secrets already stored: interactions, suggestions and webhook delivery bodies

Records stored before the redact stage existed are redacted in place; each changed interaction goes back into
the index outbox, so its vector is rebuilt from the redacted text.

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from copilot.interactions.redact import redact_body, redact_text, redact_value

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
BATCH = 500


def _batches(conn: sa.Connection, query: str):  # noqa: ANN202 - a generator of row lists
    last = ""
    while True:
        rows = conn.execute(sa.text(query), {"after": last, "limit": BATCH}).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def upgrade() -> None:
    conn = op.get_bind()
    interactions = sa.table("interactions", sa.column("id"), sa.column("text"), sa.column("subject"),
                            sa.column("metadata", sa.JSON))
    outbox = sa.table("index_outbox", sa.column("tenant_id"), sa.column("interaction_id"), sa.column("attempts"),
                      sa.column("enqueued_at"))
    for rows in _batches(conn, "SELECT id, tenant_id, text, subject FROM interactions WHERE id > :after "
                               "ORDER BY id LIMIT :limit"):
        for iid, tenant, text, subject in rows:
            new_text, new_subject = redact_text(text), redact_text(subject) if subject else subject
            if (new_text, new_subject) == (text, subject):
                continue
            conn.execute(interactions.update().where(interactions.c.id == iid)
                         .values(text=new_text, subject=new_subject))
            queued = conn.execute(sa.text("SELECT 1 FROM index_outbox WHERE interaction_id = :i"), {"i": iid}).first()
            if queued is None:
                conn.execute(outbox.insert().values(tenant_id=tenant, interaction_id=iid, attempts=0,
                                                    enqueued_at=sa.func.current_timestamp()))
    for rows in _batches(conn, "SELECT id, metadata FROM interactions WHERE id > :after ORDER BY id LIMIT :limit"):
        for iid, metadata in rows:
            value = json.loads(metadata) if isinstance(metadata, str) else metadata
            if value and redact_value(value) != value:
                conn.execute(interactions.update().where(interactions.c.id == iid).values(metadata=redact_value(value)))
    suggestions = sa.table("suggestions", sa.column("id"), sa.column("message"), sa.column("text"),
                           sa.column("final_text"))
    for rows in _batches(conn, "SELECT id, message, text, final_text FROM suggestions WHERE id > :after "
                               "ORDER BY id LIMIT :limit"):
        for sid, message, text, final in rows:
            new = (redact_text(message), redact_text(text), redact_text(final) if final else final)
            if new != (message, text, final):
                conn.execute(suggestions.update().where(suggestions.c.id == sid)
                             .values(message=new[0], text=new[1], final_text=new[2]))
    deliveries = sa.table("webhook_deliveries", sa.column("id"), sa.column("body", sa.LargeBinary))
    last_id = 0
    while True:
        rows = conn.execute(sa.text("SELECT id, body, headers FROM webhook_deliveries WHERE id > :after "
                                    "ORDER BY id LIMIT :limit"), {"after": last_id, "limit": BATCH}).all()
        if not rows:
            break
        for did, body, headers in rows:
            named = headers if isinstance(headers, str) else json.dumps(headers)
            kind = "application/x-www-form-urlencoded" if "x-www-form-urlencoded" in named else None
            new_body = redact_body(bytes(body), kind)
            if new_body != bytes(body):
                conn.execute(deliveries.update().where(deliveries.c.id == did).values(body=new_body))
        last_id = rows[-1][0]


def downgrade() -> None:
    """Redaction cannot be undone: the secrets are gone, as they should be."""
