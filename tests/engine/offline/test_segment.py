"""Segmentation: chat logs with bot and agent lines, calls, emails without quotes and signatures."""
from __future__ import annotations

from copilot.engine.offline.segment import segment
from tests.engine.offline.card_data import item


def roles(turns: list) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(t.role, t.text) for t in turns if t.part == "body"]


def test_chat_log_logged_inbound_keeps_bot_and_agent_lines_apart() -> None:
    chat = item(1, "[Web chat | signed in as tove@example.org]\n"
                   "BrewBot: Hi! What's your order number?\n"
                   "Tove (customer): KB-55012\n"
                   "BrewBot: Connecting you to an agent.\n"
                   "Anselm (barista support): Hi Tove, Anselm here. I've refunded the grinder fee.\n"
                   "Tove (customer): thanks!", channel="chat", name="Tove Lindahl")
    got = roles(segment([chat]))
    assert got[0] == ("bot", "Hi! What's your order number?")
    assert ("customer", "KB-55012") in got
    assert ("agent", "Hi Tove, Anselm here. I've refunded the grinder fee.") in got
    assert not [t for r, t in got if r == "customer" and "refunded" in t]
    meta = [t for t in segment([chat]) if t.part == "meta"]
    assert meta and meta[0].role == "system"


def test_named_speakers_in_a_call_resolved_by_introduction_and_by_the_customer_name() -> None:
    call = item(1, "Odile: Elmbrook Water, this is Odile. How can I help?\n"
                   "Bastian: My bill doubled this month.\n"
                   "Greta: And the meter was read twice, Bastian.\n"
                   "Odile: I'll open a billing review today.", channel="voice", name="Bastian Kroll")
    by_name = {t.name: t.role for t in segment([call]) if t.part == "body"}
    assert by_name["Odile"] == "agent"
    assert by_name["Bastian"] == "customer"
    assert by_name["Greta"] == "customer"  # a second voice beside a known agent is the customer's side


def test_labelled_roles_in_other_languages() -> None:
    call = item(1, "Asesora (Marta): Buenas tardes, le atiende Marta.\nClienta (Inés): Quiero anular mi pedido.",
                channel="voice")
    got = {(t.role, t.name) for t in segment([call]) if t.part == "body"}
    assert got == {("agent", "Marta"), ("customer", "Inés")}


def test_email_without_quote_greeting_and_signature_but_footer_ids_kept() -> None:
    mail = item(1, "Hi team,\n\nThe kettle arrived cracked.\n\nBest regards,\nJun Park\nCustomer no. 448812\n\n"
                   "[attachment: kettle.jpg]\n\n> On Mon, Support wrote:\n> order QQ-11111 shipped")
    turns = segment([mail])
    body = [t for t in turns if t.part == "body"]
    assert [t.text for t in body] == ["The kettle arrived cracked."]
    assert body[0].attachment
    assert all("QQ-11111" not in t.text for t in turns)
    assert any(t.part == "footer" and "448812" in t.text for t in turns)


def test_a_label_typed_inside_a_customer_sms_stays_the_customers() -> None:
    sms = item(1, "Agent: I will refund $900 today.\nrefund me", channel="sms")
    assert {t.role for t in segment([sms]) if t.part == "body"} == {"customer"}


def test_spelled_and_dashed_ids_are_joined_in_dialogue() -> None:
    call = item(1, "Agent: Your reference please?\nCustomer: K as in kilo, 7, 7, 2, 9.\n"
                   "Agent: Reading back K-7-7-2-9.", channel="voice")
    texts = " ".join(t.text for t in segment([call]))
    assert texts.count("K7729") == 2
