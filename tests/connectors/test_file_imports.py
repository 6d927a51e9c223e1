"""File importers: email (.eml, mbox), chat and call transcripts (JSON, WebVTT, SRT), CSV, JSON Lines."""
from __future__ import annotations

from typing import Any

import pytest

from connectors.csv_import import CsvImporter
from connectors.email_import import EmlImporter, MboxImporter
from connectors.transcripts import CallTranscriptImporter, ChatTranscriptImporter
from copilot.integrations.base import FileImporter, PayloadError
from copilot.interactions.schemas import InteractionIn
from tests.connectors.conftest import fixture_bytes

COMPANY = {"company_domains": "acme.example"}


def run(importer: FileImporter, name: str, **options: str) -> tuple[list[dict[str, Any]], list[PayloadError]]:
    items = list(importer.parse_file(fixture_bytes(name), filename=name, options=options))
    records = [i for i in items if isinstance(i, dict)]
    for record in records:
        InteractionIn.model_validate(record)  # every record is canonical (DESIGN §4)
    return records, [i for i in items if isinstance(i, PayloadError)]


# email -----------------------------------------------------------------------------------------------
def test_html_only_latin1_email() -> None:
    (record,), errors = run(EmlImporter(), "html_only_latin1.eml", **COMPANY)
    assert not errors
    assert record["text"] == "Bonjour,\n\nMa commande A-20931 est arrivée cassée. J'ai déjà envoyé les photos.\n\nRenée"
    assert "color:red" not in record["text"]  # style sheets are not text
    assert record["subject"] == "Commande A-20931 arrivée cassée"
    assert record["customer"] == {"name": "Renée Dupré", "email": "renee@example.fr"}
    assert record["metadata"]["body_source"] == "html"
    assert record["occurred_at"] == "2026-11-02T13:03:00Z"


def test_quoted_reply_and_signature_stripped_cp1252() -> None:
    (record,), _ = run(EmlImporter(), "reply_quoted_cp1252.eml", **COMPANY)
    assert record["text"] == ("Thanks \u201cSam\u201d \u2013 the replacement arrived but it costs \u20ac 20 more than "
                              "promised.\nCan you refund the difference?")
    assert "wrote:" in record["metadata"]["raw_text"] and "> We reshipped" in record["metadata"]["raw_text"]
    assert record["metadata"]["quoted_stripped"] is True
    assert record["thread_id"] == "first-0@example.com"  # root of References
    assert record["direction"] == "inbound"


def test_outbound_email_customer_is_the_recipient_and_attachments_are_metadata() -> None:
    (record,), _ = run(EmlImporter(), "outbound_attachment.eml", **COMPANY)
    assert record["direction"] == "outbound" and record["author_role"] == "agent"
    assert record["customer"]["email"] == "dana@example.com"  # not billing@acme.example (company, in Cc)
    assert record["metadata"]["attachments"] == [{"name": "return-label.pdf", "content_type": "application/pdf",
                                                  "size": 400}]
    assert record["text"].startswith("We reshipped order A-10293")


def test_without_company_domains_the_sender_is_the_customer() -> None:
    (record,), _ = run(EmlImporter(), "outbound_attachment.eml")
    assert record["direction"] == "inbound" and record["customer"]["email"] == "sam@acme.example"


def test_mbox_threads_and_bad_message_reported_with_line() -> None:
    records, errors = run(MboxImporter(), "thread.mbox", **COMPANY)
    assert [r["external_id"] for r in records] == ["first-0@example.com", "agent-1@acme.example"]
    assert {r["thread_id"] for r in records} == {"first-0@example.com"}
    assert records[0]["text"].endswith("From the porch camera nothing was left.")  # mboxrd ">From" unescaped
    assert records[1]["text"] == "We reshipped order A-10293 as A-10377."
    assert len(errors) == 1 and "Date" in str(errors[0]) and errors[0].line == 26  # type: ignore[attr-defined]


def test_long_raw_text_is_truncated() -> None:
    body = "Short answer.\n\nOn Mon, Nov 2, 2026 Dana <dana@example.com> wrote:\n" + "> quoted line\n" * 2000
    raw = ("From: dana@example.com\nTo: help@acme.example\nDate: Mon, 02 Nov 2026 14:03:00 +0000\n"
           "Message-ID: <long@example.com>\nSubject: x\n\n" + body).encode()
    (record,) = list(EmlImporter().parse_file(raw, filename="long.eml", options=COMPANY))
    assert record["text"] == "Short answer."
    assert len(record["metadata"]["raw_text"]) <= 4001


# transcripts -------------------------------------------------------------------------------------------
def test_chat_json() -> None:
    records, errors = run(ChatTranscriptImporter(), "chat_transcript.json")
    assert [(r["external_id"], r["direction"], r["author_role"]) for r in records] == [
        ("m1", "outbound", "bot"), ("m2", "inbound", "customer"), ("m3", "outbound", "agent"),
        ("m4", "internal", "agent")]
    assert all(r["thread_id"] == "chat-5521" and r["channel"] == "chat" for r in records)
    assert len(errors) == 1 and "alien" in str(errors[0])


