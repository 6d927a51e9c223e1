"""Create and check API keys. A key is shown once; only its SHA-256 is stored."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from copilot.auth.models import ApiKey, Tenant
from copilot.customers.service import new_id
from copilot.database.core import utcnow

ROLE_RANK = {"agent": 1, "supervisor": 2, "admin": 3}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a tenant's key with its role, or the master key (tenant None)."""

    key_id: str
    tenant_id: str | None
    role: str
    name: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, *, tenant_id: str, role: str, name: str) -> tuple[str, ApiKey]:
    if session.get(Tenant, tenant_id) is None:
        session.add(Tenant(id=tenant_id, created_at=utcnow()))
        session.flush()  # no ORM relationship orders the inserts for us
    plain = "oc_" + secrets.token_urlsafe(32)
    row = ApiKey(id=new_id(), tenant_id=tenant_id, role=role, name=name, key_hash=hash_key(plain),
                 prefix=plain[:10], created_at=utcnow())
    session.add(row)
    session.flush()
    return plain, row


def authenticate(session: Session, *, key: str, master_key: str | None) -> Principal | None:
    if master_key and hmac.compare_digest(key.encode(), master_key.encode()):
        return Principal(key_id="master", tenant_id=None, role="master", name="master")
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)))
    if row is None:
        return None
    return Principal(key_id=row.id, tenant_id=row.tenant_id, role=row.role, name=row.name or row.prefix)


def role_allows(role: str, allowed: frozenset[str]) -> bool:
    """`agent+` style checks: supervisors and admins may do what agents do; integration keys only ingest."""
    if role in allowed:
        return True
    minimum = min((ROLE_RANK[r] for r in allowed if r in ROLE_RANK), default=None)
    return minimum is not None and ROLE_RANK.get(role, 0) >= minimum
