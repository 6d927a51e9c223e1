"""Each app's manifest is valid JSON with the fields its helpdesk requires, and names files that exist."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2] / "apps"


def manifest(vendor: str) -> dict:
    return json.loads((APPS / vendor / "manifest.json").read_text(encoding="utf-8"))


def test_zendesk_manifest_has_what_zendesk_requires() -> None:
    """Zendesk's manifest reference: author (name, email), frameworkVersion and location are required; an app zip
    must hold assets/logo.png, assets/logo-small.png, translations/<defaultLocale>.json and manifest.json."""
    app = manifest("zendesk")
    assert app["name"] and app["author"]["name"] and "@" in app["author"]["email"]
    assert app["frameworkVersion"] == "2.0"
    sidebar = app["location"]["support"]["ticket_sidebar"]
    assert (APPS / "zendesk" / sidebar["url"]).is_file()
    for required in ("assets/logo.png", "assets/logo-small.png", f"translations/{app['defaultLocale']}.json"):
        assert (APPS / "zendesk" / required).is_file(), required
    assert (APPS / "zendesk" / "assets" / "logo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The one setting the app reads, with the label an admin sees when installing it.
    parameters = {p["name"]: p for p in app["parameters"]}
    assert parameters["omnicopilot_url"]["required"] is True
    translations = json.loads((APPS / "zendesk" / "translations" / "en.json").read_text(encoding="utf-8"))
    assert translations["app"]["parameters"]["omnicopilot_url"]["label"]
    assert translations["app"]["name"] and translations["app"]["short_description"]


def test_chatwoot_manifest_is_the_dashboard_app_the_api_creates() -> None:
    """The body of Chatwoot's create-dashboard-app call: a title and one frame content with the app's URL."""
    app = manifest("chatwoot")
    assert app["title"]
    [content] = app["content"]
    assert content["type"] == "frame" and content["url"].startswith("https://")
    assert content["url"].endswith("/apps/chatwoot/")


def test_front_manifest_names_a_sidebar_plugin_on_the_apps_page() -> None:
    """What Front's app settings ask for: an app name and short description, and a plugin feature with its URL."""
    app = manifest("front")
    assert app["name"] and app["short_description"]
    [plugin] = app["features"]
    assert plugin["type"] == "plugin" and plugin["location"] == "sidebar"
    assert plugin["url"].startswith("https://") and plugin["url"].endswith("/apps/front/")


@pytest.mark.parametrize("vendor", ["zendesk", "chatwoot", "front"])
def test_every_app_has_an_install_readme(vendor: str) -> None:
    readme = (APPS / vendor / "README.md").read_text(encoding="utf-8")
    assert "OMNICOPILOT_FRAME_ANCESTORS" in readme


@pytest.mark.parametrize("name", ["omnicopilot-frame.js", "app.css"])
def test_the_zendesk_zip_carries_the_shared_files_unchanged(name: str) -> None:
    """A Zendesk app is uploaded as a zip of apps/zendesk, so it holds copies of the shared files: kept identical."""
    assert (APPS / "zendesk" / "assets" / name).read_bytes() == (APPS / "shared" / name).read_bytes()


@pytest.mark.parametrize("folder", ["zendesk/assets/vendor", "front/vendor"])
def test_vendored_sdks_carry_their_licence(folder: str) -> None:
    text = (APPS / folder / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text or "MIT License" in text
