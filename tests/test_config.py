"""Every setting is documented: in .env.example and in the README's configuration table."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from copilot.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SETTING_NAMES = sorted(field.alias for field in Settings.model_fields.values() if field.alias)


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_setting_is_in_env_example(name: str) -> None:
    assert re.search(rf"^{name}=", (ROOT / ".env.example").read_text(), re.MULTILINE), f"{name} not in .env.example"


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_setting_is_in_readme_table(name: str) -> None:
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith(f"| `{name}`")]
    assert rows, f"{name} missing from the README configuration table"


def test_every_setting_has_a_description() -> None:
    assert all(field.description for field in Settings.model_fields.values())


@pytest.mark.parametrize("placeholder", ["changeme", "CHANGEME", "secret"])
def test_placeholder_secrets_are_refused(placeholder: str) -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(OMNICOPILOT_MASTER_KEY=placeholder)
