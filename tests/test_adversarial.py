"""Hostile text any end customer can send: every stage answers (no 500), and in bounded work.

Each string is what a pattern with nested quantifiers takes minutes or hours on; the timeout is a backstop far
above what linear work needs, so the test does not depend on the machine's speed.
"""
from __future__ import annotations

import pytest

from tests.conftest import Api, make_record

HOSTILE = {
    "asterisks": "*" * 20_000 + "1234",
    "bullets": "•" * 20_000 + " 4421",
    "x-runs": "x" * 50_000 + "99",
    "digits": "1" * 20_000,
    "spaced digits": "1 " * 20_000,
    "spoken digits": "one " * 10_000,
    "whitespace": " " * 50_000 + "a",
    "newlines": "\n" * 30_000 + "b",
    "dashes": "-" * 20_000 + "7",
    "id-like": "A-" * 20_000,
    "long word": "a" * 100_000,
    "many sentences": "I tried it. " * 8_000,
    "amounts": "$1," * 20_000,
    "dates": "12/12/" * 15_000,
    "emails": "a@b." * 20_000,
}


@pytest.mark.timeout(600)
def test_hostile_messages_are_stored_and_answered(api: Api) -> None:
    records = [make_record(customer={"email": f"hostile{n}@example.org"}, text=text)
               for n, text in enumerate(HOSTILE.values())]
    result = api.ingest("hostile-co", records)
    assert result["created"] == len(HOSTILE), result["rejected"]
    auth = api.auth("hostile-co", "agent")
    for n, text in enumerate(HOSTILE.values()):
        found = api.resolve("hostile-co", f"email:hostile{n}@example.org")
        card = api.client.get(f"/v1/customers/{found['customer_id']}/context", headers=auth)
        assert card.status_code == 200, card.text[:200]
        replies = api.client.post(f"/v1/customers/{found['customer_id']}/suggestions", headers=auth,
                                  json={"message": text[:20_000], "channel": "chat"})
        assert replies.status_code == 200, replies.text[:200]
    assert api.client.get("/healthz").status_code == 200
