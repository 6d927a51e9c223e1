"""The sidebar laid out for the job (issue 12): on the demo's own customers, in a real Chromium at 480x900 and 360 px.

The replies come first (in view and in Tab order), nothing overflows at 360 px, targets and labels are large enough,
axe-core (vendored) finds nothing serious, sections remember being collapsed, and the key is shared with the origin's
other tabs for the session and signed out of all of them at once.
"""
from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import MASTER_KEY, make_record
from tests.support.processes import BIN, ServeProcess
from tests.web.conftest import ROOT, new_key
from tests.web.test_browser import sign_in

pytestmark = pytest.mark.browser

AXE = ROOT / "web" / "vendor" / "axe.min.js"
SIDEBAR = {"width": 480, "height": 900}
NARROW = {"width": 360, "height": 800}
MIN_TARGET_PX = 32
MIN_LABEL_PX = 13
FIRST_TEXT = "#suggestions .suggestion[data-suggestion-id] .suggestion-text"
FIRST_COPY = "#suggestions .suggestion[data-suggestion-id] .actions button"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, dict[str, Any]]]:
    """The demo's data set, loaded the way `omnicopilot demo` loads it, then served."""
    root = tmp_path_factory.mktemp("demo")
    env = {"OMNICOPILOT_DATA_DIR": str(root / "data"), "OMNICOPILOT_CACHE_DIR": str(root / "cache"),
           "OMNICOPILOT_EMBEDDING_BACKEND": "hashing", "OMNICOPILOT_MASTER_KEY": MASTER_KEY,
           "OMNICOPILOT_PULL_INTERVAL_S": "0", "OMNICOPILOT_LOG_LEVEL": "warning"}
    proc = ServeProcess(env)
    load = subprocess.run([str(BIN / "omnicopilot"), "demo", "--data-dir", str(root / "data"), "--load-only"],
                          env=proc.env, capture_output=True, text=True, timeout=600, check=False)
    assert load.returncode == 0, load.stderr[-2000:]
    loaded = json.loads(load.stdout)
    proc.start()
    yield proc, loaded
    proc.stop()


