"""The ingest stages, in order: validate -> redact -> resolve identity -> store (with its outbox row).

Each stage is a function of typed values, testable alone; `copilot.ingest.service.ingest` runs them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from copilot.customers.identity import IdentityError, IdentityRef, identities_from_block
from copilot.customers.resolver import IdentityGroup, IdentityResolver
from copilot.database.core import utcnow
from copilot.database.ids import new_id
from copilot.exceptions import describe_validation_errors
from copilot.interactions.models import IndexOutbox, Interaction
from copilot.interactions.redact import redact_record
from copilot.interactions.schemas import InteractionIn

log = logging.getLogger(__name__)


@dataclass
class Accepted:
    """A record that passed validation, waiting to be stored."""

    index: int
    tenant: str
    record: InteractionIn
    refs: list[IdentityRef]


Stored = tuple[str, str] | None  # (customer id, interaction id), or None for a record stored before


def validate(raw: Any, *, region: str) -> tuple[InteractionIn, list[IdentityRef]] | str:
    """The parsed record and its normalised identifiers, or an error message that names the field."""
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


def redact(record: InteractionIn) -> InteractionIn:
    """Secrets out of every text field before anything is stored, indexed or shown (README, Redaction)."""
    return redact_record(record)


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


def resolve_and_store(session: Session, *, tenant_id: str, accepted: list[Accepted], actor: str,
                      allow_merge: bool) -> tuple[dict[int, Stored], list[Accepted]]:
    """Resolve each record's customer and store the records with their outbox rows in one transaction.

    Returns what was stored (by batch index) and the records left for another attempt: those that would
    merge customers when `allow_merge` is off, or all of them when a concurrent writer got in first.
    """
    outcomes: dict[int, Stored] = {}
    stored = {(source, external_id) for source, external_id in session.execute(
        select(Interaction.source, Interaction.external_id).where(
            Interaction.tenant_id == tenant_id,
            Interaction.external_id.in_({a.record.external_id for a in accepted})))}
    fresh: list[Accepted] = []
    for entry in accepted:
        key = (entry.record.source, entry.record.external_id)
        if key in stored:
            outcomes[entry.index] = None  # a duplicate links no identifiers either
        else:
            stored.add(key)
            fresh.append(entry)
    groups = linked_groups(fresh)
    resolver = IdentityResolver(session, tenant_id=tenant_id, actor=actor)
    try:
        customers = resolver.resolve([IdentityGroup(sorted({r for e in group for r in e.refs}),
                                                    next((e.record.customer.name for e in group
                                                          if e.record.customer.name), None))
                                      for group in groups], allow_merge=allow_merge)
        leftovers: list[Accepted] = []
        rows: list[dict[str, Any]] = []
        now = utcnow()
        for group, customer_id in zip(groups, customers, strict=True):
            if customer_id is None:
                leftovers.extend(group)
                continue
            for entry in group:
                rows.append(interaction_row(entry.record, tenant_id=tenant_id, customer_id=customer_id, now=now))
                outcomes[entry.index] = (customer_id, rows[-1]["id"])
        if not rows:
            session.rollback()
            return outcomes, leftovers
        resolver.flush()
        session.execute(insert(Interaction), rows)
        session.execute(insert(IndexOutbox), [{"tenant_id": tenant_id, "interaction_id": r["id"],
                                               "enqueued_at": now} for r in rows])
        session.commit()
    except (IntegrityError, OperationalError) as err:
        # Someone else stored one of these records or identifiers meanwhile (or the database was busy).
        session.rollback()
        log.debug("ingest of %d records goes again: %s", len(fresh), err)
        fresh_indexes = {e.index for e in fresh}
        return {i: None for i in outcomes if i not in fresh_indexes}, fresh
    return outcomes, leftovers


def interaction_row(record: InteractionIn, *, tenant_id: str, customer_id: str, now: Any) -> dict[str, Any]:
    return {"id": new_id(), "tenant_id": tenant_id, "customer_id": customer_id, "source": record.source,
            "external_id": record.external_id, "channel": record.channel, "direction": record.direction,
            "author_role": record.author_role, "author_name": record.author_name, "thread_id": record.thread_id,
            "subject": record.subject, "text": record.text, "occurred_at": record.occurred_at,
            "customer_block": record.customer.model_dump(exclude_defaults=True), "metadata_": record.metadata,
            "created_at": now}
