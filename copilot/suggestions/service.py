"""Reply suggestions: gather reference material, ask the engine, record every suggestion shown."""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from copilot.auth.service import Principal
from copilot.context.service import Insights, customer_insights, engine_config, latest_customer_message, to_history_item
from copilot.customers.models import Customer
from copilot.customers.service import new_id
from copilot.database.core import utcnow
from copilot.engine.schemas import HistoryItem, Snippet
from copilot.engine.selector import build_suggestions
from copilot.exceptions import NotFound
from copilot.interactions.models import Interaction
from copilot.interactions.timeline import history
from copilot.knowledge.service import search as search_knowledge
from copilot.services import Services
from copilot.suggestions.models import Suggestion

PAST_REPLIES = 2
# Anything that could carry another customer's identity: digits, emails, handles, links.
IDENTIFYING = re.compile(r"\d|@|https?://|www\.", re.IGNORECASE)
SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


PRONOUN_I = {"I", "I'm", "I'll", "I've", "I'd", "OK"}


def names_something(sentence: str) -> bool:
    """A capitalised word past the first, or an all-caps token: a name, a merchant, a place, a product."""
    words = re.findall(r"[^\W\d_][\w'’-]*", sentence)
    return any(w not in PRONOUN_I and (w[0].isupper() or (len(w) > 1 and w.isupper())) for w in words[1:]) or (
        bool(words) and len(words[0]) > 2 and words[0].isupper() and words[0] not in PRONOUN_I)


def anonymise_reply(text: str, *, names: Sequence[str]) -> str:
    """A past agent reply with every sentence that could identify its customer removed: digits, emails,
    handles, links, and any named thing (another customer's merchant or town is theirs, not ours)."""
    kept = [s for s in SENTENCE.split(text) if s.strip() and not IDENTIFYING.search(s) and not names_something(s)]
    result = " ".join(kept)
    for name in names:
        for part in name.split():
            if len(part) >= 3:
                result = re.sub(rf"\b{re.escape(part)}\b", "there", result, flags=re.IGNORECASE)
    return result.strip()


def past_replies(services: Services, session: Session, *, tenant_id: str, customer_id: str,
                 embedding: list[float]) -> list[Snippet]:
    """Agent replies that followed other customers' most similar messages, anonymised."""
    # Unfiltered nearest neighbours, filtered here: a metadata filter makes Chroma's search far slower.
    hits = [h for h in services.indexer.store.query(tenant=tenant_id, embedding=embedding, n_results=24)
            if h.metadata.get("author_role") == "customer"]
    ids = [h.id for h in hits]
    rows = {r.id: r for r in session.scalars(select(Interaction).where(Interaction.id.in_(ids)))}
    snippets: list[Snippet] = []
    for hit in hits:
        asked = rows.get(hit.id)
        if asked is None or asked.customer_id == customer_id or asked.tenant_id != tenant_id:
            continue
        reply = session.scalar(select(Interaction).where(
            Interaction.tenant_id == tenant_id, Interaction.customer_id == asked.customer_id,
            Interaction.author_role == "agent", Interaction.direction == "outbound",
            Interaction.occurred_at > asked.occurred_at,
            *([Interaction.thread_id == asked.thread_id] if asked.thread_id else []),
        ).order_by(Interaction.occurred_at).limit(1))
        if reply is None:
            continue
        owner = session.get(Customer, asked.customer_id)
        names = [n for n in (owner.name if owner else None, asked.author_name) if n]
        text = anonymise_reply(reply.text, names=names)
        if text:
            snippets.append(Snippet(source_type="past_reply", source_id=f"reply:{reply.id}", text=text,
                                    score=1.0 - float(hit.distance)))
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


def newest_inbound(items: Sequence[HistoryItem]) -> HistoryItem | None:
    return latest_customer_message(items)


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
    snippets += past_replies(services, session, tenant_id=tenant_id, customer_id=customer.id, embedding=embedding)
    return ReplyInputs(items=items, insights=insights, snippets=snippets)


def suggest(services: Services, session: Session, *, principal: Principal, customer: Customer, message: str,
            channel: str) -> tuple[list[Suggestion], str, str | None]:
    tenant_id = principal.tenant_id
    assert tenant_id is not None
    now = utcnow()
    inputs = reply_inputs(services, session, tenant_id=tenant_id, customer=customer, message=message)
    result = build_suggestions(config=engine_config(services), items=inputs.items, insights=inputs.insights.insights,
                               message=message, channel=channel, snippets=inputs.snippets,
                               customer_name=customer.name)
    answers = newest_inbound(inputs.items)
    rows = [Suggestion(id=new_id(), tenant_id=tenant_id, customer_id=customer.id,
                       answers_interaction_id=answers.interaction_id if answers else None,
                       answers_occurred_at=answers.occurred_at if answers else None,
                       message=message, channel=channel, engine=result.engine, prompt_version=result.prompt_version,
                       rank=rank, text=reply.text, sources=list(reply.sources), requested_by=principal.name,
                       created_at=now)
            for rank, reply in enumerate(result.output)]
    session.add_all(rows)
    session.commit()
    return rows, result.engine, inputs.insights.insights.language


def stream_reply_text(services: Services, session: Session, *, tenant_id: str, customer: Customer, message: str,
                      channel: str) -> Iterator[str]:
    """Reply drafts as the model writes them (the sidebar shows them while they arrive); replies are separated
    by a line holding only `---`. Drafts are not recorded: the recorded suggestions come from `suggest`."""
    from copilot.engine.llm import stream_suggestion_text

    inputs = reply_inputs(services, session, tenant_id=tenant_id, customer=customer, message=message)
    return stream_suggestion_text(engine_config(services), items=inputs.items, insights=inputs.insights.insights,
                                  message=message, channel=channel, snippets=inputs.snippets,
                                  customer_name=customer.name)


def is_stale(session: Session, suggestion: Suggestion) -> bool:
    """A newer customer message arrived after the one this suggestion answers."""
    query = select(Interaction.id).where(Interaction.tenant_id == suggestion.tenant_id,
                                         Interaction.customer_id == suggestion.customer_id,
                                         Interaction.author_role == "customer")
    if suggestion.answers_occurred_at is not None:
        query = query.where(Interaction.occurred_at > suggestion.answers_occurred_at)
    else:
        query = query.where(Interaction.created_at > suggestion.created_at)
    return session.scalar(query.limit(1)) is not None


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
