"""Front application webhooks: inbound and outbound messages, and comments (internal notes).

Verification (Front "Security" for app webhooks): `X-Front-Signature` is base64(HMAC-SHA256(app signing
key, "<X-Front-Request-Timestamp>:<raw body>")); Front recommends refusing requests older than 5 minutes.
The timestamp is in milliseconds in current deliveries; seconds are accepted too.

When the webhook is created Front sends a validation request with `X-Front-Challenge`; `handshake`
answers it with the challenge, and `parse` returns no records for it.
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
    hmac_b64,
    html_to_text,
    iso_time,
    json_object,
    received_seconds,
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

SIGNATURE_HEADER = "X-Front-Signature"
TIMESTAMP_HEADER = "X-Front-Request-Timestamp"
CHALLENGE_HEADER = "X-Front-Challenge"
WINDOW_S = 300
CHANNELS = {"email": "email", "sms": "sms", "whatsapp": "whatsapp", "intercom": "chat", "front_chat": "chat",
            "custom": "chat", "smooch": "chat", "googleplay": "social", "facebook": "social", "tweet": "social",
            "tweet_dm": "social", "twitter": "social", "instagram": "social", "call": "voice", "phone_call": "voice"}
MESSAGE_EVENTS = {"inbound", "inbound_received", "outbound", "outbound_sent", "out_reply", "outbound_reply",
                  "message"}
COMMENT_EVENTS = {"comment", "new_comment_added", "mention"}


class FrontSettings(TextSettings):
    signing_key: SecretStr = Field(description="The app's signing key (Developer > your app > Basic information).")


def moment_seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} must be unix milliseconds") from None
    return number / 1000.0 if number > 1e11 else number  # milliseconds in practice; seconds tolerated


def handle_kind(message_type: str, handle: str) -> dict[str, Any]:
    """Which identifier a recipient handle is, from the message's channel type."""
    if "@" in handle and message_type in ("email", "intercom", "front_chat", "custom", ""):
        return {"email": handle}
    if message_type in ("sms", "whatsapp", "call", "phone_call") or handle.lstrip("+").isdigit():
        return {"phone": handle.removeprefix("whatsapp:")}
    if message_type in ("tweet", "tweet_dm", "twitter"):
        return {"handles": {"twitter": handle}}
    if message_type == "facebook":
        return {"handles": {"facebook": handle}}
    if message_type == "instagram":
        return {"handles": {"instagram": handle}}
    return {"handles": {"front": handle}} if "@" not in handle else {"email": handle}


