"""Helpers shared by the connectors: signatures, timestamps, body decoding, HTML to text, attachments.

Everything here is pure (no I/O) so the connectors stay pure parsers.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl

from pydantic import SecretStr, ValidationInfo, field_validator

from copilot.integrations.base import (
    ConnectorSettings,
    PayloadError,
    SignatureError,
    UnsupportedMediaType,
    WebhookRequest,
)

RAW_METADATA_CHARS = 4000  # raw text kept in metadata; enough to audit the stripping, small enough to store


# secrets and signatures ------------------------------------------------------------------------
def secret_value(value: SecretStr | str | None, *, field: str) -> str:
    """The secret's text; a connector without its secret cannot verify anyone."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else (value or "")
    if not text:
        raise SignatureError(f"{field} is not configured for this connector")
    return text


def hmac_digest(secret: str, message: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(secret.encode(), message, getattr(hashlib, algorithm)).digest()


def hmac_hex(secret: str, message: bytes, algorithm: str = "sha256") -> str:
    return hmac_digest(secret, message, algorithm).hex()


def hmac_b64(secret: str, message: bytes, algorithm: str = "sha256") -> str:
    return base64.b64encode(hmac_digest(secret, message, algorithm)).decode()


def same(expected: str, given: str) -> bool:
    """Constant-time comparison of two texts (so timing tells an attacker nothing)."""
    return hmac.compare_digest(expected.encode(), given.encode())


def require_header(request: WebhookRequest, name: str) -> str:
    value = (request.header(name) or "").strip()
    if not value:
        raise SignatureError(f"missing {name} header")
    return value


def prefixed_hex(header_value: str, prefix: str, *, header: str) -> str:
    """The hex after `sha256=` (or another prefix); lower-cased so case does not matter."""
    if not header_value.lower().startswith(prefix):
        raise SignatureError(f"{header} must look like {prefix}<hex>")
    return header_value[len(prefix):].strip().lower()


def received_seconds(request: WebhookRequest) -> float:
    """When the request arrived, as unix seconds (the hub hands a float or a datetime)."""
    received: Any = request.received_at
    if isinstance(received, datetime):
        return (received if received.tzinfo else received.replace(tzinfo=UTC)).timestamp()
    if isinstance(received, int | float):
        return float(received)
    return datetime.now(UTC).timestamp()


def check_fresh(timestamp: str, request: WebhookRequest, *, window_s: float, header: str,
                milliseconds: bool = False) -> float:
    """Refuse a timestamp more than `window_s` away from when the request arrived (replays)."""
    try:
        seconds = float(timestamp)
    except ValueError:
        raise SignatureError(f"{header} must be unix {'milliseconds' if milliseconds else 'seconds'}") from None
    if milliseconds:
        seconds /= 1000.0
    if abs(received_seconds(request) - seconds) > window_s:
        raise SignatureError(f"{header} is more than {int(window_s)} s away from the server's clock")
    return seconds


# bodies ----------------------------------------------------------------------------------------
def is_json_type(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def json_body(request: WebhookRequest, *, allow_missing_type: bool = False) -> Any:
    """The JSON body; 415 for another content type, 400 naming the problem for broken JSON."""
    content_type = request.content_type
    if not (is_json_type(content_type) or (allow_missing_type and not content_type)):
        raise UnsupportedMediaType(f"content type must be application/json, got {content_type or 'none'}")
    try:
        return json.loads(request.body.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadError("body: not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise PayloadError(f"body: malformed JSON ({err.msg} at line {err.lineno} column {err.colno})") from None


def json_object(request: WebhookRequest, **kwargs: Any) -> dict[str, Any]:
    payload = json_body(request, **kwargs)
    if not isinstance(payload, dict):
        raise PayloadError("body: must be a JSON object")
    return payload


def form_body(request: WebhookRequest) -> dict[str, str]:
    """A form-encoded body as name -> value (the last value wins, as Twilio sends each name once)."""
    if request.content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("content type must be application/x-www-form-urlencoded, "
                                   f"got {request.content_type or 'none'}")
    return dict(form_pairs(request.body))


def form_pairs(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("body: form data is not UTF-8") from None
    if not text.strip():
        raise PayloadError("body: empty form data")
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError as err:
        raise PayloadError(f"body: malformed form data ({err})") from None


def dig(data: Any, *path: str | int) -> Any:
    """data[a][b]... or None when any step is missing (vendor payloads omit fields freely)."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(data, list) or not -len(data) <= step < len(data):
                return None
        elif not isinstance(data, Mapping):
            return None
        data = data[step] if isinstance(step, int) else data.get(step)
        if data is None:
            return None
    return data


# values ----------------------------------------------------------------------------------------
def iso_time(value: Any, *, where: str = "timestamp") -> str:
    """ISO 8601 (UTC, Z) from unix seconds, unix milliseconds or ISO text."""
    if value is None or value == "":
        raise PayloadError(f"{where}: required")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool) or (
            isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip())):
        number = float(value)
        moment = datetime.fromtimestamp(number / 1000.0 if number > 1e11 else number, UTC)
    elif isinstance(value, str):
        text = value.strip().replace(" UTC", "Z")
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise PayloadError(f"{where}: not a date-time: {value!r}") from None
    else:
        raise PayloadError(f"{where}: not a date-time: {value!r}")
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def text_id(value: Any) -> str | None:
    """Vendor ids arrive as numbers or text; identifiers are text."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    return str(value)


def compact(data: Mapping[str, Any]) -> dict[str, Any]:
    """Drop empty values so records carry only what the vendor sent."""
    return {k: v for k, v in data.items() if v not in (None, "", {}, [])}


def customer_block(*, name: Any = None, email: Any = None, phone: Any = None,
                   handles: Mapping[str, Any] | None = None,
                   external_ids: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return compact({
        "name": str(name).strip() if name else None,
        "email": str(email).strip() if email else None,
        "phone": str(phone).strip() if phone else None,
        "handles": compact({k: str(v) for k, v in (handles or {}).items() if v}),
        "external_ids": compact({k: text_id(v) for k, v in (external_ids or {}).items()}),
    })


def has_identifier(customer: Mapping[str, Any]) -> bool:
    return bool(customer.get("email") or customer.get("phone") or customer.get("handles")
                or customer.get("external_ids"))


ATTACHMENT_KEYS = {
    "name": ("name", "file_name", "filename", "fileName", "title"),
    "url": ("url", "content_url", "data_url", "attachment_url", "download_url", "link"),
    "size": ("size", "file_size", "filesize", "bytes"),
    "content_type": ("content_type", "mime_type", "file_type", "contentType", "type"),
}


def attachment_meta(items: Iterable[Any] | None) -> list[dict[str, Any]]:
    """Attachments as metadata only (names, urls, sizes, types): the files themselves are not fetched."""
    out = []
    for item in items or []:
        if not isinstance(item, Mapping):
            continue
        entry = {}
        for field, keys in ATTACHMENT_KEYS.items():
            entry[field] = next((item[k] for k in keys if item.get(k) not in (None, "")), None)
        if entry["content_type"] == "upload":  # Intercom's object type, not a MIME type
            entry["content_type"] = None
        out.append(compact(entry))
    return [e for e in out if e]


def truncate(text: str, limit: int = RAW_METADATA_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# HTML ------------------------------------------------------------------------------------------
class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "hr"}
    SKIP = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML message body (paragraphs and line breaks kept)."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return html.strip()
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# quoted replies and signatures -----------------------------------------------------------------
_QUOTE_HEADERS = [
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Le\b.{0,300}\ba écrit\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Am\b.{0,300}\bschrieb\b.{0,100}:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Forwarded message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*From:\s.+$"),  # Outlook puts the quoted headers inline ("From: ... Sent: ...")
    re.compile(r"^_{10,}\s*$"),  # Outlook's separator line
]


def strip_quoted_reply(text: str) -> tuple[str, bool]:
    """The new part of a reply: quoted history ("On ... wrote:", ">" lines) and the signature ("-- ") cut.

    Returns the text and whether anything was cut. When cutting would leave nothing, the original stays.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.rstrip() in ("--", "-- "):  # RFC 3676 signature separator
            break
        # "On Tue, ... <x@y>\nwrote:" is often wrapped over two lines
        joined = line + " " + lines[index + 1] if index + 1 < len(lines) else line
        if any(p.match(line) for p in _QUOTE_HEADERS) or (
                _QUOTE_HEADERS[0].match(joined) and line.lstrip().lower().startswith("on ")):
            # "From:" alone is only a quote header when followed by the other Outlook headers
            if line.lstrip().startswith("From:") and not any(
                    n.lstrip().startswith(("Sent:", "Date:", "To:", "Subject:")) for n in lines[index + 1:index + 4]):
                kept.append(line)
                index += 1
                continue
            break
        if line.lstrip().startswith(">"):
            index += 1
            continue
        kept.append(line)
        index += 1
    result = "\n".join(kept).strip()
    result = re.sub(r"\n{3,}", "\n\n", result)
    if not result:
        return text.strip(), False
    return result, result != text.strip()


def item_error(message: str, *, line: int | None = None) -> PayloadError:
    """A per-item import error; `line` (when the format has lines) is what the CLI reports."""
    err = PayloadError(f"line {line}: {message}" if line is not None else message)
    err.line = line  # type: ignore[attr-defined]  # read by copilot.integrations.imports
    return err


def option_list(options: Mapping[str, Any], key: str) -> list[str]:
    """A comma-separated option (`company_domains=acme.example,acme.io`) as a clean lower-case list."""
    raw = options.get(key) or ""
    values = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return [str(v).strip().lower() for v in values if str(v).strip()]


def parse_moment(value: str, *, header: str) -> float:
    """Unix seconds from a header that holds either unix seconds or ISO 8601 (vendors differ)."""
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SignatureError(f"{header} is not a timestamp") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def check_fresh_moment(value: str, request: WebhookRequest, *, window_s: float, header: str) -> None:
    if abs(received_seconds(request) - parse_moment(value, header=header)) > window_s:
        raise SignatureError(f"{header} is more than {int(window_s)} s away from the server's clock")


def body_json_or_none(request: WebhookRequest) -> Any:
    """The JSON body for delivery ids (never raises: a bad body is reported by parse)."""
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None


def query_value(request: WebhookRequest, name: str) -> str | None:
    """A query parameter; the hub hands values as text or as lists of text."""
    value = request.query.get(name)
    if isinstance(value, list | tuple):
        return str(value[0]) if value else None
    return None if value is None else str(value)


class TextSettings(ConnectorSettings):
    """Connector settings that accept what a command line produces: `token=123456` arrives as a number
    (the CLI reads values as JSON) and `company_domains=a.example,b.example` as one text."""

    @field_validator("*", mode="before")
    @classmethod
    def text_from_cli(cls, value: Any, info: ValidationInfo) -> Any:
        annotation = str(cls.model_fields[info.field_name].annotation) if info.field_name else ""
        if isinstance(value, int | float) and not isinstance(value, bool) and (
                "str" in annotation or "SecretStr" in annotation) and "int" not in annotation:
            return str(value)
        if isinstance(value, str) and annotation.startswith("list["):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
