"""Customer routes: search, resolve an identity, read a customer, read the unified timeline."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from copilot.audit.service import record_read
from copilot.customers.identity import IdentityError, parse_identity
from copilot.customers.schemas import CustomerList, CustomerPublic
from copilot.customers.service import get_customer, public_view, resolve, search
from copilot.deps import AgentDep, SessionDep, SettingsDep
from copilot.exceptions import BadRequest, NotFound
from copilot.interactions.schemas import Channel, TimelinePage
from copilot.interactions.timeline import timeline_page

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.get("", response_model=CustomerList)
def search_customers(principal: AgentDep, session: SessionDep,
                     q: Annotated[str, Query(min_length=1, max_length=320)],
                     limit: Annotated[int, Query(ge=1, le=50)] = 10) -> CustomerList:
    """Customers whose name or an identifier contains `q`, for pickers (the console's merge form)."""
    found = search(session, tenant_id=principal.tenant_id, query=q, limit=limit)
    return CustomerList(customers=[CustomerPublic(**public_view(session, customer=c)) for c in found])


@router.get("/resolve", response_model=CustomerPublic)
def resolve_identity(identity: str, principal: AgentDep, session: SessionDep, settings: SettingsDep) -> dict:
    try:
        ref = parse_identity(identity, region=settings.default_region)
    except IdentityError as err:
        raise BadRequest(f"identity: {err}") from None
    customer = resolve(session, tenant_id=principal.tenant_id, ref=ref)
    if customer is None:
        raise NotFound(f"no customer with {ref}")
    view = public_view(session, customer=customer)
    record_read(session, principal, customer.id, what="customer")
    return view


@router.get("/{customer_id}", response_model=CustomerPublic)
def read_customer(customer_id: str, principal: AgentDep, session: SessionDep) -> dict:
    customer = get_customer(session, tenant_id=principal.tenant_id, customer_id=customer_id)
    view = public_view(session, customer=customer)
    record_read(session, principal, customer.id, what="customer")
    return view


@router.get("/{customer_id}/timeline", response_model=TimelinePage)
def read_timeline(customer_id: str, principal: AgentDep, session: SessionDep,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: str | None = None,
                  channel: Annotated[list[Channel] | None, Query()] = None) -> TimelinePage:
    customer = get_customer(session, tenant_id=principal.tenant_id, customer_id=customer_id)
    found = timeline_page(session, tenant_id=principal.tenant_id, customer_id=customer.id, limit=limit,
                          cursor=cursor, channels=list(channel) if channel else None)
    record_read(session, principal, customer.id, what="timeline")
    return found
