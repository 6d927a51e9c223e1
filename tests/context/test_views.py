"""The context card (DESIGN §6, contract) through the API and the CLI."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.conftest import make_record
from tests.indexing.test_service import env_of, run_cli

CARD_KEYS = {"customer", "summary", "facts", "open_items", "language", "sentiment", "timeline", "engine",
             "generated_at"}


def history_of_dana() -> list[dict]:
    base = datetime(2026, 10, 1, 9, 0)
    texts = [
        ("email", "inbound", "customer", "My order A-10293 never arrived. Tracking 1Z999AA10123456784 says delivered."),
        ("chat", "outbound", "agent", "I have opened claim CLM-55120 with the carrier; you will hear back by Friday."),
        ("sms", "inbound", "customer", "Any news? I already checked with my neighbours."),
    ]
    return [make_record(channel=channel, direction=direction, author_role=role, text=text,
                        occurred_at=(base + timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        customer={"name": "Dana Whitfield", "email": "dana@example.com", "phone": "+14155550134"})
            for i, (channel, direction, role, text) in enumerate(texts)]


def test_card_contract_and_facts_traceable_to_the_timeline(api) -> None:  # noqa: ANN001
    api.ingest("acme", history_of_dana())
    customer_id = api.resolve("acme", "email:dana@example.com")["customer_id"]
    resp = api.client.get(f"/v1/customers/{customer_id}/context", headers=api.auth("acme", "agent"))
    assert resp.status_code == 200, resp.text
    card = resp.json()
    assert set(card) >= CARD_KEYS
    assert card["customer"]["id"] == customer_id and card["customer"]["name"] == "Dana Whitfield"
    assert any(i["kind"] == "email" and i["value"] == "dana@example.com" for i in card["customer"]["identities"])
    assert card["engine"] == "offline" and card["generated_at"]
    assert 0 < len(card["summary"].split()) <= 120
    timeline = card["timeline"]
    assert [t["channel"] for t in timeline] == ["sms", "chat", "email"]  # newest first, every channel
    ids = {t["interaction_id"] for t in timeline}
    assert 0 < len(card["facts"]) <= 15
    for fact in card["facts"]:
        assert fact["interaction_id"] in ids and len(fact["value"]) <= 200
        assert fact["channel"] in {"email", "chat", "sms"} and fact["occurred_at"]
    glance = (card["summary"] + " " + " ".join(f["value"] for f in card["facts"])).lower()
    for known in ("a-10293", "1z999aa10123456784", "clm-55120"):
        assert known in glance


def test_a_fact_in_the_oldest_of_eight_interactions_reaches_the_card(api) -> None:  # noqa: ANN001
    base = datetime(2026, 9, 1, 9, 0)
    chatter = ["Thanks, talk soon.", "Is the shop open on Sunday?", "Great, thank you!", "Just checking in.",
               "What are your opening hours?", "I will call later.", "Still waiting to hear back about the refund."]
    texts = ["My refund for invoice INV-778812 has not arrived after the return."] + chatter
    records = [make_record(text=t, occurred_at=(base + timedelta(days=3 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"))
               for i, t in enumerate(texts)]
    api.ingest("acme", records)
    api.wait_indexed()
    customer_id = api.resolve("acme", "email:dana@example.com")["customer_id"]
    card = api.client.get(f"/v1/customers/{customer_id}/context", headers=api.auth("acme", "agent")).json()
    glance = (card["summary"] + " " + " ".join(f["value"] for f in card["facts"])).lower()
    assert "inv-778812" in glance


def test_card_never_shows_another_customers_or_tenants_data(api) -> None:  # noqa: ANN001
    api.ingest("acme", history_of_dana())
    api.ingest("acme", [make_record(customer={"email": "lee@example.com"}, author_name="Lee",
                                    text="My order B-55555 is late and my account 9911-2200 was charged twice.")])
    api.ingest("globex", [make_record(text="Order Z-99999 broken")])
    dana = api.resolve("acme", "email:dana@example.com")["customer_id"]
    card = json.dumps(api.client.get(f"/v1/customers/{dana}/context", headers=api.auth("acme", "agent")).json())
    assert "B-55555" not in card and "9911-2200" not in card and "Z-99999" not in card
    assert api.client.get(f"/v1/customers/{dana}/context", headers=api.auth("globex", "agent")).status_code == 404
    assert api.client.get(f"/v1/customers/{dana}/context").status_code == 401
    assert api.client.get(f"/v1/customers/{dana}/context",
                          headers=api.auth("acme", "integration")).status_code == 403


def test_cli_context_prints_the_card_as_json(settings_factory, tmp_path) -> None:  # noqa: ANN001
    env = env_of(settings_factory())
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(r) for r in history_of_dana()))
    assert run_cli(env, "import", str(tmp_path / "in.jsonl"), "--tenant", "acme").returncode == 0
    result = run_cli(env, "context", "--tenant", "acme", "--identity", "phone:(415) 555-0134", "--json")
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert card["customer"]["name"] == "Dana Whitfield" and len(card["timeline"]) == 3
    missing = run_cli(env, "context", "--tenant", "acme", "--identity", "email:nobody@example.com")
    assert missing.returncode != 0 and "nobody@example.com" in missing.stderr
