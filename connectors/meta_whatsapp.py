"""WhatsApp Business Cloud API (Meta) webhooks: the GET verification handshake and message events.

- Handshake (Meta "Getting started with webhooks"): GET with `hub.mode=subscribe`, `hub.verify_token`
  (must equal our `verify_token`) and `hub.challenge` -> 200 with the challenge as the body; else 403.
- Verification of events: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 with the app secret over
  the raw body. Meta sends no timestamp; a replay is absorbed by the message ids (wamid...).
- `messages` -> inbound customer interactions; `statuses` (sent, delivered, read) are not messages.
"""
from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from connectors._common import (
    TextSettings,
    body_json_or_none,
    compact,
    dig,
    hmac_hex,
    iso_time,
    json_object,
    prefixed_hex,
    query_value,
    require_header,
    same,
    secret_value,
    text_id,
)
from copilot.integrations.base import (
    ConnectorSettings,
    PayloadError,
    SignatureError,
    WebhookConnector,
    WebhookRequest,
)

SIGNATURE_HEADER = "X-Hub-Signature-256"
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")


class MetaWhatsAppSettings(TextSettings):
    app_secret: SecretStr = Field(description="The Meta app's App Secret (App settings > Basic).")
    verify_token: SecretStr = Field(description="Any string you choose; paste the same into the webhook's "
                                                "'Verify token' field.")
    phone_number_id: str | None = Field(None, description="Optional: only accept messages to this business number.")


