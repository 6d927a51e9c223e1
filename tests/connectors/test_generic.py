"""The generic connector: DESIGN §6 signature, canonical bodies, JSON Lines; and the webhook path end to end."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from connectors.generic import GenericConnector, GenericSettings
from copilot.integrations.base import PayloadError, SignatureError, UnsupportedMediaType
from tests.conftest import make_record
from tests.connectors.conftest import Hook, make_request

SECRET = "whsec-generic-test-7f3a9c2e5b1d4086"  # 32+ characters: shorter ones are refused
connector = GenericConnector()
settings = GenericSettings(signing_secret=SECRET)


def signed_headers(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Omnicopilot-Timestamp": ts, "X-Omnicopilot-Signature": f"sha256={digest}",
            "Content-Type": "application/json"}


def body_of(*records: dict[str, Any], batch: bool = True) -> bytes:
    return json.dumps({"interactions": list(records)} if batch else records[0]).encode()


# unit ------------------------------------------------------------------------------------------
def test_valid_signature_single_and_batch() -> None:
    for body in (body_of(make_record(source="crm"), batch=False), body_of(make_record(), make_record())):
        request = make_request(body, headers=signed_headers(body))
        connector.verify(request, settings)
        records = connector.parse(request, settings)
        assert records and all(r["text"] for r in records)


@pytest.mark.parametrize("case", ["tampered", "wrong_secret", "stale", "future", "missing_sig", "missing_ts",
                                  "no_prefix", "bad_ts"])
def test_bad_signatures_refused(case: str) -> None:
    body = body_of(make_record())
    headers = signed_headers(body)
    if case == "tampered":
        body = body.replace(b"never arrived", b"arrived fine")
    elif case == "wrong_secret":
        headers = signed_headers(body, secret="other")
    elif case == "stale":
        headers = signed_headers(body, timestamp=int(time.time()) - 301)
    elif case == "future":
        headers = signed_headers(body, timestamp=int(time.time()) + 400)
    elif case == "missing_sig":
        del headers["X-Omnicopilot-Signature"]
    elif case == "missing_ts":
        del headers["X-Omnicopilot-Timestamp"]
    elif case == "no_prefix":
        headers["X-Omnicopilot-Signature"] = headers["X-Omnicopilot-Signature"].removeprefix("sha256=")
    elif case == "bad_ts":
        headers["X-Omnicopilot-Timestamp"] = "yesterday"
    with pytest.raises(SignatureError):
        connector.verify(make_request(body, headers=headers), settings)


def test_window_is_measured_from_receipt() -> None:
    body = body_of(make_record())
    ts = int(time.time()) - 250
    connector.verify(make_request(body, headers=signed_headers(body, timestamp=ts)), settings)
    with pytest.raises(SignatureError):
        connector.verify(make_request(body, headers=signed_headers(body, timestamp=ts),
                                      received_at=ts + 301), settings)


def test_unconfigured_secret_is_refused() -> None:
    body = body_of(make_record())
    with pytest.raises(SignatureError):
        connector.verify(make_request(body, headers=signed_headers(body, secret="")),
                         GenericSettings(signing_secret=""))


@pytest.mark.parametrize(("body", "fragment"), [
    (b"{not json", "malformed JSON"),
    (b"[1, 2]", "body"),
    (b'{"interactions": {}}', "interactions"),
    (b'{"interactions": []}', "interactions"),
])
def test_bad_payloads_name_the_problem(body: bytes, fragment: str) -> None:
    with pytest.raises(PayloadError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        connector.parse(make_request(body), settings)


def test_wrong_content_type() -> None:
    body = body_of(make_record())
    with pytest.raises(UnsupportedMediaType):
        connector.parse(make_request(body, content_type="text/plain"), settings)


def test_delivery_header_names_the_delivery() -> None:
    body = body_of(make_record())
    assert connector.delivery_id(make_request(body, headers={"X-Omnicopilot-Delivery": "d-1"})) == "delivery:d-1"
    assert connector.delivery_id(make_request(body)) is None  # the hub hashes the body


def test_jsonl_import_reports_bad_lines_with_numbers() -> None:
    good = json.dumps(make_record())
    lines = [good, "", "{broken", json.dumps(make_record(channel="fax")), good]
    items = list(connector.parse_file("\n".join(lines).encode(), filename="x.jsonl", options={}))
    assert [isinstance(i, PayloadError) for i in items] == [False, True, True, False]
    errors = [i for i in items if isinstance(i, PayloadError)]
    assert [e.line for e in errors] == [3, 4]  # type: ignore[attr-defined]
    assert "line 3" in str(errors[0]) and "malformed JSON" in str(errors[0])
    assert "channel" in str(errors[1])


# end to end through the HTTP app -----------------------------------------------------------------
def test_webhook_accepted_then_ingested(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("generic", signing_secret=SECRET)
    body = body_of(make_record(source="crm", customer={"email": "lee@example.com"}, text="Where is my refund?"))
    resp = hook.post(body, signed_headers(body))
    assert resp.status_code == 202, resp.text
    assert resp.json()["status"] == "accepted"
    items = hook.wait_timeline("email:lee@example.com", 1)
    assert items[0]["text"] == "Where is my refund?" and items[0]["source"] == "crm"


def test_webhook_bad_signature_stores_nothing(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("generic", signing_secret=SECRET)
    body = body_of(make_record(customer={"email": "x@example.com"}))
    for headers in (signed_headers(body, secret="wrong"), {"Content-Type": "application/json"},
                    signed_headers(body, timestamp=int(time.time()) - 1000)):
        resp = hook.post(body, headers)
        assert resp.status_code == 401, resp.text
        assert resp.json()["error"]["code"] == "unauthorized"
    assert hook.deliveries() == []
    stats = hook.client.get("/v1/connectors", headers=hook.api.auth("acme", "admin")).json()
    generic = next(c for c in stats["connectors"] if c["name"] == "generic")
    assert generic["health"]["signature_failures"] == 3
    assert generic["settings"]["signing_secret"] == "********"


def test_webhook_unconfigured_tenant_is_401(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("generic")  # tenant exists, connector not configured
    body = body_of(make_record())
    assert hook.post(body, signed_headers(body)).status_code == 401
    assert hook.deliveries() == []


def test_webhook_unknown_tenant_answers_like_a_bad_signature(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("generic", signing_secret=SECRET)
    unconfigured: Hook = hook_factory("generic", tenant="quiet-co")
    body = body_of(make_record())
    answers = [hook.client.post("/v1/webhooks/nobody/generic", content=body, headers=signed_headers(body)),
               unconfigured.post(body, signed_headers(body)),
               hook.post(body, signed_headers(body, secret="another-secret"))]
    assert {(r.status_code, r.text) for r in answers} == {(answers[0].status_code, answers[0].text)}
    assert answers[0].status_code == 401
    assert hook.client.post("/v1/webhooks/acme/nosuch", content=body,
                            headers=signed_headers(body)).status_code == 404


def test_webhook_oversized_body_is_413(hook_factory, settings) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("generic", signing_secret=SECRET)
    body = body_of(make_record(text="x" * 1000)) + b" " * settings.max_body_bytes
    resp = hook.post(body, signed_headers(body))
    assert resp.status_code == 413
    assert hook.deliveries() == []


def test_webhook_bad_payloads(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("generic", signing_secret=SECRET)
    body = b'{"interactions": [{"source": "crm"'
    resp = hook.post(body, signed_headers(body))
    assert resp.status_code == 400 and "malformed JSON" in resp.json()["error"]["message"]
    body = body_of(make_record())
    resp = hook.post(body, {**signed_headers(body), "Content-Type": "text/plain"})
    assert resp.status_code == 415
    assert hook.deliveries() == []


def test_webhook_batch_with_a_bad_record_names_it_and_takes_the_rest(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("generic", signing_secret=SECRET)
    good = make_record(customer={"email": "kim@example.com"}, text="Card declined twice")
    body = body_of(good, make_record(channel="fax"))
    resp = hook.post(body, signed_headers(body))
    assert resp.status_code == 202, resp.text
    assert resp.json()["records"] == 1
    assert resp.json()["rejected"][0]["index"] == 1 and "channel" in resp.json()["rejected"][0]["error"]
    assert [i["text"] for i in hook.wait_timeline("email:kim@example.com", 1)] == ["Card declined twice"]
    all_bad = body_of(make_record(text=""), make_record(channel="fax"))
    resp = hook.post(all_bad, signed_headers(all_bad))
    assert resp.status_code == 400 and "record 0: text" in resp.json()["error"]["message"]
    assert len(hook.deliveries()) == 1  # only the first delivery was stored


def test_webhook_replay_stored_once(hook_factory) -> None:  # noqa: ANN001
    hook: Hook = hook_factory("generic", signing_secret=SECRET)
    body = body_of(make_record(customer={"email": "rep@example.com"}))
    first = hook.post(body, signed_headers(body))
    second = hook.post(body, signed_headers(body, timestamp=int(time.time()) + 1))  # a retry, signed anew
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["status"] == "duplicate"
    assert len(hook.deliveries()) == 1
    hook.process()
    assert len(hook.wait_timeline("email:rep@example.com", 1)) == 1


def test_pending_deliveries_survive_a_crash(settings) -> None:  # noqa: ANN001
    """202 given, then the process dies before the worker parsed it: a new process ingests it."""
    from fastapi.testclient import TestClient

    from copilot.main import create_app
    from copilot.services import Services
    from tests.conftest import Api

    first = Services.build(settings)
    first.hub.start = lambda: None  # type: ignore[method-assign]  # the worker never runs: the "crash"
    with TestClient(create_app(settings, services=first)) as client:
        hook = Hook(Api(client), "acme", "generic")
        hook.api.key("acme", "admin")
        hook.configure(signing_secret=SECRET)
        body = body_of(make_record(customer={"email": "crash@example.com"}, text="Still waiting on A-55"))
        assert hook.post(body, signed_headers(body)).status_code == 202
        assert [d.status for d in hook.deliveries()] == ["pending"]
    first.close()

    with TestClient(create_app(settings)) as client:  # restart: its worker picks the delivery up
        hook = Hook(Api(client), "acme", "generic")
        items = hook.wait_timeline("email:crash@example.com", 1)
        assert items[0]["text"] == "Still waiting on A-55"
        assert [d.status for d in hook.deliveries()] == ["processed"]
