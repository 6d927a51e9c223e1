"""Reply suggestions: gather reference material, ask the engine, record every suggestion shown."""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from copilot.auth.service import Principal
from copilot.context.service import (
    Insights,
    cosine,
    customer_insights,
    engine_config,
    latest_customer_message,
    to_history_item,
)
from copilot.customers.models import Customer
from copilot.customers.service import new_id
from copilot.database.core import utcnow
from copilot.engine.schemas import HistoryItem, Snippet, SuggestedReply
from copilot.engine.selector import build_suggestions
from copilot.exceptions import NotFound
from copilot.indexing.vectorstore import Hit
from copilot.interactions.models import IndexOutbox, Interaction
from copilot.interactions.timeline import history
from copilot.knowledge.service import search as search_knowledge
from copilot.services import Services
from copilot.suggestions.models import Suggestion

PAST_REPLIES = 2
CANDIDATE_REPLIES = 8  # read this many similar cases to learn which tokens are shared, keep PAST_REPLIES
BACKLOG_SCAN = 2000  # newest customer messages not yet indexed, compared by words
BACKLOG_CANDIDATES = 12  # of those, embedded now and compared by meaning
LONG_WORDS = re.compile(r"[^\W\d_]{3,}")
SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
PRONOUN_I = {"I", "I'm", "I'll", "I've", "I'd", "OK"}
WORD = re.compile(r"[^\W\d_][\w'’-]*")
MENTION = re.compile(r"(?<![\w@])@\w+")
SIGN_OFF = re.compile(r"\s*(?:[\^*/~]|-\s)\s?[A-Z][A-Za-z]{0,2}\.?\s*$")
LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


def canonical_link(url: str) -> str:
    """One page, however it was linked: no scheme, `www.`, query, fragment, trailing slash or archive wrapper."""
    url = re.sub(r"^(?:https?://)?web\.archive\.org/web/\d+[a-z_]*/", "", url.strip(".,;:!?)\"'"), flags=re.I)
    url = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.IGNORECASE)
    return re.split(r"[?#]", url, maxsplit=1)[0].rstrip("/").lower()


def risky_tokens(sentence: str) -> set[str]:
    """Tokens that could identify a customer: with digits, emails, handles and links; capitalised words past
    the first (names, merchants, places) and all-caps words."""
    risky = {"link:" + canonical_link(url) for url in LINK.findall(sentence)}
    for raw in LINK.sub(" ", sentence).split():
        token = raw.strip(".,!?;:()[]\"'“”‘’")
        if re.search(r"\d|@", token):
            risky.add(token.lower())
    for position, word in enumerate(WORD.findall(sentence)):
        if word in PRONOUN_I:
            continue
        if (position > 0 and word[0].isupper()) or (word.isupper() and len(word) > (1 if position else 2)):
            risky.add(word.lower())
    return risky


def shared_tokens(replies_by_customer: dict[str, list[str]]) -> set[str]:
    """Risky-looking tokens that agents wrote to at least two different customers (a help-center link, the
    brand's name, a team's signature): they belong to the company, not to one customer."""
    seen: dict[str, set[str]] = {}
    for customer_id, texts in replies_by_customer.items():
        for text in texts:
            for token in risky_tokens(text):
                seen.setdefault(token, set()).add(customer_id)
    return {token for token, customers in seen.items() if len(customers) >= 2}


def anonymise_reply(text: str, *, names: Sequence[str], shared: set[str] | frozenset[str] = frozenset()) -> str:
    """A past agent reply without any sentence that could identify its customer: a sentence goes when it holds
    a risky token (see `risky_tokens`) that is not shared with other customers' replies."""
    text = MENTION.sub("", text)  # @mentions address someone; the reply reads the same without them
    text = SIGN_OFF.sub("", text)  # another agent's initials ("^HD", "*SR", "/RK") are not ours to sign with
    kept = [s.strip() for s in SENTENCE.split(text) if s.strip() and risky_tokens(s) <= shared]
    result = " ".join(kept)
    for name in names:
        for part in name.split():
            if len(part) >= 3 and part.lower() not in shared:
                result = re.sub(rf"\b{re.escape(part)}\b", "there", result, flags=re.IGNORECASE)
    return result.strip()


