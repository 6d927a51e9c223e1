"""The context card (DESIGN §6, contract) as a schema: what `GET /v1/customers/{id}/context` answers, what the
CLI prints and what the live push sends.

`CardInsights.superseded` is deliberately not here: listing corrected values on the card would show the agent
exactly the values that must never be repeated. It stays inside the engines (prompts and grounding).
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from copilot.customers.schemas import CustomerPublic
from copilot.engine.schemas import Fact, OpenItem
from copilot.interactions.schemas import TimelineItem

__all__ = ["ContextCard", "TimelineItem"]


class ContextCard(BaseModel):
    customer: CustomerPublic
    summary: str = Field(description="plain text, at most 120 words")
    facts: list[Fact] = Field(default_factory=list, max_length=15,
                              description="values the customer already gave, each traceable to its interaction")
    open_items: list[OpenItem] = Field(default_factory=list, description="only what is still open")
    closed_items: list[OpenItem] = Field(default_factory=list,
                                         description="fulfilled, replaced, cancelled or answered; for context")
    language: str | None = None
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    timeline: list[TimelineItem] = Field(default_factory=list, description="newest first, every channel")
    engine: str = Field(description='"offline", "llm:<model>" or "offline (llm fallback: <reason>)"')
    pending: str | None = Field(None, description='"llm:<model>" while the model\'s version is computed; it is '
                                                  'pushed over the WebSocket when ready')
    prompt_version: str | None = None
    dropped_identifiers: int = 0
    generated_at: datetime
