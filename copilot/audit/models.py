"""Who read which customer's data, and when: one row per read of a context card, suggestions or a timeline."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from copilot.database.core import Base, UTCDateTime, utcnow


class AuditRead(Base):
    __tablename__ = "audit_reads"
    # Every query is per tenant, newest first, optionally narrowed to a customer or a key.
    __table_args__ = (Index("ix_audit_reads_tenant_time", "tenant_id", "at"),
                      Index("ix_audit_reads_tenant_customer_time", "tenant_id", "customer_id", "at"),
                      Index("ix_audit_reads_tenant_key_time", "tenant_id", "key_id", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    # No foreign key to customers: a merged or erased customer's reads stay on record.
    customer_id: Mapped[str] = mapped_column(String(36))
    what: Mapped[str] = mapped_column(String(32))  # context | suggestions | timeline | customer
    # The key, and its name and role when it read (a later rename does not rewrite history).
    key_id: Mapped[str] = mapped_column(String(36))
    key_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
