"""Twilio Messaging webhooks: inbound SMS and WhatsApp (form-encoded).

Verification (Twilio "Webhooks security", DESIGN §6): `X-Twilio-Signature` is base64(HMAC-SHA1(auth_token,
full URL + each POST parameter name followed by its value, sorted by name)). Behind a proxy the URL the
service sees differs from the one Twilio called: set `public_url` to the public base (scheme and host, e.g.
`https://copilot.example.com`) and the path and query of the request are appended to it.

`From: whatsapp:+1...` marks a WhatsApp message. Status callbacks (no Body, no media) are not messages.
"""
from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr

from connectors._common import (
    TextSettings,
    compact,
    form_body,
    form_pairs,
    hmac_b64,
    iso_time,
    received_seconds,
    require_header,
    same,
    secret_value,
)
from copilot.integrations.base import (
    ConnectorSettings,
    PayloadError,
    SignatureError,
    WebhookConnector,
    WebhookRequest,
)

SIGNATURE_HEADER = "X-Twilio-Signature"
DEFAULT_PORTS = {"https": 443, "http": 80}


class TwilioSettings(TextSettings):
    auth_token: SecretStr = Field(description="The account's Auth Token (Console > Account info).")
    public_url: str | None = Field(None, description="Public base URL Twilio calls, when behind a proxy "
                                                     "(e.g. https://copilot.example.com).")
    account_sid: str | None = Field(None, description="Optional: refuse messages for another AccountSid.")


def signed_url(request: WebhookRequest, settings: TwilioSettings) -> str:
    if not settings.public_url:
        return request.url
    public = urlsplit(settings.public_url.strip())
    seen = urlsplit(request.url)
    path = seen.path
    if public.path.rstrip("/") and not path.startswith(public.path.rstrip("/")):
        path = public.path.rstrip("/") + path  # a proxy that strips a path prefix
    return urlunsplit((public.scheme, public.netloc, path, seen.query, ""))


def url_variants(url: str) -> list[str]:
    """The URL as given, and with the default port added or removed (Twilio signs what it called)."""
    parts = urlsplit(url)
    variants = [url]
    default = DEFAULT_PORTS.get(parts.scheme)
    if parts.port is not None and parts.port == default:
        variants.append(urlunsplit((parts.scheme, parts.hostname or "", parts.path, parts.query, parts.fragment)))
    elif parts.port is None and default:
        variants.append(urlunsplit((parts.scheme, f"{parts.hostname}:{default}", parts.path, parts.query,
                                    parts.fragment)))
    return variants


def twilio_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    data = url + "".join(name + value for name, value in sorted(params, key=lambda p: p[0]))
    return hmac_b64(auth_token, data.encode(), "sha1")


def address(value: str) -> tuple[str, str]:
    """(channel, phone) from a Twilio address: `whatsapp:+1415...` or `+1415...`."""
    if value.lower().startswith("whatsapp:"):
        return "whatsapp", value.split(":", 1)[1]
    return "sms", value


class TwilioConnector(WebhookConnector):
    name: ClassVar[str] = "twilio"
    title: ClassVar[str] = "Twilio SMS and WhatsApp"
    settings_model: ClassVar[type[ConnectorSettings]] = TwilioSettings

    def verify(self, request: WebhookRequest, settings: ConnectorSettings) -> None:
        assert isinstance(settings, TwilioSettings)
        token = secret_value(settings.auth_token, field="auth_token")
        signature = require_header(request, SIGNATURE_HEADER)
        try:
            params = form_pairs(request.body) if request.content_type == "application/x-www-form-urlencoded" else []
        except PayloadError:
            params = []  # the signature check fails and the caller gets a 401, as for any forged request
        url = signed_url(request, settings)
        if not any(same(twilio_signature(token, candidate, params), signature) for candidate in url_variants(url)):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the URL and parameters")

    def delivery_id(self, request: WebhookRequest) -> str | None:
        try:
            fields = dict(form_pairs(request.body))
        except PayloadError:
            return None
        sid = fields.get("MessageSid") or fields.get("SmsSid")
        status = fields.get("MessageStatus") or fields.get("SmsStatus") or ""
        # A message and its status callbacks share the MessageSid: keep them apart.
        return f"twilio:{sid}:{status}" if sid else None

    def parse(self, request: WebhookRequest, settings: ConnectorSettings) -> list[dict[str, Any]]:
        assert isinstance(settings, TwilioSettings)
        fields = form_body(request)
        sid = fields.get("MessageSid") or fields.get("SmsSid")
        if not sid:
            raise PayloadError("MessageSid: required (a Twilio messaging webhook)")
        if settings.account_sid and fields.get("AccountSid") not in (None, settings.account_sid):
            raise PayloadError("AccountSid: not this tenant's Twilio account")
        sender = fields.get("From") or ""
        if not sender:
            raise PayloadError("From: required")
        body = (fields.get("Body") or "").strip()
        try:
            media_count = int(fields.get("NumMedia") or 0)
        except ValueError:
            raise PayloadError("NumMedia: must be a number") from None
        media = [compact({"url": fields.get(f"MediaUrl{i}"), "content_type": fields.get(f"MediaContentType{i}")})
                 for i in range(media_count)]
        if not body and not media:
            return []  # a status callback (sent, delivered, read...), not a customer message
        channel, phone = address(sender)
        if not body:
            body = "[" + ", ".join(m.get("content_type", "media") for m in media) + "]"
        customer = compact({"name": fields.get("ProfileName") or None, "phone": phone})
        return [{"source": "twilio", "external_id": sid, "channel": channel, "direction": "inbound",
                 "author_role": "customer", "author_name": fields.get("ProfileName") or None, "customer": customer,
                 "thread_id": f"{channel}:{phone}:{address(fields.get('To') or '')[1]}", "text": body,
                 "occurred_at": received_iso(request),
                 "metadata": compact({"to": fields.get("To"), "account_sid": fields.get("AccountSid"),
                                      "messaging_service_sid": fields.get("MessagingServiceSid"),
                                      "from_city": fields.get("FromCity"), "from_country": fields.get("FromCountry"),
                                      "attachments": media})}]


def received_iso(request: WebhookRequest) -> str:
    """Twilio's inbound webhook has no timestamp field: the moment it reached us is the best there is."""
    return iso_time(received_seconds(request))
