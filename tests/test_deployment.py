"""The product as it is deployed: PostgreSQL, a `chroma run` server and Redis, two `serve` processes and two
`omnicopilot worker` processes (each with its own data directory, as on separate machines).

Records go in through both APIs and a signed webhook; one worker is killed with SIGKILL while it holds a
claimed batch. Every acknowledged record must end up in SQL once and in the index once, and a sidebar on one
API process must see a record ingested through the other.
"""
from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from websockets.sync.client import connect

from tests.conftest import MASTER_KEY, make_record, truncate_all
from tests.connectors.test_generic import SECRET, signed_headers
from tests.live.test_redis_workers import receive_type
from tests.support.processes import ChromaServer, ServeProcess, WorkerProcess

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.chroma_server]

CHUNK = 100  # records per POST
WEBHOOK_CHUNK = 10
DEADLINE_S = 300  # generous: the machine may be busy; nothing here measures time


def post_webhook(server: ServeProcess, tenant: str, records: list[dict[str, Any]]) -> tuple[int, Any]:
    body = json.dumps({"interactions": records}).encode()
    request = urllib.request.Request(f"{server.base}/v1/webhooks/{tenant}/generic", data=body, method="POST",
                                     headers=signed_headers(body))
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


class Killer(threading.Thread):
    """Watches the outbox; when the worker holds claimed rows it freezes it (SIGSTOP), checks the claim is
    still in hand, i.e. the worker is mid-batch, and kills it (SIGKILL). Otherwise it lets it go on."""

    def __init__(self, engine: Any, worker: WorkerProcess) -> None:
        super().__init__(name="killer", daemon=True)
        self.engine, self.worker = engine, worker
        self.held_at_kill: list[int] = []
        self.done = threading.Event()
        self.quit = threading.Event()

    def held(self) -> list[int]:
        assert self.worker.proc is not None
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(text("SELECT id FROM index_outbox WHERE claimed_by LIKE :who"),
                                                   {"who": f"%:{self.worker.proc.pid}:%"})]

    def run(self) -> None:
        while not self.quit.is_set():
            if self.held():
                self.worker.signal(signal.SIGSTOP)
                in_hand = self.held()
                if in_hand:
                    self.worker.kill()
                    self.held_at_kill = in_hand
                    self.done.set()
                    return
                self.worker.signal(signal.SIGCONT)
            time.sleep(0.002)


