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
from copilot.integrations.service import ConnectorHub
from copilot.interactions.service import IngestResult

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
        self.indexer.start()  # also indexes what a crash left in the outbox
        self.hub.start()  # and ingests webhook deliveries a crash left unprocessed
        from copilot.integrations.pull import PullScheduler

        self.scheduler = PullScheduler(self, interval_s=self.settings.pull_interval_s)
        self.scheduler.start()

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self.hub.stop()
        self.indexer.stop()
        self.bus.close()
        self.db.dispose()
