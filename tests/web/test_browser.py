"""The agent sidebar and the supervisor console in a real headless Chromium against `omnicopilot serve`."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import make_record
from tests.web.conftest import new_key, save_screenshot

pytestmark = pytest.mark.browser

DANA = {"name": "Dana Okonkwo", "email": "dana@example.com"}
OMAR = {"name": "Omar Castellanos", "phone": "(415) 555-0199"}


def seed(server, ingest_key: str) -> None:  # noqa: ANN001
    records = [
        make_record(customer=DANA, channel="email", text="Hi, my order A-10293 never arrived. Tracking says "
                    "delivered. I already checked with my neighbours.", occurred_at="2026-11-02T14:03:00Z"),
        make_record(customer=DANA, channel="email", direction="outbound", author_name="Sam (support)",
                    text="Sorry Dana, I have opened a trace with the carrier and will update you by Friday.",
                    occurred_at="2026-11-02T15:00:00Z"),
        make_record(customer={**DANA, "phone": "(415) 555-0134"}, channel="sms", source="twilio",
                    thread_id="sms-1", subject=None, text="Any update on A-10293? Still nothing here.",
                    occurred_at="2026-11-05T09:12:00Z"),
        make_record(customer=OMAR, channel="whatsapp", source="twilio", thread_id="wa-9", subject=None,
                    author_name="Omar Castellanos", text="My booking B-55555 was charged twice, $63.40 each.",
                    occurred_at="2026-11-04T10:00:00Z"),
    ]
    status, body = server.call("POST", "/v1/interactions", {"interactions": records}, key=ingest_key)
    assert status == 200 and body["created"] == 4, body


@pytest.fixture(scope="module")
def keys(server) -> dict[str, str]:  # noqa: ANN001
    found = {"ingest": new_key(server, "acme", "integration"), "agent": new_key(server, "acme", "agent", "ann"),
             "supervisor": new_key(server, "acme", "supervisor", "sue")}
    seed(server, found["ingest"])
    return found


def watch_errors(page) -> list[str]:  # noqa: ANN001
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(f"pageerror: {err}"))
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    return errors


def sign_in(page, key: str) -> None:  # noqa: ANN001
    page.fill("input[name=api_key]", key)
    page.click("form.signin-form button[type=submit]")


def test_sidebar_then_console(server, browser, keys) -> None:  # noqa: ANN001, PLR0915
    context = browser.new_context(viewport={"width": 400, "height": 1000})
    page = context.new_page()
    errors = watch_errors(page)

    # Sign in; the key is never put in the URL.
    page.goto(f"{server.base}/sidebar?identity=email:dana@example.com")
    sign_in(page, keys["agent"])
    page.wait_for_selector("#facts .fact")
    assert keys["agent"] not in page.url
    assert page.evaluate("sessionStorage.getItem('omnicopilot.key')") == keys["agent"]
    assert page.text_content("#customer-name") == "Dana Okonkwo"
    facts = page.inner_text("#facts")
    assert "A-10293" in facts and "B-55555" not in facts
    assert page.locator("#timeline .tl-item").count() == 3
    # A fact links to the message it came from: that timeline item opens and takes focus.
    page.locator("#facts .fact-chip", has_text="A-10293").first.click()
    page.wait_for_selector("#timeline .tl-item.expanded")
    page.wait_for_selector("#suggestions .suggestion[data-suggestion-id]")
    page.wait_for_selector("body[data-live=live]")

    # Channel filter.
    page.click("#channel-filters button[data-channel=sms]")
    expect(page.locator("#timeline .tl-item")).to_have_count(1)
    page.click("#channel-filters button:has-text('All')")
    expect(page.locator("#timeline .tl-item")).to_have_count(3)

    # Open another customer by search (a phone number as an agent would type it).
    page.fill("#q", "(415) 555-0199")
    page.press("#q", "Enter")
    expect(page.locator("#customer-name")).to_have_text("Omar Castellanos")
    page.wait_for_selector("#facts .fact")
    facts = page.inner_text("#facts")
    assert "B-55555" in facts and "A-10293" not in facts
    assert "identity=phone" in page.url
    page.wait_for_selector("#suggestions .suggestion[data-suggestion-id]")
    before = [e.get_attribute("data-suggestion-id")
              for e in page.locator("#suggestions .suggestion[data-suggestion-id]").element_handles()]

    # Live: a new WhatsApp message ingested through the API shows up without a reload, with new suggestions.
    status, _ = server.call("POST", "/v1/interactions", {"interactions": [make_record(
        customer=OMAR, channel="whatsapp", source="twilio", thread_id="wa-9", subject=None,
        author_name="Omar Castellanos",
        text="Hello? I still see two charges for B-55555 and need the duplicate refunded.",
        occurred_at="2026-11-06T08:00:00Z")]}, key=keys["ingest"])
    assert status == 200
    # The page never polls: seeing the message without a reload means it was pushed.
    page.wait_for_selector("#timeline .tl-item.fresh:has-text('duplicate refunded')")
    page.wait_for_selector("#suggestions .suggestion[data-suggestion-id]:not("
                           + ", ".join(f"[data-suggestion-id='{i}']" for i in before) + ")")
    for old in before:
        expect(page.locator(f"[data-suggestion-id='{old}']")).to_have_count(0)
    assert page.locator("#suggestions .is-stale").count() == 0

    # Accept one suggestion as is, edit another.
    cards = page.locator("#suggestions .suggestion[data-suggestion-id]")
    assert cards.count() >= 2
    accepted_id = cards.nth(0).get_attribute("data-suggestion-id")
    edited_id = cards.nth(1).get_attribute("data-suggestion-id")
    cards.nth(0).get_by_role("button", name="Copy").click()
    page.wait_for_selector(f"[data-suggestion-id='{accepted_id}'].done-accepted")
    page.locator(f"[data-suggestion-id='{edited_id}']").get_by_role("button", name="Edit").click()
    area = page.locator(f"[data-suggestion-id='{edited_id}'] textarea")
    area.fill(area.input_value() + "\nI have refunded the second payment of $63.40 today.")
    page.locator(f"[data-suggestion-id='{edited_id}']").get_by_role("button", name=re.compile("edited reply")).click()
    page.wait_for_selector(f"[data-suggestion-id='{edited_id}'].done-edited")
    save_screenshot(page, "sidebar")
    assert not errors, errors

    # An agent key cannot use the console; the API says 403 too.
    agent_console = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    agent_console.goto(f"{server.base}/console")
    sign_in(agent_console, keys["agent"])
    agent_console.wait_for_selector("#needs-supervisor:not([hidden])")
    assert "needs a supervisor key" in agent_console.inner_text("#needs-supervisor")
    assert agent_console.locator("#console").is_hidden()
    assert server.call("GET", "/v1/review/suggestions", key=keys["agent"])[0] == 403

    # The supervisor sees both, with the right outcome and the edit as a diff.
    console_context = browser.new_context(viewport={"width": 1280, "height": 900})
    console = console_context.new_page()
    console_errors = watch_errors(console)
    console.goto(f"{server.base}/console")
    sign_in(console, keys["supervisor"])
    console.wait_for_selector("body[data-ready=console]")
    assert console.get_attribute(f"tr[data-suggestion-id='{accepted_id}']", "data-outcome") == "accepted"
    edited_row = console.locator(f"tr[data-suggestion-id='{edited_id}']")
    assert edited_row.get_attribute("data-outcome") == "edited"
    assert "refunded the second payment" in edited_row.locator("ins").first.inner_text()
    assert "Edit distance" in edited_row.inner_text()
    assert console.locator("#chart-rates").is_visible()
    console.select_option("select[name=outcome]", "edited")
    console.click("#filters button[type=submit]")
    expect(console.locator("#suggestions tbody tr[data-outcome]")).to_have_count(1)
    console.select_option("select[name=outcome]", "")
    console.click("#filters button[type=submit]")
    expect(console.locator("#suggestions tbody tr[data-outcome]")).not_to_have_count(1)
    with console.expect_download() as download:
        console.click("#export")
    assert "outcome" in download.value.path().read_text().splitlines()[0]
    save_screenshot(console, "console")
    assert not console_errors, console_errors
    context.close()
    console_context.close()


def test_merge_and_split_from_the_console(server, browser, keys) -> None:  # noqa: ANN001
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{server.base}/console")
    sign_in(page, keys["supervisor"])
    page.wait_for_selector("body[data-ready=console]")
    page.fill("#merge input[name=survivor]", "email:dana@example.com")
    page.fill("#merge input[name=absorbed]", "phone:(415) 555-0199")
    page.fill("#merge input[name=reason]", "same household, confirmed on a call")
    page.click("#merge button[type=submit]")  # a preview first (tests/web/test_console.py), then the merge
    page.click("#merge-confirm")
    row = page.locator("#merges tbody tr[data-merge-id]").first
    row.wait_for()
    assert "Omar Castellanos" in row.inner_text() and "confirmed on a call" in row.inner_text()
    status, body = server.call("GET", "/v1/customers/resolve?identity=phone:%2B14155550199", key=keys["agent"])
    assert body["name"] == "Dana Okonkwo"
    row.get_by_role("button", name="Split (undo)").click()
    page.wait_for_selector("#merges tbody tr[data-merge-id] .outcome-ignored")  # the split, not its button
    status, body = server.call("GET", "/v1/customers/resolve?identity=phone:%2B14155550199", key=keys["agent"])
    assert body["name"] == "Omar Castellanos"


def test_sidebar_is_opened_by_the_host_page(server, browser, keys) -> None:  # noqa: ANN001
    """Embedded in an iframe on an allowed origin (here the same origin), the host opens a customer."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.base}/sidebar")
    sign_in(page, keys["agent"])
    page.wait_for_selector("#workspace:not([hidden])")
    # Any same-origin document as the host page; the iframe shares this tab's sessionStorage (same origin).
    page.goto(f"{server.base}/healthz")
    page.evaluate("""url => new Promise(done => { document.body.innerHTML = '';
        const f = document.createElement('iframe'); f.id = 'f'; f.src = url; f.width = 380; f.height = 900;
        f.onload = () => done(); document.body.append(f); })""", f"{server.base}/sidebar")
    frame = page.frame_locator("#f")
    frame.locator("#workspace:not([hidden])").wait_for()
    page.evaluate("""() => { window.inserted = [];
        window.addEventListener('message', e => {
            if (e.data && e.data.type === 'omnicopilot.insert') {
                window.inserted.push(e.data.text);
                document.body.dataset.inserted = String(window.inserted.length);
            }
        });
        document.getElementById('f').contentWindow.postMessage(
            {type: 'omnicopilot.open', identity: 'email:dana@example.com'}, location.origin); }""")
    frame.locator("#customer-name", has_text="Dana Okonkwo").wait_for()
    frame.locator("#suggestions .suggestion[data-suggestion-id]").first.wait_for()
    frame.locator("#suggestions .suggestion[data-suggestion-id]").first.get_by_role("button", name="Insert").click()
    expect(page.locator("body[data-inserted='1']")).to_have_count(1)
    context.close()


def test_pages_are_readable_at_360px(server, browser, keys) -> None:  # noqa: ANN001
    page = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    page.goto(f"{server.base}/sidebar?identity=email:dana@example.com")
    sign_in(page, keys["agent"])
    page.wait_for_selector("#suggestions .suggestion[data-suggestion-id]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # Keyboard: the replies come first, and the skip link before them leads to the search box (drawn on top,
    # last in the document).
    page.reload()
    page.wait_for_selector("#suggestions .suggestion[data-suggestion-id]")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "skip"
    page.keyboard.press("Enter")
    expect(page.locator("#q")).to_be_focused()
    page.evaluate("document.activeElement.blur()")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.suggestion') !== null"):
            break
    else:
        pytest.fail("suggestion actions are not reachable with Tab")
