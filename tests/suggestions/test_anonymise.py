"""Past agent replies of other customers lose everything that could identify them."""
from __future__ import annotations

from copilot.suggestions.service import anonymise_reply


def test_sentences_with_ids_amounts_emails_and_links_are_dropped() -> None:
    reply = ("Hi Tamsin, so sorry about the drops! I've opened ticket MT-88240 for your node. "
             "A technician will check the line. Reach us at help@northwind.example or https://nw.example/help. "
             "Thanks for your patience.")
    text = anonymise_reply(reply, names=["Tamsin Greer"])
    assert "Tamsin" not in text and "MT-88240" not in text and "@" not in text and "http" not in text
    assert "A technician will check the line." in text and "Thanks for your patience." in text


def test_names_are_replaced_case_insensitively() -> None:
    assert "greer" not in anonymise_reply("Thanks GREER, we are on it.", names=["Tamsin Greer"]).lower()


def test_named_things_are_dropped_and_plain_statements_kept() -> None:
    reply = ("I'm sorry about the charge from QUIKLUBE. The card was used in Springfield. "
             "I've asked our disputes team to review it. Disputes usually take a few business days.")
    text = anonymise_reply(reply, names=[])
    assert "QUIKLUBE" not in text and "Springfield" not in text
    assert text == "I've asked our disputes team to review it. Disputes usually take a few business days."


def test_what_agents_wrote_to_several_customers_is_the_companys_and_stays() -> None:
    from copilot.suggestions.service import shared_tokens

    replies = {"c1": ["@dana_w Our Acme help page explains it: https://help.acme.example/refunds. "
                      "Charge from QUIKLUBE noted."],
               "c2": ["See https://www.help.acme.example/refunds/?utm=tw for the steps. Acme can help."]}
    shared = shared_tokens(replies)
    assert "link:help.acme.example/refunds" in shared and "acme" in shared and "quiklube" not in shared
    text = anonymise_reply(replies["c1"][0], names=[], shared=shared)
    assert text == "Our Acme help page explains it: https://help.acme.example/refunds."


def test_another_agents_sign_off_is_removed() -> None:
    assert anonymise_reply("Please submit a ticket here. *SR", names=[]) == "Please submit a ticket here."
    assert anonymise_reply("We will check. /RK", names=[]) == "We will check."
