"""The long-lived parts of one process (database, index, event bus), built once from the settings."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from copilot.config import Settings
from copilot.database.core import Database, run_migrations
from copilot.events.bus import EventBus, make_bus
from copilot.indexing.service import Indexer
from copilot.ingest.service import IngestResult
from copilot.integrations.service import ConnectorHub
from copilot.worker import leases
from copilot.worker.layout import check_layout, hold_data_dir, release_data_dir

log = logging.getLogger(__name__)


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
    _holds_data_dir: bool = False
    _background: bool = False
    _unsubscribe: Any = None

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
        try:
            for tenant, customer_id, interaction_id in result.created_records:
                self.bus.publish({"type": "interaction.created", "tenant": tenant, "customer_id": customer_id,
                                  "interaction_id": interaction_id})
        except Exception:  # Redis gone or slow: the caller still hears its records were stored, as they were
            log.warning("ingest events not published; sidebars catch up on their next read", exc_info=True)

    def start_workers(self) -> None:
        """On start of an API process. It takes the data directory when the index is embedded (one process at
        a time may open it) and, with OMNICOPILOT_BACKGROUND=inprocess (the default), does the background
        work too; with `workers` it leaves that to `omnicopilot worker` processes."""
        check_layout(self.settings)
        self._holds_data_dir = hold_data_dir(self.settings, role="serve")
        if self.settings.background == "inprocess":
            self.start_background()

    def start_background(self) -> None:
        """Indexing, webhook deliveries and mailbox pulls, in threads of this process. Every piece of work is
        claimed through the database, so any number of processes may do this at once."""
        if self._background:
            return
        self._background = True
        for leased_table in (leases.OUTBOX, leases.DELIVERIES, leases.PULLS):
            leases.free_orphans(self.db, leased_table)
        self.indexer.start()  # also indexes what a crash left in the outbox
        self.hub.start()  # and ingests webhook deliveries a crash left unprocessed
        from copilot.integrations.pull import PullScheduler

        self.scheduler = PullScheduler(self, interval_s=self.settings.pull_interval_s)
        self.scheduler.start()
        # Records ingested by other processes reach this one through the bus (Redis across processes);
        # without Redis the indexer still finds them, on its next poll.
        self._unsubscribe = self.bus.subscribe(
            lambda event: self.indexer.wake() if event.get("type") == "interaction.created" else None)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self.scheduler is not None:
            self.scheduler.stop()
        self.hub.stop()
        self.indexer.stop()
        self.bus.close()
        self.db.dispose()
        if self._holds_data_dir:
            self._holds_data_dir = False
            release_data_dir(self.settings)
