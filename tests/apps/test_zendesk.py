"""The Zendesk Support ticket-sidebar app in Chromium, inside a test page playing Zendesk's side of ZAF."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.apps.conftest import (
    assert_no_errors,
    customer_message,
    host_url,
    ingest,
    insert_first_suggestion,
    open_host,
    sign_in,
)

pytestmark = pytest.mark.browser

BY_EMAIL = {"name": "Rosalind Achterberg", "email": "r.achterberg@example.net"}
BY_PHONE = {"name": "Teodor Wyszynski", "phone": "+1 (602) 555-0178"}
EDITOR_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


def editor_html(text: str) -> str:
    """What the app hands ticket.editor.insert (HTML): the plain reply escaped, its line breaks kept."""
    return "".join(EDITOR_ESCAPES.get(c, c) for c in text).replace("\n", "<br>")


def requester(user_id: int, name: str, *, email: str | None = None, phone: str | None = None) -> dict:
    """A ZAF user object as `client.get('ticket.requester')` gives it."""
    identities = []
    if email:
        identities.append({"id": user_id * 10 + 1, "userId": user_id, "type": "email", "value": email,
                           "verified": True, "primary": True})
    if phone:
        identities.append({"id": user_id * 10 + 2, "userId": user_id, "type": "phone_number", "value": phone,
                           "verified": True, "primary": not email})
    return {"id": user_id, "name": name, "email": email, "role": "end-user", "identities": identities}


def ticket(server, zendesk_assets, ticket_id: int, user: dict) -> dict:  # noqa: ANN001
    return {"appUrl": f"{zendesk_assets.origin}/assets/iframe.html", "ticketId": ticket_id, "requester": user,
            "settings": {"omnicopilot_url": server.base + "/"}}


def test_opens_the_requester_and_inserts_a_reply_into_the_ticket_editor(  # noqa: ANN001
        server, browser, keys, helpdesk, zendesk_assets) -> None:
    ingest(server, keys["ingest"],
           customer_message(BY_EMAIL, "My parcel for order QX-5521 came back to the depot, can you resend it?"),
           customer_message(BY_PHONE, "Please call me back about the second charge on my card.", channel="sms",
                            source="twilio", thread_id="sms-602", subject=None))
    first = ticket(server, zendesk_assets, 4101, requester(77, BY_EMAIL["name"], email=BY_EMAIL["email"]))
    context, page = open_host(browser, helpdesk, "zendesk", first)
    sidebar = page.frame_locator("#app").frame_locator("#omnicopilot")
    sign_in(sidebar, keys["agent"])
    # The ticket's requester is opened by email, with nothing typed.
    expect(sidebar.locator("#customer-name")).to_have_text(BY_EMAIL["name"])
    assert page.evaluate("zaf.handshakes") == 1 and ["ticket.requester"] in page.evaluate("zaf.gets")

    text = insert_first_suggestion(sidebar)
    page.wait_for_function("() => zaf.invokes.some(call => 'ticket.editor.insert' in call)")
    inserts = [call["ticket.editor.insert"] for call in page.evaluate("zaf.invokes") if "ticket.editor.insert" in call]
    assert inserts == [[editor_html(text)]]

    # The next ticket's requester has only a phone number: opened by phone, in the same signed-in tab.
    second = ticket(server, zendesk_assets, 4102, requester(78, BY_PHONE["name"], phone=BY_PHONE["phone"]))
    page.goto(host_url(helpdesk, "zendesk", second))
    expect(sidebar.locator("#customer-name")).to_have_text(BY_PHONE["name"])
    assert_no_errors(page)
    context.close()


def test_without_the_omnicopilot_url_setting_the_app_says_what_to_set(  # noqa: ANN001
        server, browser, helpdesk, zendesk_assets) -> None:
    unset = ticket(server, zendesk_assets, 4103, requester(79, "Nobody", email="nobody@example.net"))
    unset["settings"] = {}
    context, page = open_host(browser, helpdesk, "zendesk", unset)
    app = page.frame_locator("#app")
    expect(app.locator("#status")).to_contain_text("Set the Omnicopilot URL")
    assert app.locator("#omnicopilot").count() == 0
    assert_no_errors(page)
    context.close()
