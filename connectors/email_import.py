"""Email files: single messages (`.eml`, format `eml`) and mailboxes (format `mbox`).

Each message becomes one email interaction:
- text from the text/plain part, or from the HTML part when there is none; quoted history ("On ... wrote:",
  ">" lines, Outlook headers) and the signature ("-- ") are cut from `text`, the raw body is kept
  (truncated) in `metadata.raw_text`;
- any declared charset (iso-8859-1, windows-1252, ...) is decoded; an unknown one falls back to Latin-1;
- `thread_id` is the root of References, else In-Reply-To, else the message's own Message-ID;
- the customer is the party outside the company: options `company_domains=acme.example,acme.io` and
  `company_addresses=help@partner.example` say who the company is (a message from the company is
  outbound, to the first non-company recipient); without them every sender is a customer;
- attachments are metadata only (name, type, size).

Options: company_domains, company_addresses, source (default "email").
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any, ClassVar

from connectors._common import (
    compact,
    html_to_text,
    iso_time,
    item_error,
    option_list,
    strip_quoted_reply,
    truncate,
)
from copilot.integrations.base import FileImporter, PayloadError

MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
MBOX_SEPARATOR = re.compile(rb"^From [^\r\n]*\r?\n", re.MULTILINE)


def message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    found = MESSAGE_ID.findall(str(value))
    return found or [v for v in str(value).split() if "@" in v]


def part_text(part: EmailMessage) -> str:
    """A text part's content, whatever its charset says (unknown or wrong charsets must not lose the mail)."""
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeDecodeError, AssertionError, KeyError):
        pass
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8", "cp1252", "latin-1"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1", errors="replace")


def body_text(message: EmailMessage) -> tuple[str, str]:
    """(plain text, which part it came from: plain | html | none)."""
    plain = message.get_body(preferencelist=("plain",))
    if plain is not None:
        text = part_text(plain)  # type: ignore[arg-type]
        if text.strip():
            return text, "plain"
    html = message.get_body(preferencelist=("html",))
    if html is not None:
        return html_to_text(part_text(html)), "html"  # type: ignore[arg-type]
    if message.get_content_maintype() == "text":
        return part_text(message), "plain"
    return "", "none"


def attachments_of(message: EmailMessage) -> list[dict[str, Any]]:
    out = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        out.append(compact({"name": part.get_filename(), "content_type": part.get_content_type(),
                            "size": len(payload) if isinstance(payload, bytes) else None,
                            "content_id": (part.get("Content-ID") or "").strip("<>") or None}))
    return out


def header_text(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name) or "").strip()
    except (ValueError, LookupError, IndexError):  # a malformed header must not lose the message
        raw = message.get_all(name, [])
        return str(raw[0]).strip() if raw else ""


def addresses(message: EmailMessage, *names: str) -> list[tuple[str, str]]:
    values = [header_text(message, n) for n in names]
    return [(n.strip(), a.strip().lower()) for n, a in getaddresses([v for v in values if v]) if "@" in a]


class Company:
    def __init__(self, options: Mapping[str, Any]) -> None:
        self.domains = option_list(options, "company_domains")
        self.addresses = option_list(options, "company_addresses")

    @property
    def known(self) -> bool:
        return bool(self.domains or self.addresses)

    def owns(self, address: str) -> bool:
        domain = address.rpartition("@")[2]
        return address in self.addresses or any(domain == d or domain.endswith("." + d) for d in self.domains)


