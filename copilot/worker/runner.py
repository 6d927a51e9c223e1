"""`omnicopilot worker`: a process that does the background work and nothing else (no HTTP).

Run any number, on any machine that reaches the database and the Chroma server: they share the work
through claims in the database (`copilot.worker.leases`).
"""
from __future__ import annotations

import logging
import signal
import threading

from copilot.config import Settings
from copilot.worker.layout import check_layout
from copilot.worker.leases import holder

log = logging.getLogger(__name__)


def run_worker(settings: Settings) -> None:
    """Until SIGTERM or SIGINT; then finish the batch in hand (what is not finished is taken by another
    worker once its lease expires)."""
    from copilot.services import Services

    check_layout(settings, worker=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    services = Services.build(settings)
    try:
        services.start_background()
        log.info("worker %s started: indexing, webhook deliveries, mailbox pulls", holder())
        stop.wait()
    finally:
        services.close()
        log.info("worker %s stopped", holder())
