"""Reply suggestions: gather reference material, ask the engine, record each suggestion shown once.

Finding and adapting past replies is the offline engine's retrieval stage (`copilot.engine.offline.retrieve`);
this module hands it what it needs (the session, the vector store, the embedder, the tenant's corpus), records
the suggestions and takes the agent's feedback.
"""
from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import dropwhile
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from copilot.auth.models import Tenant
from copilot.auth.service import Principal
from copilot.context.service import (
    Insights,
    customer_insights,
    engine_config,
    latest_customer_message,
    to_history_item,
)
from copilot.customers.models import Customer
from copilot.database.core import utcnow
from copilot.database.ids import new_id
from copilot.engine.offline.retrieve import CorpusRegistry, retrieve
from copilot.engine.schemas import Snippet, SuggestedReply
from copilot.engine.selector import build_suggestions
from copilot.exceptions import NotFound
from copilot.interactions.models import Interaction
from copilot.interactions.schemas import TimelineItem
from copilot.interactions.timeline import history
from copilot.knowledge.service import search as search_knowledge
from copilot.services import Services
from copilot.suggestions.models import Suggestion

log = logging.getLogger(__name__)

LINKS = 3  # help pages shown with a reply
WARM_INTERVAL_S = 2.0  # how often an API process brings its past-reply corpora up to date
_REGISTRIES: weakref.WeakKeyDictionary[Any, CorpusRegistry] = weakref.WeakKeyDictionary()
_REGISTRIES_LOCK = threading.Lock()


def corpora(services: Services) -> CorpusRegistry:
    """The past-reply corpora of this process's database, kept in step by the ingest events on the bus."""
    with _REGISTRIES_LOCK:
        registry = _REGISTRIES.get(services.db)
        if registry is None:
            registry = _REGISTRIES[services.db] = CorpusRegistry()
            services.bus.subscribe(registry.on_event)
        return registry


class CorpusWarmer:
    """Keeps this API process's corpora ready in the background (`CorpusRegistry.warm`): every tenant's at
    start, then every `interval_s` what ingest changed, each pass after the requests in flight."""

    def __init__(self, services: Services, interval_s: float = WARM_INTERVAL_S) -> None:
        self.services = services
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="corpus-warmer", daemon=True)

    def start(self) -> CorpusWarmer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        registry = corpora(self.services)
        tenants: list[str] | None = None
        while not self._stop.is_set():
            self.services.indexer.gate.wait_idle()
            try:
                with self.services.db.session() as session:
                    if tenants is None:
                        tenants = list(session.scalars(select(Tenant.id)))
                    registry.warm(session, tenants)
                    tenants = []
            except Exception:  # a database hiccup: the next pass (or the request itself) loads it
                log.warning("past-reply corpora not refreshed", exc_info=True)
            self._stop.wait(self.interval_s)


def message_embedding(services: Services, *, tenant_id: str, items: Sequence[TimelineItem], message: str
                      ) -> list[float]:
    """The message's vector: the index already holds it when the message is the stored latest one."""
    latest = latest_customer_message(items)
    if latest is not None and latest.text.strip() == message.strip():
        try:
            stored = services.indexer.store.get_embeddings(tenant=tenant_id, ids=[latest.interaction_id])
        except Exception:  # the index is derived: embed the text instead
            stored = {}
        if latest.interaction_id in stored:
            return [float(x) for x in stored[latest.interaction_id]]
    return services.indexer.embedder.embed([message])[0]


def reply_before(items: Sequence[TimelineItem]) -> str | None:
    """The agent's last reply before the customer message being answered, in its thread: where the
    conversation stands (a first answer reads unlike the one after the customer sent what was asked)."""
    latest = latest_customer_message(items)
    if latest is None:
        return None
    earlier = dropwhile(lambda item: item is not latest, reversed(items))
    return next((item.text for item in earlier if item.author_role == "agent" and item.direction == "outbound"
                 and item.thread_id == latest.thread_id), None)


@dataclass
class ReplyInputs:
    items: list[TimelineItem]
    insights: Insights
    snippets: list[Snippet]
    links: list[str] = field(default_factory=list)  # help pages for this message, best first

    @property
    def guidance(self) -> list[Snippet]:
        """Internal knowledge: for the agent's eyes, never pasted into a reply."""
        return [s for s in self.snippets if s.source_type == "knowledge" and s.audience == "internal"]


