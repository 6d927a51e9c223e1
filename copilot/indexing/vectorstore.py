"""The Chroma side of the store: one collection per tenant and kind, so no search ever crosses tenants
and none needs a tenant filter (filtered search on a shared collection is far too slow, DESIGN §9).

Embedded `PersistentClient` in the data directory by default; a Chroma server when a URL is set.
"""
from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from copilot.indexing.embeddings import Embedder, OmnicopilotEmbeddingFunction

PREFIX = "oc"


@dataclass
class Hit:
    id: str
    document: str
    metadata: dict[str, Any]
    distance: float


def collection_name(tenant: str, kind: str) -> str:
    """Readable and valid for Chroma (3-512 of [a-zA-Z0-9._-]); the hash keeps distinct tenants distinct."""
    readable = re.sub(r"[^a-zA-Z0-9_-]", "-", tenant)[:40].strip("-_") or "t"
    digest = hashlib.sha256(f"{tenant}\0{kind}".encode()).hexdigest()[:12]
    return f"{PREFIX}-{kind}-{readable}-{digest}"


def make_client(*, path: Path, url: str | None) -> Any:
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url)
        return chromadb.HttpClient(host=parsed.hostname or "127.0.0.1",
                                   port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                                   ssl=parsed.scheme == "https", settings=settings)
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


class VectorStore:
    def __init__(self, *, embedder: Embedder, path: Path, url: str | None = None) -> None:
        self.embedder = embedder
        self.client = make_client(path=path, url=url)
        self.function = OmnicopilotEmbeddingFunction(backend=embedder.name)
        self._collections: dict[str, Any] = {}
        self._lock = threading.Lock()

    def collection(self, tenant: str, kind: str = "interactions") -> Any:
        name = collection_name(tenant, kind)
        with self._lock:
            found = self._collections.get(name)
            if found is None:
                found = self.client.get_or_create_collection(
                    name=name, embedding_function=self.function,
                    metadata={"tenant": tenant, "kind": kind, "embedder": self.embedder.name,
                              "hnsw:space": "cosine"})
                self._collections[name] = found
            return found

    def upsert(self, *, tenant: str, ids: Sequence[str], metadatas: Sequence[dict[str, Any]],
               documents: Sequence[str] | None = None, embeddings: Sequence[Sequence[float]] | None = None,
               kind: str = "interactions") -> None:
        """Documents are optional: SQL holds the text of interactions, and Chroma's full-text index of
        documents costs as much CPU as the write itself."""
        if not ids:
            return
        if embeddings is None:
            if documents is None:
                raise ValueError("upsert needs documents or embeddings")
            embeddings = self.embedder.embed(list(documents))
        self.collection(tenant, kind).upsert(ids=list(ids), metadatas=list(metadatas), embeddings=list(embeddings),
                                             documents=list(documents) if documents is not None else None)

    def get_embeddings(self, *, tenant: str, ids: Sequence[str], kind: str = "interactions"
                       ) -> dict[str, Sequence[float]]:
        """Stored vectors by id, as arrays (a request reads dozens: converting each float costs more than the
        lookup)."""
        if not ids:
            return {}
        found = self.collection(tenant, kind).get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(found["ids"], found["embeddings"], strict=True)}

    def query(self, *, tenant: str, text: str | None = None, embedding: Sequence[float] | None = None,
              n_results: int = 5, where: dict[str, Any] | None = None, kind: str = "interactions") -> list[Hit]:
        if embedding is None:
            if text is None:
                raise ValueError("query needs text or an embedding")
            embedding = self.embedder.embed([text])[0]
        collection = self.collection(tenant, kind)
        found = collection.query(query_embeddings=[list(embedding)], n_results=n_results, where=where,
                                 include=["documents", "metadatas", "distances"])
        return [Hit(id=i, document=d or "", metadata=dict(m or {}), distance=float(dist))
                for i, d, m, dist in zip(found["ids"][0], found["documents"][0], found["metadatas"][0],
                                         found["distances"][0], strict=True)]

    def count(self, *, tenant: str, kind: str = "interactions") -> int:
        return self.collection(tenant, kind).count()

    def delete(self, *, tenant: str, ids: Sequence[str], kind: str = "interactions") -> None:
        if ids:
            self.collection(tenant, kind).delete(ids=list(ids))

    def forget_collections(self) -> None:
        """Look collections up again on next use: another process may have dropped and recreated them."""
        with self._lock:
            self._collections.clear()

    def reset(self) -> None:
        """Drop every collection of ours (`omnicopilot reindex` rebuilds them from SQL)."""
        with self._lock:
            for collection in self.client.list_collections():
                name = collection if isinstance(collection, str) else collection.name
                if name.startswith(PREFIX + "-"):
                    self.client.delete_collection(name)
            self._collections.clear()

    def heartbeat(self) -> int:
        return self.client.heartbeat()
