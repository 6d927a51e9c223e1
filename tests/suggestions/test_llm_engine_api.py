"""The LLM engine behind the API, streaming: the sidebar's drafts as server-sent events, then recorded.

The card and the suggestions at once, then the model's versions, are tested in tests/context/test_views.py."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api
from tests.context.test_views import history_of_teodor
from tests.support.fake_openai import FakeOpenAI


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


def test_suggestions_stream_as_server_sent_events(settings_factory, database_url, fake) -> None:  # noqa: ANN001
    # Card and reply jobs may also reach the model in the background: only the streamed request gets the replies.
    streamed = "Claim CLM-55120 is open. I will chase the carrier today.\n---\nThanks for waiting, Teodor."
    fake.state.responder = lambda body: streamed if body.get("stream") else "{}"
    for api in llm_api(settings_factory, database_url, fake.base_url):
        api.ingest("acme", history_of_teodor())
        teodor = api.resolve("acme", "email:teodor@halden.example")["customer_id"]
        with api.client.stream("POST", f"/v1/customers/{teodor}/suggestions/stream",
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
                                                  "Thanks for waiting, Teodor."]
        feedback = api.client.post(f"/v1/suggestions/{recorded[0]['id']}/feedback", json={"action": "accepted"},
                                   headers=api.auth("acme", "agent"))
        assert feedback.status_code == 200  # a streamed suggestion is recorded like any other
    assert any(r.body.get("stream") is True for r in fake.requests)
