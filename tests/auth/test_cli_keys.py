"""`omnicopilot tenants` and `omnicopilot keys` as an operator runs them."""
from __future__ import annotations

import json

from tests.indexing.test_service import env_of, run_cli


def test_tenants_and_key_lifecycle_on_the_command_line(settings_factory) -> None:  # noqa: ANN001
    env = env_of(settings_factory())
    typo = run_cli(env, "keys", "create", "--tenant", "cobalt-frieght", "--role", "agent")
    assert typo.returncode == 1 and "cobalt-frieght" in typo.stderr and "tenants create" in typo.stderr
    assert json.loads(run_cli(env, "tenants", "list", "--json").stdout) == {"tenants": []}  # nothing created

    made = run_cli(env, "tenants", "create", "cobalt-freight", "--json")
    assert made.returncode == 0, made.stderr
    assert run_cli(env, "tenants", "create", "cobalt-freight").returncode == 1  # exists already
    assert run_cli(env, "tenants", "create", "Cobalt Freight").returncode == 2

    created = run_cli(env, "keys", "create", "--tenant", "cobalt-freight", "--role", "agent", "--name",
                      "Aiyana Brooks", "--expires-in-days", "90", "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert key["key"].startswith("oc_") and key["name"] == "Aiyana Brooks" and key["expires_at"]

    listed = json.loads(run_cli(env, "keys", "list", "--tenant", "cobalt-freight", "--json").stdout)["keys"]
    assert [(k["id"], k["name"], k["status"]) for k in listed] == [(key["id"], "Aiyana Brooks", "active")]
    assert key["key"] not in json.dumps(listed) and key["key"].startswith(listed[0]["prefix"])
    human = run_cli(env, "keys", "list")
    assert "Aiyana Brooks" in human.stdout and key["key"] not in human.stdout

    rotated = run_cli(env, "keys", "rotate", key["id"], "--json")
    assert rotated.returncode == 0, rotated.stderr
    new = json.loads(rotated.stdout)
    assert new["replaces"] == key["id"] and new["key"] != key["key"]
    assert (new["tenant"], new["role"], new["name"]) == ("cobalt-freight", "agent", "Aiyana Brooks")
    plain = run_cli(env, "keys", "rotate", new["id"])
    assert plain.stdout.strip().startswith("oc_")  # the new key, printed once, alone

    revoked = run_cli(env, "keys", "revoke", json.loads(run_cli(env, "keys", "list", "--json").stdout)
                      ["keys"][0]["id"], "--json")
    assert revoked.returncode == 0 and json.loads(revoked.stdout)["status"] == "revoked"
    assert json.loads(run_cli(env, "keys", "list", "--json").stdout)["keys"] == []
    everything = json.loads(run_cli(env, "keys", "list", "--all", "--json").stdout)["keys"]
    assert sorted(k["status"] for k in everything) == ["revoked", "revoked", "revoked"]
    assert run_cli(env, "keys", "revoke", "no-such-id").returncode == 1

    forced = run_cli(env, "keys", "create", "--tenant", "new-depot", "--role", "admin", "--create-tenant", "--json")
    assert forced.returncode == 0 and json.loads(forced.stdout)["tenant"] == "new-depot"