def demo_customers(loaded: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    found = [(tenant, c) for tenant, customers in loaded["customers"].items() for c in customers
             if c.get("name") and c.get("identity")]
    assert len(found) >= 6, found  # the demo's named customers, every one of them checked below
    return found


def open_customer(page, base: str, identity: str) -> None:  # noqa: ANN001
    page.goto(f"{base}/sidebar?identity={urllib.parse.quote(identity)}")


def wait_for_replies(page, name: str) -> None:  # noqa: ANN001
    page.locator("#customer-name", has_text=name).wait_for()
    page.locator(FIRST_TEXT).first.wait_for()


def test_first_reply_is_in_view_on_load_for_every_demo_customer(demo, browser) -> None:  # noqa: ANN001
    server, loaded = demo
    by_tenant: dict[str, Any] = {}
    for tenant, customer in demo_customers(loaded):
        if tenant not in by_tenant:
            by_tenant[tenant] = browser.new_context(viewport=SIDEBAR).new_page()
            open_customer(by_tenant[tenant], server.base, customer["identity"])
            sign_in(by_tenant[tenant], loaded["keys"][tenant]["agent"])
        else:
            open_customer(by_tenant[tenant], server.base, customer["identity"])
        page = by_tenant[tenant]
        wait_for_replies(page, customer["name"])
        first = page.locator(FIRST_TEXT).first
        expect(first).to_be_in_viewport()
        box = first.bounding_box()
        assert page.evaluate("window.scrollY") == 0, customer
        # Its opening lines are readable where the page opens, not just a sliver of it.
        assert box["y"] >= 0 and box["y"] + min(box["height"], 60) <= SIDEBAR["height"], (customer, box)
        # The one-line state is there, above the replies.
        assert page.inner_text("#state").strip(), customer
        assert page.locator("#state").bounding_box()["y"] < box["y"]
    for page in by_tenant.values():
        page.context.close()


def test_tab_reaches_the_first_copy_button_within_three_presses(demo, browser) -> None:  # noqa: ANN001
    server, loaded = demo
    tenant, customer = demo_customers(loaded)[0]
    page = browser.new_context(viewport=SIDEBAR).new_page()
    open_customer(page, server.base, customer["identity"])
    sign_in(page, loaded["keys"][tenant]["agent"])
    wait_for_replies(page, customer["name"])
    page.reload()  # from a fresh load, the key already held by the tab
    wait_for_replies(page, customer["name"])
    assert page.evaluate("document.activeElement === document.body")
    copy = page.locator(FIRST_COPY).first
    expect(copy).to_have_text("Copy")
    for _ in range(3):
        page.keyboard.press("Tab")
        if copy.evaluate("node => node === document.activeElement"):
            break
    else:
        pytest.fail("three Tabs did not reach the first reply's Copy button; focus is on "
                    + page.evaluate("document.activeElement.outerHTML.slice(0, 200)"))
    page.keyboard.press("Enter")
    page.wait_for_selector("#suggestions .suggestion.done-accepted")
    page.context.close()


# Visible buttons, links, inputs and focusable things smaller than a tap target; visible text under 13px.
SMALL_TARGETS = """min => [...document.querySelectorAll('button, a[href], input, select, textarea, [tabindex="0"]')]
  .filter(n => n.getClientRects().length && getComputedStyle(n).visibility !== 'hidden')
  .filter(n => n.getBoundingClientRect().height < min)
  .map(n => (n.id || n.className || n.tagName) + ' ' + Math.round(n.getBoundingClientRect().height) + 'px')"""
SMALL_LABELS = """min => [...document.querySelectorAll('body *')]
  .filter(n => [...n.childNodes].some(c => c.nodeType === 3 && c.textContent.trim()))
  .filter(n => n.getClientRects().length && !n.closest('.visually-hidden, [aria-hidden=true]'))
  .filter(n => parseFloat(getComputedStyle(n).fontSize) < min)
  .map(n => (n.id || n.className || n.tagName) + ' ' + getComputedStyle(n).fontSize)"""


def test_at_360px_nothing_overflows_and_targets_and_labels_are_large_enough(demo, browser) -> None:  # noqa: ANN001
    server, loaded = demo
    pages: dict[str, Any] = {}
    for tenant, customer in demo_customers(loaded):
        page = pages.get(tenant)
        if page is None:
            page = pages[tenant] = browser.new_context(viewport=NARROW).new_page()
            open_customer(page, server.base, customer["identity"])
            sign_in(page, loaded["keys"][tenant]["agent"])
        else:
            open_customer(page, server.base, customer["identity"])
        wait_for_replies(page, customer["name"])
        page.locator("#facts .fact, #facts .empty-row").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
            customer, page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]"))
        assert page.evaluate(SMALL_TARGETS, MIN_TARGET_PX) == [], customer
        assert page.evaluate(SMALL_LABELS, MIN_LABEL_PX) == [], customer
    for page in pages.values():
        page.context.close()


def axe_violations(page) -> list[dict[str, Any]]:  # noqa: ANN001
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_axe_finds_no_serious_or_critical_violations(demo, browser) -> None:  # noqa: ANN001
    server, loaded = demo
    tenant, customer = demo_customers(loaded)[0]
    # The page's CSP allows no inline script: axe is injected by the test only, into a context that bypasses it.
    page = browser.new_context(viewport=SIDEBAR, bypass_csp=True).new_page()
    open_customer(page, server.base, customer["identity"])
    page.locator("input[name=api_key]").wait_for()
    assert axe_violations(page) == []  # the sign-in form
    sign_in(page, loaded["keys"][tenant]["agent"])
    wait_for_replies(page, customer["name"])
    page.locator("#facts .fact").first.wait_for()
    assert axe_violations(page) == []
    # With a fact's evidence shown (keyboard focus) and a section collapsed, at 360 px.
    page.set_viewport_size(NARROW)
    page.locator("#facts .fact-chip").first.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect(page.locator("#facts .evidence").first).to_be_visible()
    page.click("#h-open")
    assert axe_violations(page) == []
    page.context.close()


