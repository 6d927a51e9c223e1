"""The LLM engine behind the API: card and suggestions from an OpenAI-compatible server, streaming, fallback."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api
from tests.context.test_views import history_of_dana
from tests.support.fake_openai import FakeOpenAI

CARD = {"summary": "Order A-10293 never arrived; claim CLM-55120 is open with the carrier.",
        "facts": [{"kind": "order_id", "value": "A-10293", "ref": "I1"},
                  {"kind": "claim_number", "value": "CLM-55120", "ref": "I2"},
                  {"kind": "order_id", "value": "Z-77777", "ref": "I1"}],  # invented: the grounding drops it
        "open_items": [], "language": "en", "sentiment": "negative"}
REPLIES = {"suggestions": [{"text": "Claim CLM-55120 for order A-10293 is open; I will chase the carrier today.",
                            "sources": ["I2"]}]}


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def llm_api(settings_factory, database_url: str, base_url: str, timeout_s: float = 5.0) -> Iterator[Api]:  # noqa: ANN001
    from copilot.main import create_app

    settings = settings_factory(OMNICOPILOT_DATABASE_URL=database_url, OMNICOPILOT_ENGINE="llm",
                                OPENAI_BASE_URL=base_url, OPENAI_API_KEY="sk-test-abc",
                                OMNICOPILOT_LLM_MODEL="fake-model", OMNICOPILOT_LLM_TIMEOUT_S=timeout_s)
    with TestClient(create_app(settings)) as client:
        yield Api(client)


def test_card_and_suggestions_come_from_the_model_grounded(settings_factory, database_url, fake) -> None:  # noqa: ANN001
    fake.script(json.dumps(CARD), json.dumps(REPLIES))
    for api in llm_api(settings_factory, database_url, fake.base_url):
        api.ingest("acme", history_of_dana())
        dana = api.resolve("acme", "email:dana@example.com")["customer_id"]
        card = api.client.get(f"/v1/customers/{dana}/context", headers=api.auth("acme", "agent")).json()
        assert card["engine"] == "llm:fake-model" and card["dropped_identifiers"] >= 1
        assert "Z-77777" not in json.dumps(card) and {"A-10293", "CLM-55120"} <= {f["value"] for f in card["facts"]}
        body = api.client.post(f"/v1/customers/{dana}/suggestions", json={"message": "Any news?", "channel": "chat"},
                               headers=api.auth("acme", "agent")).json()
        assert body["engine"] == "llm:fake-model"
        assert "CLM-55120" in body["suggestions"][0]["text"]
    sent = fake.requests[0].body
    assert sent["model"] == "fake-model" and "max_tokens" in sent


def test_a_dead_model_server_falls_back_to_the_offline_engine(settings_factory, database_url, fake) -> None:  # noqa: ANN001
    fake.state.mode = "error_500"
    for api in llm_api(settings_factory, database_url, fake.base_url):
        api.ingest("acme", history_of_dana())
        dana = api.resolve("acme", "email:dana@example.com")["customer_id"]
        card = api.client.get(f"/v1/customers/{dana}/context", headers=api.auth("acme", "agent")).json()
        assert card["engine"].startswith("offline (llm fallback")
        assert "A-10293" in card["summary"] + " ".join(f["value"] for f in card["facts"])
        body = api.client.post(f"/v1/customers/{dana}/suggestions", json={"message": "Any news?", "channel": "sms"},
                               headers=api.auth("acme", "agent")).json()
        assert body["engine"].startswith("offline (llm fallback") and body["suggestions"]


def test_suggestions_stream_as_server_sent_events(settings_factory, database_url, fake) -> None:  # noqa: ANN001
    fake.script("Claim CLM-55120 is open. I will chase the carrier today.\n---\nThanks for waiting, Dana.")
    for api in llm_api(settings_factory, database_url, fake.base_url):
        api.ingest("acme", history_of_dana())
        dana = api.resolve("acme", "email:dana@example.com")["customer_id"]
        with api.client.stream("POST", f"/v1/customers/{dana}/suggestions/stream",
                               json={"message": "Any news?", "channel": "chat"},
                               headers=api.auth("acme", "agent")) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            lines = list(resp.iter_lines())
        data = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
        text = "".join(d.get("text", "") for d in data)
        assert len(data) > 3 and "CLM-55120" in text and "---" in text
        assert lines.index("event: suggestions") < lines.index("event: done")
        recorded = next(d for d in data if "suggestions" in d)["suggestions"]
        assert [r["text"] for r in recorded] == ["Claim CLM-55120 is open. I will chase the carrier today.",
                                                  "Thanks for waiting, Dana."]
        feedback = api.client.post(f"/v1/suggestions/{recorded[0]['id']}/feedback", json={"action": "accepted"},
                                   headers=api.auth("acme", "agent"))
        assert feedback.status_code == 200  # a streamed suggestion is recorded like any other
    assert fake.requests[-1].body.get("stream") is True
