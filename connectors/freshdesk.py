"""Freshdesk webhooks (automation rule "Trigger webhook"): tickets and conversations.

Freshdesk does not sign webhooks, so each tenant sets a secret `token` and the automation sends it
either in a custom header `X-Omnicopilot-Token: <token>` or as the password of HTTP Basic auth (any
user name); both are compared in constant time.

Understood bodies (JSON):
- the template in docs/connectors.md: `{"ticket": {...}, "conversation": {...}}`, filled with Freshdesk
  placeholders (`{{ticket.id}}`, `{{ticket.latest_public_comment}}`, ...);
- Freshdesk API shapes: a ticket (`id`, `subject`, `description_text`, `requester`...) and a conversation
  (`id`, `body_text`, `incoming`, `private`, `from_email`, `attachments`...), bare or under those keys;
- the classic `{"freshdesk_webhook": {"ticket_id": ..., ...}}` form.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
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
    html_to_text,
    iso_time,
    json_object,
    received_seconds,
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

TOKEN_HEADER = "X-Omnicopilot-Token"
SOURCES = {1: "email", 2: "ticket", 3: "voice", 7: "chat", 9: "ticket", 10: "email", 13: "whatsapp",
           "email": "email", "portal": "ticket", "phone": "voice", "chat": "chat", "feedback widget": "ticket",
           "outbound email": "email", "whatsapp": "whatsapp", "facebook": "social", "twitter": "social",
           "mobihelp": "chat", "ecommerce": "ticket", "bot": "chat"}


class FreshdeskSettings(TextSettings):
    token: SecretStr = Field(description="A long random secret; the automation sends it in X-Omnicopilot-Token "
                                         "or as the Basic auth password.")
    domain: str | None = Field(None, description="Optional: yourcompany.freshdesk.com, kept in metadata for links.")


def presented_token(request: WebhookRequest) -> str | None:
    header = (request.header(TOKEN_HEADER) or "").strip()
    if header:
        return header
    authorization = (request.header("Authorization") or "").strip()
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


def channel_of(source: Any) -> str:
    key: Any = source
    if isinstance(source, str):
        key = int(source) if source.isdigit() else source.strip().lower()
    return SOURCES.get(key, "ticket")


class FreshdeskConnector(WebhookConnector):
    name: ClassVar[str] = "freshdesk"
    title: ClassVar[str] = "Freshdesk"
    settings_model: ClassVar[type[ConnectorSettings]] = FreshdeskSettings

    def verify(self, request: WebhookRequest, settings: ConnectorSettings) -> None:
        assert isinstance(settings, FreshdeskSettings)
        expected = secret_value(settings.token, field="token")
        given = presented_token(request)
        if not given:
            raise SignatureError(f"missing {TOKEN_HEADER} header or Basic auth password")
        if not same(expected, given):
            raise SignatureError("wrong token")

    def delivery_id(self, request: WebhookRequest) -> str | None:
        payload = body_json_or_none(request)
        conversation_id = text_id(dig(payload, "conversation", "id"))
        return f"freshdesk:conversation:{conversation_id}" if conversation_id else None

    def parse(self, request: WebhookRequest, settings: ConnectorSettings) -> list[dict[str, Any]]:
        assert isinstance(settings, FreshdeskSettings)
        payload = json_object(request)
        if isinstance(payload.get("freshdesk_webhook"), dict):
            payload = self._classic(payload["freshdesk_webhook"])
        ticket = payload.get("ticket") if isinstance(payload.get("ticket"), dict) else None
        conversation = payload.get("conversation") if isinstance(payload.get("conversation"), dict) else None
        if ticket is None and conversation is None:
            if "body_text" in payload or "incoming" in payload:
                conversation = payload
            elif "subject" in payload or "description_text" in payload or "description" in payload:
                ticket = payload
            else:
                raise PayloadError("body: needs 'ticket' and/or 'conversation' (see docs/connectors.md)")
        ticket = ticket or {}
        ticket_id = text_id(ticket.get("id")) or text_id(dig(conversation, "ticket_id"))
        if not ticket_id:
            raise PayloadError("ticket.id: required")
        requester = ticket.get("requester") if isinstance(ticket.get("requester"), dict) else {}
        customer = customer_block(name=requester.get("name"), email=requester.get("email") or ticket.get("email"),
                                  phone=requester.get("phone") or requester.get("mobile") or ticket.get("phone"),
                                  external_ids={"freshdesk": requester.get("id") or ticket.get("requester_id")})
        if conversation and conversation.get("incoming") and not customer.get("email") \
                and conversation.get("from_email"):
            customer["email"] = str(conversation["from_email"]).strip()
        if not has_identifier(customer):
            raise PayloadError("ticket.requester: needs an email, phone or id")
        base = {"source": "freshdesk", "customer": customer, "thread_id": f"ticket-{ticket_id}",
                "subject": ticket.get("subject") or None, "channel": channel_of(ticket.get("source"))}
        meta = compact({"ticket_id": ticket_id, "status": ticket.get("status"), "priority": ticket.get("priority"),
                        "domain": settings.domain})
        received = received_seconds(request)  # when the vendor omits a time, the moment it reached us
        if conversation:
            return self._conversation(conversation, base, meta, requester, received=received)
        text = str(ticket.get("description_text") or "") or html_to_text(str(ticket.get("description") or ""))
        if not text.strip():
            raise PayloadError("ticket.description: required when no conversation is sent")
        return [{**base, "external_id": f"ticket-{ticket_id}", "direction": "inbound", "author_role": "customer",
                 "author_name": requester.get("name") or None, "text": text.strip(),
                 "occurred_at": iso_time(ticket.get("created_at") or received, where="ticket.created_at"),
                 "metadata": {**meta, "attachments": attachment_meta(ticket.get("attachments"))}}]

    @staticmethod
    def _conversation(conversation: dict[str, Any], base: dict[str, Any], meta: dict[str, Any],
                      requester: dict[str, Any], *, received: float) -> list[dict[str, Any]]:
        text = str(conversation.get("body_text") or "") or html_to_text(str(conversation.get("body") or ""))
        text = text.strip()
        if not text:
            raise PayloadError("conversation.body_text: required")
        private = str(conversation.get("private")).lower() in ("true", "1")
        incoming = str(conversation.get("incoming")).lower() in ("true", "1")
        if private:
            direction, role = "internal", "agent"
        elif incoming:
            direction, role = "inbound", "customer"
        else:
            direction, role = "outbound", "agent"
        conversation_id = text_id(conversation.get("id"))
        # Placeholder templates may lack an id: the text identifies the comment within its ticket.
        key = conversation_id or hashlib.sha256(text.encode()).hexdigest()[:16]
        return [{**base, "external_id": f"conversation-{key}", "direction": direction, "author_role": role,
                 "author_name": conversation.get("author_name") or (requester.get("name") if incoming else None),
                 "text": text,
                 "occurred_at": iso_time(conversation.get("created_at") or received,
                                         where="conversation.created_at"),
                 "metadata": {**meta, **compact({"conversation_id": conversation_id, "private": private,
                                                 "from_email": conversation.get("from_email"),
                                                 "attachments": attachment_meta(conversation.get("attachments"))})}}]

    @staticmethod
    def _classic(hook: dict[str, Any]) -> dict[str, Any]:
        """The `freshdesk_webhook` form (placeholder names with underscores) in the API's shape."""
        ticket = {"id": hook.get("ticket_id"), "subject": hook.get("ticket_subject"),
                  "description": hook.get("ticket_description"), "source": hook.get("ticket_source"),
                  "status": hook.get("ticket_status"), "priority": hook.get("ticket_priority"),
                  "created_at": hook.get("ticket_created_at"),
                  "requester": {"id": hook.get("ticket_requester_id") or hook.get("ticket_contact_id"),
                                "name": hook.get("ticket_requester_name") or hook.get("ticket_contact_name"),
                                "email": hook.get("ticket_requester_email") or hook.get("ticket_contact_email"),
                                "phone": hook.get("ticket_requester_phone") or hook.get("ticket_contact_phone")}}
        comment = hook.get("ticket_latest_public_comment")
        if comment:
            # The classic form does not say who wrote the comment: customers' replies are what it is used for.
            return {"ticket": ticket, "conversation": {"body_text": comment, "incoming": True, "private": False,
                                                       "id": hook.get("ticket_latest_comment_id")}}
        return {"ticket": ticket}
