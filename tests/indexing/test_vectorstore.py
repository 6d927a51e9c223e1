"""The vector index, embedded and on a Chroma server: one collection per tenant, fetched by id."""
from __future__ import annotations

from pathlib import Path

import pytest

from copilot.indexing.embeddings import HashingEmbedder
from copilot.indexing.vectorstore import VectorStore, collection_name
from tests.support.processes import ChromaServer


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.chroma_server)])
def store(request: pytest.FixtureRequest, tmp_path: Path):  # noqa: ANN201
    if request.param == "embedded":
        yield VectorStore(embedder=HashingEmbedder(), path=tmp_path / "chroma")
        return
    server = ChromaServer(tmp_path / "chroma-server").start()
    try:
        yield VectorStore(embedder=HashingEmbedder(), path=tmp_path / "unused", url=server.url)
    finally:
        server.stop()


def test_upsert_query_and_fetch_by_id_stay_within_a_tenant(store: VectorStore) -> None:
    store.upsert(tenant="acme", ids=["a1", "a2"], documents=["refund for order 1", "router keeps dropping"],
                 metadatas=[{"customer_id": "c1"}, {"customer_id": "c2"}])
    store.upsert(tenant="globex", ids=["g1"], documents=["refund for order 1"], metadatas=[{"customer_id": "c9"}])
    hits = store.query(tenant="acme", text="refund order", n_results=5)
    assert [h.id for h in hits][0] == "a1" and {h.id for h in hits} == {"a1", "a2"}
    assert hits[0].metadata == {"customer_id": "c1"} and hits[0].distance < hits[1].distance
    assert set(store.get_embeddings(tenant="acme", ids=["a1", "g1", "missing"])) == {"a1"}
    assert set(store.get_embeddings(tenant="globex", ids=["a1", "g1"])) == {"g1"}


def test_upsert_replaces_and_delete_and_reset_remove(store: VectorStore) -> None:
    store.upsert(tenant="acme", ids=["a1"], documents=["old"], metadatas=[{"v": 1}])
    store.upsert(tenant="acme", ids=["a1"], documents=["new"], metadatas=[{"v": 2}])
    assert store.count(tenant="acme") == 1
    assert store.query(tenant="acme", text="new", n_results=1)[0].metadata == {"v": 2}
    store.delete(tenant="acme", ids=["a1"])
    assert store.count(tenant="acme") == 0
    store.upsert(tenant="acme", ids=["a2"], documents=["x"], metadatas=[{"v": 3}], kind="knowledge")
    store.reset()
    assert store.count(tenant="acme", kind="knowledge") == 0


def test_collection_names_are_valid_and_distinct_for_any_tenant() -> None:
    names = {collection_name(t, "interactions") for t in ["acme", "ACME", "a/b c", "é" * 80, "a-b", "a_b"]}
    assert len(names) == 6
    assert all(3 <= len(n) <= 512 and n[0].isalnum() and n[-1].isalnum() for n in names)
