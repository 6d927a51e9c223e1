"""Chatwoot webhooks: `message_created` events.

Verification: `X-Chatwoot-Signature: sha256=<hex>`, HMAC-SHA256 with the webhook's secret over
"<X-Chatwoot-Timestamp>.<raw body>"; a timestamp more than 300 s off is refused. `X-Chatwoot-Delivery`
names the delivery so a retry is stored once.

incoming -> inbound from the customer; outgoing -> outbound from an agent (or bot); private -> internal
note. Activity and template messages are not conversation content.
"""
from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, SecretStr

from connectors._common import (
    TextSettings,
    attachment_meta,
    body_json_or_none,
    check_fresh,
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

SIGNATURE_HEADER = "X-Chatwoot-Signature"
TIMESTAMP_HEADER = "X-Chatwoot-Timestamp"
DELIVERY_HEADER = "X-Chatwoot-Delivery"
WINDOW_S = 300
CHANNELS = {"Channel::WebWidget": "chat", "Channel::Api": "chat", "Channel::Email": "email", "Channel::Sms": "sms",
            "Channel::TwilioSms": "sms", "Channel::Whatsapp": "whatsapp", "Channel::FacebookPage": "social",
            "Channel::Instagram": "social", "Channel::TwitterProfile": "social", "Channel::Telegram": "social",
            "Channel::Line": "social", "Channel::Voice": "voice"}
MESSAGE_TYPES = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}  # the enum when sent as a number


class ChatwootSettings(TextSettings):
    webhook_secret: SecretStr = Field(description="The webhook's secret (Settings > Integrations > Webhooks).")
    base_url: str | None = Field(None, description="Optional: your Chatwoot URL, kept in metadata for links.")


class ChatwootConnector(WebhookConnector):
    name: ClassVar[str] = "chatwoot"
    title: ClassVar[str] = "Chatwoot"
    settings_model: ClassVar[type[ConnectorSettings]] = ChatwootSettings

    def verify(self, request: WebhookRequest, settings: ConnectorSettings) -> None:
        assert isinstance(settings, ChatwootSettings)
        secret = secret_value(settings.webhook_secret, field="webhook_secret")
        given = prefixed_hex(require_header(request, SIGNATURE_HEADER), "sha256=", header=SIGNATURE_HEADER)
        timestamp = require_header(request, TIMESTAMP_HEADER)
        check_fresh(timestamp, request, window_s=WINDOW_S, header=TIMESTAMP_HEADER)
        if not same(hmac_hex(secret, timestamp.encode() + b"." + request.body), given):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")

    def delivery_id(self, request: WebhookRequest) -> str | None:
        delivery = (request.header(DELIVERY_HEADER) or "").strip()
        if delivery:
            return f"chatwoot:{delivery}"
        payload = body_json_or_none(request)
        message_id = text_id(dig(payload, "id"))
        return f"chatwoot:{dig(payload, 'event')}:{message_id}" if message_id else None

    def parse(self, request: WebhookRequest, settings: ConnectorSettings) -> list[dict[str, Any]]:
        assert isinstance(settings, ChatwootSettings)
        payload = json_object(request)
        event = payload.get("event")
        if not event:
            raise PayloadError("event: required (a Chatwoot webhook)")
        if event != "message_created":
            return []  # conversation status, contact and typing events are not messages
        message_id = text_id(payload.get("id"))
        if not message_id:
            raise PayloadError("id: required (the message id)")
        message_type = payload.get("message_type")
        message_type = MESSAGE_TYPES.get(message_type, message_type) if isinstance(message_type, int) else message_type
        if message_type not in ("incoming", "outgoing", "activity", "template"):
            raise PayloadError("message_type: must be incoming, outgoing, activity or template")
        if message_type in ("activity", "template"):
            return []
        conversation = payload.get("conversation") if isinstance(payload.get("conversation"), dict) else {}
        sender = payload.get("sender") if isinstance(payload.get("sender"), dict) else {}
        contact = dig(conversation, "meta", "sender") or payload.get("contact") or (
            sender if message_type == "incoming" else {})
        if not isinstance(contact, dict):
            contact = {}
        customer = customer_block(name=contact.get("name"), email=contact.get("email"),
                                  phone=contact.get("phone_number"),
                                  external_ids={"chatwoot": contact.get("id")})
        if contact.get("identifier"):
            customer.setdefault("external_ids", {})["chatwoot_identifier"] = str(contact["identifier"])
        if not has_identifier(customer):
            raise PayloadError("conversation.meta.sender: needs the contact's id, email or phone")
        text = html_to_text(str(payload.get("content") or ""))
        attachments = attachment_meta(payload.get("attachments"))
        if not text and attachments:
            text = "[" + ", ".join(a.get("content_type") or a.get("name") or "attachment" for a in attachments) + "]"
        if not text:
            return []
        private = bool(payload.get("private"))
        sender_type = str(sender.get("type") or "").lower()
        if private:
            direction, role = "internal", "agent"
        elif message_type == "incoming":
            direction, role = "inbound", "customer"
        else:
            direction, role = "outbound", "bot" if sender_type in ("agent_bot", "agentbot", "bot") else "agent"
        conversation_id = text_id(conversation.get("display_id") or conversation.get("id"))
        channel = CHANNELS.get(str(conversation.get("channel") or dig(payload, "inbox", "channel_type") or ""), "chat")
        if channel == "sms" and str(contact.get("phone_number") or "").startswith("whatsapp:"):
            channel = "whatsapp"
        return [{"source": "chatwoot", "external_id": f"message-{message_id}", "channel": channel,
                 "direction": direction, "author_role": role, "author_name": sender.get("name") or None,
                 "customer": customer,
                 "thread_id": f"conversation-{conversation_id}" if conversation_id else None,
                 "subject": dig(conversation, "additional_attributes", "mail_subject") or None, "text": text,
                 "occurred_at": iso_time(payload.get("created_at"), where="created_at"),
                 "metadata": compact({"account_id": dig(payload, "account", "id"),
                                      "inbox": dig(payload, "inbox", "name"),
                                      "conversation_id": conversation.get("id"), "private": private,
                                      "base_url": settings.base_url, "attachments": attachments})}]
