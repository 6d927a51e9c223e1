"""The customer's own key details: described items, names, counts (invented data)."""
from __future__ import annotations

from datetime import timedelta

from copilot.engine.offline import analyse
from copilot.engine.offline.describe import descriptions, names
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
