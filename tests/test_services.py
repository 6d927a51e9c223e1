"""Background work runs in one process per data directory, and moves on when that process stops."""
from __future__ import annotations

import time

from copilot import services as services_module
from copilot.services import Services
from tests.conftest import make_record


def test_one_worker_indexes_and_another_takes_over_when_it_stops(settings_factory, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(services_module, "LEASE_RETRY_S", 0.1)
    settings = settings_factory(OMNICOPILOT_PULL_INTERVAL_S=0)
    first, second = Services.build(settings), Services.build(settings, migrate=False)
    try:
        first.start_workers()
        second.start_workers()
        assert first.indexer._thread is not None and second.indexer._thread is None
        first.close()
        deadline = time.time() + 5
        while second.indexer._thread is None and time.time() < deadline:
            time.sleep(0.05)
        assert second.indexer._thread is not None  # took over
        from copilot.interactions.service import ingest

        ingest(db=second.db, tenant_id="acme", records=[make_record()], region="US", actor="test",
               on_created=second.announce)
        deadline = time.time() + 10
        while second.indexer.backlog() and time.time() < deadline:
            time.sleep(0.05)
        assert second.indexer.backlog() == 0
    finally:
        second.close()


