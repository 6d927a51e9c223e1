"""Vendor webhooks: documented payload shapes, signatures computed here (hmac/hashlib), and every rejection."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from connectors.chatwoot import ChatwootConnector, ChatwootSettings
from connectors.freshdesk import FreshdeskConnector, FreshdeskSettings
from connectors.front import FrontConnector, FrontSettings
from connectors.intercom import IntercomConnector, IntercomSettings
from connectors.meta_whatsapp import MetaWhatsAppConnector, MetaWhatsAppSettings
from connectors.twilio import TwilioConnector, TwilioSettings
from connectors.zendesk import ZendeskConnector, ZendeskSettings
from copilot.integrations.base import (
    ConnectorSettings,
    PayloadError,
    SignatureError,
    UnsupportedMediaType,
    WebhookConnector,
    WebhookRequest,
)
from copilot.interactions.schemas import InteractionIn
from tests.connectors.conftest import fixture_bytes, make_request

SECRET = "s3cret-for-tests-4b8e1f6a0c2d9357"  # 32+ characters: shorter ones are refused
TWILIO_URL = "https://copilot.example.com/v1/webhooks/acme/twilio"


def hmac_b64(key: str, message: bytes, digest: Any = hashlib.sha256) -> str:
    return base64.b64encode(hmac.new(key.encode(), message, digest).digest()).decode()


def hmac_hexdigest(key: str, message: bytes, digest: Any = hashlib.sha256) -> str:
    return hmac.new(key.encode(), message, digest).hexdigest()


# the vendors' signing, as their docs describe it ---------------------------------------------------
def sign_zendesk(body: bytes, secret: str, age_s: float = 0) -> dict[str, str]:
    ts = datetime.fromtimestamp(time.time() - age_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"X-Zendesk-Webhook-Signature": hmac_b64(secret, ts.encode() + body),
            "X-Zendesk-Webhook-Signature-Timestamp": ts, "X-Zendesk-Webhook-Id": "01GK8E6BKWMJZD2T8Y5AXJQMG5"}


def sign_intercom(body: bytes, secret: str, age_s: float = 0) -> dict[str, str]:
    return {"X-Hub-Signature": "sha1=" + hmac_hexdigest(secret, body, hashlib.sha1)}


def sign_front(body: bytes, secret: str, age_s: float = 0) -> dict[str, str]:
    ts = str(int((time.time() - age_s) * 1000))
    return {"X-Front-Signature": hmac_b64(secret, f"{ts}:".encode() + body), "X-Front-Request-Timestamp": ts}


def sign_twilio(body: bytes, secret: str, age_s: float = 0, url: str = TWILIO_URL) -> dict[str, str]:
    from urllib.parse import parse_qsl

    params = sorted(parse_qsl(body.decode(), keep_blank_values=True))
    data = url + "".join(k + v for k, v in params)
    return {"X-Twilio-Signature": hmac_b64(secret, data.encode(), hashlib.sha1)}


def sign_meta(body: bytes, secret: str, age_s: float = 0) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hmac_hexdigest(secret, body)}


def sign_chatwoot(body: bytes, secret: str, age_s: float = 0) -> dict[str, str]:
    ts = str(int(time.time() - age_s))
    return {"X-Chatwoot-Signature": "sha256=" + hmac_hexdigest(secret, f"{ts}.".encode() + body),
            "X-Chatwoot-Timestamp": ts, "X-Chatwoot-Delivery": "5b0c3c2e-delivery"}


def sign_freshdesk(body: bytes, secret: str, age_s: float = 0) -> dict[str, str]:
    return {"X-Omnicopilot-Token": secret}


def twilio_form(**overrides: str) -> bytes:
    fields = {"ToCountry": "US", "SmsMessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "NumMedia": "0",
              "SmsSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "SmsStatus": "received",
              "Body": "Hi, still no refund for order A-10293", "To": "+15017122661", "NumSegments": "1",
              "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "AccountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
              "From": "+14155550134", "ApiVersion": "2010-04-01"}
    fields.update(overrides)
    return urlencode({k: v for k, v in fields.items() if v is not None}).encode()


@dataclass
class Case:
    name: str
    connector: WebhookConnector
    settings: ConnectorSettings
    body: bytes
    sign: Callable[..., dict[str, str]]
    content_type: str = "application/json"
    timestamped: bool = False  # the vendor signs a timestamp: stale requests must be refused
    url: str = "https://copilot.example.com/v1/webhooks/acme/x"
    expect: list[dict[str, Any]] = field(default_factory=list)

    def request(self, body: bytes | None = None, *, secret: str = SECRET, age_s: float = 0,
                content_type: str | None = None, headers: dict[str, str] | None = None) -> WebhookRequest:
        body = self.body if body is None else body
        signed = self.sign(body, secret, age_s) if headers is None else headers
        return make_request(body, headers=signed, content_type=content_type or self.content_type, url=self.url)


CASES = [
    Case("zendesk", ZendeskConnector(), ZendeskSettings(signing_secret=SECRET),
         fixture_bytes("zendesk_comment_added.json"),
         sign_zendesk, timestamped=True,
         expect=[{"external_id": "comment-10414152332414", "direction": "inbound", "author_role": "customer",
                  "thread_id": "ticket-5158", "channel": "email"}]),
    Case("zendesk-trigger", ZendeskConnector(), ZendeskSettings(signing_secret=SECRET),
         fixture_bytes("zendesk_trigger.json"),
         sign_zendesk, timestamped=True,
         expect=[{"external_id": "comment-10414152339999", "direction": "internal", "author_role": "agent",
                  "author_name": "Sam Agent"}]),
    Case("intercom", IntercomConnector(), IntercomSettings(client_secret=SECRET),
         fixture_bytes("intercom_user_replied.json"), sign_intercom,
         expect=[{"external_id": "part-7288", "direction": "inbound", "author_role": "customer", "channel": "chat",
                  "thread_id": "conversation-147"}]),
    Case("intercom-note", IntercomConnector(), IntercomSettings(client_secret=SECRET),
         fixture_bytes("intercom_admin_noted.json"), sign_intercom,
         expect=[{"external_id": "part-7290", "direction": "internal", "author_role": "agent"}]),
    Case("front", FrontConnector(), FrontSettings(signing_key=SECRET), fixture_bytes("front_inbound.json"), sign_front,
         timestamped=True,
         expect=[{"external_id": "msg_1q15qmtq", "direction": "inbound", "channel": "email",
                  "thread_id": "conversation-cnv_55c8c149"}]),
    Case("front-comment", FrontConnector(), FrontSettings(signing_key=SECRET), fixture_bytes("front_comment.json"),
         sign_front, timestamped=True,
         expect=[{"external_id": "com_1ywg3f2", "direction": "internal", "author_role": "agent",
                  "author_name": "Kim Ops"}]),
    Case("twilio-sms", TwilioConnector(), TwilioSettings(auth_token=SECRET), twilio_form(), sign_twilio,
         content_type="application/x-www-form-urlencoded", url=TWILIO_URL,
         expect=[{"external_id": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "channel": "sms", "direction": "inbound"}]),
    Case("twilio-whatsapp", TwilioConnector(), TwilioSettings(auth_token=SECRET),
         twilio_form(From="whatsapp:+14155550134", To="whatsapp:+14155238886", ProfileName="Dana",
                     WaId="14155550134", MessageSid="SMwa01", SmsSid="SMwa01", SmsMessageSid="SMwa01"),
         sign_twilio, content_type="application/x-www-form-urlencoded", url=TWILIO_URL,
         expect=[{"external_id": "SMwa01", "channel": "whatsapp", "author_name": "Dana"}]),
    Case("meta_whatsapp", MetaWhatsAppConnector(), MetaWhatsAppSettings(app_secret=SECRET, verify_token="vt"),
         fixture_bytes("meta_whatsapp_messages.json"), sign_meta,
         expect=[{"channel": "whatsapp", "direction": "inbound", "author_name": "Dana Okonkwo"},
                 {"text": "photo of the empty porch"}]),
    Case("chatwoot", ChatwootConnector(), ChatwootSettings(webhook_secret=SECRET),
         fixture_bytes("chatwoot_incoming.json"), sign_chatwoot, timestamped=True,
         expect=[{"external_id": "message-4821", "direction": "inbound", "channel": "chat",
                  "thread_id": "conversation-154"}]),
    Case("freshdesk", FreshdeskConnector(), FreshdeskSettings(token=SECRET),
         fixture_bytes("freshdesk_conversation.json"),
         sign_freshdesk,
         expect=[{"external_id": "conversation-43009991111", "direction": "inbound", "thread_id": "ticket-812"}]),
]
IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_documented_payload_verifies_and_maps(case: Case) -> None:
    request = case.request()
    case.connector.verify(request, case.settings)
    records = case.connector.parse(request, case.settings)
    assert len(records) == len(case.expect)
    for record, expected in zip(records, case.expect, strict=True):
        InteractionIn.model_validate(record)  # canonical (DESIGN §4)
        assert {k: record[k] for k in expected} == expected
        assert record["source"] == case.connector.name


# Freshdesk webhooks are unsigned: a shared token signs nothing, so its token check is tested instead.
SIGNED = [c for c in CASES if c.name != "freshdesk"]


@pytest.mark.parametrize("case", SIGNED, ids=[c.name for c in SIGNED])
def test_tampered_body_refused(case: Case) -> None:
    headers = case.sign(case.body, SECRET, 0)
    tampered = case.body.replace(b"e", b"E", 1)
    with pytest.raises(SignatureError):
        case.connector.verify(case.request(tampered, headers=headers), case.settings)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_wrong_secret_refused(case: Case) -> None:
    with pytest.raises(SignatureError):
        case.connector.verify(case.request(secret="not-the-secret"), case.settings)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_missing_signature_refused(case: Case) -> None:
    with pytest.raises(SignatureError):
        case.connector.verify(case.request(headers={}), case.settings)


@pytest.mark.parametrize("case", [c for c in CASES if c.timestamped], ids=[c.name for c in CASES if c.timestamped])
def test_stale_timestamp_refused(case: Case) -> None:
    case.connector.verify(case.request(age_s=120), case.settings)  # within the window
    with pytest.raises(SignatureError):
        case.connector.verify(case.request(age_s=400), case.settings)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_malformed_payload_named(case: Case) -> None:
    broken = b"Body=%E0%A4%A&From" if case.content_type.startswith("application/x-www") else b'{"event": '
    request = case.request(broken)
    with pytest.raises(PayloadError) as caught:
        case.connector.parse(request, case.settings)
    assert "malformed" in str(caught.value)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_wrong_content_type(case: Case) -> None:
    with pytest.raises(UnsupportedMediaType):
        case.connector.parse(case.request(content_type="text/plain"), case.settings)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_retry_has_the_same_delivery_id(case: Case) -> None:
    first = case.connector.delivery_id(case.request())
    again = case.connector.delivery_id(case.request(age_s=5))
    assert first == again


# vendor specifics ----------------------------------------------------------------------------------
def test_zendesk_event_customer_is_the_requester() -> None:
    case = CASES[0]
    record = case.connector.parse(case.request(), case.settings)[0]
    assert record["customer"]["external_ids"] == {"zendesk": "8447388090494"}
    assert record["subject"] == "Order A-10293 never arrived"


def test_zendesk_trigger_carries_email_phone_and_attachments() -> None:
    case = CASES[1]
    record = case.connector.parse(case.request(), case.settings)[0]
    assert record["customer"]["email"] == "Dana@Example.com" and record["customer"]["phone"] == "+14155550134"
    assert record["text"] == "Reshipped as order A-10377; refund if it is late again."  # HTML to text
    assert record["metadata"]["attachments"][0] == {
        "name": "label.pdf", "url": "https://acme.zendesk.com/attachments/token/abc/?name=label.pdf", "size": 18231,
        "content_type": "application/pdf"}


def test_zendesk_status_change_is_not_a_message() -> None:
    payload = json.loads(fixture_bytes("zendesk_comment_added.json"))
    payload.update(type="zen:event-type:ticket.status_changed", event={"current": "SOLVED", "previous": "OPEN"})
    body = json.dumps(payload).encode()
    case = CASES[0]
    assert case.connector.parse(case.request(body), case.settings) == []


def test_intercom_attachments_and_identity() -> None:
    case = CASES[2]
    record = case.connector.parse(case.request(), case.settings)[0]
    assert record["customer"] == {"name": "Lee Park", "email": "lee@example.com",
                                  "external_ids": {"intercom": "5f7f0d217289f8d9e2b6a4f3"}}
    assert record["metadata"]["attachments"] == [{"name": "lights.jpg", "url": "https://downloads.intercomcdn.com/i/o/1/lights.jpg",
                                                  "size": 40210, "content_type": "image/jpeg"}]
    assert record["text"] == "I already restarted it twice. Model is RX-500."


def test_intercom_ping_has_no_records() -> None:
    case = CASES[2]
    body = json.dumps({"type": "notification_event", "topic": "ping", "id": "notif_ping",
                       "data": {"item": {}}}).encode()
    assert case.connector.parse(case.request(body), case.settings) == []


def test_front_challenge_handshake() -> None:
    case = CASES[4]
    body = b'{"type": "sync"}'
    request = case.request(body)
    request.headers["x-front-challenge"] = "abc123"  # type: ignore[index]
    assert case.connector.handshake(request, case.settings) == (200, "abc123")
    assert case.connector.parse(request, case.settings) == []


def test_front_customer_and_attachments() -> None:
    case = CASES[4]
    record = case.connector.parse(case.request(), case.settings)[0]
    assert record["customer"]["email"] == "maria@example.com"
    assert record["customer"]["external_ids"] == {"front": "crd_55c8c149"}
    assert record["metadata"]["attachments"][0]["name"] == "statement.pdf"


def test_twilio_behind_a_proxy_uses_public_url() -> None:
    connector, body = TwilioConnector(), twilio_form()
    headers = sign_twilio(body, SECRET, url=TWILIO_URL)
    internal = make_request(body, headers=headers, content_type="application/x-www-form-urlencoded",
                            url="http://10.0.0.7:8000/v1/webhooks/acme/twilio")
    with pytest.raises(SignatureError):
        connector.verify(internal, TwilioSettings(auth_token=SECRET))
    connector.verify(internal, TwilioSettings(auth_token=SECRET, public_url="https://copilot.example.com"))


def test_twilio_query_string_is_signed_too() -> None:
    connector, body = TwilioConnector(), twilio_form()
    url = TWILIO_URL + "?tag=support"
    headers = sign_twilio(body, SECRET, url=url)
    connector.verify(make_request(body, headers=headers, content_type="application/x-www-form-urlencoded", url=url),
                     TwilioSettings(auth_token=SECRET))
    with pytest.raises(SignatureError):
        connector.verify(make_request(body, headers=headers, content_type="application/x-www-form-urlencoded",
                                      url=TWILIO_URL), TwilioSettings(auth_token=SECRET))


def test_twilio_media_and_status_callbacks() -> None:
    connector, settings = TwilioConnector(), TwilioSettings(auth_token=SECRET)
    media = twilio_form(Body="", NumMedia="1", MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC/Media/ME1",
                        MediaContentType0="image/jpeg")
    record = connector.parse(make_request(media, content_type="application/x-www-form-urlencoded"), settings)[0]
    assert record["metadata"]["attachments"] == [{"url": "https://api.twilio.com/2010-04-01/Accounts/AC/Media/ME1",
                                                  "content_type": "image/jpeg"}]
    status = urlencode({"MessageSid": "SM1", "MessageStatus": "delivered", "From": "+15017122661",
                        "To": "+14155550134", "AccountSid": "AC1"}).encode()
    assert connector.parse(make_request(status, content_type="application/x-www-form-urlencoded"), settings) == []


def test_meta_handshake() -> None:
    connector, settings = MetaWhatsAppConnector(), MetaWhatsAppSettings(app_secret=SECRET, verify_token="vt-123")
    good = make_request(b"", method="GET", query={"hub.mode": ["subscribe"], "hub.verify_token": ["vt-123"],
                                                  "hub.challenge": ["1158201444"]})
    assert connector.handshake(good, settings) == (200, "1158201444")
    bad = make_request(b"", method="GET", query={"hub.mode": "subscribe", "hub.verify_token": "nope",
                                                 "hub.challenge": "1158201444"})
    assert connector.handshake(bad, settings)[0] == 403


def test_meta_statuses_are_not_messages() -> None:
    case = next(c for c in CASES if c.name == "meta_whatsapp")
    body = fixture_bytes("meta_whatsapp_statuses.json")
    request = case.request(body)
    case.connector.verify(request, case.settings)
    assert case.connector.parse(request, case.settings) == []


def test_meta_customer_phone_is_e164() -> None:
    case = next(c for c in CASES if c.name == "meta_whatsapp")
    records = case.connector.parse(case.request(), case.settings)
    assert {r["customer"]["phone"] for r in records} == {"+14155550134"}
    assert records[1]["metadata"]["attachments"][0]["content_type"] == "image/jpeg"


@pytest.mark.parametrize(("message_type", "private", "sender_type", "direction", "role"), [
    ("incoming", False, "contact", "inbound", "customer"),
    ("outgoing", False, "user", "outbound", "agent"),
    ("outgoing", False, "agent_bot", "outbound", "bot"),
    ("outgoing", True, "user", "internal", "agent"),
])
def test_chatwoot_message_types(message_type: str, private: bool, sender_type: str, direction: str,
                                 role: str) -> None:
    case = next(c for c in CASES if c.name == "chatwoot")
    payload = json.loads(case.body)
    payload.update(message_type=message_type, private=private,
                   sender={"id": 9, "name": "Someone", "type": sender_type})
    record = case.connector.parse(case.request(json.dumps(payload).encode()), case.settings)[0]
    assert (record["direction"], record["author_role"]) == (direction, role)
    assert record["customer"]["email"] == "noor@example.com"  # the contact, whoever wrote


def test_chatwoot_activity_is_ignored_and_delivery_header_dedupes() -> None:
    case = next(c for c in CASES if c.name == "chatwoot")
    payload = json.loads(case.body)
    payload.update(message_type="activity", content="Conversation was marked resolved by Sam")
    assert case.connector.parse(case.request(json.dumps(payload).encode()), case.settings) == []
    assert case.connector.delivery_id(case.request()) == "chatwoot:5b0c3c2e-delivery"


def test_freshdesk_basic_auth_password() -> None:
    case = next(c for c in CASES if c.name == "freshdesk")
    basic = base64.b64encode(f"freshdesk:{SECRET}".encode()).decode()
    case.connector.verify(case.request(headers={"Authorization": f"Basic {basic}"}), case.settings)
    wrong = base64.b64encode(b"freshdesk:guess").decode()
    with pytest.raises(SignatureError):
        case.connector.verify(case.request(headers={"Authorization": f"Basic {wrong}"}), case.settings)


def test_freshdesk_private_note_and_bare_ticket() -> None:
    case = next(c for c in CASES if c.name == "freshdesk")
    payload = json.loads(case.body)
    payload["conversation"].update(private=True, incoming=False, id=43009992222)
    note = case.connector.parse(case.request(json.dumps(payload).encode()), case.settings)[0]
    assert note["direction"] == "internal"
    ticket_only = {"ticket": {**payload["ticket"], "description_text": "Locked out since Monday",
                              "created_at": "2026-11-01T09:00:00Z"}}
    record = case.connector.parse(case.request(json.dumps(ticket_only).encode()), case.settings)[0]
    assert record["external_id"] == "ticket-812" and record["direction"] == "inbound"
    InteractionIn.model_validate(record)
