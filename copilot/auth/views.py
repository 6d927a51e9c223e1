"""Admin routes (master key only): tenants and API keys - create, list, revoke, rotate."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from copilot.auth.models import ApiKey, Tenant
from copilot.auth.schemas import (
    TENANT_PATTERN,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyPublic,
    ApiKeyRotate,
    TenantCreate,
    TenantList,
    TenantPublic,
)
from copilot.auth.service import (
    create_api_key,
    create_tenant,
    key_status,
    list_keys,
    list_tenants,
    revoke_key,
    rotate_key,
)
from copilot.deps import MasterDep, SessionDep

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def public(row: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(id=row.id, tenant=row.tenant_id, role=row.role, name=row.name, prefix=row.prefix,
                        status=key_status(row), created_at=row.created_at, last_used_at=row.last_used_at,
                        expires_at=row.expires_at, revoked_at=row.revoked_at)


def created(plain: str, row: ApiKey, *, tenant_created: bool = False) -> ApiKeyCreated:
    return ApiKeyCreated(key=plain, tenant_created=tenant_created, **public(row).model_dump())


def tenant_exists(session: Session, tenant_id: str) -> bool:
    return session.get(Tenant, tenant_id) is not None


@router.post("/tenants", status_code=201, response_model=TenantPublic)
def create_tenant_route(body: TenantCreate, _master: MasterDep, session: SessionDep) -> TenantPublic:
    row = create_tenant(session, body.tenant)
    session.commit()
    return TenantPublic(tenant=row.id, created_at=row.created_at)


@router.get("/tenants", response_model=TenantList)
def list_tenants_route(_master: MasterDep, session: SessionDep) -> TenantList:
    return TenantList(items=[TenantPublic(tenant=t.id, created_at=t.created_at, active_keys=n)
                             for t, n in list_tenants(session)])


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
def create_key(body: ApiKeyCreate, _master: MasterDep, session: SessionDep) -> ApiKeyCreated:
    is_new = not tenant_exists(session, body.tenant)
    plain, row = create_api_key(session, tenant_id=body.tenant, role=body.role, name=body.name,
                                expires_at=body.moment(), create_tenant_if_missing=body.create_tenant)
    session.commit()
    return created(plain, row, tenant_created=is_new)


@router.get("/api-keys", response_model=ApiKeyList)
def list_keys_route(_master: MasterDep, session: SessionDep,
                    tenant: Annotated[str | None, Query(pattern=TENANT_PATTERN)] = None,
                    include_inactive: bool = False) -> ApiKeyList:
    """Keys of one tenant (or all); revoked and expired ones only with `include_inactive=true`."""
    return ApiKeyList(items=[public(r) for r in list_keys(session, tenant_id=tenant,
                                                          include_inactive=include_inactive)])


@router.delete("/api-keys/{key_id}", response_model=ApiKeyPublic)
def revoke_key_route(key_id: str, _master: MasterDep, session: SessionDep) -> ApiKeyPublic:
    row = revoke_key(session, key_id)
    session.commit()
    return public(row)


@router.post("/api-keys/{key_id}/rotate", status_code=201, response_model=ApiKeyCreated)
def rotate_key_route(key_id: str, _master: MasterDep, session: SessionDep,
                     body: ApiKeyRotate | None = None) -> ApiKeyCreated:
    plain, row, _old = rotate_key(session, key_id, expires_at=(body or ApiKeyRotate()).moment())
    session.commit()
    return created(plain, row)
