"""File imports through the connectors' importers (`omnicopilot import --format`, `POST /v1/imports`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from copilot.exceptions import BadRequest
from copilot.integrations import base
from copilot.integrations.service import ConnectorHub


def importer_for(hub: ConnectorHub, file_format: str) -> base.FileImporter:
    for connector in hub.connectors.values():
        if isinstance(connector, base.FileImporter) and file_format in connector.formats:
            return connector
    known = sorted({f for c in hub.connectors.values() if isinstance(c, base.FileImporter) for f in c.formats})
    raise BadRequest(f"format: unknown {file_format!r}; one of {', '.join(['jsonl', *known])}")


def parse_with_importer(hub: ConnectorHub, data: bytes, *, filename: str, file_format: str,
                        options: dict[str, Any]) -> tuple[list[tuple[int, Any]], list[dict[str, Any]]]:
    """(record number, record) pairs and per-record errors; numbers are lines where the format has them."""
    importer = importer_for(hub, file_format)
    records: list[tuple[int, Any]] = []
    errors: list[dict[str, Any]] = []
    for number, item in enumerate(importer.parse_file(data, filename=filename, options=options), start=1):
        if isinstance(item, base.PayloadError):
            errors.append({"line": getattr(item, "line", None) or number, "error": str(item)})
        else:
            records.append((number, item))
    return records, errors


def read_with_importer(hub: ConnectorHub, path: Path, *, file_format: str,
                       options: dict[str, Any]) -> tuple[list[tuple[int, Any]], list[dict[str, Any]]]:
    return parse_with_importer(hub, path.read_bytes(), filename=path.name, file_format=file_format, options=options)
