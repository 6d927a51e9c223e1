"""The `omnicopilot` command as a user runs it."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import make_record
from tests.indexing.test_service import env_of, run_cli


def test_import_reports_rejected_lines_and_exits_1(settings_factory, tmp_path: Path) -> None:
    env = env_of(settings_factory())
    lines = [json.dumps(make_record(tenant="acme")), "{not json", json.dumps(make_record(tenant="acme", channel="fax")),
             "", json.dumps(make_record(tenant="acme"))]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    result = run_cli(env, "import", str(tmp_path / "in.jsonl"), "--json")
    assert result.returncode == 1
    summary = json.loads(result.stdout)  # nothing else on stdout
    assert summary["created"] == 2 and summary["duplicates"] == 0
    assert [r["line"] for r in summary["rejected"]] == [2, 3]
    assert "channel" in summary["rejected"][1]["error"]
    again = run_cli(env, "import", str(tmp_path / "in.jsonl"))
    assert "created 0, duplicates 2, rejected 2" in again.stdout
    assert "line 3: channel" in again.stdout


def test_import_takes_the_tenant_option_and_exits_0_when_clean(settings_factory, tmp_path: Path) -> None:
    env = env_of(settings_factory())
    (tmp_path / "in.jsonl").write_text(json.dumps(make_record()) + "\n")
    assert run_cli(env, "import", str(tmp_path / "in.jsonl")).returncode == 1  # no tenant anywhere
    result = run_cli(env, "import", str(tmp_path / "in.jsonl"), "--tenant", "acme", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["created"] == 1


def test_keys_create_prints_a_working_key(settings_factory) -> None:
    env = env_of(settings_factory())
    result = run_cli(env, "keys", "create", "--tenant", "acme", "--role", "agent", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["key"].startswith("oc_") and body["tenant"] == "acme" and body["role"] == "agent"
    bad = run_cli(env, "keys", "create", "--tenant", "acme", "--role", "root")
    assert bad.returncode == 2 and "role" in bad.stderr
