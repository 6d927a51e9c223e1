"""Vendor webhooks end to end through the HTTP app: 202 then ingested, 401 with nothing stored, retries once."""
from __future__ import annotations

import json

from tests.connectors.conftest import Hook, fixture_bytes
from tests.connectors.test_vendor_webhooks import (
    SECRET,
    sign_chatwoot,
    sign_front,
    sign_meta,
    sign_twilio,
    sign_zendesk,
    twilio_form,
)

FORM = "application/x-www-form-urlencoded"


def test_twilio_sms_and_whatsapp_over_http(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("twilio", auth_token=SECRET)
    sms = twilio_form()
    resp = hook.post(sms, {**sign_twilio(sms, SECRET, url=hook.url), "Content-Type": FORM})
    assert resp.status_code == 202, resp.text
    whatsapp = twilio_form(From="whatsapp:+14155550134", MessageSid="SMwa77", SmsSid="SMwa77",
                           Body="Same issue, writing on WhatsApp now")
    assert hook.post(whatsapp, {**sign_twilio(whatsapp, SECRET, url=hook.url), "Content-Type": FORM}
                     ).status_code == 202
    items = hook.wait_timeline("phone:+14155550134", 2)
    assert {i["channel"] for i in items} == {"sms", "whatsapp"}  # one customer across both channels


def test_twilio_forged_request_is_401_and_stores_nothing(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("twilio", auth_token=SECRET)
    body = twilio_form()
    resp = hook.post(body, {**sign_twilio(body, "guess", url=hook.url), "Content-Type": FORM})
    assert resp.status_code == 401
    resp = hook.post(b"Body=%E0%A4%A&From", {**sign_twilio(b"Body=x", SECRET, url=hook.url), "Content-Type": FORM})
    assert resp.status_code == 401  # unparseable form data cannot carry a valid signature either
    assert hook.deliveries() == []


VERIFY_TOKEN = "vt-42-meta-verify-token-9d1c7b3e"  # 32+ characters: shorter ones are refused


def test_meta_handshake_and_messages_over_http(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("meta_whatsapp", app_secret=SECRET, verify_token=VERIFY_TOKEN)
    ok = hook.client.get(hook.path, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                            "hub.challenge": "987654"})
    assert (ok.status_code, ok.text) == (200, "987654")
    bad = hook.client.get(hook.path, params={"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "1"})
    assert bad.status_code == 403
    body = fixture_bytes("meta_whatsapp_messages.json")
    headers = {**sign_meta(body, SECRET), "Content-Type": "application/json"}
    assert hook.post(body, headers).status_code == 202
    assert hook.post(body, headers).json()["status"] == "duplicate"  # Meta retries the same delivery
    statuses = fixture_bytes("meta_whatsapp_statuses.json")
    assert hook.post(statuses, {**sign_meta(statuses, SECRET), "Content-Type": "application/json"}).status_code == 202
    items = hook.wait_timeline("phone:+14155550134", 2)
    hook.process()
    assert len(hook.timeline("phone:+14155550134")) == 2 == len(items)


def test_chatwoot_over_http_and_stale_timestamp(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("chatwoot", webhook_secret=SECRET)
    body = fixture_bytes("chatwoot_incoming.json")
    stale = hook.post(body, {**sign_chatwoot(body, SECRET, 900), "Content-Type": "application/json"})
    assert stale.status_code == 401 and hook.deliveries() == []
    assert hook.post(body, {**sign_chatwoot(body, SECRET), "Content-Type": "application/json"}).status_code == 202
    items = hook.wait_timeline("email:noor@example.com", 1)
    assert items[0]["external_id"] == "message-4821"
    # Identifiers arriving together link: the same customer by phone.
    assert hook.api.resolve("acme", "phone:+447700900123")["customer_id"] == \
        hook.api.resolve("acme", "email:noor@example.com")["customer_id"]


def test_zendesk_over_http_bad_payload_is_400(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("zendesk", signing_secret=SECRET)
    body = json.dumps({"something": "else"}).encode()
    resp = hook.post(body, {**sign_zendesk(body, SECRET), "Content-Type": "application/json"})
    assert resp.status_code == 400 and "zen:event-type" in resp.json()["error"]["message"]
    body = fixture_bytes("zendesk_trigger.json")
    assert hook.post(body, {**sign_zendesk(body, SECRET), "Content-Type": "application/json"}).status_code == 202
    items = hook.wait_timeline("email:dana@example.com", 1)
    assert items[0]["direction"] == "internal"


def test_connector_settings_are_masked(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("freshdesk")
    saved = hook.configure(token="very-secret-token-5e0a8d2c7f1b4936", domain="acme.freshdesk.com")
    assert saved["settings"] == {"token": "********", "domain": "acme.freshdesk.com"}
    listing = hook.client.get("/v1/connectors", headers=hook.api.auth("acme", "admin")).json()["connectors"]
    names = {c["name"]: c for c in listing}
    assert {"generic", "zendesk", "intercom", "front", "twilio", "meta_whatsapp", "chatwoot", "freshdesk",
            "imap", "eml", "mbox", "csv", "chat_transcripts", "call_transcripts"} <= set(names)
    assert names["freshdesk"]["webhook_url"] == "/v1/webhooks/acme/freshdesk"
    assert "very-secret-token-5e0a8d2c7f1b4936" not in json.dumps(listing)


def test_front_webhook_creation_challenge_is_echoed_only_when_signed(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("front", signing_key=SECRET)
    body = json.dumps({"type": "sync"}).encode()
    headers = {**sign_front(body, SECRET), "Content-Type": "application/json", "X-Front-Challenge": "ch-31"}
    answer = hook.post(body, headers)
    assert (answer.status_code, answer.text) == (200, "ch-31")
    forged = hook.post(body, {**sign_front(body, "guess"), "Content-Type": "application/json",
                              "X-Front-Challenge": "ch-31"})
    assert forged.status_code == 401
    assert hook.deliveries() == []