def backlog_hits(services: Services, session: Session, *, tenant_id: str, customer_id: str, message: str,
                 embedding: list[float]) -> list[Hit]:
    """Similar customer messages among those still waiting to be indexed (a fresh import is useful at once):
    the closest by words, then measured like the index would, by the embeddings' cosine."""
    rows = session.execute(
        select(Interaction.id, Interaction.text).join(IndexOutbox, IndexOutbox.interaction_id == Interaction.id)
        .where(IndexOutbox.tenant_id == tenant_id, Interaction.author_role == "customer",
               Interaction.customer_id != customer_id)
        .order_by(IndexOutbox.id.desc()).limit(BACKLOG_SCAN)).all()
    wanted = set(LONG_WORDS.findall(message.lower()))
    if not rows or not wanted:
        return []

    def overlap(text: str) -> float:
        words = set(LONG_WORDS.findall(text.lower()))
        return len(wanted & words) / (len(wanted | words) or 1)

    scored = sorted(((overlap(row.text), row) for row in rows), key=lambda pair: -pair[0])
    closest = [row for score, row in scored[:BACKLOG_CANDIDATES] if score > 0]
    vectors = services.indexer.embedder.embed([row.text for row in closest]) if closest else []
    return [Hit(id=row.id, document="", metadata={"author_role": "customer"}, distance=1.0 - cosine(embedding, vec))
            for row, vec in zip(closest, vectors, strict=True)]


def past_replies(services: Services, session: Session, *, tenant_id: str, customer_id: str, message: str,
                 embedding: list[float]) -> list[Snippet]:
    """Agent replies that followed other customers' most similar messages, anonymised."""
    # Unfiltered nearest neighbours, filtered here: a metadata filter makes Chroma's search far slower.
    hits = [h for h in services.indexer.store.query(tenant=tenant_id, embedding=embedding, n_results=24)
            if h.metadata.get("author_role") == "customer"]
    waiting = backlog_hits(services, session, tenant_id=tenant_id, customer_id=customer_id, message=message,
                           embedding=embedding)
    if waiting:
        hits = sorted(hits + waiting, key=lambda h: h.distance)
    rows = {r.id: r for r in session.scalars(select(Interaction).where(Interaction.id.in_([h.id for h in hits])))}
    candidates: list[tuple[float, Interaction, Interaction]] = []
    for hit in hits:
        asked = rows.get(hit.id)
        if asked is None or asked.customer_id == customer_id or asked.tenant_id != tenant_id:
            continue
        reply = session.scalar(select(Interaction).where(
            Interaction.tenant_id == tenant_id, Interaction.customer_id == asked.customer_id,
            Interaction.author_role == "agent", Interaction.direction == "outbound",
            Interaction.occurred_at >= asked.occurred_at,  # replies logged with the same second count
            *([Interaction.thread_id == asked.thread_id] if asked.thread_id else []),
        ).order_by(Interaction.occurred_at).limit(1))
        if reply is not None and all(reply.id != c[2].id for c in candidates):
            candidates.append((1.0 - float(hit.distance), asked, reply))
        if len(candidates) >= CANDIDATE_REPLIES:
            break
    by_customer: dict[str, list[str]] = {}
    for _, asked, reply in candidates:
        by_customer.setdefault(asked.customer_id, []).append(reply.text)
    shared = shared_tokens(by_customer)
    snippets: list[Snippet] = []
    for score, asked, reply in candidates:
        owner = session.get(Customer, asked.customer_id)
        names = [n for n in (owner.name if owner else None, asked.author_name) if n]
        text = anonymise_reply(reply.text, names=names, shared=shared)
        if text:
            snippets.append(Snippet(source_type="past_reply", source_id=f"reply:{reply.id}", text=text, score=score))
        if len(snippets) >= PAST_REPLIES:
            break
    return snippets


