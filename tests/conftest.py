"""Shared fixtures: a real app on SQLite or PostgreSQL with a real embedded Chroma, and API keys.

PostgreSQL and Redis tests skip on a machine without those servers, except in CI (`CI=true`),
where a missing server is an error: CI must run them, not skip them.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

POSTGRES_ADMIN_URL = os.environ.get("OMNICOPILOT_TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
REDIS_URL = os.environ.get("OMNICOPILOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MASTER_KEY = "test-master-" + uuid.uuid4().hex
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The storage tests on a `chroma run` server instead of the embedded index (CI runs them both ways).
CHROMA_SERVER = os.environ.get("OMNICOPILOT_TEST_CHROMA_SERVER", "").lower() in ("1", "true", "yes")


def unavailable(what: str, err: Exception) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required in CI: {err}")
    pytest.skip(f"{what} not reachable: {err}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this test session on the PostgreSQL server, dropped at the end."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"omnicopilot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:  # noqa: BLE001 - any connection failure means "no server here"
        admin.dispose()
        unavailable("PostgreSQL", err)
    yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as err:  # noqa: BLE001
        unavailable("Redis", err)
    return REDIS_URL


def truncate_all(url: str) -> None:
    from sqlalchemy import create_engine

    from copilot.database.models import Base

    engine = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'omnicopilot.db'}"
    url = request.getfixturevalue("postgres_url")
    from copilot.database.core import run_migrations

    run_migrations(url)
    truncate_all(url)
    return url


@pytest.fixture(scope="session")
def shared_chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """With OMNICOPILOT_TEST_CHROMA_SERVER, one `chroma run` server for the session; else None (embedded)."""
    if not CHROMA_SERVER:
        yield None
        return
    from tests.support.processes import ChromaServer

    server = ChromaServer(tmp_path_factory.mktemp("chroma-server")).start()
    yield server.url
    server.stop()


def empty_chroma(url: str) -> None:
    """Each test starts with no collections, as it would with an embedded index of its own."""
    from urllib.parse import urlparse

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parsed = urlparse(url)
    client = chromadb.HttpClient(host=parsed.hostname, port=parsed.port,
                                 settings=ChromaSettings(anonymized_telemetry=False))
    for collection in client.list_collections():
        client.delete_collection(collection.name if hasattr(collection, "name") else collection)


@pytest.fixture
def settings_factory(tmp_path: Path, shared_chroma: str | None):  # noqa: ANN201
    from copilot.config import Settings

    if shared_chroma:
        empty_chroma(shared_chroma)

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "OMNICOPILOT_DATA_DIR": tmp_path / "data",
            "OMNICOPILOT_CACHE_DIR": tmp_path / "cache",
            "OMNICOPILOT_EMBEDDING_BACKEND": "hashing",
            "OMNICOPILOT_MASTER_KEY": MASTER_KEY,
        }
        if shared_chroma:
            values["OMNICOPILOT_CHROMA_URL"] = shared_chroma
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(settings_factory, database_url: str):  # noqa: ANN001, ANN201
    return settings_factory(OMNICOPILOT_DATABASE_URL=database_url)


@pytest.fixture
def client(settings) -> Iterator[TestClient]:  # noqa: ANN001
    from copilot.main import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


class Api:
    """Small helper over the test client: keys per tenant and role, and common calls."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._keys: dict[tuple[str, str], str] = {}

    def key(self, tenant: str, role: str) -> str:
        if (tenant, role) not in self._keys:
            resp = self.client.post("/v1/admin/api-keys", json={"tenant": tenant, "role": role, "name": role},
                                    headers={"Authorization": f"Bearer {MASTER_KEY}"})
            assert resp.status_code == 201, resp.text
            self._keys[(tenant, role)] = resp.json()["key"]
        return self._keys[(tenant, role)]

    def auth(self, tenant: str, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(tenant, role)}"}

    def ingest(self, tenant: str, records: list[dict]) -> dict:
        resp = self.client.post("/v1/interactions", json={"interactions": records},
                                headers=self.auth(tenant, "integration"))
        assert resp.status_code == 200, resp.text
        return resp.json()

    def resolve(self, tenant: str, identity: str) -> dict:
        resp = self.client.get("/v1/customers/resolve", params={"identity": identity},
                               headers=self.auth(tenant, "agent"))
        assert resp.status_code == 200, resp.text
        return resp.json()

    def wait_indexed(self, timeout_s: float = 600) -> None:
        """The deadline only stops a hung run: the first MiniLM use exports the model, which on two busy cores
        takes minutes."""
        import time

        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if self.client.get("/healthz").json()["index_backlog"] == 0:
                return
            time.sleep(0.05)
        raise AssertionError("index backlog did not drain")


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


def given_tenant(db: Any, tenant: str) -> None:
    """Tenants are created explicitly before anything is ingested for them."""
    from copilot.auth.service import create_tenant

    with db.session() as session:
        create_tenant(session, tenant)
        session.commit()


def make_record(**overrides: Any) -> dict[str, Any]:
    """A valid canonical interaction; override any field."""
    record: dict[str, Any] = {
        "source": "zendesk",
        "external_id": "ext-" + uuid.uuid4().hex[:12],
        "channel": "email",
        "direction": "inbound",
        "author_name": "Dana Okonkwo",
        "customer": {"name": "Dana Okonkwo", "email": "dana@example.com"},
        "thread_id": "ticket-881",
        "subject": "Order A-10293 never arrived",
        "text": "Hi, my order A-10293 never arrived. Tracking says delivered.",
        "occurred_at": "2026-11-02T14:03:00Z",
    }
    record.update(overrides)
    return record
