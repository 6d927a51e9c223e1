"""GET /apps/...: the app pages the helpdesks embed, with the sidebar's frame-ancestors, and nothing else."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from copilot.main import create_app


@pytest.fixture
def client(settings_factory):  # noqa: ANN001, ANN201
    settings = settings_factory(OMNICOPILOT_FRAME_ANCESTORS="https://desk.example.com https://*.frontapp.com")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_an_app_page_is_embeddable_by_the_configured_helpdesk(client: TestClient) -> None:
    resp = client.get("/apps/chatwoot/")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert "../shared/omnicopilot-frame.js" in resp.text
    csp = resp.headers["content-security-policy"]
    assert "frame-ancestors https://desk.example.com https://*.frontapp.com" in csp and "script-src 'self'" in csp
    script = client.get("/apps/shared/omnicopilot-frame.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert client.get("/apps/front/vendor/front-plugin-sdk.umd.js").status_code == 200


def test_a_folder_without_its_slash_is_redirected_so_relative_links_work(client: TestClient) -> None:
    resp = client.get("/apps/front", follow_redirects=False)
    assert resp.status_code == 308 and resp.headers["location"] == "/apps/front/"


@pytest.mark.parametrize("path", ["/apps/zendesk/README.md", "/apps/nope/", "/apps/..%2Fpyproject.toml",
                                  "/apps/%2E%2E/copilot/config.py", "/apps/zendesk/assets/vendor/LICENSE"])
def test_only_app_files_are_served(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404
