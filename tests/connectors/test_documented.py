"""Every connector that loads is documented in docs/connectors.md, with each of its settings."""
from __future__ import annotations

from pathlib import Path

from copilot.integrations.base import FileImporter
from copilot.integrations.registry import load_connectors

DOC = (Path(__file__).resolve().parents[2] / "docs" / "connectors.md").read_text()


def test_every_connector_its_settings_and_formats_are_documented() -> None:
    connectors = load_connectors()
    assert len(connectors) >= 14
    missing = []
    for name, connector in connectors.items():
        if f"`{name}`" not in DOC:
            missing.append(name)
        missing += [f"{name}.{field}" for field in connector.settings_model.model_fields if f"`{field}`" not in DOC
                    and f'"{field}"' not in DOC and f"{field}=" not in DOC]
        if isinstance(connector, FileImporter):
            missing += [f"{name} format {fmt}" for fmt in connector.formats if f"`{fmt}`" not in DOC]
    assert missing == [], f"undocumented in docs/connectors.md: {missing}"
