"""The audit of reads: who read which customer's data and when, queryable by a supervisor, exportable as CSV."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from copilot.audit.models import AuditRead
from copilot.audit.service import purge_reads, record_read
from copilot.auth.service import Principal
from tests.conftest import MASTER_KEY, Api, make_record

TENANT = "orchid-telco"


def agent_key(api: Api, name: str) -> dict:
    resp = api.client.post("/v1/admin/api-keys", json={"tenant": TENANT, "role": "agent", "name": name},
                           headers={"Authorization": f"Bearer {MASTER_KEY}"})
    assert resp.status_code == 201
    return resp.json()


def customer(api: Api, email: str) -> str:
    api.ingest(TENANT, [make_record(customer={"name": "Tomas Brandt", "email": email})])
    return api.resolve(TENANT, f"email:{email}")["customer_id"]


def audit(api: Api, **params: object) -> dict:
    resp = api.client.get("/v1/audit/reads", params=params, headers=api.auth(TENANT, "supervisor"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_timeline_and_customer_reads_are_recorded_with_the_agent(api: Api) -> None:
    cid = customer(api, "tomas@brandt.test")
    reader = agent_key(api, "Mireille Okafor")
    headers = {"Authorization": f"Bearer {reader['key']}"}
    assert api.client.get(f"/v1/customers/{cid}/timeline", headers=headers).status_code == 200
    assert api.client.get(f"/v1/customers/{cid}", headers=headers).status_code == 200
    assert api.client.get("/v1/customers/no-such-customer/timeline", headers=headers).status_code == 404
    rows = audit(api, key_id=reader["id"])["items"]
    assert [(r["what"], r["customer_id"], r["key_name"], r["role"]) for r in rows] == [
        ("customer", cid, "Mireille Okafor", "agent"), ("timeline", cid, "Mireille Okafor", "agent")]
    assert all(datetime.fromisoformat(r["at"]) <= datetime.now(UTC) for r in rows)
    # The resolve by the fixture's own agent key is on record too.
    assert {r["what"] for r in audit(api, customer_id=cid)["items"]} == {"customer", "timeline"}


def test_context_and_suggestion_reads_are_recorded(api: Api) -> None:
    cid = customer(api, "ines@vale.test")
    headers = api.auth(TENANT, "agent")
    assert api.client.get(f"/v1/customers/{cid}/context", headers=headers).status_code == 200
    resp = api.client.post(f"/v1/customers/{cid}/suggestions", json={"message": "Any news on my refund?",
                                                                     "channel": "chat"}, headers=headers)
    assert resp.status_code == 200
    whats = {r["what"] for r in audit(api, customer_id=cid)["items"]}
    assert {"context", "suggestions"} <= whats


def test_filters_pages_and_roles(api: Api) -> None:
    first, second = customer(api, "a@first.test"), customer(api, "b@second.test")
    assert audit(api, customer_id=second)["items"][0]["customer_id"] == second
    assert {r["customer_id"] for r in audit(api, customer_id=first)["items"]} == {first}
    assert audit(api, what="timeline")["items"] == []
    assert len(audit(api, since=datetime.now(UTC).date().isoformat())["items"]) == 2
    assert audit(api, until=(datetime.now(UTC) - timedelta(days=1)).date().isoformat())["items"] == []
    assert len(audit(api, until="9999-12-31")["items"]) == 2  # the last representable day is no error
    page1 = audit(api, limit=1)
    assert len(page1["items"]) == 1 and page1["next_cursor"]
    page2 = audit(api, limit=1, cursor=page1["next_cursor"])
    assert page2["items"][0]["id"] != page1["items"][0]["id"] and page2["next_cursor"] is None
    for params in ({"since": "yesterday"}, {"cursor": "not-a-cursor"}, {"since": "2026-01-02T10:00:00"}):
        resp = api.client.get("/v1/audit/reads", params=params, headers=api.auth(TENANT, "supervisor"))
        assert resp.status_code in (400, 422), params
    assert api.client.get("/v1/audit/reads", headers=api.auth(TENANT, "agent")).status_code == 403
    assert api.client.get("/v1/audit/reads.csv", headers=api.auth(TENANT, "agent")).status_code == 403
    # Another tenant's supervisor sees none of it.
    other = api.client.get("/v1/audit/reads", headers=api.auth("birch-energy", "supervisor"))
    assert other.status_code == 200 and other.json()["items"] == []


def test_csv_export(api: Api) -> None:
    cid = customer(api, "csv@reader.test")
    with api.client.app.state.services.db.session() as session:  # more rows than one export batch
        reader = Principal(key_id="k-bulk", tenant_id=TENANT, role="agent", name="Bulk, \"Reader\"")
        for _ in range(1205):
            record_read(session, reader, cid, what="context", commit=False)
        session.commit()
    resp = api.client.get("/v1/audit/reads.csv", params={"customer_id": cid},
                          headers=api.auth(TENANT, "supervisor"))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert len(rows) == 1206
    assert rows[0].keys() == {"at", "customer_id", "what", "key_id", "key_name", "role"}
    assert sum(r["key_name"] == 'Bulk, "Reader"' for r in rows) == 1205
    assert len({r["at"] + r["key_id"] for r in rows}) > 1


def test_record_read_refuses_an_unknown_kind_and_skips_the_master_key(api: Api) -> None:
    with api.client.app.state.services.db.session() as session:
        with pytest.raises(ValueError):
            record_read(session, Principal("k", TENANT, "agent", "n"), "c", what="everything")
        record_read(session, Principal("master", None, "master", "master"), "c", what="context")
        assert session.query(AuditRead).count() == 0


def test_reads_older_than_the_retention_period_are_purged(api: Api) -> None:
    cid = customer(api, "ines@brandt.test")
    assert api.client.get(f"/v1/customers/{cid}/context", headers=api.auth(TENANT, "agent")).status_code == 200
    db = api.client.app.state.services.db
    with db.session() as session:
        session.add(AuditRead(tenant_id=TENANT, customer_id=cid, what="timeline", key_id="old", key_name="Old Reader",
                              role="agent", at=datetime.now(UTC) - timedelta(days=40)))
        session.commit()
    assert purge_reads(db, retention_days=0) == 0  # 0 keeps everything
    assert purge_reads(db, retention_days=30) == 1
    names = [r["key_name"] for r in audit(api, customer_id=cid)["items"]]
    assert "Old Reader" not in names and names
