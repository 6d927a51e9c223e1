"""Chat and call transcripts.

- `chat-json`: a conversation `{"id", "channel"?, "customer": {...}, "subject"?, "messages": [{"id"?,
  "role" | "author" | "speaker", "author_name"?, "text", "timestamp"}]}`, a list of them, or
  `{"conversations": [...]}` -> one interaction per message (notes with `"internal": true` stay internal).
- `call-json`: a call `{"id" | "call_id", "customer": {...}, "started_at", "agent_name"?, "turns" |
  "segments" | "utterances": [{"speaker", "text", "start"?}]}`, a list, or `{"calls": [...]}`
  -> ONE voice interaction per call whose text is "Agent: ..." / "Customer: ..." lines.
- `vtt` (WebVTT, `<v Agent>` voice tags or "Agent:" prefixes) and `srt` (SubRip, "Agent:" prefixes) ->
  one voice interaction. Who the customer is and when the call started come from options
  (`customer.email=`, `customer.phone=`, `customer.name=`, `call_id=`, `started_at=`) or, in WebVTT, from
  `NOTE key: value` lines with the same keys. Options `agent=<speaker name>` / `customer=<speaker name>`
  map named speakers to roles; labels such as Agent, Rep, Support / Customer, Caller, Client map themselves.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import PurePath
from typing import Any, ClassVar

from connectors._common import compact, iso_time, item_error, option_list, text_id
from copilot.integrations.base import FileImporter, PayloadError

CUSTOMER_WORDS = {"customer", "user", "visitor", "client", "caller", "contact", "end-user", "end_user", "guest"}
AGENT_WORDS = {"agent", "operator", "rep", "representative", "support", "staff", "admin", "advisor", "human_agent"}
BOT_WORDS = {"bot", "assistant", "system", "ivr", "virtual_agent", "automated"}
CUSTOMER_KEYS = ("name", "email", "phone", "handles", "external_ids")
TIMING = re.compile(r"^\s*(\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->\s*(\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}")
VOICE_TAG = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
TAGS = re.compile(r"</?[^>]+>")
LABEL = re.compile(r"^\s*([A-Za-z][\w .'-]{0,40}?)\s*:\s+(.*)$")


def role_of(label: str, *, agents: list[str], customers: list[str]) -> str | None:
    word = label.strip().lower()
    if word in customers or word in CUSTOMER_WORDS:
        return "customer"
    if word in agents or word in AGENT_WORDS:
        return "agent"
    if word in BOT_WORDS:
        return "bot"
    return None


def json_document(data: bytes, *, filename: str, list_keys: tuple[str, ...]) -> list[Any]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PayloadError(f"{filename}: malformed JSON ({err})") from None
    if isinstance(document, dict):
        for key in list_keys:
            if isinstance(document.get(key), list):
                return document[key]
        return [document]
    if isinstance(document, list):
        return document
    raise PayloadError(f"{filename}: must be a JSON object or list")


def customer_of(item: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    block = item.get("customer") if isinstance(item.get("customer"), dict) else {}
    customer = {k: block[k] for k in CUSTOMER_KEYS if block.get(k)}
    for key in ("name", "email", "phone"):
        if options.get(f"customer.{key}"):
            customer[key] = str(options[f"customer.{key}"])
    if not (customer.get("email") or customer.get("phone") or customer.get("handles") or customer.get("external_ids")):
        raise PayloadError("customer: needs an email, phone, handle or external id (or --option customer.email=...)")
    return customer


class ChatTranscriptImporter(FileImporter):
    name: ClassVar[str] = "chat_transcripts"
    title: ClassVar[str] = "Chat transcripts (JSON)"
    formats: ClassVar[tuple[str, ...]] = ("chat-json",)

    def parse_file(self, data: bytes, *, filename: str, options: Mapping[str, str]
                   ) -> Iterator[dict[str, Any] | PayloadError]:
        try:
            conversations = json_document(data, filename=filename, list_keys=("conversations", "chats"))
        except PayloadError as err:
            yield err
            return
        agents, customers = option_list(options, "agent"), option_list(options, "customer")
        source = str(options.get("source") or "chat")
        for c_index, conversation in enumerate(conversations):
            where = f"conversations[{c_index}]"
            if not isinstance(conversation, dict):
                yield PayloadError(f"{where}: must be an object")
                continue
            conversation_id = text_id(conversation.get("id") or conversation.get("conversation_id"))
            messages = conversation.get("messages")
            if not conversation_id or not isinstance(messages, list):
                yield PayloadError(f"{where}: needs id and a list of messages")
                continue
            try:
                customer = customer_of(conversation, options)
            except PayloadError as err:
                yield PayloadError(f"{where}.{err}")
                continue
            channel = str(conversation.get("channel") or options.get("channel") or "chat")
            for m_index, message in enumerate(messages):
                try:
                    yield self._message(message, conversation, conversation_id, customer, channel, source,
                                        agents=agents, customers=customers, index=m_index)
                except PayloadError as err:
                    yield PayloadError(f"{where}.messages[{m_index}].{err}")

    @staticmethod
    def _message(message: Any, conversation: dict[str, Any], conversation_id: str, customer: dict[str, Any],
                 channel: str, source: str, *, agents: list[str], customers: list[str], index: int) -> dict[str, Any]:
        if not isinstance(message, dict):
            raise PayloadError("message: must be an object")
        label = str(message.get("role") or message.get("author_role") or message.get("author")
                    or message.get("speaker") or message.get("from") or "")
        role = role_of(label, agents=agents, customers=customers)
        if role is None:
            raise PayloadError(f"role: unknown speaker {label!r} (use --option agent=NAME or customer=NAME)")
        text = str(message.get("text") or message.get("body") or message.get("content") or "").strip()
        if not text:
            raise PayloadError("text: required")
        internal = bool(message.get("internal") or message.get("private") or message.get("note"))
        direction = "internal" if internal else ("inbound" if role == "customer" else "outbound")
        message_id = text_id(message.get("id")) or f"{conversation_id}-{index}"
        name = message.get("author_name") or (message.get("author") if message.get("author") != label else None) \
            or (label if role_of(label, agents=[], customers=[]) is None else None)
        return {"source": source, "external_id": message_id, "channel": channel, "direction": direction,
                "author_role": "agent" if internal else role, "author_name": name or None, "customer": customer,
                "thread_id": conversation_id, "subject": conversation.get("subject") or None, "text": text,
                "occurred_at": iso_time(message.get("timestamp") or message.get("occurred_at")
                                        or message.get("created_at") or message.get("time"), where="timestamp"),
                "metadata": compact({"transcript": True,
                                     "attachments": message.get("attachments") if isinstance(
                                         message.get("attachments"), list) else None})}


def call_record(*, call_id: str, turns: list[tuple[str, str]], customer: dict[str, Any], started_at: Any,
                source: str, subject: str | None, metadata: dict[str, Any]) -> dict[str, Any]:
    """One voice interaction: the whole call as "Agent:"/"Customer:" lines."""
    if not turns:
        raise PayloadError("turns: the call has no speech")
    lines = [f"{role.capitalize()}: {text}" for role, text in turns]
    return {"source": source, "external_id": call_id, "channel": "voice", "direction": "inbound",
            "author_role": "customer", "author_name": customer.get("name"), "customer": customer,
            "thread_id": call_id, "subject": subject, "text": "\n".join(lines),
            "occurred_at": iso_time(started_at, where="started_at"),
            "metadata": compact({**metadata, "transcript": True, "turns": len(turns)})}


class Speakers:
    """Maps speaker labels to Agent/Customer: known words, options, then first unknown voice = agent."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.agents, self.customers = option_list(options, "agent"), option_list(options, "customer")
        self.assigned: dict[str, str] = {}

    def role(self, label: str) -> str:
        key = label.strip().lower()
        if key in self.assigned:
            return self.assigned[key]
        role = role_of(key, agents=self.agents, customers=self.customers)
        if role is None:
            # Calls to a contact center open with the agent's greeting: the first unnamed voice is the agent.
            role = "customer" if "agent" in self.assigned.values() else "agent"
        if role == "bot":
            role = "agent"  # an IVR speaks for the company
        self.assigned[key] = role
        return role