def email_record(raw: bytes, *, options: Mapping[str, Any], fallback_id: str | None = None,
                 extra_metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One canonical email interaction from one raw RFC 5322 message; PayloadError naming what is missing."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(message, EmailMessage):
        raise PayloadError("not an email message")
    company = Company(options)
    senders = addresses(message, "From")
    if not senders:
        raise PayloadError("From: no sender address")
    sender_name, sender = senders[0]
    recipients = addresses(message, "To", "Cc")
    if company.known and company.owns(sender):
        outsiders = [(n, a) for n, a in recipients if not company.owns(a)]
        if not outsiders:
            direction = "internal"  # among colleagues: an internal note about the thread
            customer_name, customer_address = "", ""
        else:
            direction = "outbound"
            customer_name, customer_address = outsiders[0]
    else:
        direction = "inbound"
        customer_name, customer_address = sender_name, sender
    if not customer_address:
        raise PayloadError("To: a message among company addresses only has no customer")
    date_header = header_text(message, "Date")
    if not date_header:
        raise PayloadError("Date: missing")
    try:
        occurred_at = iso_time(parsedate_to_datetime(date_header), where="Date")
    except (TypeError, ValueError, IndexError):
        raise PayloadError(f"Date: not a date: {date_header!r}") from None
    raw_text, origin = body_text(message)
    text, stripped = strip_quoted_reply(raw_text)
    attachments = attachments_of(message)
    if not text:
        if not attachments:
            raise PayloadError("body: no text")
        text = "[attachments: " + ", ".join(a.get("name") or a.get("content_type", "file") for a in attachments) + "]"
    own_ids = message_ids(header_text(message, "Message-ID"))
    references = message_ids(header_text(message, "References"))
    in_reply_to = message_ids(header_text(message, "In-Reply-To"))
    external_id = own_ids[0] if own_ids else fallback_id or "sha256:" + hashlib.sha256(raw).hexdigest()
    thread_root = (references or in_reply_to or [external_id])[0]
    metadata = compact({"message_id": own_ids[0] if own_ids else None, "in_reply_to": in_reply_to[0]
                        if in_reply_to else None, "references": references,
                        "from": sender, "to": [a for _, a in addresses(message, "To")],
                        "cc": [a for _, a in addresses(message, "Cc")], "body_source": origin,
                        "quoted_stripped": stripped or None,
                        "raw_text": truncate(raw_text.strip()) if stripped else None,
                        "attachments": attachments, **(extra_metadata or {})})
    return {"source": str(options.get("source") or "email"), "external_id": external_id, "channel": "email",
            "direction": direction, "author_role": "customer" if direction == "inbound" else "agent",
            "author_name": sender_name or None,
            "customer": compact({"name": customer_name or None, "email": customer_address}),
            "thread_id": thread_root, "subject": header_text(message, "Subject") or None, "text": text,
            "occurred_at": occurred_at, "metadata": metadata}


def split_mbox(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number, raw message) for each message of an mbox (mboxo/mboxrd "From " separators)."""
    starts = [m for m in MBOX_SEPARATOR.finditer(data) if m.start() == 0 or data[m.start() - 1:m.start()] == b"\n"]
    if not starts:
        if data.strip():
            yield 1, data
        return
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(data)
        chunk = data[match.end():end]
        # mboxrd escapes body lines starting with "From " as ">From "; undo one level.
        chunk = re.sub(rb"(?m)^>(>*From )", rb"\1", chunk)
        yield data.count(b"\n", 0, match.start()) + 1, chunk


class EmlImporter(FileImporter):
    name: ClassVar[str] = "eml"
    title: ClassVar[str] = "Email message files (.eml)"
    formats: ClassVar[tuple[str, ...]] = ("eml",)

    def parse_file(self, data: bytes, *, filename: str, options: Mapping[str, str]
                   ) -> Iterator[dict[str, Any] | PayloadError]:
        if data.startswith(b"From "):  # an mbox envelope line some tools leave on single messages
            data = data.split(b"\n", 1)[1] if b"\n" in data else b""
        try:
            yield email_record(data, options=options)
        except PayloadError as err:
            yield item_error(f"{filename}: {err}")


class MboxImporter(FileImporter):
    name: ClassVar[str] = "mbox"
    title: ClassVar[str] = "Mailbox files (mbox)"
    formats: ClassVar[tuple[str, ...]] = ("mbox",)

    def parse_file(self, data: bytes, *, filename: str, options: Mapping[str, str]
                   ) -> Iterator[dict[str, Any] | PayloadError]:
        for line, raw in split_mbox(data):
            try:
                yield email_record(raw, options=options)
            except PayloadError as err:
                yield item_error(str(err), line=line)
