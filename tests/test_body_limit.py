"""Body limits hold while the body is read: declared, chunked and streamed bodies alike."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from copilot.main import BodyLimit, create_app

LIMIT = 64_000


@pytest.fixture
def small_limit_client(settings_factory) -> Iterator[TestClient]:  # noqa: ANN001 - fixture
    with TestClient(create_app(settings_factory(OMNICOPILOT_MAX_BODY_BYTES=str(LIMIT)))) as client:
        yield client


def chunks(total: int, size: int = 8_192) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


@pytest.mark.parametrize("path", ["/v1/interactions", "/v1/webhooks/acme/generic", "/v1/knowledge"])
def test_chunked_body_past_the_limit_is_413_before_auth(small_limit_client: TestClient, path: str) -> None:
    resp = small_limit_client.post(path, content=chunks(LIMIT * 50), headers={"content-type": "application/json"})
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"


def test_the_limit_stops_reading_at_the_limit() -> None:
    async def reads_everything(scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).body()
        await PlainTextResponse("read")(scope, receive, send)

    pulled: list[int] = []
    sent: list[Message] = []

    async def receive() -> Message:
        pulled.append(8_192)
        return {"type": "http.request", "body": b"x" * 8_192, "more_body": True}  # an endless upload

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    asyncio.run(BodyLimit(reads_everything, max_bytes=LIMIT)(scope, receive, send))
    assert sent[0]["status"] == 413
    assert sum(pulled) <= LIMIT + 8_192


def test_declared_length_past_the_limit_is_413(small_limit_client: TestClient) -> None:
    resp = small_limit_client.post("/v1/interactions", content=b"{" + b" " * LIMIT + b"}",
                                   headers={"content-type": "application/json"})
    assert resp.status_code == 413


def test_chunked_body_within_the_limit_goes_through(small_limit_client: TestClient) -> None:
    resp = small_limit_client.post("/v1/interactions", content=iter([b'{"interactions"', b": []}"]),
                                   headers={"content-type": "application/json"})
    assert resp.status_code == 401  # read in full, then refused for the missing key
