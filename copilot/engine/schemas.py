"""Shapes every engine produces and consumes: the context card and reply suggestions (DESIGN §3, §6).

The offline and LLM engines both fill these models, so the API, the CLI and the sidebar never care
which engine ran. `HistoryItem` is the engine's read-only view of one stored interaction.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Channel = Literal["email", "chat", "sms", "whatsapp", "social", "voice", "ticket"]
Direction = Literal["inbound", "outbound", "internal"]
AuthorRole = Literal["customer", "agent", "bot", "system"]


class HistoryItem(BaseModel):
    """One interaction of the customer, as the engines see it (never another customer's)."""

    interaction_id: str
    source: str
    external_id: str
    channel: Channel
    direction: Direction
    author_role: AuthorRole
    author_name: str | None = None
    thread_id: str | None = None
    subject: str | None = None
    text: str
    occurred_at: datetime


class Fact(BaseModel):
    kind: str  # order_id, account_number, tracking_number, amount, date, device, email, phone, tried, promise, ...
    value: str = Field(max_length=200)
    interaction_id: str
    channel: str
    occurred_at: datetime


class OpenItem(BaseModel):
    """Something still pending: a customer request not yet resolved, or an agent promise/action."""

    kind: Literal["waiting_for", "promise", "action", "tried"]
    text: str = Field(max_length=300)
    due: str | None = None  # as written ("Thu 10/22", "within 3 business days") or ISO date when known
    due_date: datetime | None = None  # resolved against the interaction's time when possible
    overdue: bool = False
    interaction_id: str
    channel: str
    occurred_at: datetime


class CardInsights(BaseModel):
    """What an engine derives from a customer's history; the card service adds customer and timeline."""

    summary: str  # plain text, at most 120 words
    facts: list[Fact] = Field(default_factory=list, max_length=15)
    open_items: list[OpenItem] = Field(default_factory=list)
    language: str | None = None  # ISO 639-1 of the latest customer message ("en", "es", "da", ...)
    sentiment: Literal["negative", "neutral", "positive"] | None = None


class Snippet(BaseModel):
    """Reference material for a reply: a knowledge-base chunk or a past agent reply (already anonymised)."""

    source_type: Literal["knowledge", "past_reply"]
    source_id: str
    title: str | None = None
    text: str
    score: float = 0.0


class SuggestedReply(BaseModel):
    text: str
    sources: list[str] = Field(default_factory=list)  # interaction ids and "kb:<chunk id>" / "reply:<id>"
