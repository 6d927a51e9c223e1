"""Keeps Chroma in step with SQL: drains the outbox in batches, and rebuilds the index on demand.

The index is derived: whatever is committed but not yet indexed (a crash, a Chroma outage) waits in
`index_outbox` and is indexed when possible. Embedding of one batch overlaps with writing the
previous one to Chroma, so ingest runs near the embedder's own rate.

Any number of indexers (in `serve` processes and `omnicopilot worker`s) drain one outbox: each batch is
claimed with a lease (`copilot.worker.leases`). A batch whose indexer died is taken again once its lease
expires; writing it twice is harmless, since a Chroma upsert by interaction id replaces the entry.

Within a `serve` process requests come first: the indexer embeds in chunks and holds back while a request is in
flight (`foreground.ForegroundGate`).
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import delete, func, select

from copilot.config import Settings
from copilot.database.core import Database
from copilot.indexing.embeddings import Embedder, get_embedder
from copilot.indexing.foreground import ForegroundGate
from copilot.indexing.vectorstore import VectorStore
from copilot.interactions.models import IndexOutbox, Interaction
from copilot.worker import leases
from copilot.worker.leases import OUTBOX, Claim

log = logging.getLogger(__name__)
BATCH = 512  # larger batches pad less: texts are sorted by length within a batch
RETRY_DELAY_S = 2.0
INDEXER_NICENESS = 10
CHUNK = 16  # texts embedded between two looks at the foreground gate: a request waits at most about one chunk


def document_of(interaction: Interaction) -> str:
    return f"{interaction.subject}\n{interaction.text}" if interaction.subject else interaction.text


def metadata_of(interaction: Interaction) -> dict[str, Any]:
    """What a search may filter on; the rest is in SQL (each field costs Chroma a row per record)."""
    return {
        "tenant": interaction.tenant_id,
        "customer_id": interaction.customer_id,
        "channel": interaction.channel,
        "author_role": interaction.author_role,
        "occurred_ts": int(interaction.occurred_at.timestamp()),
    }


Batch = tuple[Claim, list[Interaction]]


class Indexer:
    """One per process. `start()` runs a background thread; `wake()` after a commit."""

    def __init__(self, *, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._embedder: Embedder | None = None
        self._store: VectorStore | None = None
        self._load_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._draining = threading.Lock()  # one drain at a time in a process; other processes claim apart
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-writer")
        self.last_error: str | None = None
        self.gate = ForegroundGate()

    @property
    def embedder(self) -> Embedder:
        with self._load_lock:
            if self._embedder is None:
                self._embedder = get_embedder(self.settings.embedding_backend, cache_dir=self.settings.cache_dir,
                                              threads=self.settings.embed_threads)
            return self._embedder

    @property
    def store(self) -> VectorStore:
        embedder = self.embedder
        with self._load_lock:
            if self._store is None:
                self._store = VectorStore(embedder=embedder, path=self.settings.chroma_path,
                                          url=self.settings.chroma_url)
            return self._store

    def backlog(self) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(IndexOutbox)) or 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="indexer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        self._writer.shutdown(wait=True)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        # Background indexing yields the CPU to requests: an agent waiting for a card comes first. Linux
        # applies this to this thread (and the model's worker threads it starts) only.
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), INDEXER_NICENESS)
        try:
            _ = self.store  # load the model and open the index before the first batch arrives
        except Exception as err:
            self.last_error = repr(err)
            log.exception("vector index unavailable; records wait in the outbox")
        while not self._stop.is_set():
            try:
                indexed = self.drain()
            except Exception as err:  # Chroma down, model broken: keep the records, try again later
                self.last_error = repr(err)
                log.exception("indexing failed; will retry")
                self._stop.wait(RETRY_DELAY_S)
                continue
            if not indexed:
                self._wake.wait(timeout=5.0)
                self._wake.clear()

    def _next_batch(self) -> Batch | None:
        held = leases.claim(self.db, OUTBOX, limit=BATCH, lease_s=self.settings.lease_s)
        if not held:
            return None
        with self.db.session() as session:
            found = session.execute(select(IndexOutbox.id, Interaction)
                                    .join(Interaction, Interaction.id == IndexOutbox.interaction_id)
                                    .where(IndexOutbox.id.in_(held.ids)).order_by(IndexOutbox.id)).all()
        return held, [row[1] for row in found]

    def _embed(self, texts: list[str]) -> list[list[float]]:
        """The batch's vectors, chunk by chunk, each chunk after the requests in flight (similar lengths share a
        chunk, so it pads little)."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), CHUNK):
            self.gate.wait_idle()
            chunk = order[start:start + CHUNK]
            for i, vector in zip(chunk, self.embedder.embed([texts[i] for i in chunk]), strict=True):
                vectors[i] = vector
        return vectors

    def _write(self, batch: Batch, vectors: list[list[float]]) -> None:
        held, interactions = batch
        self.gate.wait_idle()
        by_tenant: dict[str, list[int]] = {}
        for pos, interaction in enumerate(interactions):
            by_tenant.setdefault(interaction.tenant_id, []).append(pos)
        try:
            for tenant, positions in by_tenant.items():
                self.store.upsert(tenant=tenant,
                                  ids=[interactions[p].id for p in positions],
                                  metadatas=[metadata_of(interactions[p]) for p in positions],
                                  embeddings=[vectors[p] for p in positions])
        except Exception as err:
            self.store.forget_collections()  # another process may have dropped them (`reindex`)
            leases.release(self.db, OUTBOX, held, attempts=OUTBOX.c.attempts + 1, last_error=repr(err)[:2000])
            raise
        leases.finish(self.db, OUTBOX, held)

    def drain(self) -> int:
        """Index everything in the outbox now (what other indexers have not claimed); returns how many
        records this process indexed."""
        with self._draining:
            return self._drain()

    def _drain(self) -> int:
        total = 0
        pending: Future[None] | None = None
        batch: Batch | None = None
        try:
            while not self._stop.is_set():
                batch = self._next_batch()
                if batch is None:
                    break
                if not batch[1]:  # its interactions were deleted meanwhile: nothing to index
                    leases.finish(self.db, OUTBOX, batch[0])
                    batch = None
                    continue
                vectors = self._embed([document_of(i) for i in batch[1]])
                if pending is not None:
                    previous, pending = pending, None
                    previous.result()  # the previous batch reached Chroma before we queue the next
                pending = self._writer.submit(self._write, batch, vectors)
                total += len(batch[1])
                batch = None
            if pending is not None:
                previous, pending = pending, None
                previous.result()
        except BaseException:
            if batch is not None:  # claimed but not written: free it now rather than at lease expiry
                leases.release(self.db, OUTBOX, batch[0])
            if pending is not None:
                with contextlib.suppress(Exception):
                    pending.result()
            raise
        if total:
            self.last_error = None
        return total

    def rebuild(self, *, progress: Any = None, in_place: bool = False) -> int:
        """Rebuild the index from SQL (`omnicopilot reindex`): dropped first, or `in_place`, where every record
        is upserted by id into the live collections, so searches keep working meanwhile."""
        if not in_place:
            self.store.reset()
        with self.db.session() as session:
            session.execute(delete(IndexOutbox))
            ids = session.execute(select(Interaction.id, Interaction.tenant_id)).all()
            session.add_all(IndexOutbox(tenant_id=tenant, interaction_id=iid) for iid, tenant in ids)
            session.commit()
            from copilot.knowledge.service import reindex_all  # knowledge imports this module's store

            reindex_all(session, self.store)
        return self.drain()
