"""Suggestion request, public view and feedback shapes."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from copilot.interactions.redact import normalise_text, redact_text
from copilot.interactions.schemas import Channel


class SuggestionRequest(BaseModel):
    message: str = Field(min_length=1, max_length=100_000, description="the latest customer message")
    channel: Channel

    @field_validator("message")
    @classmethod
    def without_secrets(cls, value: str) -> str:
        # The message is stored with the suggestions and may be quoted back: it passes the ingest redact stage.
        return redact_text(normalise_text(value))


class SuggestionPublic(BaseModel):
    id: str
    text: str
    sources: list[str]
    links: list[str] = Field(default_factory=list, description="help-document URLs, best first")
    engine: str
    stale: bool = False


class GuidancePublic(BaseModel):
    """Internal knowledge for the agent: shown beside the suggestions, never pasted into a reply."""

    title: str | None = None
    text: str
    url: str | None = None
    source_id: str


class SuggestionList(BaseModel):
    suggestions: list[SuggestionPublic]
    guidance: list[GuidancePublic] = Field(default_factory=list)
    engine: str
    language: str | None = None
    pending: str | None = None  # "llm:<model>" while the model's replies are computed (pushed over the WebSocket)


class FeedbackIn(BaseModel):
    action: Literal["accepted", "edited", "rejected"]
    final_text: str | None = Field(None, max_length=100_000)

    @model_validator(mode="after")
    def edited_needs_text(self) -> FeedbackIn:
        if self.action == "edited" and not (self.final_text and self.final_text.strip()):
            raise ValueError("final_text: required when action is edited")
        return self


class FeedbackOut(BaseModel):
    id: str
    action: str
    final_text: str | None
    stale: bool
    feedback_at: datetime