def message_embedding(services: Services, *, tenant_id: str, items: Sequence[HistoryItem], message: str
                      ) -> list[float]:
    """The message's vector: the index already holds it when the message is the stored latest one."""
    latest = latest_customer_message(items)
    if latest is not None and latest.text.strip() == message.strip():
        try:
            stored = services.indexer.store.get_embeddings(tenant=tenant_id, ids=[latest.interaction_id])
        except Exception:  # the index is derived: embed the text instead
            stored = {}
        if latest.interaction_id in stored:
            return stored[latest.interaction_id]
    return services.indexer.embedder.embed([message])[0]


@dataclass
class ReplyInputs:
    items: list[HistoryItem]
    insights: Insights
    snippets: list[Snippet]


def reply_inputs(services: Services, session: Session, *, tenant_id: str, customer: Customer,
                 message: str) -> ReplyInputs:
    """What any engine needs to answer: the history, its insights, knowledge and similar past replies."""
    items = [to_history_item(r) for r in history(session, tenant_id=tenant_id, customer_id=customer.id)]
    insights = customer_insights(services, tenant_id=tenant_id, items=items, now=utcnow())
    embedding = message_embedding(services, tenant_id=tenant_id, items=items, message=message)
    snippets = search_knowledge(services.indexer.store, tenant_id=tenant_id, embedding=embedding)
    snippets += past_replies(services, session, tenant_id=tenant_id, customer_id=customer.id, message=message,
                             embedding=embedding)
    return ReplyInputs(items=items, insights=insights, snippets=snippets)


def record_suggestions(session: Session, *, tenant_id: str, customer: Customer, items: Sequence[HistoryItem],
                       message: str, channel: str, engine: str, prompt_version: str | None,
                       replies: Sequence[SuggestedReply], requested_by: str) -> list[Suggestion]:
    """Every suggestion shown is kept, with the customer message it answers (to tell when it went stale)."""
    answers = latest_customer_message(items)
    now = utcnow()
    rows = [Suggestion(id=new_id(), tenant_id=tenant_id, customer_id=customer.id,
                       answers_interaction_id=answers.interaction_id if answers else None,
                       answers_occurred_at=answers.occurred_at if answers else None,
                       message=message, channel=channel, engine=engine, prompt_version=prompt_version,
                       rank=rank, text=reply.text, sources=list(reply.sources), requested_by=requested_by,
                       created_at=now)
            for rank, reply in enumerate(replies)]
    session.add_all(rows)
    session.commit()
    return rows


def suggest(services: Services, session: Session, *, principal: Principal, customer: Customer, message: str,
            channel: str, discard_if_stale: bool = False) -> tuple[list[Suggestion], str, str | None]:
    """Replies to the customer's message, recorded. With `discard_if_stale` (live push), drafts for a message
    that is no longer the latest when they are ready are dropped unseen: the newer message gets its own."""
    tenant_id = principal.tenant_id
    assert tenant_id is not None
    inputs = reply_inputs(services, session, tenant_id=tenant_id, customer=customer, message=message)
    result = build_suggestions(config=engine_config(services), items=inputs.items, insights=inputs.insights.insights,
                               message=message, channel=channel, snippets=inputs.snippets,
                               customer_name=customer.name)
    answers = latest_customer_message(inputs.items)
    if discard_if_stale and answers is not None and newer_customer_message(
            session, tenant_id=tenant_id, customer_id=customer.id, after=answers.occurred_at):
        return [], result.engine, inputs.insights.insights.language
    rows = record_suggestions(session, tenant_id=tenant_id, customer=customer, items=inputs.items, message=message,
                              channel=channel, engine=result.engine, prompt_version=result.prompt_version,
                              replies=result.output, requested_by=principal.name)
    return rows, result.engine, inputs.insights.insights.language


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
    replies = [SuggestedReply(text=t, sources=[latest.interaction_id] if latest else []) for t in texts[:3]]
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
