"""The supervisor console in headless Chromium against `omnicopilot serve`: rows that open the customer's timeline at
the message answered, edits shown before/after by words, server-side pages, tiles that follow every filter, merges
with a preview and one-click undo, the leak points page, 360 px without overflow, and an axe-core scan."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import make_record
from tests.web.conftest import ROOT, new_key, save_screenshot

pytestmark = pytest.mark.browser

LENA = {"name": "Lena Marsh", "email": "lena.marsh@example.org"}
OMAR = {"name": "Omar Haddad", "phone": "(628) 555-0177"}
EDIT_ADDED = "I have refunded the second payment today."
PAGE_SIZE = 10
GUESTS = 16
AXE = ROOT / "web" / "vendor" / "axe.min.js"


def seed(server, keys: dict[str, str]) -> dict:  # noqa: ANN001
    records = [
        make_record(customer=LENA, author_name="Lena Marsh", thread_id="mail-1", subject="Blender",
                    occurred_at="2026-11-02T09:00:00Z",
                    text="Hi, my blender arrived with a cracked jug. The order number is KB-58213.\n\nLena"),
        # The agent on the phone asks again for the order number she emailed: a leak point.
        make_record(customer={**LENA, "phone": "(415) 555-0142"}, source="aircall", channel="voice",
                    thread_id="call-1", author_name="Lena Marsh", subject=None, occurred_at="2026-11-04T15:00:00Z",
                    metadata={"agent": "Ravi S."},
                    text="Agent: Thanks for calling. Could you give me your order number, please?\n"
                         "Customer: KB-58213, it is in my email.\nAgent: Thanks, a replacement is on its way."),
        make_record(customer=OMAR, source="twilio", channel="sms", thread_id="sms-9", subject=None,
                    author_name="Omar Haddad", occurred_at="2026-11-03T10:00:00Z",
                    text="My booking B-55555 was charged twice, $63.40 each."),
    ]
    status, body = server.call("POST", "/v1/interactions", {"interactions": records}, key=keys["ingest"])
    assert status == 200 and body["created"] == 3, body
    _, lena = server.call("GET", "/v1/customers/resolve?identity=email:lena.marsh@example.org", key=keys["ann"])
    _, omar = server.call("GET", "/v1/customers/resolve?identity=phone:%2B16285550177", key=keys["ann"])
    # More customers, each with a question: enough suggestions for two pages (one message gets a few).
    guests = [make_record(customer={"name": f"Guest {n}", "email": f"guest{n}@example.com"}, thread_id=f"g-{n}",
                          author_name=f"Guest {n}", subject=None, occurred_at=f"2026-11-{n:02d}T12:00:00Z",
                          text=f"Hello, my parcel for order KB-600{n:02d} has not arrived yet. Any news?")
              for n in range(1, GUESTS + 1)]
    status, body = server.call("POST", "/v1/interactions", {"interactions": guests}, key=keys["ingest"])
    assert status == 200 and body["created"] == len(guests), body
    made: dict[str, dict] = {}
    for identity in ["email:lena.marsh@example.org"] + [f"email:guest{n}@example.com" for n in range(1, GUESTS + 1)]:
        _, customer = server.call("GET", f"/v1/customers/resolve?identity={identity}", key=keys["ann"])
        status, body = server.call("POST", f"/v1/customers/{customer['customer_id']}/suggestions",
                                   {"message": "any news?", "channel": "email"}, key=keys["ann"])
        assert status == 200, body
        made.update((s["id"], s) for s in body["suggestions"])
        if len(made) > PAGE_SIZE + 2:
            break
    assert len(made) > PAGE_SIZE + 2
    accepted, edited, rejected = list(made.values())[:3]
    for suggestion, feedback, key in ((accepted, {"action": "accepted"}, "ann"),
                                      (edited, {"action": "edited", "final_text": edited["text"] + " " + EDIT_ADDED},
                                       "bob"),
                                      (rejected, {"action": "rejected"}, "ann")):
        status, body = server.call("POST", f"/v1/suggestions/{suggestion['id']}/feedback", feedback, key=keys[key])
        assert status == 200, body
    return {"lena": lena, "omar": omar, "accepted": accepted["id"], "edited": edited,
            "rejected": rejected["id"]}


@pytest.fixture(scope="module")
def keys(server) -> dict[str, str]:  # noqa: ANN001
    return {"ingest": new_key(server, "acme", "integration"), "ann": new_key(server, "acme", "agent", "ann"),
            "bob": new_key(server, "acme", "agent", "bob"),
            "supervisor": new_key(server, "acme", "supervisor", "sue")}


@pytest.fixture(scope="module")
def seeded(server, keys) -> dict:  # noqa: ANN001
    return seed(server, keys)


def open_console(server, browser, keys, seeded, *, width: int = 1280, hash_: str = "") -> tuple:  # noqa: ANN001
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(f"pageerror: {err}"))
    page.goto(f"{server.base}/console{hash_}")
    page.fill("input[name=api_key]", keys["supervisor"])
    page.click("form.signin-form button[type=submit]")
    page.wait_for_selector("body[data-ready=console]")
    return context, page, errors


def tile(page, name: str) -> str:  # noqa: ANN001
    return page.inner_text(f"#tiles [data-tile={name}] .value")


def total(server, keys) -> int:  # noqa: ANN001
    """Suggestions recorded so far (opening the sidebar, as one test does, records more)."""
    status, body = server.call("GET", "/v1/review/suggestions?limit=1", key=keys["supervisor"])
    assert status == 200, body
    return body["total"]


def test_row_opens_the_customer_timeline_at_the_message_answered(server, browser, keys, seeded) -> None:  # noqa: ANN001
    context, page, errors = open_console(server, browser, keys, seeded)
    _, listed = server.call("GET", "/v1/review/suggestions?outcome=edited", key=keys["supervisor"])
    answered, name = listed["items"][0]["answers_interaction_id"], listed["items"][0]["customer_name"]
    assert answered and name
    row = page.locator(f"tr[data-suggestion-id='{seeded['edited']['id']}']")
    link = row.locator("a.row-link")
    assert link.inner_text() == name
    href = link.get_attribute("href")
    assert href.startswith("/sidebar?identity=") and href.endswith("#message=" + answered)
    link.click()
    page.wait_for_url("**/sidebar?identity=*")
    assert page.url.endswith("#message=" + answered)
    # The same tab keeps the key: the sidebar opens the customer without asking for it again.
    expect(page.locator("#customer-name")).to_have_text(name)
    # ... and its timeline at the message the suggestion answered (the sidebar reads #message=).
    expect(page.locator(f"#tl-{answered}")).to_be_focused()
    assert not errors, errors
    context.close()


def test_an_edit_is_shown_before_and_after_by_words(server, browser, keys, seeded) -> None:  # noqa: ANN001
    context, page, errors = open_console(server, browser, keys, seeded)
    row = page.locator(f"tr[data-suggestion-id='{seeded['edited']['id']}']")
    before = " ".join(row.locator(".diff-before .diff-text").inner_text().split())
    after = " ".join(row.locator(".diff-after .diff-text").inner_text().split())
    assert before == " ".join(seeded["edited"]["text"].split())
    assert after == " ".join((seeded["edited"]["text"] + " " + EDIT_ADDED).split())
    assert " ".join(row.locator(".diff-after ins").all_inner_texts()).strip() == EDIT_ADDED
    assert row.locator(".diff-before ins").count() == 0 and row.locator(".diff-after del").count() == 0
    # No marked change starts or ends inside a word (a character diff would: "IHi haveMargaret").
    split_words = page.evaluate("""() => [...document.querySelectorAll('.diff ins, .diff del')].filter(node => {
        const word = /[\\p{L}\\p{N}]/u;
        const prev = node.previousSibling && node.previousSibling.textContent.slice(-1);
        const next = node.nextSibling && node.nextSibling.textContent.slice(0, 1);
        const text = node.textContent;
        return (prev && word.test(prev) && word.test(text[0]))
            || (next && word.test(next) && word.test(text.slice(-1)));
    }).map(n => n.textContent)""")
    assert split_words == []
    assert "Edit distance" in row.inner_text()
    assert not errors, errors
    context.close()


def test_pages_on_the_server(server, browser, keys, seeded) -> None:  # noqa: ANN001
    count = total(server, keys)
    assert PAGE_SIZE < count <= 50
    context, page, errors = open_console(server, browser, keys, seeded)
    rows = page.locator("#suggestions tbody tr[data-suggestion-id]")
    expect(rows).to_have_count(count)  # all on one page of 50
    page.select_option("#page-size", str(PAGE_SIZE))
    expect(rows).to_have_count(PAGE_SIZE)
    pages = -(-count // PAGE_SIZE)
    expect(page.locator("#page-of")).to_have_text(f"Page 1 of {pages}")
    assert page.locator("#prev").is_disabled()
    first_page = set(rows.evaluate_all("rows => rows.map(r => r.dataset.suggestionId)"))
    page.click("#next")
    expect(page.locator("#page-of")).to_have_text(f"Page 2 of {pages}")
    expect(rows).to_have_count(min(PAGE_SIZE, count - PAGE_SIZE))
    second_page = set(rows.evaluate_all("rows => rows.map(r => r.dataset.suggestionId)"))
    assert not first_page & second_page
    page.click("#prev")
    expect(page.locator("#page-of")).to_have_text(f"Page 1 of {pages}")
    assert not errors, errors
    context.close()


def test_tiles_follow_every_filter(server, browser, keys, seeded) -> None:  # noqa: ANN001
    count = total(server, keys)
    context, page, errors = open_console(server, browser, keys, seeded)
    assert tile(page, "shown") == str(count)
    page.select_option("#filters select[name=outcome]", "edited")
    page.click("#filters button[type=submit]")
    expect(page.locator("#tiles [data-tile=shown] .value")).to_have_text("1")
    assert tile(page, "edited") == "100%" and tile(page, "accepted") == "0%"
    expect(page.locator("#suggestions tbody tr[data-suggestion-id]")).to_have_count(1)
    page.select_option("#filters select[name=outcome]", "")
    page.select_option("#filters select[name=agent]", "bob")
    page.click("#filters button[type=submit]")
    expect(page.locator("#tiles [data-tile=shown] .value")).to_have_text("1")
    page.select_option("#filters select[name=agent]", "")
    page.click("#filters button[type=submit]")
    expect(page.locator("#tiles [data-tile=shown] .value")).to_have_text(str(count))
    # Acceptance by agent (the keys' names), channel, engine and prompt version.
    agents = page.locator("[data-breakdown=agent] tbody tr")
    assert {"ann", "bob"} <= set(agents.evaluate_all("rows => rows.map(r => r.dataset.key)"))
    for name in ("channel", "engine", "prompt"):
        assert page.locator(f"[data-breakdown={name}] tbody tr[data-key]").count() >= 1
    assert not errors, errors
    context.close()


def test_merge_with_a_preview_and_undo_in_one_click(server, browser, keys, seeded) -> None:  # noqa: ANN001
    context, page, errors = open_console(server, browser, keys, seeded)
    page.fill("#merge input[name=survivor]", "email:lena.marsh@example.org")
    # The customer to merge is picked by part of a name: the picker lists the matches and fills in the id.
    page.locator("#merge input[name=absorbed]").press_sequentially("hadd")
    option = page.locator(f"#absorbed-options option[value='{seeded['omar']['customer_id']}']")
    expect(option).to_have_count(1)
    assert "Omar Haddad" in option.get_attribute("label")
    assert "phone:+16285550177" in option.get_attribute("label")
    page.fill("#merge input[name=absorbed]", option.get_attribute("value"))
    page.fill("#merge input[name=reason]", "same household")
    page.click("#merge button[type=submit]")
    preview = page.locator("#merge-preview")
    expect(preview).to_be_visible()
    assert "Lena Marsh" in page.inner_text("#preview-survivor")
    assert "email:lena.marsh@example.org" in page.inner_text("#preview-survivor")
    assert "Omar Haddad" in page.inner_text("#preview-absorbed")
    assert "phone:+16285550177" in page.inner_text("#preview-joining")
    # A preview changes nothing.
    _, who = server.call("GET", "/v1/customers/resolve?identity=phone:%2B16285550177", key=keys["ann"])
    assert who["name"] == "Omar Haddad"
    page.click("#merge-confirm")
    expect(page.locator("#merge-done")).to_be_visible()
    _, who = server.call("GET", "/v1/customers/resolve?identity=phone:%2B16285550177", key=keys["ann"])
    assert who["name"] == "Lena Marsh"
    page.click("#merge-undo")
    expect(page.locator("#merge-done")).to_be_hidden()
    expect(page.locator("#merges tbody tr[data-merge-id]").first.locator(".outcome-ignored")).to_contain_text("Split")
    _, who = server.call("GET", "/v1/customers/resolve?identity=phone:%2B16285550177", key=keys["ann"])
    assert who["name"] == "Omar Haddad"
    assert not errors, errors
    context.close()


def test_leak_points_page(server, browser, keys, seeded) -> None:  # noqa: ANN001
    context, page, errors = open_console(server, browser, keys, seeded, hash_="#leaks")
    page.wait_for_selector("body[data-view=leaks]")
    assert page.locator("#view-review").is_hidden()
    row = page.locator("#worst tbody tr[data-kind=order_number]")
    expect(row).to_have_count(1)
    asked, given = row.get_attribute("data-asked"), row.get_attribute("data-given")
    assert row.locator("a.asked-link").get_attribute("href").endswith("#message=" + asked)
    assert row.locator("a.given-link").get_attribute("href").endswith("#message=" + given)
    assert "Email → Voice" in row.inner_text() and "Ravi S." in row.inner_text()
    assert page.inner_text("#leak-tiles [data-tile=total] .value") == "1"
    assert page.locator("#chart-leak-weeks").is_visible()
    save_screenshot(page, "console-leaks")
    # Back to the suggestions by the nav.
    page.click("#nav-review")
    page.wait_for_selector("body[data-view=review]")
    assert page.locator("#view-leaks").is_hidden()
    assert not errors, errors
    context.close()


@pytest.mark.parametrize(("width", "hash_"), [(360, ""), (360, "#leaks"), (1280, "")])
def test_no_horizontal_overflow(server, browser, keys, seeded, width: int, hash_: str) -> None:  # noqa: ANN001
    """Readable at 360 px (and nothing wider than a desktop window either)."""
    context, page, errors = open_console(server, browser, keys, seeded, width=width, hash_=hash_)
    page.wait_for_selector("body[data-view=" + ("leaks" if hash_ else "review") + "]")
    if not hash_:
        page.locator(f"tr[data-suggestion-id='{seeded['edited']['id']}'] .diff").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # Nothing is cut off inside its box either: no element reaches past the right edge.
    wide = page.evaluate("""width => [...document.querySelectorAll('main *')].filter(e => {
        const r = e.getBoundingClientRect(); return r.width && r.right > width + 1 && e.offsetParent !== null;
    }).map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)""", width)
    assert wide == []
    save_screenshot(page, f"console-{width}" + hash_.replace("#", "-"))
    assert not errors, errors
    context.close()


@pytest.mark.parametrize("hash_", ["", "#leaks"])
def test_axe_finds_no_serious_or_critical_violations(server, browser, keys, seeded, hash_: str) -> None:  # noqa: ANN001
    context, page, errors = open_console(server, browser, keys, seeded, hash_=hash_)
    page.wait_for_selector("body[data-view=" + ("leaks" if hash_ else "review") + "]")
    assert AXE.exists(), "axe-core is vendored at web/vendor/axe.min.js"
    page.add_script_tag(url="/static/vendor/axe.min.js")  # same origin: allowed by the page's CSP
    page.wait_for_function("() => typeof window.axe !== 'undefined'")
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    assert found == []
    assert not errors, errors
    context.close()
