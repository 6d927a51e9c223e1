"""Extractors on invented texts: values alone, kinds from context and shape, dates, spelled ids, language."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from copilot.engine.offline.dates import find_due
from copilot.engine.offline.extract import extract, tried_phrase
from copilot.engine.offline.kinds import FactKind
from copilot.engine.offline.language import detect_language, detect_sentiment
from copilot.engine.offline.segment import segment
from copilot.engine.offline.spelled import normalise_spelled
from copilot.interactions.redact import luhn_valid
from tests.engine.offline.card_data import item


def found(text: str, **kw: object) -> dict[str, FactKind]:
    return {m.value: m.kind for m in extract(segment([item(1, text, **kw)]))}  # type: ignore[arg-type]


@pytest.mark.parametrize("text,value,kind", [
    ("Your service order is WO-730155 and a tech will call.", "WO-730155", FactKind.WORK_ORDER),
    ("My order number is B-44190, placed on Monday.", "B-44190", FactKind.ORDER_ID),
    ("Claim CLM-27-0044128 was opened yesterday", "CLM-27-0044128", FactKind.CLAIM_NUMBER),
    ("Return it with RMA-90412 on the box", "RMA-90412", FactKind.RMA),
    ("Invoice INV-2027-00871 shows 12 seats", "INV-2027-00871", FactKind.INVOICE_NUMBER),
    ("Your parcel KX55019027713 left the depot", "KX55019027713", FactKind.TRACKING_NUMBER),
    ("Su pedido QZ-88310 está en camino", "QZ-88310", FactKind.ORDER_ID),
])
def test_identifiers_get_their_kind(text: str, value: str, kind: FactKind) -> None:
    assert found(text)[value] == kind


def test_a_carrier_tracking_shape_is_a_tracking_number_not_an_rma() -> None:
    got = found("For the return, the RMA label is attached; tracking 1Z7Y48E10291538817 once dropped off.")
    assert got["1Z7Y48E10291538817"] == FactKind.TRACKING_NUMBER


@pytest.mark.parametrize("text,value", [
    ("I've refunded $27.40 for the missing noodles.", "$27.40"),
    ("Die bereits belasteten 315,00 € erstatten wir.", "315,00 €"),
    ("O estorno de R$ 72,90 foi solicitado.", "R$ 72,90"),
    ("A full refund of 149.00 USD was issued (12/04).", "149.00 USD"),
    ("The plan is $11 per seat for the term.", "$11 per seat"),
])
def test_amounts_are_the_value_alone(text: str, value: str) -> None:
    amounts = [v for v, k in found(text).items() if k == FactKind.AMOUNT]
    assert amounts == [value]


def test_card_endings_keep_at_most_the_brand_and_no_random_capitals_become_codes() -> None:
    got = found("Refund sent to your Visa ending 6641. GPU was fine, HDD too. ASAP please.")
    assert got["Visa ending 6641"] == FactKind.LAST4
    assert not [v for v, k in got.items() if k not in {FactKind.LAST4, FactKind.AMOUNT}]


def test_phones_emails_and_imei_checksum() -> None:
    got = found("Reach me at li.wen@example.net or (415) 555-0123. IMEI 490154203237518.")
    assert got["li.wen@example.net"] == FactKind.EMAIL
    assert got["(415) 555-0123"] == FactKind.PHONE
    assert got["490154203237518"] == FactKind.IMEI
    assert luhn_valid("490154203237518") and not luhn_valid("490154203237581")


def test_times_ranges_and_quantities_are_not_ids() -> None:
    got = found("Slot is 9am-11am, a 3-way splitter, 12,500 points and 2 yrs old.")
    assert not [v for v, k in got.items() if k not in {FactKind.DATE, FactKind.AMOUNT}]


@pytest.mark.parametrize("spoken,compact", [
    ("it's six, two, oh, oh, nine, one, four", "6200914"),
    ("B as in bravo, 3, 3, 8, 1", "B3381"),
    ("double seven, two, five", "7725"),
    ("R-4-4-Z-9", "R44Z9"),
])
def test_spelled_ids_become_compact(spoken: str, compact: str) -> None:
    assert compact in normalise_spelled(spoken)


def test_ordinary_words_are_not_spelled_ids() -> None:
    text = "One thing - two of us will come at four."
    assert normalise_spelled(text) == text


def test_tried_is_a_short_phrase() -> None:
    assert tried_phrase("I've already power-cycled the hub twice, but it still blinks.") == "power-cycled the hub twice"
    assert tried_phrase("Did you restart it?") is None


def test_due_dates_resolve_against_the_message_time() -> None:
    written, when = find_due("We will call you back by Thu 3/11.", datetime(2027, 3, 8, tzinfo=UTC))
    assert written and "3/11" in written and when and (when.month, when.day) == (3, 11)
    written, when = find_due("It will post within 2 business days.", datetime(2027, 3, 12, tzinfo=UTC))  # Friday
    assert written == "within 2 business days" and when and when.day == 16


@pytest.mark.parametrize("text,lang", [
    ("¡¡Otra vez sin agua!! Ya hice el pago el lunes y nadie me responde.", "es"),
    ("Bonjour, je n'ai toujours pas reçu mon colis.", "fr"),
    ("Hallo, ich habe immer noch keine Antwort bekommen.", "de"),
    ("Olá, ainda não recebi a minha encomenda.", "pt"),
    ("It stopped again tonight, twice already.", "en"),
])
def test_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_sentiment() -> None:
    assert detect_sentiment("seriously?? still nothing, nobody called") == "negative"
    assert detect_sentiment("Great, thanks so much, it works now!") == "positive"


@pytest.mark.parametrize("text,value,kind", [
    ("The cap is 250/min on the Pro plan.", "250/min", FactKind.RATE),
    ("Throttled at 40 req/s since Monday.", "40 req/s", FactKind.RATE),
    ("The carrier refused it with reject code 7F again.", "reject code 7F", FactKind.CODE),
    ("I moved it to queue PRI-HOLD for review.", "queue PRI-HOLD", FactKind.CODE),
    ("Their invoice (#KD-3310, $120.00) is attached.", "KD-3310", FactKind.INVOICE_NUMBER),
    ("Please keep paying your usual $95 until then.", "usual $95", FactKind.AMOUNT),
])
def test_rates_keyword_codes_numbered_refs_and_amount_roles(text: str, value: str, kind: FactKind) -> None:
    assert found(text)[value] == kind


def test_a_hashtag_is_no_reference() -> None:
    assert not [v for v in found("Loving the new app #update2day", channel="social") if "update" in v]


def test_a_grouped_long_number_is_one_value_not_a_phone() -> None:
    got = found("Your parcel (tracking 7311 2290 4456 0081 2234 55) left the depot.")
    assert got["7311 2290 4456 0081 2234 55"] == FactKind.TRACKING_NUMBER
    assert FactKind.PHONE not in got.values()


def test_the_text_sent_with_an_attachment_is_kept() -> None:
    got = found("[image: receipt.jpg] here it is, the confirmation number is QP-55018273")
    assert "QP-55018273" in got


def test_tried_lists_are_cut_at_phrase_boundaries_each_step_on_its_own() -> None:
    from copilot.engine.offline.extract import tried_phrases

    got = tried_phrases("I've rebooted it twice, did a full reset on Sunday morning, and swapped the power brick "
                        "for a spare one.")
    assert got == ["rebooted it twice", "did a full reset", "swapped the power brick"]
    assert tried_phrases("Also I already renewed the certificate in case it had expired") == ["renewed the certificate"]
    assert all(len(p.split()) <= 6 for p in got)


def test_the_same_text_in_two_turns_gives_each_turn_its_own_mentions() -> None:
    # extraction is reused for a text seen before: the mentions must still belong to the turn asked about
    turns = segment([item(1, "My order B-44190 was due on March 3"), item(2, "My order B-44190 was due on March 3")])
    first, second = extract(turns[:1]), extract(turns[1:])
    assert [(m.kind, m.value, m.evidence) for m in first] == [(m.kind, m.value, m.evidence) for m in second]
    assert {m.turn.index for m in first} == {turns[0].index} and {m.turn.index for m in second} == {turns[1].index}
    dates = [m for m in first + second if m.kind == FactKind.DATE]
    assert len(dates) == 2 and dates[0].extra is not dates[1].extra
