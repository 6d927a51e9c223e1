"""Secrets a customer typed are nowhere: not in an answer, the pages' data, the CSV, the database or index files,
the logs, or a prompt sent to the model (the LLM engine against the fake OpenAI server)."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, make_record
from tests.support.fake_openai import FakeOpenAI

SECRETS = ["4111 1111 1111 1111", "4111111111111111", "123-45-6789", "Hunter2!", "GB82 WEST 1234 5698 7654 32",
           "482913", "sk-proj-abcdefghijklmnop1234"]
TEXT = ("Order QX-5521 is late. My card is 4111 1111 1111 1111 (cvv 737), SSN 123-45-6789, my password is Hunter2! "
        "Refund to IBAN GB82 WEST 1234 5698 7654 32. The verification code was 482913. "
        "Our api key sk-proj-abcdefghijklmnop1234 leaked.")


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.state.responder = lambda body: "{}"  # an unusable answer: the offline engine keeps the card
        yield fake


def test_no_secret_is_anywhere(settings_factory, model: FakeOpenAI, caplog: pytest.LogCaptureFixture) -> None:  # noqa: ANN001
    from copilot.engine.selector import MODEL_JOBS
    from copilot.main import create_app

    caplog.set_level(logging.DEBUG)
    settings = settings_factory(OMNICOPILOT_ENGINE="llm", OPENAI_BASE_URL=model.base_url, OPENAI_API_KEY="sk-test-x",
                                OMNICOPILOT_LLM_MODEL="fake-model", OMNICOPILOT_EMBEDDING_BACKEND="hashing")
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        api.ingest("secret-co", [make_record(customer={"email": "lea@example.org"}, text=TEXT)])
        api.wait_indexed()
        customer = api.resolve("secret-co", "email:lea@example.org")["customer_id"]
        agent = api.auth("secret-co", "agent")
        answers = [client.get(f"/v1/customers/{customer}/context", headers=agent).text,
                   client.get(f"/v1/customers/{customer}/timeline", headers=agent).text,
                   client.post(f"/v1/customers/{customer}/suggestions", headers=agent,
                               json={"message": TEXT, "channel": "chat"}).text]
        assert MODEL_JOBS.wait_idle(timeout_s=600)
        supervisor = api.auth("secret-co", "supervisor")
        answers += [client.get("/v1/review/suggestions", headers=supervisor).text,
                    client.get("/v1/review/suggestions.csv", headers=supervisor).text]
    assert "QX-5521" in answers[0] and "[card ••1111]" in answers[1]
    prompts = json.dumps([r.body for r in model.requests], ensure_ascii=False)
    assert model.requests, "the model was asked"
    at_rest = b"".join(p.read_bytes() for p in Path(settings.data_dir).rglob("*") if p.is_file())
    logs = caplog.text
    for secret in SECRETS:
        for where, text in (("an answer", "\n".join(answers)), ("a prompt", prompts), ("the logs", logs)):
            assert secret not in text, f"{secret!r} in {where}"
        assert secret.encode() not in at_rest, f"{secret!r} in the data directory"