class CallTranscriptImporter(FileImporter):
    name: ClassVar[str] = "call_transcripts"
    title: ClassVar[str] = "Call transcripts (JSON speaker turns, WebVTT, SRT)"
    formats: ClassVar[tuple[str, ...]] = ("call-json", "vtt", "srt")

    def parse_file(self, data: bytes, *, filename: str, options: Mapping[str, str]
                   ) -> Iterator[dict[str, Any] | PayloadError]:
        suffix = PurePath(filename).suffix.lower()
        text = data.decode("utf-8-sig", errors="replace")
        if suffix == ".vtt" or text.lstrip().startswith("WEBVTT") or options.get("format") == "vtt":
            yield self._cues(text, filename=filename, options=options, webvtt=True)
        elif suffix == ".srt" or options.get("format") == "srt":
            yield self._cues(text, filename=filename, options=options, webvtt=False)
        else:
            yield from self._json_calls(data, filename=filename, options=options)

    def _json_calls(self, data: bytes, *, filename: str, options: Mapping[str, str]
                    ) -> Iterator[dict[str, Any] | PayloadError]:
        try:
            calls = json_document(data, filename=filename, list_keys=("calls",))
        except PayloadError as err:
            yield err
            return
        source = str(options.get("source") or "calls")
        for index, call in enumerate(calls):
            where = f"calls[{index}]"
            try:
                if not isinstance(call, dict):
                    raise PayloadError("must be an object")
                call_id = text_id(call.get("id") or call.get("call_id"))
                if not call_id:
                    raise PayloadError("id: required")
                raw_turns = call.get("turns") or call.get("segments") or call.get("utterances")
                if not isinstance(raw_turns, list):
                    raise PayloadError("turns: required (a list of {speaker, text})")
                speakers = Speakers(options)
                if call.get("agent_name"):
                    speakers.agents.append(str(call["agent_name"]).lower())
                turns = []
                for turn in raw_turns:
                    if not isinstance(turn, dict):
                        raise PayloadError("turns: each turn must be an object")
                    spoken = str(turn.get("text") or turn.get("transcript") or "").strip()
                    label = str(turn.get("speaker") or turn.get("role") or turn.get("channel") or "")
                    if spoken and label:
                        turns.append((speakers.role(label), spoken))
                yield call_record(call_id=call_id, turns=merge_turns(turns), customer=customer_of(call, options),
                                  started_at=call.get("started_at") or call.get("start_time") or call.get("timestamp")
                                  or options.get("started_at"), source=source, subject=call.get("subject") or None,
                                  metadata=compact({"agent_name": call.get("agent_name"),
                                                    "duration_s": call.get("duration_s") or call.get("duration"),
                                                    "recording_url": call.get("recording_url")}))
            except PayloadError as err:
                yield PayloadError(f"{where}.{err}")

    def _cues(self, text: str, *, filename: str, options: Mapping[str, str],
              webvtt: bool) -> dict[str, Any] | PayloadError:
        notes: dict[str, str] = {}
        speakers = Speakers(options)
        turns: list[tuple[str, str]] = []
        blocks = re.split(r"\r?\n\s*\r?\n", text.replace("\r\n", "\n"))
        for block in blocks:
            lines = [line for line in block.strip().split("\n") if line.strip()]
            if not lines:
                continue
            if webvtt and lines[0].startswith("NOTE"):
                for line in [lines[0][4:], *lines[1:]]:
                    key, sep, value = line.partition(":")
                    if sep and key.strip():
                        notes[key.strip().lower()] = value.strip()
                continue
            if webvtt and (lines[0].startswith(("WEBVTT", "STYLE", "REGION"))):
                continue
            timing_at = next((i for i, line in enumerate(lines) if TIMING.match(line)), None)
            if timing_at is None:
                continue
            current: str | None = None
            for line in lines[timing_at + 1:]:
                voice = VOICE_TAG.search(line)
                if voice:
                    current = voice.group(1).strip()
                spoken = TAGS.sub("", line).strip()
                labelled = LABEL.match(spoken)
                # "Note: ..." said by the customer is not a speaker: only roles, known voices or a first label.
                if labelled and voice is None and (
                        role_of(labelled.group(1), agents=speakers.agents, customers=speakers.customers)
                        or labelled.group(1).strip().lower() in speakers.assigned or current is None):
                    current, spoken = labelled.group(1).strip(), labelled.group(2).strip()
                if not spoken:
                    continue
                if current is None:
                    return item_error(f"{filename}: cue without a speaker (use <v Agent> or 'Agent:')")
                turns.append((speakers.role(current), spoken))
        merged = {**{k.replace("_", ".", 1) if k.startswith("customer_") else k: v for k, v in notes.items()},
                  **options}
        try:
            customer = customer_of({}, merged)
            call_id = str(merged.get("call_id") or merged.get("id") or (
                PurePath(filename).stem + "-" + hashlib.sha256(text.encode()).hexdigest()[:12]))
            started_at = merged.get("started_at") or merged.get("occurred_at")
            if not started_at:
                raise PayloadError("started_at: required (--option started_at=2026-11-02T14:03:00Z or a NOTE line)")
            return call_record(call_id=call_id, turns=merge_turns(turns), customer=customer, started_at=started_at,
                               source=str(merged.get("source") or "calls"), subject=merged.get("subject") or None,
                               metadata={"format": "vtt" if webvtt else "srt", "file": filename})
        except PayloadError as err:
            return item_error(f"{filename}: {err}")


def merge_turns(turns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Consecutive cues of one speaker become one line, as people read a transcript."""
    merged: list[tuple[str, str]] = []
    for role, text in turns:
        if merged and merged[-1][0] == role:
            merged[-1] = (role, merged[-1][1] + " " + text)
        else:
            merged.append((role, text))
    return merged
