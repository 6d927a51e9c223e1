"""The ingest pipeline: validate -> dedupe -> resolve identity -> persist with an outbox row -> notify.

Valid records of a batch commit together when none of them merges customers, else one at a time; a
bad record never takes the batch down, and a 2xx answer means every created record is in SQL.
Indexing in Chroma happens after, from the outbox.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from copilot.auth.models import Tenant
from copilot.customers.identity import IdentityError, IdentityRef, identities_from_block
from copilot.customers.models import Customer, Identity
from copilot.customers.service import link_identities, new_id
from copilot.database.core import Database, utcnow
from copilot.exceptions import describe_validation_errors
from copilot.interactions.models import IndexOutbox, Interaction
from copilot.interactions.redact import redact_record
from copilot.interactions.schemas import InteractionIn, Rejection

log = logging.getLogger(__name__)
RETRIES = 5


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    created_records: list[tuple[str, str, str]] = field(default_factory=list)  # (tenant, customer, interaction)


def validate_record(raw: Any, *, region: str) -> tuple[InteractionIn, list] | str:
    """The parsed record and its identities, or an error message that names the field."""
    if not isinstance(raw, dict):
        return "record must be a JSON object"
    try:
        record = InteractionIn.model_validate(raw)
    except ValidationError as err:
        return describe_validation_errors(list(err.errors()))
    try:
        refs = identities_from_block(record.customer.model_dump(), region=region)
    except IdentityError as err:
        return str(err)
    return redact_record(record), refs


def ensure_tenant(db: Database, tenant_id: str) -> None:
    with db.session() as session:
        if session.get(Tenant, tenant_id) is None:
            session.add(Tenant(id=tenant_id, created_at=utcnow()))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()  # created by a concurrent caller


@dataclass
class Accepted:
    """A record that passed validation, waiting to be stored."""

    index: int
    tenant: str
    record: InteractionIn
    refs: list[IdentityRef]


def ingest(*, db: Database, tenant_id: str | None, records: Sequence[Any], region: str, actor: str,
           on_created: Callable[[IngestResult], None] | None = None, first_index: int = 0) -> IngestResult:
    """Store a batch. `tenant_id` None means each record names its own (`tenant`, CLI admin use)."""
    result = IngestResult()
    accepted: list[Accepted] = []
    for offset, raw in enumerate(records):
        index = first_index + offset
        parsed = validate_record(raw, region=region)
        if isinstance(parsed, str):
            result.rejected.append(Rejection(index=index, error=parsed))
            continue
        record, refs = parsed
        if tenant_id is not None and record.tenant not in (None, tenant_id):
            result.rejected.append(Rejection(index=index, error="tenant: set by the API key; leave it out"))
            continue
        tenant = tenant_id or record.tenant
        if not tenant:
            result.rejected.append(Rejection(index=index, error="tenant: required (or pass --tenant)"))
            continue
        accepted.append(Accepted(index, tenant, record, refs))
    for tenant in dict.fromkeys(a.tenant for a in accepted):
        ensure_tenant(db, tenant)
        group = [a for a in accepted if a.tenant == tenant]
        outcomes, leftovers = store_batch(db=db, tenant_id=tenant, accepted=group)
        for entry in leftovers:  # records that merge customers, or lost a race: one at a time
            outcomes[entry.index] = store_one(db=db, tenant_id=tenant, record=entry.record, refs=entry.refs,
                                              actor=actor)
        for entry in group:
            outcome = outcomes[entry.index]
            if outcome is None:
                result.duplicates += 1
            else:
                result.created += 1
                result.created_records.append((tenant, outcome[0], outcome[1]))
    result.rejected.sort(key=lambda r: r.index)
    if on_created and result.created_records:
        on_created(result)
    return result


def store_batch(*, db: Database, tenant_id: str, accepted: list[Accepted]
                ) -> tuple[dict[int, tuple[str, str] | None], list[Accepted]]:
    """Store in one transaction every record that needs no merge; return the others for `store_one`.

    The common case (new records of known or new customers) costs a few queries per batch instead of
    several per record. Anything unusual (a record linking two existing customers, a concurrent writer
    of the same record or identifier) falls back to the careful one-at-a-time path.
    """
    outcomes: dict[int, tuple[str, str] | None] = {}
    with db.session() as session:
        stored = {(source, external_id) for source, external_id in session.execute(
            select(Interaction.source, Interaction.external_id).where(
                Interaction.tenant_id == tenant_id,
                Interaction.external_id.in_({a.record.external_id for a in accepted})))}
        fresh: list[Accepted] = []
        for entry in accepted:
            key = (entry.record.source, entry.record.external_id)
            if key in stored:
                outcomes[entry.index] = None  # a duplicate links nothing, as in store_one
            else:
                stored.add(key)
                fresh.append(entry)
        refs = {ref for entry in fresh for ref in entry.refs}
        owners = {IdentityRef(kind, value): customer for kind, value, customer in session.execute(
            select(Identity.kind, Identity.value, Identity.customer_id).where(
                Identity.tenant_id == tenant_id, Identity.value.in_({r.value for r in refs}))).all()
            if IdentityRef(kind, value) in refs}
        merged = set(session.scalars(select(Customer.id).where(
            Customer.id.in_(set(owners.values())), Customer.merged_into_id.is_not(None))))
        groups = linked_groups(fresh)
        leftovers: list[Accepted] = []
        customers: list[dict[str, Any]] = []
        names: dict[str, str] = {}
        identities: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        now = utcnow()
        for group in groups:
            group_refs = sorted({ref for entry in group for ref in entry.refs})
            found = {owners[ref] for ref in group_refs if ref in owners}
            if len(found) > 1 or found & merged:
                leftovers.extend(group)
                continue
            name = next((e.record.customer.name for e in group if e.record.customer.name), None)
            if found:
                customer_id = found.pop()
                if name:
                    names[customer_id] = name
            else:
                customer_id = new_id()
                # Distinct times keep "the oldest customer survives a merge" well defined within a batch.
                created = now + timedelta(microseconds=len(customers))
                customers.append({"id": customer_id, "tenant_id": tenant_id, "name": name, "created_at": created})
            identities += [{"id": new_id(), "tenant_id": tenant_id, "customer_id": customer_id, "kind": ref.kind,
                            "value": ref.value, "created_at": now} for ref in group_refs if ref not in owners]
            for entry in group:
                record = entry.record
                interaction_id = new_id()
                rows.append({"id": interaction_id, "tenant_id": tenant_id, "customer_id": customer_id,
                             "source": record.source, "external_id": record.external_id, "channel": record.channel,
                             "direction": record.direction, "author_role": record.author_role,
                             "author_name": record.author_name, "thread_id": record.thread_id,
                             "subject": record.subject, "text": record.text, "occurred_at": record.occurred_at,
                             "customer_block": record.customer.model_dump(exclude_defaults=True),
                             "metadata_": record.metadata, "created_at": now})
                outcomes[entry.index] = (customer_id, interaction_id)
        if not rows:
            return outcomes, leftovers
        try:
            if customers:
                session.execute(insert(Customer), customers)
            for customer_id, name in names.items():
                session.execute(update(Customer).where(Customer.id == customer_id, Customer.name.is_(None))
                                .values(name=name))
            if identities:
                session.execute(insert(Identity), identities)
            session.execute(insert(Interaction), rows)
            session.execute(insert(IndexOutbox), [{"tenant_id": tenant_id, "interaction_id": r["id"],
                                                   "enqueued_at": now} for r in rows])
            session.commit()
        except (IntegrityError, OperationalError) as err:
            # Someone else stored one of these records or identifiers meanwhile: take the careful path.
            session.rollback()
            log.debug("batch ingest fell back to one record at a time: %s", err)
            fresh_indexes = {e.index for e in fresh}
            return {i: None for i in outcomes if i not in fresh_indexes}, fresh
    return outcomes, leftovers


def linked_groups(entries: list[Accepted]) -> list[list[Accepted]]:
    """Records of the batch that share an identifier, transitively: they belong to one customer."""
    parent = list(range(len(entries)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[IdentityRef, int] = {}
    for i, entry in enumerate(entries):
        for ref in entry.refs:
            if ref in first_with:
                parent[root(i)] = root(first_with[ref])
            else:
                first_with[ref] = i
    groups: dict[int, list[Accepted]] = {}
    for i, entry in enumerate(entries):
        groups.setdefault(root(i), []).append(entry)
    return list(groups.values())


def store_one(*, db: Database, tenant_id: str, record: InteractionIn, refs: list, actor: str) -> tuple[str, str] | None:
    """(customer id, interaction id) of the stored record, or None when it was already stored."""
    for attempt in range(RETRIES):
        with db.session() as session:
            exists = session.scalar(select(Interaction.id).where(
                Interaction.tenant_id == tenant_id, Interaction.source == record.source,
                Interaction.external_id == record.external_id))
            if exists:
                return None
            try:
                customer = link_identities(session, tenant_id=tenant_id, refs=refs, name=record.customer.name,
                                           actor=actor)
                interaction = Interaction(
                    id=new_id(), tenant_id=tenant_id, customer_id=customer.id, source=record.source,
                    external_id=record.external_id, channel=record.channel, direction=record.direction,
                    author_role=record.author_role, author_name=record.author_name, thread_id=record.thread_id,
                    subject=record.subject, text=record.text, occurred_at=record.occurred_at,
                    customer_block=record.customer.model_dump(exclude_defaults=True),
                    metadata_=record.metadata, created_at=utcnow())
                session.add(interaction)
                session.flush()
                session.add(IndexOutbox(tenant_id=tenant_id, interaction_id=interaction.id, enqueued_at=utcnow()))
                session.commit()
                return customer.id, interaction.id
            except (IntegrityError, OperationalError) as err:
                # A concurrent request stored the same record or identifier first (or the database
                # was busy): start again and see what is there now.
                session.rollback()
                log.debug("ingest retry %s for %s/%s: %s", attempt, record.source, record.external_id, err)
    raise RuntimeError(f"could not store {record.source}/{record.external_id} after {RETRIES} attempts")
