"""Rate limits: 429 with Retry-After and the JSON error body, per key, per address, failed authentications;
in-process by default and shared on Redis across workers.

Limits here are a few requests per minute, so a refill during a test would need tens of seconds between two
requests: the tests do not depend on the machine's speed.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from copilot.auth.ratelimit import InProcessLimiter, RedisLimiter
from tests.conftest import MASTER_KEY

MASTER = {"Authorization": f"Bearer {MASTER_KEY}"}


def make_client(settings_factory, database_url: str, **limits: object) -> Iterator[TestClient]:  # noqa: ANN001
    from copilot.main import create_app

    settings = settings_factory(OMNICOPILOT_DATABASE_URL=database_url, **limits)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def key_for(client: TestClient, tenant: str = "fjord-mobile", role: str = "agent") -> str:
    resp = client.post("/v1/admin/api-keys", json={"tenant": tenant, "role": role}, headers=MASTER)
    assert resp.status_code == 201, resp.text
    return resp.json()["key"]


def assert_429(resp) -> None:  # noqa: ANN001
    assert resp.status_code == 429, resp.text
    assert 1 <= int(resp.headers["retry-after"]) <= 60
    assert resp.json()["error"]["code"] == "rate_limited"


@pytest.fixture
def per_key_client(settings_factory, database_url: str) -> Iterator[TestClient]:  # noqa: ANN001
    yield from make_client(settings_factory, database_url, OMNICOPILOT_RATE_LIMIT_PER_KEY=3)


def test_per_key_limit_answers_429_with_retry_after(per_key_client: TestClient) -> None:
    first, second = key_for(per_key_client), key_for(per_key_client, role="supervisor")
    statuses = [per_key_client.get("/v1/whoami", headers={"Authorization": f"Bearer {first}"}).status_code
                for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert_429(per_key_client.get("/v1/whoami", headers={"Authorization": f"Bearer {first}"}))
    # Another key has its own bucket.
    assert per_key_client.get("/v1/whoami", headers={"Authorization": f"Bearer {second}"}).status_code == 200


@pytest.fixture
def per_ip_client(settings_factory, database_url: str) -> Iterator[TestClient]:  # noqa: ANN001
    yield from make_client(settings_factory, database_url, OMNICOPILOT_RATE_LIMIT_PER_IP=4)


def test_per_address_limit_counts_every_key(per_ip_client: TestClient) -> None:
    keys = [key_for(per_ip_client, role=r) for r in ("agent", "supervisor", "admin")]  # 3 master calls
    assert per_ip_client.get("/v1/whoami", headers={"Authorization": f"Bearer {keys[0]}"}).status_code == 200
    assert_429(per_ip_client.get("/v1/whoami", headers={"Authorization": f"Bearer {keys[1]}"}))
    assert_429(per_ip_client.get("/v1/whoami", headers={"Authorization": f"Bearer {keys[2]}"}))


def test_500_wrong_keys_do_not_all_answer_401(client: TestClient) -> None:
    """Default settings: guessing keys from one address is cut off quickly."""
    good = key_for(client)
    statuses = [client.get("/v1/whoami", headers={"Authorization": f"Bearer oc_guess{n}"}).status_code
                for n in range(500)]
    assert set(statuses) == {401, 429}
    assert statuses.count(401) < 100 and statuses[-1] == 429
    # The address is blocked for a while, whatever key it now sends.
    assert_429(client.get("/v1/whoami", headers={"Authorization": f"Bearer {good}"}))


@pytest.fixture
def fail_client(settings_factory, database_url: str) -> Iterator[TestClient]:  # noqa: ANN001
    yield from make_client(settings_factory, database_url, OMNICOPILOT_RATE_LIMIT_FAILED_AUTH=3)


def test_missing_headers_count_as_failed_authentication(fail_client: TestClient) -> None:
    assert [fail_client.get("/v1/customers/x").status_code for _ in range(3)] == [401, 401, 401]
    assert_429(fail_client.get("/v1/customers/x"))
    assert_429(fail_client.get("/v1/whoami", headers={"Authorization": "Bearer oc_wrong"}))


def test_limits_of_zero_are_off(settings_factory, database_url: str) -> None:  # noqa: ANN001
    for client in make_client(settings_factory, database_url, OMNICOPILOT_RATE_LIMIT_PER_KEY=0,
                              OMNICOPILOT_RATE_LIMIT_PER_IP=0, OMNICOPILOT_RATE_LIMIT_FAILED_AUTH=0):
        assert {client.get("/v1/whoami", headers={"Authorization": "Bearer oc_wrong"}).status_code
                for _ in range(60)} == {401}


def test_in_process_bucket_refills_and_can_be_looked_at_without_cost() -> None:
    limiter = InProcessLimiter()
    assert limiter.hit("b", per_minute=2) is None and limiter.hit("b", per_minute=2) is None
    assert limiter.hit("b", per_minute=2, cost=0) is not None  # empty: a look says so, and takes nothing
    wait = limiter.hit("b", per_minute=2)
    assert wait is not None and 0 < wait <= 30
    assert limiter.hit("other", per_minute=2, cost=0) is None


@pytest.mark.redis
def test_redis_buckets_are_shared_by_workers(redis_url: str) -> None:
    bucket = f"test:{uuid.uuid4().hex}"
    one, two = RedisLimiter(redis_url), RedisLimiter(redis_url)  # two worker processes, one Redis
    try:
        assert one.hit(bucket, per_minute=3) is None
        assert two.hit(bucket, per_minute=3) is None
        assert one.hit(bucket, per_minute=3) is None
        wait = two.hit(bucket, per_minute=3)
        assert wait is not None and 0 < wait <= 20
        assert one.hit(bucket, per_minute=3) is not None
    finally:
        one.close()
        two.close()


def test_redis_outage_fails_open() -> None:
    limiter = RedisLimiter("redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert limiter.hit("any", per_minute=1) is None and limiter.hit("any", per_minute=1) is None
    limiter.close()


@pytest.mark.redis
def test_429_on_redis_across_two_apps(settings_factory, database_url: str, redis_url: str) -> None:  # noqa: ANN001
    """Two apps (as two workers) on one database and one Redis draw from the same per-key bucket."""
    from copilot.main import create_app

    settings = settings_factory(OMNICOPILOT_DATABASE_URL=database_url, OMNICOPILOT_REDIS_URL=redis_url,
                                OMNICOPILOT_RATE_LIMIT_PER_KEY=4, OMNICOPILOT_RATE_LIMIT_PER_IP=0,
                                OMNICOPILOT_RATE_LIMIT_FAILED_AUTH=0)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        key = {"Authorization": f"Bearer {key_for(first)}"}  # a new key: a bucket of its own on Redis
        assert [c.get("/v1/whoami", headers=key).status_code for c in (first, second, first, second)] == [200] * 4
        assert_429(first.get("/v1/whoami", headers=key))
        assert_429(second.get("/v1/whoami", headers=key))
