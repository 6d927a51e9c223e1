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
    customer_identity: str | None = Field(None, description="one KIND:VALUE of the customer, to open the sidebar")
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
    by_prompt_version: list[Breakdown] = Field(default_factory=list)


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


class MergeSide(BaseModel):
    customer_id: str
    name: str | None
    identities: list[str] = Field(description="KIND:VALUE")
    interactions: int
    channels: list[str]
    first_contact: datetime | None
    last_contact: datetime | None


class MergePreview(BaseModel):
    survivor: MergeSide
    absorbed: MergeSide
    joining: list[str] = Field(description="identities the survivor gains (KIND:VALUE)")
    interactions_moving: int
    same_customer: bool = Field(description="both references already name one customer: nothing to merge")


# -- leak points: repeat asks ----------------------------------------------------------------------

class AskedMessage(BaseModel):
    interaction_id: str
    channel: str
    occurred_at: datetime
    agent: str = Field(description="the agent who asked (the name on the message)")
    sentence: str = Field(description="the sentence that asks")
    link: str = Field(description="the sidebar at this message")


class GivenMessage(BaseModel):
    interaction_id: str
    channel: str
    occurred_at: datetime
    evidence: str = Field(description="the customer's sentence that gave it")
    link: str


class RepeatAsk(BaseModel):
    customer_id: str
    customer_name: str | None
    customer_identity: str | None
    kind: str = Field(description="what was asked for: order_number, photo, address, ... (engine's asking lexicon)")
    label: str
    value: str | None = Field(description="the value first given; none for a document or photo")
    channel_switch: str = Field(description="channel first given on → channel asked on, e.g. email → voice")
    asked: AskedMessage
    first_given: GivenMessage
    times_given: int = Field(description="on how many earlier contacts the customer had given it")
    nth: int = Field(description="1 for the first repeat ask of this for this customer, 2 for the next, ...")
    days_since_given: float
    copilot_used: bool = Field(description="the agent accepted or edited a suggestion for the message answered")


class ChannelPair(BaseModel):
    from_channel: str
    to_channel: str
    label: str
    repeat_asks: int


class RepeatAskCounts(BaseModel):
    agent_replies: int = Field(description="agent messages to customers (one per agent per interaction)")
    replies_with_repeat_ask: int
    repeat_asks: int
    rate: float | None = Field(None, description="replies with a repeat ask / agent replies")


class RepeatAskAgent(RepeatAskCounts):
    agent: str


class RepeatAskWeek(RepeatAskCounts):
    week: str = Field(description="the Monday (ISO date) the week starts on")


class RepeatAskKind(BaseModel):
    kind: str
    label: str
    repeat_asks: int


class CopilotUse(RepeatAskCounts):
    copilot_used: bool


class RepeatAskReport(BaseModel):
    since: datetime | None
    until: datetime | None
    total: int = Field(description="repeat asks")
    agent_replies: int
    replies_with_repeat_ask: int
    rate: float | None
    customers: int = Field(description="customers asked again at least once")
    by_channel_pair: list[ChannelPair]
    by_agent: list[RepeatAskAgent]
    by_week: list[RepeatAskWeek]
    by_kind: list[RepeatAskKind]
    with_copilot: CopilotUse
    without_copilot: CopilotUse
    agents: list[str]
    channels: list[str]
    worst: list[RepeatAsk] = Field(description="most repeated first: times given, then nth ask, then days since")