def reply_inputs(services: Services, session: Session, *, tenant_id: str, customer: Customer,
                 message: str) -> ReplyInputs:
    """What any engine needs to answer: the history, its insights, knowledge and similar past replies."""
    items = [to_history_item(r) for r in history(session, tenant_id=tenant_id, customer_id=customer.id)]
    insights = customer_insights(services, tenant_id=tenant_id, items=items, now=utcnow())
    embedding = message_embedding(services, tenant_id=tenant_id, items=items, message=message)
    store = services.indexer.store
    snippets = search_knowledge(store, tenant_id=tenant_id, embedding=embedding)
    found = retrieve(session=session, store=store, embedder=services.indexer.embedder,
                     corpus=corpora(services).get(tenant_id), customer_id=customer.id, message=message,
                     embedding=embedding, facts=insights.insights.facts, customer_name=customer.name,
                     known_text=" ".join(i.text for i in items), previous_reply=reply_before(items))
    return ReplyInputs(items=items, insights=insights, snippets=snippets + found.past_replies, links=found.links)


def record_suggestions(session: Session, *, tenant_id: str, customer: Customer, items: Sequence[TimelineItem],
                       message: str, channel: str, engine: str, prompt_version: str | None,
                       replies: Sequence[SuggestedReply], requested_by: str) -> list[Suggestion]:
    """Each suggestion shown is kept once per (customer, message answered, text), with the customer message
    it answers (to tell when it went stale): opening the customer again shows the rows already recorded, so
    the console's "ignored" rate counts suggestions, not page views."""
    answers = latest_customer_message(items)
    answered = select(Suggestion).where(Suggestion.tenant_id == tenant_id, Suggestion.customer_id == customer.id)
    # Without a stored customer message the typed message is what is answered.
    answered = answered.where(Suggestion.answers_interaction_id == answers.interaction_id) if answers else \
        answered.where(Suggestion.answers_interaction_id.is_(None), Suggestion.message == message)
    texts = [reply.text for reply in replies]
    recorded: dict[str, Suggestion] = {}
    for row in session.scalars(answered.where(Suggestion.text.in_(texts)).order_by(Suggestion.created_at)):
        recorded.setdefault(row.text, row)
    now = utcnow()
    rows: list[Suggestion] = []
    for rank, reply in enumerate(replies):
        row = recorded.get(reply.text)
        if row is not None:
            if reply.links and not row.links:
                row.links = list(reply.links)
            rows.append(row)
            continue
        row = Suggestion(id=new_id(), tenant_id=tenant_id, customer_id=customer.id,
                         answers_interaction_id=answers.interaction_id if answers else None,
                         answers_occurred_at=answers.occurred_at if answers else None,
                         message=message, channel=channel, engine=engine, prompt_version=prompt_version,
                         rank=rank, text=reply.text, sources=list(reply.sources), links=list(reply.links),
                         requested_by=requested_by, created_at=now)
        session.add(row)
        recorded[reply.text] = row
        rows.append(row)
    session.commit()
    return list(dict.fromkeys(rows))  # the same text twice in one answer is one suggestion


def with_links(replies: Sequence[SuggestedReply], links: Sequence[str]) -> list[SuggestedReply]:
    """Every reply carries help-page links: its own first (an engine may pick them), then the retrieved ones."""
    return [reply.model_copy(update={"links": list(dict.fromkeys([*reply.links, *links]))[:LINKS]})
            for reply in replies]


@dataclass
class SuggestionOutcome:
    rows: list[Suggestion]
    engine: str
    language: str | None
    guidance: list[Snippet] = field(default_factory=list)


def suggest_with_guidance(services: Services, session: Session, *, principal: Principal, customer: Customer,
                          message: str, channel: str, discard_if_stale: bool = False) -> SuggestionOutcome:
    """Replies to the customer's message, recorded, and the internal guidance that bears on it. With
    `discard_if_stale` (live push), drafts for a message that is no longer the latest when they are ready are
    dropped unseen: the newer message gets its own."""
    tenant_id = principal.tenant_id
    assert tenant_id is not None
    inputs = reply_inputs(services, session, tenant_id=tenant_id, customer=customer, message=message)
    result = build_suggestions(config=engine_config(services), items=inputs.items, insights=inputs.insights.insights,
                               message=message, channel=channel, snippets=inputs.snippets,
                               customer_name=customer.name)
    language = inputs.insights.insights.language
    answers = latest_customer_message(inputs.items)
    if discard_if_stale and answers is not None and newer_customer_message(
            session, tenant_id=tenant_id, customer_id=customer.id, after=answers.occurred_at):
        return SuggestionOutcome([], result.engine, language, inputs.guidance)
    rows = record_suggestions(session, tenant_id=tenant_id, customer=customer, items=inputs.items, message=message,
                              channel=channel, engine=result.engine, prompt_version=result.prompt_version,
                              replies=with_links(result.output, inputs.links), requested_by=principal.name)
    return SuggestionOutcome(rows, result.engine, language, inputs.guidance)


