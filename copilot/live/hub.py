"""Live push to the agent sidebar: WebSocket connections per watched customer, fed by the event bus.

The bus calls us from whatever thread published (a request thread in-process, the Redis listener
thread across workers); we hop onto the event loop at once and do the database and engine work in
our own thread pool, so neither the bus nor the loop ever waits on it. Per event and customer the
card and suggestions are computed once, whoever watches; a burst for one customer is coalesced
(the next computation sees every message that arrived meanwhile).

With the LLM engine the card and suggestions pushed first are the offline engine's (`pending` says the model's
follow); when a model job ends, its version is pushed to this worker's watchers of that customer: `card` or
`suggestions` with `engine: "llm:<model>"` and `replaces: "offline"`, or `model_fallback` when the model failed
and the offline version stays. A version for a history that has moved on is not pushed (a newer job follows).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket
from fastapi.encoders import jsonable_encoder

from copilot.auth.revocation import KeyWatcher
from copilot.auth.service import Principal
from copilot.context.schemas import ContextCard
from copilot.context.service import build_card, timeline_entry, to_history_item
from copilot.customers.service import get_customer
from copilot.engine.selector import MODEL_JOBS, JobDone, history_state
from copilot.exceptions import NotFound
from copilot.interactions.models import Interaction
from copilot.services import Services

log = logging.getLogger(__name__)
SEND_QUEUE = 256  # messages a slow client may lag behind before it is dropped (it reconnects and catches up)
POOL_WORKERS = 2  # card and suggestion work is CPU-bound Python: more threads only fight over the GIL
Key = tuple[str, str]  # (tenant id, customer id)


@dataclass(eq=False)
class Connection:
    """One authenticated socket; a writer task drains its queue so a slow client never blocks others."""

    websocket: WebSocket
    principal: Principal
    watching: set[str] = field(default_factory=set)
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(SEND_QUEUE))
    closed: bool = False

    @property
    def tenant_id(self) -> str:
        assert self.principal.tenant_id is not None
        return self.principal.tenant_id

    def offer(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("dropping a live client that fell %d messages behind", SEND_QUEUE)
            self.closed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)  # the writer closes the socket

    async def writer(self) -> None:
        while True:
            message = await self.queue.get()
            if message is None:
                with contextlib.suppress(Exception):
                    await self.websocket.close(code=1013)  # try again later: reconnect and refetch
                return
            try:
                await self.websocket.send_json(message)
            except Exception:  # the socket is gone; the reader notices and unregisters
                self.closed = True
                return


@dataclass
class Pending:
    """Work queued for one customer: whether a computation runs and whether events came in meanwhile."""

    running: bool = False
    dirty: bool = False
    wants_suggestions: bool = False


class LiveHub:
    def __init__(self, services: Services, *, pool_workers: int = POOL_WORKERS) -> None:
        self.services = services
        self.pool = ThreadPoolExecutor(max_workers=pool_workers, thread_name_prefix="live")
        # Loading the new interaction is one quick query: never queued behind card or suggestion work.
        self.fast_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="live-fast")
        self.watchers: dict[Key, set[Connection]] = defaultdict(set)
        self.pending: dict[Key, Pending] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._unsubscribe_jobs: Callable[[], None] | None = None
        # The newest interaction of the history each model version pushed last was for (per customer and task):
        # an offline version of that same history computed meanwhile must not be pushed after it.
        self.model_pushed: dict[tuple[Key, str], str] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LiveHub:
        self.loop = asyncio.get_running_loop()
        self._unsubscribe = self.services.bus.subscribe(self._on_event)
        self._unsubscribe_jobs = MODEL_JOBS.subscribe(self._on_model_done)
        self.key_watcher = KeyWatcher(self.services.db).start()  # closes sockets of revoked or expired keys
        return self

    def stop(self) -> None:
        if getattr(self, "key_watcher", None) is not None:
            self.key_watcher.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._unsubscribe_jobs is not None:
            self._unsubscribe_jobs()
            self._unsubscribe_jobs = None
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.fast_pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, fn: Callable[..., Any], *args: Any, fast: bool = False, **kwargs: Any) -> Any:
        assert self.loop is not None
        return await self.loop.run_in_executor(self.fast_pool if fast else self.pool, lambda: fn(*args, **kwargs))

    # -- connections -----------------------------------------------------------------------------

    def watch(self, conn: Connection, customer_id: str) -> None:
        conn.watching.add(customer_id)
        self.watchers[(conn.tenant_id, customer_id)].add(conn)

    def unwatch(self, conn: Connection, customer_id: str) -> None:
        conn.watching.discard(customer_id)
        key = (conn.tenant_id, customer_id)
        found = self.watchers.get(key)
        if found is not None:
            found.discard(conn)
            if not found:
                del self.watchers[key]
                self.model_pushed.pop((key, "card"), None)
                self.model_pushed.pop((key, "suggestions"), None)

    def drop(self, conn: Connection) -> None:
        for customer_id in list(conn.watching):
            self.unwatch(conn, customer_id)
        conn.closed = True

    def resolve_watch(self, principal: Principal, customer_id: str) -> str:
        """The live id of a customer of the caller's tenant (a merged id follows to its survivor)."""
        with self.services.db.session() as session:
            return get_customer(session, tenant_id=principal.tenant_id, customer_id=customer_id).id

    # -- events ----------------------------------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        """Bus callback, on the publisher's thread: only hand over to the loop."""
        if event.get("type") != "interaction.created" or self.loop is None or self.loop.is_closed():
            return
        received = time.time()
        with contextlib.suppress(RuntimeError):  # loop shutting down
            self.loop.call_soon_threadsafe(self._dispatch, event, received)

    def _dispatch(self, event: dict[str, Any], received: float) -> None:
        tenant, customer_id = str(event.get("tenant") or ""), str(event.get("customer_id") or "")
        key = (tenant, customer_id)
        if not tenant or key not in self.watchers:
            return  # nobody here watches: no work at all
        asyncio.ensure_future(self._handle(key, str(event.get("interaction_id") or ""), received))

    async def _handle(self, key: Key, interaction_id: str, received: float) -> None:
        try:
            item = await self.run(self.load_interaction, fast=True, tenant_id=key[0], interaction_id=interaction_id)
        except Exception:
            log.exception("live: cannot load interaction %s", interaction_id)
            return
        if item is None:
            return
        self.broadcast(key, {"type": "interaction", "customer_id": key[1], "interaction": item,
                             "received_at": received})
        pending = self.pending.setdefault(key, Pending())
        pending.wants_suggestions |= item.get("author_role") == "customer"
        if pending.running:
            pending.dirty = True  # the running computation's successor will include this message
            return
        pending.running = True
        try:
            while True:
                pending.dirty = False
                with_suggestions, pending.wants_suggestions = pending.wants_suggestions, False
                await self._refresh(key, with_suggestions=with_suggestions)
                if not pending.dirty or key not in self.watchers:
                    break
        finally:
            pending.running = False
            if not pending.dirty:
                self.pending.pop(key, None)

    async def _refresh(self, key: Key, *, with_suggestions: bool) -> None:
        tenant_id, customer_id = key
        try:
            card = await self.run(self.compute_card, tenant_id=tenant_id, customer_id=customer_id)
        except Exception:
            log.exception("live: card for %s failed", customer_id)
            return
        newest = card.timeline[0].interaction_id if card.timeline else ""
        if not (card.pending and self.model_pushed.get((key, "card")) == newest):  # else the model's is out already
            self.broadcast(key, {"type": "card", "customer_id": customer_id, "card": card})
        if not with_suggestions:
            return
        names = sorted({c.principal.name for c in self.watchers.get(key, ())})
        try:
            suggestions = await self.run(self.compute_suggestions, tenant_id=tenant_id, customer_id=customer_id,
                                         requested_by=names[0] if len(names) == 1 else "live")
        except Exception:
            log.exception("live: suggestions for %s failed", customer_id)
            return
        if suggestions is not None and not (suggestions["engine"] == "offline"
                                            and self.model_pushed.get((key, "suggestions")) == newest):
            self.broadcast(key, {"type": "suggestions", "customer_id": customer_id, **suggestions})

    # -- the model's versions -------------------------------------------------------------------

    def _on_model_done(self, done: JobDone) -> None:
        """Model job listener, on the job's thread: only hand over to the loop."""
        if not done.items or self.loop is None or self.loop.is_closed() or not self.watchers:
            return
        with contextlib.suppress(RuntimeError):  # loop shutting down
            self.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._push_model_version(done)))

    async def _push_model_version(self, done: JobDone) -> None:
        try:
            owner = await self.run(self.owner_of, interaction_id=done.items[-1].interaction_id, fast=True)
        except Exception:
            log.exception("live: cannot find whose history a model job read")
            return
        if owner is None or owner not in self.watchers:
            return  # another app's job (the pool is per process), or nobody here watches
        tenant_id, customer_id = owner
        engine = done.result.engine
        if not engine.startswith("llm:"):
            self.broadcast(owner, {"type": "model_fallback", "customer_id": customer_id, "task": done.task,
                                   "engine": engine})
            return
        try:
            if done.task == "card":
                card = await self.run(self.compute_card, tenant_id=tenant_id, customer_id=customer_id)
                if card.engine != engine:
                    return  # the history moved on: its own job follows
                self.model_pushed[(owner, "card")] = done.items[-1].interaction_id
                self.broadcast(owner, {"type": "card", "customer_id": customer_id, "card": card, "engine": engine,
                                       "replaces": "offline"})
            else:
                suggestions = await self.run(self.record_model_suggestions, tenant_id=tenant_id,
                                             customer_id=customer_id, done=done)
                if suggestions is not None:
                    self.model_pushed[(owner, "suggestions")] = done.items[-1].interaction_id
                    self.broadcast(owner, {"type": "suggestions", "customer_id": customer_id, **suggestions,
                                           "replaces": "offline"})
        except Exception:
            log.exception("live: pushing the model's %s for %s failed", done.task, customer_id)

    def broadcast(self, key: Key, message: dict[str, Any]) -> None:
        payload = jsonable_encoder(message)
        for conn in list(self.watchers.get(key, ())):
            conn.offer(payload)

    # -- blocking work (thread pool) -------------------------------------------------------------

    def load_interaction(self, *, tenant_id: str, interaction_id: str) -> dict[str, Any] | None:
        with self.services.db.session() as session:
            row = session.get(Interaction, interaction_id)
            if row is None or row.tenant_id != tenant_id:
                return None
            entry = timeline_entry(to_history_item(row)).model_dump()
            entry["created_at"] = row.created_at
            return entry

    def owner_of(self, *, interaction_id: str) -> Key | None:
        with self.services.db.session() as session:
            row = session.get(Interaction, interaction_id)
            return None if row is None else (row.tenant_id, row.customer_id)

    def record_model_suggestions(self, *, tenant_id: str, customer_id: str, done: JobDone) -> dict[str, Any] | None:
        """Record the model's replies as shown (they are pushed now), unless the history moved on."""
        from copilot.interactions.timeline import history
        from copilot.suggestions.service import record_suggestions

        with self.services.db.session() as session:
            customer = get_customer(session, tenant_id=tenant_id, customer_id=customer_id)
            items = [to_history_item(r) for r in history(session, tenant_id=tenant_id, customer_id=customer.id)]
            if history_state(items) != history_state(done.items):
                return None
            names = sorted({c.principal.name for c in self.watchers.get((tenant_id, customer_id), ())})
            message, channel = str(done.context.get("message", "")), str(done.context.get("channel", ""))
            rows = record_suggestions(session, tenant_id=tenant_id, customer=customer, items=items, message=message,
                                      channel=channel, engine=done.result.engine,
                                      prompt_version=done.result.prompt_version, replies=done.result.output,
                                      requested_by=names[0] if len(names) == 1 else "live")
            answers = rows[0].answers_interaction_id if rows else None
            return {"engine": done.result.engine, "message": message, "channel": channel,
                    "answers_interaction_id": answers,
                    "suggestions": [{"id": r.id, "text": r.text, "sources": r.sources, "engine": r.engine,
                                     "stale": False, "answers_interaction_id": r.answers_interaction_id}
                                    for r in rows]}

    def compute_card(self, *, tenant_id: str, customer_id: str) -> ContextCard:
        with self.services.db.session() as session:
            customer = get_customer(session, tenant_id=tenant_id, customer_id=customer_id)
            return build_card(self.services, session, tenant_id=tenant_id, customer=customer)

    def compute_suggestions(self, *, tenant_id: str, customer_id: str, requested_by: str) -> dict[str, Any] | None:
        from sqlalchemy import select

        from copilot.suggestions.service import suggest

        with self.services.db.session() as session:
            try:
                customer = get_customer(session, tenant_id=tenant_id, customer_id=customer_id)
            except NotFound:
                return None
            latest = session.scalar(select(Interaction).where(
                Interaction.tenant_id == tenant_id, Interaction.customer_id == customer.id,
                Interaction.author_role == "customer").order_by(Interaction.occurred_at.desc(),
                                                                 Interaction.id.desc()).limit(1))
            if latest is None:
                return None
            principal = Principal(key_id="live", tenant_id=tenant_id, role="agent", name=requested_by)
            rows, engine, language = suggest(self.services, session, principal=principal, customer=customer,
                                             message=latest.text, channel=latest.channel, discard_if_stale=True)
            if not rows:
                return None  # a newer message arrived meanwhile; its own suggestions follow
            return {"engine": engine, "language": language, "answers_interaction_id": latest.id,
                    "answers_occurred_at": latest.occurred_at, "message": latest.text, "channel": latest.channel,
                    "suggestions": [{"id": r.id, "text": r.text, "sources": r.sources, "engine": r.engine,
                                     "stale": False, "answers_interaction_id": r.answers_interaction_id}
                                    for r in rows]}

