"""A customer's unified timeline: every channel, newest first, paged with an opaque cursor."""
from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from copilot.exceptions import BadRequest
from copilot.interactions.models import Interaction
from copilot.interactions.schemas import TimelineItem, TimelinePage


def encode_cursor(item: Interaction) -> str:
    return base64.urlsafe_b64encode(f"{item.occurred_at.isoformat()}|{item.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        when, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(when), ident
    except (ValueError, UnicodeDecodeError) as err:
        raise BadRequest("cursor: not a cursor this API returned") from err


def history(session: Session, *, tenant_id: str, customer_id: str) -> list[Interaction]:
    """The whole history, oldest first (what the engines read)."""
    return list(session.scalars(select(Interaction)
                                .where(Interaction.tenant_id == tenant_id, Interaction.customer_id == customer_id)
                                .order_by(Interaction.occurred_at, Interaction.id)))


def to_item(row: Interaction) -> TimelineItem:
    return TimelineItem(interaction_id=row.id, source=row.source, external_id=row.external_id, channel=row.channel,
                        direction=row.direction, author_role=row.author_role, author_name=row.author_name,
                        thread_id=row.thread_id, subject=row.subject, occurred_at=row.occurred_at, text=row.text)


def timeline_page(session: Session, *, tenant_id: str, customer_id: str, limit: int, cursor: str | None,
                  channels: list[str] | None = None) -> TimelinePage:
    query = select(Interaction).where(Interaction.tenant_id == tenant_id, Interaction.customer_id == customer_id)
    if channels:
        query = query.where(Interaction.channel.in_(channels))
    if cursor:
        when, ident = decode_cursor(cursor)
        query = query.where(or_(Interaction.occurred_at < when,
                                and_(Interaction.occurred_at == when, Interaction.id < ident)))
    rows = list(session.scalars(query.order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
                                .limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return TimelinePage(items=[to_item(r) for r in rows[:limit]], next_cursor=next_cursor)
