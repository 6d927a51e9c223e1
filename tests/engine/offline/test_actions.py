"""Agent actions and the card's choice of facts, on invented histories (no evaluation data)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from copilot.engine.offline import analyse
from copilot.engine.offline.actions import action_phrases
from copilot.engine.offline.summarise import _covered
from tests.engine.offline.card_data import T0, item


@pytest.mark.parametrize("sentence,note,expected", [
    ("I found a blue kettle in our outlet stock and set it aside for you.", False, "set it aside for you"),
    ("Swapped thermostat + new wiring at the boiler.", True, "Swapped thermostat"),
    ("The booking got flagged, but I'm waiving the $15 change fee and the rest stays.", False,
     "waiving the $15 change fee"),
    ("The transfer was auto-declined on Mar 4 because the payee is blocked.", False, "auto-declined on Mar 4"),
    ("I've also issued a $12 credit to your account ending in 3301.", False, "issued a $12 credit"),
    ("Extended the loaner through 5/22 under the warranty clause.", True, "Extended the loaner through 5/22"),
])
def test_an_action_is_a_past_verb_and_its_object_in_at_most_five_words(sentence: str, note: bool,
                                                                        expected: str) -> None:
    got = action_phrases(sentence, note=note)
    assert expected in got
    assert all(len(p.split()) <= 5 for p in got)


@pytest.mark.parametrize("sentence,note", [
    ("I've fixed it.", False),  # nothing to show at a glance
    ("Did you restart the box?", False),  # a question
    ("If it was returned, I refunded nothing.", False),  # a condition
    ("Rusted valve in the cellar.", True),  # a note's opening adjective, not an action
    ("It was not refunded to the card.", False),  # negated
])
def test_no_action_from_questions_conditions_or_states(sentence: str, note: bool) -> None:
    assert action_phrases(sentence, note=note) == []


def test_actions_of_notes_and_agents_reach_the_card_not_the_customers() -> None:
    items = [
        item(1, "My dishwasher leaks from the door. I already cleaned the filter.", name="Ines Kova"),
        item(2, "Replaced door gasket + new hinge pin. Unit tested, no leak.", direction="internal", role="agent",
             name="Tech Arno", days=2, channel="ticket"),
        item(3, "Hi Ines, I've booked a follow-up check for you and waived the call-out fee.", direction="outbound",
             role="agent", name="Lea", days=3),
    ]
    card = analyse(items, now=T0 + timedelta(days=4))
    actions = [f for f in card.facts if f.kind == "action"]
    assert any(f.value == "Replaced door gasket" for f in actions)
    assert any(f.value == "waived the call-out fee" for f in actions)
    assert all(f.speaker == "agent" for f in actions)
    assert any(f.kind == "tried" and f.value == "cleaned the filter" for f in card.facts)


def test_every_validated_id_gets_a_slot_before_softer_kinds() -> None:
    ids = ["KT-40012", "KT-40013", "BX-77120", "RQ-55019", "ZN-81230"]
    text = " ".join(f"Reference {i} is linked." for i in ids)
    filler = ("The red kettle is cracked, the blue lid is torn, the small box is dented, the green cable is frayed "
              "and I paid $12, $14, $16, $18 and $20 for them. I already wiped the base and I already reset the "
              "clock.")
    items = [item(1, filler, name="Ines Kova"),
             item(2, text, direction="outbound", role="agent", name="Lea", days=1)]
    card = analyse(items, now=T0 + timedelta(days=2))
    values = [f.value for f in card.facts]
    assert len(values) <= 15
    assert all(i in values for i in ids)
    assert values[:5] == [v for v in values if v in ids]  # shown first


def test_a_business_named_once_and_an_address_reach_the_card() -> None:
    items = [item(1, "Thornbury Roofing came out on Monday and patched the flashing. Their quote is attached. "
                     "The house is at 48 Elmstead Road.", name="Ines Kova"),
             item(2, "Thanks Ines, I'll review the quote.", direction="outbound", role="agent", name="Lea", days=1)]
    values = [f.value for f in analyse(items, now=T0 + timedelta(days=2)).facts]
    assert "Thornbury Roofing" in values
    assert any(v.startswith("48 Elmstead Road") for v in values)


def test_dates_an_agent_set_keep_the_word_that_says_what_they_are() -> None:
    items = [item(1, "The bill is wrong again.", name="Ines Kova"),
             item(2, "Payment plan noted. Account flagged as covered through 3/20 under the hardship rule; she pays "
                     "her usual $55.", direction="internal", role="agent", name="Lea", days=1, channel="ticket")]
    values = [f.value for f in analyse(items, now=T0 + timedelta(days=2)).facts]
    assert "through 3/20" in values
    assert "usual $55" in values


def test_an_acronym_that_comes_back_is_a_term_a_shouted_word_is_not() -> None:
    items = [item(1, "The OFX export fails and it is STILL broken.", name="Ines Kova"),
             item(2, "Please retry the OFX export from the web app, it still needs a token.", direction="outbound",
                  role="agent", name="Lea", days=1),
             item(3, "Tried OFX again, STILL nothing.", name="Ines Kova", days=2)]
    card = analyse(items, now=T0 + timedelta(days=3))
    codes = [f.value for f in card.facts if f.kind == "code"]
    assert codes == ["OFX"]


def test_the_summary_does_not_retell_what_the_facts_show() -> None:
    assert _covered("I've issued a $12 credit to KT-40012.", "KT-40012 issued a $12 credit") >= 0.6
    assert _covered("The courier lost the parcel in the depot.", "KT-40012 issued a $12 credit") == 0.0
