"""Tenants and API keys: create, check, list, revoke, rotate. A key is shown once; only its SHA-256 is stored.

Tenants are created explicitly (`omnicopilot tenants create`, `POST /v1/admin/tenants`); a key for an unknown
tenant is refused unless the caller asks for the tenant to be created with it (see README, "Key management").
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from copilot.auth.models import ApiKey, Tenant
from copilot.database.core import utcnow
from copilot.database.ids import new_id
from copilot.exceptions import Conflict, NotFound

log = logging.getLogger(__name__)
ROLE_RANK = {"agent": 1, "supervisor": 2, "admin": 3}
LAST_USED_EVERY_S = 60  # `last_used_at` is written at most this often per key: a read-mostly auth path
KEY_PREFIX_CHARS = 10  # stored in clear so an operator can tell keys apart ("oc_" + 7 random characters)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a tenant's key with its role, or the master key (tenant None)."""

    key_id: str
    tenant_id: str | None
    role: str
    name: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# tenants ------------------------------------------------------------------------------------------
def create_tenant(session: Session, tenant_id: str) -> Tenant:
    if session.get(Tenant, tenant_id) is not None:
        raise Conflict(f"tenant {tenant_id!r} exists already")
    row = Tenant(id=tenant_id, created_at=utcnow())
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # created by a concurrent caller
        session.rollback()
        raise Conflict(f"tenant {tenant_id!r} exists already") from None
    return row


def list_tenants(session: Session) -> list[tuple[Tenant, int]]:
    """Every tenant with its number of active keys."""
    now = utcnow()
    active = (select(ApiKey.tenant_id, func.count().label("n")).where(*active_clauses(now))
              .group_by(ApiKey.tenant_id).subquery())
    rows = session.execute(select(Tenant, func.coalesce(active.c.n, 0))
                           .outerjoin(active, active.c.tenant_id == Tenant.id).order_by(Tenant.id))
    return [(tenant, int(count)) for tenant, count in rows]


def require_tenant(session: Session, tenant_id: str) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id!r} does not exist; create it first (omnicopilot tenants create "
                       f"{tenant_id}, or POST /v1/admin/tenants)")
    return tenant


# keys ---------------------------------------------------------------------------------------------
def active_clauses(now: datetime) -> tuple:
    return ApiKey.revoked_at.is_(None), or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now)


def key_status(row: ApiKey, now: datetime | None = None) -> str:
    now = now or utcnow()
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


def create_api_key(session: Session, *, tenant_id: str, role: str, name: str, expires_at: datetime | None = None,
                   create_tenant_if_missing: bool = False) -> tuple[str, ApiKey]:
    """A new key (plain text, row). An unknown tenant is a 404 unless `create_tenant_if_missing`."""
    if session.get(Tenant, tenant_id) is None:
        if not create_tenant_if_missing:
            require_tenant(session, tenant_id)
        try:
            with session.begin_nested():  # no ORM relationship orders the inserts for us: flushed here
                session.add(Tenant(id=tenant_id, created_at=utcnow()))
        except IntegrityError:
            pass  # a concurrent caller created it: the key goes to that tenant
    plain = "oc_" + secrets.token_urlsafe(32)
    row = ApiKey(id=new_id(), tenant_id=tenant_id, role=role, name=name, key_hash=hash_key(plain),
                 prefix=plain[:KEY_PREFIX_CHARS], created_at=utcnow(), expires_at=expires_at)
    session.add(row)
    session.flush()
    return plain, row


def list_keys(session: Session, *, tenant_id: str | None = None, include_inactive: bool = False) -> list[ApiKey]:
    query = select(ApiKey)
    if tenant_id is not None:
        require_tenant(session, tenant_id)
        query = query.where(ApiKey.tenant_id == tenant_id)
    if not include_inactive:
        query = query.where(*active_clauses(utcnow()))
    return list(session.scalars(query.order_by(ApiKey.tenant_id, ApiKey.created_at, ApiKey.id)))


def get_key(session: Session, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key with id {key_id!r}")
    return row


def revoke_key(session: Session, key_id: str) -> ApiKey:
    """Revoke (idempotent: an already revoked key keeps its first revocation time)."""
    row = get_key(session, key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


def rotate_key(session: Session, key_id: str, *, expires_at: datetime | None = None) -> tuple[str, ApiKey, ApiKey]:
    """A new key with the old one's tenant, role and name; the old one is revoked now. Without `expires_at`
    the new key gets the old one's lifetime (counted from now), or none if it had none."""
    old = get_key(session, key_id)
    if old.revoked_at is not None:
        raise Conflict(f"API key {key_id!r} is revoked; create a new one instead")
    if expires_at is None and old.expires_at is not None:
        expires_at = utcnow() + (old.expires_at - old.created_at)
    plain, new = create_api_key(session, tenant_id=old.tenant_id, role=old.role, name=old.name,
                                expires_at=expires_at)
    old.revoked_at = utcnow()
    session.flush()
    return plain, new, old


def key_is_active(session: Session, key_id: str) -> bool:
    """For long-lived connections (WebSockets): is this key still neither revoked nor expired?
    The master key is checked by configuration, not here, so it counts as active."""
    if key_id == "master":
        return True
    return session.scalar(select(ApiKey.id).where(ApiKey.id == key_id, *active_clauses(utcnow()))) is not None


def inactive_key_ids(session: Session, key_ids: Iterable[str]) -> set[str]:
    """Of these keys, those revoked, expired or gone: one query for every open connection at once."""
    wanted = {k for k in key_ids if k != "master"}
    if not wanted:
        return set()
    active = set(session.scalars(select(ApiKey.id).where(ApiKey.id.in_(wanted), *active_clauses(utcnow()))))
    return wanted - active


def authenticate(session: Session, *, key: str, master_key: str | None) -> Principal | None:
    """The caller of `key`, or None for an unknown, revoked or expired key."""
    if master_key and hmac.compare_digest(key.encode(), master_key.encode()):
        return Principal(key_id="master", tenant_id=None, role="master", name="master")
    now = utcnow()
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key), *active_clauses(now)))
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= timedelta(seconds=LAST_USED_EVERY_S):
        touch(session, row.id, now)
    return Principal(key_id=row.id, tenant_id=row.tenant_id, role=row.role, name=row.name or row.prefix)


def touch(session: Session, key_id: str, now: datetime) -> None:
    """Record a use; the condition makes concurrent workers write once, and a busy database skips it."""
    try:
        session.execute(update(ApiKey).where(
            ApiKey.id == key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - timedelta(seconds=LAST_USED_EVERY_S)))
            .values(last_used_at=now))
        session.commit()
    except OperationalError as err:  # best effort: never fail a request over a usage timestamp
        session.rollback()
        log.debug("last_used_at not written for %s: %s", key_id, err)


def role_allows(role: str, allowed: frozenset[str]) -> bool:
    """`agent+` style checks: supervisors and admins may do what agents do; integration keys only ingest."""
    if role in allowed:
        return True
    minimum = min((ROLE_RANK[r] for r in allowed if r in ROLE_RANK), default=None)
    return minimum is not None and ROLE_RANK.get(role, 0) >= minimum
