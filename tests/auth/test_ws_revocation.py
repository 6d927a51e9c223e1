"""A revoked key's open WebSocket is closed (4401) within seconds, not at the next reconnect."""
from __future__ import annotations

import time

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.conftest import MASTER_KEY, Api

DEADLINE_S = 30  # the watcher checks every 2 s; the margin is for a loaded machine, not the expected delay


def test_revoking_a_key_closes_its_websocket(api: Api) -> None:
    created = api.client.post("/v1/admin/api-keys", json={"tenant": "wren-air", "role": "agent", "name": "Ola"},
                              headers={"Authorization": f"Bearer {MASTER_KEY}"}).json()
    other = api.key("wren-air", "supervisor")
    with api.client.websocket_connect("/v1/ws") as revoked, api.client.websocket_connect("/v1/ws") as kept:
        for ws, key in ((revoked, created["key"]), (kept, other)):
            ws.send_json({"type": "auth", "key": key})
            assert ws.receive_json()["type"] == "ready"
        resp = api.client.delete(f"/v1/admin/api-keys/{created['id']}",
                                 headers={"Authorization": f"Bearer {MASTER_KEY}"})
        assert resp.status_code == 200
        deadline = time.monotonic() + DEADLINE_S
        with pytest.raises(WebSocketDisconnect) as closed:
            while time.monotonic() < deadline:
                revoked.send_json({"type": "ping"})
                assert revoked.receive_json()["type"] == "pong"
                time.sleep(0.2)
        assert closed.value.code == 4401
        kept.send_json({"type": "ping"})
        assert kept.receive_json() == {"type": "pong"}
