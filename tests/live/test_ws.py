"""WS /v1/ws against the real app: authentication, watching, pushes within a second, tenant isolation."""
from __future__ import annotations

import time

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.conftest import make_record


def ingest(api, tenant: str, **overrides) -> None:  # noqa: ANN001
    api.ingest(tenant, [make_record(**overrides)])


def connect(client, key: str):  # noqa: ANN001, ANN201
    ws = client.websocket_connect("/v1/ws")
    conn = ws.__enter__()
    conn.send_json({"type": "auth", "key": key})
    ready = conn.receive_json()
    assert ready["type"] == "ready", ready
    return ws, conn


def watch(conn, customer_id: str) -> dict:  # noqa: ANN001
    conn.send_json({"type": "watch", "customer_id": customer_id})
    return conn.receive_json()


@pytest.mark.parametrize("first", [None, {"type": "auth", "key": "oc_wrong"}, {"type": "auth"},
                                   {"type": "watch", "customer_id": "x"}, "not json"])
def test_missing_or_wrong_key_is_refused(client, first) -> None:  # noqa: ANN001
    with client.websocket_connect("/v1/ws") as ws:
        if first is None:
            ws.send_text("")
        elif isinstance(first, str):
            ws.send_text(first)
        else:
            ws.send_json(first)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401


def test_ingest_only_key_cannot_watch(client, api) -> None:  # noqa: ANN001
    with client.websocket_connect("/v1/ws") as ws:
        ws.send_json({"type": "auth", "key": api.key("acme", "integration")})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4403


def test_watcher_gets_interaction_card_and_suggestions_within_a_second(client, api) -> None:  # noqa: ANN001
    ingest(api, "acme", text="My order A-10293 never arrived.", occurred_at="2026-11-02T14:03:00Z")
    customer = api.resolve("acme", "email:dana@example.com")
    ws, conn = connect(client, api.key("acme", "agent"))
    try:
        assert watch(conn, customer["customer_id"]) == {"type": "watching", "customer_id": customer["customer_id"],
                                                       "requested": customer["customer_id"]}
        started = time.perf_counter()
        ingest(api, "acme", text="Any news on order A-10293? I tried the locker already.",
               occurred_at="2026-11-03T09:00:00Z")
        got: dict[str, dict] = {}
        while len(got) < 3:
            message = conn.receive_json()
            got.setdefault(message["type"], message)
            got[message["type"]]["_at"] = time.perf_counter() - started
        assert got["interaction"]["interaction"]["text"].startswith("Any news on order A-10293")
        assert got["interaction"]["_at"] < 1.0
        assert got["card"]["card"]["timeline"][0]["text"].startswith("Any news")
        assert any(f["value"] == "A-10293" for f in got["card"]["card"]["facts"])
        assert got["card"]["_at"] < 1.0
        suggestions = got["suggestions"]
        assert suggestions["suggestions"] and suggestions["answers_interaction_id"] == \
            got["interaction"]["interaction"]["interaction_id"]
        assert suggestions["_at"] < 1.5
    finally:
        ws.__exit__(None, None, None)


def test_live_suggestions_become_stale_after_a_newer_message(client, api) -> None:  # noqa: ANN001
    ingest(api, "acme", text="Where is order A-10293?", occurred_at="2026-11-02T14:03:00Z")
    customer = api.resolve("acme", "email:dana@example.com")
    ws, conn = connect(client, api.key("acme", "agent"))
    try:
        watch(conn, customer["customer_id"])
        ingest(api, "acme", text="Hello? Still nothing for A-10293.", occurred_at="2026-11-03T09:00:00Z")
        message = conn.receive_json()
        while message["type"] != "suggestions":
            message = conn.receive_json()
        first = message["suggestions"][0]["id"]
        ingest(api, "acme", text="I want a refund now.", occurred_at="2026-11-03T10:00:00Z")
        resp = api.client.post(f"/v1/suggestions/{first}/feedback", json={"action": "accepted"},
                               headers=api.auth("acme", "agent"))
        assert resp.status_code == 200 and resp.json()["stale"] is True
    finally:
        ws.__exit__(None, None, None)


def test_tenants_never_see_each_other(client, api) -> None:  # noqa: ANN001
    ingest(api, "acme", customer={"email": "dana@example.com"})
    ingest(api, "globex", customer={"email": "omar@globex.example"}, text="Globex question")
    acme_customer = api.resolve("acme", "email:dana@example.com")["customer_id"]
    globex_customer = api.resolve("globex", "email:omar@globex.example")["customer_id"]
    ws, conn = connect(client, api.key("globex", "agent"))
    try:
        refused = watch(conn, acme_customer)
        assert refused["type"] == "error" and refused["code"] == "not_found"
        assert watch(conn, globex_customer)["type"] == "watching"
        # Published first: if it leaked, it would arrive before globex's own event.
        ingest(api, "acme", customer={"email": "dana@example.com"}, text="Acme secret A-99999",
               occurred_at="2026-11-04T09:00:00Z")
        ingest(api, "globex", customer={"email": "omar@globex.example"}, text="Globex follow-up",
               occurred_at="2026-11-04T09:00:01Z")
        seen = []
        while not any(m["type"] == "suggestions" for m in seen):
            seen.append(conn.receive_json())
        assert all(m["customer_id"] == globex_customer for m in seen)
        assert "Acme secret" not in str(seen) and "A-99999" not in str(seen)
        assert seen[0]["type"] == "interaction" and seen[0]["interaction"]["text"] == "Globex follow-up"
    finally:
        ws.__exit__(None, None, None)


def test_unwatch_and_ping(client, api) -> None:  # noqa: ANN001
    ingest(api, "acme")
    customer = api.resolve("acme", "email:dana@example.com")["customer_id"]
    ws, conn = connect(client, api.key("acme", "agent"))
    try:
        watch(conn, customer)
        conn.send_json({"type": "unwatch", "customer_id": customer})
        assert conn.receive_json() == {"type": "unwatched", "customer_id": customer}
        ingest(api, "acme", text="after unwatch", occurred_at="2026-11-05T09:00:00Z")
        conn.send_json({"type": "ping"})
        assert conn.receive_json() == {"type": "pong"}  # nothing about the unwatched customer came first
        conn.send_json({"type": "bogus"})
        assert conn.receive_json()["code"] == "bad_request"
    finally:
        ws.__exit__(None, None, None)
