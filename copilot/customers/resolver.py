"""The one identity resolver: which customer a set of identifiers belongs to, for a batch or for one record.

Identifiers that arrive together belong to one person. Unknown identifiers make a new customer; known ones
extend their customer; identifiers of several customers merge them into the oldest (audited, reversible),
but only when the caller allows it: the batch path stores such records one at a time instead, so a merge
never shares a transaction with unrelated records.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from copilot.customers.identity import IdentityRef
from copilot.customers.models import Customer, Identity
from copilot.customers.service import merge
from copilot.database.core import utcnow
from copilot.database.ids import new_id


@dataclass
class IdentityGroup:
    """Identifiers known to belong to one person, and the name they came with."""

    refs: Sequence[IdentityRef]
    name: str | None = None


class IdentityResolver:
    """Resolves groups within one session; `flush()` writes the customers and identifiers it created.

    The caller commits. A concurrent writer of the same identifier surfaces at commit as an IntegrityError,
    for the caller to retry: the second attempt finds the identifier and joins its customer.
    """

    def __init__(self, session: Session, *, tenant_id: str, actor: str) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.actor = actor
        self._customers: list[dict[str, Any]] = []
        self._identities: list[dict[str, Any]] = []
        self._names: dict[str, str] = {}

    def resolve(self, groups: Sequence[IdentityGroup], *, allow_merge: bool) -> list[str | None]:
        """Each group's customer id, or None for a group that needs a merge when merging is not allowed."""
        wanted = {ref for group in groups for ref in group.refs}
        owners = {IdentityRef(kind, value): customer for kind, value, customer in self.session.execute(
            select(Identity.kind, Identity.value, Identity.customer_id).where(
                Identity.tenant_id == self.tenant_id, Identity.value.in_({r.value for r in wanted}))).all()
            if IdentityRef(kind, value) in wanted}
        live = self._live_customers(set(owners.values()))
        now = utcnow()
        resolved: list[str | None] = []
        for group in groups:
            refs = sorted(set(group.refs))
            found = sorted({live[owners[ref]] for ref in refs if ref in owners})
            if len(found) > 1 and not allow_merge:
                resolved.append(None)
                continue
            if len(found) > 1:
                customer_id = self._merge(found, refs)
                live.update({absorbed: customer_id for absorbed in found})
            elif found:
                customer_id = found[0]
            else:
                customer_id = new_id()
                # Distinct times keep "the oldest customer survives a merge" well defined within a batch.
                self._customers.append({"id": customer_id, "tenant_id": self.tenant_id, "name": group.name,
                                        "created_at": now + timedelta(microseconds=len(self._customers))})
                live[customer_id] = customer_id
            if found and group.name:
                self._names.setdefault(customer_id, group.name)
            for ref in refs:
                if ref not in owners:
                    owners[ref] = customer_id
                    self._identities.append({"id": new_id(), "tenant_id": self.tenant_id, "customer_id": customer_id,
                                             "kind": ref.kind, "value": ref.value, "created_at": now})
            resolved.append(customer_id)
        return resolved

    def flush(self) -> None:
        if self._customers:
            self.session.execute(insert(Customer), self._customers)
        for customer_id, name in self._names.items():
            self.session.execute(update(Customer).where(Customer.id == customer_id, Customer.name.is_(None))
                                 .values(name=name))
        if self._identities:
            self.session.execute(insert(Identity), self._identities)
        self._customers, self._identities, self._names = [], [], {}

    def _live_customers(self, customer_ids: set[str]) -> dict[str, str]:
        """Each owner's live customer: a merged one's survivor (merges chain, rarely)."""
        live: dict[str, str] = {}
        pending = customer_ids
        merged_into: dict[str, str | None] = {}
        while pending:
            rows = self.session.execute(select(Customer.id, Customer.merged_into_id)
                                        .where(Customer.id.in_(pending))).all()
            merged_into.update(dict(rows))
            pending = {target for _, target in rows if target and target not in merged_into}
        for customer_id in customer_ids:
            current, seen = customer_id, set()
            while merged_into.get(current) and current not in seen:
                seen.add(current)
                current = merged_into[current]  # type: ignore[assignment]
            live[customer_id] = current
        return live

    def _merge(self, customer_ids: Sequence[str], refs: Sequence[IdentityRef]) -> str:
        self.flush()  # a customer made earlier in this session may be among them
        customers = sorted((self.session.get(Customer, cid) for cid in customer_ids),
                           key=lambda c: (c.created_at, c.id))  # type: ignore[union-attr]
        survivor = customers[0]
        for absorbed in customers[1:]:
            merge(self.session, tenant_id=self.tenant_id, survivor=survivor, absorbed=absorbed,  # type: ignore[arg-type]
                  actor=self.actor, reason="identifiers arrived together: " + ", ".join(str(r) for r in refs))
        return survivor.id  # type: ignore[union-attr]
