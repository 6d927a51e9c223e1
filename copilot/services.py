"""The long-lived parts of one process (database, index, event bus), built once from the settings."""
from __future__ import annotations

import fcntl
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from copilot.config import Settings
from copilot.database.core import Database, run_migrations
from copilot.events.bus import EventBus, make_bus
from copilot.indexing.service import Indexer
from copilot.integrations.service import ConnectorHub
from copilot.interactions.service import IngestResult

log = logging.getLogger(__name__)
LEASE_RETRY_S = 5.0


def quiet_third_parties() -> None:
    """No telemetry and no model hub calls, whatever the environment says."""
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@dataclass
class Services:
    settings: Settings
    db: Database
    indexer: Indexer
    bus: EventBus
    hub: ConnectorHub
    scheduler: Any = None
    _leader: WorkerLease | None = None
    _stop_lease: threading.Event | None = None

    @classmethod
    def build(cls, settings: Settings, *, migrate: bool = True) -> Services:
        quiet_third_parties()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if migrate:
            run_migrations(settings.sqlalchemy_url)
        db = Database(settings.sqlalchemy_url)
        services = cls(settings=settings, db=db, indexer=Indexer(db=db, settings=settings),
                       bus=make_bus(settings.redis_url), hub=None)  # type: ignore[arg-type]
        services.hub = ConnectorHub(db=db, settings=settings, on_ingested=services.announce)
        return services

    def announce(self, result: IngestResult) -> None:
        """Tell the indexer and the live sidebars; both best effort, the records are already stored."""
        self.indexer.wake()
        for tenant, customer_id, interaction_id in result.created_records:
            self.bus.publish({"type": "interaction.created", "tenant": tenant, "customer_id": customer_id,
                              "interaction_id": interaction_id})

    def start_workers(self) -> None:
        """Background work (indexing, webhook deliveries, mailbox pulls) runs in one worker process per data
        directory: `serve --workers N` would otherwise embed every record N times. The others keep trying to
        take over, so the work goes on when the leading worker stops."""
        self._leader = WorkerLease(self.settings.data_dir / "background-workers.lock")
        self._stop_lease = threading.Event()
        if not self._lead():
            threading.Thread(target=self._await_lead, name="lease-waiter", daemon=True).start()

    def _lead(self) -> bool:
        if not self._leader.acquire():
            return False
        self.indexer.start()  # also indexes what a crash left in the outbox
        self.hub.start()  # and ingests webhook deliveries a crash left unprocessed
        from copilot.integrations.pull import PullScheduler

        self.scheduler = PullScheduler(self, interval_s=self.settings.pull_interval_s)
        self.scheduler.start()
        # Records ingested by the other workers reach this one through the bus (Redis across processes).
        self.bus.subscribe(lambda event: self.indexer.wake() if event.get("type") == "interaction.created" else None)
        return True

    def _await_lead(self) -> None:
        while not self._stop_lease.wait(LEASE_RETRY_S):
            if self._lead():
                return

    def close(self) -> None:
        if self._stop_lease is not None:
            self._stop_lease.set()
        if self.scheduler is not None:
            self.scheduler.stop()
        self.hub.stop()
        self.indexer.stop()
        self.bus.close()
        self.db.dispose()
        if self._leader is not None:
            self._leader.release()


class WorkerLease:
    """An exclusive lock on a file in the data directory, held while this process does the background work;
    the operating system releases it when the process dies, so a crash never leaves it taken."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for as long as the lease lasts
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