def test_fact_chips_show_their_evidence_on_hover_and_focus(demo, browser) -> None:  # noqa: ANN001
    server, loaded = demo
    tenant, customer = demo_customers(loaded)[0]
    page = browser.new_context(viewport=SIDEBAR).new_page()
    open_customer(page, server.base, customer["identity"])
    sign_in(page, loaded["keys"][tenant]["agent"])
    chip = page.locator("#facts .fact-chip").first
    chip.wait_for()
    evidence = page.locator("#" + chip.get_attribute("aria-describedby"))
    expect(evidence).to_be_hidden()
    chip.hover()
    expect(evidence).to_be_visible()
    page.mouse.move(0, 0)
    expect(evidence).to_be_hidden()
    chip.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # keyboard focus (focus-visible), as an agent tabbing through
    expect(evidence).to_be_visible()
    page.keyboard.press("Escape")
    expect(evidence).to_be_hidden()
    # The chip names its value and kind; a click opens the message it came from.
    assert chip.locator(".fact-value").inner_text() and chip.locator(".fact-kind").inner_text()
    chip.click()
    page.wait_for_selector("#timeline .tl-item.expanded")
    page.context.close()


def test_sections_collapse_and_remember_it(demo, browser) -> None:  # noqa: ANN001
    server, loaded = demo
    tenant, customer = demo_customers(loaded)[0]
    context = browser.new_context(viewport=SIDEBAR)
    page = context.new_page()
    open_customer(page, server.base, customer["identity"])
    sign_in(page, loaded["keys"][tenant]["agent"])
    wait_for_replies(page, customer["name"])
    expect(page.locator("#facts")).to_be_visible()
    page.click("#h-facts")
    expect(page.locator("#h-facts")).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#facts")).to_be_hidden()
    page.reload()
    wait_for_replies(page, customer["name"])
    expect(page.locator("#h-facts")).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#facts")).to_be_hidden()
    expect(page.locator("#timeline")).to_be_visible()
    # A fact link into a collapsed timeline opens it.
    page.click("#h-timeline")
    expect(page.locator("#timeline")).to_be_hidden()
    page.click("#h-facts")
    page.locator("#facts .fact-chip").first.click()
    expect(page.locator("#timeline .tl-item.expanded")).to_be_visible()
    # UI state only: the key is never in localStorage.
    key = loaded["keys"][tenant]["agent"]
    assert key not in page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    context.close()


def test_the_key_is_shared_with_new_tabs_and_signed_out_of_all(demo, browser) -> None:  # noqa: ANN001
    server, loaded = demo
    tenant, customer = demo_customers(loaded)[0]
    key = loaded["keys"][tenant]["agent"]
    context = browser.new_context(viewport=SIDEBAR)
    first = context.new_page()
    open_customer(first, server.base, customer["identity"])
    sign_in(first, key)
    wait_for_replies(first, customer["name"])

    # A new tab of the same origin gets the key from the open one: no sign-in form.
    second = context.new_page()
    open_customer(second, server.base, customer["identity"])
    wait_for_replies(second, customer["name"])
    assert second.evaluate("sessionStorage.getItem('omnicopilot.key')") == key
    assert second.locator("input[name=api_key]").count() == 0
    for page in (first, second):
        assert key not in page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
        assert key not in page.url

    # Another browser (context) shares nothing.
    stranger = browser.new_context(viewport=SIDEBAR).new_page()
    open_customer(stranger, server.base, customer["identity"])
    stranger.locator("input[name=api_key]").wait_for()
    stranger.context.close()

    # Sign out in one tab: every tab forgets the key and shows the sign-in form.
    second.click("#signout")
    for page in (first, second):
        page.locator("input[name=api_key]").wait_for()
        assert page.evaluate("sessionStorage.getItem('omnicopilot.key')") is None
    # A tab opened now has nobody to ask.
    third = context.new_page()
    open_customer(third, server.base, customer["identity"])
    third.locator("input[name=api_key]").wait_for()
    # Signing in at one form signs in the tabs waiting at theirs.
    sign_in(third, key)
    for page in (first, second, third):
        wait_for_replies(page, customer["name"])
    context.close()


