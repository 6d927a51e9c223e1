"""API keys: only the master key creates them, every route checks them."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import MASTER_KEY, Api


def test_master_key_creates_a_key_for_a_tenant(client: TestClient) -> None:
    resp = client.post("/v1/admin/api-keys", json={"tenant": "acme", "role": "agent", "name": "desk"},
                       headers={"Authorization": f"Bearer {MASTER_KEY}"})
    assert resp.status_code == 201
    body = resp.json()
    assert body["tenant"] == "acme" and body["role"] == "agent" and body["key"].startswith("oc_")


def test_tenant_keys_cannot_create_keys(api: Api) -> None:
    resp = api.client.post("/v1/admin/api-keys", json={"tenant": "acme", "role": "admin"},
                           headers=api.auth("acme", "admin"))
    assert resp.status_code == 403


def test_master_key_cannot_read_customer_data(api: Api) -> None:
    resp = api.client.get("/v1/customers/resolve", params={"identity": "email:a@b.co"},
                          headers={"Authorization": f"Bearer {MASTER_KEY}"})
    assert resp.status_code == 403


@pytest.mark.parametrize("body", [{"tenant": "Bad Tenant!", "role": "agent"}, {"tenant": "acme", "role": "root"},
                                  {"role": "agent"}])
def test_bad_key_request_names_the_field(client: TestClient, body: dict) -> None:
    resp = client.post("/v1/admin/api-keys", json=body, headers={"Authorization": f"Bearer {MASTER_KEY}"})
    assert resp.status_code == 422
    assert any(field in resp.json()["error"]["message"] for field in ("tenant", "role"))


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer wrong-key", "Basic abc"])
def test_missing_or_wrong_key_is_401(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for method, path in [("GET", "/v1/customers/resolve?identity=email:a@b.co"), ("GET", "/v1/customers/x"),
                         ("GET", "/v1/customers/x/timeline"), ("POST", "/v1/interactions"),
                         ("POST", "/v1/admin/api-keys")]:
        resp = client.request(method, path, headers=headers, json={})
        assert resp.status_code == 401, (method, path)
        assert resp.json()["error"]["code"] == "unauthorized"
