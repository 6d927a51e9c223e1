"""Does hostile text stall the service? `/healthz` latency while hostile messages are ingested and read.

Starts `omnicopilot serve` in a throw-away data directory, then, while one thread polls `/healthz` every 20 ms,
another ingests each hostile message of `tests/test_adversarial.py` as a customer of its own and reads that
customer's card and suggestions. Prints the /healthz p50/p99/max during the run (target p99 < 100 ms) and the
time each hostile message took end to end.

    .venv/bin/python benchmarks/stall.py [--backend hashing]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.conftest import make_record  # noqa: E402
from tests.support.processes import ServeProcess  # noqa: E402
from tests.test_adversarial import HOSTILE  # noqa: E402

MASTER = "bench-master-" + uuid.uuid4().hex


def poll_health(base: str, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        with urllib.request.urlopen(base + "/healthz", timeout=30) as resp:
            resp.read()
        out.append(time.perf_counter() - started)
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default=os.environ.get("OMNICOPILOT_EMBEDDING_BACKEND", "hashing"))
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="omnicopilot-stall-"))
    server = ServeProcess({"OMNICOPILOT_DATA_DIR": str(data / "data"), "OMNICOPILOT_MASTER_KEY": MASTER,
                           "OMNICOPILOT_EMBEDDING_BACKEND": args.backend, "OMNICOPILOT_PULL_INTERVAL_S": "0",
                           "OMNICOPILOT_LOG_LEVEL": "warning"}).start()
    latencies: list[float] = []
    stop = threading.Event()
    try:
        keys = {role: server.call("POST", "/v1/admin/api-keys", {"tenant": "stall", "role": role, "name": role},
                                  key=MASTER)[1]["key"] for role in ("agent", "integration")}
        poller = threading.Thread(target=poll_health, args=(server.base, stop, latencies), daemon=True)
        poller.start()
        for n, (name, text) in enumerate(HOSTILE.items()):
            started = time.perf_counter()
            record = make_record(customer={"email": f"h{n}@stall.example"}, text=text)
            status, _ = server.call("POST", "/v1/interactions", {"interactions": [record]}, key=keys["integration"])
            identity = urllib.parse.quote(f"email:h{n}@stall.example")
            _, found = server.call("GET", f"/v1/customers/resolve?identity={identity}", key=keys["agent"])
            card, _ = server.call("GET", f"/v1/customers/{found['customer_id']}/context", key=keys["agent"])
            replies, _ = server.call("POST", f"/v1/customers/{found['customer_id']}/suggestions",
                                     {"message": text[:20_000], "channel": "chat"}, key=keys["agent"])
            print(f"{name:16s} ingest {status} card {card} replies {replies}  {time.perf_counter() - started:6.2f} s")
        stop.set()
        poller.join()
    finally:
        server.stop()
    ms = sorted(v * 1000 for v in latencies)
    p99 = statistics.quantiles(ms, n=100, method="inclusive")[98]
    print(f"healthz n={len(ms)} p50={statistics.median(ms):.1f}ms p99={p99:.1f}ms max={ms[-1]:.1f}ms")


if __name__ == "__main__":
    main()
