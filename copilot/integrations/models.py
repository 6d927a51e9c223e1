"""Per-tenant connector settings (encrypted), raw webhook deliveries (durable), and health counters."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from copilot.database.core import Base, UTCDateTime, utcnow


class ConnectorConfig(Base):
    __tablename__ = "connector_configs"
    __table_args__ = (UniqueConstraint("tenant_id", "connector", name="uq_connector_config"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    connector: Mapped[str] = mapped_column(String(100))
    encrypted: Mapped[str] = mapped_column(Text)  # Fernet token of the settings JSON
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """A verified webhook request, stored before the 2xx so a crash cannot lose it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "connector", "delivery_key", name="uq_webhook_delivery"),
        Index("ix_webhook_deliveries_pending", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    connector: Mapped[str] = mapped_column(String(100))
    delivery_key: Mapped[str] = mapped_column(String(200))  # the vendor's delivery id, or a hash of the body
    method: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[float] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | processed | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ConnectorStats(Base):
    """Health counters per tenant and connector, shared by every worker."""

    __tablename__ = "connector_stats"
    __table_args__ = (UniqueConstraint("tenant_id", "connector", name="uq_connector_stats"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    connector: Mapped[str] = mapped_column(String(100))
    received: Mapped[int] = mapped_column(Integer, default=0)
    ingested: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    signature_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cursor: Mapped[str | None] = mapped_column(String(200), nullable=True)  # pull connectors: where to go on
