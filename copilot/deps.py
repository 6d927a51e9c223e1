"""Typed FastAPI dependencies: settings, a database session, and the caller's key with its role."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from copilot.auth.ratelimit import Limiter, make_limiter, retry_after_header
from copilot.auth.service import Principal, authenticate, role_allows
from copilot.config import Settings
from copilot.exceptions import Forbidden, TooManyRequests, Unauthorized
from copilot.services import Services


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings_dep(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    with services.db.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <api key>")
    return token.strip()


_limiter_lock = threading.Lock()


def limiter_of(services: Services) -> Limiter:
    """One limiter per Services (per app): in-process buckets, or Redis when configured."""
    limiter = getattr(services, "_rate_limiter", None)
    if limiter is None:
        with _limiter_lock:
            limiter = getattr(services, "_rate_limiter", None)
            if limiter is None:
                limiter = make_limiter(services.settings.redis_url)
                services._rate_limiter = limiter  # type: ignore[attr-defined]
    return limiter


def limit(services: Services, bucket: str, per_minute: int, what: str, *, cost: int = 1) -> None:
    if per_minute <= 0:
        return
    wait = limiter_of(services).hit(bucket, per_minute=per_minute, cost=cost)
    if wait is not None:
        retry = retry_after_header(wait)
        raise TooManyRequests(f"too many requests {what}; retry after {retry} s", retry_after=retry)


def failed_auth(services: Services, client_ip: str | None) -> None:
    """Count a failed authentication against the caller's address (the 401 is still answered)."""
    if client_ip is not None and services.settings.rate_limit_failed_auth > 0:
        limiter_of(services).hit(f"fail:{client_ip}", per_minute=services.settings.rate_limit_failed_auth)


def principal_from_key(services: Services, key: str, *, client_ip: str | None = None) -> Principal:
    """The key's caller, within the rate limits: an address that failed to authenticate too often gets 429s
    for everything (so keys cannot be guessed), then per address, then per key."""
    settings = services.settings
    if client_ip is not None:
        limit(services, f"fail:{client_ip}", settings.rate_limit_failed_auth, "after failed authentications",
              cost=0)
        limit(services, f"ip:{client_ip}", settings.rate_limit_per_ip, "from this address")
    master = settings.master_key.get_secret_value() if settings.master_key else None
    with services.db.session() as session:
        principal = authenticate(session, key=key, master_key=master)
    if principal is None:
        failed_auth(services, client_ip)
        raise Unauthorized("unknown, revoked or expired API key")
    limit(services, f"key:{principal.key_id}", settings.rate_limit_per_key, "for this API key")
    return principal


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def get_principal(request: Request, services: ServicesDep) -> Principal:
    ip = client_address(request)
    try:
        key = bearer_token(request)
    except Unauthorized:
        limit(services, f"fail:{ip}", services.settings.rate_limit_failed_auth, "after failed authentications",
              cost=0)
        failed_auth(services, ip)
        raise
    return principal_from_key(services, key, client_ip=ip)


def require(*roles: str):  # noqa: ANN201 - returns a FastAPI dependency
    """Dependency allowing the listed roles (`agent` admits supervisors and admins too)."""
    allowed = frozenset(roles)

    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role == "master":
            if "master" in allowed:
                return principal
            raise Forbidden("the master key only manages tenants and API keys")
        if not role_allows(principal.role, allowed):
            raise Forbidden(f"a {principal.role} key cannot do this")
        return principal

    return check


AgentDep = Annotated[Principal, Depends(require("agent"))]
SupervisorDep = Annotated[Principal, Depends(require("supervisor"))]
AdminDep = Annotated[Principal, Depends(require("admin"))]
IngestDep = Annotated[Principal, Depends(require("admin", "integration"))]
MasterDep = Annotated[Principal, Depends(require("master"))]
