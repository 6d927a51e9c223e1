"""Tenant and API key shapes: create (master key), public view (never the hash)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from copilot.database.core import utcnow

Role = Literal["agent", "supervisor", "admin", "integration"]
KeyStatus = Literal["active", "revoked", "expired"]
TENANT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
MAX_KEY_DAYS = 3650


class Expiry(BaseModel):
    """Optional expiry: a lifetime in days or a moment (with its time zone), not both."""

    expires_in_days: int | None = Field(None, ge=1, le=MAX_KEY_DAYS, description="the key stops working after "
                                                                                 "this many days")
    expires_at: AwareDatetime | None = Field(None, description="the key stops working at this moment (ISO 8601 "
                                                               "with a time zone)")

    @model_validator(mode="after")
    def one_expiry(self) -> Expiry:
        if self.expires_in_days is not None and self.expires_at is not None:
            raise ValueError("expires_in_days, expires_at: give one, not both")
        if self.expires_at is not None:
            now = utcnow()
            if self.expires_at <= now:
                raise ValueError("expires_at: must be in the future")
            if self.expires_at > now + timedelta(days=MAX_KEY_DAYS):
                raise ValueError(f"expires_at: at most {MAX_KEY_DAYS} days ahead")
        return self

    def moment(self) -> datetime | None:
        if self.expires_in_days is not None:
            return utcnow() + timedelta(days=self.expires_in_days)
        return self.expires_at


class ApiKeyCreate(Expiry):
    tenant: str = Field(pattern=TENANT_PATTERN, description="tenant slug: lower-case letters, digits, - and _")
    role: Role
    name: str = Field("", max_length=200, description="who uses the key, e.g. the agent's name: shown as "
                                                      "'by agent' in the console and the audit")
    create_tenant: bool = Field(True, description="create the tenant if it does not exist (the answer says "
                                                  "`tenant_created`); false: an unknown tenant is a 404")


class ApiKeyRotate(Expiry):
    pass


class ApiKeyPublic(BaseModel):
    id: str
    tenant: str
    role: str
    name: str
    prefix: str = Field(description="the key's first characters, as stored, to tell keys apart")
    status: KeyStatus
    created_at: datetime
    last_used_at: datetime | None = Field(description="updated at most once a minute")
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str  # shown once; only its hash is stored
    tenant_created: bool = False


class ApiKeyList(BaseModel):
    items: list[ApiKeyPublic]


class TenantCreate(BaseModel):
    tenant: str = Field(pattern=TENANT_PATTERN, description="tenant slug: lower-case letters, digits, - and _")


class TenantPublic(BaseModel):
    tenant: str
    created_at: datetime
    active_keys: int = 0


class TenantList(BaseModel):
    items: list[TenantPublic]
