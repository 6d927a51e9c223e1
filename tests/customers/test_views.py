"""One customer per person: linking across channels, merges, the timeline, tenant isolation."""
from __future__ import annotations

import pytest

from tests.conftest import Api, make_record


def timeline(api: Api, tenant: str, customer_id: str, **params: object) -> dict:
    resp = api.client.get(f"/v1/customers/{customer_id}/timeline", params=params, headers=api.auth(tenant, "agent"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_identity_chain_across_three_channels_is_one_customer(api: Api) -> None:
    api.ingest("acme", [
        make_record(channel="email", customer={"email": "dana@example.com"}, occurred_at="2026-11-01T10:00:00Z"),
        make_record(source="twilio", channel="sms", customer={"phone": "+1 415 555 0134"},
                    occurred_at="2026-11-02T10:00:00Z"),
        # the web-chat form carries both: it links the email history and the SMS history
        make_record(source="webchat", channel="chat", customer={"email": "DANA@example.com", "phone": "(415) 555-0134",
                                                                 "handles": {"twitter": "@danaw"}},
                    occurred_at="2026-11-03T10:00:00Z"),
        make_record(source="twitter", channel="social", customer={"handles": {"twitter": "danaw"}},
                    occurred_at="2026-11-04T10:00:00Z"),
    ])
    ids = {api.resolve("acme", identity)["customer_id"]
           for identity in ("email:dana@example.com", "phone:4155550134", "twitter:@DanaW")}
    assert len(ids) == 1
    items = timeline(api, "acme", ids.pop())["items"]
    assert [i["channel"] for i in items] == ["social", "chat", "sms", "email"]  # newest first, every channel


def test_linking_two_existing_customers_merges_them_keeping_both_histories(api: Api) -> None:
    api.ingest("acme", [
        make_record(customer={"name": "Dana W", "email": "dana@example.com"}, occurred_at="2026-11-01T10:00:00Z"),
        make_record(source="twilio", channel="sms", customer={"phone": "+14155550134"},
                    occurred_at="2026-11-02T10:00:00Z"),
    ])
    by_email = api.resolve("acme", "email:dana@example.com")["customer_id"]
    by_phone = api.resolve("acme", "phone:+14155550134")["customer_id"]
    assert by_email != by_phone
    api.ingest("acme", [make_record(source="webchat", channel="chat",
                                    customer={"email": "dana@example.com", "phone": "+14155550134"},
                                    occurred_at="2026-11-03T10:00:00Z")])
    merged = api.resolve("acme", "phone:+14155550134")
    assert merged["customer_id"] == by_email  # the older customer survives
    assert merged["name"] == "Dana W"
    assert {i["identity"] for i in merged["identities"]} == {"email:dana@example.com", "phone:+14155550134"}
    assert len(timeline(api, "acme", by_email)["items"]) == 3
    # the absorbed id still answers, with the survivor
    assert api.client.get(f"/v1/customers/{by_phone}", headers=api.auth("acme", "agent")).json()["id"] == by_email


def test_identifiers_mentioned_in_text_never_link(api: Api) -> None:
    api.ingest("acme", [
        make_record(customer={"email": "dana@example.com"}),
        make_record(customer={"email": "sam@example.com"},
                    text="Please also update dana@example.com and call +1 415 555 0134, she is my wife."),
    ])
    assert api.resolve("acme", "email:dana@example.com") != api.resolve("acme", "email:sam@example.com")
    resp = api.client.get("/v1/customers/resolve", params={"identity": "phone:+14155550134"},
                          headers=api.auth("acme", "agent"))
    assert resp.status_code == 404


def test_timeline_pages_with_a_cursor_newest_first(api: Api) -> None:
    records = [make_record(occurred_at=f"2026-11-{day:02d}T10:00:00Z", text=f"message {day}") for day in range(1, 8)]
    api.ingest("acme", records)
    customer_id = api.resolve("acme", "email:dana@example.com")["customer_id"]
    first = timeline(api, "acme", customer_id, limit=3)
    second = timeline(api, "acme", customer_id, limit=3, cursor=first["next_cursor"])
    third = timeline(api, "acme", customer_id, limit=3, cursor=second["next_cursor"])
    texts = [i["text"] for page in (first, second, third) for i in page["items"]]
    assert texts == [f"message {day}" for day in range(7, 0, -1)]
    assert third["next_cursor"] is None
    item = first["items"][0]
    assert set(item) >= {"interaction_id", "source", "external_id", "channel", "direction", "author_role",
                         "occurred_at", "text"}


def test_timeline_filters_by_channel(api: Api) -> None:
    api.ingest("acme", [make_record(channel="email"), make_record(channel="sms", source="twilio")])
    customer_id = api.resolve("acme", "email:dana@example.com")["customer_id"]
    assert [i["channel"] for i in timeline(api, "acme", customer_id, channel="sms")["items"]] == ["sms"]


def test_bad_identity_and_cursor_are_400(api: Api) -> None:
    resp = api.client.get("/v1/customers/resolve", params={"identity": "nonsense"}, headers=api.auth("acme", "agent"))
    assert resp.status_code == 400 and "identity" in resp.json()["error"]["message"]
    api.ingest("acme", [make_record()])
    customer_id = api.resolve("acme", "email:dana@example.com")["customer_id"]
    resp = api.client.get(f"/v1/customers/{customer_id}/timeline", params={"cursor": "!!"},
                          headers=api.auth("acme", "agent"))
    assert resp.status_code == 400


@pytest.mark.parametrize("path", ["/v1/customers/{id}", "/v1/customers/{id}/timeline"])
def test_another_tenants_customer_is_404_never_403(api: Api, path: str) -> None:
    api.ingest("acme", [make_record()])
    customer_id = api.resolve("acme", "email:dana@example.com")["customer_id"]
    resp = api.client.get(path.format(id=customer_id), headers=api.auth("globex", "agent"))
    assert resp.status_code == 404
    assert api.client.get(path.format(id=customer_id), headers=api.auth("acme", "agent")).status_code == 200


def test_resolve_never_crosses_tenants(api: Api) -> None:
    api.ingest("acme", [make_record(customer={"email": "dana@example.com"}, text="acme secret")])
    api.ingest("globex", [make_record(customer={"email": "dana@example.com"}, text="globex secret")])
    acme = api.resolve("acme", "email:dana@example.com")["customer_id"]
    globex = api.resolve("globex", "email:dana@example.com")["customer_id"]
    assert acme != globex
    assert [i["text"] for i in timeline(api, "acme", acme)["items"]] == ["acme secret"]
    assert [i["text"] for i in timeline(api, "globex", globex)["items"]] == ["globex secret"]


def test_one_batch_mixing_new_customers_links_and_a_merge(api: Api) -> None:
    api.ingest("acme", [make_record(customer={"email": "a@example.com"}, occurred_at="2026-11-01T10:00:00Z"),
                        make_record(customer={"phone": "+14155550100"}, occurred_at="2026-11-01T11:00:00Z")])
    result = api.ingest("acme", [
        make_record(customer={"email": "b@example.com", "name": "Bo"}),  # new customer
        make_record(customer={"email": "b@example.com", "handles": {"twitter": "@bo"}}),  # same one, in-batch link
        make_record(customer={"email": "a@example.com", "phone": "+14155550100"}),  # merges two stored customers
        make_record(customer={"email": "a@example.com"}),
    ])
    assert result["created"] == 4 and result["rejected"] == []
    bo = api.resolve("acme", "twitter:bo")
    assert bo["name"] == "Bo" and bo["customer_id"] == api.resolve("acme", "email:b@example.com")["customer_id"]
    merged = api.resolve("acme", "phone:+14155550100")["customer_id"]
    assert merged == api.resolve("acme", "email:a@example.com")["customer_id"]
    assert len(timeline(api, "acme", merged)["items"]) == 4


def test_search_finds_customers_by_part_of_a_name_or_an_identifier_in_the_callers_tenant_only(api: Api) -> None:
    api.ingest("acme", [
        make_record(customer={"name": "Tamsin Okonjo", "email": "t.okonjo@example.net"}),
        make_record(customer={"name": "Okafor Reyes", "email": "reyes@example.org"}),
        make_record(source="twilio", channel="sms", customer={"phone": "+14155550182"}),
        make_record(customer={"name": "Percy 100% Sure", "email": "percy@example.org"}),
    ])
    api.ingest("globex", [make_record(customer={"name": "Tamsin Okonjo", "email": "t.okonjo@example.net"})])

    def names(q: str, tenant: str = "acme") -> list[str | None]:
        resp = api.client.get("/v1/customers", params={"q": q}, headers=api.auth(tenant, "agent"))
        assert resp.status_code == 200, resp.text
        return [c["name"] for c in resp.json()["customers"]]

    assert names("OKONJO") == ["Tamsin Okonjo"]  # any case; globex's namesake is not acme's to see
    assert names("oko") == ["Tamsin Okonjo"]
    assert names("oka") == ["Okafor Reyes"]
    assert names("example.org") == ["Okafor Reyes", "Percy 100% Sure"]  # by email address
    assert names("0182") == [None]  # by phone number: a customer with no name yet
    assert names("0%") == ["Percy 100% Sure"]  # a % is a character, not a wildcard
    assert names("_") == []
    found = api.client.get("/v1/customers", params={"q": "okonjo"}, headers=api.auth("acme", "agent")).json()
    assert found["customers"][0]["identities"] == [{"kind": "email", "value": "t.okonjo@example.net",
                                                    "identity": "email:t.okonjo@example.net"}]
    assert api.client.get("/v1/customers", params={"q": ""}, headers=api.auth("acme", "agent")).status_code == 422
    assert api.client.get("/v1/customers", params={"q": "oko"}).status_code == 401


def test_search_lists_a_merged_customer_once_under_the_survivor(api: Api) -> None:
    api.ingest("acme", [
        make_record(customer={"name": "Ilse Brandt", "email": "ilse@example.com"}, occurred_at="2026-11-01T10:00:00Z"),
        make_record(source="twilio", channel="sms", customer={"name": "Ilse B", "phone": "+14155550190"},
                    occurred_at="2026-11-02T10:00:00Z"),
    ])
    api.ingest("acme", [make_record(customer={"email": "ilse@example.com", "phone": "+14155550190"},
                                    occurred_at="2026-11-03T10:00:00Z")])
    found = api.client.get("/v1/customers", params={"q": "ilse"}, headers=api.auth("acme", "agent")).json()
    assert [c["name"] for c in found["customers"]] == ["Ilse Brandt"]
    assert {i["identity"] for i in found["customers"][0]["identities"]} == {"email:ilse@example.com",
                                                                            "phone:+14155550190"}
