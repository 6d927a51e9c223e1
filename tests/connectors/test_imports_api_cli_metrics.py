"""File imports by API upload and by `omnicopilot import --format`, and the Prometheus metrics."""
from __future__ import annotations

import json

from tests.conftest import make_record
from tests.connectors.conftest import FIXTURES, fixture_bytes
from tests.indexing.test_service import env_of, run_cli

CSV_OPTIONS = ["map.thread_id=Ticket", "map.external_id=Msg Id", "map.customer.email=From Email",
               "map.customer.phone=Phone", "map.direction=Type", "map.text=Body", "map.occurred_at=Sent",
               "date_format=%d/%m/%Y %H:%M", "set.source=helpdesk"]


def test_upload_a_csv_export_reports_bad_rows_by_line_and_keeps_the_rest(api) -> None:  # noqa: ANN001
    files = {"file": ("export.csv", fixture_bytes("export_cp1252.csv"), "text/csv")}
    params = [("format", "csv"), *[("option", o) for o in CSV_OPTIONS]]
    resp = api.client.post("/v1/imports", params=params, files=files, headers=api.auth("acme", "integration"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["created"] == 2 and body["duplicates"] == 0
    assert [r["line"] for r in body["rejected"]] == [4, 5]
    again = api.client.post("/v1/imports", params=params, files=files, headers=api.auth("acme", "integration"))
    assert again.json()["created"] == 0 and again.json()["duplicates"] == 2
    unknown = api.client.post("/v1/imports", params={"format": "fax"}, files=files,
                              headers=api.auth("acme", "integration"))
    assert unknown.status_code == 400 and "format" in unknown.json()["error"]["message"]
    agent = api.client.post("/v1/imports", params=params, files=files, headers=api.auth("acme", "agent"))
    assert agent.status_code == 403


def test_cli_imports_an_mbox_as_threads(settings_factory) -> None:  # noqa: ANN001
    env = env_of(settings_factory())
    result = run_cli(env, "import", str(FIXTURES / "thread.mbox"), "--format", "mbox", "--tenant", "acme",
                     "--create-tenant", "--option", "company_domains=acme.example", "--json")
    assert result.returncode == 1, result.stderr  # the fixture holds one message without a Date
    summary = json.loads(result.stdout)
    assert summary["created"] == 2 and [r["line"] for r in summary["rejected"]] == [26]
    assert "Date" in summary["rejected"][0]["error"]
    again = run_cli(env, "import", str(FIXTURES / "thread.mbox"), "--format", "mbox", "--tenant", "acme",
                    "--option", "company_domains=acme.example", "--json")
    assert json.loads(again.stdout)["created"] == 0


def test_metrics_expose_connector_counters_and_ingest_latency(hook_factory, api) -> None:  # noqa: ANN001
    hook = hook_factory("generic", signing_secret="s3cret-for-tests-4b8e1f6a0c2d9357")
    body = json.dumps(make_record()).encode()
    forged = {"X-Omnicopilot-Timestamp": "1", "X-Omnicopilot-Signature": "sha256=00",
              "Content-Type": "application/json"}
    assert hook.post(body, forged).status_code == 401
    api.ingest("acme", [make_record()])
    text = api.client.get("/metrics").text
    # Open by default, so no tenant is named: counters are summed per connector.
    assert 'omnicopilot_connector_signature_failures_total{connector="generic"} 1.0' in text
    assert "acme" not in text and "omnicopilot_ingest_seconds" in text


def test_metrics_with_a_key_name_tenants_and_refuse_callers_without_it(settings_factory) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    from copilot.main import create_app
    from tests.conftest import Api

    key = "metrics-key-for-tests-0123456789abcdef"
    with TestClient(create_app(settings_factory(OMNICOPILOT_METRICS_KEY=key))) as client:
        Api(client).ingest("acme", [make_record()])
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        text = client.get("/metrics", headers={"Authorization": f"Bearer {key}"}).text
        assert "omnicopilot_connector_received_total" in text and "omnicopilot_ingest_seconds" in text
