"""The customer's own key details: described items, names, counts (invented data)."""
from __future__ import annotations

from datetime import timedelta

from copilot.engine.offline import analyse
from copilot.engine.offline.describe import descriptions, find_details, names
from copilot.engine.offline.kinds import FactKind
from copilot.engine.offline.segment import segment
from tests.engine.offline.card_data import T0, item


def test_descriptions_are_short_noun_phrases_in_both_word_orders() -> None:
    assert descriptions("The lamp arrived with a CRACKED shade and a bent stand.") == ["cracked shade", "bent stand"]
    assert descriptions("It is a dark blue canvas backpack, nothing else.") == ["dark blue canvas backpack"]
    assert descriptions("la maleta roja llegó con la rueda rota") == ["maleta roja", "rueda rota"]
    assert descriptions("It's broken.") == []


def test_names_are_capitalised_runs_not_sentence_openings_or_people() -> None:
    assert names("I ordered the Nordic Trail X4 tent last week.", frozenset()) == ["Nordic Trail X4"]
    assert names("I ordered the Deluxe Tapas 12 pieces.", frozenset()) == ["Deluxe Tapas"]
    assert names("Thanks Oskar Lind for the help.", frozenset({"Oskar", "Lind"})) == []
    assert names("Yesterday it stopped.", frozenset()) == []


def test_details_reach_the_card_as_facts() -> None:
    items = [item(1, "Hi, I booked 12 seats for the Harbour Lights Cruise and the blue canvas tote I bought there "
                     "came with a ripped strap.", name="Wenke Aas"),
             item(2, "Sorry to hear that, Wenke. I'll look into it.", direction="outbound", role="agent", days=1,
                  name="Joris")]
    card = analyse(items, now=T0 + timedelta(days=2))
    values = {(f.kind, f.value) for f in card.facts}
    assert ("quantity", "12 seats") in values
    assert ("product", "Harbour Lights Cruise") in values
    assert ("description", "ripped strap") in values
    assert any(k == "description" and "tote" in v for k, v in values)


def test_a_numbered_item_and_a_stated_damage_are_descriptions() -> None:
    assert "missing page 3" in descriptions("The lease form is missing page 3 (clauses 9-12).")
    assert "hinge is cracked" in descriptions("the box came fine but the hinge is cracked")


def test_conditions_and_medications_from_customers_and_notes() -> None:
    items = [item(1, "Just so you know, I'm hard of hearing, so please text me.", name="Ola Brandt"),
             item(2, "Dr. Sami prescribed ibuprofen 400 mg before the visit. Patient needs a chaperone.",
                  direction="internal", role="agent", name="Nurse Kim", days=1, channel="ticket")]
    details = {(d.kind, d.value) for d in find_details(segment(items), frozenset())}
    assert (FactKind.CONDITION, "hard of hearing") in details
    assert (FactKind.CONDITION, "needs a chaperone") in details
    assert (FactKind.MEDICATION, "ibuprofen 400 mg") in details


def test_a_phobia_and_equipment_by_its_head_noun_are_conditions() -> None:
    items = [item(1, "I'm very agoraphobic, can the engineer call ahead? My father uses a concentrator of air at "
                     "night.", name="Ola Brandt")]
    details = {(d.kind, d.value) for d in find_details(segment(items), frozenset())}
    assert (FactKind.CONDITION, "agoraphobic") in details
    assert (FactKind.CONDITION, "concentrator of air") in details
