"""Pull connectors (mailbox polling): fetch since the stored cursor, ingest, advance the cursor.

Each pull of a tenant's connector is claimed with a lease on its settings row (`copilot.worker.leases`),
so across any number of `serve` processes and workers one of them pulls it, once per interval.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select

from copilot.database.core import utcnow
from copilot.exceptions import BadRequest, Conflict, NotFound
from copilot.ingest.service import ingest
from copilot.integrations import base
from copilot.integrations.models import ConnectorStats
from copilot.worker import leases
from copilot.worker.leases import PULLS, Claim

if TYPE_CHECKING:
    from copilot.services import Services

log = logging.getLogger(__name__)
TICK_S = 5.0  # how often a scheduler looks for a due pull: the interval itself is kept in the database


def pull_once(services: Services, *, tenant_id: str, name: str) -> dict[str, Any]:
    """Pull now (`connectors pull`), whenever the last pull was; refused while another process pulls it."""
    hub = services.hub
    connector = hub.get(name)
    if not isinstance(connector, base.PullConnector):
        raise BadRequest(f"{name} is not a pull connector")
    with services.db.session() as session:
        if hub.load_settings(session, tenant_id=tenant_id, name=name) is None:
            raise NotFound(f"the {name} connector is not configured for tenant {tenant_id}")
    held = leases.claim(services.db, PULLS, where=[PULLS.c.tenant_id == tenant_id, PULLS.c.connector == name],
                        limit=1, lease_s=services.settings.lease_s)
    if not held:
        raise Conflict(f"a pull of {name} for tenant {tenant_id} is running in another process; try again later")
    return _pull_claimed(services, held, tenant_id=tenant_id, name=name)


def _pull_claimed(services: Services, held: Claim, *, tenant_id: str, name: str) -> dict[str, Any]:
    try:
        return _pull(services, tenant_id=tenant_id, name=name)
    finally:  # pulled or failed, the next one is due an interval from now
        leases.release(services.db, PULLS, held, pulled_at=utcnow())


def _pull(services: Services, *, tenant_id: str, name: str) -> dict[str, Any]:
    hub = services.hub
    connector = hub.get(name)
    assert isinstance(connector, base.PullConnector)
    with services.db.session() as session:
        settings = hub.load_settings(session, tenant_id=tenant_id, name=name)
        if settings is None:
            raise NotFound(f"the {name} connector is not configured for tenant {tenant_id}")
        hub.bump(tenant_id=tenant_id, name=name)  # make sure the stats row (which holds the cursor) exists
        stats = session.scalar(select(ConnectorStats).where(ConnectorStats.tenant_id == tenant_id,
                                                            ConnectorStats.connector == name))
        cursor = stats.cursor if stats else None
    records, new_cursor = connector.pull(settings, cursor)
    result = ingest(db=services.db, tenant_id=tenant_id, records=records, region=services.settings.default_region,
                    actor=f"connector:{name}", on_created=services.announce)
    with services.db.session() as session:
        stats = session.scalar(select(ConnectorStats).where(ConnectorStats.tenant_id == tenant_id,
                                                            ConnectorStats.connector == name))
        if stats is not None:
            stats.cursor = new_cursor  # only after the records are committed: a crash re-fetches, dedupe absorbs it
            session.commit()
    hub.bump(tenant_id=tenant_id, name=name, received=len(records), ingested=result.created,
             duplicates=result.duplicates, rejected=len(result.rejected),
             error="; ".join(r.error for r in result.rejected[:3]) or None)
    return {"fetched": len(records), "created": result.created, "duplicates": result.duplicates,
            "rejected": [r.model_dump() for r in result.rejected], "cursor": new_cursor}


class PullScheduler:
    """In every process doing background work: pull each configured pull connector of each tenant once per
    interval, counted from its last pull (or from when it was configured), whichever process did it."""

    def __init__(self, services: Services, *, interval_s: float) -> None:
        self.services = services
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval_s > 0:
            self._thread = threading.Thread(target=self._run, name="pull-scheduler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(min(self.interval_s, TICK_S)):
            try:
                self.pull_due()
            except Exception:
                log.exception("pull scheduler failed; retrying")

    def pull_due(self) -> int:
        """Claim and run the pulls that are due, one at a time; returns how many ran here."""
        services = self.services
        names = [n for n, c in services.hub.connectors.items() if isinstance(c, base.PullConnector)]
        done = 0
        while names and not self._stop.is_set():
            cutoff = utcnow() - timedelta(seconds=self.interval_s)
            due = or_(PULLS.c.pulled_at < cutoff, and_(PULLS.c.pulled_at.is_(None), PULLS.c.updated_at < cutoff))
            held = leases.claim(services.db, PULLS, where=[PULLS.c.connector.in_(names), due], limit=1,
                                order_by=func.coalesce(PULLS.c.pulled_at, PULLS.c.updated_at),
                                lease_s=services.settings.lease_s)
            if not held:
                return done
            with services.db.session() as session:
                tenant_id, name = session.execute(select(PULLS.c.tenant_id, PULLS.c.connector)
                                                  .where(PULLS.c.id == held.ids[0])).one()
            try:
                _pull_claimed(services, held, tenant_id=tenant_id, name=name)
            except Exception as err:
                log.warning("pull %s for %s failed: %s", name, tenant_id, err)
                services.hub.bump(tenant_id=tenant_id, name=name, error=f"pull: {err!r}")
            done += 1
        return done
