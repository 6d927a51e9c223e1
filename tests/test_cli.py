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
    assert run_cli(env, "tenants", "create", "acme").returncode == 0
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
    result = run_cli(env, "import", str(tmp_path / "in.jsonl"), "--tenant", "acme", "--create-tenant", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["created"] == 1


def test_import_refuses_an_unknown_tenant(settings_factory, tmp_path: Path) -> None:
    env = env_of(settings_factory())
    assert run_cli(env, "tenants", "create", "globex").returncode == 0
    (tmp_path / "in.jsonl").write_text(json.dumps(make_record()) + "\n")
    typo = run_cli(env, "import", str(tmp_path / "in.jsonl"), "--tenant", "globx")
    assert typo.returncode == 1 and "tenants create globx" in typo.stderr
    (tmp_path / "own.jsonl").write_text(json.dumps(make_record(tenant="globx")) + "\n"
                                        + json.dumps(make_record(tenant="globex")) + "\n")
    result = run_cli(env, "import", str(tmp_path / "own.jsonl"), "--json")
    summary = json.loads(result.stdout)
    assert summary["created"] == 1 and [r["line"] for r in summary["rejected"]] == [1]
    assert "tenant" in summary["rejected"][0]["error"] and "globx" in summary["rejected"][0]["error"]
    listed = json.loads(run_cli(env, "tenants", "list", "--json").stdout)
    assert "globx" not in json.dumps(listed)
    for command in (["kb", "import", str(tmp_path / "in.jsonl")], ["connectors", "set", "zendesk", "subdomain=x"]):
        refused = run_cli(env, *command, "--tenant", "globx")
        assert refused.returncode == 1 and "tenants create globx" in refused.stderr, command


def test_keys_create_prints_a_working_key(settings_factory) -> None:
    env = env_of(settings_factory())
    result = run_cli(env, "keys", "create", "--tenant", "acme", "--role", "agent", "--create-tenant", "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["key"].startswith("oc_") and body["tenant"] == "acme" and body["role"] == "agent"
    bad = run_cli(env, "keys", "create", "--tenant", "acme", "--role", "root")
    assert bad.returncode == 2 and "role" in bad.stderr


def stub_scorers(folder: Path, *, exit_code: int = 0) -> Path:
    """An evaluation folder whose scorers only echo their arguments, so `eval` is tested without the heavy runs."""
    script = ("import sys\nprint('progress line')\nprint('scored ' + ' '.join(a.rsplit('/', 1)[-1] for a in "
              f"sys.argv[1:] if not a.endswith('omnicopilot')))\nsys.exit({exit_code})\n")
    folder.mkdir()
    for name in ("score_scenarios.py", "score_tweetsumm.py", "score_next_reply.py", "score_doc_links.py"):
        (folder / name).write_text(script)
    return folder


def test_eval_runs_every_dev_file_by_default(tmp_path: Path) -> None:
    result = run_cli({}, "eval", "--eval-dir", str(tmp_path / "eval"), "--dry-run")
    assert result.returncode == 0, result.stderr
    commands = result.stdout.splitlines()
    assert [c.split()[1].rsplit("/", 1)[-1] for c in commands] == [
        "score_scenarios.py", "score_scenarios.py", "score_tweetsumm.py", "score_next_reply.py", "score_doc_links.py"]
    assert commands[0].split()[2].endswith("/scenarios-dev.jsonl")
    assert commands[1].split()[2].endswith("/scenarios-dev-v2.jsonl")
    assert commands[2].split()[2].endswith("/public/tweetsumm/dev.jsonl")
    assert all("--split dev" in c for c in commands[3:])
    assert all("--cli " in c and "--test-file" not in c and "--split test" not in c for c in commands)


def test_eval_test_split_needs_and_passes_the_test_files(tmp_path: Path) -> None:
    assert run_cli({}, "eval", "--split", "test", "--dry-run").returncode == 2  # no test file: nothing to score
    assert run_cli({}, "eval", "--test-file", "nope=x.jsonl", "--dry-run").returncode == 2
    held = tmp_path / "held.jsonl"
    result = run_cli({}, "eval", "--split", "test", "--test-file", f"next-reply={held}",
                     "--test-file", f"scenarios={held}", "--dry-run")
    assert result.returncode == 0, result.stderr
    scenarios, next_reply = result.stdout.splitlines()  # only the suites given a test file, in suite order
    assert scenarios.split()[1].endswith("score_scenarios.py") and scenarios.split()[2] == str(held)
    assert next_reply.split()[1].endswith("score_next_reply.py") and f"--split test --test-file {held}" in next_reply


def test_eval_prints_each_scorers_last_line_and_its_status(tmp_path: Path) -> None:
    result = run_cli({}, "eval", "scenarios", "--eval-dir", str(stub_scorers(tmp_path / "ok")))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["scenarios scenarios-dev.jsonl: scored scenarios-dev.jsonl --cli",
                                          "scenarios scenarios-dev-v2.jsonl: scored scenarios-dev-v2.jsonl --cli"]
    assert "progress line" in result.stderr  # the scorer's own output is still shown
    failed = run_cli({}, "eval", "doc-links", "--eval-dir", str(stub_scorers(tmp_path / "bad", exit_code=1)))
    assert failed.returncode == 1
    assert failed.stdout.strip() == "doc-links: scored --split dev --cli [exit 1]"
