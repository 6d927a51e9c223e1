"""Schemathesis over /openapi.json against a real `serve`: whatever a caller sends, never a 5xx."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conftest import MASTER_KEY
from tests.indexing.test_service import env_of
from tests.support.processes import ServeProcess

EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, str]]:
    from copilot.config import Settings

    root = tmp_path_factory.mktemp("fuzz")
    config = Settings(OMNICOPILOT_DATA_DIR=root / "data", OMNICOPILOT_CACHE_DIR=root / "cache",  # type: ignore[call-arg]
                      OMNICOPILOT_EMBEDDING_BACKEND="hashing", OMNICOPILOT_MASTER_KEY=MASTER_KEY)
    server = ServeProcess({**env_of(config), "OMNICOPILOT_PULL_INTERVAL_S": "0"}).start()
    try:
        status, body = server.call("POST", "/v1/admin/api-keys", {"tenant": "fuzz-co", "role": "admin",
                                                                  "name": "fuzzer"}, key=MASTER_KEY)
        assert status == 201, body
        yield server, body["key"]
    finally:
        server.stop()


def test_no_input_reaches_a_5xx(served: tuple[ServeProcess, str]) -> None:
    server, key = served
    schema = schemathesis.openapi.from_url(server.base + "/openapi.json")
    sent: list[int] = []
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case) -> None:  # noqa: ANN001 - a schemathesis case
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            sent.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")

        check()
    print(f"schemathesis: {len(sent)} requests, {sum(s >= 500 for s in sent)} answered 5xx")
    assert len(sent) > 100 and failures == []
