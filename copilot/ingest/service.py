"""The ingest pipeline (DESIGN §4): validate -> redact -> resolve identity -> store with an outbox row -> notify.

Valid records of a batch commit together when none of them merges customers, else one at a time; a bad
record never takes the batch down, and a 2xx answer means every created record is in SQL. Indexing in
Chroma happens after, from the outbox.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from copilot.auth.models import Tenant
from copilot.database.core import Database
from copilot.ingest.stages import Accepted, Stored, redact, resolve_and_store, validate
from copilot.interactions.schemas import Rejection

RETRIES = 6
RETRY_BACKOFF_S = 0.02  # doubled per attempt, jittered: under 2 s over all the retries


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    created_records: list[tuple[str, str, str]] = field(default_factory=list)  # (tenant, customer, interaction)


def ingest(*, db: Database, tenant_id: str | None, records: Sequence[Any], region: str, actor: str,
           on_created: Callable[[IngestResult], None] | None = None, first_index: int = 0) -> IngestResult:
    """Store a batch. `tenant_id` None means each record names its own (`tenant`, CLI admin use); a tenant
    must exist (`omnicopilot tenants create`)."""
    result = IngestResult()
    accepted: list[Accepted] = []
    known_tenants: dict[str, bool] = {}
    for offset, raw in enumerate(records):
        index = first_index + offset
        parsed = validate(raw, region=region)
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
        if tenant not in known_tenants:
            known_tenants[tenant] = tenant_exists(db, tenant)
        if not known_tenants[tenant]:
            result.rejected.append(Rejection(index=index, error=f"tenant: {tenant!r} does not exist; create it "
                                                                f"first (omnicopilot tenants create {tenant})"))
            continue
        accepted.append(Accepted(index, tenant, redact(record), refs))
    for tenant in dict.fromkeys(a.tenant for a in accepted):
        group = [a for a in accepted if a.tenant == tenant]
        for outcome in store(db, tenant_id=tenant, accepted=group, actor=actor):
            if outcome is None:
                result.duplicates += 1
            else:
                result.created += 1
                result.created_records.append((tenant, outcome[0], outcome[1]))
    result.rejected.sort(key=lambda r: r.index)
    if on_created and result.created_records:
        on_created(result)
    return result


def tenant_exists(db: Database, tenant_id: str) -> bool:
    with db.session() as session:
        return session.scalar(select(Tenant.id).where(Tenant.id == tenant_id)) is not None


def store(db: Database, *, tenant_id: str, accepted: list[Accepted], actor: str) -> list[Stored]:
    """Each record's outcome, in order: the batch in one transaction; records that merge customers, or lost a
    race with a concurrent writer, then one at a time, where a merge may happen."""
    with db.session() as session:
        outcomes, leftovers = resolve_and_store(session, tenant_id=tenant_id, accepted=accepted, actor=actor,
                                                allow_merge=False)
    for entry in leftovers:
        for attempt in range(RETRIES):
            if attempt:  # the concurrent writer it lost to is still committing: give it a moment
                time.sleep(RETRY_BACKOFF_S * 2 ** attempt * (0.5 + random.random()))
            with db.session() as session:
                done, again = resolve_and_store(session, tenant_id=tenant_id, accepted=[entry], actor=actor,
                                                allow_merge=True)
            if not again:
                outcomes.update(done)
                break
        else:
            raise RuntimeError(f"could not store {entry.record.source}/{entry.record.external_id} "
                               f"after {RETRIES} attempts")
    return [outcomes[entry.index] for entry in accepted]
