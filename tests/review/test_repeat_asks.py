"""Leak points (GET /v1/review/repeat-asks): agent messages that asked a customer again for what the customer
had given on an earlier contact, on a history written for the test and on the demo data set."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from copilot.demo.loader import DATA
from tests.conftest import make_record

LENA = {"name": "Lena Marsh", "email": "lena.marsh@example.org", "phone": "(415) 555-0142"}
OMAR = {"name": "Omar Haddad", "email": "omar.haddad@example.com", "phone": "(628) 555-0177"}


def lena_first_email() -> dict:
    return make_record(customer=LENA, author_name="Lena Marsh", thread_id="mail-1", subject="Cracked blender",
                       occurred_at="2026-10-05T09:00:00Z",
                       text="Hi,\n\nmy blender arrived with a cracked jug. The order number is KB-58213. "
                            "I attached a photo of the crack.\n[image: jug.jpg]\n\nLena")


def lena_history() -> list[dict]:
    """After the first email: the agent's reply (written with the copilot), then the contacts that follow."""
    return [
        make_record(customer=LENA, direction="outbound", author_name="Noor A.", thread_id="mail-1",
                    occurred_at="2026-10-05T11:00:00Z", subject="Re: Cracked blender",
                    text="Hi Lena,\n\nso sorry about the jug. We are sending a replacement this week.\n\nNoor"),
        # Repeat ask: the order number was in the email (email -> voice).
        make_record(customer={"phone": LENA["phone"]}, source="aircall", channel="voice", thread_id="call-1",
                    author_name="Lena Marsh", occurred_at="2026-10-07T15:00:00Z", subject=None,
                    metadata={"agent": "Ravi S."},
                    text="Agent: Thanks for calling, this is Ravi. Could you give me your order number, please?\n"
                         "Customer: KB-58213. I put it in my email.\nAgent: Thanks, I'll check on the replacement."),
        # Repeat ask: she emailed the photo (email -> chat).
        make_record(customer=LENA, source="webchat", channel="chat", thread_id="chat-1", author_name="Lena Marsh",
                    occurred_at="2026-10-09T10:00:00Z", subject=None,
                    text="Customer: the replacement hasn't shipped yet\n"
                         "Agent (Mia K.): Sorry about that! Could you send a photo of the cracked jug?\n"
                         "Customer: I sent one with my first email."),
        # Look-alike: a read-back confirmation of a value she gave.
        make_record(customer={"phone": LENA["phone"]}, source="twilio", channel="sms", direction="outbound",
                    author_name="Ravi S.", thread_id="sms-1", occurred_at="2026-10-10T08:00:00Z", subject=None,
                    text="Just to confirm, your order number is KB-58213? And is KB-58213 the order number on the "
                         "receipt too? Reply YES and we ship today."),
        # Look-alike: an ask for something she never gave.
        make_record(customer={"phone": LENA["phone"]}, source="twilio", channel="sms", direction="outbound",
                    author_name="Ravi S.", thread_id="sms-1", occurred_at="2026-10-10T08:05:00Z", subject=None,
                    text="Could you also tell us your account number so we can add a credit?"),
    ]


def omar_history() -> list[dict]:
    return [
        # Look-alike: asked on the same contact, before he had given it anywhere.
        make_record(customer=OMAR, source="webchat", channel="chat", thread_id="chat-2", author_name="Omar Haddad",
                    occurred_at="2026-10-12T16:00:00Z", subject=None,
                    text="Customer: my parcel is stuck\nAgent (Mia K.): I can help. What's your tracking number?\n"
                         "Customer: 1Z999AA10123456784"),
        # Repeat ask: the tracking number was given in the chat (chat -> email).
        make_record(customer=OMAR, direction="outbound", author_name="Noor A.", thread_id="mail-2",
                    occurred_at="2026-10-14T09:30:00Z", subject="Your parcel",
                    text="Hi Omar,\n\nplease reply with the tracking number so we can open a trace with the carrier."
                         "\n\nNoor"),
        # Look-alike: "already" names it as given, and the photo he is asked for was never sent.
        make_record(customer=OMAR, direction="outbound", author_name="Noor A.", thread_id="mail-2",
                    occurred_at="2026-10-15T09:30:00Z", subject="Your parcel",
                    text="Hi Omar,\n\nyou already sent the tracking number, thank you. Could you send a photo of "
                         "the label on the box?\n\nNoor"),
    ]


