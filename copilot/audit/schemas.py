"""Audit answers: one row per read of a customer's data, newest first."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

What = Literal["context", "suggestions", "timeline", "customer"]


class AuditReadItem(BaseModel):
    id: int
    at: datetime
    customer_id: str
    what: str
    key_id: str
    key_name: str
    role: str


class AuditReadPage(BaseModel):
    items: list[AuditReadItem]
    next_cursor: str | None
