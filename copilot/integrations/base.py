"""Extension point: connectors (DESIGN §1). One base class per capability; a connector may have several.

A connector is a module in `connectors/` (or any installed package) declared in the entry-point group
`omnicopilot.connectors`:

    [project.entry-points."omnicopilot.connectors"]
    zendesk = "connectors.zendesk:ZendeskConnector"

Each connector class has a unique `name`, a `title`, a `settings_model` (Pydantic; secrets as
`SecretStr`, stored encrypted per tenant, never returned) and implements one or more of:

- `WebhookConnector`: `verify` the sender exactly as the vendor documents it (raise `SignatureError`),
  `parse` the native payload into canonical interaction dicts (DESIGN §4; raise `PayloadError` or
  `UnsupportedMediaType`), name a `delivery_id` for dedupe of retries, and optionally answer a
  `handshake` (GET verification).
- `FileImporter`: `parse_file` an export (bytes) into canonical dicts, yielding `PayloadError` for a
  bad item so the rest still goes in.
- `PullConnector`: `pull` records since a cursor and return the new cursor.

Parsers must be pure: no I/O beyond what the capability needs, no database access. The core never
branches on a vendor; everything vendor-specific lives in the connector.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class ConnectorSettings(BaseModel):
    """Base of every connector's per-tenant settings. Declare secrets as `SecretStr`."""

    model_config = ConfigDict(extra="forbid")


class NoSettings(ConnectorSettings):
    """For connectors that need nothing configured (file importers)."""


class SignatureError(Exception):
    """The sender could not be verified: missing, wrong or stale signature (401, nothing stored)."""


class PayloadError(Exception):
    """The payload cannot be turned into interactions (400, nothing stored); say which field."""


class UnsupportedMediaType(PayloadError):
    """The content type is not one this connector accepts (415)."""


@dataclass
class WebhookRequest:
    """The raw request as received, so signatures are checked over the exact bytes."""

    method: str
    url: str
    headers: Mapping[str, str]  # lower-cased names
    query: Mapping[str, list[str]]  # a name may repeat
    body: bytes
    received_at: float  # unix seconds by the server's clock, for timestamp windows
    extra: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


class Connector:
    name: ClassVar[str]
    title: ClassVar[str] = ""
    settings_model: ClassVar[type[ConnectorSettings]] = NoSettings

    def capabilities(self) -> list[str]:
        caps = []
        if isinstance(self, WebhookConnector):
            caps.append("webhook")
        if isinstance(self, FileImporter):
            caps.append("import")
        if isinstance(self, PullConnector):
            caps.append("pull")
        return caps


class WebhookConnector(Connector):
    def verify(self, request: WebhookRequest, settings: ConnectorSettings) -> None:
        raise NotImplementedError

    def parse(self, request: WebhookRequest, settings: ConnectorSettings) -> list[dict[str, Any]]:
        raise NotImplementedError

    def delivery_id(self, request: WebhookRequest) -> str | None:
        """The vendor's id of this delivery or message, so a retry is stored once (None: hash of the body)."""
        return None

    def handshake(self, request: WebhookRequest, settings: ConnectorSettings) -> tuple[int, str] | None:
        """Answer a vendor's verification request (a GET, or a POST carrying a challenge): (status, body).

        None means this request is not a verification request; it is then a delivery (POST) or a 404 (GET).
        """
        return None


class FileImporter(Connector):
    formats: ClassVar[tuple[str, ...]] = ()

    def parse_file(self, data: bytes, *, filename: str, options: Mapping[str, str]
                   ) -> Iterator[dict[str, Any] | PayloadError]:
        raise NotImplementedError


class PullConnector(Connector):
    def pull(self, settings: ConnectorSettings, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        raise NotImplementedError