def message_text(message: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """Readable text and attachment metadata for any WhatsApp message type."""
    kind = str(message.get("type") or "")
    attachments: list[dict[str, Any]] = []
    if kind == "text":
        return str(dig(message, "text", "body") or ""), attachments
    if kind in MEDIA_TYPES:
        media = message.get(kind) if isinstance(message.get(kind), dict) else {}
        attachments.append(compact({"name": media.get("filename"), "media_id": media.get("id"),
                                    "content_type": media.get("mime_type"), "sha256": media.get("sha256"),
                                    "kind": kind}))
        caption = str(media.get("caption") or "")
        return caption or f"[{kind}{': ' + media['filename'] if media.get('filename') else ''}]", attachments
    if kind == "location":
        place = message.get("location") or {}
        parts = [place.get("name"), place.get("address"),
                 f"{place.get('latitude')},{place.get('longitude')}" if place.get("latitude") is not None else None]
        return "[location] " + ", ".join(str(p) for p in parts if p), attachments
    if kind == "button":
        return str(dig(message, "button", "text") or dig(message, "button", "payload") or ""), attachments
    if kind == "interactive":
        reply = dig(message, "interactive", "button_reply") or dig(message, "interactive", "list_reply") or {}
        return str(reply.get("title") or reply.get("id") or ""), attachments
    if kind == "reaction":
        emoji = dig(message, "reaction", "emoji")
        return (f"[reaction {emoji}]" if emoji else ""), attachments
    if kind == "contacts":
        names = [dig(c, "name", "formatted_name") for c in message.get("contacts") or []]
        return "[contacts] " + ", ".join(str(n) for n in names if n), attachments
    return "", attachments  # unsupported, system: nothing a person wrote


class MetaWhatsAppConnector(WebhookConnector):
    name: ClassVar[str] = "meta_whatsapp"
    title: ClassVar[str] = "WhatsApp Business Cloud API (Meta)"
    settings_model: ClassVar[type[ConnectorSettings]] = MetaWhatsAppSettings

    def handshake(self, request: WebhookRequest, settings: ConnectorSettings) -> tuple[int, str] | None:
        assert isinstance(settings, MetaWhatsAppSettings)
        mode = query_value(request, "hub.mode")
        token = query_value(request, "hub.verify_token") or ""
        challenge = query_value(request, "hub.challenge")
        if mode is None:
            return None  # not a verification request: a signed event delivery
        expected = settings.verify_token.get_secret_value()
        if mode == "subscribe" and challenge is not None and expected and same(expected, token):
            return 200, challenge
        return 403, "verification failed"

    def verify(self, request: WebhookRequest, settings: ConnectorSettings) -> None:
        assert isinstance(settings, MetaWhatsAppSettings)
        secret = secret_value(settings.app_secret, field="app_secret")
        given = prefixed_hex(require_header(request, SIGNATURE_HEADER), "sha256=", header=SIGNATURE_HEADER)
        if not same(hmac_hex(secret, request.body), given):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")

    def delivery_id(self, request: WebhookRequest) -> str | None:
        payload = body_json_or_none(request)
        ids = sorted(str(m.get("id")) for entry in dig(payload, "entry") or [] if isinstance(entry, dict)
                     for change in entry.get("changes") or [] if isinstance(change, dict)
                     for m in dig(change, "value", "messages") or [] if isinstance(m, dict) and m.get("id"))
        if not ids:
            return None  # status-only deliveries: the body's hash
        joined = ",".join(ids)
        return "wa:" + (joined if len(joined) <= 150 else hashlib.sha256(joined.encode()).hexdigest())

    def parse(self, request: WebhookRequest, settings: ConnectorSettings) -> list[dict[str, Any]]:
        assert isinstance(settings, MetaWhatsAppSettings)
        payload = json_object(request)
        if payload.get("object") != "whatsapp_business_account":
            raise PayloadError("object: must be whatsapp_business_account")
        entries = payload.get("entry")
        if not isinstance(entries, list):
            raise PayloadError("entry: must be a list")
        records: list[dict[str, Any]] = []
        for e_index, entry in enumerate(entries):
            for c_index, change in enumerate((entry or {}).get("changes") or []):
                value = dig(change, "value")
                if not isinstance(value, dict):
                    raise PayloadError(f"entry[{e_index}].changes[{c_index}].value: must be an object")
                records.extend(self._messages(value, settings, waba_id=text_id((entry or {}).get("id")),
                                              where=f"entry[{e_index}].changes[{c_index}].value"))
        return records

    @staticmethod
    def _messages(value: dict[str, Any], settings: MetaWhatsAppSettings, *, waba_id: str | None,
                  where: str) -> list[dict[str, Any]]:
        phone_number_id = text_id(dig(value, "metadata", "phone_number_id"))
        if settings.phone_number_id and phone_number_id and phone_number_id != settings.phone_number_id:
            return []  # another business number of the same app
        names = {str(c.get("wa_id")): dig(c, "profile", "name") for c in value.get("contacts") or []
                 if isinstance(c, dict)}
        out = []
        for index, message in enumerate(value.get("messages") or []):
            if not isinstance(message, dict):
                raise PayloadError(f"{where}.messages[{index}]: must be an object")
            message_id, sender = text_id(message.get("id")), text_id(message.get("from"))
            if not message_id or not sender:
                raise PayloadError(f"{where}.messages[{index}]: needs id and from")
            text, attachments = message_text(message)
            if not text.strip():
                continue
            phone = sender if sender.startswith("+") else "+" + sender  # wa_id is E.164 without the plus
            name = names.get(sender)
            business = dig(value, "metadata", "display_phone_number")
            out.append({"source": "meta_whatsapp", "external_id": message_id, "channel": "whatsapp",
                        "direction": "inbound", "author_role": "customer", "author_name": name or None,
                        "customer": compact({"name": name, "phone": phone}),
                        "thread_id": f"whatsapp:{sender}:{phone_number_id or business or ''}",
                        "text": text.strip(),
                        "occurred_at": iso_time(message.get("timestamp"), where=f"{where}.messages[{index}].timestamp"),
                        "metadata": compact({"type": message.get("type"), "waba_id": waba_id,
                                             "phone_number_id": phone_number_id, "business_number": business,
                                             "reply_to": dig(message, "context", "id"),
                                             "attachments": attachments})})
        return out
