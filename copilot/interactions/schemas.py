"""The canonical interaction (DESIGN §4, contract) and the ingest API's shapes."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The channel, direction and author role an interaction may have (DESIGN §4, contract).
Channel = Literal["email", "chat", "sms", "whatsapp", "social", "voice", "ticket"]
Direction = Literal["inbound", "outbound", "internal"]
AuthorRole = Literal["customer", "agent", "bot", "system"]


class TimelineItem(BaseModel):
    """One interaction of the customer: what the engines read (never another customer's), and the item of the
    card's timeline and of the timeline API (one type for all three)."""

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


MAX_TEXT_CHARS = 100_000
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_AHEAD = timedelta(days=365)
OUT_OF_RANGE = "must lie between 1970-01-01 and one year from now"
MAX_IDENTIFIERS = 20
MAX_NETWORK_CHARS = 64
MAX_IDENTIFIER_CHARS = 300
DEFAULT_ROLE: dict[str, str] = {"inbound": "customer", "outbound": "agent", "internal": "agent"}


class CustomerBlock(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, max_length=300)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=50)
    handles: dict[str, str] = Field(default_factory=dict)
    external_ids: dict[str, str] = Field(default_factory=dict)

    @field_validator("external_ids", mode="before")
    @classmethod
    def ids_as_text(cls, value: Any) -> Any:
        # Source systems often send numeric ids; they are identifiers, not numbers.
        if isinstance(value, dict):
            return {k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in value.items()}
        return value

    @field_validator("handles", "external_ids")
    @classmethod
    def bounded(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_IDENTIFIERS:
            raise ValueError(f"at most {MAX_IDENTIFIERS} entries")
        for network, ident in value.items():
            if not 0 < len(network) <= MAX_NETWORK_CHARS or len(ident) > MAX_IDENTIFIER_CHARS:
                raise ValueError(f"names are 1 to {MAX_NETWORK_CHARS} characters, values at most "
                                 f"{MAX_IDENTIFIER_CHARS}")
        return value

    @model_validator(mode="after")
    def has_identifier(self) -> CustomerBlock:
        if not (self.email or self.phone or self.handles or self.external_ids):
            raise ValueError("needs at least one identifier: email, phone, handles or external_ids")
        return self


class InteractionIn(BaseModel):
    """One canonical interaction as connectors, the CLI and the API receive it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    source: str = Field(min_length=1, max_length=100)
    external_id: str = Field(min_length=1, max_length=500)
    channel: Channel
    direction: Direction
    author_role: AuthorRole | None = None
    author_name: str | None = Field(None, max_length=300)
    customer: CustomerBlock
    thread_id: str | None = Field(None, max_length=500)
    subject: str | None = Field(None, max_length=1000)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    occurred_at: datetime
    metadata: dict[str, Any] = Field(default_factory=dict)
    tenant: str | None = Field(None, max_length=64)  # CLI only; over the API the key decides

    @field_validator("external_id", mode="before")
    @classmethod
    def external_id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("occurred_at", mode="before")
    @classmethod
    def iso_text_only(cls, value: Any) -> Any:
        # A bare number is ambiguous (seconds? milliseconds?): ISO 8601 text only.
        if not isinstance(value, str | datetime):
            raise ValueError("must be an ISO 8601 date-time string, e.g. 2026-11-02T14:03:00Z")
        return value

    @field_validator("occurred_at")
    @classmethod
    def as_utc(cls, value: datetime) -> datetime:
        # Without a zone the same text means different moments on different servers; past the bounds, date
        # arithmetic (a promise "tomorrow") overflows.
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("needs a time zone, e.g. 2026-11-02T14:03:00Z or 2026-11-02T15:03:00+01:00")
        try:
            moment = value.astimezone(UTC)
        except OverflowError:
            raise ValueError(OUT_OF_RANGE) from None
        if moment < EARLIEST or moment > datetime.now(UTC) + LATEST_AHEAD:
            raise ValueError(OUT_OF_RANGE)
        return moment

    @model_validator(mode="after")
    def default_role(self) -> InteractionIn:
        if self.author_role is None:
            self.author_role = DEFAULT_ROLE[self.direction]  # type: ignore[assignment]
        return self


class IngestRequest(BaseModel):
    interactions: list[Any]


class Rejection(BaseModel):
    index: int
    error: str


class IngestResponse(BaseModel):
    created: int
    duplicates: int
    rejected: list[Rejection]


class TimelinePage(BaseModel):
    items: list[TimelineItem]
    next_cursor: str | None = None