def suggest(services: Services, session: Session, *, principal: Principal, customer: Customer, message: str,
            channel: str, discard_if_stale: bool = False) -> tuple[list[Suggestion], str, str | None]:
    """`suggest_with_guidance` without the guidance: (recorded rows, engine, language)."""
    out = suggest_with_guidance(services, session, principal=principal, customer=customer, message=message,
                                channel=channel, discard_if_stale=discard_if_stale)
    return out.rows, out.engine, out.language


def stream_suggestions(services: Services, session: Session, *, principal: Principal, customer: Customer,
                       message: str, channel: str) -> Iterator[tuple[str, Any]]:
    """("text", chunk) while the engine writes (the sidebar shows drafts as they arrive), then
    ("suggestions", rows) once the replies are recorded, as `suggest` records them."""
    assert principal.tenant_id is not None
    # Read now, with the request's session: the stream itself runs after the route has returned.
    inputs = reply_inputs(services, session, tenant_id=principal.tenant_id, customer=customer, message=message)
    return _stream_and_record(services, inputs=inputs, tenant_id=principal.tenant_id, requested_by=principal.name,
                              customer_id=customer.id, customer_name=customer.name, message=message, channel=channel)


def _stream_and_record(services: Services, *, inputs: ReplyInputs, tenant_id: str, requested_by: str,
                       customer_id: str, customer_name: str | None, message: str,
                       channel: str) -> Iterator[tuple[str, Any]]:
    from copilot.engine.llm import REPLY_SEPARATOR, stream_suggestion_text
    from copilot.engine.prompts import PromptRenderer

    config = engine_config(services)
    written: list[str] = []
    for chunk in stream_suggestion_text(config, items=inputs.items, insights=inputs.insights.insights,
                                        message=message, channel=channel, snippets=inputs.snippets,
                                        customer_name=customer_name):
        written.append(chunk)
        yield "text", chunk
    texts = [t.strip() for t in re.split(rf"\n\s*{re.escape(REPLY_SEPARATOR)}\s*\n", "".join(written)) if t.strip()]
    latest = latest_customer_message(inputs.items)
    replies = with_links([SuggestedReply(text=t, sources=[latest.interaction_id] if latest else [])
                          for t in texts[:3]], inputs.links)
    # The stream says nothing of a fallback: the engine configured is what is recorded.
    engine = f"llm:{config.model}" if config.engine == "llm" else "offline"
    with services.db.session() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        rows = record_suggestions(session, tenant_id=tenant_id, customer=customer, items=inputs.items,
                                  message=message, channel=channel, engine=engine,
                                  prompt_version=PromptRenderer().version if config.engine == "llm" else None,
                                  replies=replies, requested_by=requested_by)
        yield "suggestions", rows


def newer_customer_message(session: Session, *, tenant_id: str, customer_id: str, after: datetime) -> bool:
    return session.scalar(select(Interaction.id).where(
        Interaction.tenant_id == tenant_id, Interaction.customer_id == customer_id,
        Interaction.author_role == "customer", Interaction.occurred_at > after).limit(1)) is not None


def is_stale(session: Session, suggestion: Suggestion) -> bool:
    """A newer customer message arrived after the one this suggestion answers."""
    if suggestion.answers_occurred_at is not None:
        return newer_customer_message(session, tenant_id=suggestion.tenant_id, customer_id=suggestion.customer_id,
                                      after=suggestion.answers_occurred_at)
    return session.scalar(select(Interaction.id).where(
        Interaction.tenant_id == suggestion.tenant_id, Interaction.customer_id == suggestion.customer_id,
        Interaction.author_role == "customer", Interaction.created_at > suggestion.created_at).limit(1)) is not None


def record_feedback(session: Session, *, principal: Principal, suggestion_id: str, action: str,
                    final_text: str | None) -> tuple[Suggestion, bool]:
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None or suggestion.tenant_id != principal.tenant_id:
        raise NotFound("no such suggestion")
    suggestion.action = action
    suggestion.final_text = final_text if action == "edited" else (suggestion.text if action == "accepted" else None)
    suggestion.feedback_by = principal.name
    suggestion.feedback_at = utcnow()
    stale = is_stale(session, suggestion)
    session.commit()
    return suggestion, stale
