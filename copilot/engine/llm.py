"""The LLM engine (DESIGN §3): any OpenAI-compatible chat model through LangChain, prompts from `prompts/`,
structured output parsed into the engine models, a grounding check against the customer's history, and streaming
for the sidebar.

The model never sees our interaction ids: interactions are shown as refs ("I1", "I2", ...) and snippets as "S1",
and the refs it answers with are mapped back. Every error (network, timeout, HTTP status, output that is not the
JSON asked for) is raised; `copilot.engine.selector` catches it and falls back to the offline engine.
"""
from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError

from copilot.engine.grounding import (
    Grounding,
    clean_text,
    compact,
    extract_identifiers,
    sentence_problems,
    split_sentences,
)
from copilot.engine.injection import injected_passages
from copilot.engine.prompts import PromptRenderer
from copilot.engine.schemas import CardInsights, Fact, OpenItem, Snippet, SuggestedReply
from copilot.interactions.schemas import TimelineItem

log = logging.getLogger(__name__)

MAX_FACTS = 15
MAX_SUMMARY_WORDS = 120
MAX_SUGGESTIONS = 3
# Small prompts (prefill is most of a local model's time): the tracked state plus the latest few turns, never
# whole transcripts. The grounding check still reads the whole history.
TURNS = 2  # latest interactions shown (besides the message answered), each cut to its end
TURN_CHARS = 240
STATE_SUMMARY_WORDS = 35  # the offline summary, as a starting point
STATE_FACTS = 10
STATE_ITEM_CHARS = 90  # an open or closed item's text
STATE_CLOSED = 2
SNIPPETS = 2
SNIPPET_CHARS = 320
CARD_MAX_TOKENS = 400
SUGGEST_MAX_TOKENS = 320
STREAM_DEADLINE_FACTOR = 3  # a stream may run this many client timeouts in all before it is cut
REPLY_SEPARATOR = "---"  # a line holding only this separates two streamed replies
# The kinds the prompt names (the model may use others; the card keeps any short kind it gives).
FACT_KINDS = ("order_id", "account_number", "reference", "amount", "date", "device", "tried", "other")


class LLMOutputError(ValueError):
    """The model answered, but not with what the prompt asked for."""


# -- what the model is asked to produce (no ids it cannot know: refs instead) -----------------------------------
class _LLMFact(BaseModel):
    kind: str = "other"
    value: str
    ref: str | None = None


class _LLMOpenItem(BaseModel):
    kind: Literal["waiting_for", "promise", "request", "action", "tried"]
    text: str
    due: str | None = None
    ref: str | None = None


class _LLMCard(BaseModel):
    summary: str
    facts: list[_LLMFact] = Field(default_factory=list)
    open_items: list[_LLMOpenItem] = Field(default_factory=list)
    language: str | None = None
    sentiment: Literal["negative", "neutral", "positive"] | None = None


class _LLMReply(BaseModel):
    text: str
    sources: list[str] = Field(default_factory=list)


class _LLMSuggestions(BaseModel):
    suggestions: list[_LLMReply]


def parse_json_output(text: str, model: type[BaseModel]) -> Any:
    """Parse the model's answer into `model`; tolerate a Markdown fence or stray prose around the object."""
    body = text.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", body, re.DOTALL)
    if fenced:
        body = fenced.group(1)
    if not body.startswith("{"):
        start, end = body.find("{"), body.rfind("}")
        if start == -1 or end <= start:
            raise LLMOutputError(f"model output is not a JSON object: {text[:200]!r}")
        body = body[start:end + 1]
    try:
        return model.model_validate(json.loads(body))
    except (json.JSONDecodeError, ValidationError) as err:
        raise LLMOutputError(f"model output does not match {model.__name__}: {err}") from err


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content if b)
    return str(content or "")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value.tzinfo else value.isoformat()


def _day(value: datetime) -> str:
    """The date alone: a timestamp costs a model some twenty tokens, and the card needs the day."""
    return (value.astimezone(UTC) if value.tzinfo else value).date().isoformat()


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _limit_words(text: str, limit: int) -> str:
    words = text.split()
    return text.strip() if len(words) <= limit else " ".join(words[:limit]).rstrip(",;:") + "…"


