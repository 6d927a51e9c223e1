"""Typed FastAPI dependencies: settings, a database session, and the caller's key with its role."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from copilot.auth.service import Principal, authenticate, role_allows
from copilot.config import Settings
from copilot.exceptions import Forbidden, Unauthorized
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


def principal_from_key(services: Services, key: str) -> Principal:
    master = services.settings.master_key.get_secret_value() if services.settings.master_key else None
    with services.db.session() as session:
        principal = authenticate(session, key=key, master_key=master)
    if principal is None:
        raise Unauthorized("unknown or revoked API key")
    return principal


def get_principal(request: Request, services: ServicesDep) -> Principal:
    return principal_from_key(services, bearer_token(request))


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
