"""Customers: find them by identity, merge and undo merges (`resolver` decides who arriving identifiers are)."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from copilot.customers.identity import IdentityRef
from copilot.customers.models import Customer, CustomerMerge, Identity
from copilot.database.core import utcnow
from copilot.database.ids import new_id
from copilot.exceptions import Conflict, NotFound
from copilot.interactions.models import IndexOutbox, Interaction
from copilot.worker.leases import requeue_outbox


def get_customer(session: Session, *, tenant_id: str, customer_id: str) -> Customer:
    """The live customer; a merged id follows to its survivor. Another tenant's id is simply not found."""
    customer = session.get(Customer, customer_id)
    seen = set()
    while customer is not None and customer.merged_into_id and customer.id not in seen:
        seen.add(customer.id)
        customer = session.get(Customer, customer.merged_into_id)
    if customer is None or customer.tenant_id != tenant_id:
        raise NotFound("no such customer")
    return customer


def identities_of(session: Session, *, customer_id: str) -> list[Identity]:
    return list(session.scalars(select(Identity).where(Identity.customer_id == customer_id)
                                .order_by(Identity.kind, Identity.value)))


def resolve(session: Session, *, tenant_id: str, ref: IdentityRef) -> Customer | None:
    identity = session.scalar(select(Identity).where(Identity.tenant_id == tenant_id, Identity.kind == ref.kind,
                                                     Identity.value == ref.value))
    if identity is None:
        return None
    return get_customer(session, tenant_id=tenant_id, customer_id=identity.customer_id)


def merge(session: Session, *, tenant_id: str, survivor: Customer, absorbed: Customer, actor: str,
          reason: str) -> CustomerMerge:
    """Move the absorbed customer's identifiers and history to the survivor, keeping a record to undo it."""
    if survivor.id == absorbed.id or survivor.tenant_id != tenant_id or absorbed.tenant_id != tenant_id:
        raise Conflict("cannot merge a customer with itself or across tenants")
    identity_ids = list(session.scalars(select(Identity.id).where(Identity.customer_id == absorbed.id)))
    interaction_ids = list(session.scalars(select(Interaction.id).where(Interaction.customer_id == absorbed.id)))
    session.execute(update(Identity).where(Identity.id.in_(identity_ids)).values(customer_id=survivor.id))
    session.execute(update(Interaction).where(Interaction.id.in_(interaction_ids)).values(customer_id=survivor.id))
    absorbed.merged_into_id = survivor.id
    if not survivor.name and absorbed.name:
        survivor.name = absorbed.name
    record = CustomerMerge(id=new_id(), tenant_id=tenant_id, survivor_id=survivor.id, absorbed_id=absorbed.id,
                           reason=reason[:500], actor=actor[:200], created_at=utcnow(),
                           moved={"identities": identity_ids, "interactions": interaction_ids})
    session.add(record)
    reindex(session, tenant_id=tenant_id, interaction_ids=interaction_ids)
    session.flush()
    return record


def undo_merge(session: Session, *, tenant_id: str, merge_id: str, actor: str) -> CustomerMerge:
    record = session.get(CustomerMerge, merge_id)
    if record is None or record.tenant_id != tenant_id:
        raise NotFound("no such merge")
    if record.undone_at is not None:
        raise Conflict("this merge was already undone")
    moved = record.moved
    session.execute(update(Identity).where(Identity.id.in_(moved["identities"]))
                    .values(customer_id=record.absorbed_id))
    session.execute(update(Interaction).where(Interaction.id.in_(moved["interactions"]))
                    .values(customer_id=record.absorbed_id))
    absorbed = session.get(Customer, record.absorbed_id)
    assert absorbed is not None
    absorbed.merged_into_id = None
    record.undone_at = utcnow()
    record.undone_by = actor
    reindex(session, tenant_id=tenant_id, interaction_ids=moved["interactions"])
    session.flush()
    return record


def reindex(session: Session, *, tenant_id: str, interaction_ids: Iterable[str]) -> None:
    """Queue interactions whose index metadata (customer) changed. Those already queued may be held by an
    indexer right now, with the old customer: their claim is taken away, so they are indexed again."""
    interaction_ids = list(interaction_ids)
    requeue_outbox(session, interaction_ids)
    pending = set(session.scalars(select(IndexOutbox.interaction_id)
                                  .where(IndexOutbox.interaction_id.in_(list(interaction_ids)))))
    for interaction_id in interaction_ids:
        if interaction_id not in pending:
            session.add(IndexOutbox(tenant_id=tenant_id, interaction_id=interaction_id, enqueued_at=utcnow()))


def search(session: Session, *, tenant_id: str, query: str, limit: int) -> list[Customer]:
    """Live customers whose name or any identifier contains `query` (any case), names first matched; for
    pickers such as the console's merge form, where a supervisor knows a name or part of an address."""
    needle = query.strip().lower()
    if not needle:
        return []
    by_identity = select(Identity.customer_id).where(Identity.tenant_id == tenant_id,
                                                     func.lower(Identity.value).contains(needle, autoescape=True))
    named = func.lower(func.coalesce(Customer.name, "")).contains(needle, autoescape=True)
    return list(session.scalars(
        select(Customer).where(Customer.tenant_id == tenant_id, Customer.merged_into_id.is_(None),
                               or_(named, Customer.id.in_(by_identity)))
        .order_by(named.desc(), func.lower(func.coalesce(Customer.name, "")), Customer.id).limit(limit)))


def public_view(session: Session, *, customer: Customer) -> dict:
    identities = [{"kind": i.kind, "value": i.value, "identity": f"{i.kind}:{i.value}"}
                  for i in identities_of(session, customer_id=customer.id)]
    return {"customer_id": customer.id, "id": customer.id, "name": customer.name, "identities": identities}
