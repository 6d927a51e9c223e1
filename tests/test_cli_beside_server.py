"""CLI commands on the data directory of a running `serve`: they ask it, or refuse and say how."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import MASTER_KEY, make_record
from tests.indexing.test_service import env_of, run_cli
from tests.support.processes import ServeProcess


@pytest.fixture
def serving(settings_factory) -> Iterator[tuple[ServeProcess, dict[str, str]]]:  # noqa: ANN001
    env = env_of(settings_factory())
    server = ServeProcess({**env, "OMNICOPILOT_PULL_INTERVAL_S": "0", "OMNICOPILOT_LOG_LEVEL": "warning"}).start()
    try:
        yield server, env
    finally:
        server.stop()


def test_context_and_suggest_go_through_the_running_server(serving, tmp_path: Path) -> None:  # noqa: ANN001
    server, env = serving
    status, made = server.call("POST", "/v1/admin/api-keys", {"tenant": "kestrel", "role": "integration",
                                                              "name": "feed"}, key=MASTER_KEY)
    assert status == 201
    record = make_record(customer={"name": "Ilse Varga", "email": "ilse@varga.example"},
                         text="My router R-88213 keeps rebooting since the update.")
    assert server.call("POST", "/v1/interactions", {"interactions": [record]}, key=made["key"])[1]["created"] == 1

    card = run_cli(env, "context", "--tenant", "kestrel", "--identity", "email:ilse@varga.example", "--json")
    assert card.returncode == 0, card.stderr
    assert json.loads(card.stdout)["customer"]["name"] == "Ilse Varga"
    replies = run_cli(env, "suggest", "--tenant", "kestrel", "--identity", "email:ilse@varga.example",
                      "--message", "Any news on the router?", "--json")
    assert replies.returncode == 0, replies.stderr
    assert json.loads(replies.stdout)["suggestions"]
    missing = run_cli(env, "context", "--tenant", "kestrel", "--identity", "email:nobody@varga.example")
    assert missing.returncode == 1 and "no customer" in missing.stderr

    status, keys = server.call("GET", "/v1/admin/api-keys?tenant=kestrel&include_inactive=true", key=MASTER_KEY)
    assert status == 200
    made_for_cli = [k for k in keys["items"] if k["name"] == "cli"]
    assert len(made_for_cli) == 3 and all(k["revoked_at"] for k in made_for_cli)  # one per command, revoked after

    (tmp_path / "more.jsonl").write_text(json.dumps(make_record(tenant="kestrel")) + "\n")
    refused = run_cli(env, "import", str(tmp_path / "more.jsonl"))
    assert refused.returncode == 2 and "in use" in refused.stderr and "/v1/interactions" in refused.stderr
