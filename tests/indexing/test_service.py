"""The index is derived from SQL: nothing committed is lost by a crash, an outage or a deleted index."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MASTER_KEY, make_record
from tests.support.processes import ChromaServer, ServeProcess

BIN = Path(sys.executable).parent


def stored_ids(settings, tenant: str, ids: list[str]) -> set[str]:  # noqa: ANN001
    from copilot.indexing.embeddings import get_embedder
    from copilot.indexing.vectorstore import VectorStore

    store = VectorStore(embedder=get_embedder(settings.embedding_backend, cache_dir=settings.cache_dir),
                        path=settings.chroma_path, url=settings.chroma_url)
    return set(store.get_embeddings(tenant=tenant, ids=ids))


def env_of(settings) -> dict[str, str]:  # noqa: ANN001
    env = {"OMNICOPILOT_DATA_DIR": str(settings.data_dir), "OMNICOPILOT_CACHE_DIR": str(settings.cache_dir),
           "OMNICOPILOT_EMBEDDING_BACKEND": settings.embedding_backend, "OMNICOPILOT_MASTER_KEY": MASTER_KEY,
           "OMNICOPILOT_DATABASE_URL": settings.sqlalchemy_url}
    if settings.chroma_url:
        env["OMNICOPILOT_CHROMA_URL"] = settings.chroma_url
    return env


def interaction_ids(server: ServeProcess, key: str, identity: str) -> list[str]:
    _, customer = server.call("GET", f"/v1/customers/resolve?identity={identity}", key=key)
    _, page = server.call("GET", f"/v1/customers/{customer['customer_id']}/timeline", key=key)
    return [item["interaction_id"] for item in page["items"]]


def test_api_ingest_reaches_the_index(api, settings) -> None:  # noqa: ANN001
    api.ingest("acme", [make_record(), make_record()])
    api.wait_indexed()
    customer = api.resolve("acme", "email:dana@example.com")["customer_id"]
    items = api.client.get(f"/v1/customers/{customer}/timeline", headers=api.auth("acme", "agent")).json()["items"]
    ids = [i["interaction_id"] for i in items]
    assert stored_ids(settings, "acme", ids) == set(ids)
    assert stored_ids(settings, "globex", ids) == set()  # one collection per tenant


@pytest.mark.chroma_server
def test_records_committed_during_a_chroma_outage_and_a_crash_are_indexed_on_restart(settings_factory,
                                                                                   database_url: str,
                                                                                   tmp_path: Path) -> None:
    chroma = ChromaServer(tmp_path / "chroma-server").start()
    settings = settings_factory(OMNICOPILOT_DATABASE_URL=database_url, OMNICOPILOT_CHROMA_URL=chroma.url)
    server = ServeProcess(env_of(settings)).start()
    try:
        _, created = server.call("POST", "/v1/admin/api-keys", {"tenant": "acme", "role": "admin"}, key=MASTER_KEY)
        key = created["key"]
        chroma.stop()  # outage: the records must still be accepted and kept
        status, body = server.call("POST", "/v1/interactions", {"interactions": [make_record() for _ in range(5)]},
                                   key=key)
        assert status == 200 and body["created"] == 5
        assert server.call("GET", "/healthz")[1]["index_backlog"] == 5
        server.kill()  # crash between the commit and the indexing

        chroma.start()
        server = ServeProcess(env_of(settings), port=server.port).start()
        server.wait_backlog_zero()
        ids = interaction_ids(server, key, "email:dana@example.com")
        assert len(ids) == 5
        assert stored_ids(settings, "acme", ids) == set(ids)
    finally:
        server.stop()
        chroma.stop()


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "omnicopilot"), *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=300)


def test_reindex_rebuilds_a_deleted_index_from_sql(settings_factory, tmp_path: Path) -> None:
    settings = settings_factory()
    records = tmp_path / "records.jsonl"
    records.write_text("\n".join(json.dumps(make_record(tenant="acme")) for _ in range(4)))
    env = env_of(settings)
    assert run_cli(env, "tenants", "create", "acme").returncode == 0
    assert run_cli(env, "import", str(records)).returncode == 0
    shutil.rmtree(settings.chroma_path)
    result = run_cli(env, "reindex", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"indexed": 4}
    from sqlalchemy import create_engine, text

    engine = create_engine(settings.sqlalchemy_url)
    with engine.connect() as conn:
        ids = [row[0] for row in conn.execute(text("SELECT id FROM interactions"))]
    engine.dispose()
    assert stored_ids(settings, "acme", ids) == set(ids)


def test_reindex_in_place_keeps_the_index_and_adds_what_it_lacks(settings_factory, tmp_path: Path) -> None:
    settings = settings_factory()
    env = env_of(settings)
    assert run_cli(env, "tenants", "create", "acme").returncode == 0
    first = tmp_path / "first.jsonl"
    first.write_text("\n".join(json.dumps(make_record(tenant="acme")) for _ in range(3)))
    assert run_cli(env, "import", str(first)).returncode == 0
    later = tmp_path / "later.jsonl"
    later.write_text("\n".join(json.dumps(make_record(tenant="acme")) for _ in range(2)))
    assert run_cli(env, "import", str(later), "--no-index").returncode == 0  # stored, not yet indexed
    from sqlalchemy import create_engine, text

    engine = create_engine(settings.sqlalchemy_url)
    with engine.connect() as conn:
        ids = [row[0] for row in conn.execute(text("SELECT id FROM interactions"))]
        conn.execute(text("DELETE FROM index_outbox"))  # as if the outbox had been lost: only a reindex helps
        conn.commit()
    engine.dispose()
    # (the index is read once, at the end: embedded Chroma must not be open in this process meanwhile)
    result = run_cli(env, "reindex", "--in-place", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"indexed": 5}
    assert stored_ids(settings, "acme", ids) == set(ids)
