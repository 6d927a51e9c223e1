"""GET /v1/customers/{id}/context: the context card."""
from __future__ import annotations

from fastapi import APIRouter

from copilot.audit.service import record_read
from copilot.context.schemas import ContextCard
from copilot.context.service import build_card
from copilot.customers.service import get_customer
from copilot.deps import AgentDep, ServicesDep, SessionDep

router = APIRouter(prefix="/v1/customers", tags=["context"])


@router.get("/{customer_id}/context", response_model=ContextCard)
def read_context(customer_id: str, principal: AgentDep, session: SessionDep, services: ServicesDep) -> ContextCard:
    """The card at once: with the LLM engine, the offline card with `pending` set; the model's version follows
    over the WebSocket (event `card`, `replaces: "offline"`) and on the next read."""
    customer = get_customer(session, tenant_id=principal.tenant_id, customer_id=customer_id)
    card = build_card(services, session, tenant_id=principal.tenant_id, customer=customer)
    record_read(session, principal, customer.id, what="context")
    return card
