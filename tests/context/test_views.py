"""The context card (DESIGN §6, contract) through the API and the CLI, with the offline engine and with the LLM
engine (the fake OpenAI server), which must never make the agent wait."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, make_record
from tests.indexing.test_service import env_of, run_cli
from tests.support.fake_openai import FakeOpenAI

TENANT = "initech"
CARD_KEYS = {"customer", "summary", "facts", "open_items", "closed_items", "language", "sentiment", "timeline",
             "engine", "pending", "generated_at"}
CUSTOMER = {"name": "Teodor Halden", "email": "teodor@halden.example", "phone": "+15035550261"}


def record(**overrides: object) -> dict:
    values: dict = {"customer": CUSTOMER, "author_name": "Teodor Halden", "subject": "Order Q-40718",
                    "thread_id": "case-q40718"}
    values.update(overrides)
    return make_record(**values)


def history_of_teodor() -> list[dict]:
    base = datetime(2026, 10, 1, 9, 0)
    texts = [
        ("email", "inbound", "customer", "My order Q-40718 never arrived. Tracking 1Z999AA10123456784 says delivered."),
        ("chat", "outbound", "agent", "I have opened claim CLM-55120 with the carrier; you will hear back by Friday."),
        ("sms", "inbound", "customer", "Any news? I already looked behind the bins by the letterbox."),
    ]
    return [record(channel=channel, direction=direction, author_role=role, text=text,
                   author_name="Teodor Halden" if role == "customer" else "Mara (agent)",
                   occurred_at=(base + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%SZ"))
            for i, (channel, direction, role, text) in enumerate(texts)]


def read_card(api: Api, customer_id: str) -> dict:
    resp = api.client.get(f"/v1/customers/{customer_id}/context", headers=api.auth(TENANT, "agent"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_card_contract_and_facts_traceable_to_the_timeline(api: Api) -> None:
    api.ingest(TENANT, history_of_teodor())
    customer_id = api.resolve(TENANT, "email:teodor@halden.example")["customer_id"]
    card = read_card(api, customer_id)
    assert set(card) >= CARD_KEYS
    assert "superseded" not in card  # corrected values are never listed on the card
    assert card["customer"]["id"] == customer_id and card["customer"]["name"] == "Teodor Halden"
    assert any(i["kind"] == "email" and i["value"] == "teodor@halden.example" for i in card["customer"]["identities"])
    assert (card["engine"], card["pending"]) == ("offline", None) and card["generated_at"]
    assert 0 < len(card["summary"].split()) <= 120
    timeline = card["timeline"]
    assert [t["channel"] for t in timeline] == ["sms", "chat", "email"]  # newest first, every channel
    ids = {t["interaction_id"] for t in timeline}
    assert 0 < len(card["facts"]) <= 15
    for fact in card["facts"]:
        assert fact["interaction_id"] in ids and len(fact["value"]) <= 200
        assert fact["channel"] in {"email", "chat", "sms"} and fact["occurred_at"]
    glance = (card["summary"] + " " + " ".join(f["value"] for f in card["facts"])).lower()
    for known in ("q-40718", "1z999aa10123456784", "clm-55120"):
        assert known in glance


def test_card_timeline_and_timeline_api_share_one_item_type(api: Api) -> None:
    api.ingest(TENANT, history_of_teodor())
    customer_id = api.resolve(TENANT, "email:teodor@halden.example")["customer_id"]
    card = read_card(api, customer_id)
    page = api.client.get(f"/v1/customers/{customer_id}/timeline", headers=api.auth(TENANT, "agent")).json()
    assert card["timeline"] == page["items"]
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["ContextCard"]["properties"]["timeline"]["items"]["$ref"].endswith("/TimelineItem")
    assert schemas["TimelinePage"]["properties"]["items"]["items"]["$ref"].endswith("/TimelineItem")
    assert "superseded" not in schemas["ContextCard"]["properties"]


def test_a_fact_in_the_oldest_of_eight_interactions_reaches_the_card(api: Api) -> None:
    base = datetime(2026, 9, 1, 9, 0)
    chatter = ["Thanks, talk soon.", "Is the shop open on Sunday?", "Great, thank you!", "Just checking in.",
               "What are your opening hours?", "I will call later.", "Still waiting to hear back about the refund."]
    texts = ["My refund for invoice INV-778812 has not arrived after the return."] + chatter
    api.ingest(TENANT, [record(text=t, occurred_at=(base + timedelta(days=3 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"))
                        for i, t in enumerate(texts)])
    api.wait_indexed()
    card = read_card(api, api.resolve(TENANT, "email:teodor@halden.example")["customer_id"])
    glance = (card["summary"] + " " + " ".join(f["value"] for f in card["facts"])).lower()
    assert "inv-778812" in glance


def test_card_never_shows_another_customers_or_tenants_data(api: Api) -> None:
    api.ingest(TENANT, history_of_teodor())
    api.ingest(TENANT, [make_record(customer={"email": "lee@example.com"}, author_name="Lee",
                                    text="My order B-55555 is late and my account 9911-2200 was charged twice.")])
    api.ingest("globex", [record(text="Order Z-99999 broken")])
    teodor = api.resolve(TENANT, "email:teodor@halden.example")["customer_id"]
    card = json.dumps(read_card(api, teodor))
    assert "B-55555" not in card and "9911-2200" not in card and "Z-99999" not in card
    assert api.client.get(f"/v1/customers/{teodor}/context", headers=api.auth("globex", "agent")).status_code == 404
    assert api.client.get(f"/v1/customers/{teodor}/context").status_code == 401
    assert api.client.get(f"/v1/customers/{teodor}/context",
                          headers=api.auth(TENANT, "integration")).status_code == 403


def test_cli_context_prints_the_card_as_json(settings_factory, tmp_path) -> None:  # noqa: ANN001
    env = env_of(settings_factory())
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(r) for r in history_of_teodor()))
    assert run_cli(env, "import", str(tmp_path / "in.jsonl"), "--tenant", TENANT, "--create-tenant").returncode == 0
    result = run_cli(env, "context", "--tenant", TENANT, "--identity", "phone:(503) 555-0261", "--json")
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert card["customer"]["name"] == "Teodor Halden" and len(card["timeline"]) == 3
    missing = run_cli(env, "context", "--tenant", TENANT, "--identity", "email:nobody@example.com")
    assert missing.returncode != 0 and "nobody@example.com" in missing.stderr


# -- the LLM engine: the offline card at once, the model's version when it is there ---------------------------
MODEL_CARD = {
    "summary": "Teodor's order Q-40718 never arrived; claim CLM-55120 is open with the carrier.",
    "facts": [{"kind": "order_id", "value": "Q-40718", "ref": "I1"},
              {"kind": "claim_number", "value": "CLM-55120", "ref": "I2"}],
    "open_items": [{"kind": "promise", "text": "News on claim CLM-55120", "due": "Friday", "ref": "I2"}],
    "language": "en", "sentiment": "negative",
}
MODEL_REPLIES = {"suggestions": [{"text": "Hi Teodor, claim CLM-55120 for order Q-40718 is open with the carrier.",
                                  "sources": ["I2"]}]}


@pytest.fixture(scope="module")
def openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def llm_api(openai_server: FakeOpenAI, settings_factory, database_url: str) -> Iterator[Api]:  # noqa: ANN001
    from copilot.main import create_app

    openai_server.state.mode, openai_server.state.delay_s, openai_server.state.requests = "ok", 0.0, []
    openai_server.state.responder = lambda body: json.dumps(
        MODEL_REPLIES if "draft replies" in json.dumps(body["messages"]) else MODEL_CARD)
    settings = settings_factory(OMNICOPILOT_DATABASE_URL=database_url, OMNICOPILOT_ENGINE="llm",
                                OPENAI_BASE_URL=openai_server.base_url, OPENAI_API_KEY="sk-test-card",
                                OMNICOPILOT_LLM_MODEL="fake-model", OMNICOPILOT_LLM_TIMEOUT_S=5)
    with TestClient(create_app(settings)) as client:
        yield Api(client)


def wait_for_model() -> None:
    from copilot.engine.selector import MODEL_JOBS

    assert MODEL_JOBS.wait_idle(timeout_s=600)


def test_llm_card_answers_at_once_then_the_models_version(llm_api: Api) -> None:
    llm_api.ingest(TENANT, history_of_teodor())
    customer_id = llm_api.resolve(TENANT, "email:teodor@halden.example")["customer_id"]
    first = read_card(llm_api, customer_id)
    assert (first["engine"], first["pending"]) == ("offline", "llm:fake-model")
    assert first["summary"] and first["timeline"]
    wait_for_model()
    second = read_card(llm_api, customer_id)
    assert (second["engine"], second["pending"]) == ("llm:fake-model", None)
    assert second["summary"] == MODEL_CARD["summary"]
    assert second["timeline"] == first["timeline"]


def test_llm_suggestions_answer_at_once_then_the_models_version(llm_api: Api) -> None:
    llm_api.ingest(TENANT, history_of_teodor())
    customer_id = llm_api.resolve(TENANT, "email:teodor@halden.example")["customer_id"]
    body = {"message": "Any news? I already looked behind the bins by the letterbox.", "channel": "sms"}
    url = f"/v1/customers/{customer_id}/suggestions"
    first = llm_api.client.post(url, json=body, headers=llm_api.auth(TENANT, "agent"))
    assert first.status_code == 200, first.text
    assert (first.json()["engine"], first.json()["pending"]) == ("offline", "llm:fake-model")
    assert first.json()["suggestions"]
    wait_for_model()
    second = llm_api.client.post(url, json=body, headers=llm_api.auth(TENANT, "agent")).json()
    assert (second["engine"], second["pending"]) == ("llm:fake-model", None)
    assert second["suggestions"][0]["text"] == MODEL_REPLIES["suggestions"][0]["text"]


def test_llm_failure_keeps_the_offline_card_and_says_so(llm_api: Api, openai_server: FakeOpenAI) -> None:
    openai_server.state.mode = "error_500"
    llm_api.ingest(TENANT, history_of_teodor())
    customer_id = llm_api.resolve(TENANT, "email:teodor@halden.example")["customer_id"]
    first = read_card(llm_api, customer_id)
    wait_for_model()
    second = read_card(llm_api, customer_id)
    assert second["engine"].startswith("offline (llm fallback: ") and second["pending"] is None
    assert second["summary"] == first["summary"] and second["facts"] == first["facts"]


def test_an_id_the_customer_mistyped_is_marked_in_the_cards_timeline_and_kept_in_the_history(api: Api) -> None:
    base = datetime(2026, 10, 5, 9, 0)
    turns = [
        ("email", "inbound", "customer", "Order Q-51862", "My parcel for order Q-51862 has not come. Can you check?"),
        ("chat", "inbound", "customer", None,
         "Sorry, I mistyped my order number in the email, it is Q-51826, not Q-51862."),
        ("chat", "outbound", "agent", None, "Thanks, I have order Q-51826 in front of me and I am checking it."),
    ]
    api.ingest(TENANT, [record(channel=channel, direction=direction, author_role=role, subject=subject, text=text,
                               thread_id=f"typo-{n}", author_name="Teodor Halden" if role == "customer" else "Mara",
                               occurred_at=(base + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ"))
                        for n, (channel, direction, role, subject, text) in enumerate(turns)])
    customer_id = api.resolve(TENANT, "email:teodor@halden.example")["customer_id"]
    card = read_card(api, customer_id)
    assert "Q-51826" in {f["value"] for f in card["facts"]}
    shown = json.dumps(card)
    assert "Q-51862" not in shown  # not in the facts, the summary, nor the timeline a glance reads
    first = next(i for i in card["timeline"] if i["channel"] == "email")
    assert first["subject"] == "Order [mistyped id]"
    assert first["text"] == "My parcel for order [mistyped id] has not come. Can you check?"
    page = api.client.get(f"/v1/customers/{customer_id}/timeline", headers=api.auth(TENANT, "agent")).json()
    assert "Q-51862" in json.dumps(page["items"])  # the history itself is kept as it was written
