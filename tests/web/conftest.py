"""A real `omnicopilot serve` and a real headless Chromium for the page tests."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, MASTER_KEY
from tests.support.processes import ServeProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def save_screenshot(page, name: str) -> Path:  # noqa: ANN001
    """Into test-artifacts/ only, to look at when a test fails; the README's pictures come from `make screenshots`
    so that a test run leaves the tree clean."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


PAGE_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    data = tmp_path_factory.mktemp("serve")
    proc = ServeProcess({"OMNICOPILOT_DATA_DIR": str(data / "data"), "OMNICOPILOT_CACHE_DIR": str(data / "cache"),
                         "OMNICOPILOT_EMBEDDING_BACKEND": "hashing", "OMNICOPILOT_MASTER_KEY": MASTER_KEY,
                         "OMNICOPILOT_PULL_INTERVAL_S": "0", "OMNICOPILOT_LOG_LEVEL": "warning"}).start()
    yield proc
    proc.stop()


def new_key(server: ServeProcess, tenant: str, role: str, name: str | None = None) -> str:
    status, body = server.call("POST", "/v1/admin/api-keys",
                               {"tenant": tenant, "role": role, "name": name or f"{role}-{uuid.uuid4().hex[:6]}"},
                               key=MASTER_KEY)
    assert status == 201, body
    return body["key"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"Chromium is required in CI at {CHROMIUM}")
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        new_context = browser.new_context

        def patient_context(*args: object, **kwargs: object) -> object:
            # Waits end when the page is ready, however loaded the machine: the default 30 s is not a bound
            # on what the page may take on two busy cores.
            context = new_context(*args, **kwargs)
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            return context

        browser.new_context = patient_context
        yield browser
        browser.close()
