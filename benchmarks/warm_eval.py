"""The shared reply scorers with the history indexed first, as it is in production.

`score_next_reply.py` and `score_doc_links.py` ask for suggestions right after ingesting thousands of
history records, while the index is still embedding them (about 150 records/s here), so most targets
are scored against a half-empty index. This copies a scorer to a temporary folder, inserts one wait for
`index_backlog` 0 after the history is ingested, and runs it; nothing else changes.

    .venv/bin/python benchmarks/warm_eval.py next-reply --split dev --limit 200
    .venv/bin/python benchmarks/warm_eval.py doc-links --split dev
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
SCORERS = {"next-reply": "score_next_reply.py", "doc-links": "score_doc_links.py"}
AFTER_HISTORY = {
    "score_next_reply.py": '            server.ingest(key(company, "integration"), records)\n',
    "score_doc_links.py": '            server.ingest(key(company, "integration"), recs)\n',
}
WAIT = ('        while server.request("GET", "/healthz")[1]["index_backlog"]:\n'
        '            __import__("time").sleep(0.2)\n')


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in SCORERS:
        sys.exit(f"usage: warm_eval.py {{{'|'.join(SCORERS)}}} [scorer arguments]")
    name = SCORERS[sys.argv[1]]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "eval"
        shutil.copytree(EVAL, copy)
        source = (copy / name).read_text()
        anchor = AFTER_HISTORY[name]
        if source.count(anchor) != 1:
            sys.exit(f"{name} changed: cannot find where the history is ingested")
        (copy / name).write_text(source.replace(anchor, anchor + WAIT))
        cli = str(ROOT / ".venv" / "bin" / "omnicopilot")
        return subprocess.call([sys.executable, str(copy / name), "--cli", cli, *sys.argv[2:]])


if __name__ == "__main__":
    sys.exit(main())
