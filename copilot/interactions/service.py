"""The ingest pipeline: validate -> dedupe -> resolve identity -> persist with an outbox row -> notify.

Each record commits on its own, so a bad or conflicting record never takes the batch down, and a
2xx answer means every created record is in SQL. Indexing in Chroma happens after, from the outbox.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from copilot.auth.models import Tenant
from copilot.customers.identity import IdentityError, identities_from_block
from copilot.customers.service import link_identities, new_id
from copilot.database.core import Database, utcnow
from copilot.exceptions import describe_validation_errors
from copilot.interactions.models import IndexOutbox, Interaction
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
    return record, refs


def ensure_tenant(db: Database, tenant_id: str) -> None:
    with db.session() as session:
        if session.get(Tenant, tenant_id) is None:
            session.add(Tenant(id=tenant_id, created_at=utcnow()))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()  # created by a concurrent caller


def ingest(*, db: Database, tenant_id: str | None, records: Sequence[Any], region: str, actor: str,
           on_created: Callable[[IngestResult], None] | None = None, first_index: int = 0) -> IngestResult:
    """Store a batch. `tenant_id` None means each record names its own (`tenant`, CLI admin use)."""
    result = IngestResult()
    tenants_seen: set[str] = set()
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
        if tenant not in tenants_seen:
            ensure_tenant(db, tenant)
            tenants_seen.add(tenant)
        outcome = store_one(db=db, tenant_id=tenant, record=record, refs=refs, actor=actor)
        if outcome is None:
            result.duplicates += 1
        else:
            result.created += 1
            result.created_records.append((tenant, outcome[0], outcome[1]))
    if on_created and result.created_records:
        on_created(result)
    return result


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
