"""API key shapes: create (master key), public view (never the hash)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Role = Literal["agent", "supervisor", "admin", "integration"]
TENANT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class ApiKeyCreate(BaseModel):
    tenant: str = Field(pattern=TENANT_PATTERN, description="tenant slug: lower-case letters, digits, - and _")
    role: Role
    name: str = Field("", max_length=200)


class ApiKeyCreated(BaseModel):
    key: str  # shown once; only its hash is stored
    id: str
    tenant: str
    role: Role
    name: str
