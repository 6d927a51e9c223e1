"""Public views of customers."""
from __future__ import annotations

from pydantic import BaseModel


class IdentityPublic(BaseModel):
    kind: str
    value: str
    identity: str  # KIND:VALUE, as the CLI and API take it


class CustomerPublic(BaseModel):
    customer_id: str
    id: str
    name: str | None
    identities: list[IdentityPublic]


class CustomerList(BaseModel):
    customers: list[CustomerPublic]
