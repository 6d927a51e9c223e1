"""Admin routes: API keys (master key only)."""
from __future__ import annotations

from fastapi import APIRouter

from copilot.auth.schemas import ApiKeyCreate, ApiKeyCreated
from copilot.auth.service import create_api_key
from copilot.deps import MasterDep, SessionDep

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
def create_key(body: ApiKeyCreate, _master: MasterDep, session: SessionDep) -> ApiKeyCreated:
    plain, row = create_api_key(session, tenant_id=body.tenant, role=body.role, name=body.name)
    session.commit()
    return ApiKeyCreated(key=plain, id=row.id, tenant=row.tenant_id, role=body.role, name=row.name)
