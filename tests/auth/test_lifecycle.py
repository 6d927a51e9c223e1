"""Key lifecycle over HTTP: tenants created explicitly, keys listed, revoked, rotated, expiring, last use."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from copilot.auth.models import ApiKey
from copilot.auth.service import LAST_USED_EVERY_S, inactive_key_ids, key_is_active
from tests.conftest import MASTER_KEY

MASTER = {"Authorization": f"Bearer {MASTER_KEY}"}


def new_key(client: TestClient, tenant: str = "lumen-shop", role: str = "agent", **extra: object) -> dict:
    resp = client.post("/v1/admin/api-keys", json={"tenant": tenant, "role": role, **extra}, headers=MASTER)
    assert resp.status_code == 201, resp.text
    return resp.json()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def whoami(client: TestClient, key: str) -> int:
    return client.get("/v1/whoami", headers=bearer(key)).status_code


def db(client: TestClient):  # noqa: ANN201 - the app's Database
    return client.app.state.services.db


def test_tenants_are_created_explicitly_and_listed(client: TestClient) -> None:
    resp = client.post("/v1/admin/tenants", json={"tenant": "harbor-tools"}, headers=MASTER)
    assert resp.status_code == 201 and resp.json()["tenant"] == "harbor-tools"
    again = client.post("/v1/admin/tenants", json={"tenant": "harbor-tools"}, headers=MASTER)
    assert again.status_code == 409 and "harbor-tools" in again.json()["error"]["message"]
    assert client.post("/v1/admin/tenants", json={"tenant": "Bad Name"}, headers=MASTER).status_code == 422
    new_key(client, "harbor-tools", name="Iris Vale")
    listed = client.get("/v1/admin/tenants", headers=MASTER).json()["items"]
    assert {k: listed[0][k] for k in ("tenant", "active_keys")} == {"tenant": "harbor-tools", "active_keys": 1}


def test_unknown_tenant_is_refused_when_the_request_does_not_ask_to_create_it(client: TestClient) -> None:
    resp = client.post("/v1/admin/api-keys", json={"tenant": "harbr-tools", "role": "agent", "create_tenant": False},
                       headers=MASTER)
    assert resp.status_code == 404
    assert "harbr-tools" in resp.json()["error"]["message"]
    assert client.get("/v1/admin/tenants", headers=MASTER).json()["items"] == []
    # The master key's default creates it, and says so (automation provisioning a tenant with its first key).
    first = new_key(client, "harbr-tools")
    assert first["tenant_created"] is True
    assert new_key(client, "harbr-tools")["tenant_created"] is False


def test_admin_routes_need_the_master_key(client: TestClient) -> None:
    key = new_key(client, role="admin")["key"]
    for method, path in [("GET", "/v1/admin/api-keys"), ("DELETE", "/v1/admin/api-keys/x"),
                         ("POST", "/v1/admin/tenants"), ("GET", "/v1/admin/tenants"),
                         ("POST", "/v1/admin/api-keys/x/rotate")]:
        assert client.request(method, path, headers=bearer(key), json={"tenant": "x"}).status_code == 403, path


def test_list_shows_each_key_without_the_key_itself(client: TestClient) -> None:
    agent = new_key(client, name="Noor Halvorsen")
    new_key(client, role="supervisor", name="Team lead")
    new_key(client, "other-shop")
    resp = client.get("/v1/admin/api-keys", params={"tenant": "lumen-shop"}, headers=MASTER)
    assert resp.status_code == 200
    items = resp.json()["items"]
    assert len(items) == 2
    mine = next(i for i in items if i["id"] == agent["id"])
    assert set(mine) >= {"id", "tenant", "role", "name", "prefix", "created_at", "last_used_at", "expires_at"}
    assert mine["name"] == "Noor Halvorsen" and mine["tenant"] == "lumen-shop" and mine["status"] == "active"
    assert agent["key"].startswith(mine["prefix"]) and len(mine["prefix"]) < len(agent["key"]) // 2
    assert agent["key"] not in resp.text
    assert len(client.get("/v1/admin/api-keys", headers=MASTER).json()["items"]) == 3
    missing = client.get("/v1/admin/api-keys", params={"tenant": "no-such-shop"}, headers=MASTER)
    assert missing.status_code == 404 and "no-such-shop" in missing.json()["error"]["message"]


def test_revoked_key_is_a_401_at_once(client: TestClient) -> None:
    agent = new_key(client)
    assert whoami(client, agent["key"]) == 200
    resp = client.delete(f"/v1/admin/api-keys/{agent['id']}", headers=MASTER)
    assert resp.status_code == 200 and resp.json()["status"] == "revoked"
    assert whoami(client, agent["key"]) == 401
    assert client.delete(f"/v1/admin/api-keys/{agent['id']}", headers=MASTER).status_code == 200  # idempotent
    assert client.delete("/v1/admin/api-keys/no-such-id", headers=MASTER).status_code == 404
    listed = client.get("/v1/admin/api-keys", params={"tenant": "lumen-shop"}, headers=MASTER).json()["items"]
    assert listed == []
    everything = client.get("/v1/admin/api-keys", params={"tenant": "lumen-shop", "include_inactive": True},
                            headers=MASTER).json()["items"]
    assert [k["status"] for k in everything] == ["revoked"] and everything[0]["revoked_at"]
    with db(client).session() as session:
        assert not key_is_active(session, agent["id"])
        assert inactive_key_ids(session, [agent["id"], "master"]) == {agent["id"]}


def test_expiry_at_creation_and_an_expired_key_is_a_401(client: TestClient) -> None:
    agent = new_key(client, expires_in_days=30)
    expires = datetime.fromisoformat(agent["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    moment = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    pinned = new_key(client, expires_at=moment.isoformat())
    assert datetime.fromisoformat(pinned["expires_at"]) == moment
    assert whoami(client, agent["key"]) == 200
    with db(client).session() as session:  # the clock moves past the expiry
        session.execute(update(ApiKey).where(ApiKey.id == agent["id"])
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        session.commit()
        assert not key_is_active(session, agent["id"]) and key_is_active(session, pinned["id"])
    assert whoami(client, agent["key"]) == 401
    assert whoami(client, pinned["key"]) == 200
    statuses = {k["id"]: k["status"] for k in client.get(
        "/v1/admin/api-keys", params={"include_inactive": "true"}, headers=MASTER).json()["items"]}
    assert statuses[agent["id"]] == "expired"


def test_bad_expiry_names_the_field(client: TestClient) -> None:
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    for extra in ({"expires_in_days": 0}, {"expires_at": past}, {"expires_at": "2030-01-01T00:00:00"},
                  {"expires_in_days": 3, "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}):
        resp = client.post("/v1/admin/api-keys", json={"tenant": "lumen-shop", "role": "agent", **extra},
                           headers=MASTER)
        assert resp.status_code == 422, extra
        assert "expires" in resp.json()["error"]["message"], extra


def test_rotate_gives_a_new_key_with_the_same_tenant_role_and_name(client: TestClient) -> None:
    old = new_key(client, role="supervisor", name="Night shift", expires_in_days=10)
    resp = client.post(f"/v1/admin/api-keys/{old['id']}/rotate", headers=MASTER)
    assert resp.status_code == 201
    new = resp.json()
    assert new["key"] != old["key"] and new["id"] != old["id"]
    assert (new["tenant"], new["role"], new["name"]) == ("lumen-shop", "supervisor", "Night shift")
    assert timedelta(days=9) < datetime.fromisoformat(new["expires_at"]) - datetime.now(UTC) <= timedelta(days=10)
    assert whoami(client, old["key"]) == 401 and whoami(client, new["key"]) == 200
    assert client.post(f"/v1/admin/api-keys/{old['id']}/rotate", headers=MASTER).status_code == 409


def test_last_used_is_written_at_most_once_a_minute(client: TestClient) -> None:
    agent = new_key(client)

    def last_used() -> datetime | None:
        with db(client).session() as session:
            return session.get(ApiKey, agent["id"]).last_used_at

    assert last_used() is None
    assert whoami(client, agent["key"]) == 200
    first = last_used()
    assert first is not None
    for _ in range(5):
        assert whoami(client, agent["key"]) == 200
    assert last_used() == first  # no write per request
    earlier = datetime.now(UTC) - timedelta(seconds=LAST_USED_EVERY_S + 5)
    with db(client).session() as session:
        session.execute(update(ApiKey).where(ApiKey.id == agent["id"]).values(last_used_at=earlier))
        session.commit()
    assert whoami(client, agent["key"]) == 200
    assert last_used() > earlier + timedelta(seconds=5)
    listed = client.get("/v1/admin/api-keys", params={"tenant": "lumen-shop"}, headers=MASTER).json()["items"]
    assert listed[0]["last_used_at"] is not None


def test_key_carries_the_agents_name(client: TestClient) -> None:
    agent = new_key(client, name="Priya Castellanos")
    assert client.get("/v1/whoami", headers=bearer(agent["key"])).json()["name"] == "Priya Castellanos"


def test_keys_made_at_once_for_a_new_tenant_all_work(client: TestClient) -> None:
    """Provisioning scripts create several keys of a new tenant in parallel: none may fail on the tenant's row."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    roles = ["agent", "supervisor", "integration", "admin"] * 2
    for n in range(3):
        start = Barrier(len(roles))

        def make(role: str, tenant: str = f"parallel-{n}", start: Barrier = start) -> int:
            start.wait()
            return client.post("/v1/admin/api-keys", json={"tenant": tenant, "role": role, "name": role},
                               headers={"Authorization": f"Bearer {MASTER_KEY}"}).status_code

        with ThreadPoolExecutor(len(roles)) as pool:
            assert list(pool.map(make, roles)) == [201] * len(roles)
