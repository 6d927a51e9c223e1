"""Nothing acknowledged is ever lost: `kill -9` the server while records stream in through the API and signed
webhooks, start it again, and every record that got a 2xx is there (SQLite and PostgreSQL)."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
import uuid

from sqlalchemy import select

from copilot.database.core import Database
from copilot.interactions.models import Interaction
from tests.conftest import MASTER_KEY, make_record
from tests.indexing.test_service import env_of
from tests.support.processes import ServeProcess

SECRET = "durability-signing-secret-0123456789abcdef"
TENANT = "durable-co"
ACKS_BEFORE_KILL = 12
BATCH = 20


def post(base: str, path: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(base + path, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def signed(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Omnicopilot-Timestamp": ts, "X-Omnicopilot-Signature": f"sha256={digest}"}


def stream(server: ServeProcess, key: str, acked: list[str], stop: threading.Event) -> None:
    """Alternate API batches and webhook deliveries until the server is gone; keep the ids of every 2xx."""
    n = 0
    while not stop.is_set():
        records = [make_record(external_id=f"d-{n}-{i}-{uuid.uuid4().hex[:6]}",
                               customer={"email": f"c{n % 7}@durable.example"}) for i in range(BATCH)]
        body = json.dumps({"interactions": records}).encode()
        try:
            if n % 2:
                status = post(server.base, f"/v1/webhooks/{TENANT}/generic", body, signed(body))
            else:
                status = post(server.base, "/v1/interactions", body, {"Authorization": f"Bearer {key}"})
        except OSError:  # the server was killed mid-request: not acknowledged
            return
        if 200 <= status < 300:
            acked.extend(r["external_id"] for r in records)
        n += 1


def test_acknowledged_records_survive_kill_9(settings_factory, database_url: str) -> None:  # noqa: ANN001
    settings = settings_factory(OMNICOPILOT_DATABASE_URL=database_url)
    env = {**env_of(settings), "OMNICOPILOT_PULL_INTERVAL_S": "0"}
    server = ServeProcess(env).start()
    try:
        admin = server.call("POST", "/v1/admin/api-keys", {"tenant": TENANT, "role": "admin", "name": "admin"},
                            key=MASTER_KEY)[1]["key"]
        assert server.call("PUT", "/v1/connectors/generic", {"signing_secret": SECRET}, key=admin)[0] == 200
        acked: list[str] = []
        stop = threading.Event()
        poster = threading.Thread(target=stream, args=(server, admin, acked, stop), daemon=True)
        poster.start()
        while len(acked) < ACKS_BEFORE_KILL * BATCH and poster.is_alive():
            time.sleep(0.05)
        server.kill()
        stop.set()
        poster.join(timeout=120)
        assert len(acked) >= ACKS_BEFORE_KILL * BATCH
        server = ServeProcess(env, port=server.port).start()  # stored deliveries are ingested after a restart
        database = Database(settings.sqlalchemy_url)
        deadline = time.monotonic() + 240
        while True:
            with database.session() as session:
                stored = set(session.scalars(select(Interaction.external_id).where(Interaction.tenant_id == TENANT)))
            lost = [i for i in acked if i not in stored]
            if not lost or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        database.dispose()
        assert lost == []
    finally:
        server.stop()
