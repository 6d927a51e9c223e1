"""Shapes of the supervisor review API."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Outcome = Literal["accepted", "edited", "rejected", "ignored"]


class DiffOp(BaseModel):
    op: Literal["equal", "insert", "delete"]
    text: str


class ReviewedSuggestion(BaseModel):
    id: str
    customer_id: str
    customer_name: str | None
    channel: str
    engine: str
    prompt_version: str | None
    rank: int
    message: str
    text: str
    final_text: str | None
    outcome: Outcome  # ignored: shown, and no feedback came
    requested_by: str
    feedback_by: str | None
    created_at: datetime
    feedback_at: datetime | None
    answers_interaction_id: str | None
    edit_distance: int | None = Field(None, description="characters changed (Levenshtein), edited only")
    edit_ratio: float | None = Field(None, description="edit distance over the longer text's length")
    diff: list[DiffOp] | None = Field(None, description="word diff from the suggestion to the text sent")


class ReviewPage(BaseModel):
    items: list[ReviewedSuggestion]
    total: int
    next_offset: int | None
    agents: list[str]
    channels: list[str]
    engines: list[str]


class Rates(BaseModel):
    shown: int
    accepted: int
    edited: int
    rejected: int
    ignored: int
    acceptance_rate: float | None = Field(None, description="accepted as is / shown")
    edit_rate: float | None = Field(None, description="edited / shown")
    rejection_rate: float | None = None
    used_rate: float | None = Field(None, description="(accepted + edited) / shown")


class DayStats(Rates):
    date: str
    first_suggestion_count: int = 0
    first_suggestion_p50_s: float | None = Field(None, description="median seconds from the customer message's "
                                                                   "arrival to its first suggestion")
    first_suggestion_p90_s: float | None = None


class Breakdown(Rates):
    key: str


class ReviewStats(BaseModel):
    days: list[DayStats]
    totals: DayStats
    by_agent: list[Breakdown]
    by_channel: list[Breakdown]
    by_engine: list[Breakdown]


class MergeIn(BaseModel):
    survivor: str = Field(min_length=1, max_length=400, description="customer id or KIND:VALUE identity that stays")
    absorbed: str = Field(min_length=1, max_length=400, description="customer id or KIND:VALUE identity merged in")
    reason: str = Field("", max_length=500)


class MergeOut(BaseModel):
    id: str
    survivor_id: str
    survivor_name: str | None
    absorbed_id: str
    absorbed_name: str | None
    reason: str
    actor: str
    identities_moved: int
    interactions_moved: int
    created_at: datetime
    undone_at: datetime | None
    undone_by: str | None = None


class MergeList(BaseModel):
    merges: list[MergeOut]
