"""Bounds on what a record may say: occurred_at needs a time zone and a sane date, identifiers a sane length."""
from __future__ import annotations

import pytest

from tests.conftest import Api, make_record

BAD = [
    ("2026-11-25 10:00", "time zone"),
    ("2026-11-25T10:00:00", "time zone"),
    ("9999-12-31T23:59:59-12:00", "between 1970"),
    ("9999-12-31T23:59:59Z", "between 1970"),
    ("1969-12-31T23:59:59Z", "between 1970"),
    ("0001-01-01T00:00:00+14:00", "between 1970"),
]


@pytest.mark.parametrize(("when", "message"), BAD)
def test_bad_dates_are_rejected_by_name_and_the_batch_goes_in(api: Api, when: str, message: str) -> None:
    good = make_record(customer={"email": "rui@example.org"})
    result = api.ingest("dates-co", [make_record(occurred_at=when), good])
    assert result["created"] == 1
    [rejected] = result["rejected"]
    assert rejected["index"] == 0 and "occurred_at" in rejected["error"] and message in rejected["error"]


def test_an_offset_is_kept_as_the_same_moment(api: Api) -> None:
    record = make_record(customer={"email": "ana@example.org"}, occurred_at="2026-11-02T15:03:00+01:00")
    assert api.ingest("dates-co", [record])["created"] == 1
    found = api.resolve("dates-co", "email:ana@example.org")
    timeline = api.client.get(f"/v1/customers/{found['customer_id']}/timeline", headers=api.auth("dates-co", "agent"))
    assert timeline.json()["items"][0]["occurred_at"].startswith("2026-11-02T14:03:00")


@pytest.mark.parametrize("customer", [
    {"handles": {"twitter": "x" * 301}},
    {"external_ids": {"crm" * 30: "1"}},
    {"handles": {f"net{n}": "h" for n in range(21)}},
    {"email": "a" * 400 + "@example.org"},
])
def test_identifiers_have_length_limits(api: Api, customer: dict) -> None:
    result = api.ingest("dates-co", [make_record(customer=customer)])
    assert result["created"] == 0 and "customer" in result["rejected"][0]["error"]


def test_an_overlong_identity_lookup_is_a_400(api: Api) -> None:
    resp = api.client.get("/v1/customers/resolve", params={"identity": "email:" + "a" * 500},
                          headers=api.auth("dates-co", "agent"))
    assert resp.status_code == 400 and "400 characters" in resp.json()["error"]["message"]
