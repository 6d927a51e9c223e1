"""State over time: corrections supersede everywhere, promises and requests open and close."""
from __future__ import annotations

from datetime import timedelta

from copilot.engine.offline import analyse
from tests.engine.offline.card_data import T0, item


def shown(card) -> str:  # noqa: ANN001 - CardInsights
    return " ".join([card.summary] + [f.value + " " + (f.evidence or "") for f in card.facts]
                    + [o.text + " " + (o.due or "") for o in card.open_items + card.closed_items])


def test_a_corrected_id_is_superseded_everywhere() -> None:
    chat = item(1, "Agent: What's your booking code?\nCustomer: it's LT-55819. sorry no, LT-55891, I flipped the "
                   "last two.\nAgent: Thanks, I found booking LT-55891. I will email the invoice by Mar 3.",
                channel="chat", name="Ola Berg")
    card = analyse([chat], now=T0 + timedelta(days=1))
    assert "LT-55819" in card.superseded
    assert "LT-55891" in [f.value for f in card.facts]
    assert "LT-55819" not in shown(card)


def test_a_transposed_id_loses_to_the_one_the_records_back() -> None:
    items = [item(1, "Your subscription SUB-2291047 is active.", direction="outbound", role="system"),
             item(2, "Please cancel SUB-2291074, I'm moving.", channel="sms", days=3),
             item(3, "Done: SUB-2291047 will end on Apr 30.", direction="outbound", role="agent", days=4)]
    card = analyse(items, now=T0 + timedelta(days=5))
    assert card.superseded == ["SUB-2291074"]


def test_a_changed_amount_is_superseded() -> None:
    mail = item(1, "The total of the damaged items is $1,370, not $1,730. Receipts attached.")
    card = analyse([mail], now=T0)
    assert "$1,730" in card.superseded and "$1,730" not in shown(card)
    assert "$1,370" in [f.value for f in card.facts]


def test_a_promise_replaced_by_a_new_date_closes_and_the_new_one_is_open() -> None:
    items = [item(1, "I've filed your warranty case WR-4410. You will have a decision by March 9.",
                  direction="outbound", role="agent", name="Ilse"),
             item(2, "Sorry, case WR-4410 is delayed at the workshop. Expect the warranty decision by March 20.",
                  direction="outbound", role="agent", days=6, name="Ilse")]
    card = analyse(items, now=T0 + timedelta(days=7))
    promises = [o for o in card.open_items if o.kind == "promise"]
    assert [p.due for p in promises] == ["March 20"]
    assert [(c.status, c.due) for c in card.closed_items if c.kind == "promise"] == [("replaced", "March 9")]


def test_a_cancelled_promise_closes() -> None:
    items = [item(1, "We will ship the replacement pump P-99120 by Feb 10.", direction="outbound", role="agent"),
             item(2, "The replacement P-99120 has been cancelled as you asked.", direction="outbound", role="agent",
                  days=2)]
    card = analyse(items, now=T0 + timedelta(days=3))
    assert not [o for o in card.open_items if o.kind == "promise"]
    assert [c.status for c in card.closed_items if c.kind == "promise"] == ["cancelled"]


def test_a_fulfilled_promise_closes_and_an_overdue_one_is_flagged() -> None:
    items = [item(1, "I've issued a refund of $45.10, you'll see it by Feb 5.", channel="sms", direction="outbound",
                  role="agent"),
             item(2, "Refund processed: $45.10 to Visa ending 1180.", direction="outbound", role="system", days=3),
             item(3, "I've added a $12 credit. It will show on your statement by Feb 9.", channel="sms",
                  direction="outbound", role="agent", days=4)]
    card = analyse(items, now=T0 + timedelta(days=20))
    open_promises = [o for o in card.open_items if o.kind == "promise"]
    assert len(open_promises) == 1 and "$12" in open_promises[0].text and open_promises[0].overdue
    assert [c.status for c in card.closed_items if "$45.10" in c.text] == ["fulfilled"]


def test_a_request_answered_later_closes_and_statements_are_not_todos() -> None:
    items = [item(1, "Agent: I see the repair completed on Jan 12. Can you please upload a picture of its serial "
                     "label?\nCustomer: sure, tonight", channel="chat"),
             item(2, "Uploaded the picture of the label now.\n\n[attachment: label.jpg]", days=1)]
    card = analyse(items, now=T0 + timedelta(days=2))
    assert not [o for o in card.open_items if o.kind in {"request", "promise"}]
    assert [c.status for c in card.closed_items if c.kind == "request"] == ["answered"]


def test_a_request_not_yet_answered_stays_open() -> None:
    items = [item(1, "Could you please email us the receipt for the boots?", direction="outbound", role="agent"),
             item(2, "I'll look for the receipt tomorrow.", channel="sms", days=1)]
    card = analyse(items, now=T0 + timedelta(days=2))
    assert [o.kind for o in card.open_items if o.kind == "request"] == ["request"]


def test_tried_is_a_fact_not_an_open_item_and_waiting_for_is_the_latest_need() -> None:
    items = [item(1, "I've already reset the thermostat twice. It still shows error E4.", channel="sms"),
             item(2, "When is the technician coming? Still no heat here.", channel="sms", days=2)]
    card = analyse(items, now=T0 + timedelta(days=2))
    assert any(f.kind == "tried" and f.value.startswith("reset the thermostat") for f in card.facts)
    assert not [o for o in card.open_items if o.kind == "tried"]
    waiting = [o for o in card.open_items if o.kind == "waiting_for"]
    assert waiting and "technician" in waiting[0].text


def _open_text(card) -> str:  # noqa: ANN001 - CardInsights
    return " ".join(o.text + " " + (o.due or "") for o in card.open_items)


