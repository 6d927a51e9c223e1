"""Identifier normalisation and the `KIND:VALUE` notation (DESIGN §5, contract).

Kinds: `email`, `phone` (E.164), a handle network such as `twitter` (lower-case, no `@`), and
`ext:<source>` for a source system's own customer id.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import phonenumbers

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NETWORK_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,49}$")
SOURCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
RESERVED_KINDS = frozenset({"email", "phone", "ext"})


class IdentityError(ValueError):
    """An identifier that cannot be normalised; the message names what is wrong."""


@dataclass(frozen=True, order=True)
class IdentityRef:
    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


MAX_IDENTITY_CHARS = 400


def normalise_email(raw: str) -> str:
    value = raw.strip().lower()
    if not EMAIL_RE.match(value):
        raise IdentityError(f"not an email address: {raw!r}")
    return value


def normalise_phone(raw: str, *, region: str) -> str:
    text = raw.strip()
    for prefix in ("tel:", "whatsapp:", "sms:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException as err:
        raise IdentityError(f"not a phone number: {raw!r}") from err
    if not phonenumbers.is_possible_number(number):
        raise IdentityError(f"not a possible phone number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_handle(network: str, raw: str) -> IdentityRef:
    kind = network.strip().lower()
    if not NETWORK_RE.match(kind) or kind in RESERVED_KINDS:
        raise IdentityError(f"not a handle network name: {network!r}")
    value = raw.strip().lstrip("@").lower()
    if not value or any(ch.isspace() for ch in value):
        raise IdentityError(f"not a {kind} handle: {raw!r}")
    return IdentityRef(kind, value)


def normalise_external(source: str, raw: str) -> IdentityRef:
    src = source.strip()
    if not SOURCE_RE.match(src):
        raise IdentityError(f"not a source name: {source!r}")
    value = str(raw).strip()
    if not value:
        raise IdentityError(f"empty external id for {src}")
    return IdentityRef(f"ext:{src.lower()}", value)


def parse_identity(text: str, *, region: str) -> IdentityRef:
    """Parse `email:x`, `phone:+1...`, `twitter:danaw`, `ext:zendesk:39281` into a normalised ref."""
    if len(text) > MAX_IDENTITY_CHARS:
        raise IdentityError(f"identity: at most {MAX_IDENTITY_CHARS} characters")
    kind, sep, rest = text.strip().partition(":")
    if not sep or not rest.strip():
        raise IdentityError("identity must be written KIND:VALUE, e.g. email:dana@example.com")
    kind = kind.lower()
    if kind == "email":
        return IdentityRef("email", normalise_email(rest))
    if kind == "phone":
        return IdentityRef("phone", normalise_phone(rest, region=region))
    if kind == "ext":
        source, sep, value = rest.partition(":")
        if not sep:
            raise IdentityError("external ids are written ext:SOURCE:ID, e.g. ext:zendesk:39281")
        return normalise_external(source, value)
    return normalise_handle(kind, rest)


def identities_from_block(block: dict[str, Any], *, region: str) -> list[IdentityRef]:
    """All identifiers of one interaction's `customer` block; raises naming the bad field."""
    refs: list[IdentityRef] = []
    if block.get("email"):
        try:
            refs.append(IdentityRef("email", normalise_email(block["email"])))
        except IdentityError as err:
            raise IdentityError(f"customer.email: {err}") from None
    if block.get("phone"):
        try:
            refs.append(IdentityRef("phone", normalise_phone(block["phone"], region=region)))
        except IdentityError as err:
            raise IdentityError(f"customer.phone: {err}") from None
    for network, handle in (block.get("handles") or {}).items():
        try:
            refs.append(normalise_handle(network, handle))
        except IdentityError as err:
            raise IdentityError(f"customer.handles.{network}: {err}") from None
    for source, ext in (block.get("external_ids") or {}).items():
        try:
            refs.append(normalise_external(source, ext))
        except IdentityError as err:
            raise IdentityError(f"customer.external_ids.{source}: {err}") from None
    return sorted(set(refs))