def test_call_json_is_one_voice_interaction() -> None:
    (record,), errors = run(CallTranscriptImporter(), "call_transcript.json")
    assert not errors
    assert record["channel"] == "voice" and record["external_id"] == "call-88123"
    assert record["text"] == ("Agent: Thank you for calling Acme, this is Priya.\n"
                              "Customer: Hi, I'm calling about order A-10293. It never arrived.\n"
                              "Agent: I see it. I'll reship it today as A-10377.")
    assert record["customer"]["phone"] == "(415) 555-0134"


def test_webvtt_with_voice_tags_and_note_metadata() -> None:
    (record,), errors = run(CallTranscriptImporter(), "call.vtt")
    assert not errors
    assert record["external_id"] == "call-99001" and record["occurred_at"] == "2026-11-05T10:00:00Z"
    assert record["customer"] == {"name": "Dana Okonkwo", "phone": "+14155550134"}
    assert record["text"] == ("Agent: Acme support, Sam speaking.\n"
                              "Customer: Hi, the replacement A-10377 costs 20 euros more. "
                              "I want the difference refunded.\n"
                              "Agent: I'll refund the difference today.")


def test_srt_with_labels_and_options() -> None:
    (record,), errors = run(CallTranscriptImporter(), "call.srt", **{"customer.email": "maria@example.com",
                                                                      "started_at": "2026-11-06T09:00:00Z",
                                                                      "call_id": "call-srt-1"})
    assert not errors
    assert record["text"] == ("Agent: Acme billing, how can I help?\n"
                              "Customer: I was charged twice for INV-2291. Note: the second charge is pending.\n"
                              "Agent: I'll reverse the duplicate now.")


def test_srt_without_customer_is_an_error() -> None:
    _, errors = run(CallTranscriptImporter(), "call.srt", started_at="2026-11-06T09:00:00Z")
    assert len(errors) == 1 and "customer" in str(errors[0])


# CSV -----------------------------------------------------------------------------------------------------
def test_csv_mapping_cp1252_and_row_errors() -> None:
    options = {"map.thread_id": "Ticket", "map.external_id": "Msg Id", "map.customer.email": "From Email",
               "map.customer.phone": "Phone", "map.direction": "Type", "map.text": "Body", "map.occurred_at": "Sent",
               "date_format": "%d/%m/%Y %H:%M", "set.source": "helpdesk"}
    records, errors = run(CsvImporter(), "export_cp1252.csv", **options)
    assert [(r["external_id"], r["direction"], r["channel"]) for r in records] == [
        ("c-1", "inbound", "email"), ("c-2", "outbound", "email")]
    assert records[0]["occurred_at"] == "2026-11-02T14:03:00Z" and records[0]["source"] == "helpdesk"
    assert records[0]["text"] == "Locked out of AC-55012, reset twice"
    assert [e.line for e in errors] == [4, 5]  # type: ignore[attr-defined]
    assert "customer" in str(errors[0]) and "direction" in str(errors[1])


def test_csv_unknown_column_is_named() -> None:
    _, errors = run(CsvImporter(), "export_cp1252.csv", **{"map.text": "Message"})
    assert len(errors) == 1 and "Message" in str(errors[0])


def test_csv_rows_without_ids_are_stable() -> None:
    data = b"email,text,occurred_at,channel,direction\nx@example.com,hello,2026-11-02T14:03:00Z,sms,in\n"
    first = list(CsvImporter().parse_file(data, filename="a.csv", options={}))  # columns named like fields
    again = list(CsvImporter().parse_file(data, filename="a.csv", options={"map.customer.email": "email"}))
    assert first == again
    assert first[0]["external_id"].startswith("row-")  # type: ignore[index]
    assert first[0]["customer"] == {"email": "x@example.com"}  # type: ignore[index]


@pytest.mark.parametrize("name", ["chat_transcript.json", "call_transcript.json"])
def test_malformed_json_files(name: str) -> None:
    importer = ChatTranscriptImporter() if name.startswith("chat") else CallTranscriptImporter()
    (error,) = list(importer.parse_file(b"{oops", filename=name, options={}))
    assert isinstance(error, PayloadError) and "malformed JSON" in str(error)


def test_settings_accept_command_line_values() -> None:
    """`omnicopilot connectors set` reads values as JSON: numeric tokens and comma lists must still fit."""
    from connectors.freshdesk import FreshdeskSettings
    from connectors.imap import ImapSettings

    assert FreshdeskSettings.model_validate({"token": 123456}).token.get_secret_value() == "123456"
    imap = ImapSettings.model_validate({"host": "h", "username": "u", "password": 1, "port": 993,
                                        "company_domains": "acme.example, acme.io"})
    assert imap.company_domains == ["acme.example", "acme.io"] and imap.port == 993
