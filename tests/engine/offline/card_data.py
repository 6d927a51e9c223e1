"""Invented histories for the card stages' tests (no evaluation data)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from copilot.interactions.schemas import TimelineItem

T0 = datetime(2027, 2, 1, 15, 0, tzinfo=UTC)


def item(n: int, text: str, *, channel: str = "email", direction: str = "inbound", role: str = "customer",
         days: float = 0, name: str | None = None, subject: str | None = None) -> TimelineItem:
    return TimelineItem(interaction_id=f"i{n}", source="test", external_id=f"e{n}", channel=channel,
                       direction=direction, author_role=role, author_name=name, subject=subject, text=text,
                       occurred_at=T0 + timedelta(days=days))
