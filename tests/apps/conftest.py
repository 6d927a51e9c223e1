"""The helpdesk apps in a real Chromium, inside test pages that play the helpdesk.

The browser and `new_key` are the page tests' own (tests/web/conftest.py). One server serves every app's tests; it
differs from the page tests' in one setting: its frame-ancestors allow the test helpdesk's origins, as an admin
allows their Zendesk, Chatwoot or Front. The host pages (and Zendesk's copy of the app's files) are served over HTTP
on ports of their own, so that each runs on its own origin as in production.
"""
from __future__ import annotations

import functools
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import MASTER_KEY, make_record
from tests.support.processes import ServeProcess, free_port
from tests.web.conftest import browser, new_key  # noqa: F401 - the shared Chromium fixture, re-exported

HOSTS = Path(__file__).parent / "hosts"
APPS = Path(__file__).resolve().parents[2] / "apps"


class StaticSite:
    """Files served over real HTTP on their own loopback port: an origin of its own, as the helpdesk's is.

    (A routed fake domain would not do: Chromium's local-network checks stop a public page framing 127.0.0.1.)"""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(QuietHandler, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StaticSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002, ARG002 - the base's signature
        return


@pytest.fixture(scope="package")
def helpdesk() -> Iterator[StaticSite]:
    """The helpdesk's own pages: the test hosts in hosts/."""
    with StaticSite(HOSTS) as site:
        yield site


@pytest.fixture(scope="package")
def zendesk_assets() -> Iterator[StaticSite]:
    """Where Zendesk serves an uploaded app's files: apps/zendesk/ as zipped, on an origin of their own."""
    with StaticSite(APPS / "zendesk") as site:
        yield site


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory, helpdesk: StaticSite,
           zendesk_assets: StaticSite) -> Iterator[ServeProcess]:
    data = tmp_path_factory.mktemp("serve")
    proc = ServeProcess({"OMNICOPILOT_DATA_DIR": str(data / "data"), "OMNICOPILOT_CACHE_DIR": str(data / "cache"),
                         "OMNICOPILOT_EMBEDDING_BACKEND": "hashing", "OMNICOPILOT_MASTER_KEY": MASTER_KEY,
                         "OMNICOPILOT_PULL_INTERVAL_S": "0", "OMNICOPILOT_LOG_LEVEL": "warning",
                         "OMNICOPILOT_FRAME_ANCESTORS": f"'self' {helpdesk.origin} {zendesk_assets.origin}"}).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="package")
def keys(server: ServeProcess) -> dict[str, str]:
    return {"ingest": new_key(server, "desk", "integration"), "agent": new_key(server, "desk", "agent", "avery")}


def ingest(server: ServeProcess, key: str, *records: dict) -> None:
    """Customers come from the history, as in production: a message creates its customer and identities."""
    status, body = server.call("POST", "/v1/interactions", {"interactions": list(records)}, key=key)
    assert status == 200 and body["created"] == len(records), body


def customer_message(customer: dict, text: str, **overrides: str) -> dict:
    return make_record(customer=customer, author_name=customer["name"], text=text, **overrides)


def host_url(helpdesk: StaticSite, vendor: str, config: dict) -> str:
    """The test host page `hosts/<vendor>.html`, configured by a JSON query parameter."""
    return f"{helpdesk.origin}/{vendor}.html?" + urllib.parse.urlencode({"config": json.dumps(config)})


def open_host(chromium, helpdesk: StaticSite, vendor: str, config: dict,  # noqa: ANN001
              permissions: tuple[str, ...] = ()) -> tuple[object, object]:
    """A new tab (its own session storage: the agent signs in) on the vendor's test host page."""
    context = chromium.new_context(viewport={"width": 1200, "height": 1000}, permissions=list(permissions))
    page = context.new_page()
    # Script errors and CSP refusals in any frame (host, app, sidebar): `assert_no_errors` checks them at the end.
    page.errors = []
    page.on("pageerror", lambda err: page.errors.append(f"pageerror: {err}"))
    page.on("console", lambda msg: page.errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(host_url(helpdesk, vendor, config))
    return context, page


def assert_no_errors(page) -> None:  # noqa: ANN001
    assert page.errors == []


def sign_in(sidebar, key: str) -> None:  # noqa: ANN001
    """The agent signs in once, in the embedded sidebar, as in the helpdesk."""
    sidebar.locator("input[name=api_key]").fill(key)
    sidebar.locator("form.signin-form button[type=submit]").click()


def insert_first_suggestion(sidebar) -> str:  # noqa: ANN001
    """Clicks Insert on the first suggestion and returns its text as the sidebar shows it."""
    card = sidebar.locator("#suggestions .suggestion[data-suggestion-id]").first
    card.wait_for()
    text = card.locator(".suggestion-text").text_content()
    card.get_by_role("button", name="Insert", exact=True).click()
    return text
