"""The Front sidebar plugin in Chromium, inside a test page playing Front's side of the Plugin SDK bridge."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.apps.conftest import assert_no_errors, customer_message, ingest, insert_first_suggestion, open_host, sign_in

pytestmark = pytest.mark.browser

BY_EMAIL = {"name": "Yevgenia Marchetti", "email": "yevgenia.m@example.com"}
BY_PHONE = {"name": "Obadiah Lindqvist", "phone": "+1 (919) 555-0163"}


def recipient(handle: str, kind: str, name: str, contact_handles: list[dict] | None = None) -> dict:
    """A conversation's main recipient as the Plugin SDK's Context gives it."""
    contact = {"id": "crd_" + handle[-4:], "name": name, "description": None, "groupIds": [], "customAttributes": [],
               "handles": contact_handles or [{"type": kind, "handle": handle}]}
    return {"handle": handle, "name": name, "type": kind, "contact": contact}


def single_conversation(conversation_id: str, who: dict, draft_id: str | None) -> dict:
    return {"id": conversation_id, "type": "email", "status": "open", "subject": "About my account", "blurb": "",
            "assignee": None, "recipient": who, "inboxes": [], "tags": [], "topics": [], "links": [],
            "draftId": draft_id}


def test_opens_the_conversations_contact_and_writes_the_reply_into_its_draft(  # noqa: ANN001
        server, browser, keys, helpdesk) -> None:
    ingest(server, keys["ingest"],
           customer_message(BY_EMAIL, "The invoice for March lists the premium plan, but I am on the basic one."),
           customer_message(BY_PHONE, "I was cut off during the call about my refund, please ring me again.",
                            channel="sms", source="twilio", thread_id="sms-919", subject=None))
    config = {"appUrl": server.base + "/apps/front/",
              "conversation": single_conversation("cnv_1a", recipient(BY_EMAIL["email"], "email", BY_EMAIL["name"]),
                                                  "dra_1a"),
              "messages": [{"id": "msg_1"}, {"id": "msg_2"}]}
    context, page = open_host(browser, helpdesk, "front", config)
    sidebar = page.frame_locator("#app").frame_locator("#omnicopilot")
    sign_in(sidebar, keys["agent"])
    expect(sidebar.locator("#customer-name")).to_have_text(BY_EMAIL["name"])
    assert page.evaluate("front.handshakes") == 1

    # The conversation has a draft: the reply is inserted into it.
    text = insert_first_suggestion(sidebar)
    page.wait_for_function("() => front.calls.some(call => call.name === 'updateDraft')")
    update = {"updateMode": "insert", "content": {"body": text, "type": "text"}}
    assert page.evaluate("front.calls.filter(call => call.name === 'updateDraft')") == [
        {"name": "updateDraft", "args": ["dra_1a", update]}]

    # The agent selects another conversation (a context update): its contact, known by a phone handle, is opened;
    # with no draft there, the reply starts one, replying to the latest message.
    phone_contact = [{"type": "phone", "handle": BY_PHONE["phone"]}]
    page.evaluate("conversation => front.select(conversation)", single_conversation(
        "cnv_2b", recipient(BY_PHONE["phone"], "phone", BY_PHONE["name"], phone_contact), None))
    expect(sidebar.locator("#customer-name")).to_have_text(BY_PHONE["name"])
    text = insert_first_suggestion(sidebar)
    page.wait_for_function("() => front.calls.some(call => call.name === 'createDraft')")
    assert page.evaluate("front.calls.filter(call => call.name === 'createDraft')") == [
        {"name": "createDraft", "args": [{"content": {"body": text, "type": "text"},
                                          "replyOptions": {"type": "reply", "originalMessageId": "msg_2"}}]}]
    assert_no_errors(page)
    context.close()