@pytest.fixture
def history(api) -> dict:  # noqa: ANN001
    api.ingest("acme", [lena_first_email()])
    lena = api.resolve("acme", "email:lena.marsh@example.org")["customer_id"]
    # The agent used the copilot for the reply to the first email: a suggestion accepted.
    resp = api.client.post(f"/v1/customers/{lena}/suggestions", json={"message": "my blender arrived cracked",
                                                                       "channel": "email"},
                           headers=api.auth("acme", "agent"))
    assert resp.status_code == 200, resp.text
    first = resp.json()["suggestions"][0]["id"]
    assert api.client.post(f"/v1/suggestions/{first}/feedback", json={"action": "accepted"},
                           headers=api.auth("acme", "agent")).status_code == 200
    api.ingest("acme", lena_history() + omar_history())
    omar = api.resolve("acme", "email:omar.haddad@example.com")["customer_id"]
    return {"lena": lena, "omar": omar}


def leaks(api, tenant: str = "acme", role: str = "supervisor", **params) -> dict:  # noqa: ANN001
    resp = api.client.get("/v1/review/repeat-asks", params=params, headers=api.auth(tenant, role))
    assert resp.status_code == 200, resp.text
    return resp.json()


def cases(report: dict) -> set[tuple[str | None, str, str, str]]:
    return {(w["customer_name"], w["kind"], w["channel_switch"], w["asked"]["agent"]) for w in report["worst"]}


def test_finds_the_repeat_asks_and_none_of_the_look_alikes(api, history) -> None:  # noqa: ANN001
    report = leaks(api)
    assert cases(report) == {("Lena Marsh", "order_number", "email → voice", "Ravi S."),
                             ("Lena Marsh", "photo", "email → chat", "Mia K."),
                             ("Omar Haddad", "tracking_number", "chat → email", "Noor A.")}
    assert report["total"] == 3 and report["customers"] == 2
    by_kind = {w["kind"]: w for w in report["worst"]}
    order = by_kind["order_number"]
    assert order["value"] == "KB-58213" and order["customer_id"] == history["lena"]
    assert order["first_given"]["channel"] == "email" and order["asked"]["channel"] == "voice"
    assert "order number" in order["asked"]["sentence"] and "KB-58213" in order["first_given"]["evidence"]
    assert order["days_since_given"] == pytest.approx(2.25, abs=0.1)
    assert by_kind["photo"]["value"] is None
    # Both ends are linked: the sidebar at the asking message and at the message that gave it.
    for w in report["worst"]:
        assert w["asked"]["link"].startswith("/sidebar?identity=")
        assert w["asked"]["link"].endswith("#message=" + w["asked"]["interaction_id"])
        assert w["first_given"]["link"].endswith("#message=" + w["first_given"]["interaction_id"])
        assert w["asked"]["interaction_id"] != w["first_given"]["interaction_id"]


def test_breakdowns_by_channel_pair_agent_and_week(api, history) -> None:  # noqa: ANN001
    report = leaks(api)
    pairs = {p["label"]: p["repeat_asks"] for p in report["by_channel_pair"]}
    assert pairs == {"email → voice": 1, "email → chat": 1, "chat → email": 1}
    agents = {a["agent"]: a for a in report["by_agent"]}
    assert agents["Ravi S."]["repeat_asks"] == 1 and agents["Ravi S."]["agent_replies"] == 3  # call + 2 texts
    assert agents["Noor A."]["repeat_asks"] == 1 and agents["Noor A."]["agent_replies"] == 3
    assert agents["Mia K."]["repeat_asks"] == 1 and agents["Mia K."]["agent_replies"] == 2
    assert report["agent_replies"] == 8 and report["replies_with_repeat_ask"] == 3
    assert report["rate"] == pytest.approx(3 / 8, abs=1e-3)
    weeks = {w["week"]: w for w in report["by_week"]}
    assert set(weeks) == {"2026-10-05", "2026-10-12"}  # Mondays
    assert weeks["2026-10-05"]["repeat_asks"] == 2 and weeks["2026-10-12"]["repeat_asks"] == 1
    assert {k["kind"]: k["repeat_asks"] for k in report["by_kind"]} == {"order_number": 1, "photo": 1,
                                                                        "tracking_number": 1}


def test_rate_with_and_without_the_copilot(api, history) -> None:  # noqa: ANN001
    report = leaks(api)
    # The reply written from an accepted suggestion asked nothing again; the rest leaked 3 times in 7.
    assert report["with_copilot"] == {"copilot_used": True, "agent_replies": 1, "replies_with_repeat_ask": 0,
                                      "repeat_asks": 0, "rate": 0.0}
    without = report["without_copilot"]
    assert without["agent_replies"] == 7 and without["repeat_asks"] == 3
    assert without["rate"] == pytest.approx(3 / 7, abs=1e-3)
    assert not any(w["copilot_used"] for w in report["worst"])