def test_favicon_and_channel_labels(demo, browser) -> None:  # noqa: ANN001
    server, loaded = demo
    tenant, customer = next((t, c) for t, c in demo_customers(loaded) if "Margaret" in c["name"])
    page = browser.new_context(viewport=SIDEBAR).new_page()
    icon = page.request.get(server.base + "/static/favicon.svg")
    assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")
    for path in ("/console", "/sidebar"):
        page.goto(server.base + path)
        assert page.get_attribute("link[rel=icon]", "href") == "/static/favicon.svg"
    open_customer(page, server.base, customer["identity"])
    sign_in(page, loaded["keys"][tenant]["agent"])
    page.locator("#channel-filters button[data-channel=sms]").wait_for()
    assert page.inner_text("#channel-filters button[data-channel=sms]").strip() == "SMS"
    assert "Sms" not in page.inner_text("#customer")
    page.context.close()


def test_internal_guidance_shows_in_its_own_box(server, browser) -> None:  # noqa: ANN001
    admin, ingest = new_key(server, "guided", "admin"), new_key(server, "guided", "integration")
    agent = new_key(server, "guided", "agent", "gil")
    status, body = server.call("POST", "/v1/knowledge", {"articles": [{
        "title": "Kettle warranty claims (agents only)", "audience": "internal",
        "body": "Kettle warranty claims: approve a replacement kettle without a receipt when the serial number "
                "starts with KT and the kettle is under two years old."}]}, key=admin)
    assert status == 200, body
    customer = {"name": "Ines Varga", "email": "ines.varga@example.net"}
    status, body = server.call("POST", "/v1/interactions", {"interactions": [make_record(
        customer=customer, channel="chat", source="intercom", thread_id="c-77", subject=None, author_name="Ines Varga",
        text="My kettle stopped heating. Is a warranty replacement possible? The serial number is KT-55012.",
        occurred_at="2026-11-10T09:00:00Z")]}, key=ingest)
    assert status == 200, body
    _, found = server.call("GET", "/v1/customers/resolve?identity=email:ines.varga@example.net", key=agent)
    # The article is indexed in the background: wait until the API offers it as guidance.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        _, listed = server.call("POST", f"/v1/customers/{found['customer_id']}/suggestions",
                                {"message": "My kettle stopped heating. Is a warranty replacement possible? The "
                                            "serial number is KT-55012.", "channel": "chat"}, key=agent)
        if listed.get("guidance"):
            break
        time.sleep(0.2)
    assert listed.get("guidance"), listed
    page = browser.new_context(viewport=SIDEBAR).new_page()
    page.goto(f"{server.base}/sidebar?identity=email:ines.varga@example.net")
    sign_in(page, agent)
    box = page.locator("#guidance-box")
    expect(box).to_be_visible()
    assert "Internal guidance" in box.locator(".section-toggle").text_content()
    assert "Kettle warranty claims" in box.inner_text()
    # Its own box, after the replies, not one of them.
    assert page.locator("#suggestions").locator("text=Kettle warranty claims (agents only)").count() == 0
    assert box.bounding_box()["y"] > page.locator("#replies").bounding_box()["y"]
    page.context.close()



def test_a_link_to_one_message_opens_the_timeline_there(demo, browser) -> None:  # noqa: ANN001
    """The console's rows link to `/sidebar?identity=...#message=<interaction id>`."""
    server, loaded = demo
    tenant, customer = demo_customers(loaded)[0]
    key = loaded["keys"][tenant]["agent"]
    _, found = server.call("GET", "/v1/customers/resolve?identity=" + urllib.parse.quote(customer["identity"]), key=key)
    _, page_of = server.call("GET", f"/v1/customers/{found['customer_id']}/timeline?limit=50", key=key)
    oldest = page_of["items"][-1]["interaction_id"]
    page = browser.new_context(viewport=SIDEBAR).new_page()
    open_customer(page, server.base, customer["identity"])
    sign_in(page, key)
    wait_for_replies(page, customer["name"])
    page.click("#h-timeline")  # collapsed: the link opens it
    page.goto(f"{server.base}/sidebar?identity={urllib.parse.quote(customer['identity'])}#message={oldest}")
    item = page.locator(f"#tl-{oldest}")
    expect(item).to_have_class(re.compile(r"\bexpanded\b"))
    expect(item).to_be_focused()
    expect(item).to_be_in_viewport()
    assert page.url.endswith("#message=" + oldest)
    page.context.close()
