"""The `generic` connector: signed canonical interactions over a webhook (DESIGN §6), and JSON Lines files.

Webhook: body = one canonical interaction (DESIGN §4) or `{"interactions": [...]}`; headers
`X-Omnicopilot-Timestamp: <unix seconds>` and `X-Omnicopilot-Signature: sha256=<hex>` where hex is
HMAC-SHA256(signing_secret, "<timestamp>.<raw body>"); more than 300 s off the server's clock is refused.
An optional `X-Omnicopilot-Delivery` header names the delivery so a retry is stored once (otherwise the
body's hash does, since the signed timestamp is not part of the body).
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from pydantic import Field, SecretStr, ValidationError

from connectors._common import (
    TextSettings,
    check_fresh,
    hmac_hex,
    item_error,
    json_body,
    prefixed_hex,
    require_header,
    same,
    secret_value,
)
from copilot.exceptions import describe_validation_errors
from copilot.integrations.base import (
    ConnectorSettings,
    FileImporter,
    PayloadError,
    SignatureError,
    WebhookConnector,
    WebhookRequest,
)
from copilot.interactions.schemas import InteractionIn

TIMESTAMP_HEADER = "X-Omnicopilot-Timestamp"
SIGNATURE_HEADER = "X-Omnicopilot-Signature"
DELIVERY_HEADER = "X-Omnicopilot-Delivery"
WINDOW_S = 300
MAX_RECORDS = 1000  # same limit as POST /v1/interactions


class GenericSettings(TextSettings):
    signing_secret: SecretStr = Field(description="Shared secret for X-Omnicopilot-Signature (HMAC-SHA256).")


def validation_error(record: Any) -> str | None:
    if not isinstance(record, dict):
        return "must be a JSON object"
    try:
        InteractionIn.model_validate(record)
    except ValidationError as err:
        return describe_validation_errors(list(err.errors()))
    return None


class GenericConnector(WebhookConnector, FileImporter):
    name: ClassVar[str] = "generic"
    title: ClassVar[str] = "Generic signed webhook and JSON Lines import"
    settings_model: ClassVar[type[ConnectorSettings]] = GenericSettings
    formats: ClassVar[tuple[str, ...]] = ("jsonl",)

    # webhook ----------------------------------------------------------------------------------
    def verify(self, request: WebhookRequest, settings: ConnectorSettings) -> None:
        assert isinstance(settings, GenericSettings)
        secret = secret_value(settings.signing_secret, field="signing_secret")
        timestamp = require_header(request, TIMESTAMP_HEADER)
        given = prefixed_hex(require_header(request, SIGNATURE_HEADER), "sha256=", header=SIGNATURE_HEADER)
        check_fresh(timestamp, request, window_s=WINDOW_S, header=TIMESTAMP_HEADER)
        expected = hmac_hex(secret, f"{timestamp}.".encode() + request.body)
        if not same(expected, given):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")

    def parse(self, request: WebhookRequest, settings: ConnectorSettings) -> list[dict[str, Any]]:
        payload = json_body(request)
        if isinstance(payload, dict) and "interactions" in payload:
            records = payload["interactions"]
            if not isinstance(records, list):
                raise PayloadError("interactions: must be a list")
        elif isinstance(payload, dict):
            records = [payload]
        else:
            raise PayloadError("body: must be a canonical interaction or {\"interactions\": [...]}")
        if not records:
            raise PayloadError("interactions: empty")
        if len(records) > MAX_RECORDS:
            raise PayloadError(f"interactions: at most {MAX_RECORDS} per delivery, got {len(records)}")
        return records  # each record is validated by the hub: a bad one is reported, the rest go in

    def delivery_id(self, request: WebhookRequest) -> str | None:
        delivery = (request.header(DELIVERY_HEADER) or "").strip()
        return f"delivery:{delivery}" if delivery else None

    # JSON Lines -------------------------------------------------------------------------------
    def parse_file(self, data: bytes, *, filename: str, options: Mapping[str, str]
                   ) -> Iterator[dict[str, Any] | PayloadError]:
        text = data.decode("utf-8-sig", errors="replace")  # a BOM from Windows editors is not an error
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield item_error(f"malformed JSON ({err.msg} at column {err.colno})", line=number)
                continue
            error = validation_error(record)
            if error:
                yield item_error(error, line=number)
                continue
            yield record