def test_two_apis_and_two_workers_lose_nothing_and_index_once_when_a_worker_is_killed(
        postgres_url: str, redis_url: str, tmp_path: Path) -> None:
    import chromadb

    from copilot.database.core import run_migrations
    from copilot.indexing.vectorstore import collection_name

    run_migrations(postgres_url)  # once, before the processes start (as a deploy step would)
    truncate_all(postgres_url)
    engine = create_engine(postgres_url)
    chroma = ChromaServer(tmp_path / "chroma-server").start()
    env = {"OMNICOPILOT_DATABASE_URL": postgres_url, "OMNICOPILOT_CHROMA_URL": chroma.url,
           "OMNICOPILOT_REDIS_URL": redis_url, "OMNICOPILOT_BACKGROUND": "workers", "OMNICOPILOT_LEASE_S": "5",
           "OMNICOPILOT_EMBEDDING_BACKEND": "hashing", "OMNICOPILOT_CACHE_DIR": str(tmp_path / "cache"),
           "OMNICOPILOT_MASTER_KEY": MASTER_KEY, "OMNICOPILOT_SECRET_KEY": "deploy-" + uuid.uuid4().hex,
           "OMNICOPILOT_PULL_INTERVAL_S": "0",
           "OMNICOPILOT_LOG_LEVEL": "warning"}
    apis: list[ServeProcess] = []
    workers: list[WorkerProcess] = []
    killer: Killer | None = None
    with contextlib.ExitStack() as stack:
        stack.callback(chroma.stop)
        stack.callback(engine.dispose)
        stack.callback(lambda: [p.stop() for p in apis + workers])  # type: ignore[operator]
        for name in ("api-a", "api-b"):
            apis.append(ServeProcess({**env, "OMNICOPILOT_DATA_DIR": str(tmp_path / name)},
                                     log_path=tmp_path / f"{name}.log").start())
        for name in ("worker-1", "worker-2"):
            workers.append(WorkerProcess({**env, "OMNICOPILOT_DATA_DIR": str(tmp_path / name)},
                                         tmp_path / f"{name}.log").start())
        a, b = apis
        tenant = "deploy-" + uuid.uuid4().hex[:8]
        assert a.call("POST", "/v1/admin/tenants", {"tenant": tenant}, key=MASTER_KEY)[0] == 201
        keys = {role: b.call("POST", "/v1/admin/api-keys", {"tenant": tenant, "role": role, "name": role},
                             key=MASTER_KEY)[1]["key"] for role in ("admin", "agent", "integration")}
        assert a.call("PUT", "/v1/connectors/generic", {"signing_secret": SECRET}, key=keys["admin"])[0] == 200

        acknowledged: list[str] = []

        def ingest_through(server: ServeProcess, records: list[dict[str, Any]]) -> None:
            status, body = server.call("POST", "/v1/interactions", {"interactions": records},
                                       key=keys["integration"])
            assert status == 200 and body["created"] == len(records), body
            acknowledged.extend(r["external_id"] for r in records)

        def webhook_through(server: ServeProcess, records: list[dict[str, Any]]) -> None:
            status, body = post_webhook(server, tenant, records)
            assert status == 202 and body["status"] == "accepted" and body["records"] == len(records), body
            acknowledged.extend(r["external_id"] for r in records)

        def chunk(n: int, size: int) -> list[dict[str, Any]]:
            return [make_record(customer={"email": f"c{(n + i) % 23}@example.com"},
                                text=f"Message {n}-{i} about order A-{n * 1000 + i}") for i in range(size)]

        # A sidebar on A watches a customer, before anything else happens.
        ingest_through(a, [make_record(customer={"email": "watched@example.com"}, text="First contact")])
        deadline = time.time() + DEADLINE_S
        while (found := a.call("GET", "/v1/customers/resolve?identity=email:watched@example.com",
                               key=keys["agent"]))[0] != 200:
            assert time.time() < deadline, found
            time.sleep(0.1)
        ws = stack.enter_context(connect(a.base.replace("http", "ws") + "/v1/ws"))
        ws.send(json.dumps({"type": "auth", "key": keys["agent"]}))
        receive_type(ws, "ready")
        ws.send(json.dumps({"type": "watch", "customer_id": found[1]["customer_id"]}))
        receive_type(ws, "watching")

        # Ingest through both APIs and the webhook until worker 1 has been killed holding a batch.
        killer = Killer(engine, workers[0])
        stack.callback(killer.quit.set)
        n = 0
        deadline = time.time() + DEADLINE_S
        while not killer.done.is_set():
            if n == 8:  # some history in first, then the kill
                killer.start()
            assert time.time() < deadline, "worker 1 was never seen holding a batch"
            ingest_through(apis[n % 2], chunk(n, CHUNK))
            if n % 4 == 3:
                webhook_through(apis[(n // 4) % 2], chunk(n + 500_000, WEBHOOK_CHUNK))
            n += 1
        assert killer.held_at_kill, "killed while holding claimed rows"
        assert workers[0].proc is not None and workers[0].proc.returncode == -signal.SIGKILL
        for extra in range(n, n + 6):  # the fleet goes on with one worker
            ingest_through(apis[extra % 2], chunk(extra, CHUNK))
            webhook_through(apis[(extra + 1) % 2], chunk(extra + 500_000, WEBHOOK_CHUNK))

        # The sidebar on A sees what came in through B.
        ingest_through(b, [make_record(customer={"email": "watched@example.com"}, text="Sent through B",
                                       occurred_at="2026-11-05T09:00:00Z")])
        assert receive_type(ws, "interaction")["interaction"]["text"] == "Sent through B"

        # Everything acknowledged is processed: deliveries ingested, outbox drained (the dead worker's claim too).
        deadline = time.time() + DEADLINE_S
        while True:
            with engine.connect() as conn:
                pending = conn.execute(text("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"
                                            " AND tenant_id = :t"), {"t": tenant}).scalar_one()
                backlog = conn.execute(text("SELECT count(*) FROM index_outbox")).scalar_one()
            if pending == 0 and backlog == 0:
                break
            assert time.time() < deadline, f"{pending} deliveries pending, {backlog} records not indexed"
            time.sleep(0.2)
        assert workers[1].proc is not None and workers[1].proc.poll() is None

        with engine.connect() as conn:
            statuses = {row[0] for row in conn.execute(text("SELECT DISTINCT status FROM webhook_deliveries WHERE "
                                                            "tenant_id = :t"), {"t": tenant})}
            rows = conn.execute(text("SELECT id, external_id FROM interactions WHERE tenant_id = :t"),
                                {"t": tenant}).all()
        assert statuses == {"processed"}
        external_ids = [row[1] for row in rows]
        assert sorted(external_ids) == sorted(acknowledged)  # in SQL: every one, and once
        assert len(set(external_ids)) == len(external_ids)

        parsed = urllib.parse.urlparse(chroma.url)
        collection = chromadb.HttpClient(host=parsed.hostname, port=parsed.port).get_collection(
            collection_name(tenant, "interactions"))
        ids = [row[0] for row in rows]
        found_ids: set[str] = set()
        for start in range(0, len(ids), 500):
            found_ids.update(collection.get(ids=ids[start:start + 500], include=[])["ids"])
        assert found_ids == set(ids)  # in the index: every one ...
        assert collection.count() == len(ids)  # ... and once (an id is one entry; nothing else is there)
        print(f"deployment: {len(ids)} records through 2 APIs and webhooks, 2 workers, worker 1 killed holding "
              f"{len(killer.held_at_kill)} claimed rows; all in SQL and in the index once")
