"""Intercom webhooks: conversation notifications (the opening message and each conversation part).

Verification (Intercom "Webhooks > Signed notifications"): `X-Hub-Signature: sha1=<hex>`, the hex of
HMAC-SHA1 with the app's client secret over the raw body. Intercom sends no timestamp header; retries
are absorbed by the notification id (and each part's id as the record's external_id).
"""
from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, SecretStr

from connectors._common import (
    TextSettings,
    attachment_meta,
    body_json_or_none,
    compact,
    customer_block,
    dig,
    has_identifier,
    hmac_hex,
    html_to_text,
    iso_time,
    json_object,
    prefixed_hex,
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

SIGNATURE_HEADER = "X-Hub-Signature"
CUSTOMER_TYPES = {"user", "lead", "contact"}
CHANNELS = {"conversation": "chat", "email": "email", "push": "chat", "facebook": "social", "twitter": "social",
            "instagram": "social", "whatsapp": "whatsapp", "sms": "sms", "phone_call": "voice", "call": "voice"}


class IntercomSettings(TextSettings):
    client_secret: SecretStr = Field(description="The app's client secret (Developer Hub > your app > Basic info).")


class IntercomConnector(WebhookConnector):
    name: ClassVar[str] = "intercom"
    title: ClassVar[str] = "Intercom"
    settings_model: ClassVar[type[ConnectorSettings]] = IntercomSettings

    def verify(self, request: WebhookRequest, settings: ConnectorSettings) -> None:
        assert isinstance(settings, IntercomSettings)
        secret = secret_value(settings.client_secret, field="client_secret")
        given = prefixed_hex(require_header(request, SIGNATURE_HEADER), "sha1=", header=SIGNATURE_HEADER)
        if not same(hmac_hex(secret, request.body, "sha1"), given):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")

    def delivery_id(self, request: WebhookRequest) -> str | None:
        notification = text_id(dig(body_json_or_none(request), "id"))
        return f"intercom:{notification}" if notification else None

    def parse(self, request: WebhookRequest, settings: ConnectorSettings) -> list[dict[str, Any]]:
        payload = json_object(request)
        topic = str(payload.get("topic") or "")
        if not topic:
            raise PayloadError("topic: required (an Intercom notification)")
        if not topic.startswith("conversation"):
            return []  # ping, contact and company topics carry no messages
        item = dig(payload, "data", "item")
        if not isinstance(item, dict):
            raise PayloadError("data.item: required (the conversation)")
        conversation_id = text_id(item.get("id"))
        if not conversation_id:
            raise PayloadError("data.item.id: required")
        customer = self._customer(item)
        if not has_identifier(customer):
            raise PayloadError("data.item.contacts: needs a contact id or email to know the customer")
        source = item.get("source") if isinstance(item.get("source"), dict) else {}
        channel = CHANNELS.get(str(source.get("type") or source.get("delivered_as") or "").lower(), "chat")
        if str(source.get("delivered_as") or "") == "customer_initiated" and source.get("type") == "email":
            channel = "email"
        base = {"source": "intercom", "channel": channel, "customer": customer,
                "thread_id": f"conversation-{conversation_id}",
                "subject": html_to_text(str(source.get("subject") or item.get("title") or "")) or None}
        meta = compact({"conversation_id": conversation_id, "topic": topic, "notification_id": payload.get("id"),
                        "app_id": payload.get("app_id")})
        records: list[dict[str, Any]] = []
        # The opening message travels as `source`; it is sent with every notification, stored once by its id.
        if topic in ("conversation.user.created", "conversation.admin.single.created") or not dig(
                item, "conversation_parts", "conversation_parts"):
            record = self._message(source, base, meta, part_type="comment",
                                   external_id=f"conversation-{conversation_id}-source",
                                   when=item.get("created_at"))
            if record:
                records.append(record)
        for part in dig(item, "conversation_parts", "conversation_parts") or []:
            if not isinstance(part, dict) or not text_id(part.get("id")):
                continue
            record = self._message(part, base, meta, part_type=str(part.get("part_type") or "comment"),
                                   external_id=f"part-{part['id']}", when=part.get("created_at"))
            if record:
                records.append(record)
        return records

    @staticmethod
    def _customer(item: dict[str, Any]) -> dict[str, Any]:
        contacts = dig(item, "contacts", "contacts") or []
        contact = contacts[0] if contacts and isinstance(contacts[0], dict) else {}
        # Older payloads name the customer as `user`; the source's author is the customer when they wrote first.
        author = dig(item, "source", "author") or {}
        user = item.get("user") if isinstance(item.get("user"), dict) else {}
        person = author if author.get("type") in CUSTOMER_TYPES else user
        external = contact.get("id") or person.get("id")
        return customer_block(name=contact.get("name") or person.get("name"),
                              email=contact.get("email") or person.get("email"),
                              phone=contact.get("phone") or person.get("phone"),
                              external_ids={"intercom": external})

    @staticmethod
    def _message(part: dict[str, Any], base: dict[str, Any], meta: dict[str, Any], *, part_type: str,
                 external_id: str, when: Any) -> dict[str, Any] | None:
        text = html_to_text(str(part.get("body") or ""))
        if not text:
            return None  # assignments, closes and other state changes without words
        author = part.get("author") if isinstance(part.get("author"), dict) else {}
        author_type = str(author.get("type") or "")
        if part_type == "note":
            direction, role = "internal", "agent"
        elif author_type in CUSTOMER_TYPES:
            direction, role = "inbound", "customer"
        elif author_type == "bot":
            direction, role = "outbound", "bot"
        else:
            direction, role = "outbound", "agent"
        return {**base, "external_id": external_id, "direction": direction, "author_role": role,
                "author_name": author.get("name") or None, "text": text,
                "occurred_at": iso_time(when, where="created_at"),
                "metadata": {**meta, "part_type": part_type, "author_type": author_type or None,
                             "attachments": attachment_meta(part.get("attachments"))}}
