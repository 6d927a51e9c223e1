"""With a model configured, the sidebar shows the replies as the model writes them, then the recorded ones."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.conftest import MASTER_KEY, make_record
from tests.support.fake_openai import FakeOpenAI
from tests.support.processes import ServeProcess
from tests.web.conftest import new_key
from tests.web.test_browser import sign_in

pytestmark = pytest.mark.browser

CARD = {"summary": "Order A-10293 never arrived; the customer checked with the neighbours.",
        "facts": [{"kind": "order_id", "value": "A-10293", "ref": "I1"}], "open_items": [], "language": "en",
        "sentiment": "negative"}
STREAMED = "I have chased the carrier about A-10293 today.\n---\nThanks for waiting, Dana."


def answer(request: dict) -> str:
    if request.get("stream"):
        return STREAMED
    prompt = json.dumps(request.get("messages", []))
    if "suggestions" in prompt and "summary" not in prompt:
        return json.dumps({"suggestions": [{"text": "Not streamed.", "sources": ["I1"]}]})
    return json.dumps(CARD)


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.state.responder = answer
        yield fake


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory: pytest.TempPathFactory, model: FakeOpenAI) -> Iterator[ServeProcess]:
    data = tmp_path_factory.mktemp("serve-llm")
    proc = ServeProcess({"OMNICOPILOT_DATA_DIR": str(data / "data"), "OMNICOPILOT_CACHE_DIR": str(data / "cache"),
                         "OMNICOPILOT_EMBEDDING_BACKEND": "hashing", "OMNICOPILOT_MASTER_KEY": MASTER_KEY,
                         "OMNICOPILOT_PULL_INTERVAL_S": "0", "OMNICOPILOT_ENGINE": "llm",
                         "OPENAI_BASE_URL": model.base_url, "OPENAI_API_KEY": "sk-test-stream",
                         "OMNICOPILOT_LLM_MODEL": "fake-model"}).start()
    yield proc
    proc.stop()


def test_sidebar_streams_model_replies_and_records_them(llm_server, browser, model) -> None:  # noqa: ANN001
    ingest = new_key(llm_server, "acme", "integration")
    agent = new_key(llm_server, "acme", "agent", "ann")
    records = [make_record(text="My order A-10293 never arrived. I already checked with my neighbours.")]
    assert llm_server.call("POST", "/v1/interactions", {"interactions": records}, key=ingest)[0] == 200
    page = browser.new_context(viewport={"width": 400, "height": 900}).new_page()
    page.goto(f"{llm_server.base}/sidebar?identity=email:dana@example.com")
    sign_in(page, agent)
    # The agent never waits for the model: the offline card and replies come at once.
    page.wait_for_selector("#suggestions .suggestion[data-suggestion-id]")
    # Once the model's card is there, the sidebar streams the model's replies as it writes them.
    _, found = llm_server.call("GET", "/v1/customers/resolve?identity=email:dana@example.com", key=agent)
    deadline = time.monotonic() + 120
    while llm_server.call("GET", f"/v1/customers/{found['customer_id']}/context", key=agent)[1]["engine"] \
            != "llm:fake-model" and time.monotonic() < deadline:
        time.sleep(0.1)
    page.reload()
    page.wait_for_selector("#suggestions .suggestion-text:has-text('I have chased the carrier')")
    texts = page.locator("#suggestions .suggestion[data-suggestion-id] .suggestion-text").all_inner_texts()
    assert texts == ["I have chased the carrier about A-10293 today.", "Thanks for waiting, Dana."]
    assert "llm:fake-model" in page.inner_text("#card-meta")
    assert any(r.body.get("stream") for r in model.requests)  # the replies came through the stream
