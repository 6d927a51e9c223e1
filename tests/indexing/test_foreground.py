"""Requests come before background indexing: the gate, the API marking requests, the indexer's chunks."""
from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from copilot.indexing.embeddings import HashingEmbedder
from copilot.indexing.foreground import ForegroundGate
from copilot.indexing.service import CHUNK, Indexer

HUNG_RUN_S = 120  # only bounds a hung run; nothing here depends on how fast the machine is


def test_an_idle_gate_is_open_and_a_busy_one_holds_back_at_most_its_bound() -> None:
    gate = ForegroundGate(max_wait_s=0.0)
    assert gate.wait_idle() is True
    with gate.serving(), gate.serving():
        assert gate.in_flight == 2
        assert gate.wait_idle() is False  # busy, and the bound is up at once: background work goes on
    assert gate.in_flight == 0
    assert gate.wait_idle() is True


def test_a_waiting_indexer_goes_on_when_the_last_request_is_answered() -> None:
    gate = ForegroundGate(max_wait_s=HUNG_RUN_S)
    outcome: list[bool] = []
    with gate.serving():
        waiter = threading.Thread(target=lambda: outcome.append(gate.wait_idle()))
        waiter.start()
        assert outcome == []  # it cannot have passed: a request is still in flight
    waiter.join(HUNG_RUN_S)
    assert outcome == [True]


def test_the_api_marks_the_requests_an_agent_waits_on_but_not_bulk_ingest(settings) -> None:  # noqa: ANN001
    from copilot.main import create_app

    app = create_app(settings)

    def in_flight() -> dict:
        return {"in_flight": app.state.services.indexer.gate.in_flight}

    app.add_api_route("/v1/customers/probe/in/flight", in_flight)  # beside the card, replies and timeline
    app.add_api_route("/v1/interactions-probe", in_flight)
    with TestClient(app) as client:
        assert client.get("/v1/customers/probe/in/flight").json() == {"in_flight": 1}
        assert client.get("/v1/interactions-probe").json() == {"in_flight": 0}
        assert app.state.services.indexer.gate.in_flight == 0


def test_the_indexer_embeds_in_chunks_and_keeps_each_text_with_its_vector(settings) -> None:  # noqa: ANN001
    from copilot.database.core import Database

    indexer = Indexer(db=Database(settings.sqlalchemy_url), settings=settings)
    looks = []
    indexer.gate.wait_idle = lambda: looks.append(1) or True  # type: ignore[method-assign]
    texts = [f"message {'word ' * (n % 7)} number {n}" for n in range(3 * CHUNK + 5)]
    vectors = indexer._embed(texts)
    assert vectors == HashingEmbedder().embed(texts)  # same order as given, though embedded by length
    assert len(looks) == 4  # one look at the gate before each chunk
