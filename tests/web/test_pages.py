"""The pages are served with a CSP whose frame-ancestors come from the settings; static files are served."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from copilot.main import create_app
from copilot.web.views import frame_sources


@pytest.fixture
def make_client(settings_factory):  # noqa: ANN001, ANN201
    clients = []

    def make(**overrides: str) -> TestClient:
        client = TestClient(create_app(settings_factory(**overrides)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_sidebar_frame_ancestors_come_from_the_setting(make_client) -> None:  # noqa: ANN001
    client = make_client(OMNICOPILOT_FRAME_ANCESTORS="https://acme.zendesk.com https://*.freshdesk.com")
    resp = client.get("/sidebar")
    assert resp.status_code == 200 and 'name="api_key"' not in resp.text  # the form is built by the script
    csp = resp.headers["content-security-policy"]
    assert "frame-ancestors https://acme.zendesk.com https://*.freshdesk.com" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert 'content="https://acme.zendesk.com https://*.freshdesk.com"' in resp.text
    # The console is never embeddable elsewhere.
    assert "frame-ancestors 'self'" in client.get("/console").headers["content-security-policy"]


def test_default_is_same_origin_only(make_client) -> None:  # noqa: ANN001
    client = make_client()
    assert "frame-ancestors 'self'" in client.get("/sidebar").headers["content-security-policy"]


def test_static_and_vendored_chart_library(make_client) -> None:  # noqa: ANN001
    client = make_client()
    for path in ("/static/sidebar.js", "/static/console.js", "/static/common.js", "/static/app.css",
                 "/static/vendor/chart.umd.min.js"):
        assert client.get(path).status_code == 200, path
    assert client.get("/static/../copilot/config.py").status_code == 404


def test_whoami_needs_a_key(make_client) -> None:  # noqa: ANN001
    client = make_client()
    assert client.get("/v1/whoami").status_code == 401
    assert client.get("/v1/whoami", headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize(("setting", "expected"), [("self", ["'self'"]), ("'self' https://a.example",
                                                                          ["'self'", "https://a.example"]),
                                                   ("none", ["'none'"]), ("", ["'self'"])])
def test_frame_sources(setting: str, expected: list[str]) -> None:
    assert frame_sources(setting) == expected
