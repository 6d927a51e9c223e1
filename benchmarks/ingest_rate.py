"""End-to-end ingest rate vs the embedding model alone, on real support messages.

Starts `omnicopilot serve` in a throw-away data directory, posts TweetSumm dev dialogs (turned into
canonical interactions) through `POST /v1/interactions` in batches, waits until `/healthz` reports
`index_backlog` 0, then embeds the same texts with the same model in this process. Prints both
rates, their ratio (target >= 0.8 at batches of 500) and the server's peak memory.

    .venv/bin/python benchmarks/ingest_rate.py [--limit 4000] [--batch 500] [--backend minilm]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIALOGS = ROOT.parent / "shared" / "eval" / "public" / "tweetsumm" / "dev.jsonl"


def interactions(limit: int) -> list[dict]:
    out: list[dict] = []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for line in DIALOGS.read_text().splitlines():
        dialog = json.loads(line)
        handle = "cust" + dialog["conversation_id"][:12]
        for i, turn in enumerate(dialog["turns"]):
            inbound = turn["role"] == "customer"
            out.append({"source": "twitter", "external_id": str(turn["tweet_id"]), "channel": "social",
                        "direction": "inbound" if inbound else "outbound",
                        "customer": {"handles": {"twitter": handle}}, "thread_id": dialog["conversation_id"],
                        "text": turn["text"],
                        "occurred_at": (start + timedelta(minutes=3 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")})
            if len(out) >= limit:
                return out
    return out


def call(base: str, method: str, path: str, body: dict | None = None, key: str | None = None) -> dict:
    request = urllib.request.Request(base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=600) as resp:
        return json.loads(resp.read())


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=4000, help="interactions to ingest")
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--backend", default="minilm")
    args = ap.parse_args()

    records = interactions(args.limit)
    data_dir = tempfile.mkdtemp(prefix="omnicopilot-bench-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    master = "bench-" + os.urandom(8).hex()
    env = {**os.environ, "OMNICOPILOT_DATA_DIR": data_dir, "OMNICOPILOT_MASTER_KEY": master,
           "OMNICOPILOT_EMBEDDING_BACKEND": args.backend, "OMNICOPILOT_LOG_LEVEL": "warning"}
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "omnicopilot"), "serve", "--port", str(port)], env=env,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                call(base, "GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        key = call(base, "POST", "/v1/admin/api-keys", {"tenant": "bench", "role": "integration"}, key=master)["key"]
        time.sleep(3)  # let the server load the model before timing (a real server is warm)
        t0 = time.perf_counter()
        for i in range(0, len(records), args.batch):
            call(base, "POST", "/v1/interactions", {"interactions": records[i:i + args.batch]}, key=key)
        posted = time.perf_counter() - t0
        while call(base, "GET", "/healthz")["index_backlog"]:
            time.sleep(0.05)
        end_to_end = time.perf_counter() - t0
        peak = peak_rss_mb(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)

    sys.path.insert(0, str(ROOT))
    from copilot.indexing.embeddings import get_embedder

    embedder = get_embedder(args.backend, cache_dir=Path(env.get("OMNICOPILOT_CACHE_DIR")
                                                         or Path.home() / ".cache" / "omnicopilot"))
    texts = [r["text"] for r in records]
    embedder.embed(texts[:64])  # warm-up, as the server was
    t1 = time.perf_counter()
    embedder.embed(texts)
    model_only = time.perf_counter() - t1

    e2e_rate, model_rate = len(records) / end_to_end, len(records) / model_only
    print(f"records={len(records)} batch={args.batch} backend={args.backend} "
          f"sql_commit_per_s={len(records) / posted:.0f} end_to_end_per_s={e2e_rate:.0f} "
          f"model_alone_per_s={model_rate:.0f} ratio={e2e_rate / model_rate:.2f} server_peak_rss_mb={peak:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
