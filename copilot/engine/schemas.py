"""Shapes every engine produces and consumes: the context card and reply suggestions (DESIGN §3, §6).

The offline and LLM engines both fill these models, so the API, the CLI and the sidebar never care
which engine ran. They read `TimelineItem`s, the interactions of one customer.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from copilot.interactions.schemas import AuthorRole


class Fact(BaseModel):
    kind: str  # a FactKind value: order_id, account_number, amount, date, device, tried, ...
    value: str = Field(max_length=200)  # the value itself ("ACC-380056", "$31.50"), never the sentence
    interaction_id: str
    channel: str
    occurred_at: datetime
    speaker: AuthorRole | None = None  # who said it
    evidence: str | None = None  # the sentence it came from (superseded values masked), for hover or click


class OpenItem(BaseModel):
    """Something still pending: what the customer waits for, a promise not yet kept, or a request to the
    customer not yet answered. Closed ones (fulfilled, replaced, cancelled) go to `CardInsights.closed_items`."""

    kind: Literal["waiting_for", "promise", "request", "action", "tried"]
    text: str = Field(max_length=300)
    due: str | None = None  # as written ("Thu 10/22", "within 3 business days") or ISO date when known
    due_date: datetime | None = None  # resolved against the interaction's time when possible
    overdue: bool = False
    interaction_id: str
    channel: str
    occurred_at: datetime
    status: Literal["open", "fulfilled", "replaced", "cancelled", "answered"] = "open"


class CardInsights(BaseModel):
    """What an engine derives from a customer's history; the card service adds customer and timeline."""

    summary: str  # plain text, at most 120 words
    facts: list[Fact] = Field(default_factory=list, max_length=15)
    open_items: list[OpenItem] = Field(default_factory=list)
    closed_items: list[OpenItem] = Field(default_factory=list)  # what was open once and is no longer
    superseded: list[str] = Field(default_factory=list)  # corrected or replaced values: never repeated
    # Of those, the ids found to be typos: the card's timeline marks them too, since a mistyped id may well be
    # another customer's, and an agent reading the history at a glance would quote it.
    mistyped_ids: list[str] = Field(default_factory=list)
    language: str | None = None  # ISO 639-1 of the latest customer message ("en", "es", "da", ...)
    sentiment: Literal["negative", "neutral", "positive"] | None = None


class Snippet(BaseModel):
    """Reference material for a reply: a knowledge-base chunk or a past agent reply (already anonymised).

    Knowledge with `audience="internal"` is agent guidance: shown to the agent, never pasted into a reply."""

    source_type: Literal["knowledge", "past_reply"]
    source_id: str
    title: str | None = None
    text: str
    score: float = 0.0
    audience: Literal["public", "internal"] = "public"
    url: str | None = None


class SuggestedReply(BaseModel):
    text: str
    sources: list[str] = Field(default_factory=list)  # interaction ids and "kb:<chunk id>" / "reply:<id>"
    links: list[str] = Field(default_factory=list)  # help-document URLs, best first
