"""Live push to the agent sidebar: WebSocket connections per watched customer, fed by the event bus.

The bus calls us from whatever thread published (a request thread in-process, the Redis listener
thread across workers); we hop onto the event loop at once and do the database and engine work in
our own thread pool, so neither the bus nor the loop ever waits on it. Per event and customer the
card and suggestions are computed once, whoever watches; a burst for one customer is coalesced
(the next computation sees every message that arrived meanwhile).
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

from copilot.auth.service import Principal
from copilot.context.service import build_card, timeline_entry, to_history_item
from copilot.customers.service import get_customer
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

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LiveHub:
        self.loop = asyncio.get_running_loop()
        self._unsubscribe = self.services.bus.subscribe(self._on_event)
        return self

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
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
        if suggestions is not None:
            self.broadcast(key, {"type": "suggestions", "customer_id": customer_id, **suggestions})

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
            entry = timeline_entry(to_history_item(row))
            entry["thread_id"] = row.thread_id
            entry["created_at"] = row.created_at
            return entry

    def compute_card(self, *, tenant_id: str, customer_id: str) -> dict[str, Any]:
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

