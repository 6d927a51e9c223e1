"""Zendesk Support webhooks: ticket and comment events.

Verification (Zendesk "Verifying webhook authenticity"): `X-Zendesk-Webhook-Signature` is
base64(HMAC-SHA256(signing_secret, X-Zendesk-Webhook-Signature-Timestamp + raw body)), no separator.
The timestamp (ISO 8601) must be within `max_age_s` of our clock so a captured request cannot be replayed.

Two payload shapes are understood:
- event subscriptions (`zen:event-type:ticket.created`, `zen:event-type:ticket.comment_added`), where
  the customer is known by the requester's Zendesk id;
- trigger webhooks whose JSON body is the template in docs/connectors.md (`{"ticket": {..., "requester": {...},
  "comment": {...}}}`), which also carries the requester's email and phone.
"""
from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from connectors._common import (
    TextSettings,
    attachment_meta,
    body_json_or_none,
    check_fresh_moment,
    compact,
    customer_block,
    dig,
    has_identifier,
    hmac_b64,
    html_to_text,
    iso_time,
    json_object,
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

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
CHANNELS = {"email": "email", "mail": "email", "web": "ticket", "api": "ticket", "web_service": "ticket",
            "chat": "chat", "native_messaging": "chat", "messaging": "chat", "sms": "sms", "text": "sms",
            "whatsapp": "whatsapp", "voice": "voice", "phone": "voice", "twitter": "social", "facebook": "social",
            "instagram_dm": "social"}


class ZendeskSettings(TextSettings):
    signing_secret: SecretStr = Field(description="The webhook's signing secret (Admin Center > Webhooks > details).")
    max_age_s: int = Field(300, ge=30, le=86_400, description="Refuse signatures older than this (replays).")
    subdomain: str | None = Field(None, description="Optional: your Zendesk subdomain, kept in metadata for links.")


def channel_of(via: Any) -> str:
    name = str(dig(via, "channel") or via or "").lower() if not isinstance(via, str) else via.lower()
    return CHANNELS.get(name, "ticket")


def is_true(value: Any) -> bool:
    # Trigger placeholders arrive as text ("true"/"false"); event payloads as booleans.
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


class ZendeskConnector(WebhookConnector):
    name: ClassVar[str] = "zendesk"
    title: ClassVar[str] = "Zendesk Support"
    settings_model: ClassVar[type[ConnectorSettings]] = ZendeskSettings

    def verify(self, request: WebhookRequest, settings: ConnectorSettings) -> None:
        assert isinstance(settings, ZendeskSettings)
        secret = secret_value(settings.signing_secret, field="signing_secret")
        signature = require_header(request, SIGNATURE_HEADER)
        timestamp = require_header(request, TIMESTAMP_HEADER)
        check_fresh_moment(timestamp, request, window_s=settings.max_age_s, header=TIMESTAMP_HEADER)
        if not same(hmac_b64(secret, timestamp.encode() + request.body), signature):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")

    def delivery_id(self, request: WebhookRequest) -> str | None:
        payload = body_json_or_none(request)
        event_id = dig(payload, "id") if isinstance(payload, dict) and "type" in payload else None
        comment_id = dig(payload, "ticket", "comment", "id") or dig(payload, "comment", "id")
        key = text_id(event_id) or text_id(comment_id)
        return f"zendesk:{key}" if key else None

    def parse(self, request: WebhookRequest, settings: ConnectorSettings) -> list[dict[str, Any]]:
        assert isinstance(settings, ZendeskSettings)
        payload = json_object(request)
        event_type = str(payload.get("type") or "")
        if event_type.startswith("zen:event-type:"):
            return self._event(payload, settings)
        if isinstance(payload.get("ticket"), dict):
            return self._trigger(payload["ticket"], settings)
        raise PayloadError("body: neither a Zendesk event (type zen:event-type:...) nor a trigger body with 'ticket'")

    # event subscriptions ----------------------------------------------------------------------
    def _event(self, payload: dict[str, Any], settings: ZendeskSettings) -> list[dict[str, Any]]:
        event_type = payload["type"].removeprefix("zen:event-type:")
        detail = payload.get("detail") or {}
        if not isinstance(detail, dict):
            raise PayloadError("detail: must be an object")
        ticket_id = text_id(detail.get("id")) or text_id(str(payload.get("subject", "")).rpartition(":")[2])
        if not ticket_id:
            raise PayloadError("detail.id: required (the ticket id)")
        requester_id = text_id(detail.get("requester_id"))
        customer = customer_block(external_ids={"zendesk": requester_id})
        base = {"source": "zendesk", "thread_id": f"ticket-{ticket_id}", "subject": detail.get("subject") or None,
                "channel": channel_of(detail.get("via")), "customer": customer}
        meta = compact({"ticket_id": ticket_id, "event": event_type, "event_id": payload.get("id"),
                        "account_id": payload.get("account_id"), "status": detail.get("status"),
                        "tags": detail.get("tags"), "subdomain": settings.subdomain})
        if event_type == "ticket.comment_added":
            comment = dig(payload, "event", "comment")
            if not isinstance(comment, dict):
                raise PayloadError("event.comment: required for ticket.comment_added")
            comment_id = text_id(comment.get("id"))
            if not comment_id:
                raise PayloadError("event.comment.id: required")
            text = html_to_text(str(comment.get("body") or comment.get("html_body") or ""))
            if not text:
                return []  # an attachment-only or redacted comment: nothing to read
            author = comment.get("author") or {}
            public = comment.get("is_public", True) is not False
            author_id = text_id(author.get("id"))
            from_requester = author_id is not None and author_id == requester_id
            staff = bool(author.get("is_staff")) and not from_requester
            direction = "internal" if not public else ("outbound" if staff else "inbound")
            if not has_identifier(customer):
                raise PayloadError("detail.requester_id: required to know the customer")
            return [{**base, "external_id": f"comment-{comment_id}", "direction": direction,
                     "author_role": "agent" if staff or not public else "customer",
                     "author_name": author.get("name") or None, "text": text,
                     "occurred_at": iso_time(payload.get("time") or detail.get("updated_at"), where="time"),
                     "metadata": {**meta, "comment_id": comment_id, "public": public,
                                  "attachments": attachment_meta(comment.get("attachments"))}}]
        if event_type == "ticket.created":
            text = html_to_text(str(detail.get("description") or ""))
            if not text:
                return []
            if not has_identifier(customer):
                raise PayloadError("detail.requester_id: required to know the customer")
            return [{**base, "external_id": f"ticket-{ticket_id}", "direction": "inbound", "author_role": "customer",
                     "text": text, "occurred_at": iso_time(detail.get("created_at") or payload.get("time"),
                                                           where="detail.created_at"), "metadata": meta}]
        return []  # status, tag, assignment... changes are not messages

    # trigger webhooks (JSON body from docs/connectors.md) -------------------------------------------
    def _trigger(self, ticket: dict[str, Any], settings: ZendeskSettings) -> list[dict[str, Any]]:
        ticket_id = text_id(ticket.get("id"))
        if not ticket_id:
            raise PayloadError("ticket.id: required")
        requester = ticket.get("requester") if isinstance(ticket.get("requester"), dict) else {}
        customer = customer_block(name=requester.get("name"), email=requester.get("email"),
                                  phone=requester.get("phone"), external_ids={"zendesk": requester.get("id")})
        if not has_identifier(customer):
            raise PayloadError("ticket.requester: needs an email, phone or id")
        comment = ticket.get("comment") if isinstance(ticket.get("comment"), dict) else {}
        text = html_to_text(str(comment.get("body") or comment.get("value") or ticket.get("description") or ""))
        if not text:
            raise PayloadError("ticket.comment.body: required (the latest comment)")
        public = is_true(comment.get("is_public", comment.get("public", True)))
        author = comment.get("author") if isinstance(comment.get("author"), dict) else {}
        author_email = str(author.get("email") or "").strip().lower()
        requester_email = str(requester.get("email") or "").strip().lower()
        author_id, requester_id = text_id(author.get("id")), text_id(requester.get("id"))
        from_customer = (author_email and author_email == requester_email) or (
            author_id is not None and author_id == requester_id) or (not author and public)
        direction = "internal" if not public else ("inbound" if from_customer else "outbound")
        comment_id = text_id(comment.get("id"))
        # Without a comment id (older templates), the text identifies the comment within its ticket.
        key = comment_id or hashlib.sha256(text.encode()).hexdigest()[:16]
        return [{"source": "zendesk", "external_id": f"comment-{key}" if comment_id else f"ticket-{ticket_id}-{key}",
                 "channel": channel_of(ticket.get("via") or ticket.get("channel")), "direction": direction,
                 "author_role": "customer" if direction == "inbound" else "agent",
                 "author_name": author.get("name") or (requester.get("name") if from_customer else None) or None,
                 "customer": customer, "thread_id": f"ticket-{ticket_id}", "subject": ticket.get("title")
                 or ticket.get("subject") or None, "text": text,
                 "occurred_at": iso_time(comment.get("created_at") or ticket.get("updated_at")
                                         or ticket.get("created_at"), where="ticket.comment.created_at"),
                 "metadata": compact({"ticket_id": ticket_id, "comment_id": comment_id, "public": public,
                                      "status": ticket.get("status"), "subdomain": settings.subdomain,
                                      "attachments": attachment_meta(comment.get("attachments"))})}]
