"""The context card (DESIGN §6, contract): who the customer is, what they already told us, at a glance."""
from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from threading import Lock

from sqlalchemy.orm import Session

from copilot.context.schemas import ContextCard
from copilot.customers.models import Customer
from copilot.customers.schemas import CustomerPublic
from copilot.customers.service import public_view
from copilot.database.core import utcnow
from copilot.engine.offline.bm25 import BM25Index
from copilot.engine.schemas import CardInsights
from copilot.engine.selector import (
    MODEL_JOBS,
    EngineConfig,
    EngineResult,
    build_insights,
    card_job_key,
    engine_window,
    history_state,
)
from copilot.interactions.models import Interaction
from copilot.interactions.schemas import TimelineItem
from copilot.interactions.timeline import history
from copilot.services import Services

log = logging.getLogger(__name__)
TIMELINE_LIMIT = 100
TIMELINE_TEXT_CHARS = 4000
MISTYPED_ID = "[mistyped id]"
CACHE_SIZE = 512


@dataclass
class Insights:
    insights: CardInsights
    engine: str
    prompt_version: str | None
    dropped_identifiers: int
    pending: str | None = None  # "llm:<model>" while the model's version is computed in the background


class InsightsCache:
    """Insights per customer, keyed by the state of the history, so repeat reads cost nothing."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple, Insights] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple) -> Insights | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple, value: Insights) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > CACHE_SIZE:
                self._items.popitem(last=False)


CACHE = InsightsCache()


def engine_config(services: Services, *, background: bool = True) -> EngineConfig:
    """The engine settings; `background` (the default: an agent is waiting) never waits for the model."""
    s = services.settings
    return EngineConfig(engine=s.engine, api_key=s.openai_api_key, base_url=s.openai_base_url, model=s.llm_model,
                        timeout_s=s.llm_timeout_s, background=background)


def to_history_item(row: Interaction) -> TimelineItem:
    return TimelineItem(interaction_id=row.id, source=row.source, external_id=row.external_id,
                       channel=row.channel, direction=row.direction, author_role=row.author_role,
                       author_name=row.author_name, thread_id=row.thread_id, subject=row.subject, text=row.text,
                       occurred_at=row.occurred_at)


def latest_customer_message(items: Sequence[TimelineItem]) -> TimelineItem | None:
    return next((i for i in reversed(items) if i.author_role == "customer"), None)


def relevant_ids(items: Sequence[TimelineItem]) -> list[str]:
    """The customer's interactions ranked by the words they share with the latest customer message (BM25).

    In memory and lexical, so the card never waits on the vector index while it is being written; ranking by
    embeddings instead made no difference to fact recall on the dev sets.
    """
    latest = latest_customer_message(items)
    if latest is None or len(items) < 2:
        return []
    index = BM25Index()
    for item in engine_window(items):
        if item.interaction_id != latest.interaction_id:
            index.add(item.interaction_id, f"{item.subject or ''}\n{item.text}")
    return [key for key, _ in index.search(f"{latest.subject or ''}\n{latest.text}", limit=len(index))]


def _insights(result: EngineResult[CardInsights]) -> Insights:
    return Insights(insights=result.output, engine=result.engine, prompt_version=result.prompt_version,
                    dropped_identifiers=result.dropped_identifiers, pending=result.pending)


def customer_insights(services: Services, *, tenant_id: str, items: list[TimelineItem], now: datetime,
                      background: bool = True) -> Insights:
    config = engine_config(services, background=background)
    key = (tenant_id, config.engine, *history_state(items), now.date().isoformat())
    cached = CACHE.get(key)
    if cached is not None and cached.pending:
        # The offline card was served while the model works: its version replaces it once it is there.
        kept = MODEL_JOBS.result(card_job_key(config, items, now))
        if kept is not None:
            cached = _insights(EngineResult(kept.output if kept.output is not None else cached.insights,
                                            kept.engine, kept.prompt_version, kept.dropped_identifiers))
            CACHE.put(key, cached)
    if cached is not None and (background or not cached.pending):
        return cached
    result = build_insights(config=config, items=items, now=now,
                            relevant_ids=relevant_ids(items))
    value = _insights(result)
    CACHE.put(key, value)
    return value


def timeline_entry(item: TimelineItem, mark: Callable[[str], str] | None = None) -> TimelineItem:
    """The card's and the live push's timeline item: the interaction, its text capped for the sidebar, and in
    the card the ids found to be typos marked (`mark`)."""
    text = item.text if len(item.text) <= TIMELINE_TEXT_CHARS else item.text[:TIMELINE_TEXT_CHARS] + "…"
    subject = item.subject
    if mark is not None:
        text, subject = mark(text), mark(subject) if subject else subject
    if text == item.text and subject == item.subject:
        return item
    return item.model_copy(update={"text": text, "subject": subject})


def typo_marker(mistyped_ids: Sequence[str]) -> Callable[[str], str] | None:
    """Replaces each mistyped id, as it was written, with `MISTYPED_ID`; the full history (the timeline API,
    the export) keeps it as written."""
    if not mistyped_ids:
        return None
    forms = sorted({v for v in mistyped_ids if v.strip()}, key=len, reverse=True)  # longest first: "AB-12" over "12"
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(v)}(?!\w)" for v in forms), re.IGNORECASE)
    return lambda text: pattern.sub(MISTYPED_ID, text)


def build_card(services: Services, session: Session, *, tenant_id: str, customer: Customer,
               wait_for_model: bool = False) -> ContextCard:
    """The card; with the LLM engine, the offline card and `pending` at once unless `wait_for_model` (the CLI)."""
    now = utcnow()
    items = [to_history_item(row) for row in history(session, tenant_id=tenant_id, customer_id=customer.id)]
    found = customer_insights(services, tenant_id=tenant_id, items=items, now=now, background=not wait_for_model)
    insights = found.insights
    mark = typo_marker(insights.mistyped_ids)
    return ContextCard(
        customer=CustomerPublic.model_validate(public_view(session, customer=customer)),
        summary=insights.summary,
        facts=insights.facts,
        open_items=insights.open_items,
        closed_items=insights.closed_items,
        language=insights.language,
        sentiment=insights.sentiment,
        timeline=[timeline_entry(i, mark) for i in reversed(items[-TIMELINE_LIMIT:])],
        engine=found.engine,
        pending=found.pending,
        prompt_version=found.prompt_version,
        dropped_identifiers=found.dropped_identifiers,
        generated_at=now,
    )
