"""Two `omnicopilot serve` processes sharing Redis (and the database and a Chroma server, as several API
processes must): each delivers every event to its own watchers."""
from __future__ import annotations

import contextlib
import json
import time
import uuid

import pytest
from websockets.sync.client import connect

from tests.conftest import MASTER_KEY, make_record
from tests.support.processes import ChromaServer, ServeProcess

pytestmark = [pytest.mark.redis, pytest.mark.chroma_server]


def receive_type(ws, kind: str, timeout_s: float = 120.0) -> dict:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while True:
        message = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message["type"] == kind:
            return message


def test_each_worker_pushes_what_another_ingested(redis_url: str, tmp_path) -> None:  # noqa: ANN001
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    chroma = ChromaServer(tmp_path / "chroma-server").start()
    workers = []
    with contextlib.ExitStack() as stack:
        stack.callback(chroma.stop)
        stack.callback(lambda: [w.stop() for w in workers])
        for name in ("a", "b"):
            workers.append(ServeProcess({
                "OMNICOPILOT_DATA_DIR": str(tmp_path / name), "OMNICOPILOT_CACHE_DIR": str(tmp_path / "cache"),
                "OMNICOPILOT_DATABASE_URL": database, "OMNICOPILOT_REDIS_URL": redis_url,
                "OMNICOPILOT_CHROMA_URL": chroma.url,
                "OMNICOPILOT_EMBEDDING_BACKEND": "hashing", "OMNICOPILOT_MASTER_KEY": MASTER_KEY,
                "OMNICOPILOT_PULL_INTERVAL_S": "0", "OMNICOPILOT_LOG_LEVEL": "warning"}).start())
        a, b = workers
        tenant = "t" + uuid.uuid4().hex[:8]
        keys = {role: a.call("POST", "/v1/admin/api-keys", {"tenant": tenant, "role": role, "name": role},
                             key=MASTER_KEY)[1]["key"] for role in ("agent", "integration")}
        assert a.call("POST", "/v1/interactions", {"interactions": [make_record()]}, key=keys["integration"])[0] == 200
        customer = a.call("GET", "/v1/customers/resolve?identity=email:dana@example.com", key=keys["agent"])[1]
        sockets = [stack.enter_context(connect(w.base.replace("http", "ws") + "/v1/ws")) for w in workers]
        pids = set()
        for ws in sockets:
            ws.send(json.dumps({"type": "auth", "key": keys["agent"]}))
            pids.add(receive_type(ws, "ready")["worker"])
            ws.send(json.dumps({"type": "watch", "customer_id": customer["customer_id"]}))
            receive_type(ws, "watching")
        assert len(pids) == 2  # really two processes
        status, _ = a.call("POST", "/v1/interactions", {"interactions": [make_record(
            text="Any news on A-10293?", occurred_at="2026-11-03T09:00:00Z")]}, key=keys["integration"])
        assert status == 200
        for ws in sockets:
            pushed = receive_type(ws, "interaction")
            assert pushed["interaction"]["text"] == "Any news on A-10293?"
            assert receive_type(ws, "card")["card"]["timeline"][0]["text"] == "Any news on A-10293?"
