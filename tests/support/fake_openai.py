"""A real HTTP server speaking the OpenAI Chat Completions protocol, for testing the LLM engine end to end.

`POST /v1/chat/completions` answers with scripted content, as one JSON response or, when the request asks
`"stream": true`, as server-sent events (`chat.completion.chunk` objects, then `data: [DONE]`). It can be slowed
down (timeouts), made to fail with a 500, or to send a body that is not JSON; every request it receives is
recorded so tests can look at what the engine actually sent.

    with FakeOpenAI() as fake:
        fake.script('{"summary": "..."}')
        engine = LLMEngine(EngineConfig(engine="llm", base_url=fake.base_url, api_key=SecretStr("k")))
"""
from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Mode = Literal["ok", "error_500", "bad_body"]
Responder = Callable[[dict[str, Any]], str]


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (the timeout tests) leaves a broken pipe behind: expected, not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    def text(self, role: str | None = None) -> str:
        """All message contents (of one role, when given), joined: what the model was shown."""
        return "\n".join(str(m.get("content", "")) for m in self.messages if role is None or m.get("role") == role)


@dataclass
class FakeState:
    mode: Mode = "ok"
    delay_s: float = 0.0
    chunk_size: int = 12  # characters per streamed chunk
    scripted: list[str] = field(default_factory=list)  # answers used in order; the last one repeats
    responder: Responder | None = None  # computes the answer from the request instead
    requests: list[Recorded] = field(default_factory=list)


class FakeOpenAI:
    def __init__(self) -> None:
        self.state = FakeState()
        self._lock = threading.Lock()
        handler = _make_handler(self)
        self._server = QuietServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True  # a delayed answer must not block shutdown
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting -----------------------------------------------------------------------------------------
    def script(self, *answers: str | dict[str, Any]) -> None:
        """Answers for the next requests, in order (dicts are sent as their JSON text)."""
        self.state.scripted = [a if isinstance(a, str) else json.dumps(a) for a in answers]

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self.state.requests)

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    def _answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> str:
        with self._lock:
            self.state.requests.append(Recorded(path, headers, body))
            if self.state.responder is not None:
                return self.state.responder(body)
            if not self.state.scripted:
                return "{}"
            return self.state.scripted.pop(0) if len(self.state.scripted) > 1 else self.state.scripted[0]


def _make_handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep pytest output quiet
            return

        def _send_json(self, status: int, payload: Any) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send_json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
                return
            content = fake._answer(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            state = fake.state
            if state.delay_s:
                time.sleep(state.delay_s)
            if state.mode == "error_500":
                self._send_json(500, {"error": {"message": "scripted failure", "type": "server_error"}})
                return
            if state.mode == "bad_body":
                self._send_json(200, b"{this is not json")
                return
            model = str(body.get("model", "fake-model"))
            if body.get("stream"):
                self._stream(model, content, state.chunk_size)
            else:
                self._send_json(200, _completion(model, content))

        def _stream(self, model: str, content: str, size: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
            pieces = [content[i:i + size] for i in range(0, len(content), size)] or [""]
            events = [_chunk(cid, model, {"role": "assistant", "content": ""}, None)]
            events += [_chunk(cid, model, {"content": p}, None) for p in pieces]
            events.append(_chunk(cid, model, {}, "stop"))
            for event in events:
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": max(1, len(content) // 4), "total_tokens": 10},
    }


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
