"""Load connectors from the `omnicopilot.connectors` entry points; a broken one is logged and skipped."""
from __future__ import annotations

import logging
from importlib.metadata import entry_points

from copilot.integrations.base import Connector

log = logging.getLogger(__name__)
GROUP = "omnicopilot.connectors"


def load_connectors() -> dict[str, Connector]:
    loaded: dict[str, Connector] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, Connector)):
                raise TypeError(f"{ep.value} is not a Connector subclass")
            connector = cls()
        except Exception as err:
            log.error("connector %r failed to load and is skipped: %r", ep.name, err)
            continue
        if connector.name in loaded:
            log.error("connector name %r declared twice; keeping the first", connector.name)
            continue
        loaded[connector.name] = connector
    return loaded
