"""Helpers for connector tests: raw webhook requests for unit tests, and a configured tenant for HTTP tests.

Signatures in these tests are computed here with hmac/hashlib, independently of the code under test.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from copilot.integrations.base import WebhookRequest
from tests.conftest import Api

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_request(body: bytes | str, *, headers: Mapping[str, str] | None = None,
                 content_type: str | None = "application/json", url: str = "https://copilot.example/v1/webhooks/t/x",
                 method: str = "POST", query: Mapping[str, Any] | None = None,
                 received_at: float | None = None) -> WebhookRequest:
    all_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if content_type is not None:
        all_headers.setdefault("content-type", content_type)
    return WebhookRequest(method=method, url=url, headers=all_headers, query=dict(query or {}),
                          body=body.encode() if isinstance(body, str) else body,
                          received_at=time.time() if received_at is None else received_at)  # type: ignore[arg-type]


class Hook:
    """One tenant with a configured connector, posting to its webhook URL through the real app."""

    def __init__(self, api: Api, tenant: str, name: str) -> None:
        self.api, self.client, self.tenant, self.name = api, api.client, tenant, name

    @property
    def path(self) -> str:
        return f"/v1/webhooks/{self.tenant}/{self.name}"

    @property
    def url(self) -> str:
        return str(self.client.base_url) + self.path

    def configure(self, **values: Any) -> dict:
        resp = self.client.put(f"/v1/connectors/{self.name}", json=values, headers=self.api.auth(self.tenant, "admin"))
        assert resp.status_code == 200, resp.text
        return resp.json()

    def post(self, body: bytes, headers: Mapping[str, str], **kwargs: Any):  # noqa: ANN201
        return self.client.post(self.path, content=body, headers=dict(headers), **kwargs)

    @property
    def services(self) -> Any:
        return self.client.app.state.services  # type: ignore[attr-defined]

    def process(self) -> None:
        while self.services.hub.process_pending():
            pass

    def timeline(self, identity: str) -> list[dict[str, Any]]:
        customer = self.api.resolve(self.tenant, identity)
        resp = self.client.get(f"/v1/customers/{customer['customer_id']}/timeline",
                               headers=self.api.auth(self.tenant, "agent"))
        assert resp.status_code == 200, resp.text
        return resp.json()["items"]

    def wait_timeline(self, identity: str, count: int, timeout_s: float = 20) -> list[dict[str, Any]]:
        """The worker ingests after the 202; poll until `count` items are there."""
        deadline = time.time() + timeout_s
        while True:
            resp = self.client.get("/v1/customers/resolve", params={"identity": identity},
                                   headers=self.api.auth(self.tenant, "agent"))
            if resp.status_code == 200:
                items = self.timeline(identity)
                if len(items) >= count:
                    return items
            if time.time() > deadline:
                raise AssertionError(f"{identity} did not get {count} items; last answer {resp.status_code}")
            time.sleep(0.05)

    def deliveries(self) -> list[Any]:
        from sqlalchemy import select

        from copilot.integrations.models import WebhookDelivery

        with self.services.db.session() as session:
            return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.tenant_id == self.tenant)))


@pytest.fixture
def hook_factory(api: Api) -> Callable[..., Hook]:
    def make(name: str, tenant: str = "acme", **settings: Any) -> Hook:
        hook = Hook(api, tenant, name)
        api.key(tenant, "admin")  # creates the tenant
        if settings:
            hook.configure(**settings)
        return hook

    return make
