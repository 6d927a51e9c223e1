"""GET /v1/audit/reads (and .csv): who read which customer's data, and when (supervisor+, own tenant)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from copilot.audit.schemas import AuditReadItem, AuditReadPage, What
from copilot.audit.service import AuditFilters, export_csv, make_filters, page
from copilot.deps import ServicesDep, SessionDep, SupervisorDep

router = APIRouter(prefix="/v1/audit", tags=["audit"])


def filters(customer_id: Annotated[str | None, Query(max_length=64)] = None,
            key_id: Annotated[str | None, Query(max_length=64, description="the reading key's id")] = None,
            what: Annotated[What | None, Query(description="context, suggestions, timeline or customer")] = None,
            since: Annotated[str | None, Query(max_length=40, description="date or ISO date-time, inclusive")
                             ] = None,
            until: Annotated[str | None, Query(max_length=40, description="date (whole day included) or ISO "
                                                                           "date-time")] = None) -> AuditFilters:
    return make_filters(customer_id=customer_id, key_id=key_id, what=what, since=since, until=until)


FiltersDep = Annotated[AuditFilters, Depends(filters)]


@router.get("/reads", response_model=AuditReadPage)
def read_audit(principal: SupervisorDep, session: SessionDep, found: FiltersDep,
               limit: Annotated[int, Query(ge=1, le=500)] = 100,
               cursor: Annotated[str | None, Query(max_length=200)] = None) -> AuditReadPage:
    rows, next_cursor = page(session, tenant_id=principal.tenant_id, filters=found, limit=limit, cursor=cursor)
    return AuditReadPage(items=[AuditReadItem(id=r.id, at=r.at, customer_id=r.customer_id, what=r.what,
                                              key_id=r.key_id, key_name=r.key_name, role=r.role) for r in rows],
                         next_cursor=next_cursor)


@router.get("/reads.csv", response_class=StreamingResponse)
def read_audit_csv(principal: SupervisorDep, services: ServicesDep, found: FiltersDep) -> StreamingResponse:
    return StreamingResponse(export_csv(services.db, tenant_id=principal.tenant_id, filters=found),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="audit-reads.csv"'})
