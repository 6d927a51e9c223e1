"""Connectors come from entry points; one that fails to load is logged and skipped, the others load."""
from __future__ import annotations

import logging
from importlib.metadata import EntryPoint

import pytest

from copilot.integrations import registry


def test_a_broken_connector_is_logged_and_skipped(monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    points = [EntryPoint("generic", "connectors.generic:GenericConnector", registry.GROUP),
              EntryPoint("broken", "connectors.does_not_exist:Nothing", registry.GROUP),
              EntryPoint("notaclass", "copilot.config:get_settings", registry.GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda group: [p for p in points if p.group == group])
    with caplog.at_level(logging.ERROR, logger=registry.__name__):
        loaded = registry.load_connectors()
    assert list(loaded) == ["generic"]
    assert "'broken' failed to load" in caplog.text and "'notaclass' failed to load" in caplog.text
