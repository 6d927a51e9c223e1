"""IMAP mailbox polling (pull): new messages since the last run become email interactions.

The cursor is "UIDVALIDITY:UID" (RFC 3501): messages with a UID above the stored one are fetched, with
BODY.PEEK[] so they stay unread for the people using the mailbox. When the server's UIDVALIDITY changes
the old UIDs mean nothing any more and the mailbox is read again from the start; dedupe on the
Message-ID (the external_id) keeps that idempotent. Parsing is the email importer's (quoted replies,
charsets, HTML-only mails, company_domains for who the customer is).
"""
from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from connectors._common import TextSettings
from connectors.email_import import email_record
from copilot.integrations.base import ConnectorSettings, PayloadError, PullConnector

log = logging.getLogger(__name__)
UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class ImapSettings(TextSettings):
    host: str = Field(description="IMAP server host name.")
    port: int | None = Field(None, ge=1, le=65535, description="Default 993 with ssl, 143 without.")
    username: str
    password: SecretStr
    mailbox: str = Field("INBOX", description="Folder to read.")
    ssl: bool = Field(True, description="Implicit TLS (IMAPS). Without it, STARTTLS is used when offered.")
    starttls: bool = Field(True, description="Without ssl: upgrade with STARTTLS when the server offers it.")
    verify_tls: bool = Field(True, description="Check the server's certificate.")
    company_domains: list[str] = Field(default_factory=list, description="Your domains: mail from them is outbound.")
    company_addresses: list[str] = Field(default_factory=list)
    source: str = Field("imap", description="`source` of the records (their external_id is the Message-ID).")
    batch_size: int = Field(200, ge=1, le=5000, description="Most messages fetched per pull; the rest next time.")
    timeout_s: float = Field(30.0, gt=0)


def parse_cursor(cursor: str | None) -> tuple[int | None, int]:
    if not cursor:
        return None, 0
    validity, _, uid = cursor.partition(":")
    try:
        return int(validity), int(uid or 0)
    except ValueError:
        return None, 0  # an unreadable cursor: start again; dedupe absorbs what was already stored


class ImapConnector(PullConnector):
    name: ClassVar[str] = "imap"
    title: ClassVar[str] = "IMAP mailbox"
    settings_model: ClassVar[type[ConnectorSettings]] = ImapSettings

    def connect(self, settings: ImapSettings) -> imaplib.IMAP4:
        context = ssl.create_default_context()
        if not settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if settings.ssl:
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(settings.host, settings.port or 993, ssl_context=context,
                                                      timeout=settings.timeout_s)
        else:
            client = imaplib.IMAP4(settings.host, settings.port or 143, timeout=settings.timeout_s)
            if settings.starttls and "STARTTLS" in client.capabilities:
                client.starttls(ssl_context=context)
        client.login(settings.username, settings.password.get_secret_value())
        return client

    def pull(self, settings: ConnectorSettings, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        assert isinstance(settings, ImapSettings)
        options = {"company_domains": ",".join(settings.company_domains),
                   "company_addresses": ",".join(settings.company_addresses), "source": settings.source}
        client = self.connect(settings)
        try:
            status, _ = client.select(self._quote(settings.mailbox), readonly=True)
            if status != "OK":
                raise RuntimeError(f"mailbox {settings.mailbox!r} cannot be opened")
            validity = self._uidvalidity(client, settings.mailbox)
            stored_validity, last_uid = parse_cursor(cursor)
            if stored_validity != validity:
                last_uid = 0  # new mailbox, or the server renumbered it: read it again from the start
            status, data = client.uid("SEARCH", None, f"UID {last_uid + 1}:*")
            if status != "OK":
                raise RuntimeError(f"UID SEARCH failed: {data!r}")
            # "n:*" always matches the highest UID, even below n: keep only the new ones.
            uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > last_uid)[:settings.batch_size]
            records: list[dict[str, Any]] = []
            for uid in uids:
                raw = self._fetch(client, uid)
                if raw is None:
                    continue
                try:
                    records.append(email_record(raw, options=options, fallback_id=f"imap:{validity}:{uid}",
                                                extra_metadata={"imap_uid": uid, "mailbox": settings.mailbox}))
                except PayloadError as err:
                    log.warning("imap %s uid %s skipped: %s", settings.mailbox, uid, err)
            new_last = uids[-1] if uids else last_uid
            return records, f"{validity}:{new_last}"
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    @staticmethod
    def _quote(mailbox: str) -> str:
        return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'

    @staticmethod
    def _uidvalidity(client: imaplib.IMAP4, mailbox: str) -> int:
        _, values = client.response("UIDVALIDITY")
        for value in values or []:
            if value:
                return int(value)
        status, data = client.status(ImapConnector._quote(mailbox), "(UIDVALIDITY)")
        match = UIDVALIDITY.search(data[0] if data and isinstance(data[0], bytes) else b"")
        if status != "OK" or not match:
            raise RuntimeError("the server did not say the mailbox's UIDVALIDITY")
        return int(match.group(1))

    @staticmethod
    def _fetch(client: imaplib.IMAP4, uid: int) -> bytes | None:
        status, data = client.uid("FETCH", str(uid), "(UID BODY.PEEK[])")
        if status != "OK":
            log.warning("imap fetch of uid %s failed: %r", uid, data)
            return None
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None  # expunged between SEARCH and FETCH
