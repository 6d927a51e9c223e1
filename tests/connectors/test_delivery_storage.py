"""What a stored webhook delivery keeps: no credentials, no secrets, and not forever."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update

from copilot.database.core import utcnow
from copilot.integrations.models import WebhookDelivery
from tests.conftest import make_record
from tests.connectors.conftest import Hook
from tests.connectors.test_generic import body_of, signed_headers

SECRET = "whsec-delivery-storage-test-0123456789abcdef"


def test_delivery_keeps_neither_credentials_nor_secrets(hook_factory: Callable[..., Hook]) -> None:
    hook = hook_factory("generic", tenant="storage-co", signing_secret=SECRET)
    record = make_record(customer={"email": "yuki@example.org"}, text="card 4111 1111 1111 1111, order BX-5521")
    body = body_of(record)
    headers = {**signed_headers(body, secret=SECRET), "Authorization": "Bearer vendor-token-123",
               "Cookie": "session=abc", "X-Request-Id": "req-77"}
    assert hook.post(body, headers).status_code == 202
    [delivery] = hook.deliveries()
    stored_headers = {k.lower() for k in delivery.headers}
    assert "x-request-id" in stored_headers
    assert not stored_headers & {"authorization", "cookie", "x-omnicopilot-signature"}
    stored = json.loads(delivery.body)
    assert "4111" not in delivery.body.decode() and "BX-5521" in stored["interactions"][0]["text"]
    hook.process()
    items = hook.timeline("email:yuki@example.org")
    assert items[0]["text"] == "card [card ••1111], order BX-5521"


def test_processed_deliveries_are_purged_after_the_retention(hook_factory: Callable[..., Hook]) -> None:
    hook = hook_factory("generic", tenant="purge-co", signing_secret=SECRET)
    for n in range(2):
        body = body_of(make_record(customer={"email": f"p{n}@example.org"}))
        assert hook.post(body, signed_headers(body, secret=SECRET)).status_code == 202
    hook.process()
    old, recent = sorted(hook.deliveries(), key=lambda d: d.id)
    days = hook.services.settings.delivery_retention_days
    with hook.services.db.session() as session:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == old.id)
                        .values(processed_at=utcnow() - timedelta(days=days + 1)))
        session.commit()
    assert hook.services.hub.purge_processed() == 1
    assert [d.id for d in hook.deliveries()] == [recent.id]
    assert len(hook.timeline("email:p0@example.org")) == 1  # the records stay
