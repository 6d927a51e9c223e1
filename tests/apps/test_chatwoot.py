"""The Chatwoot dashboard app in Chromium, inside a test page playing Chatwoot's dashboard-app frame."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.apps.conftest import assert_no_errors, customer_message, ingest, open_host, sign_in

pytestmark = pytest.mark.browser

BY_PHONE = {"name": "Henrike Oyelaran", "phone": "+44 7700 900461"}
BY_EMAIL = {"name": "Casimir Bautista", "email": "casimir.b@example.org"}


def conversation(server, contact: dict) -> dict:  # noqa: ANN001
    """Chatwoot's appContext data: the conversation, its contact and the agent looking at it."""
    return {
        "appUrl": server.base + "/apps/chatwoot/",
        "conversation": {"id": 318, "account_id": 2, "inbox_id": 5, "status": "open",
                         "meta": {"sender": contact, "channel": "Channel::Whatsapp"}},
        "contact": contact,
        "currentAgent": {"id": 9, "name": "Avery Quill", "email": "avery@desk.example"},
    }


@pytest.fixture(scope="module", autouse=True)
def customers(server, keys) -> None:  # noqa: ANN001
    ingest(server, keys["ingest"],
           customer_message(BY_PHONE, "The router you sent still blinks red after the reset you suggested.",
                            channel="whatsapp", source="twilio", thread_id="wa-461", subject=None),
           customer_message(BY_EMAIL, "Could you move my delivery to the back entrance?"))


def test_opens_the_conversations_contact_from_the_app_context(server, browser, keys, helpdesk) -> None:  # noqa: ANN001
    contact = {"id": 41, "name": BY_PHONE["name"], "email": None, "phone_number": BY_PHONE["phone"],
               "identifier": None, "custom_attributes": {}}
    context, page = open_host(browser, helpdesk, "chatwoot", conversation(server, contact),
                              permissions=("clipboard-read", "clipboard-write"))
    app = page.frame_locator("#app")
    sidebar = app.frame_locator("#omnicopilot")
    sign_in(sidebar, keys["agent"])
    # No email on the contact: opened by its phone number, with nothing typed.
    expect(sidebar.locator("#customer-name")).to_have_text(BY_PHONE["name"])
    # The app asked for the context itself too (the documented on-demand request).
    assert page.evaluate("chatwoot.fetchInfo") >= 1

    # Chatwoot takes no reply from a dashboard app, so the app says so (`insert: false`): the sidebar offers Copy
    # and no Insert that could only pretend.
    card = sidebar.locator("#suggestions .suggestion[data-suggestion-id]").first
    card.wait_for()
    expect(card.get_by_role("button", name="Insert", exact=True)).to_have_count(0)
    text = card.locator(".suggestion-text").text_content()
    card.get_by_role("button", name="Copy", exact=True).click()
    expect(sidebar.locator("#toast")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == text
    assert_no_errors(page)
    context.close()


def test_a_contact_with_an_email_is_opened_by_email(server, browser, keys, helpdesk) -> None:  # noqa: ANN001
    contact = {"id": 42, "name": BY_EMAIL["name"], "email": BY_EMAIL["email"], "phone_number": "+15550100999"}
    context, page = open_host(browser, helpdesk, "chatwoot", conversation(server, contact))
    sidebar = page.frame_locator("#app").frame_locator("#omnicopilot")
    sign_in(sidebar, keys["agent"])
    expect(sidebar.locator("#customer-name")).to_have_text(BY_EMAIL["name"])
    assert_no_errors(page)
    context.close()
