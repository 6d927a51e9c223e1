"""Pull connectors (mailbox polling): fetch since the stored cursor, ingest, advance the cursor."""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from copilot.exceptions import BadRequest, NotFound
from copilot.integrations import base
from copilot.integrations.models import ConnectorConfig, ConnectorStats
from copilot.interactions.service import ingest

if TYPE_CHECKING:
    from copilot.services import Services

log = logging.getLogger(__name__)


def pull_once(services: Services, *, tenant_id: str, name: str) -> dict[str, Any]:
    hub = services.hub
    connector = hub.get(name)
    if not isinstance(connector, base.PullConnector):
        raise BadRequest(f"{name} is not a pull connector")
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
    """Inside `serve`: pull every configured pull connector of every tenant on an interval."""

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
        while not self._stop.wait(self.interval_s):
            pull_names = {n for n, c in self.services.hub.connectors.items() if isinstance(c, base.PullConnector)}
            with self.services.db.session() as session:
                targets = session.execute(select(ConnectorConfig.tenant_id, ConnectorConfig.connector)
                                          .where(ConnectorConfig.connector.in_(pull_names))).all()
            for tenant_id, name in targets:
                try:
                    pull_once(self.services, tenant_id=tenant_id, name=name)
                except Exception as err:
                    log.warning("pull %s for %s failed: %s", name, tenant_id, err)
                    self.services.hub.bump(tenant_id=tenant_id, name=name, error=f"pull: {err!r}")
