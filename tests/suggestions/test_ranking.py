"""Past replies ranked with the real MiniLM embedder through the API: lexical and vector candidates together,
agreement among them, adaptation to this customer, help-page links, and each suggestion recorded once."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from tests.conftest import Api, make_record

TENANT = "brightkettle"
HELP = "https://help.brightkettle.example"


def conversation(n: int, asked: str, reply: str, *, name: str, day: int = 1) -> list[dict]:
    who = {"name": name, "email": f"{name.split()[0].lower()}{n}@mail.example"}
    at = datetime(2027, 2, day, 9, 0) + timedelta(hours=n)
    return [make_record(customer=who, author_name=name, thread_id=f"case-{n}", subject=None, channel="chat",
                        text=asked, occurred_at=at.strftime("%Y-%m-%dT%H:%M:%SZ")),
            make_record(customer=who, author_name="Agent Pell", thread_id=f"case-{n}", subject=None, channel="chat",
                        direction="outbound", author_role="agent", text=reply,
                        occurred_at=(at + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"))]


def newcomer(text: str, email: str = "wren@mail.example") -> list[dict]:
    return [make_record(customer={"name": "Wren Talbot", "email": email}, author_name="Wren Talbot", subject=None,
                        thread_id="case-new", channel="chat", text=text, occurred_at="2027-02-20T10:00:00Z")]


def ask(api: Api, customer_id: str, message: str) -> dict:
    resp = api.client.post(f"/v1/customers/{customer_id}/suggestions", json={"message": message, "channel": "chat"},
                           headers=api.auth(TENANT, "agent"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def past_reply_texts(body: dict) -> list[str]:
    return [s["text"] for s in body["suggestions"] if any(src.startswith("reply:") for src in s["sources"])]


def test_candidates_come_from_words_and_from_meaning_and_the_index_backlog(minilm_api: Api) -> None:
    api = minilm_api
    api.ingest(TENANT, [
        # same rare words as the question, indexed
        *conversation(1, "The descaler light keeps flashing on my kettle",
                      "Hold the descaler button for five seconds to reset the light.", name="Ottilie Brandt"),
        # same meaning, no shared word, indexed
        *conversation(2, "Water boiler indicator blinking nonstop",
                      "A blinking indicator means the filter wants a rinse under the tap.", name="Jasper Vey"),
        # unrelated
        *conversation(3, "Can I pay with a gift card?", "Yes, gift cards work at checkout.", name="Mina Sorel"),
    ])
    api.wait_indexed()
    # Not indexed yet when asked: the lexical corpus follows ingest at once.
    api.ingest(TENANT, conversation(4, "descaler light flashing again after descaling",
                                    "After descaling, unplug the kettle for a minute so the light clears.",
                                    name="Rufus Lind"))
    api.ingest(TENANT, newcomer("My kettle's descaler light is flashing all the time"))
    wren = api.resolve(TENANT, "email:wren@mail.example")["customer_id"]
    texts = past_reply_texts(ask(api, wren, "My kettle's descaler light is flashing all the time"))
    joined = " ".join(texts)
    assert "Hold the descaler button" in joined
    assert "filter wants a rinse" in joined or "unplug the kettle for a minute" in joined
    assert "gift card" not in joined


def test_agreement_prefers_the_typical_reply_and_nothing_of_another_customer_leaks(minilm_api: Api) -> None:
    api = minilm_api
    typical = "So sorry! Please send us your order number in a private message and we will ship a new lid."
    api.ingest(TENANT, [
        *conversation(1, "The lid of my kettle cracked", typical, name="Ottilie Brandt"),
        *conversation(2, "Kettle lid has a crack in it",
                      typical.replace("So sorry!", "Oh no!"), name="Jasper Vey"),
        *conversation(3, "Cracked lid on the kettle I bought",
                      typical.replace("ship a new lid", "send a replacement lid"), name="Mina Sorel"),
        # the closest words, but an answer about something else, with that customer's name and order
        *conversation(4, "The lid of my kettle cracked, and where is order BK-55821?",
                      "Hi Rufus, order BK-55821 left our depot in Tallinn yesterday.", name="Rufus Lind"),
    ])
    api.wait_indexed()
    api.ingest(TENANT, newcomer("The lid of my kettle cracked"))
    wren = api.resolve(TENANT, "email:wren@mail.example")["customer_id"]
    body = ask(api, wren, "The lid of my kettle cracked")
    texts = past_reply_texts(body)
    assert texts and "private message" in texts[0]
    blob = str(body)
    for leak in ("Rufus", "BK-55821", "Ottilie", "Jasper", "Mina", "Tallinn", "@mail.example"):
        assert leak not in blob


def test_links_are_ranked_by_use_and_returned_with_every_suggestion(minilm_api: Api) -> None:
    api = minilm_api
    records: list[dict] = []
    for n in range(4):  # the page agents link most
        records += conversation(n, f"How do I register my kettle warranty? ({n})",
                                f"You can register it here: {HELP}/warranty", name="Ottilie Brandt")
    records += conversation(10, "The base sparks when I switch it on",
                            f"Please stop using it and follow {HELP}/safety/recall", name="Jasper Vey")
    records += conversation(11, "Sparks came out of the kettle base",
                            f"Unplug it now; the steps are at {HELP}/safety/recall", name="Mina Sorel")
    api.ingest(TENANT, records)
    api.wait_indexed()
    api.ingest(TENANT, newcomer("My kettle base sparks when switched on"))
    wren = api.resolve(TENANT, "email:wren@mail.example")["customer_id"]
    body = ask(api, wren, "My kettle base sparks when switched on")
    assert body["suggestions"]
    for suggestion in body["suggestions"]:
        assert suggestion["links"][:2] == [f"{HELP}/safety/recall", f"{HELP}/warranty"]


def test_each_suggestion_is_recorded_once_per_customer_message_and_text(minilm_api: Api) -> None:
    from copilot.suggestions.models import Suggestion

    api = minilm_api
    api.ingest(TENANT, conversation(1, "The lid of my kettle cracked", "We will ship a new lid today.",
                                    name="Ottilie Brandt"))
    api.ingest(TENANT, newcomer("The lid of my kettle cracked too"))
    wren = api.resolve(TENANT, "email:wren@mail.example")["customer_id"]
    first = ask(api, wren, "The lid of my kettle cracked too")
    again = ask(api, wren, "The lid of my kettle cracked too")
    assert [s["id"] for s in again["suggestions"]] == [s["id"] for s in first["suggestions"]]
    services = api.client.app.state.services
    with services.db.session() as session:
        count = session.scalar(select(func.count()).select_from(Suggestion).where(Suggestion.customer_id == wren))
    assert count == len(first["suggestions"])
    # A new message from the customer is a new thing to answer: new suggestions.
    api.ingest(TENANT, [make_record(customer={"email": "wren@mail.example"}, author_name="Wren Talbot", subject=None,
                                    thread_id="case-new", channel="chat", text="Hello? Still cracked.",
                                    occurred_at="2027-02-21T10:00:00Z")])
    later = ask(api, wren, "Hello? Still cracked.")
    assert not {s["id"] for s in later["suggestions"]} & {s["id"] for s in first["suggestions"]}


def three_turns(n: int, agent_first: str, answer: str, reply: str, *, name: str) -> list[dict]:
    """A customer opens, the agent answers, the customer answers that, the agent replies."""
    opened, first_answer = conversation(n, "The lid of my kettle cracked", agent_first, name=name)
    follow_up, last_reply = conversation(n, answer, reply, name=name)
    for record, minutes in ((follow_up, 10), (last_reply, 15)):
        at = datetime.strptime(opened["occurred_at"], "%Y-%m-%dT%H:%M:%SZ") + timedelta(minutes=minutes)
        record["occurred_at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [opened, first_answer, follow_up, last_reply]


def test_where_the_conversation_stands_picks_the_reply_to_the_same_words(minilm_api: Api) -> None:
    api = minilm_api
    asked_to_message = "Please send us a private message with your order number."
    asked_to_restart = "Could you unplug the kettle for a minute and switch it on again?"
    api.ingest(TENANT, [
        *three_turns(1, asked_to_restart, "Done.", "Does the light still flash after the restart?",
                     name="Jasper Vey"),
        # the same words, a hair less alike than the other's: only the stage tells them apart
        *three_turns(2, asked_to_message, "Done!", "Got it, thank you: a new lid is on its way to you.",
                     name="Ottilie Brandt"),
    ])
    api.wait_indexed()
    records = three_turns(3, asked_to_message, "Done.", "unused", name="Wren Talbot")[:3]
    api.ingest(TENANT, records)
    wren = api.resolve(TENANT, f"email:{records[0]['customer']['email']}")["customer_id"]
    texts = past_reply_texts(ask(api, wren, "Done."))
    assert texts and texts[0].startswith("Got it, thank you")