def test_the_same_date_restated_is_a_confirmation_that_stays_open() -> None:
    items = [item(1, "Your boiler service visit is Tuesday, April 6, 9-11am.", direction="outbound", role="agent",
                  name="Runa"),
             item(2, "Visit booked: April 6, boiler service, 9-11am", channel="sms", direction="outbound",
                  role="system", days=1)]
    card = analyse(items, now=T0 + timedelta(days=2))
    assert "April 6" in _open_text(card)


def test_a_new_estimated_date_without_future_wording_replaces_and_is_not_fulfilled() -> None:
    items = [item(1, "Su pedido estará listo el lunes 8 de marzo.", channel="whatsapp", direction="outbound",
                  role="agent", name="Farmacia Norte"),
             item(2, "Hubo un retraso con el proveedor. Ahora la fecha estimada de entrega es el jueves 11 de marzo.",
                  channel="whatsapp", direction="outbound", role="agent", days=3, name="Farmacia Norte"),
             item(3, "Buenas tardes, ¿ya está listo mi pedido?", channel="whatsapp", days=4, name="Ana Ruiz")]
    card = analyse(items, now=T0 + timedelta(days=4))
    assert "11 de marzo" in _open_text(card) and "8 de marzo" not in _open_text(card)


def test_a_different_event_does_not_replace_a_promise() -> None:
    items = [item(1, "Thanks for paying. We expect customs to clear the shipment PK-55120 by Mar 9.",
                  direction="outbound", role="agent", name="Tove"),
             item(2, "Notice: shipment PK-55120 will be sent back to the sender on Mar 12.", channel="sms",
                  direction="outbound", role="system", days=1)]
    card = analyse(items, now=T0 + timedelta(days=2))
    assert "Mar 9" in _open_text(card)


def test_bill_notices_and_record_fields_are_not_promises() -> None:
    items = [item(1, "Your statement is available: $52.10, please pay by Mar 20.", channel="sms",
                  direction="outbound", role="system"),
             item(2, "Balance due: $52.10 on Mar 20, 2027\nMeter status: ESTIMATED", direction="outbound",
                  role="system", days=1)]
    card = analyse(items, now=T0 + timedelta(days=2))
    assert not [o for o in card.open_items if o.kind == "promise"]


def test_an_internal_note_moving_the_date_replaces_the_promise_and_is_never_shown() -> None:
    items = [item(1, "We've sent your appeal to the review board and expect a decision by February 12.",
                  direction="outbound", role="agent", name="Halvard"),
             item(2, "Board review pushed to 02/26, they want the site report first.",
                  channel="ticket", direction="internal", role="agent", days=5, name="Halvard")]
    card = analyse(items, now=T0 + timedelta(days=6))
    assert "February 12" not in _open_text(card)
    assert "board asked" not in _open_text(card)


def test_a_fulfilment_worded_differently_closes_the_promise() -> None:
    items = [item(1, "We'll add the 300 bonus points to your balance by Feb 4.", direction="outbound",
                  role="agent", name="Mirek"),
             item(2, "[App inbox] 300 bonus points were credited to your balance. Enjoy!", channel="chat",
                  direction="outbound", role="system", days=1)]
    card = analyse(items, now=T0 + timedelta(days=2))
    assert "Feb 4" not in _open_text(card)
    assert [c.status for c in card.closed_items if "Feb 4" in (c.due or "")] == ["fulfilled"]


def test_reported_speech_and_work_in_progress_do_not_fulfil_a_promise() -> None:
    items = [item(1, "Your $900.00 settlement will go out by Feb 10.",
                  direction="outbound", role="agent", name="Odile"),
             item(2, "Insurer: your settlement has been approved and is being paid out.", channel="sms",
                  direction="outbound", role="system", days=2),
             item(3, "Odile told me the settlement would be paid by Feb 10, my bank shows nothing.",
                  days=12, name="Ben Carr")]
    card = analyse(items, now=T0 + timedelta(days=12))
    assert "Feb 10" in _open_text(card)


def test_the_checksum_valid_record_wins_over_a_mistyped_copy() -> None:
    items = [item(1, "Device: Lumo X2\nIMEI: 490154203237518", direction="outbound", role="system"),
             item(2, "We've received your claim.\nIMEI on claim: 490154203237581", direction="outbound",
                  role="system", days=3)]
    card = analyse(items, now=T0 + timedelta(days=4))
    assert "490154203237581" in card.superseded and "490154203237518" not in card.superseded


def test_a_spelled_id_with_a_skipped_character_loses_to_the_read_back() -> None:
    call = item(1, "Agent: Can I have your membership number?\n"
                   "Customer: It reads K, L, 4, 0, 7, 2... oh no, I skipped one. K, L, 4, 0, 0, 7, 2.\n"
                   "Agent: Thank you, KL-40072. I will post the new card by Friday.",
                channel="voice", name="Ines Varga")
    card = analyse([call], now=T0 + timedelta(days=1))
    ids = [f.value for f in card.facts if f.kind in {"account_number", "reference", "ticket_id"}]
    assert any(v.replace("-", "") == "KL40072" for v in ids)
    assert not any(v.replace("-", "") in {"KL4072", "KL40720", "1KL40072"} for v in ids)
    assert "KL4072" in card.superseded


def test_a_pause_inside_a_spelled_number_keeps_it_whole() -> None:
    from copilot.engine.offline.spelled import normalise_spelled

    assert normalise_spelled("it's eight, two, oh, five... three, three, one.") == "it's 8205331."
    assert normalise_spelled("it's seven, two, nine, four... oh no, wait") == "it's 7294... oh no, wait"
