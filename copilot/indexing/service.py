"""Keeps Chroma in step with SQL: drains the outbox in batches, and rebuilds the index on demand.

The index is derived: whatever is committed but not yet indexed (a crash, a Chroma outage) waits in
`index_outbox` and is indexed when possible. Embedding of one batch overlaps with writing the
previous one to Chroma, so ingest runs near the embedder's own rate.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import delete, func, select, update

from copilot.config import Settings
from copilot.database.core import Database
from copilot.indexing.embeddings import Embedder, get_embedder
from copilot.indexing.vectorstore import VectorStore
from copilot.interactions.models import IndexOutbox, Interaction

log = logging.getLogger(__name__)
BATCH = 512  # larger batches pad less: texts are sorted by length within a batch
RETRY_DELAY_S = 2.0
INDEXER_NICENESS = 10


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
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chroma-writer")
        self.last_error: str | None = None

    @property
    def embedder(self) -> Embedder:
        with self._load_lock:
            if self._embedder is None:
                self._embedder = get_embedder(self.settings.embedding_backend, cache_dir=self.settings.cache_dir)
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

    def _next_batch(self, after_id: int) -> list[tuple[int, Interaction]]:
        with self.db.session() as session:
            rows = session.execute(
                select(IndexOutbox.id, Interaction)
                .join(Interaction, Interaction.id == IndexOutbox.interaction_id)
                .where(IndexOutbox.id > after_id)
                .order_by(IndexOutbox.id).limit(BATCH)).all()
            return [(row[0], row[1]) for row in rows]

    def _write(self, batch: list[tuple[int, Interaction]], vectors: list[list[float]]) -> None:
        by_tenant: dict[str, list[int]] = {}
        for pos, (_, interaction) in enumerate(batch):
            by_tenant.setdefault(interaction.tenant_id, []).append(pos)
        try:
            for tenant, positions in by_tenant.items():
                self.store.upsert(tenant=tenant,
                                  ids=[batch[p][1].id for p in positions],
                                  metadatas=[metadata_of(batch[p][1]) for p in positions],
                                  embeddings=[vectors[p] for p in positions])
        except Exception as err:
            with self.db.session() as session:
                session.execute(update(IndexOutbox).where(IndexOutbox.id.in_([b[0] for b in batch]))
                                .values(attempts=IndexOutbox.attempts + 1, last_error=repr(err)[:2000]))
                session.commit()
            raise
        with self.db.session() as session:
            session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_([b[0] for b in batch])))
            session.commit()

    def drain(self) -> int:
        """Index everything in the outbox now; returns how many records were indexed."""
        total, after_id = 0, 0
        pending: Future[None] | None = None
        try:
            while not self._stop.is_set():
                batch = self._next_batch(after_id)
                if not batch:
                    break
                after_id = batch[-1][0]
                vectors = self.embedder.embed([document_of(i) for _, i in batch])
                if pending is not None:
                    pending.result()  # the previous batch reached Chroma before we queue the next
                pending = self._writer.submit(self._write, batch, vectors)
                total += len(batch)
        finally:
            if pending is not None:
                pending.result()
        if total:
            self.last_error = None
        return total

    def rebuild(self, *, progress: Any = None) -> int:
        """Drop the index and rebuild it from SQL (`omnicopilot reindex`)."""
        self.store.reset()
        with self.db.session() as session:
            session.execute(delete(IndexOutbox))
            ids = session.execute(select(Interaction.id, Interaction.tenant_id)).all()
            session.add_all(IndexOutbox(tenant_id=tenant, interaction_id=iid) for iid, tenant in ids)
            session.commit()
            from copilot.knowledge.service import reindex_all  # knowledge imports this module's store

            reindex_all(session, self.store)
        return self.drain()
