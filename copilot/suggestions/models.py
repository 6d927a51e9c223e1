"""Every suggestion shown to an agent, and what the agent did with it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from copilot.database.core import Base, UTCDateTime, utcnow


class Suggestion(Base):
    __tablename__ = "suggestions"
    __table_args__ = (Index("ix_suggestions_tenant_time", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    # The customer message it answers: the newest inbound interaction when it was made (if any).
    answers_interaction_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    answers_occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    message: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(100))
    prompt_version: Mapped[str | None] = mapped_column(String(50), nullable=True)
    rank: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[str]] = mapped_column(JSON)
    links: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # help-document URLs, best first
    requested_by: Mapped[str] = mapped_column(String(200))  # API key name
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Feedback: accepted | edited | rejected (None: shown, nothing done yet)
    action: Mapped[str | None] = mapped_column(String(16), nullable=True)
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    feedback_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
