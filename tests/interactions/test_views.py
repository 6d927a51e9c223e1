"""POST /v1/interactions: validation per field, dedupe (also concurrent), limits, roles."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import Api, make_record

BAD_VALUES = [
    ("source", None, "source"),
    ("source", "", "source"),
    ("source", "x" * 101, "source"),
    ("external_id", None, "external_id"),
    ("external_id", "", "external_id"),
    ("external_id", ["a"], "external_id"),
    ("channel", "fax", "channel"),
    ("channel", None, "channel"),
    ("channel", "Email", "channel"),
    ("direction", "sideways", "direction"),
    ("direction", None, "direction"),
    ("author_role", "robot", "author_role"),
    ("author_name", 42, "author_name"),
    ("customer", None, "customer"),
    ("customer", {}, "customer"),
    ("customer", {"name": "Only A Name"}, "customer"),
    ("customer", {"email": "not-an-email"}, "customer.email"),
    ("customer", {"phone": "12"}, "customer.phone"),
    ("customer", {"handles": {"twitter": ""}}, "customer.handles.twitter"),
    ("customer", {"handles": {"bad network!": "x"}}, "customer.handles"),
    ("customer", {"external_ids": {"zendesk": ""}}, "customer.external_ids.zendesk"),
    ("customer", "dana@example.com", "customer"),
    ("thread_id", {"a": 1}, "thread_id"),
    ("subject", ["x"], "subject"),
    ("text", None, "text"),
    ("text", "   ", "text"),
    ("text", "x" * 100_001, "text"),
    ("occurred_at", None, "occurred_at"),
    ("occurred_at", "yesterday", "occurred_at"),
    ("occurred_at", 1730556180, "occurred_at"),
    ("occurred_at", "2026-13-45T00:00:00Z", "occurred_at"),
    ("metadata", "not an object", "metadata"),
]


@pytest.mark.parametrize(("field", "value", "named"), BAD_VALUES)
def test_bad_field_is_rejected_by_name_and_the_rest_goes_in(api: Api, field: str, value: object, named: str) -> None:
    good_before, good_after = make_record(), make_record()
    bad = make_record(**{field: value})
    if value is None:
        del bad[field]
    body = api.ingest("acme", [good_before, bad, good_after])
    assert body["created"] == 2
    assert [r["index"] for r in body["rejected"]] == [1]
    assert named in body["rejected"][0]["error"]
    timeline = api.client.get(f"/v1/customers/{api.resolve('acme', 'email:dana@example.com')['customer_id']}/timeline",
                              headers=api.auth("acme", "agent")).json()
    assert {i["external_id"] for i in timeline["items"]} == {good_before["external_id"], good_after["external_id"]}


def test_record_that_is_not_an_object_is_rejected(api: Api) -> None:
    body = api.ingest("acme", ["just text", make_record()])
    assert body["created"] == 1 and body["rejected"][0]["index"] == 0


def test_text_of_exactly_the_limit_is_accepted(api: Api) -> None:
    assert api.ingest("acme", [make_record(text="y" * 100_000)])["created"] == 1


def test_same_record_twice_is_stored_once(api: Api) -> None:
    record = make_record()
    assert api.ingest("acme", [record])["created"] == 1
    again = api.ingest("acme", [record, record])
    assert again == {"created": 0, "duplicates": 2, "rejected": []}


def test_same_external_id_in_another_tenant_is_another_record(api: Api) -> None:
    record = make_record()
    assert api.ingest("acme", [record])["created"] == 1
    assert api.ingest("globex", [record])["created"] == 1


def test_twenty_concurrent_requests_store_each_record_once(api: Api) -> None:
    records = [make_record(customer={"email": f"c{i % 3}@example.com", "phone": f"+1415555{i % 3:04d}"})
               for i in range(15)]
    key = api.key("acme", "integration")

    def send(_: int) -> dict:
        resp = api.client.post("/v1/interactions", json={"interactions": records},
                               headers={"Authorization": f"Bearer {key}"})
        assert resp.status_code == 200, resp.text
        return resp.json()

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(send, range(20)))
    assert sum(r["created"] for r in results) == len(records)
    assert sum(r["duplicates"] for r in results) == len(records) * 19
    assert all(not r["rejected"] for r in results)
    seen = set()
    for i in range(3):
        customer = api.resolve("acme", f"email:c{i}@example.com")
        assert customer == api.resolve("acme", f"phone:+1415555{i:04d}")
        items = api.client.get(f"/v1/customers/{customer['customer_id']}/timeline",
                               headers=api.auth("acme", "agent")).json()["items"]
        assert len(items) == 5
        seen.update(item["external_id"] for item in items)
    assert seen == {r["external_id"] for r in records}


def test_batch_over_the_limit_is_413(api: Api) -> None:
    resp = api.client.post("/v1/interactions", json={"interactions": [make_record() for _ in range(1001)]},
                           headers=api.auth("acme", "integration"))
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("body", [b"{not json", b'{"interactions": "nope"}', b"[]", b'{"other": []}'])
def test_malformed_body_is_a_json_error_not_500(api: Api, body: bytes) -> None:
    resp = api.client.post("/v1/interactions", content=body,
                           headers={**api.auth("acme", "integration"), "Content-Type": "application/json"})
    assert 400 <= resp.status_code < 500
    assert set(resp.json()["error"]) == {"code", "message"}


@pytest.mark.parametrize(("role", "status"), [("agent", 403), ("supervisor", 403), ("admin", 200),
                                              ("integration", 200)])
def test_only_admin_and_integration_keys_ingest(api: Api, role: str, status: int) -> None:
    resp = api.client.post("/v1/interactions", json={"interactions": [make_record()]}, headers=api.auth("acme", role))
    assert resp.status_code == status


def test_tenant_field_cannot_redirect_a_record_over_the_api(api: Api) -> None:
    body = api.ingest("acme", [make_record(tenant="globex")])
    assert body["created"] == 0 and "tenant" in body["rejected"][0]["error"]


def test_author_role_defaults_from_direction(api: Api) -> None:
    api.ingest("acme", [make_record(direction="internal", text="note: refund approved by Sam")])
    customer = api.resolve("acme", "email:dana@example.com")
    items = api.client.get(f"/v1/customers/{customer['customer_id']}/timeline",
                           headers=api.auth("acme", "agent")).json()["items"]
    assert items[0]["author_role"] == "agent" and items[0]["direction"] == "internal"