class FrontConnector(WebhookConnector):
    name: ClassVar[str] = "front"
    title: ClassVar[str] = "Front"
    settings_model: ClassVar[type[ConnectorSettings]] = FrontSettings

    def verify(self, request: WebhookRequest, settings: ConnectorSettings) -> None:
        assert isinstance(settings, FrontSettings)
        secret = secret_value(settings.signing_key, field="signing_key")
        signature = require_header(request, SIGNATURE_HEADER)
        timestamp = require_header(request, TIMESTAMP_HEADER)
        if abs(received_seconds(request) - moment_seconds(timestamp)) > WINDOW_S:
            raise SignatureError(f"{TIMESTAMP_HEADER} is more than {WINDOW_S} s away from the server's clock")
        if not same(hmac_b64(secret, timestamp.encode() + b":" + request.body), signature):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")

    def handshake(self, request: WebhookRequest, settings: ConnectorSettings) -> tuple[int, str] | None:
        challenge = request.header(CHALLENGE_HEADER)
        if not challenge:
            return None
        self.verify(request, settings)
        return 200, challenge

    def delivery_id(self, request: WebhookRequest) -> str | None:
        payload = body_json_or_none(request)
        event_id = text_id(dig(payload, "payload", "id")) or text_id(dig(payload, "id"))
        return f"front:{event_id}" if event_id else None

    def parse(self, request: WebhookRequest, settings: ConnectorSettings) -> list[dict[str, Any]]:
        payload = json_object(request)
        if request.header(CHALLENGE_HEADER) and not payload.get("payload"):
            return []  # the validation request when the webhook is created
        event = payload.get("payload") if isinstance(payload.get("payload"), dict) else payload
        event_type = str(payload.get("type") or event.get("type") or "")
        if not event_type:
            raise PayloadError("type: required (a Front event)")
        target_type = str(dig(event, "target", "_meta", "type") or "")
        data = dig(event, "target", "data")
        conversation = event.get("conversation") if isinstance(event.get("conversation"), dict) else {}
        if event_type in COMMENT_EVENTS or target_type == "comment":
            if not isinstance(data, dict):
                raise PayloadError("payload.target.data: required (the comment)")
            return self._comment(data, conversation, event)
        if event_type in MESSAGE_EVENTS or target_type == "message":
            if not isinstance(data, dict):
                raise PayloadError("payload.target.data: required (the message)")
            return self._message(data, conversation, event)
        return []  # assignments, tags, moves: not messages

    @staticmethod
    def _base(conversation: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        conversation_id = text_id(conversation.get("id"))
        return compact({"source": "front", "thread_id": f"conversation-{conversation_id}" if conversation_id else None,
                        "subject": conversation.get("subject") or None})

    def _message(self, message: dict[str, Any], conversation: dict[str, Any],
                 event: dict[str, Any]) -> list[dict[str, Any]]:
        message_id = text_id(message.get("id"))
        if not message_id:
            raise PayloadError("payload.target.data.id: required (the message id)")
        message_type = str(message.get("type") or "").lower()
        inbound = bool(message.get("is_inbound"))
        recipients = [r for r in message.get("recipients") or [] if isinstance(r, dict)]
        wanted = "from" if inbound else "to"
        party = next((r for r in recipients if r.get("role") == wanted), None) or {}
        handle = str(party.get("handle") or dig(conversation, "recipient", "handle") or "")
        if not handle:
            raise PayloadError(f"payload.target.data.recipients: needs the customer's '{wanted}' handle")
        customer = customer_block(name=party.get("name") or dig(conversation, "recipient", "name"),
                                  **handle_kind(message_type, handle))
        contact_id = dig(party, "_links", "related", "contact")
        if contact_id:
            customer.setdefault("external_ids", {})["front"] = str(contact_id).rstrip("/").rpartition("/")[2]
        text = str(message.get("text") or "") or html_to_text(str(message.get("body") or ""))
        text = text.strip()
        if not text:
            return []
        author = message.get("author") if isinstance(message.get("author"), dict) else {}
        author_name = " ".join(filter(None, [author.get("first_name"), author.get("last_name")])) or (
            party.get("name") if inbound else None)
        return [{**self._base(conversation, event), "external_id": message_id,
                 "channel": CHANNELS.get(message_type, "email"), "direction": "inbound" if inbound else "outbound",
                 "author_role": "customer" if inbound else ("agent" if author else "bot"),
                 "author_name": author_name or None, "customer": customer, "text": text,
                 "subject": message.get("subject") or conversation.get("subject") or None,
                 "occurred_at": iso_time(message.get("created_at") or event.get("emitted_at"), where="created_at"),
                 "metadata": compact({"conversation_id": conversation.get("id"), "event_id": event.get("id"),
                                      "message_type": message_type or None,
                                      "attachments": attachment_meta(message.get("attachments"))})}]

    def _comment(self, comment: dict[str, Any], conversation: dict[str, Any],
                 event: dict[str, Any]) -> list[dict[str, Any]]:
        comment_id = text_id(comment.get("id"))
        if not comment_id:
            raise PayloadError("payload.target.data.id: required (the comment id)")
        recipient = conversation.get("recipient") if isinstance(conversation.get("recipient"), dict) else {}
        handle = str(recipient.get("handle") or "")
        if not handle:
            raise PayloadError("payload.conversation.recipient.handle: required to know the customer of a comment")
        customer = customer_block(name=recipient.get("name"), **handle_kind("", handle))
        text = str(comment.get("body") or "").strip()
        if not text or not has_identifier(customer):
            return []
        author = comment.get("author") if isinstance(comment.get("author"), dict) else {}
        author_name = " ".join(filter(None, [author.get("first_name"), author.get("last_name")])) or None
        return [{**self._base(conversation, event), "external_id": comment_id, "channel": "email",
                 "direction": "internal", "author_role": "agent", "author_name": author_name,
                 "customer": customer, "text": html_to_text(text),
                 "occurred_at": iso_time(comment.get("posted_at") or event.get("emitted_at"), where="posted_at"),
                 "metadata": compact({"conversation_id": conversation.get("id"), "event_id": event.get("id"),
                                      "comment": True, "attachments": attachment_meta(comment.get("attachments"))})}]
