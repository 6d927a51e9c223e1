"""Claims on background work through the database, so any number of workers on any number of machines
share it and each piece is done once.

A claim marks rows with a holder token and a lease expiry (migration 0007). A worker that dies mid-batch
leaves its claim behind; once the lease has expired, another worker takes the rows. Finishing is guarded
by the token, so a worker whose lease ran out cannot undo what the next holder does. On PostgreSQL the
candidate rows are locked with `FOR UPDATE SKIP LOCKED`: concurrent workers take different rows without
waiting for each other. On SQLite (one machine) writes are serialised, and the same lease condition in
the UPDATE keeps two workers from taking one row.

The lease columns are declared here, not on the ORM models: the claim is the workers' business, and the
code that writes the rows (ingest, webhook intake, connector settings) leaves them NULL, i.e. free.
"""
from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, column, delete, or_, select, table, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TableClause

from copilot.database.core import Database, UTCDateTime, utcnow


def leased(name: str, *columns: Any) -> TableClause:
    return table(name, column("id", Integer), column("claimed_by", String), column("lease_until", UTCDateTime()),
                 *columns)


OUTBOX = leased("index_outbox", column("interaction_id", String), column("attempts", Integer),
                column("last_error", String))
DELIVERIES = leased("webhook_deliveries", column("status", String), column("attempts", Integer),
                    column("error", String), column("processed_at", UTCDateTime()))
PULLS = leased("connector_configs", column("tenant_id", String), column("connector", String),
               column("updated_at", UTCDateTime()), column("pulled_at", UTCDateTime()))


@dataclass(frozen=True)
class Claim:
    token: str
    ids: list[int]
    until: datetime

    def __bool__(self) -> bool:
        return bool(self.ids)


def holder() -> str:
    """Who holds a claim: readable in the database when a worker is to be found (host and pid)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}"


def is_free(leased_table: TableClause, now: datetime) -> ColumnElement[bool]:
    return or_(leased_table.c.lease_until.is_(None), leased_table.c.lease_until < now)


def claim(db: Database, leased_table: TableClause, *, where: Sequence[ColumnElement[bool]] = (),
          order_by: Any = None, limit: int, lease_s: float) -> Claim:
    """Take up to `limit` free rows matching `where` for `lease_s` seconds."""
    now = utcnow()
    token = f"{holder()}:{uuid.uuid4().hex[:12]}"
    until = now + timedelta(seconds=lease_s)
    candidates = (select(leased_table.c.id).where(*where, is_free(leased_table, now))
                  .order_by(leased_table.c.id if order_by is None else order_by).limit(limit))
    if db.engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    with db.session() as session:
        ids = session.execute(update(leased_table)
                              .where(leased_table.c.id.in_(candidates), is_free(leased_table, now))
                              .values(claimed_by=token, lease_until=until)
                              .returning(leased_table.c.id)).scalars().all()
        session.commit()
    return Claim(token=token, ids=sorted(ids), until=until)


def release(db: Database, leased_table: TableClause, held: Claim, ids: Sequence[int] | None = None,
            **values: Any) -> None:
    """Give rows back (free at once), optionally writing `values` on them; only while still ours."""
    targets = list(held.ids if ids is None else ids)
    if not targets:
        return
    with db.session() as session:
        session.execute(update(leased_table)
                        .where(leased_table.c.id.in_(targets), leased_table.c.claimed_by == held.token)
                        .values(claimed_by=None, lease_until=None, **values))
        session.commit()


def finish(db: Database, leased_table: TableClause, held: Claim) -> None:
    """Delete the claimed rows (the outbox: done means gone)."""
    if not held.ids:
        return
    with db.session() as session:
        session.execute(delete(leased_table)
                        .where(leased_table.c.id.in_(held.ids), leased_table.c.claimed_by == held.token))
        session.commit()


def requeue_outbox(session: Session, interaction_ids: Sequence[str]) -> None:
    """For a change to interactions already waiting in the outbox (a merge moves them to another customer): an
    indexer may hold them right now with the old values. Taking its claim away makes its finish a no-op, so
    the rows stay and are indexed again with the new ones. Runs in the caller's transaction."""
    if interaction_ids:
        session.execute(update(OUTBOX).where(OUTBOX.c.interaction_id.in_(list(interaction_ids)))
                        .values(claimed_by=None, lease_until=None))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def free_orphans(db: Database, leased_table: TableClause) -> int:
    """Free at once the claims of processes on this host that are gone (a crash, `kill -9`), instead of at
    their lease expiry: a restarted `serve` goes on where it stopped. Claims of other hosts wait for expiry."""
    prefix = f"{socket.gethostname()[:80]}:"
    with db.session() as session:
        holders = session.scalars(select(leased_table.c.claimed_by).distinct()
                                  .where(leased_table.c.claimed_by.startswith(prefix, autoescape=True),
                                         leased_table.c.lease_until >= utcnow())).all()
        dead = [h for h in holders if h.split(":")[-2].isdigit() and not _alive(int(h.split(":")[-2]))]
        if not dead:
            return 0
        freed = session.execute(update(leased_table).where(leased_table.c.claimed_by.in_(dead))
                                .values(claimed_by=None, lease_until=None)).rowcount
        session.commit()
    return freed or 0
