"""Summary: whole sentences with speakers, at most 120 words, in the history's language."""
from __future__ import annotations

import re
from datetime import timedelta

from copilot.engine.offline import analyse
from tests.engine.offline.card_data import T0, item


def long_history() -> list:
    items = []
    for n in range(12):
        items.append(item(2 * n, f"My rowing machine display is still blank after update {n}. When will the new "
                                 f"console arrive? Order RW-7710{n}.", channel="email" if n % 2 else "chat",
                          days=2 * n, name="Aino Virta"))
        items.append(item(2 * n + 1, f"I've escalated this again. We will ship a new console by March {n + 2}.",
                          direction="outbound", role="agent", days=2 * n + 1, name="Pekka (Support)"))
    return items


def test_summary_is_whole_sentences_with_speakers_and_within_120_words() -> None:
    card = analyse(long_history(), now=T0 + timedelta(days=30))
    words = card.summary.split()
    assert 20 <= len(words) <= 120
    assert re.search(r"[.!?”]$", card.summary)
    assert "Aino Virta" in card.summary and "Pekka" in card.summary
    assert "Also:" not in card.summary and "…" not in card.summary


def test_summary_in_the_customers_language() -> None:
    items = [item(1, "Hola, mi pedido MX-20931 llegó roto. Quiero un reembolso.", name="Lucía Paredes"),
             item(2, "Hola Lucía, he solicitado el reembolso de 38,50 €. Lo recibirá antes del 12 de marzo.",
                  direction="outbound", role="agent", days=1, name="Tomás"),
             item(3, "¿Cuándo llega el reembolso? Todavía no lo veo.", channel="whatsapp", days=5,
                  name="Lucía Paredes")]
    card = analyse(items, now=T0 + timedelta(days=6))
    assert card.summary.startswith("Lucía Paredes nos ha contactado")
    assert "Pendiente (" in card.summary


def test_short_exchange_reads_customer_then_agent() -> None:
    items = [item(1, "My loyalty points vanished after the app update.", channel="social"),
             item(2, "Sorry about that! Please send us a DM with your member email and we'll restore them.",
                  channel="social", direction="outbound", role="agent", days=0.01)]
    card = analyse(items, now=T0 + timedelta(days=1))
    assert card.summary.startswith("The customer says:")
    assert "The agent replies:" in card.summary


def test_summary_never_shows_a_superseded_value() -> None:
    items = [item(1, "Agent: Your ticket number?\nCustomer: TK-30017, no sorry, TK-30071.\n"
                     "Agent: Found TK-30071. I will call you back by Feb 4.", channel="voice", name="Rami Aziz"),
             item(2, "Still waiting for the call about TK-30071!", channel="sms", days=5, name="Rami Aziz")]
    card = analyse(items, now=T0 + timedelta(days=6))
    assert "TK-30017" not in card.summary
    assert "TK-30017" in card.superseded