def test_filters(api, history) -> None:  # noqa: ANN001
    assert cases(leaks(api, channel="voice")) == {("Lena Marsh", "order_number", "email → voice", "Ravi S.")}
    only_mia = leaks(api, agent="Mia K.")
    assert cases(only_mia) == {("Lena Marsh", "photo", "email → chat", "Mia K.")}
    assert only_mia["agent_replies"] == 2 and "Ravi S." in only_mia["agents"]  # the choices stay whole
    assert cases(leaks(api, since="2026-10-12")) == {("Omar Haddad", "tracking_number", "chat → email", "Noor A.")}
    assert leaks(api, until="2026-10-08")["total"] == 1
    assert leaks(api, since="2026-11-01")["total"] == 0
    resp = api.client.get("/v1/review/repeat-asks", params={"since": "last week"},
                          headers=api.auth("acme", "supervisor"))
    assert resp.status_code == 400


def test_worst_first_and_limit(api, history) -> None:  # noqa: ANN001
    # A second call asks Lena for the order number again: asked twice after it was given, that case is worst.
    api.ingest("acme", [make_record(customer={"phone": LENA["phone"]}, source="aircall", channel="voice",
                                    thread_id="call-2", author_name="Lena Marsh", occurred_at="2026-10-20T15:00:00Z",
                                    subject=None, metadata={"agent": "Ravi S."},
                                    text="Agent: Hello again. What's the order number?\nCustomer: Really? KB-58213.")])
    report = leaks(api, limit=1)
    assert report["total"] == 4 and len(report["worst"]) == 1
    worst = report["worst"][0]
    assert (worst["kind"], worst["nth"], worst["times_given"]) == ("order_number", 2, 2)
    assert worst["asked"]["occurred_at"].startswith("2026-10-20")


def test_supervisors_only_and_tenant_bound(api, history) -> None:  # noqa: ANN001
    resp = api.client.get("/v1/review/repeat-asks", headers=api.auth("acme", "agent"))
    assert resp.status_code == 403
    assert leaks(api, tenant="globex")["total"] == 0


def demo_records() -> dict[str, list[dict]]:
    by_tenant: dict[str, list[dict]] = defaultdict(list)
    for line in (DATA / "interactions.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            by_tenant[record["tenant"]].append(record)
    return by_tenant


# (customer, what was asked again, channel switch, agent): the demo's seeded leak points.
DEMO_REPEAT_ASKS = {
    "acme-telecom": {("Lukas Hartmann", "account_number", "email → chat", "Sophie T."),
                     ("Jordan Blake", "order_number", "ticket → chat", "Nate W.")},
    "harbor-outfitters": {("Aaron Goldberg", "serial_number", "email → whatsapp", "Ben H."),
                          ("Rachel Kim", "order_number", "chat → voice", "Priscilla V."),
                          ("Sam Okafor", "tracking_number", "email → sms", "Jess A.")},
}
# Asks in the demo that are not repeat asks: read-back confirmations, asks for what was never given before,
# asks answered later on the same contact.
DEMO_LOOK_ALIKES = {
    "acme-telecom": {("Margaret O'Connell", "account_number"), ("Margaret O'Connell", "address"),
                     ("Wei Chen", "account_number"), ("Priya Natarajan", "account_number"),
                     ("Tomás Herrera", "account_number"), ("Tomás Herrera", "card_digits")},
    "harbor-outfitters": {("Theo Lindqvist", "order_number"), ("Nadia Mansour", "order_number"),
                          ("Aaron Goldberg", "order_number"), ("Aaron Goldberg", "photo"),
                          ("Aaron Goldberg", "claim_number")},
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_demo_lists_its_seeded_repeat_asks_and_none_of_its_look_alikes(api) -> None:  # noqa: ANN001
    for tenant, records in demo_records().items():
        api.ingest(tenant, records)
        report = leaks(api, tenant=tenant, limit=500)
        assert cases(report) == DEMO_REPEAT_ASKS[tenant] and report["total"] == len(DEMO_REPEAT_ASKS[tenant])
        found = {(w["customer_name"], w["kind"]) for w in report["worst"]}
        assert not found & DEMO_LOOK_ALIKES[tenant]
