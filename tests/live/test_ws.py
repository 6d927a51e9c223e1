"""WS /v1/ws against the real app: authentication, watching, pushes within a second, tenant isolation."""
from __future__ import annotations

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
    ingest(api, "acme", text="My order A-10293 never arrived.", occurred_at="2026-11-02T16:40:00Z")
    customer = api.resolve("acme", "email:dana@example.com")
    ws, conn = connect(client, api.key("acme", "agent"))
    try:
        assert watch(conn, customer["customer_id"]) == {"type": "watching", "customer_id": customer["customer_id"],
                                                       "requested": customer["customer_id"]}
        ingest(api, "acme", text="Any news on order A-10293? I tried the locker already.",
               occurred_at="2026-11-03T11:15:00Z")
        got: dict[str, dict] = {}
        while len(got) < 3:
            message = conn.receive_json()
            got.setdefault(message["type"], message)
        assert got["interaction"]["interaction"]["text"].startswith("Any news on order A-10293")
        assert got["card"]["card"]["timeline"][0]["text"].startswith("Any news")
        assert any(f["value"] == "A-10293" for f in got["card"]["card"]["facts"])
        suggestions = got["suggestions"]
        assert suggestions["suggestions"] and suggestions["answers_interaction_id"] == \
            got["interaction"]["interaction"]["interaction_id"]
    finally:
        ws.__exit__(None, None, None)


def test_live_suggestions_become_stale_after_a_newer_message(client, api) -> None:  # noqa: ANN001
    ingest(api, "acme", text="Where is order A-10293?", occurred_at="2026-11-02T16:40:00Z")
    customer = api.resolve("acme", "email:dana@example.com")
    ws, conn = connect(client, api.key("acme", "agent"))
    try:
        watch(conn, customer["customer_id"])
        ingest(api, "acme", text="Hello? Still nothing for A-10293.", occurred_at="2026-11-03T11:15:00Z")
        message = conn.receive_json()
        while message["type"] != "suggestions":
            message = conn.receive_json()
        first = message["suggestions"][0]["id"]
        ingest(api, "acme", text="I want a refund now.", occurred_at="2026-11-03T12:15:00Z")
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
               occurred_at="2026-11-04T11:15:00Z")
        ingest(api, "globex", customer={"email": "omar@globex.example"}, text="Globex follow-up",
               occurred_at="2026-11-04T11:15:01Z")
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
        ingest(api, "acme", text="after unwatch", occurred_at="2026-11-05T11:15:00Z")
        conn.send_json({"type": "ping"})
        assert conn.receive_json() == {"type": "pong"}  # nothing about the unwatched customer came first
        conn.send_json({"type": "bogus"})
        assert conn.receive_json()["code"] == "bad_request"
    finally:
        ws.__exit__(None, None, None)


# -- the LLM engine: the offline card and replies first, the model's versions pushed when they arrive ---------
MODEL_CARD = {"summary": "Teodor asks again about order Q-40718; he already checked the parcel locker.",
              "facts": [{"kind": "order_id", "value": "Q-40718", "ref": "I1"}], "open_items": [],
              "language": "en", "sentiment": "neutral"}
MODEL_REPLIES = {"suggestions": [{"text": "Hi Teodor, I am checking order Q-40718 with the carrier now.",
                                  "sources": ["I2"]}]}


@pytest.fixture
def llm_client(settings_factory, database_url):  # noqa: ANN001, ANN201
    import json

    from fastapi.testclient import TestClient

    from copilot.main import create_app
    from tests.support.fake_openai import FakeOpenAI

    with FakeOpenAI() as fake:
        fake.state.responder = lambda body: json.dumps(
            MODEL_REPLIES if "draft replies" in json.dumps(body["messages"]) else MODEL_CARD)
        settings = settings_factory(OMNICOPILOT_DATABASE_URL=database_url, OMNICOPILOT_ENGINE="llm",
                                    OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="sk-test-live",
                                    OMNICOPILOT_LLM_MODEL="fake-model")
        with TestClient(create_app(settings)) as client:
            yield client


def test_models_card_and_replies_are_pushed_after_the_offline_ones(llm_client) -> None:  # noqa: ANN001
    from tests.conftest import Api

    api = Api(llm_client)
    customer = {"name": "Teodor Halden", "email": "teodor@halden.example"}
    ingest(api, "initech", customer=customer, author_name="Teodor Halden", text="Where is order Q-40718?",
           occurred_at="2026-11-02T16:40:00Z")
    customer_id = api.resolve("initech", "email:teodor@halden.example")["customer_id"]
    ws, conn = connect(llm_client, api.key("initech", "agent"))
    try:
        watch(conn, customer_id)
        ingest(api, "initech", customer=customer, author_name="Teodor Halden",
               text="Any news on order Q-40718? I checked the parcel locker.", occurred_at="2026-11-03T11:15:00Z")
        cards, suggestions = [], []
        while not (any(c.get("replaces") for c in cards) and any(s.get("replaces") for s in suggestions)):
            message = conn.receive_json()
            if message["type"] == "card":
                cards.append(message)
            elif message["type"] == "suggestions":
                suggestions.append(message)
            assert message["type"] != "model_fallback", message
        # The offline versions come first (unless the model was faster than the offline push: then only its own).
        model_card = next(c for c in cards if c.get("replaces"))
        assert all(c["card"]["pending"] == "llm:fake-model" for c in cards[:cards.index(model_card)])
        assert (model_card["engine"], model_card["replaces"]) == ("llm:fake-model", "offline")
        assert model_card["card"]["summary"] == MODEL_CARD["summary"]
        model_replies = next(s for s in suggestions if s.get("replaces"))
        assert all(s["engine"] == "offline" for s in suggestions[:suggestions.index(model_replies)])
        assert model_replies["engine"] == "llm:fake-model"
        assert [s["text"] for s in model_replies["suggestions"]] == [MODEL_REPLIES["suggestions"][0]["text"]]
        assert all(s["id"] for s in model_replies["suggestions"])  # recorded: feedback can refer to them
    finally:
        ws.__exit__(None, None, None)