def _parse_due(due: str | None) -> datetime | None:
    if not due:
        return None
    try:
        value = datetime.fromisoformat(due.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class LLMEngine:
    def __init__(self, config: Any, renderer: PromptRenderer | None = None) -> None:
        self.config = config  # copilot.engine.selector.EngineConfig (not imported: the selector imports us)
        self.prompts = renderer or PromptRenderer()

    # -- model --------------------------------------------------------------------------------------------
    def _chat(self, max_tokens: int, *, streaming: bool = False) -> Any:
        from langchain_openai import ChatOpenAI

        key = self.config.api_key
        return ChatOpenAI(
            model=self.config.model,
            # Local OpenAI-compatible servers often need no key, but the client insists on one.
            api_key=key if isinstance(key, SecretStr) else SecretStr(key or "not-needed"),
            base_url=self.config.base_url,
            timeout=self.config.timeout_s,
            max_retries=0,  # the agent waits: fall back to offline rather than retry
            max_tokens=max_tokens,  # sent as max_completion_tokens ...
            extra_body={"max_tokens": max_tokens},  # ... which some compatible servers ignore, so both
            streaming=streaming,
        )

    def _messages(self, task: str, variables: dict[str, Any], *, system: str | None = None) -> list[Any]:
        from langchain_core.messages import HumanMessage, SystemMessage

        return [SystemMessage(self.prompts.render(system or f"{task}.system.md.j2", **variables)),
                HumanMessage(self.prompts.render(f"{task}.user.md.j2", **variables))]

    def _complete(self, messages: list[Any], max_tokens: int) -> str:
        reply = self._chat(max_tokens).invoke(messages)
        text = _message_text(reply.content)
        if not text.strip():
            raise LLMOutputError("model returned an empty answer")
        return text

    # -- card ---------------------------------------------------------------------------------------------
    def card_messages(self, *, items: Sequence[TimelineItem], now: datetime,
                      offline: CardInsights) -> tuple[list[Any], dict[str, TimelineItem]]:
        refs = _refs(items)
        variables = {
            "now": _day(now), "total": len(refs), "max_facts": MAX_FACTS, "max_summary_words": MAX_SUMMARY_WORDS,
            "fact_kinds": FACT_KINDS, "customer_name": None, **_state_vars(offline, refs), **_turn_vars(refs),
        }
        return self._messages("card", variables), refs

    def insights(self, *, items: Sequence[TimelineItem], now: datetime, relevant_ids: Sequence[str],
                 offline: CardInsights) -> tuple[CardInsights, int, str]:
        messages, refs = self.card_messages(items=items, now=now, offline=offline)
        card = parse_json_output(self._complete(messages, CARD_MAX_TOKENS), _LLMCard)
        return _ground_card(card, items, refs, now, offline,
                            instructions=[_message_text(messages[0].content)]) + (self.prompts.version,)

    # -- suggestions --------------------------------------------------------------------------------------
    def _suggest_variables(self, *, items: Sequence[TimelineItem], insights: CardInsights, message: str,
                           channel: str, snippets: Sequence[Snippet], customer_name: str | None,
                           closing: str) -> tuple[dict[str, Any], dict[str, TimelineItem], dict[str, Snippet]]:
        refs = _refs(items)
        snippet_refs = {f"S{n}": s for n, s in enumerate(snippets[:SNIPPETS], 1)}
        variables = {
            "customer_name": customer_name, "channel": channel, "message": message, "closing": closing,
            "language": insights.language, "max_suggestions": MAX_SUGGESTIONS, "total": len(refs),
            **_state_vars(insights, refs), **_turn_vars(refs, skip_text=message),
            "snippets": [{"ref": ref, "kind": _snippet_kind(s), "title": s.title,
                          "text": _truncate_sentences(s.text, SNIPPET_CHARS)} for ref, s in snippet_refs.items()],
        }
        return variables, refs, snippet_refs

    def suggest(self, *, items: Sequence[TimelineItem], insights: CardInsights, message: str, channel: str,
                snippets: Sequence[Snippet], customer_name: str | None) -> tuple[list[SuggestedReply], int, str]:
        variables, refs, snippet_refs = self._suggest_variables(
            items=items, insights=insights, message=message, channel=channel, snippets=snippets,
            customer_name=customer_name, closing="Draft the replies as one JSON object.")
        messages = self._messages("suggestions", variables)
        raw = self._complete(messages, SUGGEST_MAX_TOKENS)
        parsed = parse_json_output(raw, _LLMSuggestions)
        grounding = reply_grounding(items, message, snippets, customer_name, insights,
                                    instructions=[_message_text(messages[0].content)])
        dropped = 0
        out: list[SuggestedReply] = []
        for reply in parsed.suggestions:
            if grounding.pastes_internal(reply.text):  # agent guidance is never sent to a customer
                dropped += 1
                log.info("llm suggestion: dropped a reply pasting internal guidance")
                continue
            cleaned = clean_text(reply.text, grounding, check_commitments=True)
            dropped += cleaned.dropped
            if cleaned.removed:
                log.info("llm suggestion: removed ungrounded %s", cleaned.removed)
            if not cleaned.text:
                continue
            sources: list[str] = []
            for ref in reply.sources:
                ref = ref.strip()
                source = (refs[ref].interaction_id if ref in refs
                          else snippet_refs[ref].source_id if ref in snippet_refs else None)
                if source and source not in sources:
                    sources.append(source)
            out.append(SuggestedReply(text=cleaned.text, sources=sources))
            if len(out) == MAX_SUGGESTIONS:
                break
        return out, dropped, self.prompts.version

    def stream_suggestions(self, *, items: Sequence[TimelineItem], insights: CardInsights, message: str,
                           channel: str, snippets: Sequence[Snippet], customer_name: str | None) -> Iterator[str]:
        """Reply text as the model writes it, a sentence at a time; replies are separated by a line holding only
        `---`. Each sentence passes the grounding check before it is yielded (a sentence with an unknown
        identifier or an unsupported promise is left out), so what the agent watches appear is already checked.
        Raises like `suggest` on connection errors and timeouts."""
        variables, _, _ = self._suggest_variables(
            items=items, insights=insights, message=message, channel=channel, snippets=snippets,
            customer_name=customer_name, closing="Draft the replies now, as plain text.")
        messages = self._messages("suggestions", variables, system="suggestions_stream.system.md.j2")
        grounding = reply_grounding(items, message, snippets, customer_name, insights,
                                    instructions=[_message_text(messages[0].content)])
        deadline = time.monotonic() + STREAM_DEADLINE_FACTOR * self.config.timeout_s

        def chunks() -> Iterator[str]:
            # The client's timeout bounds each read; a model that trickles tokens is bounded here.
            for chunk in self._chat(SUGGEST_MAX_TOKENS, streaming=True).stream(messages):
                yield _message_text(chunk.content)
                if time.monotonic() > deadline:
                    raise TimeoutError("the model's stream ran past its deadline")

        yield from grounded_stream(chunks(), grounding)


def stream_suggestion_text(config: Any, *, items: Sequence[TimelineItem], insights: CardInsights, message: str,
                           channel: str, snippets: Sequence[Snippet], customer_name: str | None) -> Iterator[str]:
    """For the sidebar: reply text as it is written, replies separated by a line holding only `---`.

    With the LLM engine configured, the model's grounded stream; when it fails before its first chunk (or the
    offline engine is configured), the offline engine's replies in the same format, so the sidebar always has
    something to show. A failure mid-stream just ends the stream (the agent keeps what arrived)."""
    kwargs: dict[str, Any] = dict(items=items, insights=insights, message=message, channel=channel,
                                  snippets=snippets, customer_name=customer_name)
    if config.engine == "llm":
        started = False
        try:
            for chunk in LLMEngine(config).stream_suggestions(**kwargs):
                started = True
                yield chunk
        except Exception as err:  # the agent always gets replies
            log.warning("llm engine failed while streaming suggestions: %r", err)
        if started:
            return
    from copilot.engine import offline

    yield f"\n{REPLY_SEPARATOR}\n".join(reply.text for reply in offline.suggest(**kwargs))


# A sentence is complete at a line break, or at ., ! or ? followed by white space (not "v1.2" or "A.10").
_SENTENCE_END_RE = re.compile(r"\n|[.!?]+(?=\s)")


def grounded_stream(chunks: Iterator[str], grounding: Grounding) -> Iterator[str]:
    buffer = ""
    for chunk in chunks:
        if not chunk:
            continue
        buffer += chunk
        while True:
            match = _SENTENCE_END_RE.search(buffer)
            if not match:
                break
            end = match.end()
            if buffer[end - 1] != "\n":  # keep the space after the full stop with its sentence
                while end < len(buffer) and buffer[end] in " \t":
                    end += 1
            sentence, buffer = buffer[:end], buffer[end:]
            if _sentence_ok(sentence, grounding):
                yield sentence
    if buffer and _sentence_ok(buffer, grounding):
        yield buffer


def _sentence_ok(sentence: str, grounding: Grounding) -> bool:
    if sentence.strip() == REPLY_SEPARATOR:
        return True
    bad = sentence_problems(sentence, grounding, check_commitments=True)
    if bad:
        log.info("llm stream: left out a sentence with ungrounded %s", bad)
    return not bad


def reply_grounding(items: Sequence[TimelineItem], message: str, snippets: Sequence[Snippet],
                    customer_name: str | None, insights: CardInsights | None = None, *,
                    instructions: Sequence[str] = ()) -> Grounding:
    """Replies may use identifiers from the history, the latest message and the reference snippets; they may only
    commit to what an agent (outbound message or internal note) or a snippet already committed to; they never
    repeat a superseded value nor paste internal guidance (internal articles and agent notes) or the prompt's
    `instructions`, nor echo customer text that carries an attack."""
    texts = [*_history_texts(items), message, customer_name or "", *(s.text for s in snippets)]
    internal = [*(s.text for s in snippets if s.audience == "internal"),
                *(i.text for i in items if i.direction == "internal"), *instructions]
    public = [*(s.text for s in snippets if s.audience == "public"),
              *(i.text for i in items if i.direction == "outbound")]
    return Grounding(texts, [*_agent_texts(items), *(s.text for s in snippets)],
                     superseded=_superseded(insights) if insights else (), internal=internal, public=public,
                     injected=_injected(items, message))


def _agent_texts(items: Sequence[TimelineItem]) -> list[str]:
    """What the company said: an agent's or the system's own interactions, never text inside a customer's message
    (whatever role it claims)."""
    return [i.text for i in items if i.direction != "inbound" and i.author_role in ("agent", "system")]


def _injected(items: Sequence[TimelineItem], message: str = "") -> list[str]:
    """Passages of the customer's text that carry an attack marker (see `copilot.engine.injection`)."""
    return [p for text in (*(i.text for i in items if i.direction == "inbound"), message)
            for p in injected_passages(text)]


def _superseded(insights: CardInsights) -> list[str]:
    """Superseded values, but never one that is also a current fact (then it was confirmed again)."""
    current = {compact(f.value) for f in insights.facts}
    return [v for v in insights.superseded if compact(v) not in current]


def _history_texts(items: Sequence[TimelineItem]) -> list[str]:
    return [part for i in items for part in (i.text, i.subject or "", i.author_name or "")]


def _refs(items: Sequence[TimelineItem]) -> dict[str, TimelineItem]:
    """Every interaction gets a ref, oldest first (refs are short; texts are only shown for the latest turns)."""
    return {f"I{n}": item for n, item in enumerate(sorted(items, key=lambda i: i.occurred_at), 1)}


def _speaker(item: TimelineItem) -> str:
    return "internal note" if item.direction == "internal" else item.author_role


def _state_vars(insights: CardInsights, refs: dict[str, TimelineItem]) -> dict[str, Any]:
    by_id = {item.interaction_id: ref for ref, item in refs.items()}
    return {
        "summary": _limit_words(insights.summary, STATE_SUMMARY_WORDS),
        "facts": [{"kind": f.kind, "value": f.value, "ref": by_id.get(f.interaction_id, f.channel),
                   "speaker": f.speaker} for f in insights.facts[:STATE_FACTS]],
        "open_items": [{"kind": o.kind, "text": _truncate(o.text, STATE_ITEM_CHARS), "due": o.due,
                        "overdue": o.overdue, "ref": by_id.get(o.interaction_id, o.channel)}
                       for o in insights.open_items],
        "closed_items": [{"kind": o.kind, "status": o.status, "text": _truncate(o.text, STATE_ITEM_CHARS)}
                         for o in insights.closed_items[-STATE_CLOSED:]],
        "superseded": _superseded(insights),
    }


def _turn_vars(refs: dict[str, TimelineItem], *, skip_text: str | None = None) -> dict[str, Any]:
    """The latest interactions, each cut to its end (the latest turns of a long call or thread). The message
    being answered is shown on its own, so it is not repeated as a turn."""
    shown = list(refs.items())
    if skip_text is not None and shown and shown[-1][1].text.strip() == skip_text.strip():
        shown = shown[:-1]
    latest = shown[-TURNS:]
    return {"omitted": len(refs) - len(latest),
            "turns": [{"ref": ref, "channel": i.channel, "speaker": _speaker(i), "occurred_at": _day(i.occurred_at),
                       "text": _tail(i.text, TURN_CHARS)} for ref, i in latest]}


def _snippet_kind(snippet: Snippet) -> str:
    if snippet.source_type == "past_reply":
        return "past_reply"
    return "guidance" if snippet.audience == "internal" else "knowledge"


def _tail(text: str, limit: int) -> str:
    """The end of a text, from a line or sentence start: where the latest turns are."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    starts = [m.end() for m in re.finditer(r"\n|[.!?]\s+", cut[: limit // 2])]
    return "… " + (cut[starts[0]:] if starts else cut).strip()


def _truncate_sentences(text: str, limit: int) -> str:
    """Whole sentences up to `limit` characters (a quotable passage is never cut mid-sentence)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in split_sentences(text):
        if len(kept) + len(sentence) > limit:
            break
        kept += sentence
    return kept.strip() or _truncate(text, limit)


def _ground_card(card: _LLMCard, items: Sequence[TimelineItem], refs: dict[str, TimelineItem], now: datetime,
                 offline: CardInsights, *, instructions: Sequence[str] = ()) -> tuple[CardInsights, int]:
    # Commitments the card may state as made: an agent's own words, and the promises the offline engine traced to
    # an agent's turn (a call transcript logged under the customer holds the agent's lines too).
    offline_promises = [o for o in (*offline.open_items, *offline.closed_items) if o.kind in ("promise", "action")]
    grounding = Grounding(_history_texts(items), [*_agent_texts(items), *(o.text for o in offline_promises)],
                          superseded=_superseded(offline), internal=instructions, injected=_injected(items))
    promised_in = {o.interaction_id for o in offline_promises}
    per_item = {i.interaction_id: compact(f"{i.subject or ''}\n{i.text}") for i in items}
    offline_by_value = {compact(f.value): f for f in offline.facts}
    dropped = 0

    def trace(value: str, ref: str | None) -> TimelineItem | Fact | None:
        """The interaction a value comes from: the model's ref when that interaction holds it, else the
        interaction that does, else the offline fact with the same value."""
        key = compact(value)
        ident_keys = [compact(i.text) for i in extract_identifiers(value)] or [key]
        item = refs.get((ref or "").strip())
        if item is not None and all(k in per_item[item.interaction_id] for k in ident_keys):
            return item
        for candidate in sorted(items, key=lambda i: i.occurred_at, reverse=True):
            if all(k in per_item[candidate.interaction_id] for k in ident_keys):
                return candidate
        if key in offline_by_value:
            return offline_by_value[key]
        return item  # a paraphrase (a step tried, a promise) stays with the interaction the model named

    facts: list[Fact] = []
    seen: set[tuple[str, str]] = set()
    for raw in card.facts:
        value = _truncate(raw.value.strip(), 200)
        if not value:
            continue
        ok, unknown = grounding.value_is_grounded(value)
        if ok and sentence_problems(value, grounding, check_claims=True):
            ok, unknown = False, 1  # "refund approved": a claim no agent made, or text of an attack
        if not ok:
            dropped += unknown
            log.info("llm card: dropped ungrounded fact %s=%r", raw.kind, value)
            continue
        source = trace(value, raw.ref)
        if source is None:
            dropped += 1
            continue
        if (raw.kind, compact(value)) in seen:
            continue
        seen.add((raw.kind, compact(value)))
        facts.append(Fact(kind=raw.kind, value=value, interaction_id=source.interaction_id,
                          channel=source.channel, occurred_at=source.occurred_at))
    facts = _cap_facts(facts + _missing_offline_facts(facts, offline.facts))

    summary = clean_text(card.summary, grounding, check_claims=True)
    dropped += summary.dropped
    summary_text = _limit_words(summary.text, MAX_SUMMARY_WORDS) or offline.summary

    open_items: list[OpenItem] = []
    for raw_item in card.open_items:
        ours = raw_item.kind in ("promise", "action")  # the company's commitments, not the customer's wishes
        text = clean_text(raw_item.text, grounding, check_claims=ours)
        dropped += text.dropped
        if not text.text or text.dropped:
            continue
        item = refs.get((raw_item.ref or "").strip())
        if item is None:
            continue  # untraceable: the offline engine's open items cover it
        if ours and item.direction == "inbound" and item.interaction_id not in promised_in:
            dropped += 1  # a promise "in" a customer's message is the customer's text, whatever it claims
            log.info("llm card: dropped a promise traced to a customer's message")
            continue
        due_date = _parse_due(raw_item.due)
        overdue = bool(due_date and raw_item.kind in ("promise", "action", "waiting_for")
                       and due_date < now.astimezone(UTC))
        if due_date is None:  # "by Friday": the offline engine resolves it against the interaction's date
            same = [o for o in offline.open_items if o.interaction_id == item.interaction_id and o.kind == raw_item.kind
                    and o.due_date is not None]
            if same:
                due_date, overdue = same[0].due_date, same[0].overdue
        open_items.append(OpenItem(
            kind=raw_item.kind, text=_truncate(text.text, 300),
            due=_truncate(raw_item.due, 100) if raw_item.due else None,
            due_date=due_date, overdue=overdue,
            interaction_id=item.interaction_id, channel=item.channel, occurred_at=item.occurred_at))
    if not open_items:
        open_items = list(offline.open_items)

    insights = CardInsights(summary=summary_text, facts=facts, open_items=open_items,
                            closed_items=offline.closed_items, superseded=offline.superseded,
                            mistyped_ids=offline.mistyped_ids, language=_language(card.language) or offline.language,
                            sentiment=card.sentiment or offline.sentiment)
    return insights, dropped


def _missing_offline_facts(facts: list[Fact], offline_facts: Sequence[Fact]) -> list[Fact]:
    """The offline engine's facts fill what the model left out (recall matters: the agent must not ask again):
    those with an identifier the model's facts lack, and those of a kind the model gave nothing for."""
    known_ids = {compact(i.text) for f in facts for i in extract_identifiers(f.value)}
    known_values = {compact(f.value) for f in facts}
    kinds = {f.kind for f in facts}
    extra = []
    for fact in offline_facts:
        if compact(fact.value) in known_values:
            continue
        ids = {compact(i.text) for i in extract_identifiers(fact.value)}
        if (ids and not ids <= known_ids) or (not ids and fact.kind not in kinds):
            extra.append(fact)
    return extra


def _language(code: str | None) -> str | None:
    code = (code or "").strip().lower()
    return code if re.fullmatch(r"[a-z]{2}", code) else None  # "English" or "en-US" is not what the card promises


def _cap_facts(facts: list[Fact]) -> list[Fact]:
    """At most 15: facts holding an identifier first (they are what the agent must not ask again)."""
    if len(facts) <= MAX_FACTS:
        return facts
    with_ids = [f for f in facts if extract_identifiers(f.value)]
    keep = {id(f) for f in (with_ids + [f for f in facts if f not in with_ids])[:MAX_FACTS]}
    return [f for f in facts if id(f) in keep]
